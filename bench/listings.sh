#!/usr/bin/env bash
# Text removal's speed on a directory of real listings (default: the 7 of b_product_cn_text):
# s/MP wall and CPU for the whole run (all cores, one image per core as a user runs it), then
# CPU-s per step and per listing from a `--jobs 1` run's report (cpu_timings: with one image at
# a time the process's CPU time is that image's). The outputs and reports stay in OUT for
# comparing two builds (compare -metric AE).
#
#   bench/listings.sh [--no-build] [DIR]
#
# Environment: BUILD (default <repo>/build), VITRINE_SHARED_DATA (default <repo>/../shared/data),
# OUT (default bench/out/listings). Needs GNU time (/usr/bin/time) and python3.
set -euo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH")
BUILD=${BUILD:-$ROOT/build}
DATA=${VITRINE_SHARED_DATA:-$ROOT/../shared/data}
OUT=${OUT:-$BENCH/out/listings}
BUILD_IT=1
DIR=""
for arg in "$@"; do
  case "$arg" in
    --no-build) BUILD_IT=0 ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "listings.sh: unknown option $arg (see --help)" >&2; exit 2 ;;
    *) DIR=$arg ;;
  esac
done
DIR=${DIR:-$DATA/b_product_cn_text}
[ -d "$DIR" ] || { echo "listings.sh: no directory $DIR (give one, or set VITRINE_SHARED_DATA)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "listings.sh: needs GNU time: apt-get install time" >&2; exit 1; }
if [ $BUILD_IT = 1 ]; then
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD" -j2 --target vitrine
fi
mkdir -p "$OUT/all" "$OUT/one"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/time -f "%e %U %S" -o "$OUT/all/time.txt" \
  "$BUILD/vitrine" remove-text -o "$OUT/all" --report "$OUT/all/report.json" "$DIR" >/dev/null
/usr/bin/time -f "%e %U %S" -o "$OUT/one/time.txt" \
  "$BUILD/vitrine" remove-text --jobs 1 -o "$OUT/one" --report "$OUT/one/report.json" "$DIR" \
  >/dev/null
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$OUT" "$DIR" <<'EOF'
import json, subprocess, sys
out, folder = sys.argv[1], sys.argv[2]
report = json.load(open(f"{out}/one/report.json"))
mp = {}
for entry in report:
    w, h = subprocess.check_output(["identify", "-format", "%w %h\n", entry["file"]],
                                   text=True).split("\n")[0].split()
    mp[entry["file"]] = int(w) * int(h) / 1e6
total_mp = sum(mp.values())
steps = ["detect", "classify", "recognise", "inpaint", "verify"]
print(f"{len(report)} listings in {folder}, {total_mp:.2f} MP")
for run, label in (("all", "all cores"), ("one", "--jobs 1")):
    wall, user, system = map(float, open(f"{out}/{run}/time.txt").read().split())
    print(f"{label:10s}: {wall:6.1f} s wall = {wall / total_mp:.2f} s/MP; "
          f"{user + system:6.1f} CPU-s = {(user + system) / total_mp:.2f} CPU-s/MP")
print(f"{'CPU-s':14s}" + "".join(f"{s:>10s}" for s in steps) + f"{'sum':>8s}  mask")
sums = dict.fromkeys(steps, 0.0)
for entry in report:
    cpu = entry.get("cpu_timings", {})
    for s in steps: sums[s] += cpu.get(s, 0.0)
    name = entry["file"].split("/")[-1][:14]
    print(f"{name:14s}" + "".join(f"{cpu.get(s, 0.0):10.2f}" for s in steps) +
          f"{sum(cpu.values()):8.2f}  {entry.get('product_mask', '-')}")
print(f"{'all':14s}" + "".join(f"{sums[s]:10.2f}" for s in steps) + f"{sum(sums.values()):8.2f}")
print(f"{'per MP':14s}" + "".join(f"{sums[s] / total_mp:10.2f}" for s in steps) +
      f"{sum(sums.values()) / total_mp:8.2f}")
EOF

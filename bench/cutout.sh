#!/usr/bin/env bash
# Background removal, vitrine against its peer (@imgly/background-removal-node 1.4.5, the same
# ISNet weights on ONNX Runtime), on the same images in one run. See bench/README.md.
#
#   bench/cutout.sh [--only vitrine|peer] [--limit N] [--skip-memory] [--no-build]
#
#   --only TOOL     run one side (default both)
#   --limit N       the first N images of each set (a quick check; figures are then indicative)
#   --skip-memory   skip the 24 MP memory check
#   --no-build      use the binaries already in $BUILD (do not rebuild vitrine)
#
# Environment: BUILD (default <repo>/build), VITRINE_SHARED_DATA (default <repo>/../shared/data),
# BENCH_QUIET_WAIT (seconds to wait for an idle machine before each timed run, default 120),
# VITRINE_CUTOUT_ARGS (extra arguments for `vitrine cutout`, e.g. "--jobs 2").
#
# Steps: (a) install what the bench needs and build cutout_bench and vitrine, (b) make the data,
# (c) run each tool once over all images (one process each, model loaded once) under
# /usr/bin/time -v, (d) score both against the truth, (e) print the table and write
# bench/out/cutout_report.json, (f) the 24 MP memory check.
set -euo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH")
BUILD=${BUILD:-$ROOT/build}
case "$BUILD" in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
DATA=${VITRINE_SHARED_DATA:-$ROOT/../shared/data}
OUT=$BENCH/out
QUIET_WAIT=${BENCH_QUIET_WAIT:-120}

ONLY=""
LIMIT=0
MEMORY=1
BUILD_VITRINE=1
while [ $# -gt 0 ]; do
  case "$1" in
    --only) ONLY=$2; shift 2 ;;
    --limit) LIMIT=$2; shift 2 ;;
    --skip-memory) MEMORY=0; shift ;;
    --no-build) BUILD_VITRINE=0; shift ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "cutout.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$ONLY" in ""|peer|vitrine) ;; *) echo "cutout.sh: --only takes vitrine or peer" >&2; exit 2 ;; esac
run_peer() { [ "$ONLY" != vitrine ]; }
run_vitrine() { [ "$ONLY" != peer ]; }

say() { printf '\n== %s\n' "$*"; }
warn() { printf 'cutout.sh: %s\n' "$*" >&2; }

# ---------------------------------------------------------------------------------------------
# (a) tools and builds

need_apt=()
[ -x /usr/bin/time ] || need_apt+=(time)
command -v node >/dev/null || need_apt+=(nodejs)
command -v npm >/dev/null || need_apt+=(npm)
if ! command -v cmake >/dev/null || ! command -v ninja >/dev/null || \
   ! pkg-config --exists opencv4 2>/dev/null; then
  "$ROOT/scripts/setup" --system
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  say "installing ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

if run_peer; then
  if [ ! -d "$BENCH/node_modules/@imgly/background-removal-node" ] || \
     [ "$BENCH/package-lock.json" -nt "$BENCH/node_modules/.package-lock.json" ]; then
    say "installing the peer (npm ci --ignore-scripts)"
    (cd "$BENCH" && npm ci --ignore-scripts --no-audit --no-fund)
  fi
  # Binaries ship inside the packages; no install script is needed. Prove they load.
  (cd "$BENCH" && node -e 'require("onnxruntime-node"); require("sharp")') || {
    warn "the peer's native modules (onnxruntime-node, sharp) do not load; see above"; exit 1; }
fi

[ -f "$BUILD/build.ninja" ] || cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
say "building in $BUILD"
cmake --build "$BUILD" --target cutout_bench
CB=$BUILD/cutout_bench
VITRINE=$BUILD/vitrine
VITRINE_SKIP=""
if run_vitrine; then
  if [ "$BUILD_VITRINE" = 1 ] && ! cmake --build "$BUILD" --target vitrine; then
    VITRINE_SKIP="build/vitrine does not build (see the errors above)"
  elif [ ! -x "$VITRINE" ]; then
    VITRINE_SKIP="$VITRINE does not exist"
  elif ! grep -q -- '--mask-only' <<<"$("$VITRINE" cutout --help 2>&1 || true)"; then
    VITRINE_SKIP="$VITRINE has no 'cutout --mask-only' yet"
  elif ! "$VITRINE" models prepare >/dev/null 2>&1; then
    "$ROOT/scripts/setup" --models
    "$VITRINE" models prepare >/dev/null || VITRINE_SKIP="'vitrine models prepare' failed"
  fi
  [ -z "$VITRINE_SKIP" ] || warn "SKIPPING VITRINE: $VITRINE_SKIP; only the peer is measured."
fi

# ---------------------------------------------------------------------------------------------
# (b) data, made from ../shared/data under bench/out (never in the repository)

[ -d "$DATA/c_rgba_cutouts" ] || { warn "no data in $DATA (set VITRINE_SHARED_DATA)"; exit 1; }
mkdir -p "$OUT/data" "$OUT/logs" "$OUT/scores"
if [ ! -f "$OUT/data/composites/manifest.tsv" ] || [ "$CB" -nt "$OUT/data/composites/manifest.tsv" ]; then
  say "making the composites"
  rm -rf "$OUT/data/composites"
  "$CB" composites "$OUT/data/composites" --data "$DATA" | tail -1
fi
if [ ! -d "$OUT/data/libcom/truth" ] || [ "$CB" -nt "$OUT/data/libcom/truth" ]; then
  rm -rf "$OUT/data/libcom"
  "$CB" libcom "$OUT/data/libcom" --data "$DATA" >/dev/null
  touch "$OUT/data/libcom/truth"
fi
BIG=$OUT/data/big/photo_24mp.jpg
if [ "$MEMORY" = 1 ] && { [ ! -f "$BIG" ] || [ "$CB" -nt "$BIG" ]; }; then
  "$CB" bigphoto "$BIG" --data "$DATA"
fi

SETS=(composites libcom)
INPUTS=()
for set in "${SETS[@]}"; do
  mapfile -t files < <(find "$OUT/data/$set/images" -maxdepth 1 \( -type f -o -type l \) | sort)
  [ "$LIMIT" -gt 0 ] && files=("${files[@]:0:$LIMIT}")
  INPUTS+=("${files[@]}")
done
echo "${#INPUTS[@]} images (composites and libcom-soft)"

# ---------------------------------------------------------------------------------------------
# (c) timed runs

# Busy CPU time of the whole machine, in clock ticks.
busy_ticks() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat; }

# Waits (up to QUIET_WAIT s) until the machine is >= 90% idle over 3 s: other people's builds
# would otherwise be timed along with ours. Times are still flagged if others ran meanwhile.
wait_quiet() {
  local waited=0 a b ta tb
  while [ "$waited" -lt "$QUIET_WAIT" ]; do
    read -r a ta < <(awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)
    sleep 3
    read -r b tb < <(awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)
    waited=$((waited + 3))
    [ $(( (b - a) * 100 )) -le $(( (tb - ta) * 10 )) ] && return 0
  done
  warn "the machine stayed busy for ${QUIET_WAIT}s; timing anyway (see others_cpu in the report)"
}

# timed NAME CMD...: runs CMD under /usr/bin/time -v; logs in $OUT/logs/NAME.{out,err,time,busy}.
timed() {
  local name=$1; shift
  wait_quiet
  local b0 b1
  b0=$(busy_ticks)
  set +e
  /usr/bin/time -v -o "$OUT/logs/$name.time" "$@" >"$OUT/logs/$name.out" 2>"$OUT/logs/$name.err"
  local rc=$?
  set -e
  b1=$(busy_ticks)
  echo "$(( b1 - b0 )) $(getconf CLK_TCK) $rc" >"$OUT/logs/$name.busy"
  grep -E 'Elapsed|Maximum resident' "$OUT/logs/$name.time" | sed 's/^\s*/  /'
  [ "$rc" -eq 0 ] || warn "$name exited with $rc (see $OUT/logs/$name.err)"
}

rm -f "$OUT"/logs/* "$OUT"/scores/*
if run_peer; then
  say "peer: ${#INPUTS[@]} images in one process"
  rm -rf "$OUT/pred/peer"
  timed peer node "$BENCH/peer_cutout.mjs" --output-dir "$OUT/pred/peer" \
    --json "$OUT/logs/peer.json" "${INPUTS[@]}"
  tail -1 "$OUT/logs/peer.out"
fi
if run_vitrine && [ -z "$VITRINE_SKIP" ]; then
  say "vitrine: ${#INPUTS[@]} images in one process"
  rm -rf "$OUT/pred/vitrine"
  # shellcheck disable=SC2086
  timed vitrine "$VITRINE" cutout --mask-only --output-dir "$OUT/pred/vitrine" \
    ${VITRINE_CUTOUT_ARGS:-} "${INPUTS[@]}"
  tail -1 "$OUT/logs/vitrine.out"
fi

# ---------------------------------------------------------------------------------------------
# (d) scores

for tool in peer vitrine; do
  if [ ! -d "$OUT/pred/$tool" ] || [ ! -f "$OUT/logs/$tool.time" ]; then continue; fi
  for set in "${SETS[@]}"; do
    truth=$OUT/data/$set/truth
    if [ "$LIMIT" -gt 0 ]; then  # score only the images that were run
      truth=$OUT/data/$set/truth-limit
      rm -rf "$truth" && mkdir -p "$truth"
      find "$OUT/data/$set/truth" -name '*.png' | sort | head -n "$LIMIT" | xargs -r cp -t "$truth"
    fi
    "$CB" score "$truth" "$OUT/pred/$tool" --json --set "$set" >"$OUT/scores/$tool-$set.json"
  done
done

# ---------------------------------------------------------------------------------------------
# (f) memory on a 24 MP photo (before the report, which includes it)

if [ "$MEMORY" = 1 ]; then
  if run_vitrine && [ -z "$VITRINE_SKIP" ]; then
    say "memory: vitrine on a 24 MP photo"
    rm -rf "$OUT/pred/vitrine-24mp"
    # shellcheck disable=SC2086
    timed vitrine-24mp "$VITRINE" cutout --mask-only --output-dir "$OUT/pred/vitrine-24mp" \
      ${VITRINE_CUTOUT_ARGS:-} "$BIG"
  fi
  if run_peer; then
    say "memory: peer on a 24 MP photo"
    rm -rf "$OUT/pred/peer-24mp"
    timed peer-24mp node "$BENCH/peer_cutout.mjs" --output-dir "$OUT/pred/peer-24mp" \
      --json "$OUT/logs/peer-24mp.json" "$BIG"
  fi
fi

# ---------------------------------------------------------------------------------------------
# (e) the table and bench/out/cutout_report.json

node "$BENCH/cutout_report.mjs" "$OUT" --limit "$LIMIT" --vitrine-skip "$VITRINE_SKIP"

#!/usr/bin/env bash
# The main job on real listings: every photo in ../shared/data/b_product_cn_text (supplier
# listings with Chinese overlays), b_product_dreambooth and b_product_misc as one SKU each,
# through `vitrine run --recipe localize --presets amazon,noon`. Reports SKUs with an accepted
# candidate, the usable rate, the time per SKU (wall time of the whole run / SKUs, with one SKU
# per core) and its breakdown by step, and runs `vitrine check` on every export.
#   bench/run.sh [DATA_DIR] [OUT_DIR]     (VITRINE=path/to/vitrine to bench another build)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-${VITRINE_SHARED_DATA:-../shared/data}}
OUT=${2:-bench/out/run}
VITRINE=${VITRINE:-build/vitrine}
[ -x "$VITRINE" ] || { echo "build first: make" >&2; exit 2; }
rm -rf "$OUT" && mkdir -p "$OUT"
{
  echo "sku,images"
  for dir in b_product_cn_text b_product_dreambooth b_product_misc; do
    for f in "$DATA/$dir"/*; do
      stem=$(basename "${f%.*}")
      echo "$dir-$stem,$(realpath "$f")"
    done
  done
} > "$OUT/manifest.csv"
echo "SKUs: $(($(wc -l < "$OUT/manifest.csv") - 1))"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
start=$(date +%s.%N)
set +e
/usr/bin/time -v "$VITRINE" run --recipe localize --manifest "$OUT/manifest.csv" \
  --output-dir "$OUT/out" --presets amazon,noon 2> "$OUT/run.log"
status=$?
set -e
end=$(date +%s.%N)
tail -n 3 "$OUT/run.log" | grep -v "^\s*$" || true
grep -E "Maximum resident|Elapsed|User time|System time" "$OUT/run.log" || true
# CPU seconds (user + system) per SKU: barely moved by other work on the machine, unlike wall time.
awk -F': ' '/User time|System time/ {cpu += $2} END {printf "CPU per SKU: %.2f s\n", cpu / '"$(($(wc -l < "$OUT/manifest.csv") - 1))"'}' "$OUT/run.log"
echo "exit code $status; wall $(echo "$end - $start" | bc) s; load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
# Every export must pass `vitrine check` for its preset.
pass=0; fail=0
while IFS= read -r f; do
  preset=$(basename "$(dirname "$f")")
  if "$VITRINE" check --preset "$preset" "$f" > /dev/null 2>&1; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1)); echo "export fails check: $f" >&2
  fi
done < <(find "$OUT/out" -path '*/exports/*' -type f)
echo "exports passing vitrine check: $pass of $((pass + fail))"
node bench/run_report.mjs "$OUT/out" "$(echo "$end - $start" | bc)"

#!/usr/bin/env bash
# Issue 4's gate on real photos: every product photo in ../shared/data/b_product_dreambooth and
# b_product_misc is cut out once, then `vitrine stage --preset P` writes its main image for
# amazon, noon and shopify, and `vitrine check --preset P` must pass every file written.
#   bench/stage_presets.sh [DATA_DIR] [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-${VITRINE_SHARED_DATA:-../shared/data}}
OUT=${2:-bench/out/stage_presets}
# The cutouts are kept between runs (they take minutes); delete $OUT to redo them.
mkdir -p "$OUT/photos"
cp "$DATA"/b_product_dreambooth/* "$DATA"/b_product_misc/* "$OUT/photos/"
if [ "$(find "$OUT/cutouts" -type f 2>/dev/null | wc -l)" -ne "$(find "$OUT/photos" -type f | wc -l)" ]; then
  build/vitrine cutout -o "$OUT/cutouts" "$OUT/photos" > "$OUT/cutout.log" 2>&1 || true
fi
tail -n 1 "$OUT/cutout.log"
for preset in amazon noon shopify; do
  rm -rf "${OUT:?}/$preset"
  start=$(date +%s.%N)
  build/vitrine stage --preset "$preset" -o "$OUT/$preset" "$OUT/cutouts" > "$OUT/$preset.log" 2>&1 || true
  end=$(date +%s.%N)
  written=$(find "$OUT/$preset" -type f | wc -l)
  if build/vitrine check --preset "$preset" "$OUT/$preset" > "$OUT/$preset.check" 2>&1; then
    verdict="all pass vitrine check"
  else
    verdict="CHECK FAILURES (see $OUT/$preset.check)"
  fi
  printf '%-8s %s; %d files written; %s; %.2f s per image\n' "$preset" \
    "$(tail -n 1 "$OUT/$preset.log")" "$written" "$verdict" \
    "$(echo "($end - $start) / ($written + 0.0001)" | bc -l)"
  grep -h "failed\|: " "$OUT/$preset.log" | grep -v "^staged\|warning" | head -5 || true
done

#!/usr/bin/env bash
# Text removal: the synthetic benchmark (promotion text rendered onto the clean product photos of
# b_product_dreambooth, ours vs detector → dilate → Telea) and before/after sheets of the real
# listings in b_product_cn_text. See bench/README.md.
#
#   bench/remove_text.sh [--no-build]
#
# Environment: BUILD (default <repo>/build), VITRINE_SHARED_DATA (default <repo>/../shared/data).
# Writes bench/out/remove_text/: bench.txt, sheets/ (rendered | ours | naive | clean),
# text_scope.txt and text_scope/ (text on the product: overlay or product, text_scope_bench),
# cn_text/ (results, report.json, sbs_<name>.png: before | after).
set -euo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH")
BUILD=${BUILD:-$ROOT/build}
DATA=${VITRINE_SHARED_DATA:-$ROOT/../shared/data}
OUT=$BENCH/out/remove_text
BUILD_IT=1
case "${1:-}" in
  --no-build) BUILD_IT=0 ;;
  -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  "") ;;
  *) echo "remove_text.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
esac
[ -d "$DATA" ] || { echo "remove_text.sh: no evaluation data at $DATA (set VITRINE_SHARED_DATA)" >&2; exit 1; }
if [ $BUILD_IT = 1 ]; then
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD" -j2 --target vitrine remove_text_bench text_scope_bench
fi
mkdir -p "$OUT/sheets" "$OUT/cn_text"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$OUT/bench.txt"
"$BUILD/remove_text_bench" --dump "$OUT/sheets" "$DATA"/b_product_dreambooth/*.jpg | tee -a "$OUT/bench.txt"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/bench.txt"

# Overlay vs product text on the product, against the labelled set.
mkdir -p "$OUT/text_scope"
"$BUILD/text_scope_bench" "$BENCH/text_scope_labels.tsv" "$DATA" "$OUT/text_scope" \
  | tee "$OUT/text_scope.txt" | tail -3

# Real listings (the GIF is not a supported input and is reported as such).
"$BUILD/vitrine" remove-text -o "$OUT/cn_text" --report "$OUT/cn_text/report.json" \
  "$DATA/b_product_cn_text" || true
for result in "$OUT"/cn_text/*.png; do
  name=$(basename "$result" .png)
  case "$name" in sbs_*) continue ;; esac
  source=$(ls "$DATA/b_product_cn_text/$name".* | head -1)
  convert "$source" "$result" +append -resize 'x600>' "$OUT/cn_text/sbs_$name.png"
done
echo "sheets: $OUT/sheets, listings: $OUT/cn_text/sbs_*.png"

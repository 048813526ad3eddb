#!/usr/bin/env bash
# Staging: a contact sheet of staged products (white, a studio gradient, a tabletop scene, a
# room) and the time of one 2000x2000 staging once the cutout exists. See bench/README.md.
#
#   bench/stage.sh [--no-build]
#
# Environment: BUILD (default <repo>/build), VITRINE_SHARED_DATA (default <repo>/../shared/data).
# Writes bench/out/stage/: cutouts/, one folder per look, sheet.png, timing.txt.
set -euo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH")
BUILD=${BUILD:-$ROOT/build}
DATA=${VITRINE_SHARED_DATA:-$ROOT/../shared/data}
OUT=$BENCH/out/stage
BUILD_VITRINE=1
case "${1:-}" in
  --no-build) BUILD_VITRINE=0 ;;
  -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  "") ;;
  *) echo "stage.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
esac
[ -d "$DATA" ] || { echo "stage.sh: no evaluation data at $DATA (set VITRINE_SHARED_DATA)" >&2; exit 1; }

if [ $BUILD_VITRINE = 1 ]; then
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD" -j2 --target vitrine stage_bench
fi
V=$BUILD/vitrine

# Products, their real size W,H in cm (measured or typical for the item) and, for a product
# photographed at an angle, "level" (stage --level true in the scenes: a seller's choice).
PRODUCTS=(
  "b_product_dreambooth/backpack_02.jpg 34,40"
  "b_product_dreambooth/teapot_01.jpg 22,14"
  "b_product_dreambooth/clock_03.jpg 20,22"
  "b_product_misc/anydoor_perfume_50.jpg 7,12"
  "b_product_misc/instantmesh_chair_wood.jpg 58,80"
  "b_product_misc/shose.png 28,16 level"
)
ROOM=e_rooms/m3d_unsplash_jonathan-borba_interior.jpg
TABLE=e_staging_backdrops/iclight_bg10_wood_tabletop.webp

mkdir -p "$OUT/cutouts" "$OUT/scenes" "$OUT/tabletop" "$OUT/room"
# Scenes beside their sidecars (links, so nothing is copied).
for scene in "$ROOM" "$TABLE"; do
  name=$(basename "$scene")
  ln -sf "$DATA/$scene" "$OUT/scenes/$name"
  cp "$BENCH/scenes/${name%.*}.json" "$OUT/scenes/"
done

# Cutouts once (the slow part); staging then reads them.
todo=()
for entry in "${PRODUCTS[@]}"; do
  file=${entry%% *}; stem=$(basename "${file%.*}")
  [ -f "$OUT/cutouts/$stem.png" ] || todo+=("$DATA/$file")
done
[ ${#todo[@]} -eq 0 ] || "$V" cutout -o "$OUT/cutouts" "${todo[@]}"

sheet=()
for entry in "${PRODUCTS[@]}"; do
  read -r file size level <<< "$entry"; stem=$(basename "${file%.*}")
  cut=$OUT/cutouts/$stem.png
  "$V" stage -o "$OUT/white" --canvas 1200x1200 "$cut" >/dev/null
  "$V" stage -o "$OUT/studio" --canvas 1200x1200 --background '#eef2f5' --gradient radial \
    --background2 '#b9c6d0' --shadow drop "$cut" >/dev/null
  # A product the scene cannot hold at its real size is refused: the sheet shows why.
  for look in tabletop room; do
    scene=$TABLE; [ $look = room ] && scene=$ROOM
    rm -f "$OUT/$look/$stem.png" "$OUT/$look/$stem.refused.txt"
    "$V" stage -o "$OUT/$look" --scene "$OUT/scenes/$(basename "$scene")" --size-cm "$size" \
      --shadow drop ${level:+--level true} "$cut" > "$OUT/$look/$stem.log" 2>&1 ||
      awk 'f { sub(/^  [^:]*: /, ""); print } / failed:$/ { f = 1 }' "$OUT/$look/$stem.log" \
        > "$OUT/$look/$stem.refused.txt"
  done
  for look in white studio tabletop room; do sheet+=("$OUT/$look/$stem.png"); done
done
"$BUILD/stage_bench" sheet "$OUT/sheet.png" 4 360 "${sheet[@]}"

# Harmonization: how far each product's colours move in the two scenes.
for scene in "$ROOM" "$TABLE"; do
  "$BUILD/stage_bench" harmonize "$DATA/$scene" "$OUT"/cutouts/*.png
done | tee "$OUT/harmonize.txt"

# Time: staging alone (decode and cutout excluded) on a 2000x2000 canvas.
# The scene row: the tabletop at 2000x2000, the shoe at its real size, levelled.
"$BUILD/stage_bench" time "$OUT/cutouts/backpack_02.png" 9 | tee "$OUT/timing.txt"
"$BUILD/stage_bench" time "$OUT/cutouts/shose.png" 9 "$OUT/scenes/$(basename "$TABLE")" 28,16 \
  level | tail -n 1 | tee -a "$OUT/timing.txt"

#!/usr/bin/env bash
# The server under load: wrk on GET /v1/jobs/{id} while the workers are busy, and the time to
# enqueue a 300-SKU batch. See bench/README.md ("Server").
#
#   bench/server.sh [--no-build] [--workers N] [--duration S] [--connections C] [--warm-jobs J]
#
# wrk starts once the workers have finished J jobs of the batch (default 1: models loaded, nets
# built; 0: at once, while the workers are still loading). --workers 0 is the control: the same
# GETs with no job running, under the same machine load.
#
# Environment: BUILD (default <repo>/build). Writes bench/out/server/: data/, serve.log,
# results.txt. Uses a synthetic 200x200 photo (no shared data needed).
set -euo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH")
BUILD=${BUILD:-$ROOT/build}
OUT=$BENCH/out/server
BUILD_VITRINE=1
WORKERS=2
CONNECTIONS=32
DURATION=10
WARM_JOBS=1
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) BUILD_VITRINE=0 ;;
    --workers) WORKERS=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --connections) CONNECTIONS=$2; shift ;;
    --warm-jobs) WARM_JOBS=$2; shift ;;
    -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "server.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
command -v wrk >/dev/null || { echo "server.sh: wrk is missing: apt-get install wrk (scripts/setup)" >&2; exit 1; }

if [ $BUILD_VITRINE = 1 ]; then
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD" -j2 --target vitrine
fi
V=$BUILD/vitrine
rm -rf "$OUT"
mkdir -p "$OUT"
DATA=$OUT/data

# A product on a light backdrop, 200x200 PNG.
python3 - "$OUT/photo.png" <<'PY'
import struct, sys, zlib
w = h = 200
rows = b"".join(b"\x00" + b"".join(bytes((200, 80, 30) if (x - 100) ** 2 + (y - 100) ** 2 < 3600
                                         else (230, 230, 230)) for x in range(w)) for y in range(h))
chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
open(sys.argv[1], "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                              + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
PY

KEY=$("$V" keys create --data "$DATA" --name bench | tail -1 | awk '{print $NF}')
VITRINE_SEGMENT_SIZE=320 "$V" serve --listen 127.0.0.1:0 --data "$DATA" --workers "$WORKERS" --rate-limit 1e9 \
  >"$OUT/serve.log" 2>&1 &
SERVE=$!
trap 'kill $SERVE 2>/dev/null; wait $SERVE 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q serving "$OUT/serve.log" && break; sleep 0.1; done
PORT=$(sed -n 's/.*serving http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$OUT/serve.log" | head -1)
[ -n "$PORT" ] || { cat "$OUT/serve.log" >&2; exit 1; }
URL=http://127.0.0.1:$PORT
RECIPE='{"name":"tiny","steps":[{"op":"cutout"},{"op":"stage","params":{"width":300,"height":300,"background":"white","shadow":"none"}}],"candidates":1,"export":{"op":"export"},"presets":["generic-square"]}'

UPLOAD=$(curl -sf -H "X-API-Key: $KEY" -F "image=@$OUT/photo.png" "$URL/v1/uploads" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["uploads"][0]["id"])')
JOB=$(curl -sf -H "X-API-Key: $KEY" -H 'Content-Type: application/json' \
  -d "{\"images\":[\"$UPLOAD\"],\"recipe\":$RECIPE,\"sku\":\"first\"}" "$URL/v1/jobs" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')

# 300 SKUs in one batch: the time of the POST (validation, one transaction).
python3 - "$UPLOAD" "$RECIPE" >"$OUT/batch.json" <<'PY'
import json, sys
print(json.dumps({"manifest": [{"sku": "SKU-%03d" % i, "images": [sys.argv[1]]} for i in range(300)],
                  "recipe": json.loads(sys.argv[2])}))
PY
ENQUEUE=$(curl -s -o "$OUT/batch-response.json" -w '%{http_code} %{time_total}' \
  -H "X-API-Key: $KEY" -H 'Content-Type: application/json' --data-binary "@$OUT/batch.json" \
  "$URL/v1/batches")

# GET /v1/jobs/{id} while the workers chew through the batch, once they are warm.
succeeded() {
  curl -sf -H "X-API-Key: $KEY" "$URL/metrics" | sed -n 's/^vitrine_jobs{state="succeeded"} //p'
}
if [ "$WORKERS" -gt 0 ]; then
  for _ in $(seq 600); do [ "$(succeeded)" -ge $((WARM_JOBS + 1)) ] && break; sleep 0.2; done
fi
WARM=$(succeeded)
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -H "X-API-Key: $KEY" "$URL/v1/jobs/$JOB" >"$OUT/wrk.txt"
DONE=$(succeeded)

{
  echo "enqueue 300-SKU batch: HTTP ${ENQUEUE% *}, ${ENQUEUE#* } s"
  echo "GET /v1/jobs/$JOB, wrk -t2 -c$CONNECTIONS -d${DURATION}s, $WORKERS workers busy:"
  grep -E 'Requests/sec|50%|90%|99%|requests in|Non-2xx' "$OUT/wrk.txt"
  echo "jobs succeeded: $WARM before wrk, ${DONE:-unknown} after; load average before wrk: $LOAD, after: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT/results.txt"

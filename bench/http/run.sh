#!/usr/bin/env bash
# HTTP benchmark (docs/BENCHMARKS.md). In one run, on loopback:
#   1. HTTP ingest: bodies of 1,000 smart-meter records POSTed over
#      keep-alive connections to a real `privacity serve` (demo city);
#   2. the same records ingested in-process (per body with its log leaf, as
#      the route does, and through one streaming Ingester);
#   3. GET /healthz on privacity against nginx serving a static file.
# Prints each measurement's median of REPS runs and the ratios.
#
#   bench/http/run.sh [BUILD_DIR] [REPS]
# Needs nginx (Debian package nginx or nginx-light); not run by CI.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD="${1:-build}"
REPS="${2:-3}"
RECORDS="${RECORDS:-200000}"
CONNECTIONS="${CONNECTIONS:-4}"
GET_SECONDS="${GET_SECONDS:-5}"
PRIVACITY="$BUILD/src/cli/privacity"
BENCH="$BUILD/bench/http/http_bench"
CONFIG="examples/demo-city/city.yaml"
for f in "$PRIVACITY" "$BENCH"; do
  [ -x "$f" ] || { echo "missing $f: build it first (scripts/build $BUILD)" >&2; exit 1; }
done
NGINX="$(command -v nginx || true)"
[ -n "$NGINX" ] || [ ! -x /usr/sbin/nginx ] || NGINX=/usr/sbin/nginx
[ -n "$NGINX" ] || { echo "nginx is not installed (apt-get install nginx)" >&2; exit 1; }

WORK="$(mktemp -d /tmp/privacity-http-bench-XXXXXX)"
SERVE_PID=""
NGINX_PID=""
cleanup() {
  [ -z "$SERVE_PID" ] || kill "$SERVE_PID" 2>/dev/null || true
  [ -z "$NGINX_PID" ] || kill "$NGINX_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_port() {
  for _ in $(seq 1 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "nothing listens on port $1" >&2
  return 1
}
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
# Readings from midnight UTC 40 days ago on: inside the demo city's retention
# and linkability windows, so the server's retention sweep (a few seconds
# after start) has nothing to delete or unlink mid-run. Fixed for the run.
START=$(( ($(date +%s) / 86400 - 40) * 86400 ))

# privacity serve on the demo city, quiet logs.
PORT="$(free_port)"
"$PRIVACITY" init --config "$CONFIG" --data-dir "$WORK/serve" >/dev/null
TOKEN="$("$PRIVACITY" token issue --config "$CONFIG" --data-dir "$WORK/serve" \
  --party energy-utility --stream energy.meter_readings | grep -o 'pvt_[A-Za-z0-9_-]*' | head -1)"
"$PRIVACITY" serve --config "$CONFIG" --data-dir "$WORK/serve" --listen "127.0.0.1:$PORT" \
  >"$WORK/serve.log" 2>&1 &
SERVE_PID=$!
wait_port "$PORT"

# nginx serving /healthz as a static file, on its own port and prefix.
NGINX_PORT="$(free_port)"
mkdir -p "$WORK/nginx/html" "$WORK/nginx/logs"
printf '{"status":"ok"}' >"$WORK/nginx/html/healthz"
cat >"$WORK/nginx/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes auto;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx/body;
  proxy_temp_path $WORK/nginx/proxy;
  fastcgi_temp_path $WORK/nginx/fastcgi;
  uwsgi_temp_path $WORK/nginx/uwsgi;
  scgi_temp_path $WORK/nginx/scgi;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $WORK/nginx/html;
    location = /healthz { default_type application/json; }
  }
}
EOF
"$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" &
NGINX_PID=$!
wait_port "$NGINX_PORT"

"$PRIVACITY" init --config "$CONFIG" --data-dir "$WORK/inproc" >/dev/null
: >"$WORK/results"
for rep in $(seq 1 "$REPS"); do
  offset=$(( (rep - 1) * 2 * RECORDS ))
  "$BENCH" ingest --port="$PORT" --token="$TOKEN" --records="$RECORDS" \
    --connections="$CONNECTIONS" --offset="$offset" --start="$START" >>"$WORK/results"
  "$BENCH" inprocess --config="$CONFIG" --data_dir="$WORK/inproc" --records="$RECORDS" \
    --offset="$offset" --start="$START" >>"$WORK/results"
  "$BENCH" get --port="$PORT" --path=/healthz --seconds="$GET_SECONDS" \
    --connections="$CONNECTIONS" | sed 's/^get/get_privacity/' >>"$WORK/results"
  "$BENCH" get --port="$NGINX_PORT" --path=/healthz --seconds="$GET_SECONDS" \
    --connections="$CONNECTIONS" | sed 's/^get/get_nginx/' >>"$WORK/results"
done

m() { grep "^$1 " "$WORK/results" | awk '{print $2}' | median; }
HTTP=$(m http_ingest); BATCHES=$(m inprocess_batches); STREAM=$(m inprocess_stream)
GP=$(m get_privacity); GN=$(m get_nginx)
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "medians of $REPS runs; $RECORDS records in bodies of 1000; $CONNECTIONS connections"
printf '| measurement | median |\n|---|---|\n'
printf '| HTTP ingest (records/s) | %s |\n' "$HTTP"
printf '| in-process, per body with log leaf (records/s) | %s |\n' "$BATCHES"
printf '| in-process, one streaming Ingester (records/s) | %s |\n' "$STREAM"
printf '| GET /healthz privacity (requests/s) | %s |\n' "$GP"
printf '| GET /healthz nginx static file (requests/s) | %s |\n' "$GN"
awk -v h="$HTTP" -v b="$BATCHES" -v s="$STREAM" -v p="$GP" -v n="$GN" 'BEGIN {
  printf "HTTP / in-process per body: %.2f\n", h / b;
  printf "HTTP / in-process streaming: %.2f\n", h / s;
  printf "privacity / nginx (GET /healthz): %.2f\n", p / n }'

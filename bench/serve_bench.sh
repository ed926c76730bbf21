#!/bin/sh
# Ray Serve over HTTP against a single-process aiohttp server, same no-op
# handler, same run: wrk with 16 connections for DURATION seconds each
# (default 10), printing requests/s and the p50/p99 latency of each.
#
#     bench/serve_bench.sh [DURATION]
#
# SERVE_BENCH_ROWS picks rows (default "aiohttp serve-c serve-python");
# SERVE_BENCH_TREE runs another built tree's Ray (python/ and bin/), e.g. an
# old commit's worktree, for before/after rows in one run.  Each row also
# prints the CPU time its processes spent per request, by role
# (bench/serve_cpu.py): on a shared machine that swings far less than
# requests/s.
#
# Rows: aiohttp (one process), serve-c (Serve behind the C proxy
# bin/ray_serve_proxy) and serve-python (the same behind the interim
# Python proxy, RAYC_SERVE_PROXY=python).  Needs wrk and python3-aiohttp
# (deploy/install-deps.sh) and a built tree (make).
set -eu
BENCH=serve_bench
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TREE=${SERVE_BENCH_TREE:-$ROOT}
ROWS=${SERVE_BENCH_ROWS:-aiohttp serve-c serve-python}
DURATION=${1:-10}
W=$(mktemp -d)
. "$ROOT/bench/bench_lib.sh"
export PYTHONPATH="$TREE/python" RAYC_BIN_DIR="$TREE/bin"
export SERVE_BENCH_MARK="serve_bench_$$"   # finds this run's processes
export RAYC_NODE_REGISTRY="$W/nodes"   # another `ray stop` on this host leaves it alone
unset RAY_ADDRESS || true
trap 'rm -rf "$W"' EXIT

free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# run_one LABEL KIND [ENV=VALUE]: starts the server, waits for "ready",
# runs wrk, prints one row, stops the server.
run_one() {
    label=$1 kind=$2
    shift 2
    port=$(free_port)
    mkfifo "$W/in.$label"
    env "$@" /usr/bin/python3 "$ROOT/bench/serve_bench_app.py" "$kind" "$port" \
        < "$W/in.$label" > "$W/out.$label" 2> "$W/err.$label" &
    pid=$!
    exec 3> "$W/in.$label"
    while ! grep -q ready "$W/out.$label" 2>/dev/null; do
        if ! kill -0 "$pid" 2>/dev/null; then
            step "$label failed to start"; tail -20 "$W/err.$label" >&2; exit 1
        fi
        sleep 0.2
    done
    step "$label: wrk -t2 -c16 -d${DURATION}s"
    mark="SERVE_BENCH_MARK=$SERVE_BENCH_MARK"
    /usr/bin/python3 "$ROOT/bench/serve_cpu.py" snap "$mark" > "$W/cpu0.$label"
    wrk -t2 -c16 -d"${DURATION}s" --latency "http://127.0.0.1:$port/" > "$W/wrk.$label"
    /usr/bin/python3 "$ROOT/bench/serve_cpu.py" snap "$mark" > "$W/cpu1.$label"
    exec 3>&-
    wait "$pid" || true
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$W/wrk.$label")
    p50=$(awk '$1 == "50%" {print $2}' "$W/wrk.$label")
    p99=$(awk '$1 == "99%" {print $2}' "$W/wrk.$label")
    errs=$(awk '/Non-2xx|Socket errors/ {print}' "$W/wrk.$label" | tr '\n' ' ')
    n=$(awk '/requests in/ {print $1}' "$W/wrk.$label")
    cpu=$(/usr/bin/python3 "$ROOT/bench/serve_cpu.py" diff "$W/cpu0.$label" "$W/cpu1.$label" "$n")
    printf '%-14s %12s %10s %10s  %s\n' "$label" "$rps" "$p50" "$p99" "$errs"
    printf '%-14s %s\n' "" "$cpu"
}

printf '%-14s %12s %10s %10s\n' "server" "requests/s" "p50" "p99"
for row in $ROWS; do
    case $row in
    aiohttp) run_one aiohttp aiohttp ;;
    serve-c) run_one serve-c serve ;;
    serve-python) run_one serve-python serve RAYC_SERVE_PROXY=python ;;
    *) step "unknown row $row (aiohttp, serve-c, serve-python)"; exit 2 ;;
    esac
done

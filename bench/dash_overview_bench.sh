#!/bin/sh
# The dashboard's Overview page with 100 simulated nodes (plus the head),
# loaded RUNS times in headless Chromium: prints p50 and max, from navigation
# start to the first render showing 101 alive nodes.  Needs chromium,
# chromium-driver and python3-selenium (deploy/install-deps.sh).
#
#   bench/dash_overview_bench.sh [RUNS (20)]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-20}
tmp=$(mktemp -d /tmp/rayc-dashbench.XXXXXX)
export RAYC_NODE_REGISTRY=$tmp/registry RAY_TMPDIR=$tmp/ray
token=$tmp/token
echo "dashbench-token-$$-$(date +%s%N)" > "$token"
gport=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
dport=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
cleanup() {
    [ -n "${sim:-}" ] && kill "$sim" 2>/dev/null || true
    "$root/bin/ray" stop --force >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT
"$root/bin/ray" start --head --node-ip-address 127.0.0.1 --port "$gport" \
    --dashboard-port "$dport" --num-cpus 1 --object-store-memory 80000000 \
    --auth-token-file "$token" >/dev/null
"$root/build/bench/dash_sim_nodes" 127.0.0.1 "$gport" "$token" 100 3600 > "$tmp/sim.out" &
sim=$!
until grep -q registered "$tmp/sim.out" 2>/dev/null; do
    kill -0 "$sim" || { echo "dash_sim_nodes failed" >&2; exit 1; }
    sleep 0.1
done
/usr/bin/python3 "$root/tests/integration/dash_browser.py" bench "http://127.0.0.1:$dport" \
    "$token" 101 "$runs"

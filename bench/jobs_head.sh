#!/bin/sh
# Submit -> RUNNING on a real head (printed, not asserted): `ray start --head`
# (GCS, raylet, job server), then one client submits JOBS jobs of `sleep 0.2`
# one after another, each polled with GET /api/jobs/{id} until it is no
# longer PENDING, as Ray's SDK user would.  Prints p50, p90 and p99.
# Usage: bench/jobs_head.sh [JOBS]   (from the repository root, after make)
# RAYC_BENCH_GAP_S: seconds between submissions (default 0: back to back).
set -eu
JOBS=${1:-100}
ROOT=$(pwd)
PYTHON=${PYTHON:-/usr/bin/python3}
DIR=$(mktemp -d /tmp/rayc-jobs-head-XXXXXX)
export RAYC_NODE_REGISTRY=$DIR/reg RAY_TMPDIR=$DIR/tmp
mkdir -p "$RAY_TMPDIR"
echo "jobs-head-bench-token-$$-$(date +%s)" > "$DIR/token"
PORT=$((20000 + $$ % 10000)); DPORT=$((PORT + 1))
# The last jobs may still be writing their exit files when the node stops.
cleanup() { "$ROOT/bin/ray" stop --force >/dev/null 2>&1 || true; rm -rf "$DIR" 2>/dev/null || { sleep 1; rm -rf "$DIR"; }; }
trap cleanup EXIT
"$ROOT/bin/ray" start --head --node-ip-address 127.0.0.1 --port $PORT --dashboard-port $DPORT \
    --num-cpus 2 --auth-token-file "$DIR/token" >/dev/null
"$PYTHON" - "$DPORT" "$DIR/token" "$JOBS" "${RAYC_BENCH_GAP_S:-0}" <<'PY'
import http.client, json, sys, time
port, token_file, jobs, gap = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
headers = {"Authorization": "Bearer " + open(token_file).read().strip(),
           "Content-Type": "application/json"}
conn = http.client.HTTPConnection("127.0.0.1", port)
def call(method, path, body=None):
    conn.request(method, path, body, headers)
    r = conn.getresponse()
    return r.status, r.read()
while call("GET", "/api/version")[0] != 200:
    time.sleep(0.05)
lat = []
for i in range(jobs):
    sid = "head-bench-%d" % i
    t0 = time.perf_counter()
    st, _ = call("POST", "/api/jobs/", json.dumps({"entrypoint": "sleep 0.2", "submission_id": sid}))
    if st != 200:
        sys.exit("submit failed: %d" % st)
    while b'"status": "PENDING"' in call("GET", "/api/jobs/" + sid)[1]:
        pass
    lat.append((time.perf_counter() - t0) * 1e3)
    if gap:
        time.sleep(gap)
lat.sort()
pick = lambda p: lat[min(len(lat) - 1, int(len(lat) * p / 100))]
print("real head, submit -> RUNNING over %d jobs: p50 %.2f ms, p90 %.2f ms, p99 %.2f ms"
      % (jobs, pick(50), pick(90), pick(99)))
PY

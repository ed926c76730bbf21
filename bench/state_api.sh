#!/bin/sh
# Benchmarks of the state API and of task events (printed, not asserted):
#   1. /api/v0/tasks?limit=100 with 100,000 stored task attempts: p50, p99;
#   2. single_client_tasks_async with task events on and off, alternated
#      ROUNDS times in this run (RAY_task_events_report_interval_ms=0 is off);
#   3. CPU time of the raylet and the GCS per 1000 tasks, events on and off
#      (STATE_BENCH_CPU_ONLY=1: only this; STATE_BENCH_TASKS: tasks per run).
# Usage: bench/state_api.sh [ROUNDS]   (from the repository root, after make)
set -eu
ROUNDS=${1:-3}
ROOT=$(pwd)
DIR=$(mktemp -d /tmp/rayc-state-bench-XXXXXX)
export RAYC_NODE_REGISTRY=$DIR/reg RAY_TMPDIR=$DIR/tmp
mkdir -p "$RAY_TMPDIR"
echo "state-bench-token-$$-$(date +%s)" > "$DIR/token"
PORT=$((20000 + $$ % 10000)); DPORT=$((PORT + 1))
cleanup() { "$ROOT/bin/ray" stop --force >/dev/null 2>&1 || true; rm -rf "$DIR"; }
trap cleanup EXIT
if [ -z "${STATE_BENCH_CPU_ONLY:-}" ]; then
"$ROOT/bin/ray" start --head --node-ip-address 127.0.0.1 --port $PORT --dashboard-port $DPORT \
    --num-cpus 1 --auth-token-file "$DIR/token" >/dev/null
"$ROOT/build/bench/state_api_bench" 127.0.0.1:$PORT http://127.0.0.1:$DPORT "$DIR/token"
"$ROOT/bin/ray" stop --force >/dev/null

metric() { "$ROOT/bin/ray" microbenchmark --only single_client_tasks_async "$@" |
           awk '/single_client_tasks_async per second/ {print $4}'; }
on=""; off=""
i=0
while [ $i -lt "$ROUNDS" ]; do
    # Which goes first alternates: the first of a pair runs on a colder machine.
    if [ $((i % 2)) -eq 0 ]; then
        a=$(RAY_task_events_report_interval_ms=0 metric); b=$(metric)
    else
        b=$(metric); a=$(RAY_task_events_report_interval_ms=0 metric)
    fi
    off="$off $a"; on="$on $b"
    echo "round $i: events off $a tasks/s, events on $b tasks/s"
    i=$((i + 1))
done
echo "$on" "|" "$off" | awk '{ n = 0; s = 0; for (i = 1; $i != "|"; i++) { s += $i; n++ }
    t = 0; m = 0; for (i++; i <= NF; i++) { t += $i; m++ }
    printf "single_client_tasks_async events_on %.0f events_off %.0f cost %.1f %%\n",
           s / n, t / m, 100 * (1 - (s / n) / (t / m)) }'
fi

# 3. CPU time the raylet and the GCS spend per 1000 tasks (tiny_demo, N
#    tasks at once), events on and off alternated: less sensitive to a
#    busy machine than throughput.
N=${STATE_BENCH_TASKS:-20000}
cpu_ms() {  # utime+stime of PIDS in ms
    t=0
    for p in "$@"; do
        t=$((t + $(awk '{print $14 + $15}' /proc/$p/stat)))
    done
    echo $((t * 1000 / $(getconf CLK_TCK)))
}
one_run() {  # prints "cpu_ms wall_ms"
    "$ROOT/bin/ray" start --head --node-ip-address 127.0.0.1 --port $PORT --dashboard-port $DPORT \
        --num-cpus 2 --auth-token-file "$DIR/token" >/dev/null
    nd=$(readlink -f "$RAYC_NODE_REGISTRY"/127.0.0.1_*)
    pids="$(cat "$nd/pids/raylet.pid") $(cat "$nd/pids/gcs_server.pid")"
    RAY_ADDRESS=127.0.0.1:$PORT RAY_AUTH_TOKEN_PATH="$DIR/token" \
        "$ROOT/examples/tiny_demo/tiny_demo" 200 >/dev/null    # warm: workers started
    c0=$(cpu_ms $pids); w0=$(date +%s%N)
    RAY_ADDRESS=127.0.0.1:$PORT RAY_AUTH_TOKEN_PATH="$DIR/token" \
        "$ROOT/examples/tiny_demo/tiny_demo" "$N" >/dev/null
    sleep 1.5   # the last batch of events reaches the GCS
    c1=$(cpu_ms $pids); w1=$(date +%s%N)
    "$ROOT/bin/ray" stop --force >/dev/null
    echo "$((c1 - c0)) $(((w1 - w0) / 1000000 - 1500))"
}
i=0; son=0; soff=0
while [ $i -lt "$ROUNDS" ]; do
    if [ $((i % 2)) -eq 0 ]; then
        set -- $(RAY_task_events_report_interval_ms=0 one_run); off_c=$1; off_w=$2
        set -- $(one_run); on_c=$1; on_w=$2
    else
        set -- $(one_run); on_c=$1; on_w=$2
        set -- $(RAY_task_events_report_interval_ms=0 one_run); off_c=$1; off_w=$2
    fi
    echo "round $i: raylet+gcs cpu ms for $N tasks: events off $off_c (wall $off_w ms), on $on_c (wall $on_w ms)"
    son=$((son + on_c)); soff=$((soff + off_c)); i=$((i + 1))
done
awk -v on=$son -v off=$soff -v n=$N -v r=$ROUNDS 'BEGIN {
    printf "raylet_gcs_cpu_per_1000_tasks ms events_on %.1f events_off %.1f cost %.1f %%\n",
           1000 * on / r / n, 1000 * off / r / n, 100 * (on - off) / off }'

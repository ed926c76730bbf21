#!/bin/sh
# Benchmarks of the state API and of task events (printed, not asserted):
#   1. /api/v0/tasks?limit=100 with 100,000 stored task attempts: p50, p99;
#   2. single_client_tasks_async with task events on and off, alternated
#      ROUNDS times in this run (RAY_task_events_report_interval_ms=0 is off);
#   3. CPU time per task of the driver, GCS, raylet and workers, events on
#      and off (bench/task_events_cost.py; STATE_BENCH_CPU_ONLY=1: only this;
#      STATE_BENCH_TASKS: tasks per round, STATE_BENCH_PROFILE_HZ: perf).
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

# 3. What events cost in CPU time per task of every process involved
#    (driver, GCS, raylet, workers), events-on and events-off clusters side
#    by side, alternated in short rounds, the median of per-round ratios;
#    STATE_BENCH_PROFILE_HZ=HZ adds perf's share of samples in event code.
#    See bench/task_events_cost.py.
/usr/bin/python3 "$ROOT/bench/task_events_cost.py" --rounds "$ROUNDS" \
    --tasks "${STATE_BENCH_TASKS:-5000}" ${STATE_BENCH_PROFILE_HZ:+--profile-hz "$STATE_BENCH_PROFILE_HZ"} "$ROOT"

#!/bin/sh
# bench/multihost.sh - rayc across hosts, each number beside its baseline
# from the same run (issue 6):
#
#   1. cross-node transfer: a store object put on host 1 and received by a
#      task on host 2 of a 2-host cluster, against raw TCP between the same
#      two hosts (build/bench/tcp_xfer);
#   2. tasks per second on a 4-host cluster against a 1-host cluster, same
#      driver and same tasks (no-op, and 1 ms of CPU each);
#   3. one map-reduce (sum of squares over M chunks) in rayc on the 1-host
#      cluster and in Dask distributed (Debian's python3-distributed) on a
#      LocalCluster of as many worker processes as rayc has CPUs.
#
# The hosts are local test hosts (deploy/testnet.sh: network namespaces on
# this machine), every cluster is brought up by `ray up` over SSH with this
# checkout's bin/ray, and everything is torn down at the end, also on
# failure.  Needs root.  All hosts share this machine's CPUs: more hosts add
# no cores, and the output says so.
#
#   bench/multihost.sh                  # or: make bench-multihost
#   RUNS=5 XFER_MIB=512 bench/multihost.sh
#
# Knobs (environment): RUNS (3; best of RUNS for the transfer and map-reduce
# figures), XFER_MIB (256), NOOP_TASKS (100000), BURN_TASKS (5000), BURN_US
# (1000), MR_CHUNKS (128), MR_VALUES (1000000 uint64 per chunk), CPUS (per
# host; nproc).  The testnet: RAYC_TESTNET_NAME (rbm), RAYC_TESTNET_SUBNET_PREFIX
# (10.79.0), RAYC_TESTNET_DIR (a scratch dir) - pick ones no other testnet
# on this machine uses.
set -eu
cd "$(dirname "$0")/.."
ROOT=$PWD
RAY=$ROOT/bin/ray
MH=$ROOT/build/bench/multihost
TCP=$ROOT/build/bench/tcp_xfer
RUNS=${RUNS:-3}
XFER_MIB=${XFER_MIB:-256}
NOOP_TASKS=${NOOP_TASKS:-100000}
BURN_TASKS=${BURN_TASKS:-5000}
BURN_US=${BURN_US:-1000}
MR_CHUNKS=${MR_CHUNKS:-128}
MR_VALUES=${MR_VALUES:-1000000}
CPUS=${CPUS:-$(nproc)}
TCP_PORT=5999

[ "$(id -u)" = 0 ] || { echo "multihost.sh: needs root (test hosts); skipped"; exit 0; }
for f in "$RAY" "$MH" "$TCP" "$ROOT/build/bench/libmultihost_tasks.so"; do
    [ -x "$f" ] || [ -f "$f" ] || { echo "multihost.sh: $f is missing: build first (make)"; exit 1; }
done
DASK=1
/usr/bin/python3 -c 'import distributed, numpy' 2>/dev/null || {
    DASK=0
    echo "multihost.sh: python3-distributed or python3-numpy is missing, so the map-reduce runs"
    echo "  without its Dask comparison (install: deploy/install-deps.sh --bench, as root)"
}

W=$(mktemp -d /tmp/rayc-bench-multihost.XXXXXX)
export RAYC_TESTNET_NAME=${RAYC_TESTNET_NAME:-rbm}
export RAYC_TESTNET_SUBNET_PREFIX=${RAYC_TESTNET_SUBNET_PREFIX:-10.79.0}
export RAYC_TESTNET_DIR=${RAYC_TESTNET_DIR:-$W/testnet}
# The launcher's state (~/.ray/launcher.db) stays in this run's scratch dir.
export HOME=$W/home
mkdir -p "$HOME"
RECV=
cleanup() {
    [ -z "$RECV" ] || kill "$RECV" 2>/dev/null || true
    for f in "$W"/c*.yaml; do [ -f "$f" ] && "$RAY" down "$f" -y >/dev/null 2>&1; done
    deploy/testnet.sh down >/dev/null 2>&1 || true
    rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

BENCH=multihost.sh
. bench/bench_lib.sh   # step, quiet (the cwd is the repository root)

step "deploy/testnet.sh up 4 ($RAYC_TESTNET_NAME, $RAYC_TESTNET_SUBNET_PREFIX.0/24)"
quiet deploy/testnet.sh up 4
. "$RAYC_TESTNET_DIR/inventory.env"
export RAYC_KNOWN_HOSTS=$KNOWN_HOSTS
set -- $HOSTS
HEAD=$1
B=$2
set -- $NAMES
NS_A=$1
NS_B=$2

# ---------------------------------------------------------------- clusters

# cluster_up N: `ray up` of the head and the first N-1 other hosts, as
# cluster cN; returns once `ray status` shows N active nodes.
cluster_up() {
    workers=
    [ "$1" -le 1 ] || workers=$(echo $HOSTS | cut -d' ' -f2-"$1" | sed 's/ /, /g')
    cat > "$W/c$1.yaml" <<EOF
cluster_name: bench-c$1
provider:
  type: local
  head_ip: $HEAD
  worker_ips: [$workers]
  auth_token_path: $W/nodes/token
auth: {ssh_user: root, ssh_private_key: $KEY}
head_start_ray_commands:
  - $RAY stop --temp-dir $W/nodes/ray
  - $RAY start --head --port=6379 --temp-dir $W/nodes/ray --num-cpus $CPUS --object-store-memory 1000000000
worker_start_ray_commands:
  - $RAY stop --temp-dir $W/nodes/ray
  - $RAY start --address=\$RAY_HEAD_IP:6379 --temp-dir $W/nodes/ray --num-cpus $CPUS --object-store-memory 1000000000
EOF
    step "ray up c$1.yaml ($1 host(s), $CPUS CPUs each)"
    quiet "$RAY" up "$W/c$1.yaml" -y --use-normal-shells
    i=0
    until [ "$(active_nodes)" = "$1" ]; do
        i=$((i + 1))
        [ $i -lt 100 ] || { echo "multihost.sh: c$1 never showed $1 active nodes" >&2;
                            "$RAY" status --address "$HEAD:6379" >&2; exit 1; }
        sleep 0.2
    done
    # The raylets learn about each other within a report period (1 s).
    [ "$1" = 1 ] || sleep 1.5
}

# active_nodes: the number of active nodes `ray status` lists.
active_nodes() {
    RAY_AUTH_TOKEN_PATH=$W/nodes/token "$RAY" status --address "$HEAD:6379" 2>/dev/null |
        awk '/^Active:/ { a = 1; next } /^Pending:/ { a = 0 } a && /^ *1 node_/ { n++ }
             END { print n + 0 }'
}

cluster_down() {
    step "ray down c$1.yaml"
    quiet "$RAY" down "$W/c$1.yaml" -y
    rm -f "$W/c$1.yaml"
    rm -rf "$W/nodes/ray"
}

# node_id IP: the node id of the raylet at IP (from its node.info).
node_id() {
    f=$(find "$W/nodes/ray" -path "*node_$1_*/node.info" | head -1)
    sed -n 's/^node_id \([0-9a-f]*\).*/\1/p' "$f" | head -1
}

# driver NS ARGS...: runs the bench driver in test host NS against the cluster.
driver() {
    ns=$1
    shift
    ip netns exec "$ns" env RAY_ADDRESS="$HEAD:6379" RAY_AUTH_TOKEN_PATH="$W/nodes/token" \
        "$MH" "$@" > "$W/driver.log" 2>&1 || {
        echo "multihost.sh: FAILED: multihost $*" >&2
        cat "$W/driver.log" >&2
        exit 1
    }
    cat "$W/driver.log"
}

# field LINE_NAME N: field N of the line that starts with LINE_NAME in $W/driver.log.
field() { awk -v k="$1" -v n="$2" '$1 == k { print $n }' "$W/driver.log"; }

# ---------------------------------------------------------------- 1. transfer

cluster_up 2
NODE_B=$(node_id "$B")
[ -n "$NODE_B" ] || { echo "multihost.sh: no node.info for $B" >&2; exit 1; }
bytes=$((XFER_MIB * 1048576))

step "raw TCP: $XFER_MIB MiB host 1 -> host 2, $RUNS runs"
ip netns exec "$NS_B" "$TCP" recv "$TCP_PORT" "$RUNS" > "$W/recv.log" 2>&1 &
RECV=$!
ip netns exec "$NS_A" "$TCP" send "$B" "$TCP_PORT" "$bytes" "$RUNS" > "$W/driver.log" 2>&1 || {
    cat "$W/driver.log" "$W/recv.log" >&2
    exit 1
}
wait "$RECV" || { cat "$W/recv.log" >&2; exit 1; }
RECV=
cat "$W/driver.log" >&2
tcp_gbs=$(field tcp 4)
tcp_ok=$(field tcp 5)
tcp_first=$(awk -v b="$bytes" '$1 == "tcp_run" && $2 == 0 { printf "%.3f", b / $3 / 1e9 }' "$W/driver.log")

step "rayc: $XFER_MIB MiB put on host 1, received by a task on host 2, $RUNS runs"
driver "$NS_A" xfer "$XFER_MIB" "$NODE_B" "$RUNS" >&2
ray_gbs=$(field xfer 4)
ray_ok=$(field xfer 5)
ray_rtt=$(field xfer_rtt 2)
ray_first=$(awk -v b="$bytes" '$1 == "xfer_run" && $2 == 0 { printf "%.3f", b / $3 / 1e9 }' "$W/driver.log")
cluster_down 2

# ---------------------------------------------------------------- 2. tasks

# tasks_on N: the task rates of cluster cN, into noop_defaultN,
# noop_spreadN, burn_spreadN (and *_nodesN, the nodes that ran them).
tasks_on() {
    n=$1
    cluster_up "$n"
    for t in "noop $NOOP_TASKS 0 default" "noop $NOOP_TASKS 0 spread" \
             "burn $BURN_TASKS $BURN_US spread"; do
        set -- $t
        step "c$n: $2 tasks of $3 us CPU, $4"
        # The warm-up starts the job's workers on every node first.
        driver "$NS_A" tasks "$2" "$3" "$4" $((CPUS * n * 4)) >&2
        eval "${1}_${4}$n=$(field tasks 4) ${1}_${4}_nodes$n=$(field tasks 5)"
    done
}

tasks_on 4
cluster_down 4
tasks_on 1

# ---------------------------------------------------------------- 3. map-reduce

step "rayc map-reduce on c1: $MR_CHUNKS chunks x $MR_VALUES uint64, best of $RUNS"
driver "$NS_A" mapreduce "$MR_CHUNKS" "$MR_VALUES" "$RUNS" >&2
mr_total=$(field mapreduce 2)
mr_secs=$(field mapreduce 3)
cluster_down 1

dask_total=- dask_secs=-
if [ "$DASK" = 1 ]; then
    step "Dask map-reduce: LocalCluster of $CPUS worker processes x 1 thread, best of $RUNS"
    /usr/bin/python3 bench/multihost_dask.py "$CPUS" "$MR_CHUNKS" "$MR_VALUES" "$RUNS" \
        > "$W/driver.log" 2>&1 || { cat "$W/driver.log" >&2; exit 1; }
    grep '^dask' "$W/driver.log" >&2
    dask_total=$(field dask 2)
    dask_secs=$(field dask 3)
fi

# ---------------------------------------------------------------- table

ratio() { echo "$1 $2" | awk '{ if ($2 > 0 && $1 != "-") printf "%.2f", $1 / $2; else print "-" }'; }

echo
echo "multihost: $(nproc) CPUs on this machine, shared by every test host (network"
echo "namespaces on one kernel): more hosts add no cores here, so 4 hosts / 1 host"
echo "measures distribution overhead, not scaling.  Clusters by \`ray up\` over SSH."
echo
echo "1. cross-node transfer, $XFER_MIB MiB, host 1 -> host 2, GB/s       best of $RUNS  first run"
printf '   %-52s %12s %10s\n' "raw TCP (tcp_xfer: one buffer to one buffer)" "$tcp_gbs" "$tcp_first"
printf '   %-52s %12s %10s\n' "rayc: put on host 1, a task on host 2 receives it" "$ray_gbs" "$ray_first"
printf '   %-52s %12s %10s\n' "rayc / TCP" "$(ratio "$ray_gbs" "$tcp_gbs")" "$(ratio "$ray_first" "$tcp_first")"
echo "   checksums: TCP $tcp_ok, rayc $ray_ok; rayc's time includes one task round trip"
echo "   to host 2 ($(echo "$ray_rtt" | awk '{ printf "%.1f", $1 * 1000 }') ms with a small argument)"
echo
echo "2. tasks per second, driver on the head, $CPUS CPUs per host   1 host  4 hosts  4/1"
row() { printf '   %-52s %8s %8s %5s\n' "$1" "$2" "$3" "$(ratio "$3" "$2")"; }
row "$NOOP_TASKS no-op tasks, DEFAULT" "$noop_default1" "$noop_default4"
row "$NOOP_TASKS no-op tasks, SPREAD" "$noop_spread1" "$noop_spread4"
row "$BURN_TASKS tasks of $BURN_US us CPU each, SPREAD" "$burn_spread1" "$burn_spread4"
echo "   (nodes that ran them on 4 hosts: $noop_default_nodes4, $noop_spread_nodes4, $burn_spread_nodes4;"
echo "   DEFAULT keeps tasks on the driver's node while it is under half busy)"
echo
echo "3. map-reduce: sum of squares, $MR_CHUNKS chunks x $MR_VALUES uint64 (best of $RUNS)   seconds"
printf '   %-58s %8s\n' "rayc, 1 host, $CPUS CPUs" "$mr_secs"
printf '   %-58s %8s\n' "Dask distributed, LocalCluster $CPUS processes x 1 thread" "$dask_secs"
printf '   %-58s %8s\n' "rayc / Dask (below 1: rayc is faster)" "$(ratio "$mr_secs" "$dask_secs")"
if [ "$DASK" = 1 ]; then
    if [ "$mr_total" = "$dask_total" ]; then same=yes; else same=NO; fi
    echo "   same answer: $same (rayc $mr_total, Dask $dask_total)"
    [ "$same" = yes ] || exit 1
fi
[ "$tcp_ok" = ok ] && [ "$ray_ok" = ok ]

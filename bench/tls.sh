#!/bin/sh
# bench/tls.sh - what TLS between the nodes costs (issue 16), TLS off and on
# in one run on the same two test hosts:
#
#   1. cross-node transfer: a store object put on host 1 and received by a
#      task on host 2 (build/bench/multihost xfer), best of RUNS;
#   2. the small-task round trip to host 2 (multihost's xfer_rtt, best of 20);
#   3. `ray up` of the 2-host cluster from scratch: with `tls: false`, and
#      with TLS (the CA and both node certificates issued and installed).
#
# Targets: transfer with TLS >= 0.8 of plain, round trip <= 1.2x plain.
# The hosts are deploy/testnet.sh network namespaces on this machine (they
# share its CPUs: the encryption competes with the copy on the same cores).
# Needs root.
#
#   bench/tls.sh                 RUNS=5 XFER_MIB=512 bench/tls.sh
#
# Knobs: RUNS (3), XFER_MIB (256), CPUS (per host; 2), RAYC_TESTNET_NAME
# (rtls), RAYC_TESTNET_SUBNET_PREFIX (10.82.0).
set -eu
cd "$(dirname "$0")/.."
ROOT=$PWD
RAY=$ROOT/bin/ray
MH=$ROOT/build/bench/multihost
RUNS=${RUNS:-3}
XFER_MIB=${XFER_MIB:-256}
CPUS=${CPUS:-2}

[ "$(id -u)" = 0 ] || { echo "tls.sh: needs root (test hosts); skipped"; exit 0; }
for f in "$RAY" "$MH" "$ROOT/build/bench/libmultihost_tasks.so"; do
    [ -f "$f" ] || { echo "tls.sh: $f is missing: build first (make)"; exit 1; }
done

W=$(mktemp -d /tmp/rayc-bench-tls.XXXXXX)
export RAYC_TESTNET_NAME=${RAYC_TESTNET_NAME:-rtls}
export RAYC_TESTNET_SUBNET_PREFIX=${RAYC_TESTNET_SUBNET_PREFIX:-10.82.0}
export RAYC_TESTNET_DIR=${RAYC_TESTNET_DIR:-$W/testnet}
export HOME=$W/home
mkdir -p "$HOME"
cleanup() {
    [ -f "$W/c.yaml" ] && "$RAY" down "$W/c.yaml" -y >/dev/null 2>&1
    deploy/testnet.sh down >/dev/null 2>&1 || true
    rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

BENCH=tls.sh
. bench/bench_lib.sh   # step, quiet (the cwd is the repository root)
now() { date +%s.%N; }

step "deploy/testnet.sh up 2 ($RAYC_TESTNET_NAME, $RAYC_TESTNET_SUBNET_PREFIX.0/24)"
quiet deploy/testnet.sh up 2
. "$RAYC_TESTNET_DIR/inventory.env"
export RAYC_KNOWN_HOSTS=$KNOWN_HOSTS
set -- $HOSTS
HEAD=$1
B=$2
set -- $NAMES
NS_A=$1

TLSENV="RAY_USE_TLS=1 RAY_TLS_SERVER_CERT=$W/nodes/tls/node.crt RAY_TLS_SERVER_KEY=$W/nodes/tls/node.key RAY_TLS_CA_CERT=$W/nodes/tls/ca.crt"

# env_for MODE: the client variables for MODE (on/off).
env_for() { [ "$1" = on ] && echo "$TLSENV" || echo "RAY_USE_TLS=0"; }

active_nodes() {
    env $(env_for "$1") RAY_AUTH_TOKEN_PATH=$W/nodes/token "$RAY" status --address "$HEAD:6379" \
        2>/dev/null | awk '/^Active:/ { a = 1; next } /^Pending:/ { a = 0 }
                           a && /^ *1 node_/ { n++ } END { print n + 0 }'
}

# cluster_up MODE: ray up of both hosts with TLS MODE; sets up_secs.
cluster_up() {
    tls=true
    [ "$1" = on ] || tls=false
    cat > "$W/c.yaml" <<EOF
cluster_name: bench-tls-$1
tls: $tls
provider:
  type: local
  head_ip: $HEAD
  worker_ips: [$B]
  auth_token_path: $W/nodes/token
  tls_dir: $W/nodes/tls
auth: {ssh_user: root, ssh_private_key: $KEY}
head_start_ray_commands:
  - $RAY stop --temp-dir $W/nodes/ray
  - $RAY start --head --port=6379 --temp-dir $W/nodes/ray --num-cpus $CPUS --object-store-memory 1200000000
worker_start_ray_commands:
  - $RAY stop --temp-dir $W/nodes/ray
  - $RAY start --address=\$RAY_HEAD_IP:6379 --temp-dir $W/nodes/ray --num-cpus $CPUS --object-store-memory 1200000000
EOF
    step "ray up, TLS $1"
    t0=$(now)
    quiet "$RAY" up "$W/c.yaml" -y --use-normal-shells
    up_secs=$(echo "$(now) - $t0" | bc)
    i=0
    until [ "$(active_nodes "$1")" = 2 ]; do
        i=$((i + 1))
        [ $i -lt 100 ] || { echo "tls.sh: never saw 2 active nodes" >&2; exit 1; }
        sleep 0.2
    done
    # The raylets learn about each other within a report period (1 s).
    sleep 1.5
}

cluster_down() {
    quiet "$RAY" down "$W/c.yaml" -y
    rm -f "$W/c.yaml"
    rm -rf "$W/nodes/ray"
}

node_id() {
    f=$(find "$W/nodes/ray" -path "*node_$1_*/node.info" | head -1)
    sed -n 's/^node_id \([0-9a-f]*\).*/\1/p' "$f" | head -1
}

# measure MODE: fills gbs_MODE, rtt_MODE, up_MODE.
measure() {
    cluster_up "$1"
    node=$(node_id "$B")
    step "transfer $XFER_MIB MiB host 1 -> host 2, $RUNS runs, TLS $1"
    ip netns exec "$NS_A" env $(env_for "$1") RAY_ADDRESS="$HEAD:6379" \
        RAY_AUTH_TOKEN_PATH="$W/nodes/token" "$MH" xfer "$XFER_MIB" "$node" "$RUNS" \
        > "$W/driver.log" 2>&1 || { cat "$W/driver.log" >&2; exit 1; }
    cat "$W/driver.log" >&2
    eval "gbs_$1=$(awk '$1 == "xfer" { print $4 }' "$W/driver.log")"
    eval "ok_$1=$(awk '$1 == "xfer" { print $5 }' "$W/driver.log")"
    eval "rtt_$1=$(awk '$1 == "xfer_rtt" { print $2 * 1e6 }' "$W/driver.log")"
    eval "up_$1=$up_secs"
    cluster_down
}

measure off
measure on

echo
echo "TLS between the nodes, off vs on (2 test hosts on one machine, $CPUS CPUs each):"
printf "  %-38s %12s %12s %8s\n" "" "TLS off" "TLS on" "on/off"
printf "  %-38s %12s %12s %8.2f  (target >= 0.8)\n" "cross-node transfer $XFER_MIB MiB (GB/s)" \
    "$gbs_off" "$gbs_on" "$(echo "$gbs_on / $gbs_off" | bc -l)"
printf "  %-38s %12.0f %12.0f %8.2f  (target <= 1.2)\n" "small-task round trip to host 2 (us)" \
    "$rtt_off" "$rtt_on" "$(echo "$rtt_on / $rtt_off" | bc -l)"
printf "  %-38s %12.2f %12.2f %8.2f\n" "ray up from scratch, 2 hosts (s)" \
    "$up_off" "$up_on" "$(echo "$up_on / $up_off" | bc -l)"
echo "  checksums: off $ok_off, on $ok_on"

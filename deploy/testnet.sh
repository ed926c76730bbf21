#!/usr/bin/env bash
# deploy/testnet.sh - a local multi-host test network for rayc.
#
# Usage (as root):
#   deploy/testnet.sh up N     create N test hosts, or grow/shrink the testnet to N
#   deploy/testnet.sh down     remove everything `up` created
#   deploy/testnet.sh status   list the hosts, their address and whether sshd is alive
#
# Each test host is a Linux network namespace (rayc-th1 .. rayc-thN) whose
# eth0 is one end of a veth pair; the other end (rayc-vethI) sits on a private
# bridge (rayc-br0) in the root namespace.  The bridge has PREFIX.1/24, host I
# has PREFIX.(10+I)/24 and a default route via PREFIX.1.  No NAT, no
# forwarding: traffic never leaves the private subnet.  Every host runs its own
# /usr/sbin/sshd (via `ip netns exec`) listening only on its address, port 22,
# with its own ed25519 host key; one generated client key is authorised for
# root on all hosts.  Processes in the namespaces share the filesystem and pid
# namespace with the machine.
#
# Environment:
#   RAYC_TESTNET_SUBNET_PREFIX  first three octets of the subnet (default 10.77.0;
#                               must be private: 10/8, 172.16/12 or 192.168/16)
#   RAYC_TESTNET_DIR            state dir (default /tmp/rayc-testnet)
#   RAYC_TESTNET_TIMEOUT        seconds `up` waits for the sshds (default 15)
#   RAYC_TESTNET_NAME           short name of this testnet (default rayc; at most
#                               5 of [a-z0-9]): namespaces NAME-thI, veths
#                               NAME-vethI, bridge NAME-br0, lock NAME-testnet.
#                               Two testnets with different names and subnets can
#                               be up on one machine at the same time.
#
# State dir layout:
#   inventory            one line per host: "<name> <address>"
#   inventory.env        shell vars: HOSTS NAMES KEY KNOWN_HOSTS BRIDGE_IP SSH_CONFIG
#   id_ed25519{,.pub}    client key (no passphrase)
#   authorized_keys      what every sshd accepts for root
#   known_hosts          "<address> ssh-ed25519 <key>" for every host
#   ssh_config           convenience: ssh -F ssh_config rayc-th1
#   rayc-thI/            ssh_host_ed25519_key{,.pub} sshd_config sshd.pid sshd.log
#
# `up N` is idempotent; `down` is idempotent.  Exit codes: 0 ok, 1 error
# (including "not root"), 2 usage.
set -Eeuo pipefail
# Say why errexit stopped us (only in the main shell, not in $(...) subshells).
trap '[[ $BASHPID != "$$" ]] || echo "$PROG: failed at line $LINENO: $BASH_COMMAND" >&2' ERR

PROG=testnet.sh
USAGE="usage: $PROG up N | down | status"

NET_NAME=${RAYC_TESTNET_NAME:-rayc}
[[ $NET_NAME =~ ^[a-z0-9]{1,5}$ ]] || { echo "$PROG: RAYC_TESTNET_NAME must be 1-5 of [a-z0-9]" >&2; exit 2; }
BRIDGE=$NET_NAME-br0
# Fixed locally-administered MAC: a bridge otherwise takes the lowest MAC of
# its ports, which changes as hosts come and go and leaves stale ARP entries.
BRIDGE_MAC=02:72:61:79:63:$(printf %02x $(( $(cksum <<<"$NET_NAME" | cut -d' ' -f1) % 256 )))
NS_PREFIX=$NET_NAME-th
VETH_PREFIX=$NET_NAME-veth
MAX_HOSTS=244                       # PREFIX.11 .. PREFIX.254
SSHD=/usr/sbin/sshd
SFTP_SERVER=/usr/lib/openssh/sftp-server
PRIVSEP_DIR=/run/sshd               # sshd refuses to start without it
LOCK_FILE=/run/lock/$NET_NAME-testnet.lock
# Only inserted when bridged traffic would otherwise be dropped (see ensure_firewall).
FW_RULE=(-i "$BRIDGE" -o "$BRIDGE" -m comment --comment $NET_NAME-testnet -j ACCEPT)

SUBNET_PREFIX=${RAYC_TESTNET_SUBNET_PREFIX:-10.77.0}
STATE_DIR=${RAYC_TESTNET_DIR:-/tmp/rayc-testnet}
WAIT_TIMEOUT=${RAYC_TESTNET_TIMEOUT:-15}
BRIDGE_IP=            # set by check_subnet
MARKER=.rayc-testnet  # marks a state dir as ours, so `down` may rm -rf it

# ---------------------------------------------------------------- helpers

die()  { echo "$PROG: $*" >&2; exit 1; }
log()  { echo "$PROG: $*" >&2; }
usage_error() { echo "$USAGE" >&2; exit 2; }

host_name() { echo "$NS_PREFIX$1"; }
host_addr() { echo "$SUBNET_PREFIX.$((10 + $1))"; }
host_veth() { echo "$VETH_PREFIX$1"; }
host_dir()  { echo "$STATE_DIR/$NS_PREFIX$1"; }
# eth0's MAC is fixed per host, so a recreated veth keeps the MAC that peers
# have cached for its address (a new random MAC would leave them with stale
# ARP entries for up to a minute).
host_mac()  { printf '02:72:61:79:%02x:%02x' $(($1 / 256)) $(($1 % 256)); }

ns_exists()   { [[ -e /run/netns/$1 ]]; }
link_exists() { ip link show dev "$1" >/dev/null 2>&1; }

# Write stdin to file $1 unless it already has exactly that content.
# Returns 0 when the file was (re)written, 1 when it was already up to date.
# (Compared in memory, so an unchanged file leaves its directory untouched.)
write_if_changed() {
    local f=$1 new old
    new=$(cat; echo .)            # the '.' keeps trailing newlines
    if [[ -f $f ]]; then
        old=$(cat -- "$f"; echo .)
        [[ $new != "$old" ]] || return 1
    fi
    printf '%s' "${new%.}" >"$f.tmp.$$"
    mv -f -- "$f.tmp.$$" "$f"
}

# Indices of all test hosts that exist in any form (namespace or state dir).
list_host_indices() {
    local p n
    for p in /run/netns/"$NS_PREFIX"* "$STATE_DIR/$NS_PREFIX"*; do
        n=${p##*/}
        if [[ $n =~ ^${NS_PREFIX}([1-9][0-9]*)$ ]]; then
            echo "${BASH_REMATCH[1]}"
        fi
    done | sort -n -u
}

# True if pid $1 exists and is not a zombie.  (Daemonised sshds are
# re-parented to pid 1, which may be slow to reap them.)
pid_running() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }             # field 3 (state) follows "(comm) "
    [[ ${stat%% *} != Z ]]
}

# Send TERM to a pid, wait up to ~2 s, then KILL.
kill_wait() {
    local pid=$1 n
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((n = 0; n < 100; n++)); do
        pid_running "$pid" || return 0
        sleep 0.02
    done
    kill -KILL "$pid" 2>/dev/null || true
}

# Kill every process whose network namespace is $1 (TERM, then KILL).
kill_ns_procs() {
    local ns=$1 sig pids n
    for sig in TERM KILL; do
        pids=$(ip netns pids "$ns" 2>/dev/null) || true
        [[ -n $pids ]] || return 0
        # shellcheck disable=SC2086
        kill -s "$sig" $pids 2>/dev/null || true
        for ((n = 0; n < 40; n++)); do
            pids=$(ip netns pids "$ns" 2>/dev/null) || true
            [[ -n $pids ]] || return 0
            sleep 0.05
        done
    done
    log "warning: processes left in $ns: $pids"
}

# ---------------------------------------------------------------- checks

require_root() {
    [[ $(id -u) -eq 0 ]] || die "must be run as root"
}

require_tools() {
    local t
    for t in ip ss ssh-keygen timeout flock; do
        command -v "$t" >/dev/null || die "missing tool: $t"
    done
    [[ -x $SSHD ]] || die "missing $SSHD (Debian package openssh-server)"
}

# The subnet must be a private /24 that no other interface already uses.
check_subnet() {
    local o1 o2 o3 clash
    [[ $SUBNET_PREFIX =~ ^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$ ]] ||
        die "RAYC_TESTNET_SUBNET_PREFIX must look like 10.77.0, got '$SUBNET_PREFIX'"
    o1=$((10#${BASH_REMATCH[1]})) o2=$((10#${BASH_REMATCH[2]})) o3=$((10#${BASH_REMATCH[3]}))
    ((o1 <= 255 && o2 <= 255 && o3 <= 255)) || die "bad subnet prefix '$SUBNET_PREFIX'"
    if ! ((o1 == 10 || (o1 == 172 && o2 >= 16 && o2 <= 31) || (o1 == 192 && o2 == 168))); then
        die "subnet prefix '$SUBNET_PREFIX' is not private (10/8, 172.16/12, 192.168/16)"
    fi
    SUBNET_PREFIX="$o1.$o2.$o3"
    BRIDGE_IP="$SUBNET_PREFIX.1"
    clash=$(ip -4 -o addr show | awk -v br="$BRIDGE" -v p="$SUBNET_PREFIX." \
        '$2 != br && index($4, p) == 1 { print $2 " " $4 }')
    [[ -z $clash ]] || die "subnet $SUBNET_PREFIX.0/24 already in use: $clash"
}

# Refuse to run from inside one of the test hosts (`down` would kill itself).
check_not_in_testnet() {
    local self ns
    self=$(readlink /proc/self/ns/net)
    for ns in /run/netns/"$NS_PREFIX"*; do
        [[ -e $ns ]] || continue
        if [[ $self == "net:[$(stat -L -c %i "$ns")]" ]]; then
            die "run me from the root network namespace, not from ${ns##*/}"
        fi
    done
}

# With UsePAM no, sshd rejects even key logins for a locked ('!') account.
warn_if_root_locked() {
    local pw
    pw=$(getent shadow root 2>/dev/null | cut -d: -f2) || return 0
    if [[ $pw == '!'* ]]; then
        log "warning: root's password is locked ('!' in /etc/shadow); sshd with UsePAM no" \
            "will refuse root logins. Unlock without a password: usermod -p '*' root"
    fi
}

# Serialise concurrent runs (fd 9 stays open until the script exits).
take_lock() {
    exec 9>"$LOCK_FILE"
    flock -w 60 9 || die "another $PROG is running (lock $LOCK_FILE)"
}

# ---------------------------------------------------------------- sshd

# Print the pid in host $1's pid file if it is a live /usr/sbin/sshd.
pidfile_sshd() {
    local pidf pid exe
    pidf="$(host_dir "$1")/sshd.pid"
    [[ -r $pidf ]] || return 1
    read -r pid <"$pidf" || return 1
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
    [[ $exe == "$SSHD" || $exe == "$SSHD (deleted)" ]] || return 1
    echo "$pid"
}

# True if host $1's sshd runs, and runs inside host $1's namespace.
sshd_alive() {
    local ns pid
    ns=$(host_name "$1")
    ns_exists "$ns" || return 1
    pid=$(pidfile_sshd "$1") || return 1
    [[ $(readlink "/proc/$pid/ns/net" 2>/dev/null) == "net:[$(stat -L -c %i "/run/netns/$ns")]" ]]
}

# Stop host $1's sshd listener: the one named by its pid file, plus any other
# process listening on port 22 in its namespace (e.g. after the state dir was
# lost).  Existing ssh sessions are left alone.
stop_sshd() {
    local i=$1 ns pid
    ns=$(host_name "$i")
    if pid=$(pidfile_sshd "$i"); then
        kill_wait "$pid"
    fi
    if ns_exists "$ns"; then
        for pid in $({ ss -N "$ns" -Htlnp 'sport = :22' 2>/dev/null || true; } |
            sed -n 's/.*pid=\([0-9]*\).*/\1/p' | sort -u); do
            kill_wait "$pid"
        done
    fi
    rm -f "$(host_dir "$i")/sshd.pid"
}

start_sshd() {
    local i=$1 ns dir n
    ns=$(host_name "$i")
    dir=$(host_dir "$i")
    [[ -d $PRIVSEP_DIR ]] || mkdir -m 0755 "$PRIVSEP_DIR"
    # (9>&-: the daemon must not inherit our lock)
    if ! ip netns exec "$ns" "$SSHD" -f "$dir/sshd_config" -E "$dir/sshd.log" 9>&-; then
        tail -n 5 "$dir/sshd.log" >&2 2>/dev/null || true
        die "sshd failed to start in $ns (log: $dir/sshd.log)"
    fi
    # sshd writes its pid file from the daemonised child; wait for it.
    for ((n = 0; n < 100; n++)); do
        sshd_alive "$i" && return 0
        sleep 0.02
    done
    die "sshd in $ns did not come up (log: $dir/sshd.log)"
}

write_sshd_config() {
    local i=$1 dir
    dir=$(host_dir "$i")
    cat <<EOF
# generated by deploy/testnet.sh for $(host_name "$i"); rewritten by every 'up'
ListenAddress $(host_addr "$i"):22
AddressFamily inet
HostKey "$dir/ssh_host_ed25519_key"
PidFile "$dir/sshd.pid"
AuthorizedKeysFile "$STATE_DIR/authorized_keys"
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
# the state dir may live under world-writable /tmp
StrictModes no
PrintMotd no
PrintLastLog no
# tests may open many connections at once
MaxStartups 100:30:200
# AcceptEnv and PermitUserEnvironment are left at sshd's defaults
Subsystem sftp $SFTP_SERVER
EOF
}

# ---------------------------------------------------------------- network

# Print the bridge's IPv4 address/prefix ("" if none or no bridge).
bridge_cidr() {
    { ip -4 -o addr show dev "$BRIDGE" 2>/dev/null || true; } | awk '{ print $4 }'
}

# A running testnet keeps its subnet: changing it needs a `down` first.
check_bridge_subnet() {
    local cur
    cur=$(bridge_cidr)
    if [[ -n $cur && $cur != "$BRIDGE_IP/24" ]]; then
        die "$BRIDGE has address $cur, not $BRIDGE_IP/24: run '$PROG down' before changing the subnet"
    fi
}

ensure_bridge() {
    if ! link_exists "$BRIDGE"; then
        ip link add name "$BRIDGE" address "$BRIDGE_MAC" type bridge stp_state 0 forward_delay 0
    fi
    [[ -d /sys/class/net/$BRIDGE/bridge ]] || die "$BRIDGE exists but is not a bridge"
    [[ -n $(bridge_cidr) ]] || ip addr add "$BRIDGE_IP/24" dev "$BRIDGE"
    ip link set dev "$BRIDGE" up
}

# With br_netfilter loaded, frames between bridge ports traverse iptables'
# FORWARD chain.  Only if that chain is not a plain ACCEPT (e.g. on Docker
# hosts) insert one rule accepting rayc-br0 -> rayc-br0 traffic; `down`
# removes it.  Nothing is ever forwarded off the bridge.
ensure_firewall() {
    local rules
    [[ $(cat /proc/sys/net/bridge/bridge-nf-call-iptables 2>/dev/null) == 1 ]] || return 0
    command -v iptables >/dev/null || return 0
    rules=$(iptables -S FORWARD 2>/dev/null) || return 0
    [[ $rules == "-P FORWARD ACCEPT" ]] && return 0
    iptables -C FORWARD "${FW_RULE[@]}" 2>/dev/null || iptables -I FORWARD 1 "${FW_RULE[@]}"
}

remove_firewall() {
    command -v iptables >/dev/null || return 0
    while iptables -C FORWARD "${FW_RULE[@]}" 2>/dev/null; do
        iptables -D FORWARD "${FW_RULE[@]}"
    done
}

# eth0 in namespace $1 and root-side $2 exist, are each other's peer, and
# eth0 has MAC $3.
veth_pair_ok() {
    local ns=$1 veth=$2 mac=$3 line
    link_exists "$veth" || return 1
    line=$(ip -n "$ns" -o link show dev eth0 2>/dev/null) || return 1
    [[ $line == *" link/ether $mac "* ]] || return 1
    [[ $line =~ eth0@if([0-9]+): ]] || return 1
    [[ ${BASH_REMATCH[1]} == "$(cat "/sys/class/net/$veth/ifindex")" ]]
}

# Namespace, veth pair, addresses and route of host $1.
ensure_host_net() {
    local i=$1 ns addr veth mac cur
    ns=$(host_name "$i") addr=$(host_addr "$i") veth=$(host_veth "$i") mac=$(host_mac "$i")
    ns_exists "$ns" || ip netns add "$ns"
    if ! veth_pair_ok "$ns" "$veth" "$mac"; then
        ip link del dev "$veth" 2>/dev/null || true
        ip -n "$ns" link del dev eth0 2>/dev/null || true
        # the peer is created directly inside the namespace, named eth0
        ip link add name "$veth" type veth peer name eth0 address "$mac" netns "$ns"
    fi
    ip link set dev "$veth" master "$BRIDGE" up
    ip -n "$ns" link set dev lo up
    cur=$(ip -n "$ns" -4 -o addr show dev eth0 | awk '{ print $4 }')
    if [[ $cur != "$addr/24" ]]; then
        ip -n "$ns" addr flush dev eth0
        ip -n "$ns" addr add "$addr/24" dev eth0
    fi
    ip -n "$ns" link set dev eth0 up
    ip -n "$ns" route replace default via "$BRIDGE_IP" dev eth0
}

# ---------------------------------------------------------------- hosts

# Host key + sshd_config of host $1; returns 0 if sshd must be (re)started.
ensure_host_files() {
    local i=$1 dir changed=1
    dir=$(host_dir "$i")
    mkdir -p "$dir"
    if [[ ! -s $dir/ssh_host_ed25519_key || ! -s $dir/ssh_host_ed25519_key.pub ]]; then
        rm -f "$dir"/ssh_host_ed25519_key{,.pub}
        ssh-keygen -q -t ed25519 -N '' -C "$(host_name "$i")" -f "$dir/ssh_host_ed25519_key"
        changed=0
    fi
    if write_sshd_config "$i" | write_if_changed "$dir/sshd_config"; then
        changed=0
    fi
    return "$changed"
}

ensure_host() {
    local i=$1 restart=0
    ensure_host_net "$i"
    if ensure_host_files "$i"; then
        restart=1
    fi
    if ((restart)) || ! sshd_alive "$i"; then
        stop_sshd "$i"
        start_sshd "$i"
        log "$(host_name "$i") $(host_addr "$i"): sshd started"
    fi
}

remove_host() {
    local i=$1 ns veth
    ns=$(host_name "$i") veth=$(host_veth "$i")
    stop_sshd "$i"
    if ns_exists "$ns"; then
        kill_ns_procs "$ns"
    fi
    ip link del dev "$veth" 2>/dev/null || true
    if ns_exists "$ns"; then
        ip netns del "$ns"
    fi
    rm -rf -- "$(host_dir "$i")"
    log "$ns removed"
}

# ---------------------------------------------------------------- state dir

# Create the state dir (refusing a non-empty dir that is not ours).
ensure_state_dir() {
    if [[ -d $STATE_DIR && ! -e $STATE_DIR/$MARKER ]] &&
        [[ -n $(ls -A "$STATE_DIR") ]]; then
        die "$STATE_DIR exists and is not a testnet state dir; set RAYC_TESTNET_DIR"
    fi
    mkdir -p "$STATE_DIR"
    touch "$STATE_DIR/$MARKER"
}

ensure_client_key() {
    local key=$STATE_DIR/id_ed25519
    if [[ ! -s $key || ! -s $key.pub ]]; then
        rm -f "$key" "$key.pub"
        ssh-keygen -q -t ed25519 -N '' -C rayc-testnet-client -f "$key"
    fi
    write_if_changed "$STATE_DIR/authorized_keys" <"$key.pub" || true
}

# inventory, inventory.env, known_hosts and ssh_config for hosts 1..$1.
write_inventory() {
    local n=$1 i names=() addrs=()
    for ((i = 1; i <= n; i++)); do
        names+=("$(host_name "$i")")
        addrs+=("$(host_addr "$i")")
    done
    for ((i = 0; i < n; i++)); do
        echo "${names[i]} ${addrs[i]}"
    done | write_if_changed "$STATE_DIR/inventory" || true
    {
        echo "# generated by deploy/testnet.sh"
        echo "HOSTS=\"${addrs[*]}\""
        echo "NAMES=\"${names[*]}\""
        echo "KEY=$(printf %q "$STATE_DIR/id_ed25519")"
        echo "KNOWN_HOSTS=$(printf %q "$STATE_DIR/known_hosts")"
        echo "SSH_CONFIG=$(printf %q "$STATE_DIR/ssh_config")"
        echo "BRIDGE_IP=$BRIDGE_IP"
    } | write_if_changed "$STATE_DIR/inventory.env" || true
    for ((i = 1; i <= n; i++)); do
        echo "$(host_addr "$i") $(cut -d' ' -f1,2 "$(host_dir "$i")/ssh_host_ed25519_key.pub")"
    done | write_if_changed "$STATE_DIR/known_hosts" || true
    {
        echo "# generated by deploy/testnet.sh; usage: ssh -F $STATE_DIR/ssh_config rayc-th1"
        for ((i = 0; i < n; i++)); do
            printf 'Host %s\n    HostName %s\n' "${names[i]}" "${addrs[i]}"
        done
        printf 'Host %s* %s.*\n' "$NS_PREFIX" "$SUBNET_PREFIX"
        printf '    User root\n    IdentityFile "%s"\n    IdentitiesOnly yes\n' "$STATE_DIR/id_ed25519"
        printf '    UserKnownHostsFile "%s"\n    StrictHostKeyChecking yes\n' "$STATE_DIR/known_hosts"
        printf '    BatchMode yes\n    LogLevel ERROR\n'
    } | write_if_changed "$STATE_DIR/ssh_config" || true
}

# True once $1:22 accepts a TCP connection and greets with an SSH banner.
ssh_port_open() {
    # shellcheck disable=SC2016  # $1 expands in the inner bash
    timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/22" && read -r -t 2 line <&3 && [[ $line == SSH-* ]]' \
        _ "$1" 2>/dev/null
}

# Poll (from the root namespace, across the bridge) until every address in
# "$@" answers on port 22, or RAYC_TESTNET_TIMEOUT expires.
wait_for_sshds() {
    local deadline=$((SECONDS + WAIT_TIMEOUT)) pending=("$@") still addr
    while true; do
        still=()
        for addr in "${pending[@]}"; do
            ssh_port_open "$addr" || still+=("$addr")
        done
        ((${#still[@]})) || return 0
        pending=("${still[@]}")
        ((SECONDS < deadline)) ||
            die "sshd not reachable on ${pending[*]} after ${WAIT_TIMEOUT}s (logs: $STATE_DIR/$NS_PREFIX*/sshd.log)"
        sleep 0.1
    done
}

# ---------------------------------------------------------------- commands

cmd_up() {
    local n=$1 i addrs=()
    if ! [[ $n =~ ^[1-9][0-9]*$ ]] || ((n > MAX_HOSTS)); then
        die "N must be 1..$MAX_HOSTS, got '$n'"
    fi
    check_subnet
    check_bridge_subnet
    check_not_in_testnet
    warn_if_root_locked
    ensure_state_dir
    ensure_client_key

    # shrink first, so the removed hosts' processes are gone before we go on
    for i in $(list_host_indices); do
        if ((i > n)); then
            remove_host "$i"
        fi
    done

    ensure_bridge
    ensure_firewall
    for ((i = 1; i <= n; i++)); do
        ensure_host "$i"
        addrs+=("$(host_addr "$i")")
    done
    write_inventory "$n"
    wait_for_sshds "${addrs[@]}"
    log "ready; source $STATE_DIR/inventory.env for HOSTS/KEY/KNOWN_HOSTS"
    cat "$STATE_DIR/inventory"
}

cmd_down() {
    local i link
    check_not_in_testnet
    for i in $(list_host_indices); do
        remove_host "$i"
    done
    # stray root-side veths (e.g. from an interrupted `up`)
    for link in $(ip -o link show | awk -F': ' '{ print $2 }' | cut -d@ -f1 |
        grep -E "^${VETH_PREFIX}[0-9]+$" || true); do
        ip link del dev "$link" 2>/dev/null || true
    done
    if link_exists "$BRIDGE"; then
        ip link del dev "$BRIDGE"
    fi
    remove_firewall
    if [[ -e $STATE_DIR/$MARKER ]]; then
        rm -rf -- "$STATE_DIR"
    elif [[ -d $STATE_DIR ]]; then
        log "warning: $STATE_DIR is not a testnet state dir; left alone"
    fi
    log "down"
}

cmd_status() {
    local i ns addr sshd indices
    indices=$(list_host_indices)
    if [[ -z $indices ]]; then
        echo "no test hosts (bridge $BRIDGE: $(link_exists "$BRIDGE" && echo present || echo absent))"
        return 0
    fi
    printf '%-12s %-15s %s\n' NAME ADDRESS SSHD
    for i in $indices; do
        ns=$(host_name "$i")
        addr=-
        if ns_exists "$ns"; then
            addr=$({ ip -n "$ns" -4 -o addr show dev eth0 2>/dev/null || true; } |
                awk '{ split($4, a, "/"); print a[1] }')
            addr=${addr:--}
        fi
        sshd=dead
        sshd_alive "$i" && sshd=alive
        printf '%-12s %-15s %s\n' "$ns" "$addr" "$sshd"
    done
}

main() {
    local cmd=${1:-}
    case $cmd in
        up)     [[ $# -eq 2 ]] || usage_error ;;
        down | status) [[ $# -eq 1 ]] || usage_error ;;
        -h | --help | help) echo "$USAGE"; exit 0 ;;
        *)      usage_error ;;
    esac
    require_root
    require_tools
    STATE_DIR=$(realpath -m -- "$STATE_DIR")
    [[ $STATE_DIR != / ]] || die "RAYC_TESTNET_DIR must not be /"
    take_lock
    case $cmd in
        up)     cmd_up "$2" ;;
        down)   cmd_down ;;
        status) cmd_status ;;
    esac
}

main "$@"

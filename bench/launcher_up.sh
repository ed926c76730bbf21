#!/bin/sh
# bench/launcher_up.sh - wall time of `ray up` on 1, 4 and 8 local test hosts,
# of a re-up of the unchanged 8-host cluster, and of the same setup steps run
# by Ansible (Debian package `ansible`, when installed) against the same hosts
# in the same run, printed as a table with ratios.  Needs root (test hosts).
#
#   bench/launcher_up.sh            # uses bin/ray of this checkout
#   RUNS=3 bench/launcher_up.sh     # best of 3 per measurement (default 1)
#
# Every cluster runs the real runtime: a file mount (a small directory), one
# setup command, `ray stop` + `ray start` on every node, head first, then the
# workers.  The Ansible playbook does the same: copy the directory, run the
# setup command, start the head, then the workers (forks = 32, rayc's default
# parallelism; pipelining on).
set -eu
cd "$(dirname "$0")/.."
ROOT=$PWD
RAY=$ROOT/bin/ray
RUNS=${RUNS:-1}
[ "$(id -u)" = 0 ] || { echo "launcher_up.sh: needs root (test hosts)"; exit 0; }
[ -x "$RAY" ] || { echo "launcher_up.sh: build first (make)"; exit 1; }

W=$(mktemp -d /tmp/rayc-bench-launcher.XXXXXX)
export RAYC_TESTNET_DIR=$W/testnet HOME=$W/home
mkdir -p "$HOME" "$W/src/sub"
cleanup() {
    for f in "$W"/*.yaml; do [ -f "$f" ] && "$RAY" down "$f" -y >/dev/null 2>&1; done
    deploy/testnet.sh down >/dev/null 2>&1 || true
    rm -rf "$W"
}
trap cleanup EXIT INT TERM

deploy/testnet.sh up 8 >/dev/null 2>&1
. "$RAYC_TESTNET_DIR/inventory.env"
export RAYC_KNOWN_HOSTS=$KNOWN_HOSTS
set -- $HOSTS
HEAD=$1
shift
for i in $(seq 20); do head -c 4096 /dev/urandom > "$W/src/sub/f$i"; done
echo "bench" > "$W/src/readme.txt"

# cluster_yaml NAME N: a cluster of the head and the first N-1 workers.
cluster_yaml() {
    workers=
    [ "$2" -le 1 ] || workers=$(echo $HOSTS_W | cut -d' ' -f1-$(($2 - 1)) | sed 's/ /, /g')
    cat > "$W/$1.yaml" <<EOF
cluster_name: $1
provider:
  type: local
  head_ip: $HEAD
  worker_ips: [$workers]
  auth_token_path: $W/nodes/token
auth: {ssh_user: root, ssh_private_key: $KEY}
file_mounts: {$W/nodes/app: $W/src}
setup_commands: ["mkdir -p $W/nodes/setup && echo ok > $W/nodes/setup/\$(hostname -I | tr -d ' ')"]
head_start_ray_commands:
  - $RAY stop --temp-dir $W/nodes/ray
  - $RAY start --head --port=6379 --temp-dir $W/nodes/ray --num-cpus 1
worker_start_ray_commands:
  - $RAY stop --temp-dir $W/nodes/ray
  - $RAY start --address=\$RAY_HEAD_IP:6379 --temp-dir $W/nodes/ray --num-cpus 1
EOF
}

now_ms() { date +%s%3N; }

# timed CMD...: runs CMD quietly, prints its wall time in seconds.
timed() {
    t0=$(now_ms)
    "$@" > "$W/last.log" 2>&1 || { echo "FAILED: $*" >&2; tail -20 "$W/last.log" >&2; exit 1; }
    t1=$(now_ms)
    echo "$t0 $t1" | awk '{ printf "%.2f", ($2 - $1) / 1000 }'
}

best() { tr ' ' '\n' | sort -n | head -1; }

# stop_all: stops every cluster of this run and forgets it, so the next
# measurement starts from scratch.
stop_all() {
    for f in "$W"/c*.yaml; do
        [ -f "$f" ] && "$RAY" down "$f" -y >/dev/null 2>&1
    done
    rm -rf "$HOME/.ray/launcher.db" "$W/nodes"
}

# rayc_up N [FLAGS]: best fresh `ray up` time of a cluster of N hosts.
rayc_up() {
    n=$1
    shift
    times=
    for r in $(seq "$RUNS"); do
        stop_all
        cluster_yaml "c$n" "$n"
        times="$times $(timed "$RAY" up "$W/c$n.yaml" -y "$@")"
    done
    echo $times | best
}

# rayc_reup [FLAGS]: best `ray up` time of the unchanged 8-host cluster.
rayc_reup() {
    times=
    for r in $(seq "$RUNS"); do times="$times $(timed "$RAY" up "$W/c8.yaml" -y "$@")"; done
    echo $times | best
}

HOSTS_W="$*"
t1=$(rayc_up 1)
t4=$(rayc_up 4)
t8=$(rayc_up 8)
re8=$(rayc_reup)
n1=$(rayc_up 1 --use-normal-shells)
n8=$(rayc_up 8 --use-normal-shells)
nre8=$(rayc_reup --use-normal-shells)
stop_all
login=$( (t0=$(now_ms); HOME=~root bash --login -c -i true >/dev/null 2>&1; echo $(( $(now_ms) - t0 ))) )

# ---------------------------------------------------------------- Ansible

# ansible_stop: stops what the playbook started, host by host.
ansible_stop() {
    for h in $HEAD $HOSTS_W; do
        ip netns exec "$(grep " $h\$" "$RAYC_TESTNET_DIR/inventory" | cut -d' ' -f1)" \
            "$RAY" stop --temp-dir "$W/nodes/ray" >/dev/null 2>&1 || true
    done
}

ans8=; ansre8=
if command -v ansible-playbook >/dev/null 2>&1; then
    {
        echo "[head]"; echo "$HEAD"
        echo "[workers]"; for h in $HOSTS_W; do echo "$h"; done
        echo "[all:vars]"
        echo "ansible_user=root"
        echo "ansible_ssh_private_key_file=$KEY"
        echo "ansible_ssh_common_args='-o UserKnownHostsFile=$KNOWN_HOSTS -o StrictHostKeyChecking=yes'"
        echo "ansible_python_interpreter=/usr/bin/python3"
    } > "$W/inventory"
    cat > "$W/ansible.cfg" <<EOF
[defaults]
forks = 32
host_key_checking = True
gathering = explicit
[ssh_connection]
pipelining = True
EOF
    cat > "$W/site.yml" <<EOF
- hosts: head
  tasks:
    - copy: {src: "$W/src/", dest: "$W/nodes/app/"}
    - shell: mkdir -p $W/nodes/setup && echo ok > $W/nodes/setup/\$(hostname -I | tr -d ' ')
    - shell: "RAY_AUTH_TOKEN_PATH=$W/nodes/token $RAY stop --temp-dir $W/nodes/ray; RAY_AUTH_TOKEN_PATH=$W/nodes/token $RAY start --head --port=6379 --temp-dir $W/nodes/ray --num-cpus 1"
- hosts: workers
  tasks:
    - copy: {src: "$W/src/", dest: "$W/nodes/app/"}
    - shell: mkdir -p $W/nodes/setup && echo ok > $W/nodes/setup/\$(hostname -I | tr -d ' ')
    - shell: "RAY_AUTH_TOKEN_PATH=$W/nodes/token $RAY stop --temp-dir $W/nodes/ray; RAY_AUTH_TOKEN_PATH=$W/nodes/token $RAY start --address=$HEAD:6379 --temp-dir $W/nodes/ray --num-cpus 1"
EOF
    head -c 64 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$W/token.new"
    mkdir -p "$W/nodes" && cp "$W/token.new" "$W/nodes/token" && chmod 600 "$W/nodes/token"
    export ANSIBLE_CONFIG=$W/ansible.cfg
    for r in $(seq "$RUNS"); do
        ansible_stop
        rm -rf "$W/nodes/app" "$W/nodes/ray"
        ans8="$ans8 $(timed ansible-playbook -i "$W/inventory" "$W/site.yml")"
    done
    ans8=$(echo $ans8 | best)
    for r in $(seq "$RUNS"); do
        ansre8="$ansre8 $(timed ansible-playbook -i "$W/inventory" "$W/site.yml")"
    done
    ansre8=$(echo $ansre8 | best)
    ansible_stop
fi

echo
echo "launcher: ray up on local test hosts (best of $RUNS; head, then workers in parallel;"
echo "$(nproc) CPUs; one login shell of the ssh user (root) costs ${login} ms here: Ray's"
echo "default runs every command in bash --login -i, --use-normal-shells does not)"
printf '  %-44s %8s %8s\n' "measurement (seconds)" "login" "normal"
printf '  %-44s %8s %8s\n' "ray up, 1 host (head only)" "$t1" "$n1"
printf '  %-44s %8s %8s\n' "ray up, 4 hosts" "$t4" "-"
printf '  %-44s %8s %8s\n' "ray up, 8 hosts" "$t8" "$n8"
printf '  %-44s %8s %8s\n' "ray up again, 8 hosts, unchanged" "$re8" "$nre8"
echo "$t8 $t1 $n8 $n1" | awk '{ printf "  8 hosts / 1 host: %.2fx (login shells), %.2fx (normal shells)\n", $1 / $2, $3 / $4 }'
if [ -n "$ans8" ]; then
    printf '  %-44s %8s\n' "ansible-playbook, 8 hosts, first run" "$ans8"
    printf '  %-44s %8s\n' "ansible-playbook, 8 hosts, second run" "$ansre8"
    echo "$ans8 $n8 $ansre8 $nre8" | awk '{ printf "  ansible / rayc (normal shells, as Ansible runs /bin/sh): first run %.1fx, second run %.1fx\n", $1 / $2, $3 / $4 }'
else
    echo "  ansible-playbook not installed (apt-get install ansible): no comparison"
fi

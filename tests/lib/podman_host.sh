#!/bin/sh
# tests/lib/podman_host.sh - make one deploy/testnet.sh test host able to run
# its own podman containers, as a separate machine would.
#
#   tests/lib/podman_host.sh SSHD_PID HOST_DIR
#
# Works inside the mount namespace of the host's sshd (every SSH session of
# the host lives there), so nothing changes for the rest of the machine:
#
# - `ip netns exec` gave that namespace a fresh /sys without the cgroup
#   hierarchies, and runc refuses to create a container without them: the
#   machine's v1 hierarchies and the v2 one are mounted again there.
# - The test hosts share one filesystem, hence one podman storage, where a
#   container name is unique: Ray's one container_name per node needs one
#   storage per host.  A copy of /etc/containers with a storage.conf and a
#   containers.conf pointing into HOST_DIR is bound over /etc/containers;
#   the machine's store stays visible as a read-only additional image store,
#   so an image imported once (deploy/docker_image.sh) is there on every host.
set -eu
pid=$1
dir=$2
mkdir -p "$dir/etc" "$dir/storage" "$dir/run" "$dir/tmp" "$dir/volumes"
cp -a /etc/containers/. "$dir/etc/"
cat >"$dir/etc/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$dir/storage"
runroot = "$dir/run"
[storage.options]
additionalimagestores = ["/var/lib/containers/storage"]
EOF
cat >"$dir/etc/containers.conf" <<EOF
[engine]
tmp_dir = "$dir/tmp"
volume_path = "$dir/volumes"
EOF

nsenter -t "$pid" -m sh -eu -c '
dir=$1
if ! grep -q " /sys/fs/cgroup/cpu " /proc/self/mountinfo; then
    mount -t tmpfs -o mode=755 tmpfs /sys/fs/cgroup
    for line in $(awk "\$9 == \"cgroup\" && \$5 ~ /^\/sys\/fs\/cgroup\// {print \$5 \"|\" \$NF}" /proc/1/mountinfo); do
        path=${line%%|*}
        opts=${line#*|}
        # Keep only the controller / name= options of the hierarchy.
        ctl=$(echo "$opts" | tr , "\n" | grep -v -E "^(rw|ro|relatime|noatime|nosuid|nodev|noexec)$" | paste -sd, -)
        mkdir -p "$path"
        mount -t cgroup -o "$ctl" cgroup "$path"
    done
    if awk "\$5 == \"/sys/fs/cgroup/unified\"" /proc/1/mountinfo | grep -q .; then
        mkdir -p /sys/fs/cgroup/unified
        mount -t cgroup2 cgroup2 /sys/fs/cgroup/unified
    fi
fi
mount --bind "$dir/etc" /etc/containers
' podman_host "$dir"

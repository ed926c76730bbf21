# serial
# timeout 2400
# `ray up` with Ray's `docker:` section on two test hosts (deploy/testnet.sh):
# podman (docker.use_podman) runs a container from a locally built Debian
# image (deploy/docker_image.sh, no registry) on every host, rayc's binaries
# get into it as Ray gets into a user's image (a file mount of `make dist`'s
# tarball and a setup command that installs it), `ray start` runs in the
# containers, a job sees a file only the image has, a second `ray up`
# reuses the containers, and `ray down` stops and removes them.
#
# The test hosts share this machine's filesystem and /sys: each host gets
# its own podman storage and the cgroup mounts runc needs, inside its sshd's
# mount namespace (tests/lib/podman_host.sh).  Needs root, podman, runc and
# debootstrap with a reachable Debian mirror (or the image already built).
source [file join [file dirname [info script]] .. lib harness.tcl]
source [file join [file dirname [info script]] .. lib testnet.tcl]
require_root

set ray_bin [rayc_bin ray]
set image localhost/rayc-test:bookworm
foreach tool {podman runc debootstrap nsenter tar} {
    if {[auto_execok $tool] eq ""} {
        skip_suite "$tool is not installed (deploy/install-deps.sh)"
    }
}
set r [run_cmd -timeout 1200 [file join $::harness::root deploy docker_image.sh] $image]
if {[dict get $r code] != 0} {
    skip_suite "the test image cannot be built here: [string trim [dict get $r out]]"
}
set r [run_cmd -timeout 300 make -C $::harness::root dist]
if {[dict get $r code] != 0} {
    skip_suite "make dist failed: [dict get $r out]"
}
set tarball [file join $::harness::root build dist rayc.tar.gz]

set inv [testnet_up 2]
set hosts [dict get $inv HOSTS]
set names [dict get $inv NAMES]
lassign $hosts h1 h2
set key [dict get $inv KEY]
set tn [file join $::harness::suite_tmp testnet]
set ::env(RAYC_KNOWN_HOSTS) [dict get $inv KNOWN_HOSTS]
foreach n $names {
    set pid [string trim [file_read $tn/$n/sshd.pid]]
    set r [run_cmd -timeout 60 [file join $::harness::root tests lib podman_host.sh] $pid \
        $tn/podman-$n]
    if {[dict get $r code] != 0} {
        skip_suite "cannot prepare podman on test host $n: [dict get $r out]"
    }
}
# A container from the image must run on a test host over SSH, or the
# suite cannot say anything about the launcher.
proc on_host {h cmd} {
    return [run_cmd -timeout 120 ssh -F $::tn/ssh_config -o BatchMode=yes root@$h $cmd]
}
set r [on_host $h1 "podman run --rm --runtime runc --ulimit nofile=1024:1024 --ulimit\
    nproc=1000:1000 --net=host $image cat /etc/rayc-image"]
if {[dict get $r code] != 0 || ![string match "*rayc-test image*" [dict get $r out]]} {
    skip_suite "podman cannot run a container on a test host here: [dict get $r out]"
}

set T [file join $::harness::suite_tmp nodes]
file mkdir $T

# The user's cluster YAML: a docker section with podman and this machine's
# own run options (runc, rlimits it may not raise), the dist tarball as a
# file mount, installed in the container by a setup command.  The token and
# TLS files live in the suite's directory: the hosts share this machine's
# /root.
proc docker_yaml {name args} {
    global T key h1 h2 image tarball
    set o [dict merge [list image $image] $args]
    set text "cluster_name: $name
provider:
  type: local
  head_ip: $h1
  worker_ips: \[$h2\]
  auth_token_path: $T/token
  tls_dir: $T/tls
auth:
  ssh_user: root
  ssh_private_key: $key
docker:
  image: [dict get $o image]
  container_name: rayc_node
  pull_before_run: false
  use_podman: true
  run_options: \[--runtime, runc, --ulimit, nofile=1024:1024, --ulimit, nproc=1000:1000\]
file_mounts:
  ~/rayc.tar.gz: $tarball
setup_commands:
  - tar -xzf ~/rayc.tar.gz -C /tmp && /tmp/rayc/install.sh --prefix /usr/local >/dev/null
  - echo setup >> ~/setup-runs
head_start_ray_commands:
  - ray stop
  - ray start --head --port=6379 --num-cpus 1 --dashboard-port 8265 --autoscaling-config=~/ray_bootstrap_config.yaml
worker_start_ray_commands:
  - ray stop
  - ray start --address=\$RAY_HEAD_IP:6379 --num-cpus 1
"
    set path [file join $T $name.yaml]
    file_write $path $text
    return $path
}

proc launcher {args} {
    return [run_cmd -timeout 900 $::ray_bin {*}$args]
}

proc launcher_ok {args} {
    set r [launcher {*}$args]
    if {[dict get $r code] != 0} {
        ::harness::assert_failed "exit 0 from ray $args" "exit [dict get $r code]: [dict get $r out]"
    }
    return [dict get $r out]
}

# The container names podman lists on host H.
proc containers {h} {
    set r [on_host $h "podman ps --format '{{.Names}} {{.Image}}'"]
    return [string trim [dict get $r out]]
}

# The container's id on host H ("" when none).
proc container_id {h} {
    set r [on_host $h "podman inspect -f '{{.Id}}' rayc_node 2>/dev/null"]
    return [string trim [dict get $r out]]
}

set main [docker_yaml ld]
at_suite_end {
    catch {run_cmd -timeout 300 $::ray_bin down $::main -y}
    foreach h $::hosts { catch {on_host $h "podman rm -f -t 0 rayc_node"} }
    # The test hosts share this machine's /root and /tmp.
    file delete -force /root/ray_bootstrap_config.yaml /root/ray_bootstrap_key.pem \
        /tmp/ray_tmp_mount/ld
}

test {docker-1.1 ray up starts a container on every host and Ray inside it} {
    set out [launcher_ok up $main -y]
    assert_match "*Cluster ld is up: 2 nodes up-to-date*" $out
    list [regexp -all {Container rayc_node started} $out] [containers $h1] [containers $h2]
} [list 2 "rayc_node $image" "rayc_node $image"]

test {docker-1.2 ray exec runs in the head's container: the image's file, rayc's ray there} {
    set out [launcher_ok exec $main {cat /etc/rayc-image; command -v ray}]
    assert_regexp {rayc-test image [0-9a-f]+} $out
    assert_match "*/usr/local/bin/ray*" $out
}

test {docker-1.3 --run-env host runs on the host, which has no /etc/rayc-image} {
    set r [launcher exec $main {test -e /etc/rayc-image && echo in-image || echo on-host} \
        --run-env host]
    string match "*on-host*" [dict get $r out]
} 1

test {docker-1.4 ray status in the container sees both nodes} {
    set out [launcher_ok exec $main {ray status}]
    regexp -all {\n 1 node_} $out
} 2

test {docker-1.5 a job submitted in the head's container runs there and sees the image's file} {
    set out [launcher_ok exec $main \
        {ray job submit --address http://127.0.0.1:8265 -- cat /etc/rayc-image}]
    assert_regexp {rayc-test image [0-9a-f]+} $out
    assert_match "*succeeded*" $out
}

test {docker-1.6 the cluster token reached each container, and the host mount dir holds the tarball} {
    set r [on_host $h2 "podman exec rayc_node cat $T/token"]
    list [string trim [dict get $r out]] \
        [file exists "/tmp/ray_tmp_mount/ld/~/rayc.tar.gz"]
} [list [string trim [file_read $::env(HOME)/.ray/launcher/ld/auth_token]] 1]

test {docker-1.7 ray submit copies the script into the head's container and runs it there} {
    file_write $T/probe.sh "cut -c1-15 /etc/rayc-image; echo arg=\$1\n"
    set out [launcher_ok submit $main $T/probe.sh hello]
    assert_match "*rayc-test image*" $out
    assert_match "*arg=hello*" $out
}

# Reads what the attached session printed; answers the first prompt.
proc attach_poll {} {
    append ::got [read $::ch]
    if {!$::sent && [string length $::got] > 0} {
        puts $::ch {echo ATTACHED-$((6*7)) $(cut -c1-15 /etc/rayc-image)}
        set ::sent 1
    }
    return [string match "*ATTACHED-42 rayc-test image*" $::got]
}

test {docker-1.8 ray attach opens the shell in the head's container through a pty} {
    set ::ch [open [list |script -qfec "$ray_bin attach $main" /dev/null 2>@1] r+]
    fconfigure $::ch -blocking 0 -buffering none
    set ::got ""
    set ::sent 0
    wait_for {[attach_poll]} 120000 "the attached shell's answer"
    puts $::ch "exit"
    catch {close $::ch}
    string match "*ATTACHED-42 rayc-test image*" $::got
} 1

test {docker-1.9 ray rsync-up puts a directory and a file into the head's container} {
    file mkdir $T/up/sub
    file_write $T/up/sub/a.txt "alpha\n"
    file_write $T/up/b.txt "beta\n"
    file_write $T/one.txt "one\n"
    set out1 [launcher_ok rsync-up $main $T/up ~/synced]
    set out2 [launcher_ok rsync-up $main $T/one.txt /opt/drop/]
    set in [launcher_ok exec $main {cat ~/synced/up/sub/a.txt ~/synced/up/b.txt /opt/drop/one.txt}]
    set host [launcher exec $main {test -e /opt/drop/one.txt && echo on-host || echo not-on-host} \
        --run-env host]
    assert_match "*in container rayc_node (2 files sent*" $out1
    assert_match "*/opt/drop/one.txt in container rayc_node (1 file sent*" $out2
    assert_match "*not-on-host*" [dict get $host out]
    regexp -all {alpha|beta|one} $in
} 3

test {docker-1.10 ray rsync-down brings a file and a directory's contents out of the container} {
    launcher_ok exec $main {mkdir -p /opt/made/d && echo made-in-container > /opt/made/d/x.txt && echo top > /opt/made/top.txt}
    file delete -force $T/down
    file mkdir $T/down
    launcher_ok rsync-down $main /opt/made/top.txt $T/down/
    launcher_ok rsync-down $main /opt/made/d/ $T/down/dcontents
    list [file_read $T/down/top.txt] [file_read $T/down/dcontents/x.txt]
} [list "top\n" "made-in-container\n"]

test {docker-2.1 a second ray up reuses the running containers and skips setup} {
    set before [list [container_id $h1] [container_id $h2]]
    set out [launcher_ok up $main -y]
    set r [on_host $h1 "podman exec rayc_node cat /root/setup-runs"]
    assert_equal $before [list [container_id $h1] [container_id $h2]] "the container ids"
    list [regexp -all {Container rayc_node already running, reused} $out] \
        [regexp -all {Configuration already up to date} $out] \
        [llength [split [string trim [dict get $r out]] \n]]
} {2 2 1}

test {docker-2.2 a container stopped behind the launcher's back is started again with setup} {
    on_host $h2 "podman stop -t 0 rayc_node"
    set out [launcher_ok up $main -y]
    set r [on_host $h2 "podman exec rayc_node cat /root/setup-runs"]
    list [regexp -all {Container rayc_node started} $out] \
        [regexp -all {Container rayc_node already running, reused} $out] \
        [string trim [dict get $r out]] [containers $h2]
} [list 1 1 setup "rayc_node $image"]

test {docker-2.3 another image in the YAML: Ray's error line, the running container kept} {
    # Another name for the same image: present locally, so no pull is tried.
    run_cmd podman tag $image localhost/rayc-test:other
    # (untag with the name: without one, podman removes every name of the image)
    at_suite_end {catch {run_cmd podman untag $::image localhost/rayc-test:other}}
    set other [docker_yaml ld image localhost/rayc-test:other]
    set before [container_id $h1]
    set out [launcher_ok up $other -y --no-restart]
    set log [file_read $::env(HOME)/.ray/launcher/ld/$h1.log]
    assert_match "*is running image $image instead of localhost/rayc-test:other*" $log
    assert_match "*Container rayc_node is running image*kept, as Ray does*" $out
    assert_equal $before [container_id $h1] "the head's container id"
}

test {docker-3.1 ray down stops Ray in the containers and removes them; a vanished container is said so} {
    docker_yaml ld
    on_host $h2 "podman stop -t 0 rayc_node"
    set out [launcher_ok down $main -y]
    assert_match "*Stopped the Ray runtime on 2 of 2 nodes*" $out
    list [regexp -all {container rayc_node stopped and removed} $out] \
        [regexp -all {container rayc_node not running} $out] \
        [containers $h1] [containers $h2] [container_id $h1]
} {1 1 {} {} {}}

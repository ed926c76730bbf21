# serial
# `ray up` / `ray down` and the companions against real sshds on four test
# hosts (deploy/testnet.sh): a head and three workers started with the real
# `ray start`, idempotent re-up, setup re-run only where it changed, failing
# and unreachable workers, a changed host key, a concurrent `ray up`, exec,
# rsync, submit, attach through a pty, the dashboard forward, and a `ray down`
# that leaves no rayc process on any host.  Needs root (test hosts).
source [file join [file dirname [info script]] .. lib harness.tcl]
source [file join [file dirname [info script]] .. lib testnet.tcl]
require_root

set ray_bin [expr {[info exists ::env(RAYC_LAUNCHER_BIN)] ? $::env(RAYC_LAUNCHER_BIN)
                   : [rayc_bin ray]}]
set node_ray [rayc_bin ray]
set probe [run_cmd $ray_bin up --help]
if {[string match "*not supported*" [dict get $probe out]] || [dict get $probe code] == 127} {
    skip_suite "bin/ray does not dispatch `ray up` yet: [dict get $probe out]"
}
foreach b {gcs_server raylet} {
    if {![file executable [rayc_bin $b]]} {
        skip_suite "bin/$b is not built"
    }
}

set inv [testnet_up 4]
set hosts [dict get $inv HOSTS]
lassign $hosts h1 h2 h3 h4
# The testnet's first three octets (RAYC_TESTNET_SUBNET_PREFIX); .99 is no host.
set pfx [join [lrange [split $h1 .] 0 2] .]
set nohost $pfx.99
set key [dict get $inv KEY]
set known [dict get $inv KNOWN_HOSTS]

# Everything the nodes write lives under T (one filesystem for all hosts).
set T [file join $::harness::suite_tmp nodes]
file mkdir $T/marks $T/src/sub
set raytmp $T/ray

# The cluster YAML: real `ray start` through the absolute bin/ray, temp dir
# and token inside the suite, a file mount with a filter, setup markers.
proc cluster_yaml {name workers args} {
    global T key node_ray raytmp h1
    set o [dict merge [list worker_setup {echo worker} extra {} timeout 20 head $h1] $args]
    # TLS (on by default) is tls_cluster.tcl's subject; here the dashboard
    # forward is driven with plain HTTP clients, so these clusters run plain.
    set text "cluster_name: $name
tls: false
provider:
  type: local
  head_ip: [dict get $o head]
  worker_ips: \[[join $workers {, }]\]
  auth_token_path: $T/token-$name
  tls_dir: $T/tls-$name
  ssh_wait_timeout_s: [dict get $o timeout]
auth:
  ssh_user: root
  ssh_private_key: $key
file_mounts:
  $T/mounted: $T/src
rsync_filter: \[.gitignore\]
setup_commands:
  - echo setup >> $T/marks/\$(hostname -I | tr -d ' ').setup
worker_setup_commands:
  - [dict get $o worker_setup]
head_start_ray_commands:
  - $node_ray stop --temp-dir $raytmp
  - $node_ray start --head --port=6379 --temp-dir $raytmp --num-cpus 1 --dashboard-port 8265 --autoscaling-config=~/ray_bootstrap_config.yaml
worker_start_ray_commands:
  - $node_ray stop --temp-dir $raytmp
  - $node_ray start --address=\$RAY_HEAD_IP:6379 --temp-dir $raytmp --num-cpus 1
[dict get $o extra]"
    set path [file join $T $name.yaml]
    file_write $path $text
    return $path
}

# Runs the launcher; returns run_cmd's dict.
proc launcher {args} {
    return [run_cmd -timeout 180 $::ray_bin {*}$args]
}

proc launcher_ok {args} {
    set r [launcher {*}$args]
    if {[dict get $r code] != 0} {
        ::harness::assert_failed "exit 0 from ray $args" "exit [dict get $r code]: [dict get $r out]"
    }
    return [dict get $r out]
}

# Number of setup runs recorded on host H.
proc marks {h} {
    set f $::T/marks/$h.setup
    return [expr {[file exists $f] ? [llength [split [string trim [file_read $f]] \n]] : 0}]
}

# Pids of every process whose command line mentions the suite's temp dir.
proc rayc_pids {} {
    return [::proctree::mentioning $::raytmp]
}

set main [cluster_yaml lt [list $h2 $h3 $h4]]
file_write $T/src/a.txt "alpha\n"
file_write $T/src/sub/b.txt "beta\n"
file_write $T/src/skip.log "left out by .gitignore\n"
file_write $T/src/.gitignore "*.log\n"
at_suite_end {
    catch {run_cmd -timeout 120 $::ray_bin down $::main -y}
    # The test hosts share this machine's /root: the head's bootstrap files.
    file delete -force /root/ray_bootstrap_config.yaml /root/ray_bootstrap_key.pem
    foreach p [rayc_pids] { catch {exec kill -9 $p} }
}

# ---------------------------------------------------------------------------
# Up, re-up, partial re-run
# ---------------------------------------------------------------------------

test {launcher-1.1 up from scratch brings up a head and three workers} {
    set out [launcher_ok up $main -y]
    set status [run_cmd -env [list RAY_AUTH_TOKEN_PATH $T/token-lt] $node_ray status \
        --address $h1:6379]
    assert_match "*Cluster lt is up: 4 nodes up-to-date (1 head, 3 workers)*" $out
    list [regexp -all {up-to-date: Ray runtime started} $out] \
        [regexp -all {\n 1 node_} [dict get $status out]] \
        [marks $h1] [marks $h2] [marks $h3] [marks $h4]
} {4 4 1 1 1 1}

test {launcher-1.2 each node got the cluster token, mode 0600, the same as the local copy} {
    set local [string trim [file_read $::env(HOME)/.ray/launcher/lt/auth_token]]
    file stat $T/token-lt st
    list [string length $local] [string trim [file_read $T/token-lt]] \
        [format %o [expr {$st(mode) & 0777}]]
} [list 64 [string trim [file_read $::env(HOME)/.ray/launcher/lt/auth_token]] 600]

test {launcher-1.3 file mounts arrive with .gitignore honoured} {
    list [file_read $T/mounted/a.txt] [file_read $T/mounted/sub/b.txt] \
        [file exists $T/mounted/skip.log]
} [list "alpha\n" "beta\n" 0]

test {launcher-1.4 get-head-ip and get-worker-ips read the recorded cluster} {
    list [launcher_ok get-head-ip $main] [launcher_ok get-worker-ips $main]
} [list $h1 [join [list $h2 $h3 $h4] \n]]

test {launcher-1.8 the head got Ray's ~/ray_bootstrap_config.yaml and a copy of the ssh key} {
    set cfg [file_read /root/ray_bootstrap_config.yaml]
    file stat /root/ray_bootstrap_key.pem st
    assert_match {*"cluster_name": "lt"*} $cfg
    assert_match {*"ssh_private_key": "~/ray_bootstrap_key.pem"*} $cfg
    assert_match {*"head_node_type": "local.cluster.node"*} $cfg
    assert_match {*"worker_setup_commands": \[*"echo worker"*} $cfg
    assert_match "*\"worker_ips\": \\\[*\"$h4\"*" $cfg
    assert_equal [file_read $key] [file_read /root/ray_bootstrap_key.pem] "the key's copy"
    format %o [expr {$st(mode) & 0777}]
} 600

test {launcher-1.5 a second up changes nothing} {
    set out [launcher_ok up $main -y]
    set status [run_cmd -env [list RAY_AUTH_TOKEN_PATH $T/token-lt] $node_ray status \
        --address $h1:6379]
    list [regexp -all {\[2-6/7\] [a-z-]+: Configuration already up to date} $out] \
        [marks $h1] [marks $h2] [regexp -all {\n 1 node_} [dict get $status out]]
} {4 1 1 4}

test {launcher-1.6 a changed worker setup command re-runs setup on the workers only} {
    set main [cluster_yaml lt [list $h2 $h3 $h4] worker_setup "echo changed"]
    set out [launcher_ok up $main -y]
    list [marks $h1] [marks $h2] [marks $h3] [marks $h4] \
        [regexp -all {Configuration already up to date} $out]
} {1 2 2 2 1}

test {launcher-1.7 a changed file mount re-syncs and re-runs setup} {
    file_write $T/src/a.txt "alpha two\n"
    launcher_ok up $main -y
    list [file_read $T/mounted/a.txt] [marks $h1] [marks $h2]
} [list "alpha two\n" 2 3]

# ---------------------------------------------------------------------------
# Companions
# ---------------------------------------------------------------------------

test {launcher-2.1 exec runs on the head and returns the command's exit code} {
    set r [launcher exec $main {echo "on $(hostname -I | tr -d ' ')"; exit 3}]
    assert_match "*on $h1*" [dict get $r out]
    dict get $r code
} 3

test {launcher-2.2 rsync-up and rsync-down move files with rsync's trailing-slash rule} {
    file_write $T/up/one.txt "one\n"
    launcher_ok rsync-up $main $T/up $T/remote-up
    launcher_ok rsync-up $main $T/up/ $T/remote-flat
    launcher_ok rsync-down $main $T/remote-flat/one.txt $T/down/
    list [file_read $T/remote-up/up/one.txt] [file exists $T/remote-flat/one.txt] \
        [file_read $T/down/one.txt]
} [list "one\n" 1 "one\n"]

test {launcher-2.3 submit uploads a script to the head's home and runs it with its arguments} {
    set name launcher-submit-[pid].sh
    file_write $T/$name "#!/bin/sh\necho \"args: \$1|\$2 on \$(hostname -I | tr -d ' ')\"\n"
    at_suite_end [list file delete -force /root/$name]
    set r [launcher submit $main $T/$name -- one "two words"]
    assert_equal 0 [dict get $r code] [dict get $r out]
    assert_contains "args: one|two words on $h1" [dict get $r out]
}

test {launcher-2.4 attach opens an interactive shell on the head through a pty} {
    set cmd [list $ray_bin attach $main]
    set ch [open [list |script -qfec [join $cmd] /dev/null 2>@1] r+]
    fconfigure $ch -blocking 0 -buffering none
    set got ""
    set deadline [expr {[clock milliseconds] + 20000}]
    set sent 0
    while {[clock milliseconds] < $deadline && ![string match "*ATTACHED-42 $h1*" $got]} {
        append got [read $ch]
        if {!$sent && [string length $got] > 0} {
            puts $ch {echo ATTACHED-$((6*7)) $(hostname -I | tr -d ' ')}
            set sent 1
        }
        ::harness::pause 100
    }
    puts $ch "exit"
    catch {close $ch}
    string match "*ATTACHED-42 $h1*" [string map [list \r ""] $got]
} 1

test {launcher-2.5 dashboard forwards a local port to the head's job server} {
    if {![file executable [rayc_bin ray_jobserver]]} {
        return skipped-no-jobserver
    }
    set port [free_port]
    set pid [start_bg dashboard $ray_bin dashboard $main -p $port]
    wait_for {[string match "*Successfully established connection.*" [file_read [bg_log $pid]]]} 20000
    set token [string trim [file_read $::env(HOME)/.ray/launcher/lt/auth_token]]
    set ok [http_request GET http://127.0.0.1:$port/api/version \
        -headers [list Authorization "Bearer $token"]]
    set denied [http_request GET http://127.0.0.1:$port/api/jobs/]
    stop_bg $pid INT
    list [dict get $ok status] [dict get $denied status]
} {200 401}

test {launcher-2.6 monitor follows the head's logs} {
    # Waits for the logs to show up rather than giving monitor a fixed 5 s
    # (ssh alone took longer than that on a loaded machine); it must still be
    # following when they have.
    set pid [start_bg monitor $ray_bin monitor $main --lines 5]
    wait_for {[string match *gcs_server.log* [file_read [bg_log $pid]]]} 60000 \
        "monitor prints the head's gcs_server.log"
    set alive [pid_alive $pid]
    stop_bg $pid
    set alive
} 1

set probe [file join $::harness::root tests integration fwd_probe.py]

test {launcher-2.7 dashboard keeps serving: 3000 sequential, then 2000 requests 64 at a time} {
    if {![file executable [rayc_bin ray_jobserver]]} {
        return skipped-no-jobserver
    }
    set port [free_port]
    set pid [start_bg dashboard-load $ray_bin dashboard $main -p $port]
    wait_for {[string match "*Successfully established connection.*" [file_read [bg_log $pid]]]} 20000
    set token [string trim [file_read $::env(HOME)/.ray/launcher/lt/auth_token]]
    set t0 [clock milliseconds]
    set seq [run_cmd -timeout 400 /usr/bin/python3 $probe http $port $token 3000 1]
    set t1 [clock milliseconds]
    set par [run_cmd -timeout 400 /usr/bin/python3 $probe http $port $token 2000 64]
    set t2 [clock milliseconds]
    stop_bg $pid INT
    puts "dashboard forward: 3000 sequential in [expr {$t1 - $t0}] ms,\
          2000 at 64 in parallel in [expr {$t2 - $t1}] ms"
    list [string trim [dict get $seq out]] [string trim [dict get $par out]]
} {{http ok=3000 failed=0} {http ok=2000 failed=0}}

test {launcher-2.8 exec --port-forward: half-close either way and resets free their slots} {
    set port [free_port]
    set pid [start_bg exec-fwd $ray_bin exec $main "/usr/bin/python3 $probe serve $port" \
        --port-forward $port]
    wait_for {[string match "*listening*" [file_read [bg_log $pid]]]} 20000
    set r [run_cmd -timeout 400 /usr/bin/python3 $probe halfclose $port 100]
    wait_for {![pid_alive $pid]} 30000
    assert_match "*served A=101 B=100 C=100*" [file_read [bg_log $pid]]
    string trim [dict get $r out]
} {halfclose A=100 B=100 C=100 final=ok}

# ---------------------------------------------------------------------------
# Failures
# ---------------------------------------------------------------------------

set bad [cluster_yaml ltbad [list $h2 $h3 $nohost] timeout 4 \
    worker_setup [string map [list H3 $h3] {if [ "$(hostname -I | tr -d ' ')" = H3 ]; then for i in $(seq 1 25); do echo out-$i; done; exit 7; fi}]]

test {launcher-3.1 a failing worker setup command shows its command, exit code and last 20 lines} {
    set r [launcher up $bad -y]
    set out [dict get $r out]
    assert_equal 1 [dict get $r code] $out
    assert_match "*$h3 (worker): update-failed*failed with exit code 7.*Last 20 lines of its output:*| out-6\n*| out-25*" $out
    assert_true {![string match "*| out-5\n*" $out]} "out-5 is beyond the last 20 lines, got: $out"
    assert_contains "`ray up` failed on 2 of 4 nodes: $h3 (worker), $nohost (worker). The other nodes are up." $out
}

test {launcher-3.2 an unreachable worker reports its timeout while the others come up} {
    set out [dict get $r out]
    assert_match "*$nohost (worker): update-failed*SSH not available after 4 s*" $out
    regexp -all "($h1|$h2) (head|worker) \\\[7/7\\\] up-to-date" $out
} 2

test {launcher-3.3 a changed host key is refused, naming the file and line to delete} {
    set kh $::env(HOME)/.ray/known_hosts
    set saved [file_read $kh]
    set key2 [lrange [lsearch -inline [split $saved \n] "$h2 *"] 1 end]
    set lines {}
    foreach line [split [string trimright $saved \n] \n] {
        lappend lines [expr {[lindex $line 0] eq $h3 ? "$h3 $key2" : $line}]
    }
    file_write $kh [join $lines \n]\n
    set r [launcher up $main -y]
    file_write $kh $saved
    set no [expr {[lsearch [split $saved \n] "$h3 *"] + 1}]
    assert_equal 1 [dict get $r code] [dict get $r out]
    assert_match "*$h3 (worker): update-failed*host key for $h3 has CHANGED*delete line $no of $kh*" [dict get $r out]
}

test {launcher-3.4 a second ray up of the same cluster while one runs is refused} {
    set slow [cluster_yaml ltslow {} extra "head_setup_commands: \[sleep 4\]"]
    set pid [start_bg slow-up $ray_bin up $slow -y]
    wait_for {[string match "*Running setup commands*" [file_read [bg_log $pid]]]} 20000
    set r [launcher up $slow -y]
    wait_for {![pid_alive $pid]} 30000
    launcher down $slow -y
    assert_equal 1 [dict get $r code] [dict get $r out]
    assert_contains "another `ray up` of cluster ltslow is running (pid $pid since " [dict get $r out]
}

# ---------------------------------------------------------------------------
# Down
# ---------------------------------------------------------------------------

test {launcher-4.1 down stops only the nodes whose start commands this cluster ran, naming the rest} {
    set r [launcher down $bad -y]
    set out [dict get $r out]
    assert_equal 0 [dict get $r code] $out
    assert_contains "Skipped 2 nodes that this cluster's launcher state does not show as set up by it (left untouched):\n  $h3 (worker): this cluster's `ray up` never started Ray there\n  $nohost (worker): this cluster's `ray up` never started Ray there\n" $out
    assert_contains "Stopped the Ray runtime on 2 of 2 nodes." $out
}

# The processes of the node at address H (its node dir names the address).
proc node_pids {h} {
    set out {}
    foreach p [rayc_pids] {
        if {![catch {file_read /proc/$p/cmdline} cmd] && [string first "node_$h\_" $cmd] >= 0} {
            lappend out $p
        }
    }
    return $out
}

test {launcher-4.2 ray-up brings the cluster back and down --workers-only keeps the head} {
    set up_link [file join [file dirname $ray_bin] ray-up]
    run_cmd -timeout 180 [expr {[file exists $up_link] ? $up_link : $ray_bin}] \
        {*}[expr {[file exists $up_link] ? {} : {up}}] $main -y
    set out [launcher_ok down $main -y --workers-only]
    wait_for {[llength [node_pids $h2]] == 0} 30000
    assert_match "*The head node will not be shut down. (due to --workers-only)*" $out
    set alive [llength [node_pids $h1]]
    assert_true {$alive > 0} "the head's processes: none left"
    list [launcher_ok get-head-ip $main] [launcher_ok get-worker-ips $main]
} [list $h1 {}]

test {launcher-4.3 down --keep-min-workers leaves the first min_workers workers} {
    set keep [cluster_yaml lt [list $h2 $h3 $h4] worker_setup "echo changed" \
        extra "min_workers: 1"]
    launcher_ok up $keep -y
    set out [launcher_ok down $keep -y --keep-min-workers]
    wait_for {[llength [node_pids $h3]] == 0} 30000
    assert_match "*1 worker nodes will not be shut down. (due to --keep-min-workers)*" $out
    set alive [llength [node_pids $h2]]
    assert_true {$alive > 0} "the kept worker's processes: none left"
    launcher_ok get-worker-ips $keep
} $h2

test {launcher-4.4 after ray down no rayc process is left on any host} {
    set before [llength [rayc_pids]]
    set out [launcher_ok down $main -y]
    wait_for {[llength [rayc_pids]] == 0} 30000 "processes left: [rayc_pids]"
    set head [launcher get-head-ip $main]
    # 4.3 stopped the head, h3 and h4 already: they are named as skipped, not
    # stopped again; only h2 (kept by --keep-min-workers) is left to stop.
    assert_true {$before > 0} "rayc processes before ray down"
    assert_contains "Stopped the Ray runtime on 1 of 1 node." $out
    assert_contains "  $h1 (head): already stopped by an earlier `ray down`\n  $h3 (worker): already stopped by an earlier `ray down`\n  $h4 (worker): already stopped by an earlier `ray down`\n" $out
    assert_equal 1 [dict get $head code] "get-head-ip after down: [dict get $head out]"
}

test {launcher-4.5 down of a cluster whose up failed at the head leaves another cluster's workers running} {
    set other [cluster_yaml lto [list $h2 $h3]]
    launcher_ok up $other -y
    set before [list [node_pids $h2] [node_pids $h3]]
    set failed [cluster_yaml ltfail [list $h2 $h3] head $nohost timeout 4]
    set up [launcher up $failed -y]
    set down [launcher down $failed -y]
    set after [list [node_pids $h2] [node_pids $h3]]
    launcher_ok down $other -y
    assert_match "*Skipped 3 nodes that this cluster's launcher state does not show as set up by it (left untouched):\n  $nohost (head): this cluster's `ray up` never started Ray there\n  $h2 (worker): this cluster never set it up\n  $h3 (worker): this cluster never set it up\n*" [dict get $down out]
    assert_true {[llength [lindex $before 0]] > 0 && [llength [lindex $before 1]] > 0} \
        "the other cluster's processes on hosts 2 and 3 before: $before"
    list [dict get $up code] [dict get $down code] \
        [expr {$before eq $after ? "same" : "before $before, after $after"}]
} {1 0 same}

suite_end

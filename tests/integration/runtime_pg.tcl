# Placement groups on three (then four) raylets on 127.0.0.1: where each
# strategy puts the bundles and that tasks of bundle i run on bundle i's
# node; all or nothing (a group that does not fit reserves nothing) and a
# pending group that becomes ready when a node joins; tasks in any bundle
# and an actor in a bundle; removal kills a running task, fails a queued one
# and frees the resources; bad input gives one-line errors; a group survives
# kill -9 of gcs_server without losing or doubling its bundles.  The driver
# is examples/pg.
source [file join [file dirname [info script]] .. lib harness.tcl]
source [file join [file dirname [info script]] .. lib cluster.tcl]
cluster_cleanup_at_end

set root [file dirname [file dirname [file dirname [file normalize [info script]]]]]
set pg_bin [file join $root examples pg pg]
if {![file executable $pg_bin]} {
    skip_suite "examples/pg was not built"
}

set store [list --object-store-memory 200000000]
set addr [start_head --num-cpus 2 {*}$store]
join_node $addr --node-ip-address 127.0.0.1 --num-cpus 2 {*}$store
join_node $addr --node-ip-address 127.0.0.1 --num-cpus 2 {*}$store
foreach dir [node_dirs] {
    watch_log [file join $dir logs raylet.log]
}

proc pg {args} {
    set r [run_cmd -timeout 90000 -env [list RAY_ADDRESS $::addr] $::pg_bin {*}$args]
    return [dict get $r out]
}

# node id -> node dir.
proc node_ids {} {
    set ids {}
    foreach dir [node_dirs] {
        regexp {node_id (\S+)} [file_read [file join $dir node.info]] -> id
        dict set ids $id $dir
    }
    return $ids
}

# The node dir of a worker's raylet socket path.
proc sock_node {path} {
    foreach dir [node_dirs] {
        if {[string first $dir $path] == 0} { return $dir }
    }
    return "?"
}

# From pg's output: a list of bundle node dirs, in bundle order, after
# checking that task i ran on bundle i's node.
proc layout_of {out} {
    set ids [node_ids]
    set bundles {}
    set tasks {}
    foreach line [split $out \n] {
        if {[regexp {^bundle (\d+) node (\S+)$} $line -> i id]} {
            dict set bundles $i [expr {[dict exists $ids $id] ? [dict get $ids $id] : "?"}]
        } elseif {[regexp {^task (\d+) where (\S+)$} $line -> i path]} {
            dict set tasks $i [sock_node $path]
        } elseif {[regexp {^task (\d+) error (.*)$} $line -> i err]} {
            ::harness::assert_failed "task $i ran" $err
        }
    }
    assert_equal [dict size $bundles] [dict size $tasks] "a task per bundle in:\n$out"
    dict for {i dir} $bundles {
        assert_equal $dir [dict get $tasks $i] "task $i ran on bundle $i's node"
    }
    return [dict values $bundles]
}

proc distinct {list} { llength [lsort -unique $list] }

# The CPU usage of `ray status` ("2.0/8.0"), and what it says about
# placement groups ("(0.0 used of 2.0 reserved in placement groups)" or "").
proc cpu_line {} {
    foreach line [split [ray_ok status --address $::addr] \n] {
        if {[regexp {^ (\S+) CPU(?: (\(.*\)))?$} $line -> usage pg]} { return [list $usage $pg] }
    }
    return {}
}
proc cpu_usage {} { lindex [cpu_line] 0 }

test {runtime-pg-1.1 three nodes are alive and see each other} {
    wait_for {[llength [status_active [ray_ok status --address $addr]]] == 3} 20000 \
        "three active nodes"
    wait_for {[views_complete [node_dirs]]} 20000 "every raylet to see the other two"
    cpu_usage
} {0.0/6.0}

test {runtime-pg-1.2 STRICT_SPREAD: one bundle per node, bundle i's task on bundle i's node} {
    set out [pg layout STRICT_SPREAD 3 1]
    assert_contains "wait RAY_OK" $out
    distinct [layout_of $out]
} 3

test {runtime-pg-1.3 STRICT_PACK: every bundle on one node} {
    set out [pg layout STRICT_PACK 2 1]
    assert_contains "wait RAY_OK" $out
    distinct [layout_of $out]
} 1

test {runtime-pg-1.4 PACK: one node when it fits, else as few as possible} {
    set two [pg layout PACK 2 1]
    set three [pg layout PACK 3 1]
    list [distinct [layout_of $two]] [distinct [layout_of $three]]
} {1 2}

test {runtime-pg-1.5 SPREAD: distinct nodes where possible} {
    set out [pg layout SPREAD 3 1]
    distinct [layout_of $out]
} 3

test {runtime-pg-2.1 all or nothing: a group that does not fit stays pending and reserves nothing} {
    # Four bundles on four distinct nodes, with three nodes: three would fit.
    set out [pg pending four STRICT_SPREAD 4 1]
    assert_contains "wait RAY_ERR_TIMEOUT" $out
    # The GCS charges a placed bundle to its node's usage at once, before
    # the raylet reports it; so once the GCS has the group (it logs it
    # pending) and has placed none of it, the usage tells the truth.
    set glog [lindex [glob $::env(RAY_TMPDIR)/session_2*/node_*/logs/gcs_server.log] 0]
    set re {placement group (\S+) four: 4 bundles, strategy \d+, pending}
    wait_for {[regexp $re [file_read $glog]]} 30000 "the GCS to hold the group"
    regexp $re [file_read $glog] -> hex
    set mentions [regexp -all -line -inline "^.*placement group $hex.*\$" [file_read $glog]]
    assert_equal 1 [llength $mentions] "the GCS only logged the group pending:\n[join $mentions \n]"
    cpu_usage
} {0.0/6.0}

test {runtime-pg-2.2 the pending group becomes ready when a fourth node joins} {
    join_node $addr --node-ip-address 127.0.0.1 --num-cpus 2 {*}$store
    watch_log [file join [lindex [node_dirs] end] logs raylet.log]
    set out [pg waitname four 30]
    assert_contains "wait RAY_OK" $out
    set n [distinct [layout_of $out]]
    wait_for {[cpu_usage] eq "4.0/8.0"} 20000 "the four bundles in the usage"
    set removed [pg removename four]
    wait_for {[cpu_usage] eq "0.0/8.0"} 20000 "the bundles given back"
    list $n [string trim $removed]
} {4 {remove RAY_OK}}

test {runtime-pg-3.1 tasks in any bundle and an actor in bundle 0 run on the group's node} {
    set out [pg work]
    set b0 ""
    set where {}
    foreach line [split $out \n] {
        if {[regexp {^bundle 0 node (\S+)$} $line -> id]} { set b0 [dict get [node_ids] $id] }
        if {[regexp {^(anytask|actor) \d+ where (\S+)$} $line -> what path]} {
            lappend where $what [expr {[sock_node $path] eq $b0}]
        }
    }
    assert_match "*actor_after_remove 0 error RAY_ERR_ACTOR_DIED *placement group*was removed*" $out
    set where
} {anytask 1 anytask 1 anytask 1 anytask 1 anytask 1 anytask 1 actor 1}

test {runtime-pg-3.2 removal kills the running task, fails the queued one, frees the bundle} {
    set out [pg kill]
    assert_contains "started 1" $out
    assert_match "*running RAY_ERR_WORKER_CRASHED task pg_sleep failed: its placement group * was removed*" $out
    assert_match "*queued RAY_ERR_UNSCHEDULABLE task pg_sleep cannot run: its placement group * was removed*" $out
    wait_for {[cpu_usage] eq "0.0/8.0"} 20000 "the bundle given back"
    cpu_usage
} {0.0/8.0}

test {runtime-pg-3.3 a task blocked on a nested task of its 1-CPU bundle gives the CPU back} {
    set out [pg nested]
    assert_contains "wait RAY_OK" $out
    regexp {nested 0 (where|error) ([^\n]*)} $out -> verdict detail
    assert_match "*remove RAY_OK*" $out
    set verdict
} where

test {runtime-pg-4.1 bad input: one-line errors, nothing created} {
    set got {}
    foreach line [split [string trim [pg bad]] \n] {
        regexp {^bad (\S+) (\S+) (.*)$} $line -> what verdict msg
        lappend got $what $verdict
        assert_true {[string length $msg] > 10} "a message for $what"
    }
    set got
} {zero_bundles refused empty_bundle refused zero_bundle refused negative refused strategy refused bundle_index refused bundle_index_neg refused actor_bundle_index refused wait_null RAY_ERR_INVALID}

test {runtime-pg-5.1 a group survives kill -9 of gcs_server: bundles neither lost nor doubled} {
    set out [pg pending keep STRICT_PACK 2 1]
    assert_contains "wait RAY_OK" $out
    wait_for {[cpu_usage] eq "2.0/8.0"} 20000 "the group reserved"
    set gdir [lindex [glob $::env(RAY_TMPDIR)/session_2*/node_127.0.0.1_*/gcs.db] 0]
    set gpid [node_pid [file tail [file dirname $gdir]] gcs_server]
    set cmdline [split [string trimright [file_read /proc/$gpid/cmdline] \0] \0]
    set log [file dirname $gdir]/logs/gcs_server.log
    set log_off [file size $log]
    exec kill -9 $gpid
    wait_for {![pid_alive $gpid]} 20000
    set newpid [start_bg gcs_restarted {*}$cmdline]
    file_write [file dirname $gdir]/pids/gcs_server.pid $newpid\n
    wait_for {[regexp -all {re-registered} [file_read $log]] >= 4} 15000 "raylets re-registered"
    set out [pg waitname keep 20]
    assert_contains "wait RAY_OK" $out
    assert_equal 1 [distinct [layout_of $out]] "nodes of the STRICT_PACK bundles: $out"
    # Reports after the restart carry the raylets' own truth: read the usage
    # once every raylet's first report has reached the new GCS.
    wait_for {[regexp -all {first resource report since it registered} \
                   [string range [file_read $log] $log_off end]] >= 4} 15000 \
        "a resource report of every raylet after the restart"
    assert_equal {2.0/8.0 {(0.0 used of 2.0 reserved in placement groups)}} [cpu_line]
    assert_equal {remove RAY_OK} [string trim [pg removename keep]]
    wait_for {[cpu_usage] eq "0.0/8.0"} 20000 "the bundles given back"
}

test {runtime-pg-6.1 a task in a GPU bundle sees its device in CUDA_VISIBLE_DEVICES} {
    # The only node with GPUs (2 of them, declared) joins now.
    join_node $addr --node-ip-address 127.0.0.1 --num-cpus 1 --num-gpus 2 {*}$store
    wait_for {[llength [status_active [ray_ok status --address $addr]]] == 5} 20000 "five nodes"
    wait_for {[views_complete [node_dirs]]} 20000 "every raylet to see the GPU node"
    set out [pg gpu]
    assert_match "*wait RAY_OK*" $out
    assert_true {[regexp {cuda RAY_OK [01]\n?$} $out]} "a device index in:\n$out"
}

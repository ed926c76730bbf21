# The runtime against a real `ray start --head`: the tiny_demo example as a
# plain driver (RAY_ADDRESS) and as a job of the job server, the job's worker
# processes and their end, and `ray stop` cleaning up workers and shared
# memory.  Error paths of the API are covered by build/tests/test_runtime_*.
source [file join [file dirname [info script]] .. lib harness.tcl]
source [file join [file dirname [info script]] .. lib cluster.tcl]
cluster_cleanup_at_end

set root [file dirname [file dirname [file dirname [file normalize [info script]]]]]
set demo_dir [file join $root examples tiny_demo]
set demo [file join $demo_dir tiny_demo]
if {![file executable $demo]} {
    skip_suite "examples/tiny_demo was not built"
}

set port [free_port]
set dport [free_port]
ray_ok start --head --node-ip-address 127.0.0.1 --port $port --dashboard-port $dport --num-cpus 2
set addr 127.0.0.1:$port
set node_dir [lindex [node_dirs] end]
foreach f {raylet.log gcs_server.log} {
    watch_log [file join $node_dir logs $f]
}

# Pids of the ray_worker processes of this suite's node.
proc node_workers {} {
    set pids {}
    foreach f [glob -nocomplain /proc/\[0-9\]*/cmdline] {
        if {[catch {set fh [open $f rb]; set cmd [read $fh]; close $fh}]} {
            continue
        }
        if {[string match "*ray_worker*" $cmd] && [string first $::node_dir $cmd] >= 0} {
            lappend pids [lindex [file split $f] 2]
        }
    }
    return $pids
}

# The node's shared-memory files (the object store arena).
proc node_shm_files {} {
    set id [string range [lindex [regexp -inline {node_id (\S+)} \
        [file_read [file join $::node_dir node.info]]] 1] 0 15]
    return [glob -nocomplain /dev/shm/rayc_${id}_*]
}

test {runtime-1.1 tiny_demo computes the squares of 0..9 as tasks} {
    set r [run_cmd -env [list RAY_ADDRESS $addr] $demo 10]
    list [dict get $r code] [lindex [split [dict get $r out] \n] end]
} {0 {sum of squares of 0..9: 285}}

test {runtime-1.2 the job's workers are gone after its driver exits} {
    wait_for {[llength [node_workers]] == 0} 30000 "workers of the ended job"
    assert_contains "ended: stopping its" [file_read [file join $node_dir logs raylet.log]]
}

test {runtime-1.3 a driver without RAY_ADDRESS finds the cluster started on this host} {
    set r [run_cmd -env {RAY_ADDRESS {}} $demo 4]
    list [dict get $r code] [lindex [split [dict get $r out] \n] end]
} {0 {sum of squares of 0..3: 14}}

test {runtime-1.4 a wrong token is refused with one clear line} {
    set r [run_cmd -env [list RAY_ADDRESS $addr RAY_AUTH_TOKEN not-the-token-0123456789] $demo 3]
    assert_match "*token was refused*" [dict get $r out]
    dict get $r code
} 1

test {runtime-1.5 an unreachable cluster is a connection error, not a hang} {
    set r [run_cmd -timeout 30 -env [list RAY_ADDRESS 127.0.0.1:[free_port]] $demo 3]
    assert_match "*cannot reach the GCS*" [dict get $r out]
    dict get $r code
} 1

test {runtime-1.6 tiny_demo runs as a job: ray job submit --working-dir examples/tiny_demo} {
    set r [ray -timeout 120 job submit --address http://127.0.0.1:$dport \
        --working-dir $demo_dir -- ./tiny_demo 5]
    assert_equal 0 [dict get $r code] [dict get $r out]
    assert_contains "sum of squares of 0..4: 30" [dict get $r out]
    assert_contains "succeeded" [dict get $r out]
}

test {runtime-1.7 ray stop kills running workers and removes the store's shared memory} {
    set pid [start_bg busy_driver -env [list RAY_ADDRESS $addr] $demo 1000000]
    wait_for {[llength [node_workers]] > 0} 30000 "workers of the busy driver"
    set workers [node_workers]
    assert_true {[llength [node_shm_files]] > 0}
    ray_ok stop
    wait_for {[llength [node_workers]] == 0} 30000 "workers after ray stop"
    wait_for {![pid_alive $pid]} 30000 "the driver notices"
    assert_match "*RAY_ERR_CONNECTION*" [file_read [bg_log $pid]]
    node_shm_files
} {}

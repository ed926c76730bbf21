# The runtime across nodes: three raylets on 127.0.0.1 (a head and two joined
# nodes, each with its own node dir and ports).  SPREAD tasks reach every
# node, node affinity runs on its node (hard to a dead node: unschedulable;
# soft: falls back), and large objects cross nodes both ways with the right
# checksum.  The driver is examples/multinode.
source [file join [file dirname [info script]] .. lib harness.tcl]
source [file join [file dirname [info script]] .. lib cluster.tcl]
cluster_cleanup_at_end

set root [file dirname [file dirname [file dirname [file normalize [info script]]]]]
set mn_dir [file join $root examples multinode]
set mn [file join $mn_dir multinode]
if {![file executable $mn]} {
    skip_suite "examples/multinode was not built"
}

set store [list --object-store-memory 1000000000]
set addr [start_head --num-cpus 2 {*}$store]
join_node $addr --node-ip-address 127.0.0.1 --num-cpus 2 {*}$store
join_node $addr --node-ip-address 127.0.0.1 --num-cpus 2 {*}$store
foreach dir [node_dirs] {
    watch_log [file join $dir logs raylet.log]
}

# node id -> node dir, for the nodes of this suite.
proc node_ids {} {
    set ids {}
    foreach dir [node_dirs] {
        regexp {node_id (\S+)} [file_read [file join $dir node.info]] -> id
        dict set ids $id $dir
    }
    return $ids
}

proc mn {args} {
    set r [run_cmd -timeout 180000 -env [list RAY_ADDRESS $::addr] $::mn {*}$args]
    return [dict get $r out]
}

# The node dir a "where" line (a worker's raylet socket path) belongs to.
proc where_node {line} {
    foreach dir [node_dirs] {
        if {[string first $dir [lindex $line 1]] == 0} { return $dir }
    }
    return "?"
}

test {runtime-multi-1.1 three nodes are alive} {
    wait_for {[llength [dict keys [node_ids]]] == 3} 20000 "three node dirs"
    wait_for {[llength [status_active [ray_ok status --address $addr]]] == 3} 20000 \
        "three active nodes in ray status"
} {}

test {runtime-multi-1.2 SPREAD tasks reach every node} {
    # The raylets learn about each other from the GCS (they log it).
    wait_for {[views_complete [node_dirs]]} 20000 "every raylet to see the other two"
    set nodes {}
    foreach line [split [mn spread 30] \n] {
        if {[string match "where *" $line]} { dict incr nodes [where_node $line] }
    }
    lsort [dict keys $nodes]
} [lsort [node_dirs]]

test {runtime-multi-1.3 hard node affinity runs on that node} {
    set ok 0
    dict for {id dir} [node_ids] {
        set out [mn affinity $id 0]
        if {[string match "status RAY_OK $dir*" $out]} { incr ok }
    }
    set ok
} 3

test {runtime-multi-2.1 a 50 MiB put on the head is summed by a task on another node} {
    mn bigarg 50 [lindex [lsort [dict keys [node_ids]]] end]
} "checksum ok"

test {runtime-multi-2.2 a 50 MiB return value made on another node is read here} {
    mn bigret 50 [lindex [lsort [dict keys [node_ids]]] end]
} "returned 52428800 bytes, content ok"

test {runtime-multi-3.1 hard node affinity to a dead node is unschedulable; soft falls back} {
    # Stop the newest joined node's raylet and wait until the GCS knows.
    set victim ""
    dict for {id dir} [node_ids] {
        if {![file exists [file join $dir logs gcs_server.log]]} { set victim $id; set vdir $dir }
    }
    set pid [string trim [file_read [file join $vdir pids raylet.pid]]]
    exec kill -TERM $pid
    wait_for {[llength [status_active [ray_ok status --address $addr]]] == 2} 30000 \
        "the node to be gone from ray status"
    foreach dir [node_dirs] {
        if {$dir ne $vdir} {
            wait_for {$victim ni [view_alive_ids $dir]} 20000 "[file tail $dir] to see the node gone"
        }
    }
    list [lindex [mn affinity $victim 0] 1] [lindex [mn affinity $victim 1] 1]
} {RAY_ERR_UNSCHEDULABLE RAY_OK}

test {runtime-multi-4.1 a task no node can run stays pending under Demands, then runs on a node that joins} {
    set pid [start_bg infeasible -env [list RAY_ADDRESS $addr] $mn custom unicorn 1 120]
    set demand "*\n {'CPU': 1.0, 'unicorn': 1.0}: 1+ pending tasks/actors*"
    wait_for {[string match $demand [ray_ok status --address $addr]]} 20000 \
        "the unicorn demand in ray status"
    assert_contains "cannot be scheduled right now" [file_read [bg_log $pid]]
    set before [node_dirs]
    join_node $addr --node-ip-address 127.0.0.1 --num-cpus 1 --resources {{"unicorn": 2}}
    wait_for {[string match "*status RAY_OK*" [file_read [bg_log $pid]]]} 30000 \
        "the task to run once a unicorn node joined"
    set line [lindex [split [string trim [file_read [bg_log $pid]]] \n] end]
    set ran [where_node [lrange $line 1 end]]
    set unicorn_dir ""
    foreach dir [node_dirs] {
        if {$dir ni $before} { set unicorn_dir $dir }
    }
    wait_for {![string match $demand [ray_ok status --address $addr]]} 30000 \
        "the demand to leave ray status"
    expr {$ran eq $unicorn_dir}
} 1

test {runtime-multi-5.1 an actor on another node answers there and ray_actor_kill ends it for good} {
    # An alive node other than the head (the driver's raylet is the head's).
    set target ""
    foreach line [status_active [ray_ok status --address $addr]] {
        if {![string match "*head*" $line] && [regexp {node_([0-9a-f]+)} $line -> id]} {
            set target $id
        }
    }
    set tdir [dict get [node_ids] $target]
    set out [mn actorkill $target]
    regexp {where (\S+)} $out -> where
    assert_match "$tdir*" $where
    list [regexp -inline {before \S+ \d+} $out] \
        [regexp -inline {kill \S+} $out] [regexp -inline {after \S+} $out]
} {{{before RAY_OK 1}} {{kill RAY_OK}} {{after RAY_ERR_ACTOR_DIED}}}

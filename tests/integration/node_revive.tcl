# serial
# A raylet killed with -9 comes back through `ray start`: the same command
# on that host cleans the dead node's leftovers (its job agent or job
# server, registry entry, shm arena, sockets, pid files), tells the GCS it
# is dead and starts a new node under a fresh node id -- for a joined node
# (`ray start --address`) and for the head (`ray start --head`, whose
# gcs_server still runs and keeps the cluster).  Two test hosts.  Needs root.
source [file join [file dirname [info script]] .. lib harness.tcl]
source [file join [file dirname [info script]] .. lib cluster.tcl]
source [file join [file dirname [info script]] .. lib testnet.tcl]
require_root

set root [file dirname [file dirname [file dirname [file normalize [info script]]]]]
set mn [file join $root examples multinode multinode]
if {![file executable $mn]} {
    skip_suite "examples/multinode was not built"
}
testnet_cluster 2 revive RAY_health_check_period_ms 500 RAY_health_check_failure_threshold 4
lassign $hosts h1 h2

at_suite_end {
    foreach h $hosts { catch {on $h $ray_bin stop --force} }
}

proc status_text {} { return [on_ok $::h1 $::ray_bin status] }

# "id ip" of every Active node of `ray status`, sorted by ip.
proc active_nodes {} {
    set out {}
    foreach line [split [status_text] \n] {
        if {[regexp {^ 1 node_([0-9a-f]+) \(([0-9.]+)} $line -> id ip]} { lappend out [list $ip $id] }
    }
    return [lsort -index 0 $out]
}

# The registered node dir (in the node registry) of host IP; one expected.
proc registered {ip} {
    set dirs {}
    foreach link [glob -nocomplain $::env(RAYC_NODE_REGISTRY)/$ip\_*] { lappend dirs [file readlink $link] }
    return $dirs
}

proc node_id_of {dir} {
    regexp {node_id (\S+)} [file_read $dir/node.info] -> id
    return $id
}

proc pid_in {dir name} { return [string trim [file_read $dir/pids/$name.pid]] }

# The shm files of node ID (the raylet's arena and anything else it made).
proc shm_of {id} { return [glob -nocomplain /dev/shm/rayc_[string range $id 0 15]_*] }

# Hosts that `multinode spread N` on host 1 reached, sorted.
proc spread_hosts {n} {
    set out [on_ok $::h1 $::mn spread $n]
    set ips {}
    foreach line [split $out \n] {
        if {[regexp {^where .*/node_([0-9.]+)_[0-9]+/} $line -> ip]} { lappend ips $ip }
    }
    return [lsort -unique $ips]
}

# Waits until `ray status` lists node ID under Recent failures.
proc wait_dead {id} {
    wait_for {[string match "*node_$id * DEAD*" [status_text]]} 30000 "node $id marked dead"
}

# ---------------------------------------------------------------- a joined node

test {revive-1.1 a head and a node on two hosts} {
    on_ok $h1 $ray_bin start --head --num-cpus 1 --auth-token-file $token_file
    on_ok $h2 $ray_bin start --address $h1:6379 --num-cpus 2
    llength [active_nodes]
} 2

test {revive-1.2 after kill -9, the raylet's own command line is refused with the way back} {
    set ::old2 [lindex [registered $h2] 0]
    set ::old2_id [node_id_of $::old2]
    set pid [pid_in $::old2 raylet]
    set cmd [split [string trimright [file_read /proc/$pid/cmdline] "\0"] "\0"]
    exec kill -9 $pid
    wait_dead $::old2_id
    set r [on $h2 {*}$cmd]
    assert_equal 1 [dict get $r code] [dict get $r out]
    assert_match "*was marked dead*run `ray start` again*" [file_read $::old2/logs/raylet.log]
}

test {revive-1.3 ray start --address again brings the node back under a fresh id and cleans up} {
    set agent [pid_in $::old2 ray_jobserver]
    set out [on_ok $h2 $ray_bin start --address $h1:6379 --num-cpus 2]
    set new [registered $h2]
    set new_id [node_id_of [lindex $new 0]]
    set ids [lmap n [active_nodes] {lindex $n 1}]
    assert_match "*Cleaned up node [string range $::old2_id 0 15]*" $out
    assert_true {$new_id ne $::old2_id} "the new node's id"
    assert_true {$new_id in $ids} "the new id among the active nodes"
    assert_true {$::old2_id ni $ids} "the old id among the active nodes"
    set cmdline [file_read /proc/[pid_in [lindex $new 0] ray_jobserver]/cmdline]
    assert_true {![string match "*--port 52365 *" $cmdline]} "the new job agent's command line: $cmdline"
    list [llength $new] [pid_alive $agent] [shm_of $::old2_id] \
        [file exists $::old2/sockets] [file exists $::old2/pids/raylet.pid]
} {1 0 {} 0 0}

test {revive-1.4 the new node runs tasks} {
    spread_hosts 20
} [list $h1 $h2]

# ---------------------------------------------------------------- the head

test {revive-2.1 after kill -9 of the head's raylet, ray start --head starts a new head on its GCS} {
    set ::old1 [lindex [registered $h1] 0]
    set ::old1_id [node_id_of $::old1]
    set gcs [pid_in $::old1 gcs_server]
    set js [pid_in $::old1 ray_jobserver]
    exec kill -9 [pid_in $::old1 raylet]
    set out [on_ok $h1 $ray_bin start --head --num-cpus 1 --auth-token-file $token_file]
    set nodes [active_nodes]
    set head [lindex $nodes 0]
    assert_match "*Cleaned up node [string range $::old1_id 0 15]*" $out
    set head_id [lindex $head 1]
    assert_true {$head_id ne $::old1_id} "the new head's node id"
    set status [status_text]
    assert_match "*node_$::old1_id * DEAD*" $status
    list [pid_alive $gcs] [pid_alive $js] [llength $nodes] [lindex $head 0] [shm_of $::old1_id]
} [list 1 0 2 $h1 {}]

test {revive-2.2 the new head runs tasks and its job server answers} {
    list [spread_hosts 20] [dict get [on $h1 $ray_bin job list --address http://127.0.0.1:8265] code]
} [list [list $h1 $h2] 0]

test {revive-2.3 ray stop on both hosts leaves no process, registry entry or shm file behind} {
    set ids [lmap n [active_nodes] {lindex $n 1}]
    lappend ids $::old1_id $::old2_id
    foreach h [list $h2 $h1] { on_ok $h $ray_bin stop }
    set left [::proctree::mentioning $tmp/session_]
    set shm {}
    foreach id $ids { lappend shm {*}[shm_of $id] }
    list $left [glob -nocomplain $::env(RAYC_NODE_REGISTRY)/*] $shm
} {{} {} {}}

suite_end

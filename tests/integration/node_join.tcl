# serial
# What `ray status` shows is what the scheduler uses: a head and two nodes on
# three test hosts; a driver started the moment `ray status` shows a join
# (or a death) already places its SPREAD tasks by it, because raylets learn
# joins and deaths from the GCS's NODE channel, not from a periodic refresh.
# Needs root (test hosts).
source [file join [file dirname [info script]] .. lib harness.tcl]
source [file join [file dirname [info script]] .. lib cluster.tcl]
source [file join [file dirname [info script]] .. lib testnet.tcl]
require_root

set root [file dirname [file dirname [file dirname [file normalize [info script]]]]]
set mn [file join $root examples multinode multinode]
if {![file executable $mn]} {
    skip_suite "examples/multinode was not built"
}
testnet_cluster 3 join RAY_health_check_period_ms 500 RAY_health_check_failure_threshold 4
lassign $hosts h1 h2 h3

# On host 1: asks `ray status` back to back, with no pause, until its CPU
# line reads USAGE (e.g. "0.0/6.0"), then at once runs `multinode spread N`
# (one shell loop: the point is to start the driver the moment `ray status`
# shows the change).  Returns "IP COUNT ..." sorted by IP, or the output
# when the driver failed.
proc spread_after_status {usage n} {
    set script {until "$0" status | grep -qF " $1 CPU"; do :; done; exec "$2" spread "$3"}
    set r [on $::h1 sh -c $script $::ray_bin $usage $::mn $n]
    if {[dict get $r code] != 0} { return [dict get $r out] }
    set counts [dict create]
    foreach line [split [dict get $r out] \n] {
        if {[regexp {^where .*/node_([0-9.]+)_[0-9]+/} $line -> ip]} { dict incr counts $ip }
    }
    return [lsort -stride 2 [dict get $counts]]
}

at_suite_end {
    foreach h $hosts { catch {on $h $ray_bin stop --force} }
}

# Starts a node of the cluster on host IP in the background (`ray start` waits
# for its raylet to register; the test watches `ray status` meanwhile).
proc join_bg {ip} {
    set ns [lindex $::names [lsearch $::hosts $ip]]
    start_bg join-$ip -env $::envs ip netns exec $ns $::ray_bin start --address $::h1:6379 \
        --num-cpus 2
}

test {join-1.1 a driver started as soon as ray status shows a second node's CPUs uses it} {
    on_ok $h1 $ray_bin start --head --num-cpus 2 --auth-token-file $token_file
    watch_log [glob $tmp/session_2*/node_$h1\_*/logs/raylet.log]
    join_bg $h2
    spread_after_status 0.0/4.0 60
} [list $h1 30 $h2 30]

test {join-1.2 a driver started as soon as ray status shows 6 CPUs spreads over all three hosts} {
    join_bg $h3
    spread_after_status 0.0/6.0 90
} [list $h1 30 $h2 30 $h3 30]

test {join-1.3 a driver started as soon as ray status shows a death never sends a task there} {
    set head_log [glob $tmp/session_2*/node_$h1\_*/logs/raylet.log]
    # Host 1's raylet drops its connections to the others when a job ends.
    wait_for {[string match "*job 02000000 ended*" [file_read $head_log]]} 30000
    set p3 [node_pid node_$h3\_* raylet]
    exec kill -9 $p3
    wait_for {![pid_alive $p3]} 20000
    set spread [spread_after_status 0.0/4.0 90]
    # A task sent to the dead node would have been retried elsewhere.
    list $spread [regexp -all {retrying task} [file_read $head_log]]
} [list [list $h1 45 $h2 45] 0]

suite_end

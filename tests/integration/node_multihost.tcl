# serial
# A head on one test host and nodes on two others, started over ssh; `ray stop`
# on one host leaves the other hosts' nodes running.  Needs root (test hosts).
source [file join [file dirname [info script]] .. lib harness.tcl]
source [file join [file dirname [info script]] .. lib cluster.tcl]
source [file join [file dirname [info script]] .. lib testnet.tcl]
require_root

set inv [testnet_up 3]
set hosts [dict get $inv HOSTS]
set key [dict get $inv KEY]
set known [dict get $inv KNOWN_HOSTS]
set tmp $::env(RAY_TMPDIR)
set token_file $tmp/cluster_token
# `ray start --auth-token-file` reads the file; it creates only ~/.ray/auth_token.
file_write $token_file "multi-test-token-[pid]-[clock microseconds]\n"
set ray_bin [rayc_bin ray]

# Runs a shell command on test host ADDR over ssh with the suite's environment.
proc on_host {addr cmd {timeout 60}} {
    global key known tmp token_file
    set envs "RAY_TMPDIR=$tmp RAY_AUTH_TOKEN_PATH=$token_file HOME=$tmp\
        RAYC_NODE_REGISTRY=$::env(RAYC_NODE_REGISTRY)\
        RAY_health_check_period_ms=500 RAY_health_check_failure_threshold=4"
    return [run_cmd -timeout $timeout ssh -i $key -o UserKnownHostsFile=$known \
        -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=5 \
        root@$addr "env $envs $cmd"]
}

proc on_host_ok {addr cmd} {
    set r [on_host $addr $cmd]
    if {[dict get $r code] != 0} {
        ::harness::assert_failed "exit 0 on $addr: $cmd" "exit [dict get $r code]: [dict get $r out]"
    }
    return [dict get $r out]
}

at_suite_end {
    foreach h $hosts { catch {on_host $h "$ray_bin stop --force" 30} }
}

lassign $hosts h1 h2 h3

test {multi-1.1 a head on host 1 and nodes on hosts 2 and 3 make one cluster} {
    on_host_ok $h1 "$ray_bin start --head --num-cpus 1 --auth-token-file $token_file"
    on_host_ok $h2 "$ray_bin start --address $h1:6379 --num-cpus 2"
    on_host_ok $h3 "$ray_bin start --address $h1:6379 --num-cpus 3"
    set out [on_host_ok $h1 "$ray_bin status"]
    set active [status_active $out]
    list [llength $active] [status_usage $out CPU] \
        [llength [lsearch -all $active "*($h1, head)"]] \
        [llength [lsearch -all $active "*($h2)"]] [llength [lsearch -all $active "*($h3)"]]
} {3 0.0/6.0 1 1 1}

test {multi-1.2 each node's files live in its own node directory} {
    llength [glob -nocomplain -type d $tmp/session_2*/node_$h1\_* $tmp/session_2*/node_$h2\_* \
        $tmp/session_2*/node_$h3\_*]
} 3

test {multi-1.3 ray stop on host 2 stops only host 2's node (its raylet and job agent)} {
    set p1 [node_pid node_$h1\_* raylet]
    set p3 [node_pid node_$h3\_* raylet]
    set p2 [node_pid node_$h2\_* raylet]
    set out [on_host_ok $h2 "$ray_bin stop"]
    wait_for {![pid_alive $p2]} 20000
    set status [on_host_ok $h3 "$ray_bin status --address $h1:6379"]
    assert_match "*received SIGTERM*" [lindex [status_failures $status] 0] "ray status: $status"
    list [string trim $out] [pid_alive $p1] [pid_alive $p3] [llength [status_active $status]]
} {{Stopped all 2 Ray processes.} 1 1 2}

test {multi-1.4 the GCS is reachable only with the token from another host} {
    set r [on_host $h3 "RAY_AUTH_TOKEN=bad-token-0123456789 $ray_bin status --address $h1:6379"]
    assert_equal 1 [dict get $r code] [dict get $r out]
    assert_contains "refused the token" [dict get $r out]
}

test {multi-1.5 ray stop on the head host stops the head and leaves host 3 running} {
    set p3 [node_pid node_$h3\_* raylet]
    set out [on_host_ok $h1 "$ray_bin stop"]
    assert_regexp {^Stopped all [0-9]+ Ray processes\.$} [string trim $out]
    assert_true {[pid_alive $p3]} "host 3's raylet (pid $p3) still runs"
}

suite_end

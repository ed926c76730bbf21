# The programs of bench/multihost.sh work (a smoke test; no timings are
# checked): tcp_xfer moves bytes with the right checksum, and the multihost
# driver's transfer, task and map-reduce commands succeed on a head and a
# joined node on 127.0.0.1, with the map-reduce's total computed here too
# (and by the Dask script when Dask is installed).
source [file join [file dirname [info script]] .. lib harness.tcl]
source [file join [file dirname [info script]] .. lib cluster.tcl]
cluster_cleanup_at_end

set root [file dirname [file dirname [file dirname [file normalize [info script]]]]]
set mh [file join $root build bench multihost]
set tcp [file join $root build bench tcp_xfer]
if {![file executable $mh] || ![file executable $tcp]} {
    skip_suite "build/bench/multihost or tcp_xfer was not built"
}

proc mh {args} {
    set r [run_cmd -timeout 120 $::mh {*}$args]
    if {[dict get $r code] != 0} {
        ::harness::assert_failed "exit 0 from multihost $args" [dict get $r out]
    }
    return [dict get $r out]
}

# The line of TEXT that starts with WORD.
proc line_of {text word} {
    foreach line [split $text \n] {
        if {[lindex $line 0] eq $word} { return $line }
    }
    return ""
}

# The map-reduce's total for M chunks of K values, as multihost.h defines it.
proc mr_total {m k} {
    set s 0
    for {set j 0} {$j < $m * $k} {incr j} {
        set v [expr {($j * 2654435761) & 0xffffffff}]
        set s [expr {($s + $v * $v) % (1 << 64)}]
    }
    return $s
}

test {bench-multihost-1.1 tcp_xfer moves 4 MiB over loopback with the right checksum and reports ok} {
    set port [free_port]
    set pid [start_bg recv $tcp recv $port 2]
    set r [run_cmd -timeout 30 $tcp send 127.0.0.1 $port 4194304 2]
    wait_for {![pid_alive $pid]} 20000 "the receiver to exit"
    set line [line_of [dict get $r out] tcp]
    list {*}[lrange $line 0 1] [lindex $line 4]
} {tcp 4194304 ok}

set addr [start_head --num-cpus 2 --object-store-memory 200000000]
join_node $addr --node-ip-address 127.0.0.1 --num-cpus 2 --object-store-memory 200000000
wait_for {[llength [status_active [ray_ok status --address $addr]]] == 2} 20000 "two nodes"
set other ""
foreach dir [node_dirs] {
    if {![file exists [file join $dir logs gcs_server.log]]} {
        regexp {node_id (\S+)} [file_read [file join $dir node.info]] -> other
    }
}

test {bench-multihost-2.1 xfer: 4 MiB put here reach a task on the other node intact} {
    set line [line_of [mh xfer 4 $other 2] xfer]
    list [lindex $line 1] [lindex $line 4]
} {4194304 ok}

test {bench-multihost-2.2 tasks: SPREAD tasks of 100 us reach both nodes} {
    set line [line_of [mh tasks 200 100 spread 8] tasks]
    list [lindex $line 1] [lindex $line 4]
} {200 2}

test {bench-multihost-2.3 mapreduce: the total of 4 chunks of 1000 values is right} {
    lindex [line_of [mh mapreduce 4 1000 1] mapreduce] 1
} [mr_total 4 1000]

if {[catch {exec /usr/bin/python3 -c "import distributed, numpy"}]} {
    skip_test {bench-multihost-3.1 the Dask script gives the same total} \
        "python3-distributed or python3-numpy is not installed"
} else {
    test {bench-multihost-3.1 the Dask script gives the same total} {
        set r [run_cmd -timeout 120 /usr/bin/python3 \
                   [file join $root bench multihost_dask.py] 2 4 1000 1]
        lindex [line_of [dict get $r out] dask] 1
    } [mr_total 4 1000]
}

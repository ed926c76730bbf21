# ray start / status / stop on this host: a head and two more nodes on
# loopback, failure detection, GCS restart, token and frame checks.
source [file join [file dirname [info script]] .. lib harness.tcl]
source [file join [file dirname [info script]] .. lib cluster.tcl]
cluster_cleanup_at_end

# Fast health checks so a dead raylet is noticed in about 2 s (daemons inherit these).
set env(RAY_health_check_period_ms) 500
set env(RAY_health_check_failure_threshold) 4

test {node-1.1 ray status without a cluster says so and exits 1} {
    set r [ray status]
    assert_match "*Could not find any running Ray instance*" [dict get $r out]
    dict get $r code
} 1

set head [start_head --num-cpus 1 --resources {{"gadget": 2}}]
set gcs_port [lindex [split $head :] 1]

test {node-1.2 a head alone shows one active node with its resources} {
    set out [ray_ok status]
    list [llength [status_active $out]] [status_usage $out CPU] [status_usage $out gadget]
} {1 0.0/1.0 0.0/2.0}

test {node-1.3 two more nodes join: status lists 3 nodes and summed resources} {
    join_node $head --num-cpus 2 --resources {{"gadget": 1}}
    join_node $head --num-cpus 3
    set out [ray_ok status --address $head]
    list [llength [status_active $out]] [status_usage $out CPU] [status_usage $out gadget] \
        [llength [node_dirs]]
} {3 0.0/6.0 0.0/3.0 3}

test {node-1.4 memory and object store memory are shown in bytes units} {
    set out [ray_ok status]
    set mem [string trim [lindex [regexp -inline -line {^ .* memory$} $out] 0]]
    set store [string trim [lindex [regexp -inline -line {^ .* object_store_memory$} $out] 0]]
    list [regsub {^0B/[0-9.]+(GiB|MiB) } $mem "0B/N " ] [regsub {^0B/[0-9.]+(GiB|MiB) } $store "0B/N "]
} {{0B/N memory} {0B/N object_store_memory}}

test {node-1.5 a wrong token is refused with one line and exit 1} {
    set r [ray -env {RAY_AUTH_TOKEN wrong-token-0123456789} status --address $head]
    assert_match "*refused the token*" [dict get $r out]
    assert_equal 1 [dict get $r code] [dict get $r out]
    assert_equal 1 [llength [split [string trim [dict get $r out]] \n]] [dict get $r out]
}

test {node-1.6 an unreachable address gives a connection error and exit 1} {
    set r [ray status --address 127.0.0.1:[free_port]]
    assert_match "ConnectionError: Unable to connect to GCS at*" [dict get $r out]
    dict get $r code
} 1

test {node-1.7 a second head on the same port is refused with Ray's message} {
    set r [ray start --head --node-ip-address 127.0.0.1 --port $gcs_port --dashboard-port [free_port]]
    assert_match "*is already running at 127.0.0.1:$gcs_port*" [dict get $r out]
    dict get $r code
} 1

test {node-1.8 malformed resources JSON is one line and an unknown flag click's usage error, exit 2} {
    set a [ray start --address $head --resources {{"x": "lots"}}]
    set b [ray start --head --no-such-flag]
    set c [ray start --address $head --resources {[1,2]}]
    assert_match "Error: --resources must be a JSON object*" [dict get $a out]
    assert_match "Usage: ray start *Error: No such option: --no-such-flag" [dict get $b out]
    list [dict get $a code] [dict get $b code] [dict get $c code]
} {2 2 2}

test {node-1.9 garbage and oversized frames close only that connection} {
    # A frame whose payload is not a protobuf Envelope.
    set s [socket 127.0.0.1 $gcs_port]
    fconfigure $s -translation binary -blocking 1
    puts -nonewline $s [binary format Ia* 5 hello]
    flush $s
    set got1 [read $s]
    close $s
    # A header announcing 2 GiB.
    set s [socket 127.0.0.1 $gcs_port]
    fconfigure $s -translation binary -blocking 1
    puts -nonewline $s [binary format I 0x7fffffff]
    flush $s
    set got2 [read $s]
    close $s
    # The GCS keeps serving.
    set out [ray_ok status]
    list [string length $got1] [string length $got2] [llength [status_active $out]]
} {0 0 3}

test {node-1.10 a hello with the wrong token gets one error frame, then the connection closes} {
    set s [socket 127.0.0.1 $gcs_port]
    fconfigure $s -translation binary -blocking 1
    # Envelope{request_id=1, hello{token="nope"}}: field 1 varint, field 3 (hello) with field 1 string.
    set hello [binary format cca* 0x0a 4 nope]
    set frame [binary format cccca* 0x08 1 0x1a [string length $hello] $hello]
    puts -nonewline $s [binary format Ia* [string length $frame] $frame]
    flush $s
    set data [read $s]
    close $s
    assert_true {[string length $data] > 4} "an answer frame"
    assert_match "*invalid cluster token*" $data
}

test {node-1.11 kill -9 of a raylet: its node shows DEAD within the health timeout} {
    # The victim is the 3-CPU node, so the survivors hold 1 + 2 CPUs.
    set pid ""
    foreach dir [node_dirs] {
        set p [node_pid [file tail $dir] raylet]
        set args [split [file_read /proc/$p/cmdline] \0]
        if {[lindex $args [expr {[lsearch $args --num-cpus] + 1}]] eq "3"} { set pid $p }
    }
    assert_true {$pid ne ""} "found the 3-CPU raylet"
    exec kill -9 $pid
    wait_for {[llength [status_failures [dict get [ray status] out]]] == 1} 8000
    set out [ray_ok status]
    assert_match "*health check*" [lindex [status_failures $out] 0] "ray status: $out"
    llength [status_active $out]
} 2

test {node-1.12 kill -9 of gcs_server and restart: nodes re-register, history kept} {
    set gdir [lindex [glob $::env(RAY_TMPDIR)/session_2*/node_127.0.0.1_*/gcs.db] 0]
    set gpid [node_pid [file tail [file dirname $gdir]] gcs_server]
    set cmdline [split [string trimright [file_read /proc/$gpid/cmdline] \0] \0]
    set log [file dirname $gdir]/logs/gcs_server.log
    set log_off [file size $log]
    exec kill -9 $gpid
    wait_for {![pid_alive $gpid]} 20000
    set r [ray status]
    assert_equal 1 [dict get $r code] "status with the GCS down"
    set newpid [start_bg gcs_restarted {*}$cmdline]
    # Record the new pid where `ray stop` looks, as an operator's restart script would.
    file_write [file dirname $gdir]/pids/gcs_server.pid $newpid\n
    wait_for {[regexp -all {re-registered} [file_read $log]] >= 2} 20000
    # Both raylets' reports reach the new GCS (the loaded nodes are not left
    # to time out): the check below runs after those real events.
    wait_for {[regexp -all {first resource report since it registered} \
                   [string range [file_read $log] $log_off end]] >= 2} 8000 \
        "a resource report of both live raylets after the restart"
    set out [ray_ok status]
    assert_equal 2 [llength [status_active $out]] $out
    assert_equal 1 [llength [status_failures $out]] $out
    assert_equal 0.0/3.0 [status_usage $out CPU] $out
}

test {node-1.13 ray stop stops every node of this host and says how many processes} {
    set before [llength [node_dirs]]
    set out [ray_ok stop]
    set r [ray status]
    list [regsub {^Stopped all [0-9]+ } [string trim $out] "Stopped all N "] [dict get $r code]
} {{Stopped all N Ray processes.} 1}

test {node-1.14 ray stop with nothing running says so} {
    string trim [ray_ok stop]
} {Did not find any active Ray processes.}

test {node-1.15 ray stop --force leaves no shared memory or socket of a killed raylet} {
    start_head --num-cpus 1 --object-store-memory 100000000
    set dir [lindex [node_dirs] end]
    regexp -line {^node_id (\S+)$} [file_read $dir/node.info] -> id
    set prefix /dev/shm/rayc_[string range $id 0 15]_
    set before [llength [glob -nocomplain $prefix*]]
    ray_ok stop --force
    assert_equal 1 $before "shm files of the raylet before the stop"
    assert_equal {} [glob -nocomplain $prefix*]
    assert_equal {} [glob -nocomplain $dir/sockets/*]
}

suite_end

# The seed demos' C ports against `ray start --head`: examples/objects (a
# map-reduce word count over one large object) and examples/actors (a
# Counter, and a named Counter found from tasks), as plain drivers and as
# jobs, and the drivers under valgrind when it is installed.
source [file join [file dirname [info script]] .. lib harness.tcl]
source [file join [file dirname [info script]] .. lib cluster.tcl]
cluster_cleanup_at_end

set root [file dirname [file dirname [file dirname [file normalize [info script]]]]]
proc example {name} {
    return [file join $::root examples $name $name]
}
# Pids of the processes whose command line contains TEXT.
proc pids_with {text} {
    set pids {}
    foreach f [glob -nocomplain /proc/\[0-9\]*/cmdline] {
        if {![catch {set fh [open $f rb]; set cmd [read $fh]; close $fh}] &&
                [string first $text $cmd] >= 0} {
            lappend pids [lindex [file split $f] 2]
        }
    }
    return $pids
}

foreach name {objects actors} {
    if {![file executable [example $name]]} {
        skip_suite "examples/$name was not built"
    }
}

set port [free_port]
set dport [free_port]
ray_ok start --head --node-ip-address 127.0.0.1 --port $port --dashboard-port $dport \
    --num-cpus 2 --object-store-memory 200000000
set addr 127.0.0.1:$port
set node_dir [lindex [node_dirs] end]
watch_log [file join $node_dir logs raylet.log]

test {runtime-ex-1.1 objects: 16 map tasks share one large object and the counts add up} {
    set r [run_cmd -env [list RAY_ADDRESS $addr] [example objects] 2000000 16]
    assert_equal 0 [dict get $r code] [dict get $r out]
    assert_match "*2000000 words*" [dict get $r out]
    lindex [split [dict get $r out] \n] end
} {counts match the driver's own count}

test {runtime-ex-1.2 objects runs as a job with its working_dir} {
    set r [ray -timeout 120 job submit --address http://127.0.0.1:$dport \
        --working-dir [file dirname [example objects]] -- ./objects 100000 4]
    assert_equal 0 [dict get $r code] [dict get $r out]
    assert_contains "counts match the driver's own count" [dict get $r out]
}

test {runtime-ex-2.1 actors: a Counter keeps its state and tasks find the named one} {
    set r [run_cmd -env [list RAY_ADDRESS $addr] [example actors]]
    assert_equal 0 [dict get $r code] [dict get $r out]
    split [dict get $r out] \n
} {{Counter(100).incr(0..9): 100 101 103 106 110 115 121 128 136 145} {4 tasks bumped global_counter 25 times each: value 100}}

test {runtime-ex-2.2 actors runs as a job} {
    set r [ray -timeout 120 job submit --address http://127.0.0.1:$dport \
        --working-dir [file dirname [example actors]] -- ./actors]
    assert_equal 0 [dict get $r code] [dict get $r out]
    assert_contains "value 100" [dict get $r out]
}

if {[auto_execok valgrind] eq ""} {
    skip_test {runtime-ex-3.1 the example drivers run clean under valgrind} "valgrind is not installed"
    skip_test {runtime-ex-3.2 the workers run clean under valgrind} "valgrind is not installed"
} else {
    test {runtime-ex-3.1 the example drivers run clean under valgrind} {
        set results {}
        foreach {name args} [list tiny_demo 20 objects {200000 8} actors {}] {
            set r [run_cmd -timeout 300 -env [list RAY_ADDRESS $addr] valgrind -q \
                --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
                [example $name] {*}$args]
            if {[dict get $r code] != 0} {
                ::harness::assert_failed "exit 0 from $name under valgrind" [dict get $r out]
            }
            lappend results $name
        }
        set results
    } {tiny_demo objects actors}

    test {runtime-ex-3.2 the workers run clean under valgrind} {
        # A second head whose raylet starts every worker through valgrind.
        set vgdir [tmpdir]
        set wrapper [file join $vgdir ray_worker_vg]
        file_write $wrapper "#!/bin/sh\nexec valgrind -q --error-exitcode=99 --leak-check=full\
            --errors-for-leak-kinds=definite --log-file=$vgdir/vg-%p.log\
            [file join $::root bin ray_worker] \"\$@\"\n"
        file attributes $wrapper -permissions 0755
        set port2 [free_port]
        ray_ok -env [list RAY_WORKER_BIN $wrapper] start --head --node-ip-address 127.0.0.1 \
            --port $port2 --dashboard-port [free_port] --num-cpus 2
        foreach {name args} [list tiny_demo 20 objects {200000 8} actors {}] {
            set r [run_cmd -timeout 300 -env [list RAY_ADDRESS 127.0.0.1:$port2] \
                [example $name] {*}$args]
            assert_equal 0 [dict get $r code] [dict get $r out]
        }
        # Workers exit when their job ends; their valgrind logs are final then.
        wait_for {[llength [glob -nocomplain $vgdir/vg-*.log]] >= 3} 30000
        wait_for {[llength [pids_with $vgdir]] == 0} 60000 "valgrind'ed workers exit"
        set errors {}
        foreach log [glob -nocomplain $vgdir/vg-*.log] {
            set text [file_read $log]
            if {[string trim $text] ne ""} {
                lappend errors "[file tail $log]: [string range $text 0 2000]"
            }
        }
        set errors
    } {}
}

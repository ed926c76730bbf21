# Helpers for suites that run rayc nodes with `ray start`: start heads and nodes
# on free ports in the suite's RAY_TMPDIR, read `ray status`, find daemon pids.

# Runs bin/ray with ARGS (run_cmd options may come first); returns run_cmd's dict.
proc ray {args} {
    set opts {}
    while {[string match -* [lindex $args 0]] && [lindex $args 0] in {-env -timeout -input}} {
        lappend opts [lindex $args 0] [lindex $args 1]
        set args [lrange $args 2 end]
    }
    return [run_cmd {*}$opts [rayc_bin ray] {*}$args]
}

# Runs `ray ARGS` and raises an assert error (with the output) unless it exits 0.
# Returns the output.
proc ray_ok {args} {
    set r [ray {*}$args]
    if {[dict get $r code] != 0} {
        ::harness::assert_failed "exit 0 from ray $args" \
            "exit [dict get $r code]: [dict get $r out]"
    }
    return [dict get $r out]
}

# Makes sure every node this suite started is stopped at the end, even on failure.
proc cluster_cleanup_at_end {} {
    at_suite_end {catch {run_cmd [rayc_bin ray] stop --force}}
}

# Starts a head on 127.0.0.1 with a free GCS port and dashboard port; extra
# ARGS are passed to `ray start`.  Returns the GCS address "127.0.0.1:PORT".
# A picked port that some other bind to port 0 took before `ray start`
# bound it ("already in use"; ray start undid itself) gives a new try.
proc start_head {args} {
    for {set try 1} {1} {incr try} {
        set port [free_port]
        set r [ray start --head --node-ip-address 127.0.0.1 --port $port \
            --dashboard-port [free_port] {*}$args]
        if {[dict get $r code] == 0 || $try == 5 ||
            ![string match "*already in use*" [dict get $r out]]} {
            break
        }
    }
    if {[dict get $r code] != 0} {
        ::harness::assert_failed "exit 0 from ray start --head (try $try)" \
            "exit [dict get $r code]: [dict get $r out]"
    }
    set addr 127.0.0.1:$port
    foreach f {gcs_server.log raylet.log} {
        foreach log [glob -nocomplain $::env(RAY_TMPDIR)/session_2*/node_127.0.0.1_*/logs/$f] {
            watch_log $log
        }
    }
    return $addr
}

# Joins a node to the cluster at ADDR; extra ARGS go to `ray start`.
proc join_node {addr args} {
    return [ray_ok start --address $addr {*}$args]
}

# Returns the lines of the "Active:" section of `ray status` output TEXT.
proc status_active {text} {
    set lines {}
    set in 0
    foreach line [split $text \n] {
        if {$line eq "Active:"} { set in 1; continue }
        if {$line eq "Pending:"} { break }
        if {$in && [string match " 1 node_*" $line]} { lappend lines [string trim $line] }
    }
    return $lines
}

# Returns the lines of the "Recent failures:" section of `ray status` output TEXT.
proc status_failures {text} {
    set lines {}
    set in 0
    foreach line [split $text \n] {
        if {$line eq "Recent failures:"} { set in 1; continue }
        if {$in && $line eq ""} { break }
        if {$in && [string match " node_*" $line]} { lappend lines [string trim $line] }
    }
    return $lines
}

# Returns the usage line for resource NAME ("0.0/6.0 CPU") from `ray status` TEXT.
proc status_usage {text name} {
    foreach line [split $text \n] {
        if {[regexp "^ (\\S+) $name\$" $line -> usage]} { return $usage }
    }
    return ""
}

# Returns the pid recorded for process NAME (raylet, gcs_server) of the node
# whose directory matches the glob NODE_GLOB under the suite's RAY_TMPDIR.
proc node_pid {node_glob name} {
    set files [glob -nocomplain $::env(RAY_TMPDIR)/session_2*/$node_glob/pids/$name.pid]
    if {[llength $files] != 1} {
        error "expected one $name pid file for $node_glob, found [llength $files]"
    }
    return [string trim [file_read [lindex $files 0]]]
}

# The node directories of this suite, newest last.
proc node_dirs {} {
    return [lsort [glob -nocomplain -type d $::env(RAY_TMPDIR)/session_2*/node_*]]
}

# The node ids the raylet of node directory DIR has logged as alive in its
# cluster view and not died since ("cluster view: node ID at ... is alive").
proc view_alive_ids {dir} {
    if {[catch {file_read [file join $dir logs raylet.log]} log]} { return {} }
    set alive {}
    foreach {- id what} [regexp -all -inline -line {cluster view: node (\S+) at \S+ (is alive|died)} $log] {
        if {$what eq "died"} {
            set alive [lsearch -all -inline -not -exact $alive $id]
        } elseif {$id ni $alive} {
            lappend alive $id
        }
    }
    return $alive
}

# True when the raylet of every node directory in DIRS sees each of the
# others alive, so tasks may be sent from any of them to any other.
proc views_complete {dirs} {
    foreach dir $dirs {
        if {[llength [view_alive_ids $dir]] < [llength $dirs] - 1} { return 0 }
    }
    return 1
}

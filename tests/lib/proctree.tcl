# Process helpers shared by run.tcl and harness.tcl: liveness, descendants and signals, all by pid.

namespace eval ::proctree {}

# Returns {STATE PPID} for PID from /proc/PID/stat (STATE is the one-letter
# process state, Z for a zombie).  Raises an error if the process does not
# exist or /proc cannot be read.
proc ::proctree::stat {pid} {
    set f [open /proc/$pid/stat r]
    set text [read $f]
    close $f
    # The command name is in parentheses and may itself contain spaces or
    # parentheses, so the fixed fields are the ones after the last ")".
    set rest [string range $text [string last ")" $text]+2 end]
    return [lrange $rest 0 1]
}

# Returns 1 if PID names a running process (a zombie counts as dead: it has
# exited and only waits to be reaped), 0 otherwise.  Never raises.
proc ::proctree::alive {pid} {
    if {![file isdirectory /proc/self]} {
        return [expr {![catch {exec kill -0 $pid}]}]
    }
    if {[catch {stat $pid} st]} {
        return 0
    }
    return [expr {[lindex $st 0] ni {Z X}}]
}

# Returns a dict mapping every process's pid to its parent's pid, read from
# /proc (or from `ps` where there is no /proc).  Processes that vanish while
# being read are left out; returns an empty dict if nothing can be read.
proc ::proctree::parent_map {} {
    set map {}
    if {![file isdirectory /proc/self]} {
        catch {
            foreach {p pp} [exec ps -e -o pid= -o ppid=] {
                dict set map $p $pp
            }
        }
        return $map
    }
    foreach dir [glob -nocomplain -directory /proc -types d {[0-9]*}] {
        set p [file tail $dir]
        if {![catch {stat $p} st]} {
            dict set map $p [lindex $st 1]
        }
    }
    return $map
}

# Returns the pids of all live descendants of PID (children, grandchildren,
# ...), not PID itself.  A daemon that double-forked away to init is not
# found.  Returns an empty list if there are none or nothing can be read.
proc ::proctree::descendants {pid} {
    set children {}
    dict for {p pp} [parent_map] {
        dict lappend children $pp $p
    }
    set found {}
    set queue [list $pid]
    while {[llength $queue]} {
        set queue [lassign $queue p]
        if {[dict exists $children $p]} {
            foreach c [dict get $children $p] {
                if {[alive $c]} {
                    lappend found $c
                }
                lappend queue $c
            }
        }
    }
    return $found
}

# Sends signal SIG (a name such as TERM or KILL, or a number) to every pid
# in PIDS.  Pids that are already gone are ignored; never raises.
proc ::proctree::signal {pids sig} {
    set sig [string map {SIG ""} [string toupper $sig]]
    foreach p $pids {
        catch {exec kill -s $sig $p}
    }
}

# Waits up to MS milliseconds, polling every 50 ms through the event loop,
# until no pid in PIDS is alive.  Returns 1 if they all died, 0 if some were
# still alive at the deadline.
proc ::proctree::wait_dead {pids ms} {
    set deadline [expr {[clock milliseconds] + $ms}]
    while {1} {
        set live {}
        foreach p $pids {
            if {[alive $p]} {
                lappend live $p
            }
        }
        if {![llength $live]} {
            return 1
        }
        if {[clock milliseconds] >= $deadline} {
            return 0
        }
        set pids $live
        set var ::proctree::tick[incr ::proctree::seq]
        after 50 [list set $var 1]
        vwait $var
        unset $var
    }
}

# Stops PIDS and everything they started: collects their descendants first,
# sends TERM to all, waits up to GRACE_MS, then sends KILL to survivors.
# Returns 1 if TERM was enough, 0 if KILL was needed.
proc ::proctree::kill_tree {pids {grace_ms 3000}} {
    set all {}
    foreach p $pids {
        if {[alive $p]} {
            lappend all $p
        }
        lappend all {*}[descendants $p]
    }
    set all [lsort -unique $all]
    if {![llength $all]} {
        return 1
    }
    signal $all TERM
    if {[wait_dead $all $grace_ms]} {
        return 1
    }
    signal $all KILL
    wait_dead $all 2000
    return 0
}

# Pids of every process whose command line contains TEXT (a suite's temp
# dir, say: every node process started for it names it).
proc ::proctree::mentioning {text} {
    set pids {}
    foreach f [glob -nocomplain /proc/\[0-9\]*/cmdline] {
        if {[catch {open $f r} ch]} continue
        fconfigure $ch -translation binary
        set cmd [string map [list \0 " "] [read $ch]]
        close $ch
        if {[string first $text $cmd] >= 0} {
            lappend pids [lindex [file split $f] 2]
        }
    }
    return $pids
}

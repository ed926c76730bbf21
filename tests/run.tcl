# Runs rayc's C unit tests and Tcl suites in parallel and ends with one line "N passed, M failed".
#
#     tclsh tests/run.tcl ?-j N? ?-only GLOB? ?-verbose? ?-root DIR?
#
# C tests: every executable build/tests/test_* (cmocka, run with
# CMOCKA_MESSAGE_OUTPUT=stdout); each cmocka test is reported as
# c/BINARY/TEST.  Tcl suites: every tests/unit/*.tcl and
# tests/integration/*.tcl, each in its own tclsh started through
# tests/lib/suite_main.tcl; see tests/lib/harness.tcl for writing one.  A
# suite with a line "# serial" runs alone after the parallel ones.
#
# -j N      how many binaries/suites run at once (default: CPUs, at least 2)
# -only GLOB  run only binaries/suites whose name matches, e.g. "unit/gcs*",
#           "gcs*" or "c/test_frame"; may be given more than once
# -verbose  show whole C test output and set RAYC_VERBOSE=1 for suites
# -root DIR   test another tree than this one (for testing the runner)
#
# Each binary or suite is killed (with everything it started) after
# RAYC_SUITE_TIMEOUT seconds (default 600), or after N seconds for a suite
# with a line "# timeout N" (a larger N only), and counts as a failure.  Output
# of each is printed in one block when it finishes.  Exit status is 1 if
# anything failed or nothing ran at all.

source [file join [file dirname [file normalize [info script]]] lib proctree.tcl]

namespace eval ::run {
    variable here [file dirname [file normalize [info script]]]
    variable root [file dirname $here]
    variable jobs_max ""
    variable only {}
    variable verbose 0
    variable timeout_s 600
    variable jobs {}        ;# id -> dict describing one binary or suite
    variable queue {}       ;# ids of jobs that may run in parallel
    variable serial {}      ;# ids of jobs that must run alone
    variable running 0
    variable totals {passed 0 failed 0 skipped 0}
    variable failures {}    ;# "[err]" lines, repeated at the end
    variable details {}     ;# the first failures' details, repeated at the end
    variable done 0
}

# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------

# Prints the usage to stderr and exits with status 2.
proc ::run::usage {{problem ""}} {
    if {$problem ne ""} {
        puts stderr "run.tcl: $problem"
    }
    puts stderr "usage: tclsh tests/run.tcl ?-j N? ?-only GLOB? ?-verbose? ?-root DIR?"
    exit 2
}

# Reads the options in ARGV and RAYC_SUITE_TIMEOUT into the ::run
# variables.  Exits through usage on a bad option or value.
proc ::run::parse_args {argv} {
    variable jobs_max
    variable only
    variable verbose
    variable root
    variable timeout_s
    while {[llength $argv]} {
        set argv [lassign $argv opt]
        switch -- $opt {
            -j {set argv [lassign $argv jobs_max]}
            -only {set argv [lassign $argv pattern]; lappend only $pattern}
            -verbose {set verbose 1}
            -root {set argv [lassign $argv dir]; set root [file normalize $dir]}
            default {usage "unknown option \"$opt\""}
        }
    }
    if {$jobs_max eq ""} {
        set jobs_max [expr {max(2, [cpu_count])}]
    }
    if {![string is integer -strict $jobs_max] || $jobs_max < 1} {
        usage "-j needs a positive number"
    }
    if {[info exists ::env(RAYC_SUITE_TIMEOUT)]} {
        set timeout_s $::env(RAYC_SUITE_TIMEOUT)
        if {![string is double -strict $timeout_s] || $timeout_s <= 0} {
            usage "RAYC_SUITE_TIMEOUT must be a positive number of seconds"
        }
    }
}

# Returns the number of CPUs, or 2 if it cannot be found out.
proc ::run::cpu_count {} {
    if {[catch {exec nproc} n] || ![string is integer -strict $n]} {
        return 2
    }
    return $n
}

# ---------------------------------------------------------------------------
# Finding what to run
# ---------------------------------------------------------------------------

# Returns 1 if -only was not given or one of its globs matches one of
# NAMES, else 0.
proc ::run::selected {names} {
    variable only
    if {![llength $only]} {
        return 1
    }
    foreach pattern $only {
        foreach name $names {
            if {[string match $pattern $name]} {
                return 1
            }
        }
    }
    return 0
}

# Returns 1 if FILE has a line that reads "# serial", else 0.
proc ::run::is_serial {file} {
    set f [open $file r]
    set lines [split [read $f] \n]
    close $f
    foreach line $lines {
        if {[string trim $line] eq "# serial"} {
            return 1
        }
    }
    return 0
}

# Returns the seconds of a line "# timeout N" in suite FILE (a suite that
# must build something first, such as an image), at least the default;
# else the default (RAYC_SUITE_TIMEOUT).
proc ::run::suite_timeout {file} {
    variable timeout_s
    set f [open $file r]
    set lines [split [read $f] \n]
    close $f
    foreach line $lines {
        if {[regexp {^# timeout (\d+)$} [string trim $line] -> n] && $n > $timeout_s} {
            return $n
        }
    }
    return $timeout_s
}

# Adds one job (a C binary or a suite) to the parallel or serial queue.
proc ::run::add_job {kind name file alone} {
    variable jobs
    variable queue
    variable serial
    variable timeout_s
    set id [dict size $jobs]
    set limit [expr {$kind eq "tcl" ? [suite_timeout $file] : $timeout_s}]
    dict set jobs $id [dict create kind $kind name $name file $file lines {} \
        chan "" pid "" timers {} timed_out 0 started 0 timeout_s $limit]
    if {$alone} {
        lappend serial $id
    } else {
        lappend queue $id
    }
}

# Queues every selected C test binary and Tcl suite under the root.
proc ::run::find_jobs {} {
    variable root
    foreach file [lsort [glob -nocomplain -directory [file join $root build tests] test_*]] {
        set bin [file tail $file]
        if {[file isfile $file] && [file executable $file]
                && [selected [list c/$bin $bin]]} {
            add_job c c/$bin $file 0
        }
    }
    foreach dir {unit integration} {
        set pattern [file join $root tests $dir *.tcl]
        foreach file [lsort [glob -nocomplain $pattern]] {
            set base [file rootname [file tail $file]]
            if {[selected [list $dir/$base $base $dir/$base.tcl]]} {
                add_job tcl $dir/$base $file [is_serial $file]
            }
        }
    }
}

# ---------------------------------------------------------------------------
# Running jobs
# ---------------------------------------------------------------------------

# True when the C test binary FILE was linked with AddressSanitizer.
proc ::run::sanitized {file} {
    if {[catch {exec ldd $file} libs]} {
        return 0
    }
    return [string match *libasan* $libs]
}

# Returns the command line that runs job ID.
proc ::run::command {id} {
    variable jobs
    variable here
    set file [dict get $jobs $id file]
    if {[dict get $jobs $id kind] eq "c"} {
        # Line-buffered stdout makes the per-test times in the report real.
        # stdbuf works by LD_PRELOAD, which sanitizer builds refuse, so a
        # SANITIZE build (it links libasan) runs the binary as it is.
        if {[auto_execok stdbuf] ne "" && ![::run::sanitized $file]} {
            return [list stdbuf -oL $file]
        }
        return [list $file]
    }
    return [list [info nameofexecutable] [file join $here lib suite_main.tcl] $file]
}

# Starts job ID with stdout and stderr on one pipe read through the event
# loop, and arms its timeout.  A job that cannot be started finishes at once
# as a failure.
proc ::run::start {id} {
    variable jobs
    variable running
    variable timeout_s
    incr running
    dict set jobs $id started [clock milliseconds]
    if {[catch {open |[list {*}[command $id] < /dev/null 2>@1] r} chan]} {
        dict set jobs $id lines [list [list 0 "cannot start: $chan"]]
        after 0 [list ::run::finish $id 127]
        return
    }
    fconfigure $chan -blocking 0 -translation auto
    dict set jobs $id chan $chan
    dict set jobs $id pid [lindex [pid $chan] 0]
    fileevent $chan readable [list ::run::on_readable $id]
    set ms [expr {int([dict get $jobs $id timeout_s] * 1000)}]
    dict set jobs $id timers [list [after $ms [list ::run::on_timeout $id]]]
}

# Reads the complete lines job ID has written so far, stamping each with
# the time it arrived; finishes the job at end of file.
proc ::run::on_readable {id} {
    variable jobs
    set chan [dict get $jobs $id chan]
    set lines [dict get $jobs $id lines]
    while {[gets $chan line] >= 0} {
        lappend lines [list [clock milliseconds] $line]
    }
    dict set jobs $id lines $lines
    if {[eof $chan]} {
        fileevent $chan readable {}
        reap $id
    }
}

# Finishes job ID once its process has exited.  Its output has ended, but
# closing the pipe waits for the process, so a process that closed its
# output and lives on is polled instead, leaving the timeout armed.
proc ::run::reap {id} {
    variable jobs
    if {[dict exists $jobs $id status]} {
        return
    }
    if {[::proctree::alive [dict get $jobs $id pid]]} {
        after 100 [list ::run::reap $id]
        return
    }
    finish $id [close_status [dict get $jobs $id chan]]
}

# Closes the pipe CHAN of a job whose output has ended and returns its exit
# status: the exit code, or "killed by SIGNAME".
proc ::run::close_status {chan} {
    fconfigure $chan -blocking 1
    if {![catch {close $chan} msg opts]} {
        return 0
    }
    set ec [dict get $opts -errorcode]
    switch -- [lindex $ec 0] {
        CHILDSTATUS {return [lindex $ec 2]}
        CHILDKILLED {return "killed by [lindex $ec 2]"}
        default {return "failed: $msg"}
    }
}

# Kills job ID and everything it started because it ran past the timeout:
# TERM now, KILL 3 s later, and after 15 s more stops waiting for its output.
proc ::run::on_timeout {id} {
    variable jobs
    dict set jobs $id timed_out 1
    set pid [dict get $jobs $id pid]
    set tree [list $pid {*}[::proctree::descendants $pid]]
    ::proctree::signal $tree TERM
    set kill [after 3000 [list ::proctree::signal $tree KILL]]
    set give_up [after 18000 [list ::run::abandon $id]]
    dict set jobs $id timers [list $kill $give_up]
}

# Stops reading job ID, whose output never ended even after KILL (something
# it started escaped and still holds the pipe), and finishes it as failed.
proc ::run::abandon {id} {
    variable jobs
    set chan [dict get $jobs $id chan]
    fileevent $chan readable {}
    catch {close $chan}
    finish $id "abandoned: its output never ended"
}

# Reports finished job ID, whose exit status is STATUS, adds its counts to
# the totals and starts the next jobs.  Does nothing for a job already
# finished (a late timer).
proc ::run::finish {id status} {
    variable jobs
    variable running
    if {[dict exists $jobs $id status]} {
        return
    }
    foreach timer [dict get $jobs $id timers] {
        after cancel $timer
    }
    dict set jobs $id timers {}
    dict set jobs $id status $status
    set ms [expr {[clock milliseconds] - [dict get $jobs $id started]}]
    if {[dict get $jobs $id timed_out] && [dict get $jobs $id kind] eq "tcl"} {
        remove_tmpdirs [dict get $jobs $id pid]
    }
    if {[dict get $jobs $id kind] eq "c"} {
        lassign [report_c $id] counts block
    } else {
        lassign [report_suite $id] counts block
    }
    show $id $counts $ms $block
    incr running -1
    schedule
}

# Removes the temp dirs of the killed suite process PID, which could not
# clean up after itself (the harness names them rayc-test-SUITE-PID-N under
# TMPDIR or /tmp), unless RAYC_KEEP_TMP is set.
proc ::run::remove_tmpdirs {pid} {
    if {[info exists ::env(RAYC_KEEP_TMP)] && $::env(RAYC_KEEP_TMP) ni {"" 0}} {
        return
    }
    set base /tmp
    if {[info exists ::env(TMPDIR)] && [file isdirectory $::env(TMPDIR)]} {
        set base $::env(TMPDIR)
    }
    foreach dir [glob -nocomplain -types d -directory $base rayc-test-*-$pid-*] {
        catch {file delete -force $dir}
    }
}

# Starts queued jobs while fewer than -j run; a serial job starts only when
# nothing else runs.  Sets ::run::done when everything has finished.
proc ::run::schedule {} {
    variable queue
    variable serial
    variable running
    variable jobs_max
    while {$running < $jobs_max && [llength $queue]} {
        set queue [lassign $queue id]
        start $id
    }
    if {$running == 0 && ![llength $queue] && [llength $serial]} {
        set serial [lassign $serial id]
        start $id
    }
    if {$running == 0 && ![llength $queue] && ![llength $serial]} {
        set ::run::done 1
    }
}

# ---------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------

# Returns the last N output lines of job ID (text only), each indented.
proc ::run::tail {id n} {
    variable jobs
    set out {}
    foreach entry [lrange [dict get $jobs $id lines] end-[expr {$n - 1}] end] {
        lappend out "  | [lindex $entry 1]"
    }
    return $out
}

# Returns a phrase for a job's exit STATUS ("exit status 3", "killed by
# SIGSEGV", ...).
proc ::run::describe_status {status} {
    if {[string is integer -strict $status]} {
        return "exit status $status"
    }
    return $status
}

# Parses the cmocka output of C job ID.  Returns {COUNTS LINES}: the
# pass/fail/skip dict and the report lines ([ok]/[err]/[skip] per test, a
# failed test followed by its own cmocka messages).
proc ::run::report_c {id} {
    variable jobs
    variable verbose
    set name [dict get $jobs $id name]
    set counts {passed 0 failed 0 skipped 0}
    set block {}
    set current ""
    set reported {}
    foreach entry [dict get $jobs $id lines] {
        lassign $entry stamp line
        if {![regexp {^\[ *([A-Z]+) *\] (.*)$} $line - tag test]} {
            if {$current ne ""} {
                lappend detail "  | $line"
            }
            continue
        }
        if {$tag eq "RUN"} {
            lassign [list $test $stamp {}] current begun detail
            continue
        }
        if {$test ne $current || $tag ni {OK FAILED SKIPPED}} {
            # cmocka's messages ([ ERROR ], [ LINE ]) and summary lines;
            # a FAILED for another name is the summary's repetition.
            if {$current ne ""} {
                lappend detail "  | $line"
            }
            continue
        }
        switch -- $tag {
            OK {
                dict incr counts passed
                lappend block "\[ok\] $name/$test ([expr {$stamp - $begun}]ms)"
            }
            FAILED {
                dict incr counts failed
                lappend block "\[err\] $name/$test" {*}$detail
                lappend reported $test
            }
            SKIPPED {
                dict incr counts skipped
                lappend block "\[skip\] $name/$test"
            }
        }
        set current ""
    }
    set status [dict get $jobs $id status]
    set problem [c_problem $id $status $current [llength $reported]]
    if {$problem ne ""} {
        dict incr counts failed
        lappend block "\[err\] $name: $problem" {*}[tail $id 30]
    } elseif {$verbose} {
        lappend block {*}[tail $id 100000]
    }
    return [list $counts $block]
}

# Returns why C job ID failed as a whole (timeout, or a non-zero STATUS
# without any FAILED test: a crash), or "" if it did not.  CURRENT is the
# test that was running when the output ended.
proc ::run::c_problem {id status current nfailed} {
    variable jobs
    variable timeout_s
    if {[dict get $jobs $id timed_out]} {
        return "timed out after $timeout_s s, killed"
    }
    if {$status ne "0" && $nfailed == 0} {
        set problem "[describe_status $status] with no FAILED test"
        if {$current ne ""} {
            append problem " (during $current)"
        }
        return $problem
    }
    return ""
}

# Reads the "@@counts P F S" line of Tcl job ID.  Returns {COUNTS LINES}:
# the counts (one failure if the suite died, timed out or exited non-zero
# without a failed test) and its output without the counts line.
proc ::run::report_suite {id} {
    variable jobs
    variable timeout_s
    set name [dict get $jobs $id name]
    set status [dict get $jobs $id status]
    set counts ""
    set block {}
    foreach entry [dict get $jobs $id lines] {
        set line [lindex $entry 1]
        if {[regexp {^@@counts (\d+) (\d+) (\d+)$} $line - p f s]} {
            set counts [dict create passed $p failed $f skipped $s]
        } else {
            lappend block $line
        }
    }
    set problem ""
    if {[dict get $jobs $id timed_out]} {
        set problem "timed out after [dict get $jobs $id timeout_s] s, killed"
    } elseif {$counts eq ""} {
        set problem "died without a @@counts line ([describe_status $status])"
    } elseif {$status ne "0" && [dict get $counts failed] == 0} {
        set problem "[describe_status $status] although no test failed"
    }
    if {$counts eq ""} {
        set counts {passed 0 failed 0 skipped 0}
    }
    if {$problem ne ""} {
        dict incr counts failed
        lappend block "\[err\] $name: $problem" {*}[tail $id 15]
    }
    return [list $counts $block]
}

# Prints the block of job ID in one piece under a header line with its
# COUNTS and time MS, adds the counts to the totals and remembers its
# [err] lines for the summary.
proc ::run::show {id counts ms block} {
    variable jobs
    variable totals
    variable failures
    variable details
    set name [dict get $jobs $id name]
    dict for {k v} $counts {
        dict incr totals $k $v
    }
    set secs [format %.1f [expr {$ms / 1000.0}]]
    set head "=== $name: [summary $counts] ($secs s)"
    set kept -1             ;# detail lines still to keep of the current failure
    foreach line $block {
        if {[regexp {^\[(ok|err|skip)\] } $line]} {
            set kept -1
        }
        if {[string match {\[err\] *} $line]} {
            set what [string range $line 6 end]
            if {![string match $name* $what]} {
                set what "$name: $what"
            }
            lappend failures $what
            # The end of the output is what a CI log keeps: the first three
            # failures' details are repeated there (the first's 12 lines,
            # 6 of the others), without the log tails that follow a message.
            if {[llength $failures] <= 3} {
                lappend details "$what:"
                set kept [expr {[llength $failures] == 1 ? 12 : 6}]
            }
        } elseif {[regexp {^\s*(\||--- last \d+ lines of )} $line]} {
            # a log tail: left out of the summary
        } elseif {$kept > 0} {
            lappend details "    $line"
            incr kept -1
        }
    }
    puts [join [list $head {*}$block] \n]
    flush stdout
}

# Returns "N passed, M failed" plus ", K skipped" when K > 0.
proc ::run::summary {counts} {
    set text "[dict get $counts passed] passed, [dict get $counts failed] failed"
    if {[dict get $counts skipped] > 0} {
        append text ", [dict get $counts skipped] skipped"
    }
    return $text
}

# Runs everything and exits: status 1 if something failed or nothing ran.
proc ::run::main {argv} {
    variable totals
    variable failures
    variable details
    variable jobs
    variable jobs_max
    variable verbose
    parse_args $argv
    set ::env(CMOCKA_MESSAGE_OUTPUT) stdout
    if {$verbose} {
        set ::env(RAYC_VERBOSE) 1
    }
    find_jobs
    puts "running [dict size $jobs] test binaries and suites, $jobs_max at a time"
    flush stdout
    schedule
    if {!$::run::done} {
        vwait ::run::done
    }
    if {[llength $failures]} {
        puts "\nthe first failures, in detail:\n  [join $details "\n  "]"
        puts "\nfailed:\n  [join $failures "\n  "]"
    }
    set total [expr {[dict get $totals passed] + [dict get $totals failed]
        + [dict get $totals skipped]}]
    if {$total == 0} {
        puts "nothing ran"
    }
    puts [summary $totals]
    flush stdout
    exit [expr {[dict get $totals failed] > 0 || $total == 0}]
}

::run::main $argv

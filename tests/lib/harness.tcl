# Test harness sourced by every rayc Tcl suite: tests, asserts, temp dirs, ports, processes, HTTP and cleanup.
#
# A suite is a plain Tcl script that starts with
#
#     source [file join [file dirname [info script]] .. lib harness.tcl]
#
# then calls `test NAME BODY ?EXPECTED?` for each check and ends with
# `suite_end`, which runs the cleanups and prints the `@@counts P F S` line
# that tests/run.tcl sums.  Suites wrap nothing in catch: run.tcl starts
# each suite through tests/lib/suite_main.tcl, which records an error at
# the suite's top level as one failure and still calls suite_end.  Calling
# `exit` directly also runs the cleanups (but prints no counts line, so
# run.tcl reports the suite as died).
#
# Loading this file gives the suite its own temp dir ($::harness::suite_tmp)
# and points env HOME, RAY_TMPDIR and RAYC_NODE_REGISTRY into it, so daemons the suite starts
# keep their files and ~/.ray token away from the user's and from other
# suites running in parallel.  The original values are in
# ::harness::orig_env (a key is present only if the variable was set).
#
# Environment: RAYC_VERBOSE=1 echoes the commands run_cmd/start_bg run;
# RAYC_KEEP_TMP=1 keeps the temp dirs after the suite ends.

if {[info exists ::harness::loaded]} {
    return
}

package require Tcl 8.6
package require http
package require json
package require huddle::json
source [file join [file dirname [file normalize [info script]]] proctree.tcl]

# Tcl's http package says "Mozilla/5.0 ..." by default, which the job server
# (like Ray's dashboard) takes for a browser and refuses on POST/PUT/DELETE.
::http::config -useragent "rayc-tests (Tcl http [package provide http])"

namespace eval ::harness {
    variable loaded 1
    # The repository root: two directories above this file.
    variable root [file dirname [file dirname [file dirname [file normalize [info script]]]]]
    variable suite_file [expr {[info exists ::rayc_suite_file]
        ? $::rayc_suite_file : [file normalize $::argv0]}]
    variable suite [regsub -all {[^A-Za-z0-9_.-]} \
        [file rootname [file tail $suite_file]] _]
    variable counts {passed 0 failed 0 skipped 0}
    variable watched {}   ;# log files whose tails are shown under a failure
    variable bg {}        ;# pid -> {name NAME log FILE} for start_bg
    variable cleanups {}  ;# at_suite_end scripts, run newest first
    variable tmpdirs {}
    variable tmp_seq -1
    variable ports {}     ;# every port free_port handed out
    variable tick_seq 0
    variable cleaned 0
    variable orig_env {}
    variable suite_tmp ""
    # Where tmpdir makes its dirs; run.tcl removes rayc-test-*-PID-* here
    # for a suite it had to kill.
    variable tmp_base [file normalize [expr {[info exists ::env(TMPDIR)]
        && [file isdirectory $::env(TMPDIR)] ? $::env(TMPDIR) : "/tmp"}]]
    variable verbose [expr {[info exists ::env(RAYC_VERBOSE)]
        && $::env(RAYC_VERBOSE) ni {"" 0}}]
}

# ---------------------------------------------------------------------------
# Output and reporting
# ---------------------------------------------------------------------------

# Prints TEXT as whole lines on stdout and flushes, so a parent that reads
# the output sees it promptly.  Never raises (a closed stdout is ignored).
proc ::harness::say {text} {
    catch {
        puts stdout $text
        flush stdout
    }
}

# Returns "  LABEL: VALUE" with the value after a 12-character head and every
# further line of a multi-line VALUE indented to the same column.
proc ::harness::labelled {label value} {
    set head [format "  %-9s " "$label:"]
    set pad [string repeat " " [string length $head]]
    return $head[string map [list \n \n$pad] $value]
}

# Returns TEXT with every line prefixed by PREFIX.
proc ::harness::indent {text prefix} {
    return $prefix[string map [list \n \n$prefix] $text]
}

# Adds one to the counter WHAT (passed, failed or skipped).
proc ::harness::count {what} {
    variable counts
    dict incr counts $what
}

# Records a passed test NAME that took MS milliseconds.
proc ::harness::pass {name ms} {
    count passed
    say "\[ok\] $name (${ms}ms)"
}

# Records a failed test NAME: prints [err], then expected/got for an assert
# error (errorcode RAYC_ASSERT) or the message and errorInfo head for any
# other error, then the tail of every watched log.  OPTS is the options dict
# from catch.
proc ::harness::fail {name message opts} {
    count failed
    say "\[err\] $name"
    set ec [expr {[dict exists $opts -errorcode] ? [dict get $opts -errorcode] : ""}]
    if {[lindex $ec 0] eq "RAYC_ASSERT"} {
        lassign $ec - expected got note
        if {$note ne ""} {
            say [labelled note $note]
        }
        say [labelled expected $expected]
        say [labelled got $got]
    } else {
        say [labelled error $message]
        show_error_info $message $opts
    }
    show_watched_logs
}

# Prints the first lines of the errorInfo in OPTS, minus the repeated
# message at its start, so the failing line of the test can be found.
proc ::harness::show_error_info {message opts} {
    if {![dict exists $opts -errorinfo]} {
        return
    }
    set info [dict get $opts -errorinfo]
    if {[string first $message $info] == 0} {
        set info [string trimleft [string range $info [string length $message] end] \n]
    }
    set lines [lrange [split $info \n] 0 9]
    if {[llength $lines]} {
        say [indent [join $lines \n] "  "]
    }
}

# Prints the last 15 lines of every log registered with watch_log.
proc ::harness::show_watched_logs {} {
    variable watched
    foreach log $watched {
        if {![file exists $log]} {
            say "  --- $log: (no such file)"
            continue
        }
        set tail [log_tail $log 15]
        if {$tail eq ""} {
            say "  --- $log: (empty)"
            continue
        }
        say "  --- last 15 lines of $log:"
        say [indent $tail "  | "]
    }
}

# Prints "  + WORDS" when RAYC_VERBOSE is set; otherwise does nothing.
proc ::harness::trace_cmd {words} {
    variable verbose
    if {$verbose} {
        say "  + $words"
    }
}

# Raises the assert error that `test` prints as expected/got: errorcode
# {RAYC_ASSERT EXPECTED GOT NOTE}, message NOTE or a one-line summary.
proc ::harness::assert_failed {expected got {note ""}} {
    set msg [expr {$note ne "" ? $note : "expected: $expected, got: $got"}]
    throw [list RAYC_ASSERT $expected $got $note] $msg
}

# Background errors (from fileevent and after handlers) would otherwise go
# unnoticed; each one is reported and counted as a failure.
proc ::harness::bgerror {message opts} {
    variable suite
    fail "$suite: background error" $message $opts
}
interp bgerror {} ::harness::bgerror

# ---------------------------------------------------------------------------
# Tests and asserts
# ---------------------------------------------------------------------------

# Runs BODY in the caller's scope as the test NAME and prints
# "[ok] NAME (Nms)" or "[err] NAME" with the details.  With EXPECTED the
# body's result must equal it (string equality); without it the body only
# has to finish without an error.  A failure is counted and reported, never
# raised, so the suite goes on with the next test.
proc test {name body args} {
    if {[llength $args] > 1} {
        error "usage: test NAME BODY ?EXPECTED?"
    }
    set start [clock milliseconds]
    set code [catch {uplevel 1 $body} result opts]
    set ms [expr {[clock milliseconds] - $start}]
    if {$code == 1} {
        ::harness::fail $name $result $opts
    } elseif {$code == 3 || $code == 4} {
        ::harness::fail $name "break or continue outside a loop in the test body" {}
    } elseif {[llength $args] && $result ne [lindex $args 0]} {
        ::harness::fail $name "" [list -errorcode \
            [list RAYC_ASSERT [lindex $args 0] $result]]
    } else {
        ::harness::pass $name $ms
    }
    return
}

# Raises an assert error unless GOT equals EXPECTED (string equality).
# MSG, if given, is printed above expected/got.
proc assert_equal {expected got {msg ""}} {
    if {$expected ne $got} {
        ::harness::assert_failed $expected $got $msg
    }
}

# Raises an assert error unless GOT matches the glob PATTERN.
proc assert_match {pattern got {msg ""}} {
    if {![string match $pattern $got]} {
        ::harness::assert_failed "match for $pattern" $got $msg
    }
}

# Raises an assert error unless GOT matches the regular expression RE
# (Tcl's regexp syntax; anchor it with ^ and $ to match the whole text).
proc assert_regexp {re got {msg ""}} {
    if {![regexp -- $re $got]} {
        ::harness::assert_failed "match for regexp $re" $got $msg
    }
}

# Raises an assert error unless GOT contains the string PART (no pattern
# characters, so output with brackets and newlines is easy to check).
proc assert_contains {part got {msg ""}} {
    if {[string first $part $got] < 0} {
        ::harness::assert_failed "text containing: $part" $got $msg
    }
}

# Evaluates the expression EXPR in the caller's scope and raises an assert
# error unless it is true.  "got" shows EXPR with its variables filled in.
# An error inside EXPR propagates as that error.
proc assert_true {expr {msg ""}} {
    if {![uplevel 1 [list expr $expr]]} {
        if {[catch {uplevel 1 [list subst -nocommands $expr]} filled]} {
            set filled $expr
        }
        ::harness::assert_failed "true: $expr" "false: $filled" $msg
    }
}

# Runs SCRIPT in the caller's scope and raises an assert error unless it
# raises an error whose message matches the glob PATTERN.  Returns that
# error message.
proc assert_error {pattern script} {
    set code [catch {uplevel 1 $script} result]
    if {$code != 1} {
        ::harness::assert_failed "error matching $pattern" "no error, result: $result"
    }
    if {![string match $pattern $result]} {
        ::harness::assert_failed "error matching $pattern" "error: $result"
    }
    return $result
}

# Polls the expression COND in the caller's scope every 50 ms, running the
# event loop in between (so fileevents and timers fire), until it is true.
# Raises an assert error "timed out after N ms waiting for: COND (MSG)" if
# it is still false after TIMEOUT_MS.  An error inside COND propagates.
proc wait_for {cond timeout_ms {msg ""}} {
    set deadline [expr {[clock milliseconds] + $timeout_ms}]
    while {1} {
        if {[uplevel 1 [list expr $cond]]} {
            return
        }
        if {[clock milliseconds] >= $deadline} {
            break
        }
        ::harness::pause 50
    }
    set note "timed out after $timeout_ms ms waiting for: $cond"
    if {$msg ne ""} {
        append note " ($msg)"
    }
    ::harness::assert_failed "true: $cond" "still false after $timeout_ms ms" $note
}

# Runs the event loop for MS milliseconds.  Only wait_for and process
# polling use it; tests wait for conditions, not for time.
proc ::harness::pause {ms} {
    variable tick_seq
    set var ::harness::tick[incr tick_seq]
    after $ms [list set $var 1]
    vwait $var
    unset $var
}

# ---------------------------------------------------------------------------
# Skipping
# ---------------------------------------------------------------------------

# Skips the rest of the suite: prints "[skip] SUITE: REASON", counts one
# skipped test, then ends the suite (cleanups, counts line, exit 0).
proc skip_suite {reason} {
    ::harness::say "\[skip\] $::harness::suite: $reason"
    ::harness::count skipped
    suite_end
}

# Prints "[skip] NAME: REASON" and counts one skipped test; use it instead
# of `test` for a test that cannot run here.
proc skip_test {name reason} {
    ::harness::say "\[skip\] $name: $reason"
    ::harness::count skipped
}

# Skips the whole suite, with the reason shown, unless running as root.
proc require_root {} {
    set uid [exec id -u]
    if {$uid != 0} {
        skip_suite "needs root (running as uid $uid); CI runs it as root"
    }
}

# ---------------------------------------------------------------------------
# Paths, temp dirs and ports
# ---------------------------------------------------------------------------

# Returns the absolute path of bin/NAME in the repository root (whether or
# not it has been built).
proc rayc_bin {name} {
    return [file join $::harness::root bin $name]
}

# Creates and returns a fresh, empty directory
# $TMPDIR/rayc-test-SUITE-PID-N (or under /tmp), removed at suite end
# unless RAYC_KEEP_TMP is set.  Raises an error if it cannot be created.
proc tmpdir {} {
    variable ::harness::tmpdirs
    set name "rayc-test-$::harness::suite-[pid]-[incr ::harness::tmp_seq]"
    set dir [file join $::harness::tmp_base $name]
    file delete -force $dir
    file mkdir $dir
    lappend tmpdirs $dir
    return $dir
}

# Returns a TCP port on 127.0.0.1 that was free a moment ago (bound on port
# 0 and closed) and that this suite has not been handed before.  Raises an
# error if no new port turns up in 100 tries.
proc free_port {} {
    variable ::harness::ports
    for {set i 0} {$i < 100} {incr i} {
        set sock [socket -server list -myaddr 127.0.0.1 0]
        set port [lindex [fconfigure $sock -sockname] 2]
        close $sock
        if {$port ni $ports} {
            lappend ports $port
            return $port
        }
    }
    error "free_port: no new free port after 100 tries"
}

# ---------------------------------------------------------------------------
# Files and logs
# ---------------------------------------------------------------------------

# Returns the whole contents of FILE (UTF-8).  Raises an error if it cannot
# be read.
proc file_read {file} {
    set f [open $file r]
    fconfigure $f -encoding utf-8
    set text [read $f]
    close $f
    return $text
}

# Writes TEXT to FILE exactly (UTF-8, no newline added), creating parent
# directories.  Raises an error if it cannot be written.
proc file_write {file text} {
    file mkdir [file dirname $file]
    set f [open $file w]
    fconfigure $f -encoding utf-8 -translation lf
    puts -nonewline $f $text
    close $f
}

# Returns the last N lines of FILE joined by newlines, or "" if the file
# does not exist or cannot be read.
proc log_tail {file {n 15}} {
    if {[catch {file_read $file} text]} {
        return ""
    }
    set lines [split [string trimright $text \n] \n]
    return [join [lrange $lines end-[expr {$n - 1}] end] \n]
}

# Registers FILE so the last 15 lines of it are printed under every failed
# test for the rest of the suite.  Registering it twice is harmless.
proc watch_log {file} {
    variable ::harness::watched
    set file [file normalize $file]
    if {$file ni $watched} {
        lappend watched $file
    }
}

# Returns a new, unused file name NAME.EXT (or NAME-2.EXT, ...) in the
# suite's temp dir.
proc ::harness::new_file {name ext} {
    variable suite_tmp
    set base [regsub -all {[^A-Za-z0-9_.-]} $name _]
    set path [file join $suite_tmp $base.$ext]
    for {set i 2} {[file exists $path]} {incr i} {
        set path [file join $suite_tmp $base-$i.$ext]
    }
    return $path
}

# ---------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------

# Removes leading "-option value" pairs from the list in the caller's
# variable ARGSVAR and returns them merged over DEFAULTS (a dict whose keys
# are the accepted options).  "--" ends the options.  Raises an error for
# an unknown option or a missing value.
proc ::harness::take_opts {argsvar defaults} {
    upvar 1 $argsvar words
    set opts $defaults
    while {[llength $words] && [string match -* [lindex $words 0]]} {
        set words [lassign $words key]
        if {$key eq "--"} {
            break
        }
        if {![dict exists $defaults $key]} {
            error "unknown option \"$key\": expected one of [join [dict keys $defaults] {, }]"
        }
        if {![llength $words]} {
            error "option \"$key\" needs a value"
        }
        set words [lassign $words value]
        dict set opts $key $value
    }
    return $opts
}

# Returns a command line for exec that runs WORDS exactly as given.  Tcl's
# exec would take words such as "<x" or ">y" for redirections, so each word
# is passed to sh with an "x" in front, which sh strips before exec'ing.
proc ::harness::exec_words {words} {
    set script {for a; do shift; set -- "$@" "${a#x}"; done; exec "$@"}
    set cmd [list sh -c $script sh]
    foreach w $words {
        lappend cmd x$w
    }
    return $cmd
}

# Sets the environment variables in the dict VARS and returns a dict that
# restore_env uses to put the previous values back.
proc ::harness::push_env {vars} {
    set saved {}
    dict for {k v} $vars {
        dict set saved $k [expr {[info exists ::env($k)] ? [list $::env($k)] : {}}]
        set ::env($k) $v
    }
    return $saved
}

# Restores environment variables saved by push_env (unsetting those that
# were not set before).
proc ::harness::restore_env {saved} {
    dict for {k v} $saved {
        if {[llength $v]} {
            set ::env($k) [lindex $v 0]
        } else {
            unset -nocomplain ::env($k)
        }
    }
}

# Returns the exit code of a finished exec from catch's CODE and OPTS:
# 0, the exit status, 128+N for a process killed by signal N, or 127 when
# the command could not be started at all.
proc ::harness::exit_code {code opts} {
    if {$code == 0} {
        return 0
    }
    set ec [dict get $opts -errorcode]
    switch -- [lindex $ec 0] {
        CHILDSTATUS {return [lindex $ec 2]}
        CHILDKILLED {return [expr {128 + [signal_number [lindex $ec 2]]}]}
        default {return 127}
    }
}

# Returns the number of the signal called NAME (SIGKILL -> 9) on Linux, or
# 0 for a name it does not know.
proc ::harness::signal_number {name} {
    set numbers {SIGHUP 1 SIGINT 2 SIGQUIT 3 SIGILL 4 SIGTRAP 5 SIGABRT 6
        SIGBUS 7 SIGFPE 8 SIGKILL 9 SIGUSR1 10 SIGSEGV 11 SIGUSR2 12
        SIGPIPE 13 SIGALRM 14 SIGTERM 15}
    return [expr {[dict exists $numbers $name] ? [dict get $numbers $name] : 0}]
}

# Runs a command and waits for it, capturing stdout and stderr together:
#     run_cmd ?-env {K V ...}? ?-timeout SEC? ?-input TEXT? CMD ?ARG ...?
# -env sets variables for this command only; -timeout (default 60) kills
# it (whole process group, via coreutils timeout) after SEC seconds;
# -input is fed on stdin (default: /dev/null).  Arguments are passed as
# they are: no shell, and no exec redirections.  Returns a dict
# {code N out TEXT timed_out 0|1}: N is the exit status, 128+signal when
# killed, 124 when timed out, 127 when it could not be started.  OUT has
# one trailing newline removed.  Never raises for a failing command; raises
# only for bad options.  Daemons the command leaves behind may keep running
# (output goes to a file, so they do not block run_cmd).
proc run_cmd {args} {
    set o [::harness::take_opts args {-env {} -timeout 60 -input ""}]
    if {![llength $args]} {
        error "usage: run_cmd ?-env {K V ...}? ?-timeout SEC? ?-input TEXT? CMD ?ARG ...?"
    }
    ::harness::trace_cmd $args
    set out [::harness::new_file run_cmd out]
    set stdin [expr {[dict get $o -input] eq ""
        ? [list < /dev/null] : [list << [dict get $o -input]]}]
    set cmd [list timeout -k 5 [dict get $o -timeout] \
        {*}[::harness::exec_words $args] >& $out {*}$stdin]
    set saved [::harness::push_env [dict get $o -env]]
    set start [clock milliseconds]
    set code [catch {exec {*}$cmd} err opts]
    set elapsed [expr {[clock milliseconds] - $start}]
    ::harness::restore_env $saved
    set status [::harness::exit_code $code $opts]
    set text [expr {[file exists $out] ? [file_read $out] : ""}]
    if {$code && [lindex [dict get $opts -errorcode] 0] ni {CHILDSTATUS CHILDKILLED}} {
        append text $err
    }
    file delete $out
    set timed_out [expr {$status in {124 137}
        && $elapsed >= 1000 * [dict get $o -timeout]}]
    return [dict create code $status out [regsub {\n$} $text ""] timed_out $timed_out]
}

# Starts a background process with stdout and stderr going to NAME.log in
# the suite's temp dir (see bg_log) and stdin from /dev/null:
#     start_bg NAME ?-env {K V ...}? CMD ?ARG ...?
# The log is watched (its tail is shown under failed tests) and the process
# is stopped at suite end (TERM, then KILL; its descendants too).  Returns
# the pid.  Raises an error if the command cannot be started.
proc start_bg {name args} {
    set o [::harness::take_opts args {-env {}}]
    if {![llength $args]} {
        error "usage: start_bg NAME ?-env {K V ...}? CMD ?ARG ...?"
    }
    ::harness::trace_cmd $args
    set log [::harness::new_file $name log]
    close [open $log w]
    set saved [::harness::push_env [dict get $o -env]]
    set code [catch {
        exec {*}[::harness::exec_words $args] >& $log < /dev/null &
    } pid opts]
    ::harness::restore_env $saved
    if {$code} {
        return -options $opts $pid
    }
    dict set ::harness::bg $pid [list name $name log $log]
    watch_log $log
    return $pid
}

# Returns the log file of the background process PID started by start_bg.
# Raises an error for a pid start_bg did not start.
proc bg_log {pid} {
    if {![dict exists $::harness::bg $pid]} {
        error "bg_log: $pid was not started by start_bg"
    }
    return [dict get $::harness::bg $pid log]
}

# Sends SIGNAL (default TERM; a name like TERM/SIGTERM or a number) to
# PID, waits up to 5 s for it to exit, then sends KILL if it has not.
# Returns 1 if SIGNAL alone stopped it, 0 if KILL was needed.  Only PID is
# signalled, not its children (so a test can check that the process
# cleans up after itself).
proc stop_bg {pid {signal TERM}} {
    ::proctree::signal [list $pid] $signal
    set stopped [::proctree::wait_dead [list $pid] 5000]
    if {!$stopped} {
        ::proctree::signal [list $pid] KILL
        ::proctree::wait_dead [list $pid] 2000
    }
    dict unset ::harness::bg $pid
    return $stopped
}

# Returns 1 if PID is a running process, 0 if it does not exist or has
# exited (a zombie counts as exited).  Never raises.
proc pid_alive {pid} {
    return [::proctree::alive $pid]
}

# ---------------------------------------------------------------------------
# HTTP and JSON
# ---------------------------------------------------------------------------

# Performs one HTTP request and waits for the answer:
#     http_request METHOD URL ?-headers {K V ...}? ?-body DATA? ?-timeout MS?
# The body is sent as UTF-8 with Content-Type application/json unless
# -headers names another.  Returns a dict {status CODE body TEXT headers
# DICT} (header names lower-cased) for every answer, 2xx or not.  When no
# answer comes (refused, reset, timeout; default 10000 ms) it returns status
# 0, an empty body and an `error` key with the reason.  Never raises except
# for bad options.
proc http_request {method url args} {
    set o [::harness::take_opts args {-headers {} -body "" -timeout 10000}]
    if {[llength $args]} {
        error "usage: http_request METHOD URL ?-headers {K V ...}? ?-body DATA? ?-timeout MS?"
    }
    set method [string toupper $method]
    set cmd [list ::http::geturl $url -method $method -keepalive 0 \
        -timeout [dict get $o -timeout]]
    set type application/json
    set headers {}
    foreach {k v} [dict get $o -headers] {
        if {[string tolower $k] eq "content-type"} {
            set type $v
        } else {
            lappend headers $k $v
        }
    }
    lappend cmd -headers $headers
    if {[dict get $o -body] ne "" || $method in {POST PUT PATCH}} {
        lappend cmd -type $type -query [encoding convertto utf-8 [dict get $o -body]]
    }
    if {[catch {{*}$cmd} token]} {
        return [dict create status 0 body "" headers {} error $token]
    }
    set result [::harness::http_result $token [dict get $o -timeout]]
    ::http::cleanup $token
    return $result
}

# Returns the result dict of http_request for the finished request TOKEN.
proc ::harness::http_result {token timeout_ms} {
    switch -- [::http::status $token] {
        ok {}
        timeout {
            return [dict create status 0 body "" headers {} \
                error "no answer within $timeout_ms ms"]
        }
        default {
            return [dict create status 0 body "" headers {} \
                error [::http::error $token]]
        }
    }
    set headers {}
    foreach {k v} [::http::meta $token] {
        dict set headers [string tolower $k] $v
    }
    set body [::http::data $token]
    # The http package decodes JSON without a charset as ISO 8859-1, but
    # JSON is UTF-8 (RFC 8259), so undo that.
    set ctype [expr {[dict exists $headers content-type] ? [dict get $headers content-type] : ""}]
    if {[string match -nocase *json* $ctype] && ![string match -nocase *charset* $ctype]} {
        set body [encoding convertfrom utf-8 [encoding convertto iso8859-1 $body]]
    }
    return [dict create status [::http::ncode $token] body $body headers $headers]
}

# Returns the value at PATH in the JSON text JSON, converted the way
# json::json2dict converts (objects become dicts, arrays lists, null the
# string "null").  Each path element is an object key or, for an array, a
# 0-based index; with no PATH the whole document is returned.  Raises an
# assert error (shown as expected/got) if a key or index is missing; a JSON
# syntax error raises the json package's error.
proc json_get {json args} {
    if {![llength $args]} {
        return [::json::json2dict $json]
    }
    # json2dict alone cannot tell an array from an object with the same
    # words, so the path is walked on a typed huddle tree.
    set node [::huddle::json2huddle $json]
    set walked {}
    foreach key $args {
        lappend walked $key
        if {![::harness::json_has $node $key]} {
            ::harness::assert_failed "JSON with a value at [join $walked /]" $json \
                "json_get: nothing at [join $walked /]"
        }
        set node [::huddle get $node $key]
    }
    return [::json::json2dict [::huddle jsondump $node "" ""]]
}

# Returns 1 if the huddle NODE is an object with KEY or an array with index
# KEY, else 0.
proc ::harness::json_has {node key} {
    switch -- [::huddle type $node] {
        dict {
            return [expr {$key in [::huddle keys $node]}]
        }
        list {
            return [expr {[string is integer -strict $key]
                && $key >= 0 && $key < [::huddle llength $node]}]
        }
        default {
            return 0
        }
    }
}

# ---------------------------------------------------------------------------
# Suite end and cleanup
# ---------------------------------------------------------------------------

# Registers SCRIPT to run at global level when the suite ends, before
# background processes are stopped and temp dirs removed.  Scripts run
# newest first; an error in one is printed and the others still run.
proc at_suite_end {script} {
    lappend ::harness::cleanups $script
}

# Ends the suite: runs the cleanups, prints "@@counts PASSED FAILED
# SKIPPED" and exits (status 1 if any test failed, else 0).  Every suite
# calls it last.
proc suite_end {} {
    ::harness::cleanup
    set c $::harness::counts
    ::harness::say "@@counts [dict get $c passed] [dict get $c failed] [dict get $c skipped]"
    ::harness::real_exit [expr {[dict get $c failed] > 0}]
}

# Runs the at_suite_end scripts, stops background processes and any other
# process this suite left running, and removes the temp dirs.  Runs only
# once; problems are printed as warnings, never raised.
proc ::harness::cleanup {} {
    variable cleaned
    if {$cleaned} {
        return
    }
    set cleaned 1
    run_cleanup_scripts
    stop_everything
    remove_tmpdirs
}

# Runs the at_suite_end scripts, newest first, printing errors as warnings.
proc ::harness::run_cleanup_scripts {} {
    variable cleanups
    foreach script [lreverse $cleanups] {
        if {[catch {uplevel #0 $script} msg]} {
            say "\[warn\] at_suite_end script failed: $msg"
        }
    }
}

# Stops every process started with start_bg and whatever else is still
# running below this suite's process (TERM, then KILL after 3 s).
proc ::harness::stop_everything {} {
    variable bg
    set pids [dict keys $bg]
    lappend pids {*}[::proctree::descendants [pid]]
    ::proctree::kill_tree $pids 3000
    set bg {}
}

# Removes the suite's temp dirs, or lists them when RAYC_KEEP_TMP is set.
proc ::harness::remove_tmpdirs {} {
    variable tmpdirs
    if {[info exists ::env(RAYC_KEEP_TMP)] && $::env(RAYC_KEEP_TMP) ni {"" 0}} {
        if {[llength $tmpdirs]} {
            say "kept temp dirs: [join $tmpdirs { }]"
        }
        return
    }
    foreach dir $tmpdirs {
        if {[catch {file delete -force $dir} msg]} {
            say "\[warn\] could not remove $dir: $msg"
        }
    }
}

# A suite that calls exit directly still gets its cleanups (but prints no
# counts line, so run.tcl reports it as died).
rename ::exit ::harness::real_exit
proc ::exit {{status 0}} {
    ::harness::cleanup
    ::harness::real_exit $status
}

# ---------------------------------------------------------------------------
# Load-time setup: the suite's own temp dir, HOME and RAY_TMPDIR
# ---------------------------------------------------------------------------

# Points HOME, RAY_TMPDIR and RAYC_NODE_REGISTRY (the per-host node registry
# `ray stop` reads) into the suite's temp dir, remembering the original
# values in ::harness::orig_env, so suites running side by side never stop
# each other's nodes.
proc ::harness::isolate_env {} {
    variable suite_tmp
    variable orig_env
    set suite_tmp [tmpdir]
    foreach {var sub} {HOME home RAY_TMPDIR ray RAYC_NODE_REGISTRY nodes} {
        if {[info exists ::env($var)]} {
            dict set orig_env $var $::env($var)
        }
        set dir [file join $suite_tmp $sub]
        file mkdir $dir
        set ::env($var) $dir
    }
}
::harness::isolate_env

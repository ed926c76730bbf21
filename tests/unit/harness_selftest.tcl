# Proves the test harness and tests/run.tcl work: asserts, wait_for, run_cmd, ports, processes, HTTP/JSON and failure reports.

source [file join [file dirname [info script]] .. lib harness.tcl]

set harness_file [file join $::harness::root tests lib harness.tcl]

# ---------------------------------------------------------------------------
# A tiny HTTP/1.1 server on 127.0.0.1, event driven so that it answers while
# http_request in this same process waits in the event loop.
#   GET /ping -> 200 {"ok": true, "items": [...]}
#   POST /echo -> 201 with the request body
#   GET /hang -> never answers
#   anything else -> 404
# ---------------------------------------------------------------------------

# Accepts a connection and starts reading its request head.
proc srv_accept {chan addr port} {
    fconfigure $chan -blocking 0 -translation {auto binary} -encoding iso8859-1
    set ::srv_head($chan) {}
    fileevent $chan readable [list srv_read_head $chan]
}

# Reads request-head lines until the empty line, then reads the body.
proc srv_read_head {chan} {
    while {[gets $chan line] >= 0} {
        if {$line ne ""} {
            lappend ::srv_head($chan) $line
            continue
        }
        set len 0
        foreach h $::srv_head($chan) {
            regexp -nocase {^content-length:\s*(\d+)} $h - len
        }
        fconfigure $chan -translation binary
        set ::srv_body($chan) ""
        fileevent $chan readable [list srv_read_body $chan $len]
        srv_read_body $chan $len
        return
    }
    if {[eof $chan]} {
        srv_close $chan
    }
}

# Reads the request body up to LEN bytes, then answers.
proc srv_read_body {chan len} {
    set want [expr {$len - [string length $::srv_body($chan)]}]
    append ::srv_body($chan) [read $chan $want]
    if {[string length $::srv_body($chan)] < $len} {
        if {[eof $chan]} {
            srv_close $chan
        }
        return
    }
    fileevent $chan readable {}
    lassign [lindex $::srv_head($chan) 0] method path
    srv_answer $chan $method $path $::srv_body($chan)
}

# Writes the answer for METHOD PATH with request BODY (bytes) and closes.
proc srv_answer {chan method path body} {
    switch -- "$method $path" {
        "GET /ping" {
            set code 200
            set out {{"ok": true, "items": [{"name": "a"}, {"name": "b"}]}}
        }
        "POST /echo" {set code 201; set out $body}
        "GET /hang" {return}
        default {set code 404; set out {{"error": "not found"}}}
    }
    set out [encoding convertto utf-8 [encoding convertfrom utf-8 $out]]
    puts -nonewline $chan "HTTP/1.1 $code X\r\nContent-Type: application/json\r\n"
    puts -nonewline $chan "Content-Length: [string length $out]\r\nX-Selftest: yes\r\n"
    puts -nonewline $chan "Connection: close\r\n\r\n$out"
    srv_close $chan
}

# Closes CHAN and forgets its request.
proc srv_close {chan} {
    catch {close $chan}
    unset -nocomplain ::srv_head($chan) ::srv_body($chan)
}

set srv_port [free_port]
set srv [socket -server srv_accept -myaddr 127.0.0.1 $srv_port]
at_suite_end {close $srv}
set base http://127.0.0.1:$srv_port

# ---------------------------------------------------------------------------
# test and the asserts
# ---------------------------------------------------------------------------

test "harness-1.1 the body's result is compared with EXPECTED" {
    expr {6 * 7}
} 42

test "harness-1.2 the body runs in the caller's scope" {
    set scoped_value 7
    assert_equal 7 [set ::scoped_value]
}

test "harness-1.3 assert_equal raises expected and got in its errorcode" {
    catch {assert_equal apple pear "fruit differs"} msg opts
    assert_equal {RAYC_ASSERT apple pear {fruit differs}} [dict get $opts -errorcode]
    assert_equal "fruit differs" $msg
}

test "harness-1.4 assert_match and assert_true pass and fail" {
    assert_match "gcs-*" "gcs-1.2"
    assert_error "expected: match for raylet-*, got: gcs-1" {assert_match "raylet-*" gcs-1}
    set n 3
    assert_true {$n > 2}
    catch {assert_true {$n > 5}} msg opts
    assert_equal {RAYC_ASSERT {true: $n > 5} {false: 3 > 5} {}} [dict get $opts -errorcode]
}

test "harness-1.4b assert_regexp passes on a match and shows the text on a miss" {
    assert_regexp {^gcs-[0-9]+\.[0-9]+$} "gcs-1.2"
    catch {assert_regexp {^raylet-[0-9]$} "gcs-1\nsecond line"} msg opts
    assert_equal [list RAYC_ASSERT {match for regexp ^raylet-[0-9]$} "gcs-1\nsecond line" {}] \
        [dict get $opts -errorcode]
}

test "harness-1.5 assert_error returns the message and fails without an error" {
    assert_equal boom [assert_error "bo*" {error boom}]
    catch {assert_error "*" {expr 1}} msg
    assert_equal "expected: error matching *, got: no error, result: 1" $msg
}

# ---------------------------------------------------------------------------
# wait_for
# ---------------------------------------------------------------------------

test "harness-2.1 wait_for sees a condition a timer sets (the event loop runs)" {
    set flag 0
    after 100 {set flag 1}
    wait_for {$flag} 2000
    set flag
} 1

test "harness-2.2 wait_for raises a timeout assert error after the deadline" {
    set start [clock milliseconds]
    assert_error "timed out after 200 ms waiting for: 0 == 1 (never)" {
        wait_for {0 == 1} 200 never
    }
    assert_true {[clock milliseconds] - $start >= 200}
}

# ---------------------------------------------------------------------------
# run_cmd
# ---------------------------------------------------------------------------

test "harness-3.1 run_cmd returns the exit code and stdout plus stderr" {
    set r [run_cmd sh -c {echo out; echo err >&2; exit 3}]
    list [dict get $r code] [dict get $r out] [dict get $r timed_out]
} [list 3 "out\nerr" 0]

test "harness-3.2 run_cmd passes words that look like redirections as they are" {
    dict get [run_cmd printf {%s|} <in >out |pipe 2>x "a b" &] out
} {<in|>out||pipe|2>x|a b|&|}

test "harness-3.3 run_cmd -env sets a variable for that command only" {
    set r [run_cmd -env {RAYC_SELFTEST hello} sh -c {echo "$RAYC_SELFTEST"}]
    assert_equal hello [dict get $r out]
    assert_true {![info exists ::env(RAYC_SELFTEST)]}
}

test "harness-3.4 run_cmd -timeout kills a command that runs too long" {
    # Unkilled, the sleep would outlast the suite's own limit (run.tcl).
    set r [run_cmd -timeout 1 sleep 3600]
    assert_equal {124 1} [list [dict get $r code] [dict get $r timed_out]]
}

test "harness-3.5 run_cmd reports a missing command as 127 and a signal as 128+N" {
    assert_equal 127 [dict get [run_cmd /nonexistent/rayc-selftest] code]
    assert_equal 137 [dict get [run_cmd sh -c {kill -KILL $$}] code]
}

test "harness-3.6 run_cmd -input feeds stdin" {
    dict get [run_cmd -input "one\ntwo\n" wc -l] out
} 2

# ---------------------------------------------------------------------------
# Ports, paths, temp dirs and files
# ---------------------------------------------------------------------------

test "harness-4.1 free_port hands out distinct ports that can be bound" {
    set ports {}
    for {set i 0} {$i < 20} {incr i} {
        set p [free_port]
        close [socket -server list -myaddr 127.0.0.1 $p]
        lappend ports $p
    }
    assert_equal 20 [llength [lsort -unique $ports]]
}

test "harness-4.2 tmpdir makes a fresh empty directory each time" {
    set a [tmpdir]
    set b [tmpdir]
    assert_true {$a ne $b && [file isdirectory $a] && [file isdirectory $b]}
    assert_match "*/rayc-test-harness_selftest-[pid]-*" $a
    glob -nocomplain -directory $a *
} {}

test "harness-4.3 HOME, RAY_TMPDIR and RAYC_NODE_REGISTRY point into the suite's temp dir" {
    assert_equal [file join $::harness::suite_tmp home] $::env(HOME)
    assert_equal [file join $::harness::suite_tmp ray] $::env(RAY_TMPDIR)
    assert_equal [file join $::harness::suite_tmp nodes] $::env(RAYC_NODE_REGISTRY)
    assert_true {[file isdirectory $::env(HOME)]}
    assert_true {[dict exists $::harness::orig_env HOME]}
}

test "harness-4.4 rayc_bin names bin/NAME in the repository root" {
    assert_true {[file exists [file join $::harness::root tests run.tcl]]}
    rayc_bin rayc
} [file join $::harness::root bin rayc]

test "harness-4.5 file_write, file_read and log_tail" {
    set f [file join [tmpdir] sub dir log.txt]
    file_write $f "l1\nl2\nl3\nh\u00e9\n"
    assert_equal "l1\nl2\nl3\nh\u00e9\n" [file_read $f]
    assert_equal "" [log_tail /nonexistent/log]
    log_tail $f 2
} "l3\nh\u00e9"

# ---------------------------------------------------------------------------
# HTTP and JSON
# ---------------------------------------------------------------------------

test "harness-5.1 http_request GET returns status, headers and a JSON body" {
    set r [http_request GET $base/ping]
    assert_equal 200 [dict get $r status]
    assert_equal yes [dict get $r headers x-selftest]
    assert_equal true [json_get [dict get $r body] ok]
    json_get [dict get $r body] items 1 name
} b

test "harness-5.2 http_request POST sends the body as UTF-8 and reads it back" {
    set r [http_request POST $base/echo -body "{\"name\": \"h\u00e9\"}" -headers {X-A 1}]
    assert_equal "{\"name\": \"h\u00e9\"}" [dict get $r body]
    assert_equal 201 [dict get $r status]
    json_get [dict get $r body] name
} "h\u00e9"

test "harness-5.3 http_request returns non-2xx answers instead of raising" {
    dict get [http_request GET $base/missing] status
} 404

test "harness-5.4 http_request returns status 0 when nothing listens" {
    set r [http_request GET http://127.0.0.1:[free_port]/]
    assert_equal 0 [dict get $r status]
    assert_match "*refused*" [dict get $r error]
}

test "harness-5.5 http_request returns status 0 after -timeout" {
    set r [http_request GET $base/hang -timeout 300]
    list [dict get $r status] [dict get $r error]
} {0 {no answer within 300 ms}}

test "harness-5.6 json_get tells arrays from objects and reports missing keys" {
    assert_equal 1 [json_get {{"a": [1, 0, 0, 5]}} a 0]
    assert_equal {x 1} [json_get {{"o": {"x": 1}}} o]
    assert_equal null [json_get {{"n": null}} n]
    assert_error "json_get: nothing at a/b" {json_get {{"a": {"c": 1}}} a b}
}

# ---------------------------------------------------------------------------
# Background processes
# ---------------------------------------------------------------------------

test "harness-6.1 start_bg logs output, stop_bg stops the process" {
    set pid [start_bg talker -env {RAYC_SELFTEST hi} sh -c {echo "says $RAYC_SELFTEST"; exec sleep 300}]
    wait_for {[string match "*says hi*" [file_read [bg_log $pid]]]} 5000
    assert_true {[pid_alive $pid]}
    assert_equal 1 [stop_bg $pid]
    pid_alive $pid
} 0

test "harness-6.2 pid_alive is 0 for a pid that does not exist" {
    pid_alive 999999999
} 0

# ---------------------------------------------------------------------------
# Failure reports of a suite, seen from outside
# ---------------------------------------------------------------------------

# Writes a suite named NAME.tcl with BODY (after sourcing the harness) into
# a fresh temp dir and returns its path.
proc write_suite {name body} {
    set file [file join [tmpdir] $name.tcl]
    file_write $file "source [list $::harness_file]\n$body\n"
    return $file
}

test "harness-7.1 failures print expected/got, errors and the watched log tail" {
    set log [file join [tmpdir] daemon.log]
    file_write $log "line 1\nthe daemon said why\n"
    set file [write_suite demo [string map [list @LOG@ $log] {
        watch_log @LOG@
        test "demo-1.1 passes" {expr 1} 1
        test "demo-1.2 wrong result" {expr {1 + 1}} 3
        test "demo-1.3 failed assert" {assert_equal "a\nb" c}
        test "demo-1.4 plain error" {error boom}
        suite_end
    }]]
    set r [run_cmd [info nameofexecutable] $file]
    set out [dict get $r out]
    assert_equal 1 [dict get $r code]
    assert_match "\\\[ok\\\] demo-1.1 passes (*ms)\n*" $out
    assert_contains "\[err\] demo-1.2 wrong result\n  expected: 3\n  got:      2\n" $out
    assert_contains "\n  expected: a\n            b\n  got:      c\n" $out
    assert_contains "\[err\] demo-1.4 plain error\n  error:    boom\n" $out
    assert_contains "last 15 lines of $log:\n  | line 1\n  | the daemon said why" $out
    assert_match "*\n@@counts 1 3 0" $out
}

test "harness-7.2 an error at a suite's top level is a failure, cleanups still run" {
    set pidfile [file join [tmpdir] pid]
    set file [write_suite toplevel [string map [list @PIDFILE@ $pidfile] {
        file_write @PIDFILE@ [start_bg sleeper sleep 300]
        test "top-1.1 passes" {expr 1}
        error "suite broke"
    }]]
    set main [file join $::harness::root tests lib suite_main.tcl]
    set r [run_cmd [info nameofexecutable] $main $file]
    assert_equal 1 [dict get $r code]
    assert_contains "\[err\] toplevel: error at the top level of the suite\n  error:    suite broke" [dict get $r out]
    assert_match "*\n@@counts 1 1 0" [dict get $r out]
    pid_alive [file_read $pidfile]
} 0

test "harness-7.3 skip_suite and skip_test count skipped tests" {
    set file [write_suite skipper {
        skip_test "skip-1.1 one test" "no widget here"
        skip_suite "needs a widget"
        test "skip-1.2 never runs" {expr 1}
    }]
    set r [run_cmd [info nameofexecutable] $file]
    assert_equal 0 [dict get $r code]
    dict get $r out
} "\[skip\] skip-1.1 one test: no widget here\n\[skip\] skipper: needs a widget\n@@counts 0 0 2"

# ---------------------------------------------------------------------------
# tests/run.tcl on a made-up tree
# ---------------------------------------------------------------------------

# Makes a tree with C "binaries" (shell scripts that talk like cmocka) and
# suites that pass, fail, die, hang and run serially; returns its root.
proc make_fake_tree {} {
    set root [tmpdir]
    set h "source [list $::harness_file]"
    file_write $root/tests/unit/good.tcl "$h\ntest {good-1.1 a} {expr 1} 1\ntest {good-1.2 b} {}\nsuite_end\n"
    file_write $root/tests/unit/bad.tcl "$h\ntest {bad-1.1 ok} {}\ntest {bad-1.2 wrong} {expr 2} 3\nsuite_end\n"
    file_write $root/tests/unit/dies.tcl "$h\nputs {about to die}\nexit 3\n"
    file_write $root/tests/unit/hangs.tcl "$h\nfile_write \[file join [list $root] hang.pid\] \[start_bg sleeper sleep 300\]\nfile_write \[file join [list $root] suite.pid\] \[pid\]\nvwait forever\n"
    file_write $root/tests/integration/alone.tcl "# serial\n$h\ntest {alone-1.1 runs last} {}\nsuite_end\n"
    file_write $root/build/tests/test_fake [join {
        "#!/bin/sh"
        "echo '\[==========\] Running 3 test(s).'"
        "echo '\[ RUN      \] passes'"
        "echo '\[       OK \] passes'"
        "echo '\[ RUN      \] fails'"
        "echo '\[  ERROR   \] --- 1 != 2'"
        "echo '\[   LINE   \] --- fake.c:10: error: Failure!'"
        "echo '\[  FAILED  \] fails'"
        "echo '\[ RUN      \] skips'"
        "echo '\[  SKIPPED \] skips'"
        "echo '\[  FAILED  \] 1 test(s), listed below:'"
        "echo '\[  FAILED  \] fails'"
        "exit 1"
    } \n]\n
    file_write $root/build/tests/test_crash "#!/bin/sh\necho '\[ RUN      \] crash_me'\nkill -SEGV \$\$\n"
    file attributes $root/build/tests/test_fake -permissions 0755
    file attributes $root/build/tests/test_crash -permissions 0755
    return $root
}

test "harness-8.1 run.tcl sums suites and C tests, and kills what hangs" {
    set root [make_fake_tree]
    set run [file join $::harness::root tests run.tcl]
    set r [run_cmd -env {RAYC_SUITE_TIMEOUT 2} -timeout 120 \
        [info nameofexecutable] $run -root $root -j 4]
    set out [dict get $r out]
    assert_equal 1 [dict get $r code]
    assert_match "*\n5 passed, 5 failed, 1 skipped" $out
    assert_contains "\[ok\] c/test_fake/passes (" $out
    assert_contains "\[err\] c/test_fake/fails\n  | \[  ERROR   \] --- 1 != 2\n" $out
    assert_contains "\[skip\] c/test_fake/skips" $out
    assert_contains "\[err\] c/test_crash: killed by SIGSEGV with no FAILED test (during crash_me)" $out
    assert_contains "\[err\] unit/dies: died without a @@counts line (exit status 3)\n  | about to die" $out
    assert_contains "\[err\] unit/hangs: timed out after 2 s, killed" $out
    assert_contains "\[err\] bad-1.2 wrong\n  expected: 3\n  got:      2" $out
    # The summary lists failures in the order they finished (in parallel).
    assert_match "*\nfailed:\n*  c/test_fake/fails\n*" $out
    assert_match "*\nfailed:\n*  c/test_crash: killed*" $out
    assert_true {![regexp -line {^@@counts} $out]} "counts lines are not shown"
    assert_true {![pid_alive [file_read $root/hang.pid]]}
    set suite_pid [file_read $root/suite.pid]
    assert_equal {} [glob -nocomplain -directory $::harness::tmp_base rayc-test-hangs-$suite_pid-*]
    # The serial suite runs after all the others.
    lindex [regexp -all -inline -line {^=== \S+} $out] end
} "=== integration/alone:"

test "harness-8.1b a suite with a line \"# timeout N\" outlives RAYC_SUITE_TIMEOUT" {
    set root [make_fake_tree]
    set h "source [list [file join $::harness::root tests lib harness.tcl]]"
    # Runs past the 1 s default on purpose: what is checked is that its
    # own 600 s limit applies instead.
    file_write $root/tests/unit/long.tcl "# timeout 600\n$h\nafter 2500\ntest {long-1.1 outlived the default} {}\nsuite_end\n"
    set run [file join $::harness::root tests run.tcl]
    set r [run_cmd -env {RAYC_SUITE_TIMEOUT 1} -timeout 120 \
        [info nameofexecutable] $run -root $root -only long]
    assert_equal 0 [dict get $r code] [dict get $r out]
    assert_match "*\\\[ok\\\] long-1.1 outlived the default*\n1 passed, 0 failed" [dict get $r out]
}

test "harness-8.2 run.tcl -only selects suites; nothing run is a failure" {
    set root [make_fake_tree]
    set run [file join $::harness::root tests run.tcl]
    set r [run_cmd [info nameofexecutable] $run -root $root -only good]
    assert_equal 0 [dict get $r code]
    assert_match "*\n2 passed, 0 failed" [dict get $r out]
    set r [run_cmd [info nameofexecutable] $run -root $root -only nothing-matches]
    assert_equal 1 [dict get $r code]
    dict get $r out
} "running 0 test binaries and suites, 2 at a time\nnothing ran\n0 passed, 0 failed"

suite_end

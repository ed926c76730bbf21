# Every program's command line (getopt_long through runtime/common/cmdline):
# --help prints the usage on stdout and exits 0; an unknown option, an
# abbreviated one and a missing value are one clear error with exit 2;
# "--flag=v" and "--flag v" mean the same.
source [file join [file dirname [info script]] .. lib harness.tcl]

foreach prog {gcs_server raylet ray_jobserver ray} {
    if {![file executable [rayc_bin $prog]]} {
        skip_suite "bin/$prog was not built"
    }
}

# Runs bin/PROG ARGS; returns {code STDOUT STDERR}.
proc run_split {prog args} {
    set err [file join [tmpdir] stderr]
    set code [catch {exec [rayc_bin $prog] {*}$args 2>$err </dev/null} out opts]
    set status [expr {$code ? [lindex [dict get $opts -errorcode] 2] : 0}]
    if {$code && [lindex [dict get $opts -errorcode] 0] ne "CHILDSTATUS"} {
        set status "not run: $out"
    }
    if {$code} { set out [regsub {\n?child process exited abnormally$} $out ""] }
    return [list $status $out [string trimright [file_read $err] \n]]
}

test {cmdline-1.1 gcs_server --help: usage on stdout, exit 0} {
    lassign [run_split gcs_server --help] code out err
    assert_equal 0 $code $err
    assert_match "usage: gcs_server *--task-events-max-num-task-in-gcs N*" $out
}

test {cmdline-1.2 gcs_server: unknown, abbreviated and valueless options are one line, exit 2} {
    assert_equal [list 2 "" "gcs_server: unknown option '--bogus'"] [run_split gcs_server --bogus=1]
    assert_equal [list 2 "" "gcs_server: unknown option '--por'"] [run_split gcs_server --por 6379]
    assert_equal [list 2 "" "gcs_server: option --port needs a value"] [run_split gcs_server --port]
    assert_equal [list 2 "" "gcs_server: invalid value for --port: 'x'"] [run_split gcs_server --port=x]
    assert_equal [list 2 "" "gcs_server: invalid value for --port: 'x'"] [run_split gcs_server --port x]
}

test {cmdline-2.1 raylet --help: usage on stdout, exit 0} {
    lassign [run_split raylet --help] code out err
    assert_equal 0 $code $err
    assert_match "usage: raylet --gcs-address IP:PORT*--object-spilling-directory DIR*" $out
}

test {cmdline-2.2 raylet: an unknown or abbreviated flag is one line, exit 2} {
    assert_equal [list 2 "" "raylet: unknown flag --bogus"] [run_split raylet --bogus]
    assert_equal [list 2 "" "raylet: unknown flag --num"] [run_split raylet --num 2]
    assert_equal [list 2 "" "raylet: --head takes no value"] [run_split raylet --head=1]
}

test {cmdline-3.1 ray_jobserver --help and -h: usage on stdout, exit 0} {
    foreach flag {--help -h} {
        lassign [run_split ray_jobserver $flag] code out err
        assert_equal 0 $code "$flag: $err"
        assert_match "usage: ray_jobserver --node-dir DIR*--raylet-socket PATH*" $out
        assert_equal "" $err
    }
}

test {cmdline-3.2 ray_jobserver: an unknown option is one line, exit 2; --flag=v is --flag v} {
    assert_equal [list 2 "" "ray_jobserver: unknown option --bogus"] \
        [run_split ray_jobserver --bogus x]
    set want "ray_jobserver: --port wants an integer in \[1, 65535\], got 'x'"
    assert_equal [list 2 "" $want] [run_split ray_jobserver --node-dir /nonexistent --port=x]
    assert_equal [list 2 "" $want] [run_split ray_jobserver --node-dir /nonexistent --port x]
    assert_equal [list 2 "" "ray_jobserver: --role wants head or agent, got 'x'"] \
        [run_split ray_jobserver --role=x]
}

test {cmdline-4.1 ray job and its subcommands: --help exits 0 with the usage on stdout} {
    lassign [run_split ray job --help] code out err
    assert_equal 0 $code $err
    assert_match {Usage: ray job \[OPTIONS\] COMMAND \[ARGS\]...*} $out
    foreach {cmd usage} {submit {[OPTIONS] ENTRYPOINT...} status {[OPTIONS] JOB_ID}
                         list {[OPTIONS]}} {
        assert_equal [list 0 "Usage: ray job $cmd $usage" ""] [run_split ray job $cmd --help]
    }
}

test {cmdline-4.2 ray job: click's usage error for an unknown, abbreviated or valueless option} {
    set head "Usage: ray job status \[OPTIONS\] JOB_ID\nTry 'ray job status --help' for help.\n\n"
    assert_equal [list 2 "" "${head}Error: No such option: --bogus"] \
        [run_split ray job status --bogus=1 x]
    assert_equal [list 2 "" "${head}Error: No such option: --addr"] \
        [run_split ray job status --addr http://h:1 x]
    assert_equal [list 2 "" "${head}Error: Option '--address' requires an argument."] \
        [run_split ray job status x --address]
    set head "Usage: ray job submit \[OPTIONS\] ENTRYPOINT...\nTry 'ray job submit --help' for help.\n\n"
    assert_equal [list 2 "" "${head}Error: Option '--no-wait' does not take a value."] \
        [run_split ray job submit --no-wait=1 -- true]
}

test {cmdline-4.3 ray job list: --address=v and --address v agree} {
    # Nothing listens on port 1: both spellings reach the same connection error.
    set a [run_split ray job list --address=http://127.0.0.1:1]
    set b [run_split ray job list --address http://127.0.0.1:1]
    assert_equal [lindex $a 0] [lindex $b 0]
    assert_contains "http://127.0.0.1:1" [lindex $a 1][lindex $a 2]
    assert_equal $a $b
}

# Click's usage error (runtime/common/cmdline.c) for every `ray` command, not
# only `ray job` and the launcher's: the usage line, the --help hint, the error.
proc click_error {prog usage msg} {
    return [list 2 "" "Usage: $prog $usage\nTry '$prog --help' for help.\n\nError: $msg"]
}

test {cmdline-5.1 ray start/stop/status: click's usage error for a bad option} {
    assert_equal [click_error "ray status" {[OPTIONS]} "No such option: --bogus"] \
        [run_split ray status --bogus]
    assert_equal [click_error "ray status" {[OPTIONS]} "Option '--address' requires an argument."] \
        [run_split ray status --address]
    assert_equal [click_error "ray start" {[OPTIONS]} "Option '--head' does not take a value."] \
        [run_split ray start --head=1]
    assert_equal [click_error "ray stop" {[OPTIONS]} "No such option: -x"] [run_split ray stop -x]
    assert_equal [click_error "ray start" {[OPTIONS]} "Got unexpected extra argument (extra)"] \
        [run_split ray start --head extra]
}

test {cmdline-5.2 ray list/summary: click's usage error for a bad option or value} {
    set usage {[OPTIONS] {actors|jobs|placement-groups|nodes|workers|tasks|objects}}
    assert_equal [click_error "ray list" $usage "No such option: --bogus"] \
        [run_split ray list nodes --bogus=1]
    assert_equal [click_error "ray list" $usage "Option '--limit' requires an argument."] \
        [run_split ray list nodes --limit]
    assert_equal [click_error "ray list" $usage \
                      "Invalid value for '--limit': 'x' is not a valid integer."] \
        [run_split ray list nodes --limit x]
    assert_equal [click_error "ray summary" {[OPTIONS] {tasks|actors|objects}} \
                      "Invalid value for '--format': 'xml' is not one of 'default', 'json', 'yaml', 'table'."] \
        [run_split ray summary tasks --format xml]
}

test {cmdline-5.3 ray metrics and ray itself: click's usage error for a bad option or command} {
    set prog "ray metrics launch-prometheus"
    assert_equal [click_error $prog {[OPTIONS]} "No such option: --bogus"] \
        [run_split ray metrics launch-prometheus --bogus]
    assert_equal [click_error $prog {[OPTIONS]} "Option '--port' requires an argument."] \
        [run_split ray metrics launch-prometheus --port]
    assert_equal [click_error "ray metrics" {[OPTIONS] COMMAND [ARGS]...} "No such command 'bogus'."] \
        [run_split ray metrics bogus]
    assert_equal [click_error "ray" {[OPTIONS] COMMAND [ARGS]...} "No such command 'bogus'."] \
        [run_split ray bogus]
}

suite_end

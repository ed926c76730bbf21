# Running jobs: the entrypoint's environment and session, stop (process group,
# SIGKILL escalation, RAY_JOB_STOP_SIGNAL, pending jobs), entrypoint
# resources, the start timeout, the WebSocket log tail and 64 concurrent jobs.
source [file join [file dirname [info script]] .. lib jobs.tcl]

set s [jobs_server_start --gcs-address 127.0.0.1:1 --num-cpus 2 --resources {{"gadget": 1}}]

# ---------------------------------------------------------------- environment

test {jobs-run-1.1 the entrypoint sees RAY_ADDRESS, the job config, the token path and env_vars} {
    set id [jobs_submit $s {{"entrypoint": "env", "submission_id": "env-1",
        "metadata": {"who": "me"},
        "runtime_env": {"env_vars": {"GREETING": "hi $USER_X ${HOME}", "GONE": "a${NOT_SET_VAR}b",
                                     "USER_X": "u", "AFTER": "${GREETING}!"}}}}]
    jobs_wait $s $id SUCCEEDED
    set vars {}
    foreach line [split [jobs_logs $s $id] \n] {
        if {[regexp {^([A-Za-z_0-9]+)=(.*)$} $line - k v]} {
            dict set vars $k $v
        }
    }
    set config [json_get [dict get $vars RAY_JOB_CONFIG_JSON_ENV_VAR]]
    list [dict get $vars RAY_ADDRESS] [dict get $vars RAY_AUTH_TOKEN_PATH] \
        [dict get $vars GREETING] [dict get $vars GONE] [dict get $vars AFTER] \
        [dict get $vars PYTHONUNBUFFERED] [dict get $config metadata] \
        [dict get $config runtime_env env_vars USER_X]
} [list 127.0.0.1:1 [file join [dict get $s dir] token] "hi \$USER_X $env(HOME)" ab \
       "hi \$USER_X $env(HOME)!" 1 {job_submission_id env-1 job_name env-1 who me} u]

test {jobs-run-1.2 the entrypoint runs in its own session and process group} {
    set id [jobs_submit $s {{"entrypoint": "echo sid=$(ps -o sid= -p $$) pgid=$(ps -o pgid= -p $$)"}}]
    jobs_wait $s $id SUCCEEDED
    regexp {sid= *([0-9]+) pgid= *([0-9]+)} [jobs_logs $s $id] - sid pgid
    set server_sid [string trim [exec ps -o sid= -p [dict get $s pid]]]
    assert_equal $sid $pgid "the entrypoint leads its process group"
    assert_true {$sid != $server_sid} "a session of its own"
}

test {jobs-run-1.3 the job runs under bin/ray_job_wrapper, a program linked with libc alone (statically)} {
    set id [jobs_submit $s {{"entrypoint": "sleep 7781", "submission_id": "wrapper-1"}}]
    jobs_wait $s $id RUNNING
    set pidfile [file join [dict get $s node] job_state $id.pid]
    wait_for {[file exists $pidfile]} 20000 "the wrapper wrote its pid"
    set pid [lindex [file_read $pidfile] 0]
    set exe [file tail [file readlink /proc/$pid/exe]]
    # Its shared libraries (none when it is linked statically, as make does).
    set libs [regexp -all -inline {\(NEEDED\)[^\[]*\[([^\]]+)\]} \
        [exec readelf -d [rayc_bin ray_job_wrapper]]]
    jobs_api $s POST /api/jobs/$id/stop
    jobs_wait $s $id STOPPED
    assert_true {[lsearch -glob $libs libcurl*] < 0 && [lsearch -glob $libs libuv*] < 0} \
        "the wrapper's libraries: $libs"
    set exe
} ray_job_wrapper

# The name of the program that is PID's parent.
proc parent_exe {pid} {
    set stat [file_read /proc/$pid/stat]
    set ppid [lindex [string range $stat [expr {[string last ) $stat] + 2}] end] 1]
    return [file tail [file readlink /proc/$ppid/exe]]
}

test {jobs-run-1.4 a plain command runs without a shell in between; shell syntax keeps /bin/sh} {
    set a [jobs_submit $s {{"entrypoint": "env RAYC_X=1 sleep 7791"}}]
    set b [jobs_submit $s {{"entrypoint": "sleep 7792; true"}}]
    wait_for {[llength [jobs_pids_with "sleep 7791"]] == 1 &&
              [llength [jobs_pids_with "sleep 7792"]] == 1} 10000 "both sleeps"
    set pa [parent_exe [jobs_pids_with "sleep 7791"]]
    set pb [parent_exe [jobs_pids_with "sleep 7792"]]
    foreach id [list $a $b] {
        jobs_api $s POST /api/jobs/$id/stop
        jobs_wait $s $id STOPPED
    }
    assert_true {$pb in {dash sh bash}} "the shell job's parent program"
    set pa
} ray_job_wrapper

test {jobs-run-1.5 without the shell: a missing program gets the shell's message and 127, a signal 128+N} {
    set a [jobs_submit $s {{"entrypoint": "no-such-program-7793 x"}}]
    set d [jobs_wait $s $a FAILED]
    set b [jobs_submit $s {{"entrypoint": "sleep 7794"}}]
    wait_for {[llength [jobs_pids_with "sleep 7794"]] == 1} 30000 "the sleep"
    exec kill -9 [jobs_pids_with "sleep 7794"]
    set e [jobs_wait $s $b FAILED]
    assert_match "*no-such-program-7793: not found*" [jobs_logs $s $a]
    list [dict get $d driver_exit_code] [dict get $e driver_exit_code]
} {127 137}

# The spare job wrappers of server S: started ahead of their jobs, waiting.
proc spares_of {s} {
    set out {}
    foreach p [jobs_pids_with "[rayc_bin ray_job_wrapper] --job-wrapper-spare"] {
        set stat [file_read /proc/$p/stat]
        if {[lindex [string range $stat [expr {[string last ) $stat] + 2}] end] 1] == [dict get $s pid]} {
            lappend out $p
        }
    }
    return [lsort $out]
}

test {jobs-run-1.6 a job is handed to a wrapper started before it came, with its environment} {
    # Jobs ran on this server already: its two spares are ready or starting.
    wait_for {[llength [spares_of $s]] == 2} 30000 "two spare wrappers"
    set before [spares_of $s]
    set id [jobs_submit $s {{"entrypoint": "echo v=$SPARE_V; exec sleep 7795",
        "runtime_env": {"env_vars": {"SPARE_V": "handed over"}}}}]
    jobs_wait $s $id RUNNING
    wait_for {[string match "*v=handed over
*" [jobs_logs $s $id]]} 10000 "the job's output"
    set pidfile [file join [dict get $s node] job_state $id.pid]
    set pid [lindex [file_read $pidfile] 0]
    set parent [parent_exe [jobs_pids_with "sleep 7795"]]
    jobs_api $s POST /api/jobs/$id/stop
    set d [jobs_wait $s $id STOPPED]
    assert_true {$pid in $before} "the job's wrapper $pid is one of the spares $before"
    list $parent [dict get $d status]
} {ray_job_wrapper STOPPED}

test {jobs-run-1.7 spares killed while waiting are reaped and replaced; jobs still run} {
    wait_for {[llength [spares_of $s]] == 2} 30000 "two spare wrappers"
    set killed [spares_of $s]
    foreach p $killed {
        exec kill -9 $p
    }
    wait_for {[llength [regexp -all -inline {the spare job wrapper \(pid \d+\) ended before it had a job} \
        [file_read [dict get $s log]]]] >= 2} 10000 "the server saw both spares end"
    set id [jobs_submit $s {{"entrypoint": "echo after-the-kill; exit 4",
        "submission_id": "spare-after-kill"}}]
    set d [jobs_wait $s $id FAILED]
    wait_for {[llength [spares_of $s]] == 2} 30000 "two new spare wrappers"
    set gone [lmap p $killed { expr {[file exists /proc/$p] ? "$p left" : "reaped"} }]
    list [dict get $d driver_exit_code] [jobs_strip_setup [jobs_logs $s $id]] $gone \
        [expr {[lsort [concat $killed [spares_of $s]]] eq [lsort -unique [concat $killed [spares_of $s]]]}]
} {4 {Running entrypoint for job spare-after-kill: echo after-the-kill; exit 4
after-the-kill
} {reaped reaped} 1}

test {jobs-run-1.8 a stopped server leaves no spare wrapper behind} {
    set s3 [jobs_server_start]
    set id [jobs_submit $s3 {{"entrypoint": "true"}}]
    jobs_wait $s3 $id SUCCEEDED
    wait_for {[llength [spares_of $s3]] == 2} 30000 "two spare wrappers"
    set spares [spares_of $s3]
    exec kill -TERM [dict get $s3 pid]
    wait_for {![pid_alive [dict get $s3 pid]]} 30000 "the server exits"
    wait_for {![file exists /proc/[lindex $spares 0]] && ![file exists /proc/[lindex $spares 1]]} \
        10000 "the spares end with it"
    llength $spares
} 2

# ---------------------------------------------------------------- stop

test {jobs-run-2.1 stop ends the whole process group, grandchildren included} {
    set id [jobs_submit $s {{"entrypoint": "sleep 7771 & (sleep 7772 &); sleep 7773"}}]
    jobs_wait $s $id RUNNING
    wait_for {[llength [jobs_pids_with "sleep 777"]] == 3} 20000
    set r [jobs_api $s POST /api/jobs/$id/stop]
    set d [jobs_wait $s $id STOPPED]
    wait_for {[llength [jobs_pids_with "sleep 777"]] == 0} 20000 "every sleep gone"
    list [dict get $r body] [dict get $d message] [dict get $d driver_exit_code]
} {{{"stopped": true}} {Job was intentionally stopped.} null}

test {jobs-run-2.2 stopping a pending job works and it never runs} {
    set id [jobs_submit $s {{"entrypoint": "echo should-not-run", "entrypoint_num_cpus": 64}}]
    set d1 [jobs_info $s $id]
    set r [jobs_api $s POST /api/jobs/$id/stop]
    set d2 [jobs_wait $s $id STOPPED]
    list [dict get $d1 status] [dict get $d1 message] [dict get $r body] \
        [string first should-not-run [jobs_logs $s $id]]
} {PENDING {Job has not started yet. It may be waiting for resources (CPUs, GPUs, memory, custom resources) to become available.} {{"stopped": true}} -1}

set s2 [jobs_server_start -env {RAY_JOB_STOP_WAIT_TIME_S 1 RAY_JOB_STOP_SIGNAL SIGINT \
    RAY_JOB_START_TIMEOUT_SECONDS 2}]

test {jobs-run-2.3 RAY_JOB_STOP_SIGNAL=SIGINT is what the job receives} {
    set id [jobs_submit $s2 {{"entrypoint": "trap 'echo got-INT; exit 0' INT; echo armed; while true; do sleep 0.1; done"}}]
    jobs_wait $s2 $id RUNNING
    wait_for {[string match "*\narmed\n*" [jobs_logs $s2 $id]]} 20000
    jobs_api $s2 POST /api/jobs/$id/stop
    jobs_wait $s2 $id STOPPED
    string match "*got-INT*" [jobs_logs $s2 $id]
} 1

test {jobs-run-2.4 a job that ignores the stop signal is killed after RAY_JOB_STOP_WAIT_TIME_S} {
    set id [jobs_submit $s2 {{"entrypoint": "trap '' INT TERM; echo trapped; while true; do sleep 0.1; done"}}]
    jobs_wait $s2 $id RUNNING
    wait_for {[string match "*\ntrapped\n*" [jobs_logs $s2 $id]]} 20000
    jobs_api $s2 POST /api/jobs/$id/stop
    jobs_wait $s2 $id STOPPED 10000
    # The server's own timer decided the SIGKILL; its log says when.
    set log [file_read [dict get $s2 log]]
    list [lindex [regexp -inline "job $id: (sent \\S+; SIGKILL in \\d+ ms)" $log] 1] \
        [lindex [regexp -inline "job $id: (still running \\d+ ms after the stop signal)" $log] 1]
} {{sent SIGINT; SIGKILL in 1000 ms} {still running 1000 ms after the stop signal}}

# A SIGTERM/SIGINT handler that takes its time: on the signal it writes
# GOT, waits for RELEASE to exist, writes DONE and exits 0.
set handler [file join [dict get $s dir] handler.py]
file_write $handler {import os, signal, sys, time
got, release, done = sys.argv[1:4]
def on_stop(sig, frame):
    open(got, "w").close()
    while not os.path.exists(release):
        time.sleep(0.05)
    open(done, "w").close()
    sys.exit(0)
signal.signal(signal.SIGTERM, on_stop)
signal.signal(signal.SIGINT, on_stop)
print("armed", flush=True)
while True:
    time.sleep(0.1)
}

# Submits a job to server S running the handler under /bin/sh (the shell
# stays its parent) with files NAME.{got,release,done} in S's dir and
# ENV_VARS (a JSON object); returns {ID GOT RELEASE DONE} once it is armed.
proc handler_job {s name {env_vars {{}}}} {
    set base [file join [dict get $s dir] $name]
    set cmd "/usr/bin/python3 $::handler $base.got $base.release $base.done; echo after"
    set id [jobs_submit $s "{\"entrypoint\": [jstr $cmd],
        \"runtime_env\": {\"env_vars\": $env_vars}}"]
    jobs_wait $s $id RUNNING
    wait_for {[string match "*\narmed\n*" [jobs_logs $s $id]]} 30000 "$name armed"
    return [list $id $base.got $base.release $base.done]
}

set s3 [jobs_server_start -env {RAY_JOB_STOP_WAIT_TIME_S 30}]

test {jobs-run-2.5 a job's SIGTERM handler under /bin/sh gets its grace period (the shell's death kills nothing)} {
    lassign [handler_job $s3 grace] id got release done
    jobs_api $s3 POST /api/jobs/$id/stop
    wait_for {[file exists $got]} 30000 "the handler got SIGTERM"
    set during [jobs_status $s3 $id]
    file_write $release ""
    set d [jobs_wait $s3 $id STOPPED]
    list $during [file exists $done] [dict get $d message]
} {RUNNING 1 {Job was intentionally stopped.}}

test {jobs-run-2.6 the job's own RAY_JOB_STOP_WAIT_TIME_S is honoured over the server's} {
    # Server s2 waits 1 s.  Job A asks for 60 s, job B for nothing; both are
    # stopped, B is SIGKILLed after the server's grace, and A still runs.
    lassign [handler_job $s2 own {{"RAY_JOB_STOP_WAIT_TIME_S": "60"}}] a a_got a_release a_done
    lassign [handler_job $s2 server] b b_got
    jobs_api $s2 POST /api/jobs/$a/stop
    jobs_api $s2 POST /api/jobs/$b/stop
    jobs_wait $s2 $b STOPPED
    set a_during [jobs_status $s2 $a]
    file_write $a_release ""
    jobs_wait $s2 $a STOPPED
    list [file exists $b_got] $a_during [file exists $a_done]
} {1 RUNNING 1}

test {jobs-run-2.7 after the grace the whole process tree is SIGKILLed, also what left the group} {
    set pidfile [file join [dict get $s2 dir] escaped.pid]
    set cmd "setsid sh -c 'trap \"\" INT TERM; echo \$\$ > $pidfile; while true; do sleep 0.1; done' &
             trap '' INT TERM; echo armed; while true; do sleep 0.1; done"
    set id [jobs_submit $s2 "{\"entrypoint\": [jstr $cmd]}"]
    wait_for {[file exists $pidfile] && [string match "*\narmed\n*" [jobs_logs $s2 $id]]} 30000
    set escaped [string trim [file_read $pidfile]]
    jobs_api $s2 POST /api/jobs/$id/stop
    set d [jobs_wait $s2 $id STOPPED]
    set alive [pid_alive $escaped]
    catch {exec kill -KILL $escaped}
    list [dict get $d status] $alive
} {STOPPED 0}

# ---------------------------------------------------------------- entrypoint resources

test {jobs-run-3.1 a job waits PENDING until its entrypoint resources are free} {
    set flag [file join [dict get $s dir] release-a]
    set a [jobs_submit $s "{\"entrypoint\": \"while \[ ! -e $flag \]; do sleep 0.05; done\",
        \"entrypoint_num_cpus\": 2, \"entrypoint_resources\": {\"gadget\": 1}}"]
    jobs_wait $s $a RUNNING
    set b [jobs_submit $s {{"entrypoint": "echo b-ran", "entrypoint_num_cpus": 1}}]
    set c [jobs_submit $s {{"entrypoint": "echo c-ran", "entrypoint_resources": {"gadget": 1}}}]
    foreach id [list $b $c] {
        wait_for {[string match "*job $id: queued until its entrypoint resources are free*" \
            [file_read [dict get $s log]]]} 10000 "$id to wait for its resources"
    }
    set before [list [jobs_status $s $b] [jobs_status $s $c]]
    file_write $flag ""
    jobs_wait $s $a SUCCEEDED
    jobs_wait $s $b SUCCEEDED
    jobs_wait $s $c SUCCEEDED
    list {*}$before [dict get [jobs_info $s $b] message]
} {PENDING PENDING {Job finished successfully.}}

test {jobs-run-3.2 resources that never come fail the job at RAY_JOB_START_TIMEOUT_SECONDS} {
    set id [jobs_submit $s2 {{"entrypoint": "true", "entrypoint_num_gpus": 4}}]
    set d [jobs_wait $s2 $id FAILED 10000]
    assert_match "Job supervisor actor failed to start within 2.0 seconds.*RAY_JOB_START_TIMEOUT_SECONDS.*entrypoint_num_gpus*" \
        [dict get $d message]
    dict get $d error_type
} JOB_SUPERVISOR_ACTOR_START_TIMEOUT

# ---------------------------------------------------------------- log tail

test {jobs-run-4.1 the WebSocket tail gets every line in order and closes when the job ends} {
    set id [jobs_submit $s {{"entrypoint": "for i in $(seq 1 60); do echo line-$i; sleep 0.02; done"}}]
    lassign [jobs_ws_tail $s $id] frames how
    set text [jobs_strip_setup [join $frames ""]]
    set expected "Running entrypoint for job $id: for i in \$(seq 1 60); do echo line-\$i; sleep 0.02; done\n"
    for {set i 1} {$i <= 60} {incr i} {
        append expected "line-$i\n"
    }
    assert_equal $expected $text "the text of the WebSocket frames"
    set nframes [llength $frames]
    assert_true {$nframes > 1} "the number of WebSocket frames"
    assert_equal $expected [jobs_strip_setup [jobs_logs $s $id]] "the job's log"
    list $how [jobs_status $s $id]
} {closed SUCCEEDED}

test {jobs-run-4.2 the tail of a finished job sends the whole log, then closes} {
    set id [jobs_submit $s {{"entrypoint": "printf 'a\\nb\\nno-newline'"}}]
    jobs_wait $s $id SUCCEEDED
    lassign [jobs_ws_tail $s $id] frames how
    list $how [string range [join $frames ""] end-13 end]
} {closed {a
b
no-newline}}

test {jobs-run-4.3 the tail without a WebSocket handshake is a 400} {
    set r [jobs_api $s GET /api/jobs/env-1/logs/tail]
    dict get $r status
} 400

# ---------------------------------------------------------------- many jobs at once

proc submit_async {s i} {
    set code [expr {$i % 3 == 0 ? 1 : 0}]
    set body "{\"entrypoint\": \"sleep 0.$i; exit $code\", \"submission_id\": \"many-$i\"}"
    ::http::geturl [dict get $s url]/api/jobs/ -method POST -type application/json \
        -query $body -headers [jobs_auth $s] -command [list submit_done $i]
}

proc submit_done {i token} {
    lappend ::many_answers [list $i [::http::ncode $token]]
    ::http::cleanup $token
}

test {jobs-run-5.1 64 concurrent submissions all run and end with the right status} {
    set ::many_answers {}
    for {set i 1} {$i <= 64} {incr i} {
        submit_async $s $i
    }
    wait_for {[llength $::many_answers] == 64} 20000 "64 answers"
    set codes [lsort -unique [lmap a $::many_answers {lindex $a 1}]]
    wait_for {[llength [lmap j [json_get [dict get [jobs_api $s GET /api/jobs/] body]] {
        if {[string match many-* [dict get $j submission_id]] &&
            [dict get $j status] in {SUCCEEDED FAILED}} {set j} else continue}]] == 64} 60000
    set wrong {}
    foreach j [json_get [dict get [jobs_api $s GET /api/jobs/] body]] {
        if {![regexp {^many-([0-9]+)$} [dict get $j submission_id] - i]} {
            continue
        }
        set want [expr {$i % 3 == 0 ? "FAILED 1" : "SUCCEEDED 0"}]
        set got "[dict get $j status] [dict get $j driver_exit_code]"
        if {$got ne $want} {
            lappend wrong "many-$i: $got"
        }
    }
    list $codes $wrong
} {200 {}}

# ---------------------------------------------------------------- with a GCS

if {![file executable [rayc_bin gcs_server]]} {
    skip_test {jobs-run-6.1 with a GCS} "bin/gcs_server is not built"
} else {
    test {jobs-run-6.1 with a GCS a job gets a driver job id, driver_info and RAY_JOB_ID} {
        set gdir [tmpdir]
        set gport [free_port]
        file_write $gdir/token "gcs-test-token-0123456789\n"
        start_bg gcs [rayc_bin gcs_server] --port $gport --token-file $gdir/token \
            --session-name session_jobs_gcs --db $gdir/gcs.db --log-file $gdir/gcs.log
        watch_log $gdir/gcs.log
        wait_for {![catch {close [socket 127.0.0.1 $gport]}]} 30000 "gcs_server listening"
        set g [jobs_server_start -dir $gdir --gcs-address 127.0.0.1:$gport]
        set id [jobs_submit $g {{"entrypoint": "echo job=$RAY_JOB_ID"}}]
        set d [jobs_wait $g $id SUCCEEDED]
        set jid [dict get $d job_id]
        set by_job_id [jobs_api $g GET /api/jobs/$jid]
        assert_regexp {^[0-9a-f]{8}$} $jid
        assert_match "*\njob=$jid\n" [jobs_logs $g $id]
        assert_equal $id [json_get [dict get $by_job_id body] submission_id] "GET /api/jobs/<job_id>"
        list [dict keys [dict get $d driver_info]] [dict get $d driver_info id]
    } {{id node_ip_address pid} 01000000}
}

suite_end

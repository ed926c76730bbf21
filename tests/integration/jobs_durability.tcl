# Durability: kill -9 of the job server while jobs run, then a restart on the
# same node dir: every job ends with its true status and exit code, logs are
# intact, nothing stays RUNNING.  SIGTERM stops the running jobs first.
source [file join [file dirname [info script]] .. lib jobs.tcl]

set s [jobs_server_start --num-cpus 1]
set dir [dict get $s dir]
set flag [file join $dir go]

test {jobs-dur-1.1 jobs submitted before a kill -9 of the server} {
    jobs_submit $s "{\"entrypoint\": \"echo a-start; while \[ ! -e $flag \]; do sleep 0.05; done; echo a-end; exit 7\", \"submission_id\": \"a\"}"
    jobs_submit $s "{\"entrypoint\": \"echo b-start; while \[ ! -e $flag.b \]; do sleep 0.05; done; echo b-end\", \"submission_id\": \"b\"}"
    jobs_submit $s {{"entrypoint": "echo c-start; sleep 6661", "submission_id": "c"}}
    jobs_submit $s {{"entrypoint": "echo d-start; sleep 6662", "submission_id": "d"}}
    jobs_submit $s {{"entrypoint": "echo g-start; sleep 6664", "submission_id": "g"}}
    jobs_submit $s {{"entrypoint": "echo e-ran", "submission_id": "e", "entrypoint_num_cpus": 2}}
    foreach id {a b c d g} {
        jobs_wait $s $id RUNNING
        wait_for {[string match "*$id-start\n*" [jobs_logs $s $id]]} 20000
    }
    list [jobs_status $s e]
} PENDING

test {jobs-dur-1.2 after kill -9 the jobs keep running without the server} {
    exec kill -9 [dict get $s pid]
    wait_for {![pid_alive [dict get $s pid]]} 20000
    # a ends (exit 7) while the server is down; d's processes are killed.
    file_write $flag ""
    # Killing d's wrapper first leaves nobody to record how d ends.
    # The wrapper is found by its pid file: a wrapper started ahead of its
    # job (jobs_spare.c) has no job in its command line.
    set wrappers [lindex [file_read [file join $dir node job_state d.pid]] 0]
    assert_match "*ray_job_wrapper*" [file_read /proc/$wrappers/cmdline]
    foreach p $wrappers {
        exec kill -9 $p
    }
    set d_pids [jobs_pids_with "sleep 6662"]
    foreach p $d_pids {
        exec kill -9 $p
    }
    # d's shell may still be between fork and exec of sleep: one or two processes.
    set a_pids [jobs_pids_with "sleep 6661"]
    assert_true {[llength $a_pids] >= 1} "a's sleep still runs"
    assert_true {[llength $d_pids] >= 1} "d's sleep was found and killed"
    assert_equal 1 [llength $wrappers] "d's wrapper pids: $wrappers"
    # g's pid file says its wrapper started at another time than it did, as
    # when its pid now belongs to another process (a recycled pid).
    set gfile [file join $dir node job_state g.pid]
    lassign [file_read $gfile] gpid gstart
    set stat [file_read /proc/$gpid/stat]
    assert_equal $gstart [lindex [string range $stat [expr {[string last ) $stat] + 2}] end] 19] \
        "the pid file holds the wrapper's start time (field 22 of its stat)"
    file_write $gfile "$gpid [expr {$gstart + 1}]\n"
}

set s [jobs_server_start -dir $dir -port [dict get $s port] --num-cpus 4]

test {jobs-dur-1.3 a job that ended while the server was down gets its true exit code} {
    set d [jobs_wait $s a FAILED 5000]
    assert_match "*exit code 7, last available logs*a-start\na-end\n" [dict get $d message]
    list [dict get $d driver_exit_code] [dict get $d error_type]
} {7 JOB_ENTRYPOINT_COMMAND_ERROR}

test {jobs-dur-1.4 a job still running is adopted and its end is seen} {
    set before [jobs_status $s b]
    file_write $flag.b ""
    set d [jobs_wait $s b SUCCEEDED 10000]
    list $before [dict get $d driver_exit_code] [jobs_strip_setup [jobs_logs $s b]]
} [list RUNNING 0 "Running entrypoint for job b: echo b-start; while \[ ! -e $flag.b \]; do sleep 0.05; done; echo b-end\nb-start\nb-end\n"]

test {jobs-dur-1.5 an adopted job can be stopped and its processes are gone} {
    set r [jobs_api $s POST /api/jobs/c/stop]
    jobs_wait $s c STOPPED 10000
    wait_for {[llength [jobs_pids_with "sleep 6661"]] == 0} 20000
    dict get $r body
} {{"stopped": true}}

test {jobs-dur-1.6 a job whose processes died with no exit status is FAILED with a reason} {
    set d [jobs_wait $s d FAILED 5000]
    assert_match "*ended without recording an exit status*" [dict get $d message]
    list [dict get $d error_type] [dict get $d driver_exit_code]
} {JOB_SUPERVISOR_ACTOR_DIED null}

test {jobs-dur-1.6b a live pid whose start time is not the job's wrapper's is not adopted} {
    set d [jobs_wait $s g FAILED 5000]
    # g's wrapper ($gpid, read from its pid file in jobs-dur-1.2) still runs.
    assert_match "*ray_job_wrapper*" [file_read /proc/$gpid/cmdline]
    foreach p [concat $gpid [jobs_pids_with "sleep 6664"]] {
        exec kill -9 $p
    }
    assert_match "*ended without recording an exit status*" [dict get $d message]
    dict get $d error_type
} JOB_SUPERVISOR_ACTOR_DIED

test {jobs-dur-1.7 a job that was pending is started again after the restart} {
    set d [jobs_wait $s e SUCCEEDED 10000]
    string match "*\ne-ran\n" [jobs_logs $s e]
} 1

test {jobs-dur-1.8 nothing is left RUNNING or PENDING and every job is still listed} {
    set out {}
    foreach j [json_get [dict get [jobs_api $s GET /api/jobs/] body]] {
        lappend out [dict get $j submission_id] [dict get $j status]
    }
    set out
} {a FAILED b SUCCEEDED c STOPPED d FAILED g FAILED e SUCCEEDED}

# ---------------------------------------------------------------- SIGTERM

test {jobs-dur-2.1 SIGTERM stops every running job (STOPPED), then the server exits} {
    jobs_submit $s {{"entrypoint": "sleep 6663", "submission_id": "f"}}
    jobs_wait $s f RUNNING
    wait_for {[llength [jobs_pids_with "sleep 6663"]] == 1} 20000
    set clean [stop_bg [dict get $s pid] TERM]
    set left [llength [jobs_pids_with "sleep 6663"]]
    set s [jobs_server_start -dir $dir -port [dict get $s port]]
    list $clean $left [jobs_status $s f] [dict get [jobs_info $s f] message]
} {1 0 STOPPED {Job was intentionally stopped.}}

suite_end

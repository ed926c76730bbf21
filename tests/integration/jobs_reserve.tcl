# Entrypoint resources are reserved through the raylet: a head (2 CPUs) and
# a joined node (1 CPU, {"foo": 1}) with its job agent, all on 127.0.0.1.
# A job holding entrypoint resources shows them used in `ray status` (the
# GCS view); a second job asking for the only foo is not sent to the node
# that already holds it; a job server killed with -9 leaks nothing, and a
# restarted one that adopts the running job reserves it again.
source [file join [file dirname [info script]] .. lib jobs.tcl]
source [file join [file dirname [info script]] .. lib cluster.tcl]
cluster_cleanup_at_end

set gcs_port [free_port]
set dash_port [free_port]
set agent_port [free_port]
ray_ok start --head --node-ip-address 127.0.0.1 --port $gcs_port \
    --dashboard-port $dash_port --num-cpus 2
set addr 127.0.0.1:$gcs_port
ray_ok start --address $addr --node-ip-address 127.0.0.1 --num-cpus 1 \
    --resources {{"foo": 1}} --dashboard-agent-listen-port $agent_port

foreach dir [node_dirs] {
    set info [file_read [file join $dir node.info]]
    set role [expr {[regexp {\nhead 1\n} $info] ? "head" : "worker"}]
    set node($role,dir) $dir
    watch_log [file join $dir logs ray_jobserver.log]
    watch_log [file join $dir logs raylet.log]
}
set token [string trim [file_read $env(RAY_TMPDIR)/session_latest/auth_token]]
set s [dict create url http://127.0.0.1:$dash_port port $dash_port token $token]
set agent [dict create url http://127.0.0.1:$agent_port port $agent_port token $token]

# The "USED/TOTAL" of resource NAME in `ray status`.
proc usage {name} {
    return [status_usage [dict get [ray status --address $::addr] out] $name]
}

# Submits a job to server S that runs until FLAG exists.
proc held_job {s id flag resources} {
    return [jobs_submit $s "{\"entrypoint\": \"while \[ ! -e $flag \]; do sleep 0.05; done\",
        \"submission_id\": \"$id\", $resources}"]
}

test {jobs-reserve-1.1 entrypoint_num_cpus held by a job show as used in ray status, and come back} {
    set flag [file join $node(head,dir) release-a]
    held_job $s res-a $flag {"entrypoint_num_cpus": 2}
    jobs_wait $s res-a RUNNING
    wait_for {[usage CPU] eq "2.0/3.0"} 30000 "2 CPUs used in ray status"
    set during [usage CPU]
    file_write $flag ""
    jobs_wait $s res-a SUCCEEDED
    wait_for {[usage CPU] eq "0.0/3.0"} 30000 "the CPUs free again"
    list $during [usage CPU]
} {2.0/3.0 0.0/3.0}

set demo [file join [file dirname [file dirname [file dirname [file normalize [info script]]]]] \
    examples tiny_demo tiny_demo]
if {![file executable $demo]} {
    skip_test {jobs-reserve-1.4 tasks cannot use reserved CPUs} "examples/tiny_demo was not built"
} else {
    test {jobs-reserve-1.4 a task cannot use the CPUs a job's entrypoint holds: it waits, then runs} {
        # Every CPU of the cluster is held: the head's 2 by the job, the
        # joined node's 1 by a second job.
        set flag [file join $node(head,dir) release-t]
        held_job $s res-t1 $flag {"entrypoint_num_cpus": 2}
        held_job $agent res-t2 $flag {"entrypoint_num_cpus": 1}
        jobs_wait $s res-t1 RUNNING
        jobs_wait $agent res-t2 RUNNING
        wait_for {[usage CPU] eq "3.0/3.0"} 30000 "every CPU held"
        set pid [start_bg tiny_demo -env [list RAY_ADDRESS $addr] $demo 1]
        wait_for {[string match "*'CPU': 1*pending tasks*" \
            [dict get [ray status --address $addr] out]]} 20000 "the task pending for a CPU"
        set waiting [list [pid_alive $pid] [file_read [bg_log $pid]]]
        file_write $flag ""
        wait_for {![pid_alive $pid]} 30000 "tiny_demo to end once the CPUs are back"
        assert_match "*squares: 0\nsum of squares of 0..0: 0*" [file_read [bg_log $pid]]
        set waiting
    } {1 {}}
}

test {jobs-reserve-1.2 a second job asking for the only foo is not sent to the node holding it} {
    set flag [file join $node(worker,dir) release-b]
    held_job $s res-b $flag {"entrypoint_resources": {"foo": 1}}
    jobs_wait $s res-b RUNNING 30000
    wait_for {[usage foo] eq "1.0/1.0"} 30000 "foo used in ray status"
    jobs_submit $s {{"entrypoint": "echo c-ran", "submission_id": "res-c",
        "entrypoint_resources": {"foo": 1}}}
    set log [file join $node(head,dir) logs ray_jobserver.log]
    wait_for {[string match "*job res-c: no node has its entrypoint resources free now*" \
        [file_read $log]]} 10000 "the head to find no node for res-c"
    set before [list [jobs_status $s res-c] [dict get [jobs_api $agent GET /api/jobs/res-c] status]]
    file_write $flag ""
    set d [jobs_wait $s res-c SUCCEEDED 30000]
    assert_equal [dict get $agent url] [dict get $d driver_agent_http_address] "where res-c ran"
    set before
} {PENDING 404}

test {jobs-reserve-1.3 a job agent killed with -9 leaks nothing; restarted, it reserves its running job again} {
    set flag [file join $node(worker,dir) release-d]
    held_job $s res-d $flag {"entrypoint_resources": {"foo": 1}}
    jobs_wait $s res-d RUNNING 30000
    wait_for {[usage foo] eq "1.0/1.0"} 30000 "foo used"
    set pid [node_pid [file tail $node(worker,dir)] ray_jobserver]
    set f [open /proc/$pid/cmdline rb]
    set argv [lrange [split [read $f] \0] 0 end-1]
    close $f
    exec kill -KILL $pid
    wait_for {[usage foo] eq "0.0/1.0"} 30000 "foo given back when the agent died"
    set after_kill [usage foo]
    start_bg agent-again {*}$argv
    wait_for {[dict get [jobs_api $agent GET /api/jobs/res-d] status] == 200} 30000 "the agent back"
    wait_for {[usage foo] eq "1.0/1.0"} 30000 "foo reserved again by the adopting agent"
    set again [usage foo]
    file_write $flag ""
    jobs_wait $s res-d SUCCEEDED 30000
    wait_for {[usage foo] eq "0.0/1.0"} 30000 "foo free at the end"
    list $after_kill $again
} {0.0/1.0 1.0/1.0}

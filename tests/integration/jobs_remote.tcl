# Jobs on other nodes: a head (1 CPU) and a joined node with {"foo": 1} and
# its own job agent, all on 127.0.0.1.  A job that asks for foo is forwarded
# by the head to the joined node's agent and runs there (its driver sees the
# joined node's token path and writes into that node's dir); the head shows
# the agent's status, driver_node_id, logs (HTTP, `ray job logs`, the
# WebSocket tail behind `ray job submit`), passes stop and delete on, copies
# the gcs:// working_dir package over; a job that fits no node stays PENDING
# until the start timeout; a job without resources runs on the head.
source [file join [file dirname [info script]] .. lib jobs.tcl]
source [file join [file dirname [info script]] .. lib cluster.tcl]
cluster_cleanup_at_end

set gcs_port [free_port]
set dash_port [free_port]
set agent_port [free_port]
set start_env [list RAY_JOB_START_TIMEOUT_SECONDS 6]
ray_ok -env $start_env start --head --node-ip-address 127.0.0.1 --port $gcs_port \
    --dashboard-port $dash_port --num-cpus 1
set addr 127.0.0.1:$gcs_port
ray_ok -env $start_env start --address $addr --node-ip-address 127.0.0.1 --num-cpus 1 \
    --resources {{"foo": 1}} --dashboard-agent-listen-port $agent_port

# node id and dir of the head and the joined node
foreach dir [node_dirs] {
    set info [file_read [file join $dir node.info]]
    regexp {node_id (\S+)} $info -> id
    set role [expr {[regexp {\nhead 1\n} $info] ? "head" : "worker"}]
    set node($role,id) $id
    set node($role,dir) $dir
    watch_log [file join $dir logs ray_jobserver.log]
}
set token [string trim [file_read $env(RAY_TMPDIR)/session_latest/auth_token]]
set s [dict create url http://127.0.0.1:$dash_port port $dash_port token $token]
set agent [dict create url http://127.0.0.1:$agent_port port $agent_port token $token]
set cli_env [list RAY_ADDRESS http://127.0.0.1:$dash_port RAY_AUTH_TOKEN $token]

# The last line of TEXT (a driver log starts with Ray's "Running entrypoint" line).
proc last_line {text} {
    return [lindex [split [string trim $text] \n] end]
}

proc rayjob {args} {
    return [run_cmd -env $::cli_env -timeout 60000 [rayc_bin ray] job {*}$args]
}

# ---------------------------------------------------------------- the agent

test {jobs-remote-1.1 the joined node runs a job agent on its agent port, with the token check} {
    set pid [node_pid [file tail $node(worker,dir)] ray_jobserver]
    list [pid_alive $pid] \
        [dict get [http_request GET [dict get $agent url]/api/version] status] \
        [dict get [jobs_api $agent GET /api/version] status]
} {1 401 200}

# ---------------------------------------------------------------- forwarding

test {jobs-remote-2.1 a job asking for foo runs on the joined node; the head shows it} {
    set id [jobs_submit $s {{"entrypoint": "echo token-at=$RAY_AUTH_TOKEN_PATH; touch $(dirname $RAY_AUTH_TOKEN_PATH)/ran-here-$RAY_JOB_SUBMISSION_ID",
        "submission_id": "remote-1", "entrypoint_resources": {"foo": 1}}}]
    set d [jobs_wait $s $id SUCCEEDED 30000]
    list [dict get $d driver_node_id] [dict get $d driver_agent_http_address] \
        [dict get $d driver_exit_code] [dict get $d message] \
        [file exists $node(worker,dir)/ran-here-remote-1] \
        [last_line [jobs_logs $s $id]]
} [list $node(worker,id) http://127.0.0.1:$agent_port 0 "Job finished successfully." 1 \
       "token-at=$node(worker,dir)/auth_token"]

test {jobs-remote-2.2 the agent keeps the same submission; the head's list shows the agent's view} {
    set a [jobs_info $agent remote-1]
    set r [jobs_api $s GET /api/jobs/]
    set row {}
    foreach job [json_get [dict get $r body]] {
        if {[dict get $job submission_id] eq "remote-1"} { set row $job }
    }
    set head_times [list [dict get $row start_time] [dict get $row end_time]]
    set agent_times [list [dict get $a start_time] [dict get $a end_time]]
    assert_true {[lindex $head_times 0] == [lindex $agent_times 0]} "start_time on the head and the agent"
    assert_true {[lindex $head_times 1] == [lindex $agent_times 1]} "end_time on the head and the agent"
    assert_equal [dict get $a job_id] [dict get $row job_id] "job_id on the agent and the head"
    list [dict get $a status] [dict get $a entrypoint] [dict get $row status] [dict get $row job_id]
} [list SUCCEEDED {echo token-at=$RAY_AUTH_TOKEN_PATH; touch $(dirname $RAY_AUTH_TOKEN_PATH)/ran-here-$RAY_JOB_SUBMISSION_ID} \
       SUCCEEDED [dict get [jobs_info $agent remote-1] job_id]]

test {jobs-remote-2.3 ray job status and ray job logs through the head} {
    set st [rayjob status remote-1]
    set lg [rayjob logs remote-1]
    assert_match "*Job 'remote-1' succeeded*" [dict get $st out]
    list [dict get $st code] [dict get $lg code] [last_line [dict get $lg out]]
} [list 0 0 "token-at=$node(worker,dir)/auth_token"]

test {jobs-remote-2.4 ray job submit follows a forwarded job's log to the end} {
    set r [rayjob submit --submission-id remote-follow --entrypoint-resources {{"foo": 1}} \
        -- sh -c {sleep 1; echo line-one; sleep 1; echo line-two-$(dirname $RAY_AUTH_TOKEN_PATH)}]
    assert_match "*line-one*line-two-$node(worker,dir)*" [dict get $r out]
    assert_match "*Job 'remote-follow' succeeded*" [dict get $r out]
    dict get $r code
} 0

test {jobs-remote-2.5 a failing forwarded job: FAILED with the agent's message and exit code} {
    set id [jobs_submit $s {{"entrypoint": "echo boom; exit 3", "entrypoint_resources": {"foo": 1}}}]
    set d [jobs_wait $s $id FAILED 30000]
    assert_match "*exit code 3*boom*" [dict get $d message]
    list [dict get $d driver_exit_code] [dict get $d error_type] [dict get $d driver_node_id]
} [list 3 JOB_ENTRYPOINT_COMMAND_ERROR $node(worker,id)]

# ---------------------------------------------------------------- stop and delete

test {jobs-remote-3.1 a long forwarded job stopped through the head: STOPPED, its process gone} {
    set id [jobs_submit $s {{"entrypoint": "sleep 8881", "submission_id": "remote-long",
        "entrypoint_resources": {"foo": 1}}}]
    jobs_wait $s $id RUNNING 30000
    wait_for {[llength [jobs_pids_with "sleep 8881"]] == 1} 30000 "the sleep runs"
    set r [jobs_api $s POST /api/jobs/$id/stop]
    set d [jobs_wait $s $id STOPPED 20000]
    wait_for {[llength [jobs_pids_with "sleep 8881"]] == 0} 30000 "the sleep is gone"
    list [dict get $r body] [dict get $d message] [dict get $d driver_node_id] \
        [jobs_status $agent $id]
} [list {{"stopped": true}} {Job was intentionally stopped.} $node(worker,id) STOPPED]

test {jobs-remote-3.2 deleting a forwarded job through the head deletes it on the agent too} {
    set r [jobs_api $s DELETE /api/jobs/remote-long]
    wait_for {[dict get [jobs_api $agent GET /api/jobs/remote-long] status] == 404} 30000 \
        "the agent forgets the job"
    list [dict get $r status] [dict get [jobs_api $s GET /api/jobs/remote-long] status]
} {200 404}

# ---------------------------------------------------------------- no node fits

test {jobs-remote-4.1 a job that fits no node stays PENDING, then the start timeout fails it} {
    set id [jobs_submit $s {{"entrypoint": "echo never", "entrypoint_resources": {"bar": 1}}}]
    wait_for {[string match "*job $id: no node has its entrypoint resources free now; it waits*" \
        [file_read [file join $node(head,dir) logs ray_jobserver.log]]]} 10000 \
        "the head to find no node for it"
    set d1 [jobs_info $s $id]
    set d2 [jobs_wait $s $id FAILED 20000]
    assert_match "Job supervisor actor failed to start within 6.0 seconds*entrypoint's specified resources*" \
        [dict get $d2 message]
    list [dict get $d1 status] [dict get $d1 driver_node_id] [dict get $d2 error_type] \
        [string first never [jobs_logs $s $id]]
} {PENDING null JOB_SUPERVISOR_ACTOR_START_TIMEOUT -1}

# ---------------------------------------------------------------- packages

set proj [file join [tmpdir] proj]
file mkdir $proj/sub
file_write $proj/run.sh {echo "ran with $(cat sub/data.txt) in $(dirname $RAY_AUTH_TOKEN_PATH)"}
file_write $proj/sub/data.txt remote-data-7

test {jobs-remote-5.1 a working_dir uploaded to the head reaches the forwarded job} {
    set r [rayjob submit --no-wait --submission-id remote-wd --working-dir $proj \
        --entrypoint-resources {{"foo": 1}} -- sh run.sh]
    assert_equal 0 [dict get $r code] [dict get $r out]
    set d [jobs_wait $s remote-wd SUCCEEDED 30000]
    set pkg [string range [dict get $d runtime_env working_dir] 6 end]
    list [last_line [jobs_logs $s remote-wd]] [dict get $d driver_node_id] \
        [file exists $node(worker,dir)/runtime_resources/packages/$pkg]
} [list "ran with remote-data-7 in $node(worker,dir)" $node(worker,id) 1]

# ---------------------------------------------------------------- on the head

test {jobs-remote-6.1 a job without entrypoint resources runs on the head, as before} {
    set id [jobs_submit $s {{"entrypoint": "echo token-at=$RAY_AUTH_TOKEN_PATH"}}]
    set d [jobs_wait $s $id SUCCEEDED 30000]
    assert_match "token-at=*/session_*/auth_token" [last_line [jobs_logs $s $id]]
    list [dict get $d driver_node_id] [dict get $d driver_agent_http_address] \
        [string first $node(worker,dir) [jobs_logs $s $id]] \
        [dict get [jobs_api $agent GET /api/jobs/$id] status]
} [list $node(head,id) http://127.0.0.1:$dash_port -1 404]

test {jobs-remote-6.2 a job whose resources fit the head runs there} {
    set id [jobs_submit $s {{"entrypoint": "echo here", "entrypoint_num_cpus": 1}}]
    set d [jobs_wait $s $id SUCCEEDED 30000]
    dict get $d driver_node_id
} $node(head,id)

# ---------------------------------------------------------------- ray stop

test {jobs-remote-7.1 ray stop stops the joined node's agent with the rest} {
    set pid [node_pid [file tail $node(worker,dir)] ray_jobserver]
    ray_ok stop
    wait_for {![pid_alive $pid]} 30000 "the agent exits"
    dict get [http_request GET [dict get $agent url]/api/healthz -timeout 1000] status
} 0

suite_end

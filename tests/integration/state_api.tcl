# serial
# Ray's state API and CLI on a 3-host cluster (tests/lib/testnet.tcl):
# `ray list/get/summary/logs/timeline` and /api/v0 against work this suite
# ran with examples/observe -- tasks that finished, failed and still run,
# an actor that restarted (then died with its job) -- and a dead node.
# Needs root.
source [file join [file dirname [info script]] .. lib harness.tcl]
source [file join [file dirname [info script]] .. lib cluster.tcl]
source [file join [file dirname [info script]] .. lib testnet.tcl]
require_root

set root [file dirname [file dirname [file dirname [file normalize [info script]]]]]
set obs [file join $root examples observe observe]
if {![file executable $obs]} {
    skip_suite "examples/observe was not built"
}
testnet_cluster 3 state
lassign $hosts h1 h2 h3
set api http://$h1:8265

at_suite_end {
    foreach h $hosts { catch {on $h $ray_bin stop --force} }
}

# `ray ARGS --format json` on host 1, parsed.  Its stderr comes merged: a
# warning line there (an owner that was exiting when asked for its objects:
# Ray's partial-failure warning) is left out of what is parsed.
proc ray_json {args} {
    set lines [split [on_ok $::h1 $::ray_bin {*}$args --address $::api --format json] \n]
    set first [lsearch -regexp $lines {^[\[\{]}]
    set last [lindex [lsearch -all -regexp $lines {[\]\}]\s*$}] end]
    if {$first < 0 || $last eq ""} {
        error "no JSON in the output of ray $args: [join $lines \n]"
    }
    return [::json::json2dict [join [lrange $lines $first $last] \n]]
}

# Entries of `ray list tasks` matching every KEY=VALUE filter.
proc tasks {args} {
    set f {}
    foreach a $args { lappend f --filter $a }
    return [ray_json list tasks --detail --limit 1000 {*}$f]
}

proc field {list key} {
    set out {}
    foreach e $list { lappend out [dict get $e $key] }
    return $out
}

test {state-1.1 ray list nodes shows the 3 nodes alive, one of them the head} {
    on_ok $h1 $ray_bin start --head --num-cpus 1 --dashboard-host 0.0.0.0 \
        --auth-token-file $token_file
    on_ok $h2 $ray_bin start --address $h1:6379 --num-cpus 2
    on_ok $h3 $ray_bin start --address $h1:6379 --num-cpus 2
    wait_for {[llength [ray_json list nodes --filter state=ALIVE]] == 3} 30000 "3 nodes"
    set nodes [ray_json list nodes]
    set ::node_of {}
    foreach n $nodes { dict set ::node_of [dict get $n node_ip] [dict get $n node_id] }
    list [lsort [field $nodes node_ip]] [lsort [field $nodes is_head_node]]
} [list [lsort [list $h1 $h2 $h3]] {false false true}]

test {state-1.2 the observe driver runs its work and waits with one task running} {
    set ::release [file join [tmpdir] release]
    set ns [lindex $names 0]
    set ::obs_pid [start_bg observe -env $envs ip netns exec $ns $obs 4 3 $::release]
    wait_for {[string match "*ready actor=*" [file_read [bg_log $::obs_pid]]]} 60000 "ready"
    regexp {ready actor=([0-9a-f]+)} [file_read [bg_log $::obs_pid]] -> ::actor
    regexp -line {^finished .*$} [file_read [bg_log $::obs_pid]] fin
    regexp -line {^failed .*$} [file_read [bg_log $::obs_pid]] failed
    regexp -line {^sequential .*$} [file_read [bg_log $::obs_pid]] seq
    list $fin $failed $seq
} {{finished 4} {failed 3} {sequential 5}}

test {state-1.3 the 4 finished tasks are listed FINISHED, each on a node of the cluster} {
    # Each raylet sends its events once a second: a task forwarded to
    # another node is complete once both nodes' batches are in.
    wait_for {[llength [tasks func_or_class_name=obs_ok state=FINISHED]] == 4 &&
              "null" ni [field [tasks func_or_class_name=obs_ok] worker_pid]} 10000 "4 tasks"
    set t [tasks func_or_class_name=obs_ok]
    foreach n [field $t node_id] {
        assert_true {$n in [dict values $::node_of]} "a task's node_id is not a cluster node: $::node_of"
    }
    set pids [field $t worker_pid]
    assert_true {[lindex [lsort -integer $pids] 0] > 0} "worker_pid of each task"
    set first [lindex $t 0]
    assert_true {[dict get $first end_time_ms] >= [dict get $first start_time_ms]} "the first task: $first"
    list [llength $t] [lsort -unique [field $t state]] [lsort -unique [field $t type]]
} {4 FINISHED NORMAL_TASK}

test {state-1.4 the 3 failed tasks carry Ray's error type and the error} {
    wait_for {[llength [tasks func_or_class_name=obs_fail state=FAILED]] == 3 &&
              "null" ni [field [tasks func_or_class_name=obs_fail] worker_pid]} 10000 "3 failed"
    set t [tasks func_or_class_name=obs_fail]
    set msgs 0
    foreach e $t {
        if {[string match "*failing on purpose*" [dict get $e error_message]]} { incr msgs }
    }
    list [llength $t] [lsort -unique [field $t state]] [lsort -unique [field $t error_type]] $msgs
} {3 FAILED TASK_EXECUTION_EXCEPTION 3}

test {state-1.4b tasks and actor calls that skipped the raylet are listed too (from their workers)} {
    wait_for {[llength [tasks func_or_class_name=obs_seq state=FINISHED]] == 5 &&
              [llength [tasks func_or_class_name=obs_ping state=FINISHED]] == 5} 10000 "direct"
    set seq [tasks func_or_class_name=obs_seq]
    set ping [tasks func_or_class_name=obs_ping]
    set seq_pids [field $seq worker_pid]
    set seq_nodes [field $seq node_id]
    assert_true {"null" ni $seq_pids && "null" ni $seq_nodes} "obs_seq's worker_pid and node_id"
    list [llength $seq] [lsort -unique [field $ping type]] [lsort -unique [field $ping actor_id]]
} [list 5 ACTOR_TASK $::actor]

test {state-1.5 the waiting task is RUNNING with its worker's pid, and the filter != works} {
    set t [tasks func_or_class_name=obs_wait]
    set others [tasks func_or_class_name=obs_wait state!=RUNNING]
    set e [lindex $t 0]
    set pid [dict get $e worker_pid]
    assert_true {$pid > 0} "the waiting task's worker_pid"
    list [llength $t] [dict get $e state] \
        [lsort -unique [field [dict get $e events] state]] [llength $others]
} {1 RUNNING {PENDING_ARGS_AVAIL PENDING_NODE_ASSIGNMENT RUNNING SUBMITTED_TO_WORKER} 0}

test {state-1.6 ray get actors: the actor restarted once and is ALIVE} {
    set a [::json::json2dict [on_ok $h1 $ray_bin get actors $::actor --address $api --format json]]
    set states [field [dict get $a events] state]
    assert_true {"RESTARTING" in $states} "the actor's event states"
    list [dict get $a class_name] [dict get $a state] [dict get $a num_restarts]
} {ObsActor ALIVE 1}

test {state-1.7 ray summary tasks counts by function and state} {
    set s [ray_json summary tasks]
    set sum [dict get $s cluster summary]
    list [dict get $sum obs_ok state_counts] [dict get $sum obs_fail state_counts] \
        [dict get $sum obs_wait state_counts] [dict get $sum obs_ok type]
} {{FINISHED 4} {FAILED 3} {RUNNING 1} NORMAL_TASK}

test {state-1.8 /api/v0/tasks answers Ray's envelope with limit, and 401 without the token} {
    set tok [string trim [file_read $token_file]]
    set r [http_request GET "$api/api/v0/tasks?limit=2" -headers [list Authorization "Bearer $tok"]]
    set body [dict get $r body]
    set r2 [http_request GET "$api/api/v0/tasks?limit=2"]
    set total [json_get $body data result total]
    assert_true {$total >= 9} "data.result.total"
    list [dict get $r status] [json_get $body result] [json_get $body data result num_after_truncation] \
        [dict get $r2 status]
} {200 true 2 401}

test {state-1.9 bad filters and limits get one clear error line} {
    set r1 [on $h1 $ray_bin list tasks --filter bogus=1 --address $api]
    set r2 [on $h1 $ray_bin list tasks --limit 0 --address $api]
    set r3 [on $h1 $ray_bin list tasks --filter novalue --address $api]
    assert_match "*Given filter column*" [dict get $r1 out]
    assert_match "*key=value*" [dict get $r3 out]
    list [dict get $r1 code] [dict get $r2 code] [dict get $r3 code]
} {1 2 2}

test {state-1.10 ray logs reads another node's raylet log through its job agent} {
    set id2 [dict get $::node_of $h2]
    set files [on_ok $h1 $ray_bin logs --node-id $id2 --address $api]
    set text [on_ok $h1 $ray_bin logs raylet.log --node-id $id2 --tail 3 --address $api]
    set own [file_read [lindex [glob $tmp/session_*/node_$h2\_*/logs/raylet.log] 0]]
    assert_match "*raylet.log*" $files
    assert_contains [lindex [split [string trim $text] \n] end] $own "the last line read is in the node's raylet.log"
    llength [split [string trim $text] \n]
} 3

test {state-1.10d /api/v0/logs/file answers in Ray's log stream framing: "1" then the text (format=text: bare)} {
    set tok [string trim [file_read $token_file]]
    set id2 [dict get $::node_of $h2]
    set logs [file dirname [lindex [glob $tmp/session_*/node_$h2\_*/logs/raylet.log] 0]]
    file_write $logs/obs-frame.log "zero\nalpha\nbeta\n"
    set hdr [list Authorization "Bearer $tok"]
    set url "$api/api/v0/logs/file?node_id=$id2&filename=obs-frame.log&lines=2"
    set r [http_request GET $url -headers $hdr]
    set plain [http_request GET "$url&format=text" -headers $hdr]
    set bad [http_request GET "$url&format=html" -headers $hdr]
    set local [http_request GET "$api/api/v0/logs/file?filename=raylet.log&lines=1" -headers $hdr]
    list [dict get $r status] [dict get $r body] [dict get $plain body] \
        [string index [dict get $local body] 0] [dict get $bad status] \
        [json_get [dict get $bad body] msg] [string trim [on_ok $h1 $ray_bin logs \
            obs-frame.log --node-id $id2 --tail 2 --address $api]]
} [list 200 "1alpha\nbeta\n" "alpha\nbeta\n" 1 400 \
       {Unsupported format: html, use 'text' or 'leading_1'} "alpha\nbeta"]

test {state-1.10b ray logs --actor-id reads the log of the actor's worker on its node} {
    set r [on $h1 $ray_bin logs --actor-id $::actor --address $api]
    set bad [on $h1 $ray_bin logs --actor-id 00000000000000000000000000000000 --address $api]
    assert_equal 0 [dict get $r code] [dict get $r out]
    assert_equal 1 [dict get $bad code] [dict get $bad out]
    assert_contains "No worker is known" [dict get $bad out]
}

test {state-1.10c ray list jobs shows the observe driver as a running DRIVER job} {
    set job [dict get [lindex [tasks func_or_class_name=obs_ok] 0] job_id]
    set j [ray_json list jobs --filter job_id=$job]
    list [llength $j] [dict get [lindex $j 0] type] [dict get [lindex $j 0] status]
} {1 DRIVER RUNNING}

# `observe put BYTES RELEASE` in host IP's namespace: returns {pid object}.
proc put_on {ip bytes} {
    set ns [lindex $::names [lsearch $::hosts $ip]]
    set p [start_bg put$ip -env $::envs ip netns exec $ns $::obs put $bytes $::put_release]
    wait_for {[string match "*put=*" [file_read [bg_log $p]]]} 60000 "put on $ip"
    regexp {put=([0-9a-f]+) pid=([0-9]+)} [file_read [bg_log $p]] -> obj pid
    return [list $pid $obj]
}

test {state-1.14 ray list objects: objects put on hosts 2 and 3 with their size, owner and node} {
    set ::put_release [file join [tmpdir] put-release]
    lassign [put_on $h2 3145728] ::put_pid2 ::put_obj2
    lassign [put_on $h3 5242880] ::put_pid3 ::put_obj3
    set o2 [lindex [ray_json list objects --filter object_id=$::put_obj2] 0]
    set o3 [lindex [ray_json list objects --filter object_id=$::put_obj3] 0]
    set o2_pid [dict get $o2 pid]
    assert_true {$o2_pid == $::put_pid2} "the object's pid"
    list [dict get $o2 object_size] [dict get $o2 ip] [dict get $o2 type] [dict get $o2 task_status] \
        [dict get $o2 reference_type] [dict get $o3 object_size] [dict get $o3 ip]
} [list 3145728 $h2 DRIVER FINISHED LOCAL_REFERENCE 5242880 $h3]

test {state-1.14b small objects kept in their driver are listed: a put, a task result, a direct actor call's result} {
    # 1000 bytes stay in the driver's memory (never in the store); the
    # driver then sleeps outside the library, so its owner thread answers.
    set ns [lindex $::names 1]
    set p [start_bg small$h2 -env $::envs ip netns exec $ns $::obs small 1000 $::put_release]
    wait_for {[string match "*put=*" [file_read [bg_log $p]]]} 60000 "small put on $h2"
    regexp {put=([0-9a-f]+) result=([0-9a-f]+) call=([0-9a-f]+) pid=([0-9]+)} \
        [file_read [bg_log $p]] -> ::small_put res call ::small_pid
    set mine [ray_json list objects --filter pid=$::small_pid --limit 1000]
    set got {}
    foreach o $mine {
        dict set got [dict get $o object_id] [list [dict get $o object_size] [dict get $o type] \
            [dict get $o task_status] [dict get $o reference_type] [dict get $o ip] \
            [dict get $o call_site] [dict get $o attempt_number]]
    }
    set tok [string trim [file_read $::token_file]]
    set r [http_request GET "$::api/api/v0/objects?limit=1000" \
        -headers [list Authorization "Bearer $tok"]]
    set http [lmap o [json_get [dict get $r body] data result result] {dict get $o object_id}]
    assert_true {$::small_put in $http && $res in $http && $call in $http} \
        "/api/v0/objects lists the three: $http"
    list [dict get $got $::small_put] [lindex [dict get $got $res] 0] [lindex [dict get $got $call] 0]
} [list [list 1000 DRIVER FINISHED LOCAL_REFERENCE $h2 disabled 0] 8 8]

test {state-1.14c an owner that does not answer is named in the partial-failure warning; the rest is listed} {
    exec kill -STOP $::small_pid
    set tok [string trim [file_read $::token_file]]
    set r [http_request GET "$::api/api/v0/objects?limit=1000" \
        -headers [list Authorization "Bearer $tok"]]
    exec kill -CONT $::small_pid
    set body [dict get $r body]
    set ids [lmap o [json_get $body data result result] {dict get $o object_id}]
    assert_true {$::put_obj3 in $ids} "host 3's store object is still listed: $ids"
    assert_true {$::small_put ni $ids} "the stopped driver's put is not: $ids"
    list [dict get $r status] [string match "*owner pid $::small_pid *did not answer*" \
                                   [json_get $body data result partial_failure_warning]]
} {200 1}

test {state-1.15 ray list objects filters by node ip and object size; /api/v0/objects has Ray's envelope} {
    set on3 [ray_json list objects --filter ip=$h3 --filter object_size=5242880]
    set tok [string trim [file_read $token_file]]
    set r [http_request GET "$api/api/v0/objects?limit=1" -headers [list Authorization "Bearer $tok"]]
    set body [dict get $r body]
    set total [json_get $body data result total]
    assert_true {$total >= 2} "data.result.total"
    list [field $on3 object_id] [dict get $r status] [json_get $body result] \
        [json_get $body data result num_after_truncation]
} [list [list $::put_obj3] 200 true 1]

test {state-1.16 ray summary objects counts the objects and their megabytes} {
    set c [dict get [ray_json summary objects] cluster]
    set site [dict get $c summary disabled]
    set objects [dict get $c total_objects]
    set mb [dict get $c total_size_mb]
    set site_nodes [dict get $site total_num_nodes]
    set finished [dict get $site task_state_counts FINISHED]
    assert_true {$objects >= 2} "total_objects"
    assert_true {$mb >= 8.0} "total_size_mb"
    assert_true {$site_nodes >= 2} "total_num_nodes"
    assert_true {$finished >= 2} "task_state_counts FINISHED"
    dict get $c summary_by
} callsite

test {state-1.17 ray list workers shows each node's whole pool: idle workers and drivers too} {
    # The put driver on host 3 ran no task: its job's prestarted workers are idle.
    set ws [ray_json list workers --filter ip=$h3 --filter is_alive=True]
    set drivers {}
    set workers 0
    foreach w $ws {
        if {[dict get $w worker_type] eq "DRIVER"} { lappend drivers [dict get $w pid] }
        if {[dict get $w worker_type] eq "WORKER"} { incr workers }
    }
    set d [lindex [ray_json list workers --detail --filter pid=$::put_pid3] 0]
    assert_true {$::put_pid3 in $drivers} "the put driver among the DRIVER pids"
    assert_true {$workers >= 1} "WORKER entries on host 3"
    assert_true {[dict exists $d start_time_ms]} "--detail of the put driver: $d"
    set pids [field $ws pid]
    assert_equal 1 [lsort -unique [lmap p $pids {expr {$p > 0}}]] "every pid > 0: $pids"
    lsort -unique [field $ws node_id]
} [dict get $::node_of $h3]

test {state-1.18 objects of a driver that let go are no longer listed} {
    file_write $::put_release ok
    wait_for {[llength [ray_json list objects --filter object_id=$::put_obj2]] == 0 &&
              [llength [ray_json list objects --filter object_id=$::put_obj3]] == 0 &&
              [llength [ray_json list objects --filter object_id=$::small_put]] == 0} 30000 \
        "objects freed"
    llength [ray_json list objects --filter ip=$h2 --filter type=DRIVER --filter pid=$::put_pid2]
} 0

test {state-1.11 once released the task is FINISHED and the actor DEAD with its cause} {
    file_write $::release ok
    wait_for {![pid_alive $::obs_pid]} 60000 "observe exits"
    wait_for {[llength [tasks func_or_class_name=obs_wait state=FINISHED]] == 1} 30000 "finished"
    wait_for {[llength [ray_json list actors --filter state=DEAD --filter actor_id=$::actor]] == 1} 30000 \
        "actor dead"
    set a [::json::json2dict [on_ok $h1 $ray_bin get actors $::actor --address $api --format json]]
    dict get $a death_cause actor_died_error_context error_message
} {the actor's job ended}

test {state-1.11b a finished task's events are its five states once each, in order, times not going back} {
    # The raylet keeps one record per task attempt while it is buffered
    # (states join it), and the GCS merges records that came in different
    # batches (obs_wait's RUNNING and FINISHED) or from two nodes.
    set out {}
    foreach t [concat [tasks func_or_class_name=obs_wait] [tasks func_or_class_name=obs_ok]] {
        set evs [dict get $t events]
        set times [field $evs created_ms]
        assert_equal [lsort -integer $times] $times "the event times of [dict get $t task_id]: $evs"
        lappend out [field $evs state]
    }
    lsort -unique $out
} {{PENDING_ARGS_AVAIL PENDING_NODE_ASSIGNMENT SUBMITTED_TO_WORKER RUNNING FINISHED}}

test {state-1.12 ray timeline writes a Chrome trace with every task that ran} {
    set out [file join [tmpdir] timeline.json]
    on_ok $h1 $ray_bin timeline --address $api --output $out
    set ev [::json::json2dict [file_read $out]]
    set per_fn {}
    foreach e $ev { dict incr per_fn [dict get $e name] }
    list [dict get $per_fn obs_ok] [dict get $per_fn obs_fail] [dict get $per_fn obs_wait] \
        [lsort -unique [field $ev ph]]
} {4 3 1 X}

test {state-1.12b ray list placement-groups shows a created group with its bundles} {
    on_ok $h1 [file join $root examples pg pg] pending obs_pg PACK 2 1
    wait_for {[llength [ray_json list placement-groups --filter state=CREATED]] == 1} 30000 "pg"
    set g [lindex [ray_json list placement-groups --detail --filter name=obs_pg] 0]
    list [dict get $g state] [dict get $g strategy] [llength [dict get $g bundles]] \
        [lsort -unique [field [dict get $g bundles] unit_resources]]
} {CREATED PACK 2 {{CPU 1.0}}}

test {state-1.12c ray logs --follow prints lines as they are written to another node's log} {
    set logs [file dirname [lindex [glob $tmp/session_*/node_$h2\_*/logs/raylet.log] 0]]
    file_write $logs/obs-follow.log "first line\n"
    set ns [lindex $names 0]
    set id2 [dict get $::node_of $h2]
    set f [start_bg follow -env $envs ip netns exec $ns $ray_bin logs obs-follow.log \
        --node-id $id2 --follow --address $api]
    wait_for {[string match "*first line*" [file_read [bg_log $f]]]} 30000 "first line"
    set fh [open $logs/obs-follow.log a]
    puts $fh "second line"
    close $fh
    wait_for {[string match "*second line*" [file_read [bg_log $f]]]} 30000 "second line"
    set out [file_read [bg_log $f]]
    stop_bg $f
    regexp -all {line} $out
} 2

# Follows URL with curl inside host 1's namespace in the background; returns its pid.
proc stream_bg {name url} {
    set tok [string trim [file_read $::token_file]]
    set ns [lindex $::names 0]
    return [start_bg $name ip netns exec $ns curl -sN -H "Authorization: Bearer $tok" $url]
}

# The job server log of host IP.
proc jobserver_log {ip} {
    return [file_read [lindex [glob $::tmp/session_*/node_$ip\_*/logs/ray_jobserver.log] 0]]
}

test {state-1.12d /api/v0/logs/stream of another node's file sends lines written after it started, each chunk framed "1"} {
    set logs [file dirname [lindex [glob $tmp/session_*/node_$h2\_*/logs/raylet.log] 0]]
    file_write $logs/obs-stream.log "zero\nold\n"
    set id2 [dict get $::node_of $h2]
    set f [stream_bg stream2 "$api/api/v0/logs/stream?node_id=$id2&filename=obs-stream.log&lines=1"]
    wait_for {[file_read [bg_log $f]] eq "1old\n"} 30000 "the last line"
    set fh [open $logs/obs-stream.log a]
    puts $fh "new"
    close $fh
    wait_for {[string match "*new*" [file_read [bg_log $f]]]} 30000 "the new line"
    set out [file_read [bg_log $f]]
    stop_bg $f
    set out
} "1old\n1new\n"

test {state-1.12e /api/v0/logs/stream of the head's own file sends lines as they are written} {
    set logs [file dirname [lindex [glob $tmp/session_*/node_$h1\_*/logs/raylet.log] 0]]
    file_write $logs/obs-local.log "before\n"
    set f [stream_bg stream1 "$api/api/v0/logs/stream?filename=obs-local.log&lines=5&format=text"]
    wait_for {[file_read [bg_log $f]] eq "before\n"} 30000 "the first line"
    set fh [open $logs/obs-local.log a]
    puts $fh "after"
    close $fh
    wait_for {[string match "*after*" [file_read [bg_log $f]]]} 30000 "the new line"
    set out [file_read [bg_log $f]]
    stop_bg $f
    set out
} "before\nafter\n"

test {state-1.12f a client that goes away ends its stream on the head and on the agent; the server serves on} {
    set logs [file dirname [lindex [glob $tmp/session_*/node_$h2\_*/logs/raylet.log] 0]]
    file_write $logs/obs-drop.log "only line\n"
    set id2 [dict get $::node_of $h2]
    set f [stream_bg stream3 "$api/api/v0/logs/stream?node_id=$id2&filename=obs-drop.log"]
    wait_for {[string match "*only line*" [file_read [bg_log $f]]]} 30000 "the line"
    stop_bg $f
    wait_for {[string match "*relayed log stream from node $id2 ended*" [jobserver_log $h1]]} \
        10000 "the head's relay ended"
    wait_for {[string match "*log stream of obs-drop.log ended*" [jobserver_log $h2]]} \
        10000 "the agent's stream ended"
    set tok [string trim [file_read $token_file]]
    set r [http_request GET "$api/api/v0/logs/file?node_id=$id2&filename=obs-drop.log" \
        -headers [list Authorization "Bearer $tok"]]
    list [dict get $r status] [dict get $r body]
} [list 200 "1only line\n"]

test {state-1.12g /api/v0/logs/stream without the token is 401; a missing file is 404, bad pid/suffix/interval 400, with Ray's envelope} {
    set tok [string trim [file_read $token_file]]
    set hdr [list Authorization "Bearer $tok"]
    set r1 [http_request GET "$api/api/v0/logs/stream?filename=raylet.log"]
    set r2 [http_request GET "$api/api/v0/logs/stream?filename=no-such.log" -headers $hdr]
    set r3 [http_request GET "$api/api/v0/logs/stream?pid=42" -headers $hdr]
    set r4 [http_request GET "$api/api/v0/logs/stream?filename=raylet.log&suffix=log" -headers $hdr]
    set r5 [http_request GET "$api/api/v0/logs/stream?filename=raylet.log&interval=0" -headers $hdr]
    list [dict get $r1 status] [dict get $r2 status] [json_get [dict get $r2 body] msg] \
        [dict get $r3 status] [json_get [dict get $r3 body] msg] [dict get $r4 status] \
        [dict get $r5 status]
} {401 404 {Log file no-such.log is not found on this node} 400 {pid needs node_id or node_ip: a pid names a worker only on its node} 400 400}

test {state-1.12h a job that ends right after 2500 tasks on a leased worker (more than one of its batches) has every one listed, and the one that failed with its error} {
    # The worker sends its records 2048 at a time (or a second old) and its
    # raylet passes them on to the GCS as they came.  The driver leaves at
    # once: the raylet asks the job's workers to exit (WorkerExit), and each
    # sends what it still holds first.
    set ns [lindex $names 0]
    set release [file join [tmpdir] release-direct]
    file_write $release ""
    set p [start_bg direct -env $envs ip netns exec $ns $obs direct 2500 $release]
    wait_for {![pid_alive $p]} 120000 "observe direct to finish"
    assert_match "*direct ok=2500 failed=1*" [file_read [bg_log $p]] "observe direct's output"
    proc many_counts {} {
        set sum [dict get [ray_json summary tasks] cluster summary]
        set out {}
        foreach f {obs_many obs_many_fail} {
            lappend out [expr {[dict exists $sum $f] ? [dict get $sum $f state_counts] : {}}]
        }
        return $out
    }
    wait_for {[many_counts] eq {{FINISHED 2500} {FAILED 1}}} 30000 "2501 tasks in the summary"
    set f [lindex [tasks func_or_class_name=obs_many_fail] 0]
    list [many_counts] [dict get $f error_type] [string match "*failing on purpose*" [dict get $f error_message]] \
        [expr {[dict get $f worker_pid] > 0}]
} {{{FINISHED 2500} {FAILED 1}} TASK_EXECUTION_EXCEPTION 1 1}

test {state-1.13 a node that left is listed DEAD with the reason} {
    on_ok $h3 $ray_bin stop
    wait_for {[llength [ray_json list nodes --filter state=DEAD]] == 1} 30000 "a dead node"
    set n [lindex [ray_json list nodes --filter state=DEAD] 0]
    set reason [dict get $n state_message]
    assert_true {$reason ne "null"} "the dead node's state_message"
    list [dict get $n node_ip] [llength [ray_json list nodes --filter state=ALIVE]]
} [list $h3 2]

suite_end

# Faults under load: while a client submits jobs in a loop to a head started
# with `ray start --head`, kill -9 the job server, the raylet and the GCS in
# turn (each restarted with its own command line).  Afterwards every
# submission that was acknowledged (HTTP 200) is listed with a truthful
# status (SUCCEEDED, its log holding its own output), none lost; the session
# dir and the files with secrets are closed to user nobody.
# serial
source [file join [file dirname [info script]] .. lib jobs.tcl]
source [file join [file dirname [info script]] .. lib cluster.tcl]
if {![file executable [rayc_bin gcs_server]] || ![file executable [rayc_bin raylet]]} {
    skip_suite "bin/gcs_server and bin/raylet are needed"
}
cluster_cleanup_at_end

set dash [free_port]
ray_ok start --head --node-ip-address 127.0.0.1 --port [free_port] --dashboard-port $dash \
    --num-cpus 2
set node [lindex [node_dirs] end]
set token [string trim [file_read $::env(HOME)/.ray/auth_token]]
set s [dict create url http://127.0.0.1:$dash port $dash token $token]
foreach f {gcs_server.log raylet.log ray_jobserver.log} {
    watch_log $node/logs/$f
}

# The client: submits "fault-N" jobs until the file STOP exists, writing one
# line "ID STATUS" per attempt (0 when no answer came) to ACKS.  Like any
# client it pauses briefly after a refused attempt: without that, the
# restart of a killed daemon burned through its whole attempt budget on
# instant "connection refused"s and the test waited for acks that never came.
# It also pauses while it has as many acknowledged submissions as the file
# ALLOW says, which the test raises before each wait for more: so the
# number of jobs stays bounded without a budget that a slow restart could
# use up while the test still waits for acks.
set work [tmpdir]
set acks [file join $work acks]
set stop [file join $work stop]
set allow [file join $work allow]
set client [file join $work client.py]
file_write $allow 0
file_write $client {
import http.client, json, os, sys, time
url_port, token, acks, stop, allow = (int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4],
                                      sys.argv[5])
out = open(acks, "w", buffering=1)
i = 0
acked = 0
while not os.path.exists(stop):
    with open(allow) as f:
        if acked >= int(f.read().strip() or 0):
            time.sleep(0.01)
            continue
    i += 1
    sid = "fault-%d" % i
    body = json.dumps({"entrypoint": "echo out-%s" % sid, "submission_id": sid})
    status = 0
    try:
        c = http.client.HTTPConnection("127.0.0.1", url_port, timeout=10)
        c.request("POST", "/api/jobs/", body=body, headers={
            "Authorization": "Bearer " + token, "Content-Type": "application/json"})
        status = c.getresponse().status
        c.close()
    except OSError:
        pass
    out.write("%s %d\n" % (sid, status))
    if status == 200:
        acked += 1
    else:
        time.sleep(0.01)
}
set cpid [start_bg client /usr/bin/python3 $client $dash $token $acks $stop $allow]
at_suite_end [list file_write $stop ""]

# The number of acknowledged submissions so far.
proc acked {} {
    set n 0
    if {![file exists $::acks]} {
        return 0
    }
    foreach line [split [file_read $::acks] \n] {
        if {[lindex $line 1] eq "200"} {
            incr n
        }
    }
    return $n
}

# Waits for N more acknowledged submissions than now, letting the client
# make up to 200 more (WHAT says where the test is).
proc wait_acks {n what} {
    set base [acked]
    file_write $::allow [expr {$base + 200}]
    wait_for {[acked] >= $base + $n} 30000 "$n more acknowledged submissions $what"
}

# Kills daemon NAME of the head with SIGKILL and starts it again with the same
# command line, recording the new pid where `ray stop` looks.
proc kill9_restart {name} {
    set pid [node_pid [file tail $::node] $name]
    set cmdline [split [string trimright [file_read /proc/$pid/cmdline] \0] \0]
    exec kill -9 $pid
    wait_for {![pid_alive $pid]} 20000 "$name $pid to die"
    set new [start_bg ${name}_restarted {*}$cmdline]
    file_write $::node/pids/$name.pid $new\n
    return $new
}

test {jobs-fault-1.1 submissions go on while the job server, the raylet and the GCS are killed -9 in turn} {
    set out {}
    foreach name {ray_jobserver raylet gcs_server ray_jobserver} {
        wait_acks 5 "before killing $name"
        set new [kill9_restart $name]
        if {$name eq "ray_jobserver"} {
            wait_for {[dict get [http_request GET [dict get $::s url]/api/healthz -timeout 1000] status] == 200} \
                10000 "the restarted job server"
        }
        wait_acks 5 "after $name was restarted"
        lappend out $name [pid_alive $new]
    }
    file_write $stop ""
    wait_for {![pid_alive $cpid]} 20000 "the client to stop"
    set out
} {ray_jobserver 1 raylet 1 gcs_server 1 ray_jobserver 1}

test {jobs-fault-1.2 every acknowledged submission is listed and ends SUCCEEDED with its own output} {
    set ids {}
    foreach line [split [file_read $acks] \n] {
        if {[lindex $line 1] eq "200"} {
            lappend ids [lindex $line 0]
        }
    }
    set wrong {}
    foreach id $ids {
        set d [jobs_wait $s $id {SUCCEEDED FAILED STOPPED} 60000]
        if {[dict get $d status] ne "SUCCEEDED" ||
            ![string match "*\nout-$id\n" [jobs_logs $s $id]]} {
            lappend wrong "$id: [dict get $d status] [dict get $d message]"
        }
    }
    set acked [llength $ids]
    assert_true {$acked >= 40} "acknowledged submissions"
    set wrong
} {}

test {jobs-fault-1.3 no job is left behind: the list holds every acknowledged id and nothing is still PENDING or RUNNING} {
    set listed {}
    set live {}
    foreach j [json_get [dict get [jobs_api $s GET /api/jobs/] body]] {
        lappend listed [dict get $j submission_id]
        if {[dict get $j status] in {PENDING RUNNING}} {
            lappend live [dict get $j submission_id]
        }
    }
    set missing {}
    foreach line [split [file_read $acks] \n] {
        if {[lindex $line 1] eq "200" && [lindex $line 0] ni $listed} {
            lappend missing [lindex $line 0]
        }
    }
    list $missing $live
} {{} {}}

test {jobs-fault-1.4 every acknowledged job ends up with a driver job id, also those started while the GCS was down} {
    proc no_id {} {
        set ids {}
        foreach j [json_get [dict get [jobs_api $::s GET /api/jobs/] body]] {
            if {[dict get $j job_id] eq "null"} {
                lappend ids [dict get $j submission_id]
            }
        }
        return $ids
    }
    wait_for {[llength [no_id]] == 0} 60000 "every job to have a job id"
    no_id
} {}

if {[exec id -u] != 0} {
    skip_test {jobs-fault-2.1 the session dir, gcs.db and jobs.db are closed to user nobody} \
        "needs root to run as nobody"
} else {
    test {jobs-fault-2.1 the session dir, gcs.db and jobs.db are closed to user nobody} {
        set session [file dirname $node]
        set out {}
        foreach path [list $session $node $node/gcs.db] {
            lappend out [format %o [expr {[file attributes $path -permissions] & 0777}]]
        }
        foreach path [concat [glob $node/gcs.db $node/logs/*] [glob -nocomplain $node/*/jobs.db $node/jobs.db]] {
            if {![catch {exec runuser -u nobody -- cat $path}]} {
                lappend out "readable: $path"
            }
        }
        set out
    } {700 700 600}
}

suite_end

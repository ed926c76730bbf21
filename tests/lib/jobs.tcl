# Helpers shared by the job server suites (jobs_*.tcl): start a ray_jobserver
# in its own dir on a free port, call its API with the token, wait for jobs.
# Sourced by those suites; run on its own it defines procs and runs no test.

if {[info exists ::jobs_lib_loaded]} {
    return
}
set ::jobs_lib_loaded 1
source [file join [file dirname [info script]] harness.tcl]
package require websocket

# Tcl's http package says "Mozilla/5.0 ..." by default, which the job server
# (like Ray's dashboard) takes for a browser and refuses on POST/PUT/DELETE.
::http::config -useragent "rayc-tests (Tcl http [package provide http])"

# Starts bin/ray_jobserver and waits until /api/healthz answers:
#     jobs_server_start ?-env {K V}? ?-dir DIR? ?-port N? ?ARG ...?
# Returns a dict {url port dir token pid log node}.  -dir reuses a node dir
# (for restart tests); extra ARGs go to the server.
proc jobs_server_start {args} {
    set o {-env {} -dir "" -port ""}
    while {[lindex $args 0] in {-env -dir -port}} {
        set args [lassign $args key value]
        dict set o $key $value
    }
    set dir [expr {[dict get $o -dir] ne "" ? [dict get $o -dir] : [tmpdir]}]
    set port [expr {[dict get $o -port] ne "" ? [dict get $o -port] : [free_port]}]
    set token_file [file join $dir token]
    if {![file exists $token_file]} {
        file_write $token_file "jobs-test-token-[pid]-[clock microseconds]\n"
    }
    set token [string trim [file_read $token_file]]
    set node [file join $dir node]
    set pid [start_bg jobserver -env [dict get $o -env] [rayc_bin ray_jobserver] \
        --host 127.0.0.1 --port $port --token-file $token_file --node-dir $node \
        --log-file [file join $dir jobserver.log] {*}$args]
    watch_log [file join $dir jobserver.log]
    set url http://127.0.0.1:$port
    wait_for {[dict get [http_request GET $url/api/healthz -timeout 1000] status] == 200} 10000 \
        "job server on port $port"
    return [dict create url $url port $port dir $dir token $token pid $pid \
        log [file join $dir jobserver.log] node $node]
}

# The auth header list for server S.
proc jobs_auth {s} {
    return [list Authorization "Bearer [dict get $s token]"]
}

# Calls the API of server S with its token: jobs_api S METHOD PATH ?-body B? ?-headers H?
proc jobs_api {s method path args} {
    set o [::harness::take_opts args {-body "" -headers {} -timeout 10000}]
    return [http_request $method [dict get $s url]$path -body [dict get $o -body] \
        -headers [concat [jobs_auth $s] [dict get $o -headers]] -timeout [dict get $o -timeout]]
}

# Submits BODY (JSON text) and returns the submission id; raises unless 200.
proc jobs_submit {s body} {
    set r [jobs_api $s POST /api/jobs/ -body $body]
    assert_equal 200 [dict get $r status] "submit: [dict get $r body]"
    return [json_get [dict get $r body] submission_id]
}

# Quotes TEXT as a JSON string.
proc jstr {text} {
    return "\"[string map {\\ \\\\ \" \\\" \n \\n \t \\t \r \\r} $text]\""
}

# Returns the JobDetails dict of job ID.
proc jobs_info {s id} {
    set r [jobs_api $s GET /api/jobs/$id]
    assert_equal 200 [dict get $r status] "GET /api/jobs/$id: [dict get $r body]"
    return [json_get [dict get $r body]]
}

proc jobs_status {s id} {
    return [dict get [jobs_info $s $id] status]
}

# Waits until job ID has one of STATUSES; returns its JobDetails dict.
proc jobs_wait {s id statuses {timeout 20000}} {
    wait_for {[jobs_status $s $id] in $statuses} $timeout "job $id to reach $statuses"
    return [jobs_info $s $id]
}

# Ray's first driver-log line, "<time>\tINFO <where> -- Runtime env is setting up.".
set ::jobs_setup_line_re {^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}\tINFO [^\n]* -- Runtime env is setting up\.\n}

# TEXT (a driver log, or the start of one) without its first line, which
# must be Ray's "Runtime env is setting up." line (raises otherwise).
proc jobs_strip_setup {text} {
    if {![regexp $::jobs_setup_line_re $text]} {
        ::harness::assert_failed "a log starting with Ray's \"Runtime env is setting up.\" line" \
            $text
    }
    return [regsub $::jobs_setup_line_re $text ""]
}

# PUTs the bytes of FILE as package gcs://NAME on server S; returns the
# HTTP status.
proc jobs_put_package {s name file} {
    set f [open $file rb]
    set data [read $f]
    close $f
    set r [::http::geturl [dict get $s url]/api/packages/gcs/$name -method PUT \
        -type application/octet-stream -query $data -headers [jobs_auth $s]]
    set code [::http::ncode $r]
    ::http::cleanup $r
    return $code
}

# The job's log via GET /logs.
proc jobs_logs {s id} {
    set r [jobs_api $s GET /api/jobs/$id/logs]
    assert_equal 200 [dict get $r status] [dict get $r body]
    return [json_get [dict get $r body] logs]
}

# Reads the log tail WebSocket of job ID: returns {FRAMES CLOSED}, the text
# frames in order and whether the server closed normally, within TIMEOUT ms.
proc jobs_ws_tail {s id {timeout 30000}} {
    set key ::jobs_ws_[clock microseconds]
    set ${key}(frames) {}
    set ${key}(done) ""
    set url "ws://127.0.0.1:[dict get $s port]/api/jobs/$id/logs/tail"
    websocket::open $url [list jobs_ws_handler $key] -headers [jobs_auth $s]
    set after [after $timeout [list set ${key}(done) timeout]]
    vwait ${key}(done)
    after cancel $after
    set result [list [set ${key}(frames)] [set ${key}(done)]]
    unset $key
    return $result
}

proc jobs_ws_handler {key sock type msg} {
    switch -- $type {
        text {lappend ${key}(frames) $msg}
        close {set ${key}(done) closed}
        disconnect {if {[set ${key}(done)] eq ""} {set ${key}(done) disconnected}}
        error {set ${key}(done) "error: $msg"}
    }
}

# The process ids whose command line starts with MARK.
proc jobs_pids_with {mark} {
    set pids {}
    foreach dir [glob -nocomplain /proc/\[0-9\]*] {
        if {[catch {open $dir/cmdline r} f]} {
            continue
        }
        fconfigure $f -translation binary
        # The process may exit between open and read.
        if {[catch {read $f} raw]} {
            catch {close $f}
            continue
        }
        close $f
        set cmd [string map [list \0 " "] $raw]
        if {[string match "$mark*" $cmd] && [file tail $dir] != [pid]} {
            lappend pids [file tail $dir]
        }
    }
    return $pids
}

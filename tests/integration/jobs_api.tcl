# The job server's HTTP API against Ray's: every route, JobDetails field by
# field, error statuses and messages, the token on every endpoint, the
# browser guard and the body limit.
source [file join [file dirname [info script]] .. lib jobs.tcl]

set s [jobs_server_start --max-body-bytes 65536 --session-name session_jobs_api_test]
set url [dict get $s url]

# ---------------------------------------------------------------- public endpoints

test {jobs-api-1.1 /api/healthz is public and answers success} {
    set r [http_request GET $url/api/healthz]
    list [dict get $r status] [dict get $r body]
} {200 success}

test {jobs-api-1.2 /api/authentication_mode is public and says token} {
    set r [http_request GET $url/api/authentication_mode]
    list [dict get $r status] [json_get [dict get $r body] authentication_mode]
} {200 token}

test {jobs-api-1.3 /api/version has Ray's fields in Ray's order} {
    set r [jobs_api $s GET /api/version]
    set v [json_get [dict get $r body]]
    assert_equal 200 [dict get $r status]
    assert_equal {version ray_version ray_commit session_name} [dict keys $v]
    assert_match {2.*} [dict get $v ray_version]
    list [dict get $v version] [dict get $v session_name]
} {4 session_jobs_api_test}

# ---------------------------------------------------------------- authentication

set protected {
    {GET /api/version} {GET /api/jobs/} {GET /api/jobs} {POST /api/jobs/}
    {GET /api/jobs/x} {DELETE /api/jobs/x} {GET /api/jobs/x/logs}
    {GET /api/jobs/x/logs/tail} {POST /api/jobs/x/stop}
    {GET /api/packages/gcs/_ray_pkg_0.zip} {PUT /api/packages/gcs/_ray_pkg_0.zip}
}

test {jobs-api-2.1 every protected endpoint answers 401 without a token} {
    set bad {}
    foreach ep $protected {
        lassign $ep m p
        set r [http_request $m $url$p -body [expr {$m in {POST PUT} ? "{}" : ""}]]
        if {[dict get $r status] != 401 ||
            [dict get $r body] ne "Unauthorized: Missing authentication token"} {
            lappend bad "$ep -> [dict get $r status] [dict get $r body]"
        }
    }
    set bad
} {}

test {jobs-api-2.2 every protected endpoint answers 403 for a wrong token} {
    set bad {}
    foreach ep $protected {
        lassign $ep m p
        set r [http_request $m $url$p -headers {Authorization {Bearer wrong}} \
            -body [expr {$m in {POST PUT} ? "{}" : ""}]]
        if {[dict get $r status] != 403 ||
            [dict get $r body] ne "Forbidden: Invalid authentication token"} {
            lappend bad "$ep -> [dict get $r status] [dict get $r body]"
        }
    }
    set bad
} {}

test {jobs-api-2.3 the token is accepted in X-Ray-Authorization and in the cookie} {
    set tok [dict get $s token]
    set a [http_request GET $url/api/jobs/ -headers [list X-Ray-Authorization "Bearer $tok"]]
    set b [http_request GET $url/api/jobs/ -headers [list X-Ray-Authorization $tok]]
    set c [http_request GET $url/api/jobs/ -headers [list Cookie "ray-authentication-token=$tok"]]
    set d [http_request GET $url/api/jobs/ -headers [list Cookie "ray-authentication-token=nope"]]
    list [dict get $a status] [dict get $b status] [dict get $c status] [dict get $d status]
} {200 200 200 403}

test {jobs-api-2.4 POST /api/authenticate checks the token and sets the cookie} {
    set bad [http_request POST $url/api/authenticate -headers {Authorization {Bearer nope}}]
    set ok [http_request POST $url/api/authenticate -headers [jobs_auth $s]]
    set cookie [dict get $ok headers set-cookie]
    assert_match "ray-authentication-token=[dict get $s token];*HttpOnly*" $cookie
    list [dict get $bad status] [dict get $ok status]
} {403 200}

test {jobs-api-2.5 browser-like requests may read but not POST, PUT or DELETE} {
    set saved [::http::config -useragent]
    ::http::config -useragent {Mozilla/5.0 (X11; Linux x86_64)}
    set get [jobs_api $s GET /api/jobs/]
    set post [jobs_api $s POST /api/jobs/ -body {{"entrypoint": "true"}}]
    ::http::config -useragent $saved
    set origin [jobs_api $s POST /api/jobs/ -headers {Origin http://evil.example} \
        -body {{"entrypoint": "true"}}]
    set fetch [jobs_api $s DELETE /api/jobs/x -headers {Sec-Fetch-Mode cors}]
    set put [jobs_api $s PUT /api/packages/gcs/_ray_pkg_1.zip -headers {Sec-Fetch-Site cross-site} -body x]
    list [dict get $get status] [dict get $post status] [dict get $post body] \
        [dict get $origin status] [dict get $fetch status] [dict get $put status]
} {200 405 {Method Not Allowed for browser traffic.} 405 405 405}

# ---------------------------------------------------------------- submit and JobDetails

set ray_fields [list type job_id submission_id driver_info status entrypoint message \
    error_type start_time end_time metadata runtime_env driver_agent_http_address \
    driver_node_id driver_exit_code]

test {jobs-api-3.1 submit answers job_id and submission_id, a raysubmit_ id of Ray's alphabet} {
    set r [jobs_api $s POST /api/jobs/ -body {{"entrypoint": "echo hello"}}]
    set b [json_get [dict get $r body]]
    set ::first [dict get $b submission_id]
    assert_equal $::first [dict get $b job_id] "job_id and submission_id"
    assert_regexp {^raysubmit_[a-km-zA-HJ-NP-Z1-9]{16}$} $::first
    list [dict get $r status] [dict keys $b]
} {200 {job_id submission_id}}

test {jobs-api-3.2 JobDetails of a succeeded job: Ray's fields, order and values} {
    set d [jobs_wait $s $::first SUCCEEDED]
    assert_equal $::ray_fields [dict keys $d]
    assert_equal SUBMISSION [dict get $d type]
    assert_equal $::first [dict get $d submission_id]
    assert_equal "echo hello" [dict get $d entrypoint]
    assert_equal "Job finished successfully." [dict get $d message]
    assert_equal null [dict get $d error_type]
    assert_equal null [dict get $d metadata]
    assert_equal null [dict get $d runtime_env]
    assert_equal 0 [dict get $d driver_exit_code]
    assert_equal $url [dict get $d driver_agent_http_address]
    assert_true {[string is wide -strict [dict get $d start_time]]}
    assert_true {[dict get $d end_time] >= [dict get $d start_time]}
    assert_true {abs([clock milliseconds] - [dict get $d start_time]) < 60000} "times are in ms"
    regexp {^[0-9a-f]{56}$} [dict get $d driver_node_id]
} 1

test {jobs-api-3.3 metadata and runtime_env are returned as submitted} {
    set id [jobs_submit $s {{"entrypoint": "true", "metadata": {"owner": "ann", "team": "x"},
        "runtime_env": {"env_vars": {"A": "1"}}, "submission_id": "meta-1"}}]
    set d [jobs_wait $s $id SUCCEEDED]
    list $id [dict get $d metadata] [dict get $d runtime_env]
} {meta-1 {owner ann team x} {env_vars {A 1}}}

test {jobs-api-3.4 a failing entrypoint: FAILED, exit code, Ray's message with the log tail} {
    set id [jobs_submit $s {{"entrypoint": "echo first; echo oops >&2; exit 3"}}]
    set d [jobs_wait $s $id FAILED]
    set msg [dict get $d message]
    assert_match "Job entrypoint command failed with exit code 3, last available logs (truncated to 20,000 chars):\n*first\noops\n" $msg
    list [dict get $d error_type] [dict get $d driver_exit_code]
} {JOB_ENTRYPOINT_COMMAND_ERROR 3}

test {jobs-api-3.5 null fields count as absent; job_id is the alias of submission_id} {
    set r [jobs_api $s POST /api/jobs -body {{"entrypoint": "true", "submission_id": null,
        "job_id": "alias-1", "runtime_env": null, "metadata": null, "entrypoint_num_cpus": null}}]
    list [dict get $r status] [json_get [dict get $r body] submission_id]
} {200 alias-1}

test {jobs-api-3.6 GET /api/jobs/ lists every job in submission order} {
    set r [jobs_api $s GET /api/jobs/]
    set ids {}
    foreach j [json_get [dict get $r body]] {
        lappend ids [dict get $j submission_id]
    }
    assert_true {"alias-1" in $ids} "the listed submission ids"
    assert_match {[[]*} [dict get $r body]
    list [dict get $r status] [lindex $ids 0] [lrange $ids 1 1]
} [list 200 $::first meta-1]

test {jobs-api-3.7 GET /api/jobs without the slash lists too} {
    dict get [jobs_api $s GET /api/jobs] status
} 200

# ---------------------------------------------------------------- bad requests

proc submit_error {body} {
    set r [jobs_api $::s POST /api/jobs/ -body $body]
    return [list [dict get $r status] [dict get $r body]]
}

test {jobs-api-4.1 a body that is not JSON is refused with 400} {
    lassign [submit_error {entrypoint=ls}] code msg
    assert_match "request body is not valid JSON*" $msg
    set code
} 400

test {jobs-api-4.2 a JSON body that is not an object is refused with 400} {
    submit_error {["echo"]}
} {400 {request body must be a JSON object, got list}}

test {jobs-api-4.3 a missing entrypoint is refused with 400} {
    submit_error {{"metadata": {}}}
} {400 {entrypoint is required}}

test {jobs-api-4.4 an unknown field is refused with 400 and Ray's TypeError} {
    submit_error {{"entrypoint": "true", "entrypoint_num_tpus": 1}}
} {400 {TypeError: __init__() got an unexpected keyword argument 'entrypoint_num_tpus'}}

test {jobs-api-4.5 fields of the wrong type are refused naming the field} {
    list [submit_error {{"entrypoint": 5}}] \
        [submit_error {{"entrypoint": "true", "metadata": {"a": 1}}}] \
        [submit_error {{"entrypoint": "true", "runtime_env": "x"}}] \
        [submit_error {{"entrypoint": "true", "entrypoint_num_cpus": "2"}}] \
        [submit_error {{"entrypoint": "true", "entrypoint_memory": 1.5}}] \
        [submit_error {{"entrypoint": "true", "entrypoint_resources": {"r": "x"}}}]
} {{400 {entrypoint must be a string, got int}} {400 {metadata values must be strings, got int for 'a'}} {400 {runtime_env must be a dict, got str}} {400 {entrypoint_num_cpus must be a number, got str}} {400 {entrypoint_memory must be an integer, got float}} {400 {entrypoint_resources values must be non-negative numbers, got str for 'r'}}}

test {jobs-api-4.6 submission ids that could escape the log dir are refused} {
    list [lindex [submit_error {{"entrypoint": "true", "submission_id": "../../etc/x"}}] 0] \
        [lindex [submit_error {{"entrypoint": "true", "submission_id": ".hidden"}}] 0] \
        [lindex [submit_error {{"entrypoint": "true", "submission_id": "a b"}}] 0]
} {400 400 400}

test {jobs-api-4.7 a duplicate submission_id gets 400 with Ray's sentence} {
    submit_error {{"entrypoint": "true", "submission_id": "meta-1"}}
} {400 {Job with submission_id meta-1 already exists. Please use a different submission_id.}}

test {jobs-api-4.8 unknown job ids: 404 "Job <id> does not exist" on every job route} {
    set out {}
    foreach {m p} {GET "" GET /logs POST /stop DELETE "" GET /logs/tail} {
        set r [jobs_api $s $m /api/jobs/no-such-job$p]
        lappend out [dict get $r status] [dict get $r body]
    }
    lsort -unique $out
} {404 {Job no-such-job does not exist}}

test {jobs-api-4.9 unknown paths get 404 and wrong methods 405} {
    list [dict get [jobs_api $s GET /api/nope] status] \
        [dict get [jobs_api $s PUT /api/jobs/] status] \
        [dict get [jobs_api $s GET /api/jobs/$::first/stop] status]
} {404 405 405}

# ---------------------------------------------------------------- stop and delete

test {jobs-api-5.1 delete refuses a running job and removes a finished one} {
    set id [jobs_submit $s {{"entrypoint": "sleep 30", "submission_id": "del-1"}}]
    jobs_wait $s $id RUNNING
    set busy [jobs_api $s DELETE /api/jobs/$id]
    jobs_api $s POST /api/jobs/$id/stop
    jobs_wait $s $id STOPPED
    set gone [jobs_api $s DELETE /api/jobs/$id]
    set after [jobs_api $s GET /api/jobs/$id]
    list [dict get $busy status] [dict get $busy body] [dict get $gone status] \
        [dict get $gone body] [dict get $after status]
} {400 {Attempted to delete job 'del-1', but it is in a non-terminal state RUNNING.} 200 {{"deleted": true}} 404}

test {jobs-api-5.2 stopping a finished job answers stopped false} {
    set r [jobs_api $s POST /api/jobs/$::first/stop]
    list [dict get $r status] [dict get $r body] [jobs_status $s $::first]
} {200 {{"stopped": false}} SUCCEEDED}

test {jobs-api-5.3 a deleted submission id can be used again with a fresh log} {
    set id [jobs_submit $s {{"entrypoint": "echo second", "submission_id": "del-1"}}]
    jobs_wait $s $id SUCCEEDED
    jobs_strip_setup [jobs_logs $s $id]
} "Running entrypoint for job del-1: echo second\nsecond\n"

# ---------------------------------------------------------------- logs

test {jobs-api-6.1 /logs returns the whole log; bytes that are not UTF-8 become U+FFFD} {
    set id [jobs_submit $s {{"entrypoint": "printf 'caf\\303\\251 ok\\n'; printf 'bad \\377 byte\\n'"}}]
    jobs_wait $s $id SUCCEEDED
    set lines [split [jobs_strip_setup [jobs_logs $s $id]] \n]
    lrange $lines 1 2
} "{caf\u00e9 ok} {bad \ufffd byte}"

# ---------------------------------------------------------------- limits

test {jobs-api-7.1 a body over the limit gets 413 naming the limit; the server keeps serving} {
    set big "{\"entrypoint\": \"[string repeat x 70000]\"}"
    set r [jobs_api $s POST /api/jobs/ -body $big]
    set up [jobs_api $s PUT /api/packages/gcs/_ray_pkg_big.zip -body [string repeat y 70000] \
        -headers {Content-Type application/zip}]
    set after [jobs_api $s GET /api/version]
    list [dict get $r status] [dict get $r body] [dict get $up status] [dict get $after status] \
        [dict get [jobs_api $s GET /api/packages/gcs/_ray_pkg_big.zip] status]
} {413 {Request body exceeds the limit of 65536 bytes} 413 200 404}

# ---------------------------------------------------------------- packages

test {jobs-api-8.1 packages: unknown is 404, PUT stores, GET then finds it} {
    set p /api/packages/gcs/_ray_pkg_0123456789abcdef.zip
    set miss [jobs_api $s GET $p]
    set put [jobs_api $s PUT $p -body "PK-not-really" -headers {Content-Type application/octet-stream}]
    set hit [jobs_api $s GET $p]
    set stored [file_read [file join [dict get $s node] runtime_resources packages \
        _ray_pkg_0123456789abcdef.zip]]
    list [dict get $miss status] [dict get $miss body] [dict get $put status] \
        [dict get $hit status] $stored
} {404 {Package gcs://_ray_pkg_0123456789abcdef.zip does not exist} 200 200 PK-not-really}

test {jobs-api-8.2 package names that are not plain .zip or .whl files are refused} {
    list [dict get [jobs_api $s PUT /api/packages/gcs/..zip -body x] status] \
        [dict get [jobs_api $s PUT /api/packages/gcs/pkg.tar -body x] status] \
        [dict get [jobs_api $s PUT /api/packages/s3/pkg.zip -body x] status] \
        [dict get [jobs_api $s GET /api/packages/gcs/%2e%2e%2fjobs.db] status]
} {400 400 400 404}

suite_end

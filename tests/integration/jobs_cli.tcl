# `ray job` against a real job server: Ray's wording and exit codes for
# submit/status/logs/stop/list/delete, working_dir packaging (Ray's package
# name, excludes, .gitignore, upload skipped when present), YAML runtime_env,
# address and token lookup, and errors.
source [file join [file dirname [info script]] .. lib jobs.tcl]

set s [jobs_server_start]
set tok [dict get $s token]
set url [dict get $s url]
set cli_env [list RAY_ADDRESS $url RAY_AUTH_TOKEN $tok]

proc rayjob {args} {
    return [run_cmd -env $::cli_env -timeout 60 [rayc_bin ray] job {*}$args]
}

# Ray's package name for a directory, computed the way Ray's packaging.py does
# (sha1 of each path and file, XOR-folded to 8 bytes; .git excluded).
proc ray_pkg_name {dir} {
    set py {
import hashlib, sys
from pathlib import Path
root = Path(sys.argv[1]).absolute()
h = b"0" * 8
def visit(p):
    global h
    rel = str(p.relative_to(root))
    if rel.split("/")[0] in (".git", "__pycache__", ".venv", "venv") or rel.endswith(".tmp"):
        return
    s = hashlib.sha1(); s.update(rel.encode())
    if not p.is_dir():
        s.update(p.read_bytes())
    h = bytes(a ^ b for a, b in zip(h, s.digest()))
    if p.is_dir():
        for c in p.iterdir():
            visit(c)
visit(root)
print("_ray_pkg_" + h.hex() + ".zip")
}
    return [exec python3 -c $py $dir]
}

set proj [file join [tmpdir] proj]
file mkdir $proj/sub $proj/.git
file_write $proj/run.sh {echo "ran with $(cat sub/data.txt)"; ls -a | tr '\n' ' '; echo}
file_write $proj/sub/data.txt data-1
file_write $proj/.git/HEAD "ref: x\n"
file_write $proj/.gitignore "*.tmp\n"
file_write $proj/scratch.tmp junk

# ---------------------------------------------------------------- submit

test {jobs-cli-1.1 submit --working-dir packages, uploads, runs, follows and says succeeded} {
    set r [rayjob submit --working-dir $proj -- sh run.sh]
    set out [dict get $r out]
    regexp {Job '(raysubmit_[A-Za-z0-9]+)' submitted successfully} $out - ::cli_id
    assert_contains "Job submission server address: $url" $out
    assert_contains "Uploading package gcs://_ray_pkg_" $out
    assert_contains "Next steps\n  Query the logs of the job:\n    ray job logs $::cli_id\n" $out
    assert_contains "Tailing logs until the job exits (disable with --no-wait):\n" $out
    assert_contains "ran with data-1\n. .. .gitignore run.sh sub \n" $out
    set dashes [string repeat - [string length "Job '$::cli_id' succeeded"]]
    assert_contains "\n$dashes\nJob '$::cli_id' succeeded\n$dashes\n" $out
    dict get $r code
} 0

if {[catch {exec python3 -c "import hashlib"}]} {
    skip_test {jobs-cli-1.2 Ray's package name} "python3 is needed to compute Ray's hash"
} else {
test {jobs-cli-1.2 the package has Ray's name for the directory; a second submit skips the upload} {
    set name [ray_pkg_name $proj]
    set stored [file exists [file join [dict get $s node] runtime_resources packages $name]]
    set r [rayjob submit --no-wait --working-dir $proj -- true]
    assert_equal 1 $stored "package $name stored"
    assert_contains "Package gcs://$name already exists, skipping upload." [dict get $r out]
}
}

test {jobs-cli-1.3 a failed followed job: Ray's failure banner, status message, exit 1} {
    set r [rayjob submit --submission-id cli-fail -- sh -c {echo going; exit 5}]
    set out [dict get $r out]
    assert_equal 1 [dict get $r code] $out
    assert_match "*\n---------------------\nJob 'cli-fail' failed\n---------------------\n\nStatus message: Job entrypoint command failed with exit code 5, last available logs (truncated to 20,000 chars):\n*going*" $out
}

test {jobs-cli-1.4 the entrypoint words are shell-quoted as shlex.join does} {
    set r [rayjob submit --submission-id cli-quote -- echo "two words" {it's} plain]
    assert_match "*\ntwo words it's plain\n*" [dict get $r out]
    list [dict get $r code] [dict get [jobs_info $s cli-quote] entrypoint]
} {0 {echo 'two words' 'it'"'"'s' plain}}

test {jobs-cli-1.5 --runtime-env YAML, --metadata-json and entrypoint resources reach the server} {
    set dir [tmpdir]
    file_write $dir/req.txt "# a comment\nrayc-not-needed==1\n"
    file_write $dir/env.yaml "env_vars:\n  GREETING: hello\n  COUNT: '3'\nconfig:\n  setup_timeout_seconds: 30\n"
    set r [rayjob submit --no-wait --submission-id cli-yaml --runtime-env $dir/env.yaml \
        --metadata-json {{"team": "a"}} --entrypoint-num-cpus 0.5 -- sh -c {echo $GREETING-$COUNT}]
    set d [jobs_wait $s cli-yaml SUCCEEDED]
    list [dict get $r code] [dict get $d runtime_env] [dict get $d metadata] \
        [lindex [split [jobs_strip_setup [jobs_logs $s cli-yaml]] \n] 1]
} {0 {env_vars {GREETING hello COUNT 3} config {setup_timeout_seconds 30}} {team a} hello-3}

test {jobs-cli-1.6 a pip requirements file is read by the client into Ray's pip dict} {
    set dir [tmpdir]
    file_write $dir/req.txt "# pinned\nsome-pkg==1.0\n\nother\n"
    set r [rayjob submit --no-wait --submission-id cli-pip --runtime-env-json \
        "{\"pip\": \"$dir/req.txt\", \"config\": {\"setup_timeout_seconds\": 1}}" -- true]
    list [dict get $r code] [dict get [jobs_info $s cli-pip] runtime_env pip]
} {0 {packages {some-pkg==1.0 other} pip_check false}}

test {jobs-cli-1.7 local py_modules are uploaded with their directory name inside} {
    set dir [tmpdir]
    file mkdir $dir/climod
    file_write $dir/climod/__init__.py "NAME = 'climod'\n"
    set r [rayjob submit --submission-id cli-mod --runtime-env-json "{\"py_modules\": \[\"$dir/climod\"\]}" \
        -- python3 -c "import climod; print(climod.NAME)"]
    assert_equal 0 [dict get $r code] [dict get $r out]
    assert_contains "\nclimod\n" [dict get $r out]
    assert_match gcs://_ray_pkg_* [lindex [dict get [jobs_info $s cli-mod] runtime_env py_modules] 0]
}

# ---------------------------------------------------------------- status, logs, stop, list, delete

test {jobs-cli-2.1 status says Ray's words for running and finished jobs} {
    rayjob submit --no-wait --submission-id cli-run -- sleep 30
    jobs_wait $s cli-run RUNNING
    set running [dict get [rayjob status cli-run] out]
    set done [rayjob status $::cli_id]
    assert_match "*Status for job 'cli-run': RUNNING\nStatus message: Job is currently running." $running
    assert_equal 0 [dict get $done code] [dict get $done out]
    assert_contains "Job '$::cli_id' succeeded" [dict get $done out]
}

test {jobs-cli-2.2 stop waits for the job and reports it stopped} {
    set r [rayjob stop cli-run]
    set out [dict get $r out]
    assert_match "*Attempting to stop job 'cli-run'\nWaiting for job 'cli-run' to exit (disable with --no-wait):\n*Job 'cli-run' was stopped" $out
    list [dict get $r code] [jobs_status $s cli-run]
} {0 STOPPED}

test {jobs-cli-2.3 logs prints the whole log; logs -f follows to the end} {
    set a [rayjob logs cli-fail]
    rayjob submit --no-wait --submission-id cli-follow -- sh -c {sleep 0.5; echo late-line}
    set b [rayjob logs -f cli-follow]
    assert_match "*late-line\n*Job 'cli-follow' succeeded*" [dict get $b out]
    list [dict get $a code] [lindex [split [dict get $a out] \n] end] [dict get $b code]
} {0 going 0}

test {jobs-cli-2.4 list prints the JobDetails list as Ray's pprint does} {
    set out [dict get [rayjob list] out]
    assert_match "*\n\\\[JobDetails(type=<JobType.SUBMISSION: 'SUBMISSION'>, job_id=None, submission_id='raysubmit_*" $out
    assert_match "*submission_id='cli-fail', driver_info=None, status=<JobStatus.FAILED: 'FAILED'>, entrypoint=\"sh -c 'echo going; exit 5'\",*error_type='JOB_ENTRYPOINT_COMMAND_ERROR'*driver_exit_code=5)*" $out
    assert_contains "metadata={'team': 'a'}" $out
}

test {jobs-cli-2.5 delete removes a finished job; deleting a running one fails} {
    rayjob submit --no-wait --submission-id cli-busy -- sleep 30
    jobs_wait $s cli-busy RUNNING
    set busy [rayjob delete cli-busy]
    set ok [rayjob delete cli-fail]
    jobs_api $s POST /api/jobs/cli-busy/stop
    assert_match "*RuntimeError: Request failed with status code 400: Attempted to delete job 'cli-busy'*" [dict get $busy out]
    assert_match "*Job 'cli-fail' deleted successfully" [dict get $ok out]
    list [dict get $busy code] [dict get $ok code] [dict get [jobs_api $s GET /api/jobs/cli-fail] status]
} {1 0 404}

# ---------------------------------------------------------------- errors, address, token

test {jobs-cli-3.1 an unknown job is Ray's 404 error line and exit 1 (status, logs -f)} {
    set r [rayjob status no-such-job]
    set f [rayjob logs -f no-such-job]
    list [dict get $r code] [lindex [split [dict get $r out] \n] end] \
        [dict get $f code] [lindex [split [dict get $f out] \n] end]
} {1 {RuntimeError: Request failed with status code 404: Job no-such-job does not exist.} 1 {RuntimeError: Request failed with status code 404: Job no-such-job does not exist.}}

set dead_port [free_port]
test {jobs-cli-3.2 nothing listening: ConnectionError with the address, exit 1} {
    set r [run_cmd -env [list RAY_ADDRESS 127.0.0.1:$dead_port RAY_AUTH_TOKEN x-token-0123456789] [rayc_bin ray] job list]
    list [dict get $r code] [lindex [split [dict get $r out] \n] end]
} [list 1 "ConnectionError: Failed to connect to Ray at address: http://127.0.0.1:$dead_port."]

test {jobs-cli-3.3 RAY_API_SERVER_ADDRESS wins over RAY_ADDRESS} {
    set r [run_cmd -env [list RAY_API_SERVER_ADDRESS $url RAY_ADDRESS 127.0.0.1:1 RAY_AUTH_TOKEN $tok] \
        [rayc_bin ray] job list]
    list [dict get $r code] [lindex [split [dict get $r out] \n] 0]
} [list 0 "Job submission server address: $url"]

test {jobs-cli-3.4 the token comes from RAY_AUTH_TOKEN_PATH or ~/.ray/auth_token; without it, 401} {
    set dir [tmpdir]
    file_write $dir/tok "$tok\n"
    set a [run_cmd -env [list RAY_ADDRESS $url RAY_AUTH_TOKEN_PATH $dir/tok] [rayc_bin ray] job list]
    set none [run_cmd -env [list RAY_ADDRESS $url] [rayc_bin ray] job list]
    file_write $env(HOME)/.ray/auth_token "$tok\n"
    set home [run_cmd -env [list RAY_ADDRESS $url] [rayc_bin ray] job list]
    file delete $env(HOME)/.ray/auth_token
    assert_equal 0 [dict get $a code] "with RAY_AUTH_TOKEN_PATH: [dict get $a out]"
    assert_equal 1 [dict get $none code] "without a token: [dict get $none out]"
    assert_contains "RuntimeError: Authentication required: Unauthorized: Missing authentication token" [dict get $none out]
    assert_equal 0 [dict get $home code] "with ~/.ray/auth_token: [dict get $home out]"
}

test {jobs-cli-3.5 usage errors exit 2 with click's words} {
    set a [rayjob submit]
    set b [rayjob status]
    set c [rayjob submit --no-such-flag -- true]
    set d [rayjob frobnicate]
    assert_match "*Error: Missing argument 'ENTRYPOINT...'.*" [dict get $a out]
    assert_match "*Error: No such option: --no-such-flag*" [dict get $c out]
    list [dict get $a code] [dict get $b code] [dict get $c code] [dict get $d code]
} {2 2 2 2}

suite_end

# runtime_env on the job server: working_dir and py_modules from gcs://
# uploads, http:// and file:// URIs (.zip, .tar.gz, .whl), the top-level
# directory strip, zip-slip refusals, the URI cache (shared, evicted), pip
# from a local wheel, unsupported fields and the setup timeout.
source [file join [file dirname [info script]] .. lib jobs.tcl]

if {[catch {exec python3 -c "import zipfile, tarfile"}]} {
    skip_suite "python3 is needed to build the test archives"
}

set work [tmpdir]
set ::serve_dir [file join $work www]
file mkdir $::serve_dir

# Writes a zip (or .tar.gz when PATH ends so) holding ENTRIES {name content ...}
# with python3, so that hostile names like ../x can be made.  A content
# starting with "->" makes a symlink to the rest.
proc make_archive {path entries} {
    set py {
import json, sys, tarfile, zipfile, io
path, entries = sys.argv[1], json.loads(sys.argv[2])
if path.endswith(".tar.gz"):
    with tarfile.open(path, "w:gz") as t:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            if data.startswith("->"):
                info.type, info.linkname = tarfile.SYMTYPE, data[2:]
                t.addfile(info)
            else:
                raw = data.encode(); info.size = len(raw); t.addfile(info, io.BytesIO(raw))
else:
    with zipfile.ZipFile(path, "w") as z:
        for name, data in entries:
            if data.startswith("->"):
                zi = zipfile.ZipInfo(name); zi.external_attr = (0o120777 << 16)
                z.writestr(zi, data[2:])
            else:
                z.writestr(name, data)
}
    set json "\["
    set sep ""
    foreach {name content} $entries {
        append json $sep "\[[jstr $name], [jstr $content]\]"
        set sep ", "
    }
    append json "\]"
    exec python3 -c $py $path $json
    return $path
}

# A tiny HTTP server for the http:// tests: files from ::serve_dir; /stall/
# accepts and never answers.
proc serve_accept {chan addr port} {
    fconfigure $chan -translation binary -blocking 1
    gets $chan line
    while {[gets $chan h] > 0 && $h ne "\r"} {}
    set path [lindex $line 1]
    if {[string match /stall/* $path]} {
        lappend ::stalled $chan
        return
    }
    set file [file join $::serve_dir [string trimleft $path /]]
    if {![file isfile $file]} {
        puts -nonewline $chan "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n"
    } else {
        set f [open $file rb]
        set data [read $f]
        close $f
        puts -nonewline $chan "HTTP/1.0 200 OK\r\nContent-Length: [string length $data]\r\n\r\n$data"
    }
    close $chan
}
set ::stalled {}
set http_port [free_port]
set http_srv [socket -server serve_accept -myaddr 127.0.0.1 $http_port]

set s [jobs_server_start -env {RAY_RUNTIME_ENV_WORKING_DIR_CACHE_SIZE_GB 0.000001}]
set uris [file join [dict get $s node] runtime_resources uris]

proc renv_job {s id entry env} {
    return [jobs_submit $s "{\"entrypoint\": [jstr $entry], \"submission_id\": \"$id\", \"runtime_env\": $env}"]
}

# ---------------------------------------------------------------- packages

test {jobs-renv-1.1 a gcs:// working_dir: the job runs inside it with it on PYTHONPATH} {
    make_archive $work/wd.zip {main.sh "echo main-ran" data/f.txt "data-file"}
    assert_equal 200 [jobs_put_package $s _ray_pkg_wd1.zip $work/wd.zip]
    renv_job $s wd1 {pwd; sh main.sh; cat data/f.txt; echo; echo PP=$PYTHONPATH} \
        {{"working_dir": "gcs://_ray_pkg_wd1.zip"}}
    jobs_wait $s wd1 SUCCEEDED
    set lines [lrange [split [jobs_strip_setup [jobs_logs $s wd1]] \n] 1 4]
    assert_match "PP=[file join $uris _ray_pkg_wd1]*" [lindex $lines 3]
    list [lindex $lines 0] [lindex $lines 1] [lindex $lines 2]
} [list [file join $uris _ray_pkg_wd1] main-ran data-file]

test {jobs-renv-1.2 py_modules from gcs://, file:// (.zip, .tar.gz) and a .whl are importable} {
    make_archive $work/m1.zip {mod_a/__init__.py "A = 'a'"}
    make_archive $work/m2.tar.gz {top/mod_b/__init__.py "B = 'b'"}
    make_archive $work/mod_c-1.0-py3-none-any.whl {mod_c/__init__.py "C = 'c'"}
    jobs_put_package $s _ray_pkg_m1.zip $work/m1.zip
    renv_job $s mods {python3 -c "import mod_a, mod_b, mod_c; print(mod_a.A + mod_b.B + mod_c.C)"} \
        "{\"py_modules\": \[\"gcs://_ray_pkg_m1.zip\", \"file://$work/m2.tar.gz\", \"file://$work/mod_c-1.0-py3-none-any.whl\"\]}"
    set d [jobs_wait $s mods {SUCCEEDED FAILED}]
    list [dict get $d status] [lindex [split [jobs_strip_setup [jobs_logs $s mods]] \n] 1]
} {SUCCEEDED abc}

test {jobs-renv-1.3 an http:// working_dir is downloaded and its single top directory stripped} {
    make_archive $::serve_dir/repo.zip {repo-main/run.sh "echo from-http" repo-main/sub/x.txt "x"}
    renv_job $s web {sh run.sh; ls} "{\"working_dir\": \"http://127.0.0.1:$http_port/repo.zip\"}"
    jobs_wait $s web SUCCEEDED
    lrange [split [jobs_strip_setup [jobs_logs $s web]] \n] 1 3
} {from-http run.sh sub}

test {jobs-renv-1.4 a missing package or URL fails the job with the reason} {
    renv_job $s miss1 true {{"working_dir": "gcs://_ray_pkg_never.zip"}}
    renv_job $s miss2 true "{\"working_dir\": \"http://127.0.0.1:$http_port/none.zip\"}"
    renv_job $s miss3 true {{"working_dir": "/home/me/project"}}
    renv_job $s miss4 true {{"working_dir": "s3://bucket/x.zip"}}
    set out {}
    foreach id {miss1 miss2 miss3 miss4} {
        set d [jobs_wait $s $id FAILED]
        lappend out [dict get $d error_type]
        lappend out [regsub {: .*} [string range [dict get $d message] 26 end] ""]
    }
    assert_match "*never uploaded*" [dict get [jobs_info $s miss1] message]
    assert_match "*404*" [dict get [jobs_info $s miss2] message]
    assert_match "*/home/me/project is not a valid URI. Passing directories*" [dict get [jobs_info $s miss3] message]
    assert_match "*protocol 's3' is not supported*" [dict get [jobs_info $s miss4] message]
    lsort -unique [lmap {a b} $out {set a}]
} RUNTIME_ENV_SETUP_FAILURE

# ---------------------------------------------------------------- zip-slip

test {jobs-renv-2.1 archives whose entries escape are refused and write nothing outside} {
    set victim [file join $work victim]
    make_archive $work/slip1.zip [list ../../../[string trimleft $victim /]-1 owned]
    make_archive $work/slip2.zip [list $victim-2 owned]
    make_archive $work/slip3.tar.gz [list link "->$work" link/victim-3 owned]
    make_archive $work/slip4.zip [list up "->.." up2 "->up/.."]
    set out {}
    foreach n {1 2 3 4} ext {zip zip tar.gz zip} {
        renv_job $s slip$n true "{\"working_dir\": \"file://$work/slip$n.$ext\"}"
        set d [jobs_wait $s slip$n FAILED]
        lappend out [dict get $d error_type] [string match "*refusing to unpack*" [dict get $d message]]
    }
    lappend out [llength [glob -nocomplain $victim-* [file join $work victim-3]]]
    set out
} {RUNTIME_ENV_SETUP_FAILURE 1 RUNTIME_ENV_SETUP_FAILURE 1 RUNTIME_ENV_SETUP_FAILURE 1 RUNTIME_ENV_SETUP_FAILURE 1 0}

test {jobs-renv-2.2 links that stay inside the package are fine} {
    make_archive $work/links.tar.gz {real/f.txt "inside" alias "->real/f.txt" dir/up "->../real"}
    renv_job $s links {cat alias; echo; cat dir/up/f.txt} "{\"working_dir\": \"file://$work/links.tar.gz\"}"
    jobs_wait $s links SUCCEEDED
    lrange [split [jobs_strip_setup [jobs_logs $s links]] \n] 1 2
} {inside inside}

# ---------------------------------------------------------------- the URI cache

test {jobs-renv-3.1 one URI is unpacked once and shared; unused entries are evicted over the limit} {
    set flag [file join $work release]
    make_archive $work/shared.zip [list s.txt shared big.bin [string repeat x 5000]]
    jobs_put_package $s _ray_pkg_shared.zip $work/shared.zip
    foreach id {sh1 sh2} {
        renv_job $s $id "cat s.txt; while \[ ! -e $flag \]; do sleep 0.05; done" \
            {{"working_dir": "gcs://_ray_pkg_shared.zip"}}
    }
    jobs_wait $s sh1 RUNNING
    jobs_wait $s sh2 RUNNING
    set while_running [file isdirectory [file join $uris _ray_pkg_shared]]
    set unpacked [regexp -all {unpacked gcs://_ray_pkg_shared.zip} [file_read [dict get $s log]]]
    file_write $flag ""
    jobs_wait $s sh1 SUCCEEDED
    jobs_wait $s sh2 SUCCEEDED
    wait_for {![file exists [file join $uris _ray_pkg_shared]]} 20000 "eviction after the last user"
    assert_equal 1 $while_running "the shared directory exists while both jobs run"
    assert_equal 1 $unpacked "times the log says it unpacked gcs://_ray_pkg_shared.zip"
}

# ---------------------------------------------------------------- unsupported fields and timeout

test {jobs-renv-4.1 fields rayc does not support fail the job naming the field} {
    set out {}
    foreach {field value} {conda {"env"} container {{"image": "x"}} image_uri {"x"} uv {["a"]}} {
        set id [renv_job $s unsup-$field true "{\"$field\": $value}"]
        set d [jobs_wait $s $id FAILED]
        lappend out [dict get $d error_type] [dict get $d message]
    }
    set out
} [concat {*}[lmap f {conda container image_uri uv} {list RUNTIME_ENV_SETUP_FAILURE \
    "runtime_env setup failed: Failed to set up runtime environment.\nruntime_env field '$f' is not supported by rayc"}]]

test {jobs-renv-4.2 config.setup_timeout_seconds fails a setup that takes too long} {
    renv_job $s slow true "{\"working_dir\": \"http://127.0.0.1:$http_port/stall/x.zip\", \"config\": {\"setup_timeout_seconds\": 1}}"
    set d [jobs_wait $s slow FAILED 10000]
    # The message names the 1 s the job asked for (the server's default is 600 s).
    assert_match "runtime_env setup failed: Failed to set up runtime environment.\nFailed due to timeout; *consider increasing `setup_timeout_seconds`*TimeoutError: *not ready after 1 seconds" [dict get $d message]
    dict get $d error_type
} RUNTIME_ENV_SETUP_FAILURE

test {jobs-renv-4.3 while the runtime_env is set up the driver log is Ray's "Runtime env is setting up." line} {
    renv_job $s setting true "{\"working_dir\": \"http://127.0.0.1:$http_port/stall/y.zip\"}"
    wait_for {[jobs_logs $s setting] ne ""} 20000 "the driver log"
    set during [list [jobs_status $s setting] [jobs_logs $s setting]]
    jobs_api $s POST /api/jobs/setting/stop
    jobs_wait $s setting STOPPED
    list [lindex $during 0] [jobs_strip_setup [lindex $during 1]]
} {PENDING {}}

# ---------------------------------------------------------------- pip

if {[catch {exec python3 -m venv --help}]} {
    skip_test {jobs-renv-5.1 pip from a local wheel} "python3 -m venv is not available"
} else {
    test {jobs-renv-5.1 pip: a local wheel built here is installed offline into a reused venv} {
        set whl [make_archive $work/rayc_testpkg-1.0-py3-none-any.whl [list \
            rayc_testpkg/__init__.py "VALUE = 'from-wheel'" \
            rayc_testpkg-1.0.dist-info/METADATA "Metadata-Version: 2.1\nName: rayc-testpkg\nVersion: 1.0\n" \
            rayc_testpkg-1.0.dist-info/WHEEL "Wheel-Version: 1.0\nGenerator: rayc-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n" \
            rayc_testpkg-1.0.dist-info/RECORD ""]]
        set penv "{\"pip\": {\"packages\": \[[jstr $whl]\], \"pip_install_options\": \[\"--no-index\"\]}}"
        renv_job $s pip1 {python3 -c "import rayc_testpkg; print(rayc_testpkg.VALUE)"} $penv
        set d1 [jobs_wait $s pip1 {SUCCEEDED FAILED} 180000]
        renv_job $s pip2 {python3 -c "import rayc_testpkg; print(rayc_testpkg.VALUE); import sys; print(sys.prefix)"} $penv
        set d2 [jobs_wait $s pip2 {SUCCEEDED FAILED} 60000]
        set builds [regexp -all {building pip environment} [file_read [dict get $s log]]]
        assert_match "*/runtime_resources/pip/*/virtualenv" [lindex [split [jobs_logs $s pip2] \n] end-1]
        list [dict get $d1 status] [lindex [split [jobs_logs $s pip1] \n] end-1] \
            [dict get $d2 status] $builds
    } {SUCCEEDED from-wheel SUCCEEDED 1}

    test {jobs-renv-5.2 a pip failure fails the job with pip's output in the message} {
        renv_job $s pipbad true {{"pip": {"packages": ["rayc-no-such-package==9"], "pip_install_options": ["--no-index"]}}}
        set d [jobs_wait $s pipbad FAILED 120000]
        assert_match "*pip install failed*rayc-no-such-package*" [dict get $d message]
        dict get $d error_type
    } RUNTIME_ENV_SETUP_FAILURE
}

close $http_srv
suite_end

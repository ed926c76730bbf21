# Hardening of the job server: a full disk (a 4 MiB tmpfs as the node dir),
# bodies refused before they end (507 disk full, 413 over the limit, chunked
# too), owner-only files read as user nobody, and zip bombs stopped by the
# unpack caps.  Needs root (mount, runuser).
source [file join [file dirname [info script]] .. lib jobs.tcl]
require_root
if {[catch {exec python3 -c "import zipfile"}]} {
    skip_suite "python3 is needed to build the test archives"
}

# Opens a raw HTTP/1.1 PUT of PATH on server S announcing HEADERS and sends
# BYTES bytes of body without ending it.  Returns the socket.
proc raw_put_begin {s path headers bytes} {
    set sock [socket 127.0.0.1 [dict get $s port]]
    fconfigure $sock -translation binary -buffering none -blocking 1
    puts -nonewline $sock "PUT $path HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: rayc-tests\r\n"
    puts -nonewline $sock "Authorization: Bearer [dict get $s token]\r\n"
    foreach {k v} $headers {
        puts -nonewline $sock "$k: $v\r\n"
    }
    puts -nonewline $sock "\r\n"
    set chunked [expr {[dict exists $headers Transfer-Encoding]}]
    set block [string repeat x 65536]
    for {set sent 0} {$sent < $bytes} {incr sent 65536} {
        if {[catch {
            if {$chunked} {
                puts -nonewline $sock "10000\r\n$block\r\n"
            } else {
                puts -nonewline $sock $block
            }
        }]} {
            break   ;# the server already answered and shut its side
        }
    }
    return $sock
}

# Reads what the server sent on SOCK until it closes its side (EOF), within
# TIMEOUT ms; returns "STATUS BODY".  The body of the request is never ended.
proc raw_answer {sock {timeout 15000}} {
    fconfigure $sock -blocking 0
    set ::raw_got ""
    wait_for {[raw_read $sock]} $timeout "an answer before the body ended"
    close $sock
    set text $::raw_got
    regexp {^HTTP/1\.1 (\d+)} $text -> status
    set body [string range $text [expr {[string first "\r\n\r\n" $text] + 4}] end]
    return [list $status $body]
}

proc raw_read {sock} {
    if {[catch {append ::raw_got [read $sock]}]} {
        return 1
    }
    return [eof $sock]
}

# Fills the file system of DIR with FILE until no space is left.
proc fill_disk {file} {
    catch {exec dd if=/dev/zero of=$file bs=64k 2>/dev/null}
}

# ---------------------------------------------------------------- full disk

set dir [tmpdir]
set node [file join $dir node]
file mkdir $node
exec mount -t tmpfs -o size=4m tmpfs $node
at_suite_end [list catch [list exec umount -l $node]]
set s [jobs_server_start -dir $dir]
set pkgs [file join $node runtime_resources packages]

test {jobs-harden-1.1 an upload larger than the free space gets 507 before its body ends; the temp file is gone} {
    set sock [raw_put_begin $s /api/packages/gcs/big.zip {Content-Length 8388608} 6291456]
    set answer [raw_answer $sock]
    list {*}$answer [glob -nocomplain -directory $pkgs .upload-*]
} {507 {Failed to store the request body: No space left on device} {}}

test {jobs-harden-1.2 a job submitted while an upload is refused mid-body still reaches RUNNING} {
    set sock [raw_put_begin $s /api/packages/gcs/big2.zip {Content-Length 8388608} 6291456]
    set id [jobs_submit $s {{"entrypoint": "echo started; sleep 600", "submission_id": "during"}}]
    jobs_wait $s during RUNNING
    set answer [raw_answer $sock]
    jobs_api $s POST /api/jobs/during/stop
    jobs_wait $s during STOPPED
    lindex $answer 0
} 507

test {jobs-harden-1.3 a chunked upload over the free space gets 507 before its body ends} {
    set sock [raw_put_begin $s /api/packages/gcs/big3.zip {Transfer-Encoding chunked} 6291456]
    list [lindex [raw_answer $sock] 0] [glob -nocomplain -directory $pkgs .upload-*]
} {507 {}}

test {jobs-harden-1.4 on a full disk a failing job's message says the disk is full} {
    set flag [file join [tmpdir] go]
    jobs_submit $s {{"entrypoint": "echo done-ok", "submission_id": "done"}}
    jobs_wait $s done SUCCEEDED
    jobs_submit $s "{\"entrypoint\": \"while \[ ! -e $flag \]; do sleep 0.05; done; echo late; exit 3\", \"submission_id\": \"full\"}"
    jobs_wait $s full RUNNING
    fill_disk [file join $node filler]
    file_write $flag ""
    set d [jobs_wait $s full FAILED]
    assert_match "*exit code 3, the disk holding the job logs is full (No space left on device)*" \
        [dict get $d message]
    dict get $d driver_exit_code
} 3

test {jobs-harden-1.5 DELETE of a finished job works on a full disk and frees its log} {
    set log [file join $node logs job-driver-done.log]
    set before [file exists $log]
    set r [jobs_api $s DELETE /api/jobs/done]
    list $before [dict get $r status] [dict get $r body] \
        [dict get [jobs_api $s GET /api/jobs/done] status] [file exists $log]
} {1 200 {{"deleted": true}} 404 0}

test {jobs-harden-1.6 after the filler is removed the server works as before} {
    file delete [file join $node filler]
    jobs_submit $s {{"entrypoint": "echo again", "submission_id": "again"}}
    jobs_wait $s again SUCCEEDED
    jobs_strip_setup [jobs_logs $s again]
} "Running entrypoint for job again: echo again\nagain\n"

stop_bg [dict get $s pid]

# ---------------------------------------------------------------- modes

set s [jobs_server_start --max-body-bytes 1048576]
set node [dict get $s node]

test {jobs-harden-2.1 a job's env_vars secret is in files only the owner can read} {
    jobs_submit $s {{"entrypoint": "echo $SECRET_X", "submission_id": "sec", "runtime_env": {"env_vars": {"SECRET_X": "hunter2-secret"}}}}
    jobs_wait $s sec SUCCEEDED
    set pkg [file join [tmpdir] p.zip]
    exec python3 -c "import zipfile; zipfile.ZipFile('$pkg', 'w').writestr('a.txt', 'a')"
    assert_equal 200 [jobs_put_package $s _ray_pkg_m.zip $pkg]
    set out {}
    foreach rel {. logs job_state runtime_resources runtime_resources/packages
                 jobs.db jobs.db-wal logs/job-driver-sec.log runtime_resources/packages/_ray_pkg_m.zip} {
        lappend out $rel [format %o [expr {[file attributes [file join $node $rel] -permissions] & 0777}]]
    }
    set out
} {. 700 logs 700 job_state 700 runtime_resources 700 runtime_resources/packages 700 jobs.db 600 jobs.db-wal 600 logs/job-driver-sec.log 600 runtime_resources/packages/_ray_pkg_m.zip 600}

test {jobs-harden-2.2 user nobody can read none of them} {
    set out {}
    foreach rel {jobs.db jobs.db-wal logs/job-driver-sec.log runtime_resources/packages/_ray_pkg_m.zip} {
        set path [file join $node $rel]
        lappend out [catch {exec runuser -u nobody -- cat $path} msg] \
            [string match "*Permission denied*" $msg]
    }
    # The same file with the modes taken away is readable: the check is real.
    set open [file join [tmpdir] open.txt]
    file_write $open "hunter2"
    file attributes [file dirname $open] -permissions 0755
    lappend out [exec runuser -u nobody -- cat $open]
} {1 1 1 1 1 1 1 1 hunter2}

# ---------------------------------------------------------------- body and unpack caps

test {jobs-harden-3.1 a chunked body past the limit gets 413 before it ends} {
    set sock [raw_put_begin $s /api/packages/gcs/chunky.zip {Transfer-Encoding chunked} 2097152]
    raw_answer $sock
} {413 {Request body exceeds the limit of 1048576 bytes}}

stop_bg [dict get $s pid]
set s [jobs_server_start -env {RAYC_PACKAGE_MAX_UNPACKED_BYTES 1048576 RAYC_PACKAGE_MAX_ENTRIES 50}]

# Uploads a zip made by python CODE (with z open for writing) as gcs://NAME.
proc put_zip {s name code} {
    set pkg [file join [tmpdir] $name]
    exec python3 -c "import zipfile\nwith zipfile.ZipFile('$pkg', 'w', zipfile.ZIP_DEFLATED) as z:\n    $code"
    assert_equal 200 [jobs_put_package $s $name $pkg]
    return [file size $pkg]
}

test {jobs-harden-3.2 a zip bomb fails the job with a message naming the size cap} {
    set packed [put_zip $s _ray_pkg_bomb.zip {z.writestr('zeros', bytes(64 << 20))}]
    jobs_submit $s {{"entrypoint": "true", "submission_id": "bomb", "runtime_env": {"working_dir": "gcs://_ray_pkg_bomb.zip"}}}
    set d [jobs_wait $s bomb FAILED]
    assert_true {$packed < 1048576} "the zip's packed size"
    assert_match "*it unpacks to more than 1048576 bytes (the cap RAYC_PACKAGE_MAX_UNPACKED_BYTES)*" \
        [dict get $d message]
    list [dict get $d error_type] \
        [glob -nocomplain -directory [file join [dict get $s node] runtime_resources uris] *]
} {RUNTIME_ENV_SETUP_FAILURE {}}

test {jobs-harden-3.3 a package with too many entries fails the job naming the entry cap} {
    put_zip $s _ray_pkg_many.zip {[z.writestr('f%d' % i, 'x') for i in range(60)]}
    jobs_submit $s {{"entrypoint": "true", "submission_id": "many", "runtime_env": {"working_dir": "gcs://_ray_pkg_many.zip"}}}
    set d [jobs_wait $s many FAILED]
    string match "*it has more than 50 entries (the cap RAYC_PACKAGE_MAX_ENTRIES)*" [dict get $d message]
} 1

test {jobs-harden-3.4 a package under the caps still works} {
    put_zip $s _ray_pkg_fine.zip {[z.writestr('f%d' % i, 'x') for i in range(40)]}
    jobs_submit $s {{"entrypoint": "ls | wc -l", "submission_id": "fine", "runtime_env": {"working_dir": "gcs://_ray_pkg_fine.zip"}}}
    jobs_wait $s fine SUCCEEDED
    string trim [lindex [split [jobs_strip_setup [jobs_logs $s fine]] \n] 1]
} 40

# ---------------------------------------------------------------- GCS down at start

# Starts gcs_server on PORT with its files in DIR; returns its pid.
proc gcs_start {dir port} {
    set pid [start_bg gcs [rayc_bin gcs_server] --port $port --token-file $dir/token \
        --session-name session_jobs_harden --db $dir/gcs.db --log-file $dir/gcs.log]
    watch_log $dir/gcs.log
    wait_for {![catch {close [socket 127.0.0.1 $port]}]} 30000 "gcs_server listening"
    return $pid
}

if {![file executable [rayc_bin gcs_server]]} {
    skip_test {jobs-harden-4.1 a job started while the GCS was down} "bin/gcs_server is not built"
} else {
    test {jobs-harden-4.1 a job started while the GCS was down gets its job id when it is back, with the reason logged} {
        stop_bg [dict get $s pid]
        set gdir [tmpdir]
        set gport [free_port]
        file_write $gdir/token "gcs-test-token-0123456789\n"
        set gpid [gcs_start $gdir $gport]
        set g [jobs_server_start -dir $gdir --gcs-address 127.0.0.1:$gport]
        exec kill -9 $gpid
        wait_for {![pid_alive $gpid]} 20000
        set flag [file join $gdir go]
        jobs_submit $g "{\"entrypoint\": \"while \[ ! -e $flag \]; do sleep 0.05; done\", \"submission_id\": \"nogcs\"}"
        jobs_wait $g nogcs RUNNING
        set before [dict get [jobs_info $g nogcs] job_id]
        wait_for {[string match "*job nogcs: no job id from the GCS (*); it runs without one*" \
                       [file_read [dict get $g log]]]} 5000
        gcs_start $gdir $gport
        wait_for {[dict get [jobs_info $g nogcs] job_id] ne "null"} 20000 "a job id after the GCS is back"
        file_write $flag ""
        set d [jobs_wait $g nogcs SUCCEEDED]
        assert_regexp {^[0-9a-f]{8}$} [dict get $d job_id]
        assert_match "*job nogcs: got job id [dict get $d job_id] from the GCS*" \
            [file_read [dict get $g log]]
        set before
    } null
}

suite_end

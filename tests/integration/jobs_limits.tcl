# Submissions the job server or the client must refuse up front: an
# entrypoint or metadata too large to start, a working_dir that is neither a
# directory nor a .zip, and special files inside a working_dir.
source [file join [file dirname [info script]] .. lib jobs.tcl]

set s [jobs_server_start]
set cli_env [list RAY_ADDRESS [dict get $s url] RAY_AUTH_TOKEN [dict get $s token]]

proc rayjob {args} {
    return [run_cmd -env $::cli_env -timeout 60 [rayc_bin ray] job {*}$args]
}

# An entrypoint of exactly N bytes that prints "ok".
proc entrypoint_of {n} {
    set head "echo ok #"
    return $head[string repeat x [expr {$n - [string length $head]}]]
}

test {jobs-limits-1.1 an entrypoint at the 131071-byte limit runs; one byte more is 400 naming the limit} {
    set id [jobs_submit $s "{\"entrypoint\": \"[entrypoint_of 131071]\"}"]
    jobs_wait $s $id {SUCCEEDED FAILED}
    set r [jobs_api $s POST /api/jobs/ -body "{\"entrypoint\": \"[entrypoint_of 131072]\"}"]
    list [jobs_status $s $id] [dict get $r status] [dict get $r body]
} {SUCCEEDED 400 {entrypoint is 131072 bytes, over the limit of 131071 bytes}}

test {jobs-limits-1.2 metadata over 64 KiB is 400 naming the limit} {
    set big [string repeat m 70000]
    set r [jobs_api $s POST /api/jobs/ -body "{\"entrypoint\": \"true\", \"metadata\": {\"k\": \"$big\"}}"]
    assert_match "metadata is * bytes, over the limit of 65536 bytes" [dict get $r body]
    dict get $r status
} 400

test {jobs-limits-2.1 a working_dir that is a plain file is refused before anything is uploaded} {
    set dir [tmpdir]
    file_write $dir/notes.txt "not a zip\n"
    set r [rayjob submit --working-dir $dir/notes.txt -- true]
    assert_equal "ValueError: directory $dir/notes.txt must be an existing directory or a zip package" \
        [lindex [split [string trim [dict get $r out]] \n] end]
    assert_equal 1 [dict get $r code] [dict get $r out]
    assert_equal {} [glob -nocomplain [dict get $s node]/runtime_resources/packages/*]
}

test {jobs-limits-2.2 a working_dir on /proc is refused with one line, without hanging} {
    set r [rayjob submit --working-dir /proc/self -- true]
    list [dict get $r code] [lindex [split [string trim [dict get $r out]] \n] end]
} {1 {ValueError: directory /proc/self is on the proc pseudo-filesystem and cannot be packaged}}

test {jobs-limits-2.3 FIFOs, devices and symlink loops inside a working_dir are skipped with a warning} {
    set dir [tmpdir]
    file_write $dir/data.txt "hello-data\n"
    exec mkfifo $dir/pipe
    exec mknod $dir/null c 1 3
    file mkdir $dir/sub
    file link -symbolic $dir/sub/loop ..
    set r [rayjob submit --working-dir $dir -- sh -c {cat data.txt; ls}]
    set out [dict get $r out]
    assert_equal 0 [dict get $r code] $out
    assert_contains "WARNING: skipping $dir/pipe: not a regular file or directory" $out
    assert_contains "WARNING: skipping $dir/null: not a regular file or directory" $out
    assert_contains "WARNING: skipping $dir/sub/loop: a symlink loop back to a directory that contains it" $out
    assert_contains hello-data $out
    assert_contains succeeded $out
}

suite_end

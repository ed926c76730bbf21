# The job server through the client Ray's own SDK is built on: aiohttp
# (Debian's python3-aiohttp), driven by tests/lib/ray_sdk_tail.py exactly as
# JobSubmissionClient submits, polls and follows a job's log.
source [file join [file dirname [info script]] .. lib jobs.tcl]

if {[dict get [run_cmd /usr/bin/python3 -c {import aiohttp}] code] != 0} {
    skip_suite "python3-aiohttp is not installed (deploy/install-deps.sh installs it)"
}

set s [jobs_server_start]
set client [file join [file dirname [info script]] .. lib ray_sdk_tail.py]

# Runs the SDK-like client on ENTRYPOINT; returns its output lines.
proc sdk_tail {s entrypoint} {
    set r [run_cmd -timeout 60 /usr/bin/python3 $::client [dict get $s url] \
        [dict get $s token] $entrypoint]
    return [split [dict get $r out] \n]
}

# The text of every frame in LINES, joined (frames may split lines anywhere).
proc sdk_text {lines} {
    set text ""
    foreach line [lsearch -all -inline $lines frame:*] {
        append text [string map {\\n \n} [string range $line 7 end]]
    }
    return $text
}

test {jobs-sdk-1.1 aiohttp's ws_connect accepts the log tail handshake (one Connection: Upgrade)} {
    set lines [sdk_tail $s {echo one; echo two}]
    assert_true {![string match "error:*" [lindex $lines 0]]} [join $lines \n]
    list [regsub {^Running entrypoint for job [^\n]*\n} [jobs_strip_setup [sdk_text $lines]] ""] \
        [lrange $lines end-1 end]
} [list "one\ntwo\n" {closed {status: SUCCEEDED}}]

test {jobs-sdk-1.2 a tail opened while the job runs gets lines written later, then the close} {
    set lines [sdk_tail $s {echo start; sleep 1; echo later}]
    list [regsub {^Running entrypoint for job [^\n]*\n} [jobs_strip_setup [sdk_text $lines]] ""] \
        [lrange $lines end-1 end]
} [list "start\nlater\n" {closed {status: SUCCEEDED}}]

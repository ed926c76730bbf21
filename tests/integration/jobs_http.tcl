# The job server's HTTP framing over raw sockets (RFC 9112 section 6): a body
# length that two headers disagree on, Content-Length with chunked, a
# negative length, unknown transfer codings and a NUL in the path are each
# answered 400 and the connection is closed.
source [file join [file dirname [info script]] .. lib jobs.tcl]

set s [jobs_server_start --session-name session_jobs_http_test]
set port [dict get $s port]
set auth "Authorization: Bearer [dict get $s token]"

proc raw_readable {sock} {
    if {[catch {read $sock} data]} {
        set ::raw_eof($sock) 1
        return
    }
    append ::raw_data($sock) $data
    if {[eof $sock]} {
        set ::raw_eof($sock) 1
    }
}

# Sends TEXT (lines joined with CRLF) on a new connection, waits until the
# server closes it and returns {status-line closed}; "closed" is 1 once EOF
# came.
proc raw_http {text} {
    set sock [socket 127.0.0.1 $::port]
    fconfigure $sock -translation binary -blocking 0
    set ::raw_data($sock) ""
    fileevent $sock readable [list raw_readable $sock]
    puts -nonewline $sock [string map [list \n \r\n] $text]
    flush $sock
    wait_for {[info exists ::raw_eof($sock)]} 20000 "the server closes the connection"
    set line [lindex [split $::raw_data($sock) \r\n] 0]
    close $sock
    unset ::raw_data($sock) ::raw_eof($sock)
    return [list $line 1]
}

set body {{"entrypoint": "echo hi"}}
set len [string length $body]

test {jobs-http-1.1 two different Content-Length values: 400, then close} {
    raw_http "POST /api/jobs/ HTTP/1.1\nHost: x\n$auth\nContent-Length: $len\nContent-Length: [expr {$len + 5}]\n\n$body     "
} {{HTTP/1.1 400 Bad Request} 1}

test {jobs-http-1.2 Content-Length together with chunked: 400, then close} {
    raw_http "POST /api/jobs/ HTTP/1.1\nHost: x\n$auth\nContent-Length: $len\nTransfer-Encoding: chunked\n\n[format %x $len]\n$body\n0\n\n"
} {{HTTP/1.1 400 Bad Request} 1}

test {jobs-http-1.3 a negative Content-Length: 400, then close} {
    raw_http "POST /api/jobs/ HTTP/1.1\nHost: x\n$auth\nContent-Length: -5\n\n$body"
} {{HTTP/1.1 400 Bad Request} 1}

test {jobs-http-1.4 unknown transfer codings: 400, then close} {
    set a [raw_http "POST /api/jobs/ HTTP/1.1\nHost: x\n$auth\nTransfer-Encoding: gzip\n\n$body"]
    set b [raw_http "POST /api/jobs/ HTTP/1.1\nHost: x\n$auth\nTransfer-Encoding: gzip, chunked\n\n[format %x $len]\n$body\n0\n\n"]
    set c [raw_http "POST /api/jobs/ HTTP/1.1\nHost: x\n$auth\nTransfer-Encoding: chunked\nTransfer-Encoding: chunked\n\n[format %x $len]\n$body\n0\n\n"]
    list $a $b $c
} {{{HTTP/1.1 400 Bad Request} 1} {{HTTP/1.1 400 Bad Request} 1} {{HTTP/1.1 400 Bad Request} 1}}

test {jobs-http-1.5 a %00 in the path is 400 and does not reach the job} {
    set id [jobs_submit $s {{"entrypoint": "true", "submission_id": "nul-1"}}]
    jobs_wait $s $id SUCCEEDED
    set r [raw_http "DELETE /api/jobs/nul-1%00/logs HTTP/1.1\nHost: x\n$auth\n\n"]
    set q [raw_http "GET /api/jobs/nul-1?x=%00 HTTP/1.1\nHost: x\n$auth\n\n"]
    list $r $q [dict get [jobs_api $s GET /api/jobs/nul-1] status]
} {{{HTTP/1.1 400 Bad Request} 1} {{HTTP/1.1 400 Bad Request} 1} 200}

test {jobs-http-2.1 well-formed requests still work: one length, chunked, repeated equal lengths} {
    set a [jobs_api $s POST /api/jobs/ -body $body]
    set sock [socket 127.0.0.1 $port]
    fconfigure $sock -translation binary -buffering none
    puts -nonewline $sock [string map [list \n \r\n] "POST /api/jobs/ HTTP/1.1\nHost: x\n$auth\nConnection: close\nTransfer-Encoding: chunked\n\n[format %x $len]\n$body\n0\n\n"]
    set chunked [lindex [split [read $sock] \r\n] 0]
    close $sock
    set sock [socket 127.0.0.1 $port]
    fconfigure $sock -translation binary -buffering none
    puts -nonewline $sock [string map [list \n \r\n] "POST /api/jobs/ HTTP/1.1\nHost: x\n$auth\nConnection: close\nContent-Length: $len\nContent-Length: $len, $len\n\n$body"]
    set same [lindex [split [read $sock] \r\n] 0]
    close $sock
    list [dict get $a status] $chunked $same
} {200 {HTTP/1.1 200 OK} {HTTP/1.1 200 OK}}

suite_end

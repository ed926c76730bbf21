# Connections without the cluster token on the GCS and node-manager ports:
# only a small Hello is read, they are dropped after a short deadline, each
# peer address may hold only a few, and they cannot grow memory or the log.
# Flood sockets come from 127.0.0.2-4 so the per-address limit never touches
# the legitimate clients on 127.0.0.1.
source [file join [file dirname [info script]] .. lib harness.tcl]
source [file join [file dirname [info script]] .. lib cluster.tcl]
cluster_cleanup_at_end

set nm_port [free_port]
set head [start_head --num-cpus 1 --node-manager-port $nm_port]
set gcs_port [lindex [split $head :] 1]
set gcs_pid [node_pid node_127.0.0.1_* gcs_server]
set raylet_pid [node_pid node_127.0.0.1_* raylet]
set gcs_log [lindex [glob $env(RAY_TMPDIR)/session_2*/node_127.0.0.1_*/logs/gcs_server.log] 0]
set raylet_log [lindex [glob $env(RAY_TMPDIR)/session_2*/node_127.0.0.1_*/logs/raylet.log] 0]
array set ports [list gcs $gcs_port nm $nm_port]
array set pids [list gcs $gcs_pid nm $raylet_pid]

# Resident memory of PID in kB.
proc rss_kb {pid} {
    regexp {VmRSS:\s+(\d+)} [file_read /proc/$pid/status] -> kb
    return $kb
}

proc line_count {file} {
    return [llength [split [file_read $file] \n]]
}

# Called when socket S is readable: keeps what arrives, notes EOF or a reset.
proc flood_readable {s} {
    if {[catch {read $s} data]} {
        set ::flood_closed($s) 1
        return
    }
    append ::flood_data($s) $data
    if {[eof $s]} {
        set ::flood_closed($s) 1
    }
}

# Opens N connections from address FROM to 127.0.0.1:PORT, each watched for
# what the server sends and for EOF.  Returns the sockets in connect order.
proc flood_open {from port n} {
    set socks {}
    for {set i 0} {$i < $n} {incr i} {
        set s [socket -myaddr $from 127.0.0.1 $port]
        fconfigure $s -translation binary -blocking 0
        set ::flood_data($s) ""
        fileevent $s readable [list flood_readable $s]
        lappend socks $s
    }
    return $socks
}

proc flood_closed_count {socks} {
    set n 0
    foreach s $socks {
        if {[info exists ::flood_closed($s)]} { incr n }
    }
    return $n
}

proc flood_close {socks} {
    foreach s $socks {
        catch {close $s}
        unset -nocomplain ::flood_closed($s) ::flood_data($s)
    }
}

set gcs_log_before [line_count $gcs_log]
set raylet_log_before [line_count $raylet_log]

foreach {name label} {gcs 1 nm 2} {
    test "flood-$label.1 30 frames announcing 16 MiB to the $name port: closed, RSS stays bounded" {
        set before [rss_kb $pids($name)]
        set socks {}
        set chunk [string repeat x 65536]
        for {set i 0} {$i < 30} {incr i} {
            set s [socket -myaddr 127.0.0.2 127.0.0.1 $ports($name)]
            fconfigure $s -translation binary -blocking 1
            # The header, then 12 MiB of the payload; a server that closes
            # early makes the writes fail, which is what it should do.
            catch {
                puts -nonewline $s [binary format I 0x00fffff0]
                for {set k 0} {$k < 192} {incr k} { puts -nonewline $s $chunk }
                flush $s
            }
            lappend socks $s
        }
        set after [rss_kb $pids($name)]
        foreach s $socks {
            fconfigure $s -blocking 0
            set ::flood_data($s) ""
            fileevent $s readable [list flood_readable $s]
        }
        wait_for {[flood_closed_count $socks] == 30} 30000 "the server closes every one"
        flood_close $socks
        puts "    $name RSS before [expr {$before / 1024}] MB, after [expr {$after / 1024}] MB"
        assert_true {$after - $before < 50 * 1024} "RSS grew by [expr {($after - $before) / 1024}] MB"
    }

    test "flood-$label.2 200 silent connections from one address to the $name port: 32 wait, the rest are refused" {
        set socks [flood_open 127.0.0.3 $ports($name) 200]
        # A legitimate client is served meanwhile.
        set out [ray_ok status --address $head]
        wait_for {[flood_closed_count $socks] == 200} 60000 "every flood connection ends"
        set first_refused 0
        set refused 0
        set i 0
        foreach s $socks {
            set r [string match "*too many unauthenticated connections from this address*" \
                       $::flood_data($s)]
            if {$i < 32} { incr first_refused $r } else { incr refused $r }
            incr i
        }
        flood_close $socks
        # The first 32 were admitted and dropped at the Hello deadline; of the
        # others nearly all were refused at once (a few may have found a slot
        # freed by that deadline).
        assert_equal 1 [llength [status_active $out]] $out
        assert_equal 0 $first_refused "refusals among the first 32 connections"
        assert_true {$refused >= 100} "refusals among the other 168 connections"
    }

    test "flood-$label.3 connections trickling a small frame to the $name port are dropped" {
        set socks [flood_open 127.0.0.4 $ports($name) 20]
        foreach s $socks {
            puts -nonewline $s [binary format Ia* 1000 partial]
            flush $s
        }
        wait_for {[flood_closed_count $socks] == 20} 30000 "the Hello deadline closes them"
        flood_close $socks
    }
}

test {flood-3.1 the node still works and the logs did not grow per connection} {
    set out [ray_ok status --address $head]
    set gcs_lines [expr {[line_count $gcs_log] - $gcs_log_before}]
    set raylet_lines [expr {[line_count $raylet_log] - $raylet_log_before}]
    puts "    log lines added for 500 flood connections: gcs $gcs_lines, raylet $raylet_lines"
    assert_equal 1 [llength [status_active $out]] $out
    assert_true {$gcs_lines < 150} "GCS log lines added"
    assert_true {$raylet_lines < 150} "raylet log lines added"
}

suite_end

# serial
# Ray Serve on three test hosts (deploy/testnet.sh: network namespaces with
# their own addresses): a head and two nodes started by hand, a deployment
# of 6 replicas spread over the hosts (SPREAD), an HTTP proxy on every node
# bound to 0.0.0.0:8000 there.  Answers through the head's proxy come from
# replicas on every host; every node's proxy answers on its own address.
# Then every rayc process of host 3 is killed -9 while wrk loads the head's
# proxy: a request whose replica died goes to another live replica (up to
# 4 tries, serve/sp_http.c MAX_ATTEMPTS), so with 2 replicas lost no
# request may fail; the controller replaces them on the live hosts and
# every request succeeds afterwards.  The Python side is
# tests/integration/serve_cluster.py.  Needs root (test hosts) and wrk.
source [file join [file dirname [info script]] .. lib harness.tcl]
source [file join [file dirname [info script]] .. lib cluster.tcl]
source [file join [file dirname [info script]] .. lib testnet.tcl]
require_root

set root [file dirname [file dirname [file dirname [file normalize [info script]]]]]
if {![llength [glob -nocomplain [file join $root python ray _raylet*.so]]]} {
    skip_suite "python/ray/_raylet was not built (python3-dev missing?)"
}
if {![file executable [file join $root bin ray_serve_proxy]]} {
    skip_suite "bin/ray_serve_proxy was not built"
}
if {[auto_execok wrk] eq ""} {
    skip_suite "wrk is not installed (deploy/install-deps.sh)"
}
foreach mod {starlette cloudpickle} {
    if {[catch {exec /usr/bin/python3 -c "import $mod"}]} {
        skip_suite "/usr/bin/python3 has no $mod module (deploy/install-deps.sh)"
    }
}
# The checkout's python/ is the package on every node (the hosts share this
# machine's filesystem, as an install would be on each).
testnet_cluster 3 serve RAY_health_check_period_ms 500 RAY_health_check_failure_threshold 4 \
    PYTHONPATH [file join $root python]
lassign $hosts h1 h2 h3
set driver [file join $root tests integration serve_cluster.py]
# serve/sp_http.c: how often the proxy sends a request whose replica died.
set max_attempts 4

at_suite_end {
    foreach h $hosts { catch {on $h $ray_bin stop --force} }
}

# Runs serve_cluster.py ARGS on host IP (timeout SEC); returns the output,
# failing the test on a non-zero exit.
proc sc {ip sec args} {
    set ns [lindex $::names [lsearch $::hosts $ip]]
    set r [run_cmd -timeout $sec -env $::envs ip netns exec $ns /usr/bin/python3 $::driver {*}$args]
    if {[dict get $r code] != 0} {
        ::harness::assert_failed "exit 0: serve_cluster.py $args" \
            "exit [dict get $r code]: [dict get $r out]"
    }
    return [dict get $r out]
}

# Asks URL on host IP (see serve_cluster.py ask); returns a dict: answers
# ("IP PID" -> count), errors (count), texts (the first error texts).
proc ask {ip url args} {
    set out [sc $ip 600 ask $url {*}$args]
    set d [dict create answers {} errors -1 texts {}]
    foreach line [split $out \n] {
        if {[regexp {^answer (\S+ \d+) (\d+)$} $line -> who n]} {
            dict set d answers $who $n
        } elseif {[regexp {^errors (\d+)$} $line -> n]} {
            dict set d errors $n
        } elseif {[regexp {^error (.*)$} $line -> text]} {
            dict lappend d texts $text
        }
    }
    return $d
}

# The hosts among the keys ("IP PID") of ANSWERS, sorted.
proc hosts_of {answers} {
    set ips {}
    foreach who [dict keys $answers] { lappend ips [lindex $who 0] }
    return [lsort -unique $ips]
}

# The number of answers' replicas (keys "IP PID") on host IP.
proc replicas_on {answers ip} {
    return [llength [lsearch -all [dict keys $answers] "$ip *"]]
}

# kill -9 of every process in host IP's namespace but its sshd: the node's
# raylet, job agent, workers (the replicas) and Serve proxy go at once, as
# when the machine dies.
proc kill_host {ip} {
    set ns [lindex $::names [lsearch $::hosts $ip]]
    set killed 0
    foreach pid [split [string trim [exec ip netns pids $ns]] \n] {
        if {[catch {string trim [file_read /proc/$pid/comm]} comm] || $comm eq "sshd"} continue
        catch {exec kill -9 $pid}
        incr killed
    }
    return $killed
}

# The numbers of wrk's summary in LOG: requests, non2xx, socket (errors).
proc wrk_summary {log} {
    set text [file_read $log]
    set d [dict create requests -1 non2xx 0 socket 0]
    regexp {(\d+) requests in } $text -> n
    if {[info exists n]} { dict set d requests $n }
    if {[regexp {Non-2xx or 3xx responses: (\d+)} $text -> n]} { dict set d non2xx $n }
    if {[regexp {Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)} \
            $text -> c r w t]} {
        dict set d socket [expr {$c + $r + $w + $t}]
    }
    return $d
}

test {serve-cluster-1.1 a head on host 1 and nodes on hosts 2 and 3 make one cluster} {
    on_ok $h1 $ray_bin start --head --num-cpus 2 --auth-token-file $token_file
    on_ok $h2 $ray_bin start --address $h1:6379 --num-cpus 2
    on_ok $h3 $ray_bin start --address $h1:6379 --num-cpus 2
    wait_for {[llength [status_active [on_ok $h1 $ray_bin status]]] == 3} 30000 "3 alive nodes"
    llength [status_active [on_ok $h1 $ray_bin status]]
} 3

test {serve-cluster-1.2 serve.run of 6 replicas (SPREAD) from host 1; a healthy proxy on each of the 3 nodes} {
    set out [sc $h1 600 deploy 6]
    assert_contains "deployed" $out
    foreach log [glob -nocomplain $tmp/session_2*/node_*/logs/serve_proxy.log] { watch_log $log }
    lindex [split [sc $h1 300 proxies 3] \n] end
} {proxies 3 healthy}

test {serve-cluster-1.3 answers through host 1's proxy come from the 6 replicas, on all 3 hosts} {
    # Asked until all 6 replicas answered (power of two choices reaches each).
    set d [ask $h1 http://127.0.0.1:8000/where 2000 6]
    set ::before [dict get $d answers]
    list [dict size $::before] [hosts_of $::before] [dict get $d errors]
} [list 6 [lsort $hosts] 0]

test {serve-cluster-1.4 every node's proxy answers on its own address, from outside the hosts} {
    set got {}
    foreach h $hosts {
        set r [http_request GET http://$h:8000/where -timeout 60000]
        lappend got [dict get $r status] [regexp {^[0-9.]+ [0-9]+$} [dict get $r body]]
    }
    set got
} {200 1 200 1 200 1}

test {serve-cluster-1.5 host 3 killed -9 while wrk loads host 1's proxy: no request fails, the lost replicas are replaced, host 3's proxy is dropped} {
    set lost [replicas_on $::before $h3]
    assert_true {$lost > 0 && $lost < $max_attempts} \
        "host 3 has 1..[expr {$max_attempts - 1}] replicas (it has $lost): then every retried\
         request finds a live one within $max_attempts tries"
    set marker [file join [tmpdir] wrk_started]
    set lua [file join [tmpdir] mark.lua]
    # Each wrk thread marks the file once it has had 100 answers, so the
    # kill comes under load.
    file_write $lua "local n = 0\nfunction response(status, headers, body)\n  n = n + 1\n\
        if n == 100 then\n    local f = io.open(\"$marker\", \"a\")\n    f:write(\"x\")\n\
        f:close()\n  end\nend\n"
    set ns1 [lindex $names 0]
    set wrk [start_bg wrk ip netns exec $ns1 wrk -t 2 -c 8 -d 3600s --timeout 60s \
        -s $lua http://127.0.0.1:8000/where]
    wait_for {[file exists $marker] && [string length [file_read $marker]] == 2} 120000 \
        "both wrk threads had 100 answers"
    assert_true {[kill_host $h3] > 0} "processes killed in host 3"
    # The controller finds the replicas dead and starts 2 more on hosts 1-2
    # (this may pass before it noticed: the asks below wait for the new ones).
    set states [sc $h1 600 running 6]
    assert_contains "running 6" $states
    # The 2 replacements are in the proxy's table once 6 replicas on hosts 1
    # and 2 answered (asked until 6 distinct ones did).
    set asked [ask $h1 http://127.0.0.1:8000/where 2000 6]
    set wlog [bg_log $wrk]
    stop_bg $wrk INT
    set w [wrk_summary $wlog]
    ::harness::say "    wrk during the kill: [dict get $w requests] requests,\
        [dict get $w non2xx] non-2xx, [dict get $w socket] socket errors\
        ($lost replicas lost; states: [string map {\n " / "} $states])"
    set ::after [dict get $asked answers]
    assert_true {[dict get $w requests] > 200} "wrk got answers: [file_read $wlog]"
    list [dict get $w non2xx] [dict get $w socket] [dict get $asked errors] \
        [hosts_of $::after] [dict size $::after] [lindex [split [sc $h1 300 proxies 2] \n] end]
} [list 0 0 0 [lsort [list $h1 $h2]] 6 {proxies 2 healthy}]

test {serve-cluster-1.6 after the replacement 300 requests all succeed, answered by both live hosts} {
    set d [ask $h1 http://127.0.0.1:8000/where 300]
    set n 0
    dict for {who c} [dict get $d answers] { incr n $c }
    list $n [dict get $d errors] [hosts_of [dict get $d answers]] [dict get $d texts]
} [list 300 0 [lsort [list $h1 $h2]] {}]

# True while host IP's port 8000 answers.
proc answers {ip} {
    return [expr {[dict get [http_request GET http://$ip:8000/-/healthz -timeout 5000] status] != 0}]
}

# The ProxyActor workers of host IP: the --parent-pid of each
# ray_serve_proxy running in its namespace (ProxyActor passes its own pid).
proc proxy_actor_pids {ip} {
    set ns [lindex $::names [lsearch $::hosts $ip]]
    set pids {}
    foreach pid [split [string trim [exec ip netns pids $ns]] \n] {
        if {[catch {file_read /proc/$pid/cmdline} cmdline]} continue
        set argv [split $cmdline \0]
        set i [lsearch -exact $argv --parent-pid]
        if {[string match "*ray_serve_proxy" [lindex $argv 0]] && $i >= 0} {
            lappend pids [lindex $argv [expr {$i + 1}]]
        }
    }
    return [lsort -unique $pids]
}

# PID's state letter from /proc (R, S, Z, ...), or "gone".
proc proc_state {pid} {
    if {[catch {file_read /proc/$pid/stat} stat]} {
        return gone
    }
    return [string index [string range $stat [expr {[string last ")" $stat] + 2}] end] 0]
}

test {serve-cluster-1.7 serve.shutdown stops the head host's proxy} {
    set ::actors {}
    foreach h [list $h1 $h2] {
        set p [proxy_actor_pids $h]
        assert_equal 1 [llength $p] "one ProxyActor worker on host $h: $p"
        lappend ::actors {*}$p
    }
    assert_contains "shut down" [sc $h1 300 shutdown]
    wait_for {![answers $h1]} 60000 "host 1's proxy gone"
    answers $h1
} 0

# serve.shutdown kills the proxy actors (ray.kill); a killed actor's
# worker process ends, on the head and on host 2.
test {serve-cluster-1.8 serve.shutdown ends the ProxyActor of every live host} {
    # On a timeout the states below show which worker is left.
    catch {wait_for {[lsearch -all -inline -not [lmap p $::actors {proc_state $p}] gone] eq ""} \
               60000 "the ProxyActor workers $::actors to end"}
    list [lmap p $::actors {proc_state $p}] [answers $h2]
} {{gone gone} 0}

suite_end

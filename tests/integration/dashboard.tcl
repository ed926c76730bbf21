# serial
# The dashboard and the metrics on three test hosts: each node's raylet
# reports CPU, memory, store and task numbers and serves them to Prometheus
# under Ray's names; the head writes Ray's service-discovery file; a real
# Prometheus (Debian's) finds and scrapes every node through it; headless
# Chromium signs in with the token and sees the nodes, a job and its live
# log.  Screenshots of every page: build/test-output/dashboard/.
# Needs root (test hosts), prometheus, chromium, chromium-driver, python3-selenium.
source [file join [file dirname [info script]] .. lib harness.tcl]
source [file join [file dirname [info script]] .. lib cluster.tcl]
source [file join [file dirname [info script]] .. lib testnet.tcl]
require_root

set root [file dirname [file dirname [file dirname [file normalize [info script]]]]]
foreach f {/usr/bin/prometheus /usr/bin/chromium /usr/bin/chromedriver} {
    if {![file executable $f]} { skip_suite "$f is not installed (deploy/install-deps.sh)" }
}
if {[catch {exec /usr/bin/python3 -c "import selenium"}]} {
    skip_suite "python3-selenium is not installed (deploy/install-deps.sh)"
}
testnet_cluster 3 dash
lassign $hosts h1 h2 h3
set shots [file join $root build test-output dashboard]
file delete -force $shots
file mkdir $shots

at_suite_end {
    catch {on $h1 $ray_bin metrics shutdown-prometheus}
    foreach h $hosts { catch {on $h $ray_bin stop --force} }
}

# GET URL inside host IP's namespace with the python3 standard library;
# returns "STATUS BODY" (BODY cut at 1 MiB).  HEADERS: name value ...
proc ns_get {ip url args} {
    set py {
import sys, urllib.request, urllib.error
req = urllib.request.Request(sys.argv[1])
for i in range(2, len(sys.argv), 2):
    req.add_header(sys.argv[i], sys.argv[i + 1])
try:
    r = urllib.request.urlopen(req, timeout=10)
    print(r.status, r.read(1 << 20).decode())
except urllib.error.HTTPError as e:
    print(e.code, e.read(1 << 20).decode())
except Exception as e:
    print(0, e)
}
    return [dict get [on $ip /usr/bin/python3 -c $py $url {*}$args] out]
}

# The status code at the start of an ns_get answer.
proc status_of {answer} {
    return [lindex [split $answer " "] 0]
}

# The node IPs Prometheus (on host 1, port 19090) has ray_tasks samples
# from, sorted, or the error.
proc prom_ray_tasks_ips {} {
    set q [ns_get $::h1 {http://127.0.0.1:19090/api/v1/query?query=ray_tasks%7BState%3D%22RUNNING%22%7D}]
    if {![regexp {^200 (.*)$} $q -> body]} { return $q }
    return [lsort -unique [regexp -all -inline {"ip":"[0-9.]+"} $body]]
}

test {dash-1.1 three nodes each serve Ray's metric names on --metrics-export-port} {
    on_ok $h1 $ray_bin start --head --num-cpus 2 --auth-token-file $token_file \
        --metrics-export-port 28080
    on_ok $h2 $ray_bin start --address $h1:6379 --num-cpus 1 --metrics-export-port 28080
    on_ok $h3 $ray_bin start --address $h1:6379 --num-cpus 1 --metrics-export-port 28080
    set got {}
    foreach h $hosts {
        set m [ns_get $h http://$h:28080/metrics]
        set found {}
        foreach n [list ray_node_cpu_utilization ray_node_mem_used ray_object_store_memory \
                       "ray_tasks\{State=\"RUNNING\"," "ray_actors\{State=\"ALIVE\"," \
                       "ray_resources\{Name=\"CPU\",State=\"USED\","] {
            lappend found [expr {[string first $n $m] >= 0}]
        }
        lappend got [string range $m 0 2] [regexp "ip=\"$h\"" $m] $found
    }
    set got
} [lrepeat 3 200 1 {1 1 1 1 1 1}]

# The service-discovery file of the cluster's session, or "".
proc sd_text {} {
    set f [glob -nocomplain $::tmp/session_2*/prom_metrics_service_discovery.json]
    return [expr {[llength $f] == 1 ? [file_read [lindex $f 0]] : ""}]
}

test {dash-1.2 the head writes prom_metrics_service_discovery.json naming every node} {
    wait_for {[regexp -all {:28080"} [sd_text]] == 3} 30000
    assert_regexp {"job": "ray"} [sd_text]
    lsort [regexp -all -inline {[0-9.]+:28080} [sd_text]]
} [lsort [list $h1:28080 $h2:28080 $h3:28080]]

test {dash-1.3 ray metrics launch-prometheus scrapes every node: ray_tasks for each over the HTTP API} {
    on_ok $h1 $ray_bin metrics launch-prometheus --port 19090 --scrape-interval-s 1
    set want [lsort [lmap h $hosts {string cat "\"ip\":\"$h\""}]]
    wait_for {[prom_ray_tasks_ips] eq $want} 120000 "prometheus sees all three nodes"
    prom_ray_tasks_ips
} [lsort [lmap h [list $h1 $h2 $h3] {string cat "\"ip\":\"$h\""}]]

# The value of Prometheus's answer to QUERY on host 1 (first sample), or
# the answer.
proc prom_value {query} {
    set q [ns_get $::h1 http://127.0.0.1:19090/api/v1/query?query=$query]
    if {[regexp {"value":\[[0-9.]+,"([^"]*)"\]} $q -> v]} { return $v }
    return $q
}

test {dash-1.4 the GCS's metrics are in the discovery file and scraped: two alive workers, one head} {
    set gport [string trim [file_read [glob $tmp/session_2*/node_$h1\_*/gcs_metrics.port]]]
    wait_for {[prom_value {ray_cluster_active_nodes%7BNodeType%3D%22worker%22%7D}] eq "2"} 120000
    list [regexp -all "\"$h1:$gport\"" [sd_text]] \
        [prom_value {ray_cluster_active_nodes%7BNodeType%3D%22head%22%7D}] \
        [prom_value {ray_cluster_active_nodes%7BNodeType%3D%22worker%22%7D}]
} {1 1 2}

test {dash-1.5 a second launch-prometheus is refused in one line while the first runs} {
    set r [on $h1 $ray_bin metrics launch-prometheus --port 19091]
    assert_equal 1 [dict get $r code] [dict get $r out]
    assert_regexp {^Error: Prometheus is already running for this session \(pid [0-9]+\);[^\n]*$} [dict get $r out]
}

test {dash-1.6 ray metrics: bad input gets one line and exit 2; shutdown-prometheus stops it} {
    set got {}
    foreach args {{} {nope} {launch-prometheus --port x} {launch-prometheus --bogus}} {
        set r [on $h1 $ray_bin metrics {*}$args]
        lappend got [dict get $r code]
    }
    lappend got [regexp {^Prometheus \(pid [0-9]+\) stopped\.$} [on_ok $h1 $ray_bin metrics shutdown-prometheus]]
    lappend got [string trim [on_ok $h1 $ray_bin metrics shutdown-prometheus]]
} {2 2 2 2 1 {Prometheus is not running.}}

# ray_tasks{State=STATE} in host IP's /metrics, or -1.
proc node_tasks {ip state} {
    set m [ns_get $ip http://$ip:28080/metrics]
    set re [format {\nray_tasks\{State="%s",[^\n]*\} ([0-9.e+]+)} $state]
    if {[regexp $re $m -> v]} { return $v }
    return -1
}

set mn [file join $root examples multinode multinode]
if {![file executable $mn]} {
    skip_test {dash-1.7 ray_tasks FINISHED per node} "examples/multinode was not built"
} else {
test {dash-1.7 ray_tasks FINISHED on each node counts the SPREAD tasks that node ran} {
    set before [lmap h $hosts {node_tasks $h FINISHED}]
    set out [on_ok $h1 $mn spread 9]
    set ran [dict create]
    foreach h $hosts { dict set ran $h 0 }
    foreach line [split $out \n] {
        if {[regexp {^where .*/node_([0-9.]+)_[0-9]+/} $line -> ip]} { dict incr ran $ip }
    }
    set want [lmap h $hosts b $before {expr {$b + [dict get $ran $h]}}]
    wait_for {[lmap h $hosts {node_tasks $h FINISHED}] eq $want} 30000
    set got [lmap h $hosts {node_tasks $h FINISHED}]
    list [llength [lsearch -all -not [dict values $ran] 0]] \
        [expr {$got eq $want ? "match" : "got $got, want $want"}]
} {3 match}
}

# ray_actors{State=STATE} summed over the nodes' /metrics (-1 when a node
# lacks the sample).
proc actors_in {state} {
    set sum 0
    foreach ip $::hosts {
        set m [ns_get $ip http://$ip:28080/metrics]
        set re [format {\nray_actors\{State="%s",[^\n]*\} ([0-9.e+]+)} $state]
        if {![regexp $re $m -> v]} { return -1 }
        set sum [expr {$sum + $v}]
    }
    return [expr {int($sum)}]
}

set obs [file join $root examples observe observe]
test {dash-1.8 ray_actors reports every Ray actor state: an actor ALIVE after its restart, then DEAD} {
    set release [file join [tmpdir] obs-release]
    set before [lmap st {DEPENDENCIES_UNREADY PENDING_CREATION RESTARTING DEAD} {actors_in $st}]
    set p [start_bg observe -env $envs ip netns exec [lindex $names 0] $obs 1 0 $release]
    wait_for {[string match "*ready actor=*" [file_read [bg_log $p]]]} 60000 "observe ready"
    wait_for {[actors_in ALIVE] >= 1} 30000 "an ALIVE actor"
    set alive [actors_in ALIVE]
    file_write $release ok
    wait_for {![pid_alive $p]} 60000 "observe exits"
    set dead0 [lindex $before 3]
    wait_for {[actors_in DEAD] == $dead0 + 1} 30000 "the actor DEAD"
    foreach v $before {
        assert_true {$v >= 0} "actor counts before (DEPENDENCIES_UNREADY PENDING_CREATION RESTARTING DEAD): $before"
    }
    assert_true {$alive >= 1} "ALIVE actors after the restart"
    list [expr {[actors_in DEAD] - $dead0}] [actors_in ALIVE]
} {1 0}

test {dash-2.1 the node view and the job list answer 401 without a cookie or token} {
    set got {}
    foreach path {/nodes?view=summary /api/rayc/node_metrics /api/jobs/} {
        lappend got [status_of [ns_get $h1 http://127.0.0.1:8265$path]]
    }
    lappend got [status_of [ns_get $h1 http://127.0.0.1:8265/nodes?view=summary \
        Cookie ray-authentication-token=[string trim [file_read $token_file]]]]
    lappend got [status_of [ns_get $h1 http://127.0.0.1:8265/]]
} {401 401 401 200 200}

test {dash-2.2 /nodes?view=summary shows each node's CPU, memory, store and workers} {
    set tok [string trim [file_read $token_file]]
    set s [ns_get $h1 http://127.0.0.1:8265/nodes?view=summary Authorization "Bearer $tok"]
    list [status_of $s] [regexp -all {"state":"ALIVE"} $s] [regexp -all {"mem":\[[1-9]} $s] \
        [regexp -all {"objectStoreAvailableMemory":[1-9]} $s] [regexp -all {"numWorkers":} $s]
} {200 3 3 3 3}

test {dash-3.1 headless Chromium signs in, sees 3 nodes, a job and its live log, recent events, every page} {
    # The job prints three lines, then waits for the browser script to
    # create RELEASE (after it saw them), then prints one more.
    set release $tmp/dash-release
    set sub [on_ok $h1 $ray_bin job submit --address http://127.0.0.1:8265 --no-wait -- \
        sh -c {echo dash-line-1; echo dash-line-2; echo dash-line-3
               while [ ! -e "$0" ]; do sleep 0.1; done; echo dash-line-after} $release]
    regexp {'(raysubmit_[A-Za-z0-9]+)'} $sub -> id
    set r [on $h1 /usr/bin/python3 $root/tests/integration/dash_browser.py check \
        http://127.0.0.1:8265 $token_file $shots $id $release {*}$hosts]
    list [dict get $r code] [lsort [split [string trim [dict get $r out]] \n]] \
        [lsort [lmap f [glob -nocomplain -directory $shots *.png] {file tail $f}]]
} {0 {{ok cluster-nodes} {ok cookie-httponly} {ok job-log-streams} {ok jobs-list} {ok login} {ok metrics-charts} {ok overview-events} {ok state-actors} {ok state-placement_groups} {ok state-tasks} {ok token-not-in-url}} {actors.png cluster.png job.png jobs.png metrics.png overview.png placement_groups.png tasks.png}}

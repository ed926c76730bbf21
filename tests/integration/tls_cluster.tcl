# serial
# TLS on a `ray up` cluster of three test hosts (deploy/testnet.sh): ray up
# makes the cluster CA and installs each node's key and certificate (0600);
# tasks, a 200 MiB object and a job run across hosts while tcpdump records
# the bridge, and the capture holds neither the cluster token nor a task's
# function name; a host holding a certificate from another CA cannot join;
# a second ray up reuses the CA and reissues a node certificate that went
# missing.  Needs root (test hosts) and tcpdump.
source [file join [file dirname [info script]] .. lib harness.tcl]
source [file join [file dirname [info script]] .. lib testnet.tcl]
require_root
unset -nocomplain ::env(RAYC_NODE_REGISTRY)   ;# as runtime_cluster.tcl: ray up's registry

set root [file dirname [file dirname [file dirname [file normalize [info script]]]]]
set mn [file join $root examples multinode multinode]
if {![file executable $mn]} { skip_suite "examples/multinode was not built" }
foreach tool {tcpdump openssl} {
    if {[auto_execok $tool] eq ""} { skip_suite "$tool is not installed (deploy/install-deps.sh)" }
}
set ray_bin [rayc_bin ray]

set inv [testnet_up 3]
set hosts [dict get $inv HOSTS]
set names [dict get $inv NAMES]
lassign $hosts h1 h2 h3
set key [dict get $inv KEY]

set T [file join $::harness::suite_tmp nodes]
file mkdir $T
set raytmp $T/ray
set token $T/auth_token
set store 500000000
set tlsenv [list RAY_USE_TLS 1 RAY_TLS_SERVER_CERT $T/tls/node.crt \
    RAY_TLS_SERVER_KEY $T/tls/node.key RAY_TLS_CA_CERT $T/tls/ca.crt]
set state_tls $::env(HOME)/.ray/launcher/tc/tls

set yaml [file join $T tc.yaml]
file_write $yaml "cluster_name: tc
provider:
  type: local
  head_ip: $h1
  worker_ips: \[$h2, $h3\]
  auth_token_path: $token
  tls_dir: $T/tls
auth:
  ssh_user: root
  ssh_private_key: $key
head_start_ray_commands:
  - $ray_bin stop --temp-dir $raytmp
  - $ray_bin start --head --port=6379 --temp-dir $raytmp --num-cpus 2 --object-store-memory $store --dashboard-port 8265
worker_start_ray_commands:
  - $ray_bin stop --temp-dir $raytmp
  - $ray_bin start --address=\$RAY_HEAD_IP:6379 --temp-dir $raytmp --num-cpus 2 --object-store-memory $store --resources '{\"worker\":1}'
"
at_suite_end {catch {run_cmd -timeout 120 $::ray_bin down $::yaml -y}}

proc ns_of {ip} { lindex $::names [lsearch $::hosts $ip] }

# Runs CMD ARGS on host IP with the token and ENV (K V ...).
proc on_host {ip env args} {
    run_cmd -timeout 300 -env [list RAY_ADDRESS $::h1:6379 RAY_TMPDIR $::raytmp \
        RAY_AUTH_TOKEN_PATH $::token {*}$env] ip netns exec [ns_of $ip] {*}$args
}

proc status_text {env} {
    dict get [on_host $::h1 $env $::ray_bin status --address $::h1:6379] out
}
proc active_count {} {
    regexp -all -line {^ 1 node_} [status_text $::tlsenv]
}
proc mode_of {f} { format %o [expr {[file attributes $f -permissions] & 0777}] }

# The bridge interface of the test hosts (the one holding BRIDGE_IP).
proc bridge_if {} {
    foreach line [split [exec ip -o -4 addr show] \n] {
        if {[string match "* [dict get $::inv BRIDGE_IP]/*" $line]} { return [lindex $line 1] }
    }
    error "no interface holds [dict get $::inv BRIDGE_IP]"
}

test {tls-cluster-1.1 ray up makes the CA and installs each node's files with mode 0600} {
    set r [run_cmd -timeout 300 $ray_bin up $yaml -y]
    assert_equal 0 [dict get $r code] "ray up: [dict get $r out]"
    wait_for {[active_count] == 3} 30000 "three active nodes over TLS"
    assert_equal [file_read $state_tls/ca.crt] [file_read $T/tls/ca.crt] "the node's ca.crt and the launcher's"
    assert_match "*RAY_TLS_CA_CERT=$state_tls/ca.crt ray job submit --address https://localhost:8265*" \
        [dict get $r out]
    list [mode_of $state_tls/ca.key] [mode_of $state_tls/ca.crt] [mode_of $state_tls/$h2.key] \
        [mode_of $T/tls/node.key] [mode_of $T/tls/node.crt] [mode_of $T/tls/ca.crt]
} {600 600 600 600 600 600}

test {tls-cluster-1.2 a client without TLS is refused by the GCS of a ray up cluster} {
    set r [on_host $h2 {} $ray_bin status --address $h1:6379]
    set gcs_log [lindex [glob $raytmp/session_2*/node_${h1}_*/logs/gcs_server.log] 0]
    wait_for {[regexp "connection $h2:\\d+ refused: TLS handshake failed" [file_read $gcs_log]]} \
        10000 "the refusal naming $h2 in the head's GCS log"
    expr {[dict get $r code] != 0}
} 1

set cap [file join $::harness::suite_tmp bridge.pcap]
# Starts tcpdump on the bridge writing FILE; returns its pid once it listens.
# A large kernel buffer keeps drops rare while 400 MiB cross.
proc capture {file} {
    set pid [start_bg tcpdump tcpdump -i [bridge_if] --immediate-mode -B 262144 -s 0 -U -w $file tcp]
    wait_for {[string match "*listening on*" [file_read [bg_log $pid]]]} 30000 "tcpdump listening"
    return $pid
}
# How many captured packets in FILE went to or from a job agent's port.
proc agent_packets {file} {
    llength [split [string trim [exec tcpdump -r $file -nn tcp port 52365 2>/dev/null]] \n]
}
# True when the bytes NEEDLE occur in FILE (grep exits 1 when they do not).
proc found {needle file} {
    expr {[catch {exec grep -c -a -F -- $needle $file}] == 0}
}
test {tls-cluster-2.1 with tcpdump on the bridge: SPREAD tasks reach every host and a 200 MiB object crosses} {
    set dump [capture $cap]
    set r [on_host $h1 $tlsenv $mn spread 300]
    assert_equal 0 [dict get $r code] [string range [dict get $r out] 0 2000]
    set per {}
    foreach line [split [dict get $r out] \n] {
        if {[regexp {^where \S*/node_([0-9.]+)_} $line -> ip]} { dict incr per $ip }
    }
    set ids {}
    foreach line [split [status_text $tlsenv] \n] {
        if {[regexp {^ 1 node_([0-9a-f]+) \(([0-9.]+)} $line -> id ip] && $ip ne $h2} { lappend ids $id }
    }
    set big [on_host $h2 $tlsenv $mn readall 200 {*}$ids]
    assert_equal 0 [dict get $big code] [dict get $big out]
    wait_for {[file size $cap] > 200 * 1048576} 30000 "the object's bytes in the capture"
    stop_bg $dump
    list [lsort [dict keys $per]] [regexp -all {checksum ok} [dict get $big out]]
} [list [lsort $hosts] 2]

test {tls-cluster-2.2 the capture holds the object's bytes but no token and no function name in clear} {
    # 4.3 checks the same capture finds the token when TLS is off.
    set tok [string trim [file_read $token]]
    assert_true {[file size $cap] > 200 * 1048576} "capture size"
    assert_equal 0 [found $tok $cap] "the token in the capture"
    assert_equal 0 [found mn_sum $cap] "mn_sum in the capture"
    assert_equal 0 [found mn_where $cap] "mn_where in the capture"
}

test {tls-cluster-3.1 a job runs with TLS on: its driver's tasks reach the workers} {
    set r [on_host $h1 $tlsenv $ray_bin job submit --address http://127.0.0.1:8265 -- $mn spread 60]
    assert_equal 0 [dict get $r code] [dict get $r out]
    set seen {}
    foreach line [split [dict get $r out] \n] {
        if {[regexp {^where \S*/node_([0-9.]+)_} $line -> ip]} { dict set seen $ip 1 }
    }
    expr {[dict size $seen] >= 2}
} 1

test {tls-cluster-3.2 a job the job server hands to a worker's agent runs there; that HTTPS call shows no token} {
    set agentcap [file join $::harness::suite_tmp agent.pcap]
    set dump [capture $agentcap]
    set r [on_host $h1 $tlsenv $ray_bin job submit --address http://127.0.0.1:8265 \
        --entrypoint-resources {{"worker": 1}} -- ip -o -4 addr show dev eth0]
    assert_equal 0 [dict get $r code] [dict get $r out]
    set ran ""
    regexp {inet ([0-9.]+)/} [dict get $r out] -> ran
    # The agents listen on 52365 (Ray's --dashboard-agent-listen-port).
    wait_for {[agent_packets $agentcap] > 10} 30000 "the calls to the agent in the capture"
    stop_bg $dump
    assert_true {$ran in [list $h2 $h3]} "the job ran on a worker host: [dict get $r out]"
    assert_equal 0 [found [string trim [file_read $token]] $agentcap] "the token in the agent capture"
}

test {tls-cluster-3.3 ray dashboard's tunnel reaches the HTTPS job server; curl verifies it with the launcher's CA} {
    set port [free_port]
    set pid [start_bg dashboard $ray_bin dashboard $yaml -p $port]
    wait_for {[string match "*Successfully established connection.*" [file_read [bg_log $pid]]]} 20000 \
        "the dashboard forward"
    set tok [string trim [file_read $::env(HOME)/.ray/launcher/tc/auth_token]]
    set code [exec curl -s -o /dev/null -w %{http_code} --cacert $state_tls/ca.crt \
        -H "Authorization: Bearer $tok" https://localhost:$port/api/version]
    set dash_out [file_read [bg_log $pid]]
    stop_bg $pid INT
    assert_match "*RAY_TLS_CA_CERT=$state_tls/ca.crt ray job submit --address https://localhost:$port*" \
        $dash_out "the hint ray dashboard prints"
    set code
} 200

test {tls-cluster-4.1 a host whose certificate comes from another CA cannot join} {
    set pki [tmpdir]
    exec openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout $pki/other.key -out $pki/other.crt -days 2 -subj /CN=other 2>@1
    exec openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout $pki/x.key -out $pki/x.csr -subj /CN=x 2>@1
    exec openssl x509 -req -in $pki/x.csr -CA $pki/other.crt -CAkey $pki/other.key \
        -CAcreateserial -out $pki/x.crt -days 2 2>@1
    set bad [list RAY_USE_TLS 1 RAY_TLS_SERVER_CERT $pki/x.crt RAY_TLS_SERVER_KEY $pki/x.key \
        RAY_TLS_CA_CERT $T/tls/ca.crt]
    on_host $h3 $tlsenv $ray_bin stop --temp-dir $raytmp
    wait_for {[active_count] == 2} 30000 "the stopped host gone"
    set r [on_host $h3 $bad $ray_bin start --address $h1:6379 --temp-dir $raytmp --num-cpus 1]
    set gcs_log [lindex [glob $raytmp/session_2*/node_${h1}_*/logs/gcs_server.log] 0]
    wait_for {[regexp "connection $h3:\\d+ refused: TLS handshake failed: certificate verify failed" \
                  [file_read $gcs_log]]} 10000 "the refusal naming $h3"
    set start_code [dict get $r code]
    assert_true {$start_code != 0} "ray start with another CA's certificate: [dict get $r out]"
    active_count
} 2

test {tls-cluster-4.2 a second ray up reuses the CA, reissues a missing node certificate, and the host rejoins} {
    set ca_before [file_read $state_tls/ca.crt]
    set h2_before [file_read $state_tls/$h2.crt]
    file delete $state_tls/$h3.crt
    set r [run_cmd -timeout 300 $ray_bin up $yaml -y]
    assert_equal 0 [dict get $r code] "ray up: [dict get $r out]"
    wait_for {[active_count] == 3} 30000 "three active nodes again"
    assert_equal $ca_before [file_read $state_tls/ca.crt] "the CA"
    assert_equal $h2_before [file_read $state_tls/$h2.crt] "$h2's certificate"
    assert_equal 1 [file exists $state_tls/$h3.crt] "$h3's certificate reissued"
}

test {tls-cluster-4.3 with tls: false the cluster runs plain, and the same capture sees the token and a function name} {
    file_write $yaml "[file_read $yaml]tls: false\n"
    set r [run_cmd -timeout 300 $ray_bin up $yaml -y]
    assert_equal 0 [dict get $r code] "ray up: [dict get $r out]"
    wait_for {[regexp -all -line {^ 1 node_} [status_text {}]] == 3} 30000 "three nodes seen without TLS"
    set plain [file join $::harness::suite_tmp plain.pcap]
    set dump [capture $plain]
    set r [on_host $h2 {} $mn spread 30]
    assert_equal 0 [dict get $r code] [dict get $r out]
    set tok [string trim [file_read $token]]
    wait_for {[found $tok $plain] && [found mn_where $plain]} 20000 \
        "the token and a function name in the plain-text capture"
    stop_bg $dump
    assert_equal 1 [found $tok $plain] "the token in the plain capture"
    assert_equal 1 [found mn_where $plain] "mn_where in the plain capture"
}

# TLS on a hand-started cluster with Ray's variables (RAY_USE_TLS,
# RAY_TLS_SERVER_CERT, RAY_TLS_SERVER_KEY, RAY_TLS_CA_CERT): a head and a
# joined node on 127.0.0.1 run tasks and move a large object over TLS; a
# plain-text client, a node holding a certificate from another CA, and a
# missing key file are refused with one line.  Certificates come from the
# openssl command line here, independent of rayc's own issuing code.
source [file join [file dirname [info script]] .. lib harness.tcl]
source [file join [file dirname [info script]] .. lib cluster.tcl]
cluster_cleanup_at_end

if {[auto_execok openssl] eq ""} {
    skip_suite "the openssl command is not installed (deploy/install-deps.sh)"
}
set root [file dirname [file dirname [file dirname [file normalize [info script]]]]]
set mn [file join $root examples multinode multinode]
if {![file executable $mn]} {
    skip_suite "examples/multinode was not built"
}

set pki [tmpdir]
# Makes CA NAME (NAME.crt, NAME.key) and a certificate LEAF signed by it.
proc make_ca {name} {
    exec openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout $::pki/$name.key -out $::pki/$name.crt -days 2 -subj /CN=$name 2>@1
}
proc make_leaf {leaf ca} {
    exec openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout $::pki/$leaf.key -out $::pki/$leaf.csr -subj /CN=$leaf 2>@1
    # HTTPS clients check the name: the dashboard is reached at 127.0.0.1.
    file_write $::pki/$leaf.ext "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
    exec openssl x509 -req -in $::pki/$leaf.csr -CA $::pki/$ca.crt -CAkey $::pki/$ca.key \
        -CAcreateserial -out $::pki/$leaf.crt -days 2 -extfile $::pki/$leaf.ext 2>@1
}
make_ca cluster
make_leaf node cluster
make_ca other
make_leaf intruder other

# The variables for a process presenting LEAF and trusting the cluster CA.
proc tls_env {leaf} {
    list RAY_USE_TLS 1 RAY_TLS_SERVER_CERT $::pki/$leaf.crt \
        RAY_TLS_SERVER_KEY $::pki/$leaf.key RAY_TLS_CA_CERT $::pki/cluster.crt
}
proc no_tls_env {} {
    list RAY_USE_TLS "" RAY_TLS_SERVER_CERT "" RAY_TLS_SERVER_KEY "" RAY_TLS_CA_CERT ""
}

test {tls-local-1.1 ray start with RAY_USE_TLS and an unreadable key file is one line, exit 1} {
    set bad [dict replace [tls_env node] RAY_TLS_SERVER_KEY $pki/missing.key]
    set r [ray -env $bad start --head --node-ip-address 127.0.0.1 --port [free_port] \
               --dashboard-port [free_port]]
    list [dict get $r code] [dict get $r out] [llength [node_dirs]]
} [list 1 "Error: RAY_TLS_SERVER_KEY=$pki/missing.key cannot be read: No such file or directory" 0]

# Everything from here on runs with TLS on (daemons inherit the variables).
array set env [tls_env node]
set dport [free_port]
set addr [start_head --num-cpus 2 --object-store-memory 300000000 --dashboard-port $dport]
set gcs_port [lindex [split $addr :] 1]
join_node $addr --node-ip-address 127.0.0.1 --num-cpus 2 --object-store-memory 300000000
set gcs_log [lindex [glob $env(RAY_TMPDIR)/session_2*/node_127.0.0.1_*/logs/gcs_server.log] 0]

test {tls-local-1.2 a head and a joined node with TLS on are both active} {
    wait_for {[llength [status_active [ray_ok status --address $addr]]] == 2} 20000 \
        "two active nodes in ray status"
} {}

test {tls-local-1.3 SPREAD tasks reach both nodes over TLS} {
    set r [run_cmd -timeout 120 -env [list RAY_ADDRESS $addr] $mn spread 20]
    set where {}
    foreach line [split [dict get $r out] \n] {
        if {[string match "where *" $line]} { dict incr where [file dirname [file dirname [lindex $line 1]]] }
    }
    list [dict get $r code] [llength [dict keys $where]]
} {0 2}

test {tls-local-1.4 a 50 MiB object crosses nodes over TLS with the right checksum} {
    set ids [lsort [regexp -all -inline {node_id \S+} [join [lmap d [node_dirs] {file_read $d/node.info}] \n]]]
    set target [lindex [lindex $ids end] 1]
    set r [run_cmd -timeout 180 -env [list RAY_ADDRESS $addr] $mn bigarg 50 $target]
    dict get $r out
} "checksum ok"

test {tls-local-2.1 a plain-text client is refused; the GCS log names it} {
    set r [ray -env [no_tls_env] status --address $addr]
    wait_for {[regexp {connection (127\.0\.0\.1:\d+) refused: TLS handshake failed: } [file_read $gcs_log]]} \
        10000 "the refusal in the GCS log"
    assert_true {[dict get $r code] != 0} "exit code; output: [dict get $r out]"
    assert_equal 1 [llength [split [string trim [dict get $r out]] \n]] [dict get $r out]
}

test {tls-local-2.2 plain-text bytes to the GCS port get the connection closed, not a hang} {
    set s [socket 127.0.0.1 $gcs_port]
    fconfigure $s -translation binary -blocking 1
    puts -nonewline $s [binary format Ia* 5 hello]
    flush $s
    set got [read $s]   ;# returns at end of stream
    close $s
    llength [status_active [ray_ok status --address $addr]]
} 2

test {tls-local-2.3 a node with a certificate from another CA cannot join} {
    set env2 [tls_env intruder]
    set r [ray -env $env2 start --address $addr --node-ip-address 127.0.0.1 --num-cpus 1]
    wait_for {[string match "*certificate verify failed: unable to get local issuer certificate*" \
                  [file_read $gcs_log]]} 10000 "the verify failure in the GCS log"
    set start_code [dict get $r code]
    assert_true {$start_code != 0} "ray start with another CA's certificate: [dict get $r out]"
    llength [status_active [ray_ok status --address $addr]]
} 2

test {tls-local-2.4 ray status with the cluster certificate still works after the refusals} {
    string match "*Active:*" [ray_ok status --address $addr]
} 1

test {tls-local-3.1 with TLS on the dashboard serves HTTPS: ray job submit to the http:// address runs a job} {
    set r [ray -timeout 120 job submit --address http://127.0.0.1:$dport -- echo hello-over-https]
    assert_equal 0 [dict get $r code] [dict get $r out]
    assert_contains hello-over-https [dict get $r out]
}

test {tls-local-3.2 a job client without TLS gets no answer from the HTTPS port: Ray's ConnectionError, exit 1} {
    set r [ray -timeout 60 -env [no_tls_env] job list --address http://127.0.0.1:$dport]
    list [dict get $r code] [lindex [split [dict get $r out] \n] end]
} [list 1 "ConnectionError: Failed to connect to Ray at address: http://127.0.0.1:$dport."]

test {tls-local-3.3 over HTTPS the login cookie is Secure; curl verifies the server with the cluster CA} {
    set tok [string trim [file_read $env(HOME)/.ray/auth_token]]
    set hdrs [exec curl -s -D - -o /dev/null --cacert $pki/cluster.crt -X POST \
        -H "Authorization: Bearer $tok" -H "User-Agent: rayc-tests" \
        https://127.0.0.1:$dport/api/authenticate]
    set bad [catch {exec curl -s -o /dev/null --cacert $pki/other.crt \
        https://127.0.0.1:$dport/api/healthz}]
    assert_regexp {(?n)^Set-Cookie: .*; Secure\r?$} $hdrs
    assert_equal 1 $bad "curl with another CA fails"
}

# ray start / status / stop on this host, the CLI's edges: a node started
# with --temp-dir found by plain `ray stop` and `ray status` (the per-host
# node registry), Ray's on-prem `ray start` flags, and the token rules.
source [file join [file dirname [info script]] .. lib harness.tcl]
source [file join [file dirname [info script]] .. lib cluster.tcl]
cluster_cleanup_at_end

set root [file normalize [file join [file dirname [info script]] .. ..]]
set demo [file join $root examples tiny_demo tiny_demo]

# Number of lines of TEXT once trimmed.
proc nlines {text} {
    return [llength [split [string trim $text] \n]]
}

# The pids recorded under TEMP (a temp root) as {name pid ...}.
proc temp_pids {temp} {
    set out {}
    foreach f [lsort [glob -nocomplain $temp/session_2*/node_*/pids/*.pid]] {
        lappend out [file rootname [file tail $f]] [string trim [file_read $f]]
    }
    return $out
}

# A token file with TEXT in it (written as is).
proc token_file {text} {
    set f [file join [tmpdir] tok]
    set fd [open $f wb]
    puts -nonewline $fd $text
    close $fd
    return $f
}

# `ray start --head` on free ports with ARGS; returns run_cmd's dict.
proc head_start {args} {
    return [ray start --head --node-ip-address 127.0.0.1 --port [free_port] \
        --dashboard-port [free_port] --num-cpus 1 --object-store-memory 80000000 {*}$args]
}

# ---------------------------------------------------------------- the registry

set temp [tmpdir]
set tok [token_file "nodecli-token-0123456789\n"]
set gport [free_port]
set dport [free_port]
set head_args [list start --head --node-ip-address 127.0.0.1 --port $gport \
    --dashboard-port $dport --num-cpus 1 --object-store-memory 80000000 \
    --temp-dir=$temp --auth-token-file $tok]

test {nodecli-1.1 plain ray status finds a head started with --temp-dir elsewhere} {
    ray_ok {*}$head_args
    # Neither RAY_TMPDIR nor ~/.ray knows it: the address and the token come
    # from the node registry.
    assert_equal 0 [file exists $::env(RAY_TMPDIR)/ray_current_cluster] "RAY_TMPDIR/ray_current_cluster exists"
    assert_equal 0 [file exists $::env(HOME)/.ray/auth_token] "~/.ray/auth_token exists"
    set out [ray_ok status]
    assert_equal 1 [llength [status_active $out]] $out
}

test {nodecli-1.2 a driver and ray job find it too, without RAY_ADDRESS or a token} {
    if {![file executable $demo]} { skip_test nodecli-1.2 "examples/tiny_demo was not built" }
    set d [run_cmd -timeout 120 $demo 3]
    set j [ray job list --address http://127.0.0.1:$dport]
    list [dict get $d code] [lindex [split [dict get $d out] \n] end] [dict get $j code]
} {0 {sum of squares of 0..2: 5} 0}

test {nodecli-1.3 plain ray stop stops its gcs_server, raylet and job server} {
    set pids [temp_pids $temp]
    set out [ray_ok stop]
    set alive {}
    foreach {name pid} $pids { lappend alive $name [pid_alive $pid] }
    list [string trim $out] $alive
} {{Stopped all 3 Ray processes.} {gcs_server 0 ray_jobserver 0 raylet 0}}

test {nodecli-1.4 the same start line works again afterwards, and ray stop stops it} {
    set r [ray {*}$head_args]
    list [dict get $r code] [string trim [ray_ok stop]]
} {0 {Stopped all 3 Ray processes.}}

test {nodecli-1.4b a head on 127.0.0.2 (the loopback, not an interface address) is this host's: ray status and ray stop find it} {
    set r [ray start --head --node-ip-address 127.0.0.2 --port [free_port] \
        --dashboard-port [free_port] --num-cpus 1 --object-store-memory 80000000]
    assert_equal 0 [dict get $r code] [dict get $r out]
    set active [llength [status_active [ray_ok status]]]
    set pids [temp_pids $::env(RAY_TMPDIR)]
    set out [string trim [ray_ok stop]]
    set alive {}
    foreach {name pid} $pids { lappend alive $name [pid_alive $pid] }
    list $active $out $alive
} {1 {Stopped all 3 Ray processes.} {gcs_server 0 ray_jobserver 0 raylet 0}}

test {nodecli-1.5 a registry others can write, or a symlink, is refused with one line} {
    set open [tmpdir]
    file attributes $open -permissions 0777
    set a [ray -env [list RAYC_NODE_REGISTRY $open] start --head --node-ip-address 127.0.0.1 \
        --port [free_port] --dashboard-port [free_port]]
    set link [file join [tmpdir] reglink]
    file link -symbolic $link [tmpdir]
    set b [ray -env [list RAYC_NODE_REGISTRY $link] start --head --node-ip-address 127.0.0.1 \
        --port [free_port] --dashboard-port [free_port]]
    set stopped [string trim [ray_ok stop]]
    assert_match "Error: cannot register the node in $open: *" [dict get $a out]
    list [dict get $a code] [nlines [dict get $a out]] \
        [dict get $b code] [nlines [dict get $b out]] $stopped
} {1 1 1 1 {Did not find any active Ray processes.}}

# ---------------------------------------------------------------- Ray's start flags

test {nodecli-2.1 Ray's flags without an equivalent print one note each and the node starts} {
    set r [head_start --min-worker-port=11000 --max-worker-port 11999 \
        --worker-port-list 12000,12001 --ray-client-server-port 10001 \
        --runtime-env-agent-port=52370 --dashboard-agent-grpc-port 52366 \
        --object-manager-port 8076 --no-monitor \
        --storage /nonexistent/storage --redis-password 5241590000000000 \
        --disable-usage-stats]
    set notes [regexp -all -line {^Note: --[a-z-]+ changes nothing here: .+\.$} [dict get $r out]]
    set active [llength [status_active [ray_ok status]]]
    set stopped [string trim [ray_ok stop]]
    assert_match "*--min-worker-port changes nothing here: rayc workers listen only on Unix sockets*" \
        [dict get $r out]
    list [dict get $r code] $notes $active $stopped
} {0 11 1 {Stopped all 3 Ray processes.}}

test {nodecli-2.2 bad values exit 2 with one click-style line} {
    set got {}
    set outs {}
    foreach args {
        {--min-worker-port abc}
        {--min-worker-port 80}
        {--min-worker-port 12000 --max-worker-port 11000}
        {--worker-port-list 12000,x}
        {--worker-port-list 12000,,12001}
        {--include-dashboard maybe}
        {--system-config {[1]}}
        {--plasma-directory /nonexistent/plasma}
        {--metrics-export-port 70000}
    } {
        set r [head_start {*}$args]
        lappend got [list [dict get $r code] [nlines [dict get $r out]]]
        lappend outs $args [dict get $r out]
    }
    set stopped [string trim [ray_ok stop]]
    foreach {args out} $outs {
        assert_match "Error: Invalid value for '--*" $out "ray start --head $args"
    }
    list [lsort -unique $got] $stopped
} {{{2 1}} {Did not find any active Ray processes.}}

test {nodecli-2.3 --include-dashboard=false starts no job server on the head} {
    set p [free_port]
    set t [tmpdir]
    set r [ray start --head --node-ip-address 127.0.0.1 --port [free_port] --dashboard-port $p \
        --num-cpus 1 --object-store-memory 80000000 --temp-dir $t --include-dashboard=false]
    set names [dict keys [temp_pids $t]]
    set listening [expr {![catch {close [socket 127.0.0.1 $p]}]}]
    list [dict get $r code] $names $listening [string trim [ray_ok stop]]
} {0 {gcs_server raylet} 0 {Stopped all 2 Ray processes.}}

test {nodecli-2.4 --include-dashboard true and its other spellings start it} {
    set got {}
    foreach v {true 1 yes On} {
        set t [tmpdir]
        set r [ray start --head --node-ip-address 127.0.0.1 --port [free_port] \
            --dashboard-port [free_port] --num-cpus 1 --object-store-memory 80000000 \
            --temp-dir $t --include-dashboard $v]
        lappend got [dict get $r code] [llength [temp_pids $t]] [string trim [ray_ok stop]]
    }
    lsort -unique $got
} {0 6 {Stopped all 3 Ray processes.}}

test {nodecli-2.5 --system-config keys reach the daemons as RAY_<key>} {
    set t [tmpdir]
    ray_ok start --head --node-ip-address 127.0.0.1 --port [free_port] \
        --dashboard-port [free_port] --num-cpus 1 --object-store-memory 80000000 --temp-dir $t \
        --system-config {{"health_check_period_ms": 700, "some_flag": true}}
    set vars [split [file_read /proc/[dict get [temp_pids $t] gcs_server]/environ] \0]
    set stopped [string trim [ray_ok stop]]
    assert_true {"RAY_health_check_period_ms=700" in $vars} "the GCS's environment"
    assert_true {"RAY_some_flag=true" in $vars} "the GCS's environment"
    set stopped
} {Stopped all 3 Ray processes.}

# ---------------------------------------------------------------- tokens

test {nodecli-3.1 --auth-token-file naming a missing file is an error and creates nothing} {
    set missing [file join [tmpdir] no-such-dir tok]
    set a [head_start --auth-token-file $missing]
    set b [ray start --address 127.0.0.1:[free_port] --auth-token-file $missing]
    set stopped [string trim [ray_ok stop]]
    assert_match "Error: the cluster token file $missing does not exist*" [dict get $a out]
    list [dict get $a code] [nlines [dict get $a out]] \
        [dict get $b code] [nlines [dict get $b out]] [file exists $missing] \
        [file exists [file dirname $missing]] $stopped
} {1 1 1 1 0 0 {Did not find any active Ray processes.}}

test {nodecli-3.2 a short token, one with whitespace or a NUL byte, is refused with one line} {
    set got {}
    set outs {}
    foreach {text why} [list "short-token\n" "shorter than 16 characters" \
                             "abcdefgh ijklmnop\n" "whitespace" \
                             " abcdefghijklmnop\n" "whitespace" \
                             "abcdefgh\0ijklmnop\n" "NUL byte" \
                             "abcdefghijklmnop\n\n" "whitespace" \
                             "\n" "empty"] {
        set r [head_start --auth-token-file [token_file $text]]
        lappend got [list [dict get $r code] [nlines [dict get $r out]]]
        lappend outs $why [dict get $r out]
    }
    set stopped [string trim [ray_ok stop]]
    foreach {why out} $outs {
        assert_match "Error: cannot use the cluster token from *$why*" $out "a token with $why"
    }
    list [lsort -unique $got] $stopped
} {{{1 1}} {Did not find any active Ray processes.}}

test {nodecli-3.3 a token file with one trailing newline (or none) is accepted} {
    set a [head_start --auth-token-file [token_file "0123456789abcdef\n"]]
    set sa [ray_ok stop]
    set b [head_start --auth-token-file [token_file "0123456789abcdef"]]
    list [dict get $a code] [string trim $sa] [dict get $b code] [string trim [ray_ok stop]]
} {0 {Stopped all 3 Ray processes.} 0 {Stopped all 3 Ray processes.}}

test {nodecli-3.4 RAY_AUTH_TOKEN_PATH naming a missing file is an error, not a new token} {
    set missing [file join [tmpdir] tok]
    file delete $::env(HOME)/.ray/auth_token
    set r [ray -env [list RAY_AUTH_TOKEN_PATH $missing] start --head --node-ip-address 127.0.0.1 \
        --port [free_port] --dashboard-port [free_port]]
    assert_equal 1 [dict get $r code] [dict get $r out]
    assert_equal 1 [nlines [dict get $r out]] [dict get $r out]
    assert_equal 0 [file exists $missing] "$missing was created"
    assert_equal 0 [file exists $::env(HOME)/.ray/auth_token] "~/.ray/auth_token was created"
}

test {nodecli-3.5 with no token anywhere the head creates ~/.ray/auth_token (0600) and uses it} {
    set r [head_start]
    set f $::env(HOME)/.ray/auth_token
    set perms [file attributes $f -permissions]
    set text [file_read $f]
    set status [ray status]
    file delete $f
    set stopped [string trim [ray_ok stop]]
    assert_regexp {^[0-9a-f]{64}\n$} $text "the token ~/.ray/auth_token holds"
    list [dict get $r code] $perms [dict get $status code] $stopped
} {0 00600 0 {Stopped all 3 Ray processes.}}

test {nodecli-3.6 every client refuses a short RAY_AUTH_TOKEN with the same reason} {
    set vars [list RAY_AUTH_TOKEN short RAY_ADDRESS 127.0.0.1:[free_port]]
    set s [ray -env $vars status]
    set j [ray -env $vars job list --address http://127.0.0.1:[free_port]]
    set why "RAY_AUTH_TOKEN: the token is shorter than 16 characters"
    assert_equal 1 [dict get $s code] "ray status: [dict get $s out]"
    assert_equal 1 [nlines [dict get $s out]] [dict get $s out]
    assert_contains $why [dict get $s out]
    assert_equal 1 [dict get $j code] "ray job list: [dict get $j out]"
    assert_contains $why [dict get $j out]
    if {[file executable $demo]} {
        set d [run_cmd -timeout 60 -env $vars $demo 3]
        assert_equal 1 [dict get $d code] "$demo: [dict get $d out]"
        assert_contains $why [dict get $d out]
    }
}

suite_end

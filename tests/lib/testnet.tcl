# Test hosts for multi-host suites: brings deploy/testnet.sh up for the
# suite (state inside the suite's temp dir), tears it down at suite end, and
# reads its inventory.  Suites using it must be marked `# serial`.

# Brings up N test hosts, or skips the suite with the reason when it cannot.
# Returns a dict of inventory.env (HOSTS, KEY, KNOWN_HOSTS, BRIDGE_IP, ...).
proc testnet_up {n} {
    set testnet [file join $::harness::root deploy testnet.sh]
    set dir [file join $::harness::suite_tmp testnet]
    set ::env(RAYC_TESTNET_DIR) $dir
    set r [run_cmd -timeout 120 $testnet up $n]
    if {[dict get $r code] != 0} {
        skip_suite "deploy/testnet.sh up $n failed: [dict get $r out]"
    }
    at_suite_end [list run_cmd -env [list RAYC_TESTNET_DIR $dir] -timeout 120 $testnet down]
    set inv [dict create]
    foreach line [split [file_read $dir/inventory.env] \n] {
        if {[regexp {^(\w+)="?([^"]*)"?$} $line -> k v]} { dict set inv $k $v }
    }
    return $inv
}

# Sets up a hand-started cluster's shared state on N test hosts as globals:
# inv, hosts, names, tmp (RAY_TMPDIR), token_file (written with a fresh
# token, since `ray start --auth-token-file` reads it and creates only
# ~/.ray/auth_token), ray_bin, and envs, the environment `on` runs commands
# with (the token, RAY_ADDRESS of host 1, and the NAME VALUE pairs of ARGS).
proc testnet_cluster {n label args} {
    global inv hosts names tmp token_file ray_bin envs
    set inv [testnet_up $n]
    set hosts [dict get $inv HOSTS]
    set names [dict get $inv NAMES]
    set tmp $::env(RAY_TMPDIR)
    set token_file $tmp/cluster_token
    file_write $token_file "$label-test-token-[pid]-[clock microseconds]\n"
    set ray_bin [rayc_bin ray]
    set envs [list RAY_TMPDIR $tmp RAY_AUTH_TOKEN_PATH $token_file \
        RAY_ADDRESS [lindex $hosts 0]:6379 {*}$args]
}

# Runs CMD ARGS inside test host IP's network namespace with testnet_cluster's
# envs; returns run_cmd's dict.
proc on {ip args} {
    set ns [lindex $::names [lsearch $::hosts $ip]]
    return [run_cmd -timeout 120 -env $::envs ip netns exec $ns {*}$args]
}

# Like `on`, but a non-zero exit fails the test; returns the output.
proc on_ok {ip args} {
    set r [on $ip {*}$args]
    if {[dict get $r code] != 0} {
        ::harness::assert_failed "exit 0 on $ip: $args" "exit [dict get $r code]: [dict get $r out]"
    }
    return [dict get $r out]
}

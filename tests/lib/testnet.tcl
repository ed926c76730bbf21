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

# The libFuzzer targets of tests/fuzz (frames, HTTP requests, submission
# bodies, the cluster YAML loader): each is built with clang, AddressSanitizer
# and UBSan (`make fuzz`, which rebuilds only what changed) and run from its
# seeds for RAYC_FUZZ_RUNS inputs (default 2000).  A crash, a sanitizer
# report or a broken cap stops the target and fails its test with the
# fuzzer's log.  `make fuzz FUZZ_TIME=600` is the long run.
source [file join [file dirname [info script]] .. lib harness.tcl]

if {[auto_execok clang] eq ""} {
    skip_suite "clang is not installed (deploy/install-deps.sh installs it)"
}
set runs [expr {[info exists env(RAYC_FUZZ_RUNS)] ? $env(RAYC_FUZZ_RUNS) : 2000}]
set root $::harness::root

set i 0
foreach src [lsort [glob [file join $root tests fuzz fuzz_*.c]]] {
    set name [file rootname [file tail $src]]
    test "fuzz-1.[incr i] $name takes $runs inputs without a crash" {
        # FUZZ_TIME=0: the number of inputs decides, not the clock.
        set r [run_cmd -timeout 500 make -C $root --no-print-directory fuzz \
            FUZZ_ONLY=$name FUZZ_RUNS=$runs FUZZ_TIME=0]
        assert_equal 0 [dict get $r code] [dict get $r out]
        lindex [regexp -inline -line {^Done \d+ runs} [dict get $r out]] 0
    } "Done $runs runs"
}

suite_end

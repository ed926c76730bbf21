# Runs one suite for run.tcl: sources it and, if it errors at top level or returns without suite_end, records that and ends it so cleanups run.
#
#     tclsh tests/lib/suite_main.tcl tests/unit/SUITE.tcl

if {[llength $argv] != 1} {
    puts stderr "usage: tclsh suite_main.tcl SUITE.tcl"
    exit 2
}
set ::rayc_suite_file [file normalize [lindex $argv 0]]
set argv0 $::rayc_suite_file
set argv {}
set argc 0

# The harness is loaded here first so that even a suite that fails before
# sourcing it gets reported and cleaned up; the suite's own `source` of
# harness.tcl then does nothing.
source [file join [file dirname [file normalize [info script]]] harness.tcl]

if {[catch {source $::rayc_suite_file} msg opts]} {
    ::harness::fail "$::harness::suite: error at the top level of the suite" $msg $opts
}
suite_end

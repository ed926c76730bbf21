# Runs one folder of pytest tests with Debian's /usr/bin/python3 and reports
# every pytest test as one test of the calling suite (python-MODULE.TEST),
# with pytest's failure text.  Used by python_api.tcl and the suites of the
# Python libraries (Data, Serve); each pytest module starts its own private
# local node or cluster.
#
#     source [file join [file dirname [info script]] .. lib pytest_suite.tcl]
#     pytest_suite tests/python ?-modules {pandas ...}? ?-timeout 540?
#
# Skips the whole suite (one line saying why) when the extension was not
# built or the interpreter lacks a module the tests import.
source [file join [file dirname [info script]] harness.tcl]

namespace eval ::pytest_suite {
    variable root [file dirname [file dirname [file dirname [file normalize [info script]]]]]
    variable python /usr/bin/python3
    variable out ""
}

# Returns TEXT with the XML entities junit output uses replaced.
proc ::pytest_suite::xml_text {text} {
    return [string map {&lt; < &gt; > &quot; \" &apos; ' &#10; \n &amp; &} $text]
}

# Runs pytest once over DIR; returns the junit XML text ("" when pytest
# wrote none) and sets ::pytest_suite::out to its console output.
proc ::pytest_suite::run {dir timeout} {
    variable root
    variable python
    variable out
    set xml [file join $::harness::suite_tmp pytest.xml]
    set r [run_cmd -timeout $timeout \
        -env [list PYTHONPATH [file join $root python] RAYC_BIN_DIR [file join $root bin]] \
        $python -m pytest -q -p no:cacheprovider --junitxml $xml $dir]
    set out [dict get $r out]
    return [expr {[file exists $xml] ? [file_read $xml] : ""}]
}

# Runs the pytest tests in DIR (relative to the checkout) as this suite's
# tests and ends the suite.  -modules: Python modules the tests need beyond
# pytest, cloudpickle and numpy; -timeout: seconds for the whole pytest run.
proc pytest_suite {dir args} {
    set opts [dict merge {-modules {} -timeout 540} $args]
    set python $::pytest_suite::python
    if {![llength [glob -nocomplain [file join $::pytest_suite::root python ray _raylet*.so]]]} {
        skip_suite "python/ray/_raylet was not built (python3-dev missing?)"
    }
    foreach mod [list pytest cloudpickle numpy {*}[dict get $opts -modules]] {
        if {[dict get [run_cmd $python -c "import $mod"] code] != 0} {
            skip_suite "$python has no $mod module (deploy/install-deps.sh installs python3-$mod)"
        }
    }
    set xml [::pytest_suite::run [file join $::pytest_suite::root $dir] [dict get $opts -timeout]]
    set cases [lrange [split [string map {<testcase \x01} $xml] \x01] 1 end]
    if {![llength $cases]} {
        test "python-0.1 pytest ran the suite" {
            ::harness::assert_failed "junit results from pytest" $::pytest_suite::out
        }
    }
    foreach case $cases {
        regexp {classname="([^"]*)"} $case -> cls
        regexp { name="([^"]*)"} $case -> name
        set label "python-[lindex [split $cls .] end].$name"
        if {[string first "<skipped" $case] >= 0} {
            skip_test $label "skipped by pytest"
            continue
        }
        if {[regexp {<(failure|error)[^>]*>(.*?)</(failure|error)>} $case -> - body]} {
            test $label [list error [::pytest_suite::xml_text $body]]
        } elseif {[regexp {<(failure|error) message="([^"]*)"} $case -> - msg]} {
            test $label [list error [::pytest_suite::xml_text $msg]]
        } else {
            test $label {}
        }
    }
    suite_end
}

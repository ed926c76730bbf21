# The Python front end (python/ray over ray._raylet): runs the pytest suite
# tests/python with Debian's /usr/bin/python3 and reports every pytest test
# as one test of this suite (python-FILE.TEST), with pytest's failure text.
# Each pytest module starts its own private local node (ray.init()).
source [file join [file dirname [info script]] .. lib harness.tcl]

set root [file dirname [file dirname [file dirname [file normalize [info script]]]]]
set python /usr/bin/python3

if {![llength [glob -nocomplain [file join $root python ray _raylet*.so]]]} {
    skip_suite "python/ray/_raylet was not built (python3-dev missing?)"
}
foreach mod {pytest cloudpickle numpy} {
    if {[dict get [run_cmd $python -c "import $mod"] code] != 0} {
        skip_suite "$python has no $mod module (deploy/install-deps.sh installs python3-$mod)"
    }
}

# Returns TEXT with the XML entities junit output uses replaced.
proc xml_text {text} {
    return [string map {&lt; < &gt; > &quot; \" &apos; ' &#10; \n &amp; &} $text]
}

# Runs pytest once; returns the junit XML text ("" when pytest wrote none)
# and sets ::pytest_out to its console output.
proc run_pytest {} {
    set xml [file join $::harness::suite_tmp pytest.xml]
    set r [run_cmd -timeout 540 \
        -env [list PYTHONPATH [file join $::root python] RAYC_BIN_DIR [file join $::root bin]] \
        $::python -m pytest -q -p no:cacheprovider --junitxml $xml \
        [file join $::root tests python]]
    set ::pytest_out [dict get $r out]
    return [expr {[file exists $xml] ? [file_read $xml] : ""}]
}

set xml [run_pytest]
set cases [lrange [split [string map {<testcase \x01} $xml] \x01] 1 end]
if {![llength $cases]} {
    test "python-0.1 pytest ran the suite" {
        ::harness::assert_failed "junit results from pytest" $::pytest_out
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
        test $label [list error [xml_text $body]]
    } elseif {[regexp {<(failure|error) message="([^"]*)"} $case -> - msg]} {
        test $label [list error [xml_text $msg]]
    } else {
        test $label {}
    }
}

suite_end

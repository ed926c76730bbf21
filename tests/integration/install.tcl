# What `make install` and the `make dist` tarball put on a machine is
# enough to build and run a driver: programs, ray.h, libray.a, libray.so
# with its soname and version links, and ray.pc, so that examples/tiny_demo
# builds with nothing but `pkg-config --cflags --libs ray` and runs against
# a node started from the installed `ray`.
source [file join [file dirname [info script]] .. lib harness.tcl]
source [file join [file dirname [info script]] .. lib cluster.tcl]
cluster_cleanup_at_end

set root [file dirname [file dirname [file dirname [file normalize [info script]]]]]
set demo [file join $root examples tiny_demo]
set T [tmpdir]

# The files under DIR, relative to it, sorted; a symlink shows as "NAME -> TARGET".
proc tree {dir} {
    set out {}
    set queue [list $dir]
    while {[llength $queue]} {
        set d [lindex $queue 0]
        set queue [lrange $queue 1 end]
        foreach f [glob -nocomplain -directory $d *] {
            set rel [string range $f [string length $dir]+1 end]
            if {[file type $f] eq "link"} {
                lappend out "$rel -> [file readlink $f]"
            } elseif {[file isdirectory $f]} {
                lappend queue $f
            } else {
                lappend out $rel
            }
        }
    }
    return [lsort $out]
}

# The files of an install under PREFIX that a driver's build needs.
proc lib_files {prefix} {
    set want {}
    foreach f [tree $prefix] {
        if {[string match lib/python* $f]} {
            continue   ;# the Python package: tests/python/test_install.py checks it
        }
        if {[string match lib/* $f] || [string match include/* $f]} { lappend want $f }
    }
    return $want
}

set want_files [list include/ray/ray.h lib/libray.a "lib/libray.so -> libray.so.1.0.0" \
    "lib/libray.so.1 -> libray.so.1.0.0" lib/libray.so.1.0.0 lib/pkgconfig/ray.pc]

# Builds examples/tiny_demo (driver + task library) into DIR with only
# pkg-config's flags for the install under PREFIX; returns the driver.
proc build_demo {prefix dir} {
    file mkdir $dir
    set env [list PKG_CONFIG_PATH $prefix/lib/pkgconfig]
    set r [run_cmd -env $env pkg-config --cflags --libs ray]
    if {[dict get $r code] != 0} {
        ::harness::assert_failed "pkg-config finds ray" [dict get $r out]
    }
    set libs [dict get $r out]
    set cflags [dict get [run_cmd -env $env pkg-config --cflags ray] out]
    foreach cmd [list \
            [list cc {*}$cflags -shared -fPIC -o $dir/libtiny_demo_tasks.so \
                 $::demo/tiny_demo_tasks.c] \
            [list cc -o $dir/tiny_demo $::demo/tiny_demo.c {*}$libs]] {
        set r [run_cmd -timeout 120 {*}$cmd]
        if {[dict get $r code] != 0} {
            ::harness::assert_failed "exit 0 from $cmd" [dict get $r out]
        }
    }
    return $dir/tiny_demo
}

# Starts a head with PREFIX's `ray` (so its workers are PREFIX's too), runs
# DRIVER against it, stops it; returns the driver's output.
proc run_demo {prefix driver} {
    set port [free_port]
    set r [run_cmd -timeout 120 $prefix/bin/ray start --head --node-ip-address 127.0.0.1 \
        --port $port --dashboard-port [free_port] --num-cpus 2]
    if {[dict get $r code] != 0} {
        ::harness::assert_failed "ray start --head from $prefix" [dict get $r out]
    }
    set r [run_cmd -timeout 120 -env [list RAY_ADDRESS 127.0.0.1:$port] $driver 10]
    run_cmd -timeout 60 $prefix/bin/ray stop
    return [dict get $r out]
}

# Where the dynamic loader finds libray.so.1 for DRIVER.
proc libray_of {driver} {
    set r [run_cmd ldd $driver]
    regexp {libray\.so\.1 => (\S+)} [dict get $r out] -> path
    return [expr {[info exists path] ? $path : "not linked: [dict get $r out]"}]
}

proc soname {lib} {
    set r [run_cmd readelf -d $lib]
    regexp {\(SONAME\)[^\[]*\[([^\]]+)\]} [dict get $r out] -> name
    return [expr {[info exists name] ? $name : "none"}]
}

# ---------------------------------------------------------------- make install

set P1 $T/prefix
test {install-1.1 make install PREFIX puts ray.h, libray.a, libray.so with its links and ray.pc there} {
    set r [run_cmd -timeout 600 make -C $root install PREFIX=$P1]
    list [dict get $r code] [lib_files $P1]
} [list 0 $want_files]

test {install-1.2 the installed libray.so carries the soname libray.so.1} {
    soname $P1/lib/libray.so.1.0.0
} libray.so.1

test {install-1.3 ray.pc gives the prefix's include and lib dirs and rayc's version} {
    set pc [list PKG_CONFIG_PATH $P1/lib/pkgconfig]
    list [dict get [run_cmd -env $pc pkg-config --modversion ray] out] \
        [string trim [dict get [run_cmd -env $pc pkg-config --cflags --libs ray] out]]
} [list [string trim [lindex [split [dict get [run_cmd [rayc_bin ray] --version] out]] 2] ,] \
    "-I$P1/include -L$P1/lib -Wl,-rpath,$P1/lib -lray"]

test {install-1.4 tiny_demo built with pkg-config only runs against a node started from the install} {
    set driver [build_demo $P1 $T/demo1]
    list [libray_of $driver] [lindex [split [run_demo $P1 $driver] \n] end]
} [list $P1/lib/libray.so.1 {sum of squares of 0..9: 285}]

# ---------------------------------------------------------------- the dist tarball

set P2 $T/prefix2
test {install-2.1 the make dist tarball's install.sh installs the same library files} {
    set r [run_cmd -timeout 300 [file join $root deploy dist.sh] $T/dist]
    if {[dict get $r code] != 0} { ::harness::assert_failed "dist.sh" [dict get $r out] }
    file mkdir $T/unpack
    run_cmd tar -xzf $T/dist/rayc.tar.gz -C $T/unpack
    set r [run_cmd -timeout 120 $T/unpack/rayc/install.sh --prefix $P2]
    list [dict get $r code] [lib_files $P2] [soname $P2/lib/libray.so.1.0.0]
} [list 0 $want_files libray.so.1]

test {install-2.2 installing the tarball again changes nothing and keeps the links} {
    set before [tree $P2]
    set r [run_cmd -timeout 120 $T/unpack/rayc/install.sh --prefix $P2]
    assert_equal 0 [dict get $r code] [dict get $r out]
    assert_equal $before [tree $P2]
}

test {install-2.3 tiny_demo built against the tarball's install runs against its node} {
    set driver [build_demo $P2 $T/demo2]
    list [libray_of $driver] [lindex [split [run_demo $P2 $driver] \n] end]
} [list $P2/lib/libray.so.1 {sum of squares of 0..9: 285}]

test {install-2.4 a Python job on a node started from the tarball's install imports that install's ray and runs tasks} {
    set wd $T/pyjob
    file mkdir $wd
    file_write $wd/main.py "import ray\nray.init()\n@ray.remote\ndef sq(x):\n    return x * x\nprint('FROM', ray.__file__)\nprint('SUM', sum(ray.get(\[sq.remote(i) for i in range(10)\])))\n"
    set port [free_port]
    set dash [free_port]
    set nopp [list PYTHONPATH ""]
    set r [run_cmd -timeout 120 -env $nopp $P2/bin/ray start --head --node-ip-address 127.0.0.1 \
        --port $port --dashboard-port $dash --num-cpus 2]
    if {[dict get $r code] != 0} {
        ::harness::assert_failed "ray start --head from $P2" [dict get $r out]
    }
    set r [run_cmd -timeout 300 -env $nopp $P2/bin/ray job submit \
        --address http://127.0.0.1:$dash --working-dir $wd -- /usr/bin/python3 main.py]
    run_cmd -timeout 60 $P2/bin/ray stop
    set from ""
    set sum ""
    regexp {FROM (\S+)} [dict get $r out] -> from
    regexp {SUM (\S+)} [dict get $r out] -> sum
    assert_match $P2/lib/python3*/dist-packages/ray/__init__.py $from "where ray was imported from: [dict get $r out]"
    list [dict get $r code] $sum
} {0 285}

test {install-2.5 the tarball installs the programs of make install (Serve's ray_serve_proxy and serve too), and its serve runs with that install's package} {
    set progs {}
    foreach p [list $P1 $P2] {
        lappend progs [lsort [lmap f [glob -nocomplain -tails -directory $p/bin *] {set f}]]
    }
    assert_equal [lindex $progs 0] [lindex $progs 1] "the programs of make install and the tarball"
    set r [run_cmd -timeout 120 -env [list PYTHONPATH ""] $P2/bin/serve --help]
    set tar_progs [lindex $progs 1]
    assert_true {"ray_serve_proxy" in $tar_progs && "serve" in $tar_progs} "the tarball's programs"
    assert_match "usage: serve *" [dict get $r out]
    dict get $r code
} 0

suite_end

# The launcher's command line without any host: YAML errors with
# file:line:column, usage errors, Ray's refusal to prompt without a terminal,
# docker checks, companions on a cluster that was never started.
source [file join [file dirname [info script]] .. lib harness.tcl]

# The launcher binary: bin/ray, or RAYC_LAUNCHER_BIN while cli/ray_main.c
# does not dispatch the launcher commands yet.
set ray_bin [expr {[info exists ::env(RAYC_LAUNCHER_BIN)] ? $::env(RAYC_LAUNCHER_BIN)
                   : [rayc_bin ray]}]
set probe [run_cmd $ray_bin up --help]
if {[string match "*not supported*" [dict get $probe out]] || [dict get $probe code] == 127} {
    skip_suite "bin/ray does not dispatch `ray up` yet: [dict get $probe out]"
}

set dir [tmpdir]

# Runs the launcher with ARGS; returns run_cmd's dict.
proc launcher {args} {
    return [run_cmd -timeout 30 $::ray_bin {*}$args]
}

# Writes TEXT to NAME in the suite's dir and returns the path.
proc yaml {name text} {
    set path [file join $::dir $name]
    file_write $path $text
    return $path
}

set good [yaml good.yaml "cluster_name: lc\nprovider:\n  type: local\n  head_ip: 10.255.255.1\n  worker_ips: \[10.255.255.2\]\n"]

test {launcher-cli-1.1 an unknown key is reported with file:line:column and a suggestion} {
    set f [yaml typo.yaml "cluster_name: x\nprovider:\n  type: local\n  head_ip: h\n  worker_ip: \[a\]\n"]
    set r [launcher up $f -y]
    list [dict get $r code] [dict get $r out]
} [list 1 "Error: $dir/typo.yaml:5:3: provider.worker_ip: unknown key (did you mean worker_ips?)"]

test {launcher-cli-1.2 a wrong type is reported with its position and key path} {
    set f [yaml type.yaml "cluster_name: x\nmax_workers: lots\nprovider: {type: local, head_ip: h, worker_ips: \[\]}\n"]
    set r [launcher up $f -y]
    list [dict get $r code] [dict get $r out]
} [list 1 "Error: $dir/type.yaml:2:14: max_workers: expected an integer, got a string"]

test {launcher-cli-1.5 tls and provider.tls_dir are rayc keys: a bool and a string, else one line} {
    set ok [yaml tls.yaml "cluster_name: x\ntls: false\nprovider: {type: local, head_ip: h, worker_ips: \[\], tls_dir: /tmp/t}\n"]
    set bad [yaml tls2.yaml "cluster_name: x\ntls: maybe\nprovider: {type: local, head_ip: h, worker_ips: \[\]}\n"]
    set r1 [launcher get-worker-ips $ok]
    set r2 [launcher up $bad -y]
    list [dict get $r1 code] [dict get $r2 code] [dict get $r2 out]
} [list 0 1 "Error: $dir/tls2.yaml:2:6: tls: expected true or false, got a string"]

test {launcher-cli-1.3 a YAML syntax error is reported with its position} {
    set f [yaml syntax.yaml "cluster_name: x\nsetup_commands: \[a, b\nprovider: {}\n"]
    set r [launcher down $f -y]
    assert_match "Error: $dir/syntax.yaml:3:*" [dict get $r out]
    dict get $r code
} 1

test {launcher-cli-1.4 a missing file gets Ray's message} {
    set r [launcher get-head-ip $dir/nope.yaml]
    list [dict get $r code] [dict get $r out]
} [list 1 "Error: Provided cluster configuration file ($dir/nope.yaml) does not exist"]

test {launcher-cli-2.1 without --yes and without a terminal, up refuses with Ray's message} {
    set r [launcher up $good]
    list [dict get $r code] [lindex [split [dict get $r out] \n] end]
} {1 {This command requires user confirmation. When running non-interactively, supply --yes to skip.}}

test {launcher-cli-2.2 down refuses the same way} {
    set r [launcher down $good]
    list [dict get $r code] [lindex [split [dict get $r out] \n] end]
} {1 {This command requires user confirmation. When running non-interactively, supply --yes to skip.}}

test {launcher-cli-2.3 usage errors exit 2 the way click does} {
    set r1 [launcher up]
    set r2 [launcher down $good --bogus]
    set r3 [launcher up $good --restart-only --no-restart -y]
    assert_match "*Error: Missing argument 'CLUSTER_CONFIG_FILE'.*" [dict get $r1 out]
    assert_match "*No such option: --bogus*" [dict get $r2 out]
    list [dict get $r1 code] [dict get $r2 code] [dict get $r3 code] [dict get $r3 out]
} {2 2 1 {`--restart-only` is incompatible with `--no-restart`.}}

test {launcher-cli-2.4 a docker section without an image gets Ray's one line naming file:line:column} {
    set f [yaml docker.yaml "cluster_name: d\ndocker: {container_name: rc}\nprovider: {type: local, head_ip: h, worker_ips: \[\]}\n"]
    set r [launcher up $f -y]
    list [dict get $r code] [lindex [split [dict get $r out] \n] end]
} [list 1 "Error: $dir/docker.yaml:2:26: docker: Must provide a container & image name (container_name, and image or both head_image and worker_image)"]

test {launcher-cli-2.5 rsync-up/-down with a docker section go to the cluster (no refusal; docker-1.9/1.10 copy)} {
    set f [yaml docker2.yaml "cluster_name: d\ndocker: {image: img, container_name: rc}\nprovider: {type: local, head_ip: h, worker_ips: \[\]}\n"]
    set r1 [launcher rsync-up $f a b]
    set r2 [launcher rsync-down $f a b]
    list [dict get $r1 code] [lindex [split [dict get $r1 out] \n] end] \
        [dict get $r2 code] [lindex [split [dict get $r2 out] \n] end]
} [list 1 "Error: Head node of cluster (d) not found!" 1 "Error: Head node of cluster (d) not found!"]

test {launcher-cli-3.1 companions of a cluster never started say the head is not found} {
    set out {}
    foreach cmd {get-head-ip {exec x} attach {rsync-up a b} dashboard} {
        set r [launcher {*}[lindex $cmd 0] $good {*}[lrange $cmd 1 end]]
        lappend out [dict get $r code] [lindex [split [dict get $r out] \n] end]
    }
    set out
} [lrepeat 5 1 {Error: Head node of cluster (lc) not found!}]

test {launcher-cli-3.2 get-worker-ips of a cluster never started prints nothing} {
    set r [launcher get-worker-ips $good]
    list [dict get $r code] [dict get $r out]
} {0 {}}

test {launcher-cli-3.3 rsync-up wants both a source and a target, or neither} {
    set r [launcher rsync-up $good onlyone]
    list [dict get $r code] [dict get $r out]
} {1 {Error: Expected either both a source and a target, or neither.}}

test {launcher-cli-4.1 every template loads} {
    set out {}
    foreach f [lsort [glob [file join $::harness::root templates *.yaml]]] {
        set r [launcher get-worker-ips $f]
        lappend out [file tail $f] [dict get $r code]
    }
    set out
} {demo.yaml 0 full.yaml 0 minimal.yaml 0}

# ---------------------------------------------------------------------------
# Empty files and Ray's own example files (tests/fixtures/ray_local, copied
# unmodified from ray-project/ray under the Apache License 2.0)
# ---------------------------------------------------------------------------

test {launcher-cli-5.1 up and down of an empty or comment-only file say it is empty} {
    set out {}
    foreach {name text} [list empty.yaml "" comments.yaml "# nothing here\n\n   # yet\n"] {
        set f [yaml $name $text]
        foreach cmd {up down} {
            set r [launcher $cmd $f -y]
            lappend out [dict get $r code] [dict get $r out]
        }
    }
    set out
} [list 1 "Error: $dir/empty.yaml: the cluster config file is empty (nothing but comments or blank lines)" \
        1 "Error: $dir/empty.yaml: the cluster config file is empty (nothing but comments or blank lines)" \
        1 "Error: $dir/comments.yaml: the cluster config file is empty (nothing but comments or blank lines)" \
        1 "Error: $dir/comments.yaml: the cluster config file is empty (nothing but comments or blank lines)"]

set ray_examples [file join $::harness::root tests fixtures ray_local]

# Copies Ray's example NAME into the suite's dir with the string map MAP
# applied; returns the path.
proc ray_example {name {map {}}} {
    return [yaml $name [string map $map [file_read [file join $::ray_examples $name]]]]
}

test {launcher-cli-5.2 development-example.yaml loads; its second setup_commands wins with a warning} {
    set f [ray_example development-example.yaml]
    set load [launcher get-worker-ips $f]
    set up [launcher up $f -y]
    assert_match "*Error: cannot resolve provider.head_ip YOUR_HEAD_NODE_HOSTNAME*" [dict get $up out]
    list [dict get $load code] [dict get $up code] \
        [lindex [split [dict get $up out] \n] 0]
} [list 0 1 "Warning: $dir/development-example.yaml:26:1: duplicate key \"setup_commands\" (first on line 23); the value on line 26 is used, as Ray does"]

test {launcher-cli-5.3 example-minimal-manual.yaml loads with its placeholder hosts} {
    set r [launcher get-worker-ips [ray_example example-minimal-manual.yaml]]
    list [dict get $r code] [dict get $r out]
} {0 {}}

test {launcher-cli-5.4 example-full.yaml: its worker-count placeholders get one line, filled in it loads} {
    set r1 [launcher get-worker-ips [ray_example example-full.yaml]]
    set r2 [launcher get-worker-ips [ray_example example-full.yaml \
        {TYPICALLY_THE_NUMBER_OF_WORKER_IPS 2}]]
    list [dict get $r1 code] [dict get $r1 out] [dict get $r2 code] [dict get $r2 out]
} [list 1 "Error: $dir/example-full.yaml:52:14: min_workers: expected an integer, got a string (TYPICALLY_THE_NUMBER_OF_WORKER_IPS is a placeholder from Ray's example: put a value there or remove the line)" 0 {}]

test {launcher-cli-5.5 example-minimal-automatic.yaml: head_node_type {} passes, only the coordinator is refused} {
    set r1 [launcher get-worker-ips [ray_example example-minimal-automatic.yaml]]
    set r2 [launcher get-worker-ips [ray_example example-minimal-automatic.yaml \
        [list "coordinator_address: COORDINATOR_HOST:COORDINATOR_PORT" \
              "head_ip: 10.255.255.1\n    worker_ips: \[10.255.255.2, 10.255.255.3\]"]]]
    list [dict get $r1 code] [dict get $r1 out] [dict get $r2 code] [dict get $r2 out]
} [list 1 "Error: $dir/example-minimal-automatic.yaml:15:26: provider.coordinator_address: automatically managed on-premise clusters (a coordinator server) are not supported by rayc; list the hosts in head_ip and worker_ips" 0 {}]

suite_end

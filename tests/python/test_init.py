"""ray.init / ray.shutdown / ray.is_initialized, joining clusters, the
cloudpickle check."""
import glob
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

import ray

PYTHON = sys.executable


@ray.remote
def where():
    return os.getpid()


def test_init_starts_private_node_and_shutdown_stops_it():
    assert not ray.is_initialized()
    ray.init(num_cpus=2)
    try:
        assert ray.is_initialized()
        node_dir = ray._node.tmp
        assert os.path.isdir(node_dir)
        assert ray.get(where.remote()) != os.getpid()
    finally:
        ray.shutdown()
    assert not ray.is_initialized()
    assert not os.path.exists(node_dir)


def test_private_node_takes_new_ports_when_a_picked_one_was_taken(monkeypatch):
    # The first try's dashboard port is taken before `ray start` binds it
    # (as any bind to port 0 on the host may do): the start is retried.
    from ray._private import node
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    real, picks = node._free_port, []

    def pick():
        picks.append(1)
        return busy.getsockname()[1] if len(picks) == 2 else real()
    monkeypatch.setattr(node, "_free_port", pick)
    try:
        ray.init(num_cpus=1)
        try:
            assert ray.get(where.remote()) != os.getpid()
            assert len(picks) == 6
        finally:
            ray.shutdown()
    finally:
        busy.close()


def test_ray_stop_elsewhere_leaves_the_private_node(tmp_path, monkeypatch):
    # A `ray stop` of the host's nodes (here a registry of the test's own,
    # so nodes of other runs on this host are left alone) must not stop
    # the node a driver's ray.init() owns: it has a registry of its own.
    registry = tmp_path / "registry"
    registry.mkdir(mode=0o700)
    monkeypatch.setenv("RAYC_NODE_REGISTRY", str(registry))
    ray.init(num_cpus=1)
    try:
        r = subprocess.run([os.path.join(os.environ["RAYC_BIN_DIR"], "ray"), "stop"],
                           env=os.environ, capture_output=True, text=True, timeout=120)
        assert "Did not find any active Ray processes." in r.stdout, r.stdout + r.stderr
        assert ray.get(where.remote(), timeout=60) != os.getpid()
    finally:
        ray.shutdown()


def test_private_node_stops_when_driver_exits(tmp_path):
    out = tmp_path / "dir"
    code = ("import ray\nray.init(num_cpus=1)\n"
            "open(%r, 'w').write(ray._node.tmp)\n" % str(out))
    r = subprocess.run([PYTHON, "-c", code], env=os.environ, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    node_dir = out.read_text()
    assert node_dir and not os.path.exists(node_dir)


def _node_pids(node_dir):
    """The pids the private node in NODE_DIR recorded (gcs_server, raylet, ...)."""
    pids = []
    for pid_dir in glob.glob(os.path.join(node_dir, "session_*", "node_*", "pids")):
        for name in os.listdir(pid_dir):
            with open(os.path.join(pid_dir, name)) as f:
                pids.append(int(f.read().split()[0]))
    return pids


def _alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_private_node_stops_when_driver_is_killed(tmp_path):
    out = tmp_path / "dir"
    code = ("import sys, ray\nray.init(num_cpus=1)\n"
            "open(%r, 'w').write(ray._node.tmp)\nprint('ready', flush=True)\n"
            "sys.stdin.read()\n" % str(out))
    p = subprocess.Popen([PYTHON, "-c", code], env=os.environ, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline() == "ready\n"
        node_dir = out.read_text()
        pids = _node_pids(node_dir)
        assert len(pids) >= 2 and all(_alive(q) for q in pids)
    finally:
        p.kill()
        p.wait()
    # The guard stops the node once the driver is gone; the bound only
    # keeps a broken guard from hanging the suite.
    deadline = time.monotonic() + 60
    while (any(_alive(q) for q in pids) or os.path.exists(node_dir)) and \
            time.monotonic() < deadline:
        time.sleep(0.05)
    assert [q for q in pids if _alive(q)] == [] and not os.path.exists(node_dir)


def test_ctrl_c_interrupts_get_and_the_node_stops(tmp_path):
    out = tmp_path / "dir"
    code = ("import ray\nray.init(num_cpus=1)\n"
            "@ray.remote\ndef f():\n    return 1\n"
            "open(%r, 'w').write(ray._node.tmp)\n"
            "try:\n    print('waiting', flush=True)\n"
            "    ray.get(f.options(resources={'none': 1}).remote())\n"
            "except KeyboardInterrupt:\n    print('interrupted', flush=True)\n" % str(out))
    p = subprocess.Popen([PYTHON, "-c", code], env=os.environ, stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline() == "waiting\n"
        p.send_signal(signal.SIGINT)
        assert p.stdout.readline() == "interrupted\n"
        assert p.wait(timeout=120) == 0
    finally:
        p.kill()
        p.wait()
    assert not os.path.exists(out.read_text())


def test_init_twice_raises_unless_ignored():
    ray.init(num_cpus=1)
    try:
        with pytest.raises(RuntimeError, match="ray.init twice"):
            ray.init()
        ray.init(ignore_reinit_error=True)
        assert ray.is_initialized()
    finally:
        ray.shutdown()


def test_get_before_init_is_a_clear_error():
    with pytest.raises(ray.exceptions.RaySystemError, match="ray.init"):
        ray.put(1)


def test_join_by_address(head):
    addr, env, _ = head
    old = os.environ.get("RAY_TMPDIR")
    os.environ["RAY_TMPDIR"] = env["RAY_TMPDIR"]
    try:
        ray.init(addr)
        assert ray._node is None
        assert ray.get(where.remote()) != os.getpid()
        ray.shutdown()
    finally:
        if old is None:
            os.environ.pop("RAY_TMPDIR")
        else:
            os.environ["RAY_TMPDIR"] = old


def test_join_with_ray_address_and_auto(head):
    addr, env, _ = head
    code = ("import ray\n@ray.remote\ndef f(x):\n    return x + 1\n"
            "ray.init()\nprint(ray.get(f.remote(41)))\nray.shutdown()\n"
            "ray.init('auto')\nprint(ray.get(f.remote(1)))\n")
    r = subprocess.run([PYTHON, "-c", code], env=dict(env, RAY_ADDRESS=addr),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["42", "2"]


def test_init_bad_address_is_one_clear_error():
    with pytest.raises(ConnectionError, match="cannot reach the GCS"):
        ray.init("127.0.0.1:1")
    assert not ray.is_initialized()


def test_init_with_num_cpus_on_existing_cluster_refused(head):
    addr, _, _ = head
    with pytest.raises(ValueError, match="num_cpus"):
        ray.init(addr, num_cpus=3)


def test_missing_cloudpickle_names_the_debian_package():
    code = "import sys\nsys.modules['cloudpickle'] = None\nimport ray\n"
    r = subprocess.run([PYTHON, "-c", code], env=os.environ, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 1
    assert r.stderr.strip().splitlines() == [
        "ray: the cloudpickle module is missing; install the Debian package python3-cloudpickle"]


def test_tiny_demo_example_runs():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, PYTHONPATH=os.path.join(root, "python"))
    env.pop("RAY_ADDRESS", None)
    r = subprocess.run([PYTHON, os.path.join(root, "examples", "python", "tiny_demo.py")],
                       env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "[0, 1, 4, 9, 16, 25, 36, 49]"
    assert lines[2] == "3^2 + 4^2 = 25"

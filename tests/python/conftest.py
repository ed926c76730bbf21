"""Fixtures for rayc's Python suite.  Run from the checkout:

    PYTHONPATH=python /usr/bin/python3 -m pytest tests/python

tests/integration/python_api.tcl runs it under tests/run.tcl (each pytest
test counts as one test there).  Each module gets its own private local node
(ray.init() without an address), so modules do not share state."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python"))
os.environ.setdefault("RAYC_BIN_DIR", os.path.join(ROOT, "bin"))

import ray  # noqa: E402


@pytest.fixture(scope="module")
def ray_local():
    """A private local node with 4 CPUs for the module."""
    ray.init(num_cpus=4)
    yield
    ray.shutdown()


@pytest.fixture
def head(tmp_path):
    """A cluster started with `ray start --head` in a temp dir of its own;
    yields (address, env for processes that should find it, dashboard port)."""
    env = dict(os.environ, RAY_TMPDIR=str(tmp_path))
    env.pop("RAY_ADDRESS", None)
    port, dash = _free_port(), _free_port()
    bin_ray = os.path.join(os.environ["RAYC_BIN_DIR"], "ray")
    subprocess.run([bin_ray, "start", "--head", "--node-ip-address", "127.0.0.1", "--port",
                    str(port), "--dashboard-port", str(dash),
                    "--dashboard-agent-listen-port", str(_free_port()), "--num-cpus", "2"],
                   env=env, check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    yield "127.0.0.1:%d" % port, env, dash
    subprocess.run([bin_ray, "stop"], env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def _free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

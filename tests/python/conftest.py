"""Fixtures for rayc's Python suite.  Run from the checkout:

    PYTHONPATH=python /usr/bin/python3 -m pytest tests/python

tests/integration/python_api.tcl runs it under tests/run.tcl (each pytest
test counts as one test there).  Each module gets its own private local node
(ray.init() without an address), so modules do not share state.

Every test runs under a hang guard (RAYC_PYTEST_HANG_S, 180 s): a test
still running then fails with the Python stacks of all threads (ray.get
and ray.wait check signals while they wait), and should even that not
return, faulthandler prints the stacks and ends pytest 60 s later.  The
bound only turns a hang into a readable failure; it decides nothing else."""
import faulthandler
import os
import signal
import subprocess
import sys
import threading
import traceback

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
    # A registry of its own: the fixture's `ray stop` stops this head only,
    # not other suites' nodes on the host.
    env = dict(os.environ, RAY_TMPDIR=str(tmp_path),
               RAYC_NODE_REGISTRY=str(tmp_path / "node_registry"))
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



HANG_S = float(os.environ.get("RAYC_PYTEST_HANG_S", "180"))


class HangError(Exception):
    pass


def _all_stacks():
    names = {t.ident: t.name for t in threading.enumerate()}
    parts = []
    for ident, frame in sys._current_frames().items():
        parts.append("Thread %s (%s):\n%s" % (ident, names.get(ident, "?"),
                                              "".join(traceback.format_stack(frame))))
    return "\n".join(parts)


@pytest.fixture(autouse=True)
def hang_guard():
    def on_alarm(signum, frame):
        raise HangError("the test ran past the %g s hang guard; the stacks then:\n%s"
                        % (HANG_S, _all_stacks()))
    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, HANG_S)
    faulthandler.dump_traceback_later(HANG_S + 60, exit=True)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        faulthandler.cancel_dump_traceback_later()

"""Fixtures for Ray Serve's pytest suite (tests/integration/python_serve.tcl
runs it).  Each module gets its own private local node and Serve instance
with its HTTP proxy on a free port; the hang guard is the one of
tests/python (a test still running after RAYC_PYTEST_HANG_S fails with the
stacks of all threads)."""
import os
import socket
import sys
import time
import urllib.error
import urllib.request

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "python"))
os.environ.setdefault("RAYC_BIN_DIR", os.path.join(ROOT, "bin"))
# A node registry of this run's own: a plain `ray stop` run by another
# suite on this host (it stops every node in the registry) then leaves
# this suite's nodes alone.
if "RAYC_NODE_REGISTRY" not in os.environ:
    import tempfile
    os.environ["RAYC_NODE_REGISTRY"] = os.path.join(
        tempfile.mkdtemp(prefix="rayc_serve_reg_"), "nodes")

import importlib.util  # noqa: E402

import ray  # noqa: E402

_spec = importlib.util.spec_from_file_location(
    "python_conftest", os.path.join(ROOT, "tests", "python", "conftest.py"))
_python_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_python_conftest)
hang_guard = _python_conftest.hang_guard  # the autouse hang guard of tests/python


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def serve_instance():
    """A private local node with Serve started; yields the proxy's base URL."""
    from ray import serve
    ray.init(num_cpus=16)
    port = free_port()
    try:
        serve.start(http_options={"host": "127.0.0.1", "port": port})
    except Exception as e:
        raise RuntimeError("serve.start failed: %s\n%s" % (e, _log_tails())) from None
    yield "http://127.0.0.1:%d" % port
    serve.shutdown()
    ray.shutdown()


def _log_tails():
    """The ends of the local node's daemon logs (for a failure's text)."""
    import glob
    node = getattr(ray, "_node", None)
    out = []
    for f in sorted(glob.glob(os.path.join(node.tmp, "session_latest", "node_*", "logs",
                                           "*.log")) if node and node.tmp else []):
        if "worker" in os.path.basename(f):
            continue
        with open(f, errors="replace") as fh:
            out.append("== %s\n%s" % (f, fh.read()[-2000:]))
    return "\n".join(out)


def http(url, data=None, method=None, headers=None):
    """(status, body bytes, headers by lower-case name) of one HTTP request."""
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read(), {k.lower(): v for k, v in r.headers.items()}
    except urllib.error.HTTPError as e:
        return e.code, e.read(), {k.lower(): v for k, v in e.headers.items()}


def wait_for(pred, what, timeout=60.0):
    """Polls PRED until it returns a true value (returned); fails after
    TIMEOUT seconds naming WHAT (a hang bound only)."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > end:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.05)

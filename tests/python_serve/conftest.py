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
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    yield "http://127.0.0.1:%d" % port
    serve.shutdown()
    ray.shutdown()


def http(url, data=None, method=None, headers=None):
    """(status, body bytes, headers) of one HTTP request."""
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read(), dict(e.headers)


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

"""Fixtures for the Ray Data suite.  Run from the checkout:

    PYTHONPATH=python /usr/bin/python3 -m pytest tests/python_data

tests/integration/python_data.tcl runs it under tests/run.tcl (each pytest
test counts as one test there).  Each module gets its own private local node
(ray.init() without an address), so modules do not share state; the
streaming test starts its own node with a small object store.

Every test runs under a hang guard (RAYC_PYTEST_HANG_S, 180 s): a test
still running then fails with the Python stacks of all threads (ray.get
and ray.wait check signals while they wait), and should even that not
return, faulthandler prints the stacks and ends pytest 60 s later.  The
bound only turns a hang into a readable failure; it decides nothing else."""
import importlib.util
import os
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


# The autouse hang guard of tests/python, loaded from its conftest.
_spec = importlib.util.spec_from_file_location(
    "python_conftest", os.path.join(ROOT, "tests", "python", "conftest.py"))
_python_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_python_conftest)
hang_guard = _python_conftest.hang_guard

"""`ray microbenchmark --python` (ray._private.ray_perf) runs every metric on
rayc and, with Debian's python3-distributed, the same ones in Dask, and
prints Ray's metric names with their rates.  The figures are not checked:
only that each was measured (a positive rate)."""
import os
import re
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
METRICS = ["single_client_tasks_sync", "single_client_tasks_async", "1_1_actor_calls_sync",
           "1_1_actor_calls_async", "single_client_get_calls", "single_client_put_calls"]


def run_bench(*extra):
    env = dict(os.environ)
    env.pop("RAY_ADDRESS", None)
    env.pop("PYTHONPATH", None)  # the CLI finds the checkout's package itself
    r = subprocess.run([os.path.join(os.environ["RAYC_BIN_DIR"], "ray"), "microbenchmark",
                        "--python", "--seconds", "0.05", "--repeat", "1", "--large-mib", "8",
                        *extra], env=env, capture_output=True, text=True, timeout=170)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def rate(out, name):
    m = re.search(r"^%s per second ([0-9.]+) \+- " % re.escape(name), out, re.M)
    assert m, "no line for %s in:\n%s" % (name, out)
    return float(m.group(1))


def test_python_microbenchmark_measures_every_metric():
    out = run_bench("--no-dask")
    for name in METRICS:
        assert rate(out, name) > 0
    assert re.search(r"^rayc put of a 8 MiB numpy array: [0-9.]+ GB/s; memcpy", out, re.M), out


def test_python_microbenchmark_runs_dask_beside():
    pytest.importorskip("distributed", reason="Debian's python3-distributed is not installed")
    out = run_bench()
    for name in METRICS:
        assert rate(out, "dask " + name) > 0
        assert re.search(r"^%s +[0-9]+ +[0-9]+ +[0-9.]+ +[0-9]+$" % name, out, re.M), out


def test_bad_options_are_one_line_errors():
    r = subprocess.run([os.path.join(os.environ["RAYC_BIN_DIR"], "ray"), "microbenchmark",
                        "--python", "--seconds", "0"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 2
    assert "must be positive" in r.stderr.strip().splitlines()[-1]

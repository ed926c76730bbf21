"""The Python examples in examples/python run as their comments say."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_example(name):
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"))
    env.pop("RAY_ADDRESS", None)
    r = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "python", name)],
                       env=env, capture_output=True, text=True, timeout=170)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout.splitlines()


def test_actors_example():
    assert run_example("actors.py") == ["[10, 10, 10, 10]", "shared counter: [1, 2, 3]"]


def test_objects_example():
    assert run_example("objects.py") == ["sum of all elements: 49999995000000.0",
                                         "same as numpy: True",
                                         "read-only view: True (1000, 10000)"]


@pytest.mark.skipif(not os.path.exists(os.path.join(ROOT, "examples", "tiny_demo",
                                                    "libtiny_demo_tasks.so")),
                    reason="examples/tiny_demo/libtiny_demo_tasks.so is not built (run make)")
def test_cross_language_example():
    assert run_example("cross_language.py") == ["[0, 1, 4, 9, 16, 25, 36, 49]",
                                                "3^2 + 4^2 = 25"]

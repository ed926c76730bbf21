"""The Serve examples in examples/python run as their comments say."""
import os
import subprocess
import sys

from conftest import ROOT, free_port


def run_example(name, *args):
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"),
               RAY_SERVE_DEFAULT_HTTP_PORT=str(free_port()))
    env.pop("RAY_ADDRESS", None)
    r = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "python", name),
                        *args], env=env, capture_output=True, text=True, timeout=170)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout.splitlines()


def test_serve_example():
    assert run_example("serve.py") == [
        "{'text': 'ray serve is fast', 'label': 'positive'}",
        "{'text': 'a plain sentence', 'label': 'neutral'}"]

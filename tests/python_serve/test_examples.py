"""The Serve examples in examples/python run as their comments say."""
import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT, free_port, http, wait_for

RAY = os.path.join(ROOT, "bin", "ray")


def run_example(name, *args, port=None, address=None):
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"),
               RAY_SERVE_DEFAULT_HTTP_PORT=str(port or free_port()))
    env.pop("RAY_ADDRESS", None)
    if address:
        env["RAY_ADDRESS"] = address
    r = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "python", name),
                        *args], env=env, capture_output=True, text=True, timeout=170)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout.splitlines()


def test_serve_example():
    assert run_example("serve.py") == [
        "{'text': 'ray serve is fast', 'label': 'positive'}",
        "{'text': 'a plain sentence', 'label': 'neutral'}"]


def _refused(url):
    try:
        http(url)
    except OSError:
        return True
    return False


def test_serve_example_keep_running_leaves_the_application_on_the_cluster(tmp_path):
    """`serve.py --keep-running` against a started cluster (as `make demo`
    submits it): the application answers after the script ended, until
    `serve shutdown`."""
    env = dict(os.environ, RAY_TMPDIR=str(tmp_path))
    env.pop("RAY_ADDRESS", None)
    gcs = "127.0.0.1:%d" % free_port()
    subprocess.run([RAY, "start", "--head", "--port", gcs.split(":")[1], "--node-ip-address",
                    "127.0.0.1", "--dashboard-port", str(free_port()),
                    "--dashboard-agent-listen-port", str(free_port()), "--num-cpus", "4"],
                   env=env, check=True, capture_output=True)
    try:
        port = free_port()
        out = run_example("serve.py", "--keep-running", port=port, address=gcs)
        assert out[-1] == ("The application keeps running at /classify "
                           "(`serve shutdown` stops it).")
        status, body, _ = http("http://127.0.0.1:%d/classify?text=good%%20news" % port)
        assert (status, json.loads(body)) == (200, {"text": "good news", "label": "positive"})
        r = subprocess.run([os.path.join(ROOT, "bin", "serve"), "shutdown", "-y",
                            "--address", gcs], env=env, capture_output=True, text=True,
                           timeout=170)
        assert r.returncode == 0, r.stdout + r.stderr
        wait_for(lambda: _refused("http://127.0.0.1:%d/-/healthz" % port), "the proxy gone")
    finally:
        subprocess.run([RAY, "stop"], env=env, capture_output=True)


def _has(module):
    import importlib.util
    return importlib.util.find_spec(module) is not None


@pytest.mark.skipif(not (_has("torchvision") and _has("PIL")),
                    reason="torchvision is not installed (python3-torchvision)")
def test_serve_torchvision_example_matches_the_model_run_locally(tmp_path):
    """The served classifier answers what the same model with the same local
    weights file computes in this process."""
    import asyncio
    import importlib.util
    import io
    import json

    import torch
    import torchvision
    from PIL import Image
    torch.manual_seed(7)
    weights = str(tmp_path / "resnet18.pth")
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), weights)
    lines = run_example("serve_torchvision.py", "--weights", weights)
    spec = importlib.util.spec_from_file_location(
        "serve_torchvision", os.path.join(ROOT, "examples", "python", "serve_torchvision.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    local = mod.ImageClassifier.func_or_class(weights)

    async def expected():
        images = [Image.open(io.BytesIO(b)).convert("RGB") for b in mod.sample_images()]
        return await asyncio.gather(*[local.classify(im) for im in images])
    want = asyncio.run(expected())
    got = [json.loads(line) for line in lines]
    assert [g["class_id"] for g in got] == [w["class_id"] for w in want]
    for g, w in zip(got, want):
        assert abs(g["score"] - w["score"]) < 1e-4

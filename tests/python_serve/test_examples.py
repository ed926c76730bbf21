"""The Serve examples in examples/python run as their comments say."""
import os
import subprocess
import sys

import pytest

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

"""Ray Serve: a model behind HTTP (the introduction's Serve demo).

    PYTHONPATH=python python3 examples/python/serve.py

Two deployments: a Preprocessor and a Classifier that calls it through a
DeploymentHandle (model composition).  serve.run starts the HTTP proxy on
127.0.0.1:8000 (RAY_SERVE_DEFAULT_HTTP_PORT changes the port); the script
then asks it over HTTP, as `curl "http://127.0.0.1:8000/classify?text=..."`
would, and prints the answers.

    python3 serve.py --keep-running

leaves the application running when the script ends (on a cluster, e.g.
submitted with `ray job submit`: the Serve controller outlives the
driver, as in Ray); `serve shutdown` stops it then."""
import argparse
import json
import os
import urllib.parse
import urllib.request

from starlette.requests import Request

import ray
from ray import serve


@serve.deployment
class Preprocessor:
    def normalize(self, text: str) -> str:
        return " ".join(text.lower().split())


@serve.deployment(num_replicas=2)
class Classifier:
    def __init__(self, preprocessor):
        self.preprocessor = preprocessor
        self.positive = {"good", "great", "fast", "love"}

    async def __call__(self, request: Request) -> dict:
        text = await self.preprocessor.normalize.remote(request.query_params["text"])
        score = sum(w in self.positive for w in text.split())
        return {"text": text, "label": "positive" if score else "neutral"}


def main():
    p = argparse.ArgumentParser(description="Ray Serve's introduction demo")
    p.add_argument("--keep-running", action="store_true",
                   help="leave the application running when the script ends")
    keep = p.parse_args().keep_running
    ray.init()
    serve.run(Classifier.bind(Preprocessor.bind()), route_prefix="/classify")
    port = int(os.environ.get("RAY_SERVE_DEFAULT_HTTP_PORT", "8000"))
    for text in ["Ray  Serve is FAST", "a plain sentence"]:
        url = "http://127.0.0.1:%d/classify?text=%s" % (port, urllib.parse.quote(text))
        with urllib.request.urlopen(url) as r:
            print(json.loads(r.read()))
    if keep:
        print("The application keeps running at /classify (`serve shutdown` stops it).")
    else:
        serve.shutdown()
    ray.shutdown()


if __name__ == "__main__":
    main()

"""Ray Serve: an image classifier (torchvision ResNet-18) behind HTTP,
batched with @serve.batch (the introduction's torchvision demo).

    PYTHONPATH=python python3 examples/python/serve_torchvision.py [--weights W.pth] [IMAGE...]

The weights come from a local state_dict file (--weights, e.g. torchvision's
resnet18-f37072fd.pth copied here); without one the model has untrained
weights: nothing is downloaded.  Each IMAGE (default: two generated
pictures) is POSTed to /classify, all at once so that the replica can batch
them; each answer is {"class_id": ..., "score": ...}."""
import argparse
import concurrent.futures
import io
import json
import os
import urllib.request

from starlette.requests import Request

import ray
from ray import serve


@serve.deployment(max_ongoing_requests=32)
class ImageClassifier:
    def __init__(self, weights=None):
        import torch
        import torchvision
        from torchvision import transforms
        torch.set_num_threads(1)
        self.torch = torch
        self.model = torchvision.models.resnet18(weights=None)
        if weights:
            self.model.load_state_dict(torch.load(weights, map_location="cpu"))
        self.model.eval()
        self.preprocess = transforms.Compose([
            transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(),
            transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])])

    @serve.batch(max_batch_size=8, batch_wait_timeout_s=0.05)
    async def classify(self, images):
        batch = self.torch.stack([self.preprocess(im) for im in images])
        with self.torch.no_grad():
            probs = self.model(batch).softmax(dim=1)
        scores, ids = probs.max(dim=1)
        return [{"class_id": int(i), "score": round(float(s), 6)} for i, s in zip(ids, scores)]

    async def __call__(self, request: Request):
        from PIL import Image
        image = Image.open(io.BytesIO(await request.body())).convert("RGB")
        return await self.classify(image)


def sample_images():
    """Two generated pictures (PNG bytes)."""
    from PIL import Image
    out = []
    for color in [(200, 30, 30), (30, 30, 200)]:
        im = Image.new("RGB", (320, 240), color)
        for x in range(0, 320, 16):
            for y in range(240):
                im.putpixel((x, y), (255, 255, 255))
        buf = io.BytesIO()
        im.save(buf, format="PNG")
        out.append(buf.getvalue())
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--weights", help="a local ResNet-18 state_dict file")
    p.add_argument("images", nargs="*")
    o = p.parse_args()
    if o.weights and not os.path.exists(o.weights):
        p.error("no such weights file: %s" % o.weights)
    images = [open(f, "rb").read() for f in o.images] if o.images else sample_images()
    ray.init()
    serve.run(ImageClassifier.bind(os.path.abspath(o.weights) if o.weights else None),
              route_prefix="/classify")
    port = int(os.environ.get("RAY_SERVE_DEFAULT_HTTP_PORT", "8000"))

    def post(data):
        req = urllib.request.Request("http://127.0.0.1:%d/classify" % port, data=data,
                                     headers={"content-type": "application/octet-stream"})
        with urllib.request.urlopen(req, timeout=300) as r:
            return json.loads(r.read())
    with concurrent.futures.ThreadPoolExecutor(len(images)) as pool:
        for answer in pool.map(post, images):
            print(json.dumps(answer, sort_keys=True))
    serve.shutdown()
    ray.shutdown()


if __name__ == "__main__":
    main()

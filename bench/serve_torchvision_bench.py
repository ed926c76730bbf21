"""The introduction's torchvision demo under load, with and without
@serve.batch (run by bench/serve_torchvision.sh, which documents it).

    serve_torchvision_bench.py REQUESTS CONCURRENCY REPLICAS ROUNDS

Both applications run at once from examples/python/serve_torchvision.py:
"batch" is its ImageClassifier as it is (@serve.batch, max_batch_size 8);
"single" is the same class, same weights, same replica count, whose
__call__ calls the undecorated classify with a list of one image.  Each
round sends CONCURRENCY warm-up requests then REQUESTS requests (CONCURRENCY
at a time, one keep-alive connection per client thread) to each, in turn,
and prints one row per application: images/s, p50 and p99 latency, and the
replicas' CPU time per image (from /proc, which the machine's load changes
far less than images/s).  The image is a 224x224 JPEG made here with
Pillow; nothing is downloaded.  Prints numbers, asserts nothing."""
import http.client
import io
import os
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "examples", "python"))

import cloudpickle  # noqa: E402
import serve_torchvision  # noqa: E402

import ray  # noqa: E402
from ray import serve  # noqa: E402

# The workers cannot import the example module: its classes travel by value.
cloudpickle.register_pickle_by_value(serve_torchvision)

TICK = os.sysconf("SC_CLK_TCK")
Batched = serve_torchvision.ImageClassifier.func_or_class
classify_one_list = Batched.classify.__wrapped__


class BatchedWithPid(Batched):
    def pid(self):
        return os.getpid()


class Single(BatchedWithPid):
    """The example's model and preprocessing, one image per forward pass."""

    async def __call__(self, request):
        from PIL import Image
        image = Image.open(io.BytesIO(await request.body())).convert("RGB")
        return (await classify_one_list(self, [image]))[0]


def jpeg():
    from PIL import Image
    im = Image.new("RGB", (224, 224))
    im.putdata([((x * 7) % 256, (y * 5) % 256, ((x + y) * 3) % 256)
                for y in range(224) for x in range(224)])
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def cpu_seconds(pids):
    total = 0.0
    for pid in pids:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / TICK
    return total


def load(port, path, body, requests, concurrency):
    """Sends REQUESTS posts, CONCURRENCY at a time; returns (seconds,
    latencies, errors)."""
    lock = threading.Lock()
    left = [requests]
    lat, errors = [], []

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        while True:
            with lock:
                if left[0] == 0:
                    break
                left[0] -= 1
            t0 = time.perf_counter()
            try:
                conn.request("POST", path, body, {"content-type": "image/jpeg"})
                r = conn.getresponse()
                text = r.read()
                ok = r.status == 200 and b"class_id" in text
            except (OSError, http.client.HTTPException) as e:
                ok, text = False, str(e).encode()
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
            dt = time.perf_counter() - t0
            with lock:
                (lat if ok else errors).append(dt if ok else text[:200])
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0, sorted(lat), errors


def pct(sorted_vals, p):
    if not sorted_vals:
        return float("nan")
    return sorted_vals[min(len(sorted_vals) - 1, int(p / 100.0 * len(sorted_vals)))]


def main():
    requests, concurrency, replicas, rounds = (int(a) for a in sys.argv[1:5])
    port = int(os.environ.get("RAY_SERVE_DEFAULT_HTTP_PORT", "8000"))
    # Both applications' replicas (1 CPU each) fit at once.
    ray.init(num_cpus=max(os.cpu_count() or 1, 2 * replicas))
    serve.start(http_options={"port": port})
    apps = {}
    for name, cls in (("batch", BatchedWithPid), ("single", Single)):
        dep = serve.deployment(cls, name=name, num_replicas=replicas, max_ongoing_requests=32)
        h = serve.run(dep.bind(), name=name, route_prefix="/" + name)
        pids = sorted({h.pid.remote().result(timeout_s=300) for _ in range(8 * replicas)})
        apps[name] = pids
    body = jpeg()
    print("image: %d-byte JPEG 224x224; %d requests, %d concurrent, %d replica(s) each; "
          "model: torchvision resnet18, untrained weights, torch threads 1" %
          (len(body), requests, concurrency, replicas))
    print("%-8s %10s %10s %10s %16s %7s" % ("variant", "images/s", "p50 ms", "p99 ms",
                                            "replica CPU ms/img", "errors"))
    sys.stdout.flush()
    for _ in range(rounds):
        for name, pids in apps.items():
            load(port, "/" + name, body, concurrency, concurrency)  # warm-up
            c0 = cpu_seconds(pids)
            secs, lat, errors = load(port, "/" + name, body, requests, concurrency)
            cpu = cpu_seconds(pids) - c0
            print("%-8s %10.1f %10.1f %10.1f %16.1f %7d" % (
                name, len(lat) / secs, pct(lat, 50) * 1e3, pct(lat, 99) * 1e3,
                cpu * 1e3 / max(1, len(lat)), len(errors)))
            if errors:
                print("         first error: %r" % (errors[0],))
            sys.stdout.flush()
    serve.shutdown()
    ray.shutdown()


if __name__ == "__main__":
    main()

"""A Python driver for runtime_cluster's multi-host tests (run on one test
host with RAY_ADDRESS naming the head).  Prints one line per check:

    NODES n                      alive nodes
    SPREAD k                     distinct nodes 400 SPREAD tasks ran on
    WORKDIR k                    of those, the nodes where the task imported
                                 the runtime_env working_dir's module
    CRC node_id ok|wrong         a 200 MiB numpy array put here, summed by a
                                 task pinned to each other node
    REMOTELOG k                  other nodes whose task's print reached this
                                 node's forwarded worker logs (the driver
                                 then prints them as "(shout pid=N, ip=IP)")
"""
import os
import shutil
import tempfile
import time
import zlib

import numpy as np

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

# The driver works in a directory of its own and ships a working_dir; both
# are removed once ray.init() returns, so every node's workers must start
# elsewhere and import the module from the package in the cluster.
cwd = tempfile.mkdtemp(prefix="mh_cwd_")
wd = tempfile.mkdtemp(prefix="mh_wd_")
with open(os.path.join(wd, "mh_helper.py"), "w") as f:
    f.write("VALUE = 'from the working_dir'\n")
os.chdir(cwd)
ray.init(runtime_env={"working_dir": wd})
os.chdir("/")
shutil.rmtree(cwd)
shutil.rmtree(wd)
alive = [n["NodeID"] for n in ray.nodes() if n["Alive"]]
print("NODES", len(alive), flush=True)


@ray.remote(scheduling_strategy="SPREAD", num_cpus=0.1)
def where():
    import mh_helper
    return ray.get_runtime_context().get_node_id(), mh_helper.VALUE


ran = ray.get([where.remote() for _ in range(400)])
print("SPREAD", len({node for node, _ in ran}), flush=True)
print("WORKDIR", len({node for node, v in ran if v == "from the working_dir"}), flush=True)


@ray.remote(num_cpus=0.1)
def crc(arr):
    return ray.get_runtime_context().get_node_id(), zlib.crc32(arr)


arr = np.random.default_rng(7).integers(0, 256, 200 * 2 ** 20, dtype=np.uint8)
want = zlib.crc32(arr)
ref = ray.put(arr)
here = ray.get_runtime_context().get_node_id()
for node in alive:
    if node == here:
        continue
    s = NodeAffinitySchedulingStrategy(node_id=node, soft=False)
    ran_on, got = ray.get(crc.options(scheduling_strategy=s).remote(ref))
    print("CRC", node, "ok" if ran_on == node and got == want else "wrong", flush=True)


@ray.remote(num_cpus=0.1)
def shout():
    print("SHOUT from", ray.get_runtime_context().get_node_id(), flush=True)


others = [n for n in alive if n != here]
ray.get([shout.options(scheduling_strategy=NodeAffinitySchedulingStrategy(n, soft=False))
         .remote() for n in others])
# Wait for the event: each other node's print forwarded into this node's logs.
logs = os.path.join(ray._raylet.info()["node_dir"], "logs")
deadline = time.monotonic() + 120  # a hang guard only: the check is the count
seen = set()
while len(seen) < len(others) and time.monotonic() < deadline:
    for name in os.listdir(logs):
        if name.startswith("worker-remote-"):
            with open(os.path.join(logs, name), errors="replace") as f:
                text = f.read()
            seen.update(n for n in others if "SHOUT from " + n in text)
    time.sleep(0.1)
print("REMOTELOG", len(seen), flush=True)
ray.shutdown()

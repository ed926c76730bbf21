"""Python tasks spread over every node of a cluster.

    ray job submit --working-dir examples/python -- /usr/bin/python3 spread.py

(or `PYTHONPATH=python /usr/bin/python3 examples/python/spread.py` for a
private one-node run).  Each task reports the node it ran on; the driver
counts the tasks per node address.
"""
import collections

import ray

ray.init()
addresses = {n["NodeID"]: n["NodeManagerAddress"] for n in ray.nodes() if n["Alive"]}


@ray.remote(scheduling_strategy="SPREAD")
def where(i):
    return ray.get_runtime_context().get_node_id()


counts = collections.Counter(ray.get([where.remote(i) for i in range(12 * len(addresses))]))
print("%d alive nodes; tasks per node:" % len(addresses))
for node, n in sorted(counts.items(), key=lambda kv: addresses.get(kv[0], "")):
    print("  %s  %d tasks" % (addresses.get(node, node), n))
ray.shutdown()

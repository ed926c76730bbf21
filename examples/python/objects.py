"""Ray's objects demo with numpy, as Ray users write it.

    PYTHONPATH=python /usr/bin/python3 examples/python/objects.py

ray.put stores a value once in the node's shared-memory object store; tasks
given its ObjectRef read a large numpy array without copying it (the array
they see maps the store, read-only), as in Ray.
"""
import numpy as np

import ray

ray.init()

# 80 MB of float64, stored once.
matrix = np.arange(10_000_000, dtype=np.float64).reshape(1000, 10_000)
ref = ray.put(matrix)


@ray.remote
def row_sums(m, start, stop):
    # m arrives as a zero-copy, read-only view of the stored array
    return m[start:stop].sum(axis=1)


@ray.remote
def total(*parts):
    return float(sum(p.sum() for p in parts))


parts = [row_sums.remote(ref, i, i + 250) for i in range(0, 1000, 250)]
print("sum of all elements:", ray.get(total.remote(*parts)))  # 49999995000000.0
print("same as numpy:", ray.get(total.remote(*parts)) == matrix.sum())

fetched = ray.get(ref)
print("read-only view:", not fetched.flags.writeable, fetched.shape)  # True (1000, 10000)

ray.shutdown()

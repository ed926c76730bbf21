"""Ray's first demo (tasks), as Ray users write it.

    PYTHONPATH=python /usr/bin/python3 examples/python/tiny_demo.py

ray.init() without an address starts a private local node from this
build's bin/ and stops it when the program exits; with RAY_ADDRESS set (or
inside `ray job submit`) it joins that cluster instead.
"""
import time

import ray

ray.init()


@ray.remote
def square(x):
    time.sleep(0.1)  # a little work, so running in parallel shows
    return x * x


start = time.time()
futures = [square.remote(i) for i in range(8)]
print(ray.get(futures))  # [0, 1, 4, 9, 16, 25, 36, 49]
print("8 tasks of 0.1 s each took %.2f s" % (time.time() - start))


@ray.remote
def add(a, b):
    return a + b


# ObjectRefs as arguments: the task runs once both inputs exist.
total = add.remote(square.remote(3), square.remote(4))
print("3^2 + 4^2 =", ray.get(total))

ray.shutdown()

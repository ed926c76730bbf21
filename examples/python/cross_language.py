"""Calling a C task library from Python (ray.cross_language).

    make    # builds examples/tiny_demo/libtiny_demo_tasks.so
    PYTHONPATH=python /usr/bin/python3 examples/python/cross_language.py

The job's code search path names the directories (or .so files) of C task
libraries; its workers load them, and c_function("square") calls the
function that examples/tiny_demo/tiny_demo_tasks.c registers with
RAY_REMOTE(square).
"""
import os

import ray

here = os.path.dirname(os.path.abspath(__file__))
ray.init(job_config=ray.job_config.JobConfig(
    code_search_path=[os.path.join(here, "..", "tiny_demo")]))

square = ray.cross_language.c_function("square")
print([ray.get(square.remote(i)) for i in range(8)])  # [0, 1, 4, 9, 16, 25, 36, 49]


@ray.remote
def add(a, b):
    return a + b


# C results are plain ints; Python tasks take them like any value.
print("3^2 + 4^2 =", ray.get(add.remote(square.remote(3), square.remote(4))))

ray.shutdown()

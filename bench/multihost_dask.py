#!/usr/bin/python3
"""The Dask side of bench/multihost.sh's map-reduce.

    multihost_dask.py WORKERS M K RUNS

Starts a dask.distributed LocalCluster of WORKERS worker processes with one
thread each, then runs the same map-reduce as `multihost mapreduce M K`
(bench/multihost.c): M tasks each make a chunk of K uint64 values
(j * 2654435761 mod 2^32 for the chunk's indices j), M tasks each sum the
squares of one chunk (mod 2^64), one task adds the M partial sums (mod
2^64).  A warm-up run, then RUNS timed runs; the cluster's start is not
timed (as the rayc cluster's is not).  Prints

    dask_run I SECONDS
    dask TOTAL BEST_SECONDS

Needs Debian's python3-distributed and python3-numpy.
"""
import sys
import time

import numpy as np
from dask.distributed import Client, LocalCluster

MASK64 = (1 << 64) - 1


def mr_gen(i, k):
    j = np.arange(i * k, (i + 1) * k, dtype=np.uint64)
    return (j * np.uint64(2654435761)) & np.uint64(0xFFFFFFFF)


def mr_sumsq(v):
    return int(np.sum(v * v, dtype=np.uint64))


def mr_add(*partial):
    return sum(partial) & MASK64


def run_once(client, m, k):
    chunks = [client.submit(mr_gen, i, k, pure=False) for i in range(m)]
    partial = [client.submit(mr_sumsq, c, pure=False) for c in chunks]
    del chunks
    return client.submit(mr_add, *partial, pure=False).result()


def main():
    if len(sys.argv) != 5:
        sys.exit("usage: multihost_dask.py WORKERS M K RUNS")
    workers, m, k, runs = (int(a) for a in sys.argv[1:])
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=None, silence_logs=50) as cluster, \
            Client(cluster) as client:
        total = run_once(client, m, k)
        best = float("inf")
        for i in range(runs):
            t0 = time.monotonic()
            again = run_once(client, m, k)
            secs = time.monotonic() - t0
            print(f"dask_run {i} {secs:.4f}", flush=True)
            if again != total:
                sys.exit(f"multihost_dask: got {total}, then {again}")
            best = min(best, secs)
        print(f"dask {total} {best:.4f}", flush=True)


if __name__ == "__main__":
    main()

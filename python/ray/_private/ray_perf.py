"""Ray's Python microbenchmark on rayc, with Dask distributed beside it.

    python3 -m ray._private.ray_perf [--seconds S] [--large-mib N] [--no-dask]
    ray microbenchmark --python [the same options]

Runs Ray's core operations through the Python API on a private local node
(ray.init() without an address: 2 CPUs unless --num-cpus says otherwise)
and prints them with Ray's metric names, as `NAME per second X +- Y` (the
mean and spread of --repeat timings of about --seconds each).  Then, unless
--no-dask, the same operations in dask.distributed (Debian's
python3-distributed: a LocalCluster of as many worker processes, one thread
each) in the same run, and a table of both with rayc/Dask ratios.  The
large put is `ray.put` of an N MiB numpy array against a plain memcpy of it
(np.copyto into a preallocated array) in the same process.

Numbers are printed, never checked: the machine's noise is not a verdict.
"""
import argparse
import statistics
import sys
import time

import numpy as np

TARGETS = {  # issue 11's targets, printed beside the figures
    "single_client_tasks_sync": 5000,
    "single_client_tasks_async": 20000,
    "1_1_actor_calls_sync": 5000,
    "1_1_actor_calls_async": 20000,
    "single_client_get_calls": 50000,
    "single_client_put_calls": 50000,
}
BATCH = 1000  # calls in flight in the async benchmarks


def timeit(name, fn, multiplier, seconds, repeat):
    """Runs FN (which does MULTIPLIER operations) for about SECONDS, REPEAT
    times; prints and returns (mean, sd) operations per second."""
    fn()  # warm up: workers started, functions exported
    rates = []
    for _ in range(repeat):
        n = 0
        t0 = time.perf_counter()
        while True:
            fn()
            n += 1
            elapsed = time.perf_counter() - t0
            if elapsed >= seconds:
                break
        rates.append(n * multiplier / elapsed)
    mean = statistics.mean(rates)
    sd = statistics.stdev(rates) if len(rates) > 1 else 0.0
    print("%s per second %.2f +- %.2f" % (name, mean, sd), flush=True)
    return mean, sd


def large_put_ratio(put, mib, label, runs=3):
    """PUT of an MIB MiB array against a memcpy of it, each the best of RUNS
    after a warm-up (the first put also faults in fresh shared memory):
    (put GB/s, memcpy GB/s)."""
    arr = np.ones(mib * 1024 * 1024 // 8, dtype=np.float64)
    dst = np.empty_like(arr)
    copy_s = put_s = float("inf")
    for _ in range(runs + 1):
        t0 = time.perf_counter()
        np.copyto(dst, arr)
        copy_s = min(copy_s, time.perf_counter() - t0)
    del dst
    put(arr)  # warm-up (the ref is dropped at once)
    for _ in range(runs):
        t0 = time.perf_counter()
        ref = put(arr)
        put_s = min(put_s, time.perf_counter() - t0)
        del ref
    gb = arr.nbytes / 1e9
    print("%s put of a %d MiB numpy array: %.2f GB/s; memcpy %.2f GB/s (%.0f %%)"
          % (label, mib, gb / put_s, gb / copy_s, 100.0 * copy_s / put_s), flush=True)
    return gb / put_s, gb / copy_s


def bench_rayc(args):
    import ray

    ray.init(num_cpus=args.num_cpus, log_to_driver=False)

    @ray.remote
    def small_value():
        return b"ok"

    @ray.remote
    class Actor:
        def small_value(self):
            return b"ok"

    out = {}
    s, r = args.seconds, args.repeat
    out["single_client_tasks_sync"] = timeit(
        "single_client_tasks_sync", lambda: ray.get(small_value.remote()), 1, s, r)
    out["single_client_tasks_async"] = timeit(
        "single_client_tasks_async",
        lambda: ray.get([small_value.remote() for _ in range(BATCH)]), BATCH, s, r)
    a = Actor.remote()
    out["1_1_actor_calls_sync"] = timeit(
        "1_1_actor_calls_sync", lambda: ray.get(a.small_value.remote()), 1, s, r)
    out["1_1_actor_calls_async"] = timeit(
        "1_1_actor_calls_async",
        lambda: ray.get([a.small_value.remote() for _ in range(BATCH)]), BATCH, s, r)
    value = ray.put(0)
    out["single_client_get_calls"] = timeit(
        "single_client_get_calls", lambda: ray.get(value), 1, s, r)
    out["single_client_put_calls"] = timeit(
        "single_client_put_calls", lambda: ray.put(0), 1, s, r)
    out["large_put"] = large_put_ratio(ray.put, args.large_mib, "rayc")
    ray.shutdown()
    return out


class DaskActor:
    def small_value(self):
        return b"ok"


def dask_small_value(_=None):
    return b"ok"


def bench_dask(args):
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        print("dask: not installed (Debian's python3-distributed); skipped", flush=True)
        return None
    out = {}
    s, r = args.seconds, args.repeat
    with LocalCluster(n_workers=args.num_cpus, threads_per_worker=1, processes=True,
                      dashboard_address=None, silence_logs=50) as cluster, \
            Client(cluster) as client:
        out["single_client_tasks_sync"] = timeit(
            "dask single_client_tasks_sync",
            lambda: client.submit(dask_small_value, pure=False).result(), 1, s, r)
        out["single_client_tasks_async"] = timeit(
            "dask single_client_tasks_async",
            lambda: client.gather(client.map(dask_small_value, range(BATCH), pure=False)),
            BATCH, s, r)
        a = client.submit(DaskActor, actor=True).result()
        out["1_1_actor_calls_sync"] = timeit(
            "dask 1_1_actor_calls_sync", lambda: a.small_value().result(), 1, s, r)
        out["1_1_actor_calls_async"] = timeit(
            "dask 1_1_actor_calls_async",
            lambda: [f.result() for f in [a.small_value() for _ in range(BATCH)]], BATCH, s, r)
        value = client.scatter(0, hash=False)
        out["single_client_get_calls"] = timeit(
            "dask single_client_get_calls", lambda: value.result(), 1, s, r)
        out["single_client_put_calls"] = timeit(
            "dask single_client_put_calls", lambda: client.scatter(0, hash=False), 1, s, r)
        out["large_put"] = large_put_ratio(lambda v: client.scatter(v, hash=False),
                                           args.large_mib, "dask")
    return out


def print_table(rayc, dask):
    print()
    print("%-28s %14s %14s %10s %10s" % ("metric", "rayc /s", "dask /s", "rayc/dask", "target"))
    for name, target in TARGETS.items():
        mine = rayc[name][0]
        theirs = dask[name][0] if dask else float("nan")
        ratio = mine / theirs if dask and theirs > 0 else float("nan")
        print("%-28s %14.0f %14.0f %10.1f %10d" % (name, mine, theirs, ratio, target))
    gbs, memcpy = rayc["large_put"]
    line = "%-28s %11.2f GB/s" % ("large_put (rayc)", gbs)
    line += " = %.0f %% of memcpy" % (100.0 * gbs / memcpy)
    if dask:
        line += "; dask %.2f GB/s (rayc/dask %.1f)" % (dask["large_put"][0],
                                                       gbs / dask["large_put"][0])
    print(line, flush=True)


def main(argv=None):
    p = argparse.ArgumentParser(prog="ray microbenchmark --python",
                                description="Ray's Python microbenchmark on rayc, beside Dask.")
    p.add_argument("--seconds", type=float, default=1.0, help="length of one timing (1.0)")
    p.add_argument("--repeat", type=int, default=3, help="timings per metric (3)")
    p.add_argument("--num-cpus", type=int, default=2, help="CPUs of the node / Dask workers (2)")
    p.add_argument("--large-mib", type=int, default=1024, help="size of the large put (1024)")
    p.add_argument("--no-dask", action="store_true", help="skip the Dask side")
    args = p.parse_args(argv)
    if args.seconds <= 0 or args.repeat < 1 or args.num_cpus < 1 or args.large_mib < 1:
        p.error("--seconds, --repeat, --num-cpus and --large-mib must be positive")
    rayc = bench_rayc(args)
    dask = None if args.no_dask else bench_dask(args)
    print_table(rayc, dask)
    return 0


if __name__ == "__main__":
    sys.exit(main())

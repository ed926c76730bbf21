"""Ray Data against dask.dataframe in the same run (issue 15):

  1. map_batches over ROWS rows (default 10 M): generate the ids in tasks,
     a vectorized UDF per batch, then the sum of the result;
  2. a sort of SORT_MB megabytes (default 1 GB) of (key float64, value
     int64) rows generated in tasks, fully materialized.

Both get the same number of partitions and the same CPUs (Ray: a private
local node with --cpus; Dask: its default threaded scheduler with as
many workers).  Prints rows/s and seconds for each (the best of --runs
for map_batches, of --sort-runs for the sort, whose runs alternate
between the two and are each printed) and the ratio Dask seconds /
rayc seconds (target >= 2), and the CPU seconds per run of each (rayc: the
driver, daemons and workers; Dask: this process), which the machine's load
changes far less than wall time.  Run through bench/data.sh:

    bench/data.sh                       full size
    bench/data.sh --rows 1000000 --sort-mb 100     quick
"""
import argparse
import os
import sys
import time

import numpy as np
import pandas as pd

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))
os.environ.setdefault("RAYC_BIN_DIR", os.path.join(ROOT, "bin"))

import ray  # noqa: E402


def make_sort_rows(start, end):
    rng = np.random.default_rng(start)
    return pd.DataFrame({"key": rng.random(end - start),
                         "value": np.arange(start, end, dtype=np.int64)})


def udf(batch):
    return {"id": batch["id"] * 2 + 1}


def ray_map(rows, parts):
    ds = ray.data.range(rows, override_num_blocks=parts).map_batches(udf, batch_size=None)
    return ds.sum("id")


def dask_map(rows, parts):
    import dask.dataframe as dd
    cuts = [(rows * i // parts, rows * (i + 1) // parts) for i in range(parts)]
    ddf = dd.from_map(lambda c: pd.DataFrame({"id": np.arange(c[0], c[1], dtype=np.int64)}),
                      cuts)
    return int(ddf.map_partitions(lambda df: df * 2 + 1)["id"].sum().compute())


def ray_sort(rows, parts):
    cuts = [(rows * i // parts, rows * (i + 1) // parts) for i in range(parts)]
    ds = ray.data.from_items([{"s": s, "e": e} for s, e in cuts], override_num_blocks=parts)
    ds = ds.map_batches(lambda b: make_sort_rows(int(b["s"][0]), int(b["e"][0])), batch_size=1)
    out = ds.sort("key").materialize()
    first = out.take(1)[0]["key"]
    return out.count(), first


def dask_sort(rows, parts):
    import dask.dataframe as dd
    cuts = [(rows * i // parts, rows * (i + 1) // parts) for i in range(parts)]
    ddf = dd.from_map(lambda c: make_sort_rows(c[0], c[1]), cuts)
    out = ddf.sort_values("key").persist()
    first = out.head(1)["key"].iloc[0]
    return int(out.map_partitions(len).compute().sum()), first


def _proc_cpu(pid):
    """CPU seconds (user + system) process PID has used, 0 if it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def cpu_now():
    """CPU seconds used so far by this process (the driver and Dask's
    threads) and by the processes of ray.init()'s private node (daemons
    and workers, found by their RAY_TMPDIR)."""
    total = sum(os.times()[:2])
    node = getattr(ray, "_node", None)
    mark = ("RAY_TMPDIR=%s\0" % node.tmp).encode() if node is not None and node.tmp else None
    for p in os.listdir("/proc") if mark else ():
        if not p.isdigit() or int(p) == os.getpid():
            continue
        try:
            with open("/proc/%s/environ" % p, "rb") as f:
                if mark not in f.read():
                    continue
        except OSError:
            continue
        total += _proc_cpu(int(p))
    return total


def timed(fn, *args, runs=1):
    """FN(*ARGS)'s result, its best time of RUNS and its CPU seconds per
    run (all processes: load on the machine changes this far less)."""
    best, cpu = None, 0.0
    for _ in range(runs):
        c = cpu_now()
        t = time.perf_counter()
        res = fn(*args)
        took = time.perf_counter() - t
        cpu += cpu_now() - c
        best = took if best is None else min(best, took)
    return res, best, cpu / runs


def report(name, rows, ray_s, dask_s, ray_cpu, dask_cpu):
    print("%-24s rayc %7.2f s %11.0f rows/s cpu %7.2f s | dask %7.2f s %11.0f rows/s cpu "
          "%7.2f s | dask/rayc %.2fx (cpu %.2fx)"
          % (name, ray_s, rows / ray_s, ray_cpu, dask_s, rows / dask_s, dask_cpu,
             dask_s / ray_s, dask_cpu / ray_cpu), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=10_000_000, help="map_batches rows")
    ap.add_argument("--sort-mb", type=int, default=1024, help="MB to sort")
    ap.add_argument("--cpus", type=int, default=os.cpu_count())
    ap.add_argument("--parts", type=int, default=0, help="partitions (default 4 per CPU)")
    ap.add_argument("--runs", type=int, default=3, help="map_batches: best of RUNS")
    ap.add_argument("--sort-runs", type=int, default=3,
                    help="sort: best of SORT_RUNS, alternating rayc and Dask")
    a = ap.parse_args()
    parts = a.parts or 4 * a.cpus
    import dask
    dask.config.set(scheduler="threads", num_workers=a.cpus)
    ray.init(num_cpus=a.cpus)
    ray.data.DataContext.get_current().enable_progress_bars = False
    # Every worker up with ray.data imported (the first sort starts one
    # more worker), functions exported, Dask's modules imported: not part
    # of the measure.
    ray_map(1_000_000, parts)
    ray_sort(100_000, parts)
    dask_map(1000, 2)
    dask_sort(100_000, parts)

    (r1, ray_s, ray_cpu) = timed(ray_map, a.rows, parts, runs=a.runs)
    (d1, dask_s, dask_cpu) = timed(dask_map, a.rows, parts, runs=a.runs)
    assert r1 == d1 == a.rows * a.rows, (r1, d1)
    report("map_batches %dM rows" % (a.rows // 1_000_000), a.rows, ray_s, dask_s, ray_cpu,
           dask_cpu)

    # The sort's runs alternate (rayc, Dask, rayc, Dask, ...) so that a
    # change in the machine's load hits both sides alike.
    sort_rows = a.sort_mb * (1 << 20) // 16
    ray_t, dask_t, ray_c, dask_c = [], [], [], []
    for k in range(a.sort_runs):
        ((n1, f1), rs, rc) = timed(ray_sort, sort_rows, parts)
        ((n2, f2), ds, dc) = timed(dask_sort, sort_rows, parts)
        assert n1 == n2 == sort_rows and f1 == f2, (n1, n2, f1, f2)
        print("  sort run %d: rayc %6.2f s cpu %6.2f s | dask %6.2f s cpu %6.2f s | %.2fx "
              "(load %.1f)" % (k + 1, rs, rc, ds, dc, ds / rs, os.getloadavg()[0]), flush=True)
        ray_t.append(rs), dask_t.append(ds), ray_c.append(rc), dask_c.append(dc)
    report("sort %d MB" % a.sort_mb, sort_rows, min(ray_t), min(dask_t),
           sum(ray_c) / len(ray_c), sum(dask_c) / len(dask_c))
    ray.shutdown()


if __name__ == "__main__":
    main()

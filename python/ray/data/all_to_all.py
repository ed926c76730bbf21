"""The barrier operators: each function takes its input's (ref, meta)
pairs and returns the output's, running the work as tasks."""
import numpy as np

import ray
from ray.data import _tasks


def _pairs(refs):
    """[(block_ref, meta_ref)] -> [(block_ref, meta)]."""
    metas = ray.get([m for _, m in refs]) if refs else []
    return [(b, m) for (b, _), m in zip(refs, metas)]


def _row_splits(metas, sizes):
    """For outputs of SIZES rows, the (input index, start, end) slices of
    the inputs (with METAS) that make each up."""
    out, i, off = [], 0, 0
    for size in sizes:
        specs = []
        while size > 0 and i < len(metas):
            n = metas[i]["num_rows"]
            take = min(size, n - off)
            if take > 0:
                specs.append((i, off, off + take))
            off += take
            size -= take
            if off >= n:
                i, off = i + 1, 0
        out.append(specs)
    return out


def _gather(blocks, specs):
    """Runs one concat_slices task per output over only the blocks it
    needs."""
    refs = []
    for spec in specs:
        used = sorted({i for i, _, _ in spec})
        local = {b: k for k, b in enumerate(used)}
        refs.append(_tasks.concat_slices_task.remote(
            [(local[i], s, e) for i, s, e in spec], *[blocks[i][0] for i in used]))
    return _pairs(refs)


def even_sizes(total, n):
    return [total // n + (1 if k < total % n else 0) for k in range(n)]


def repartition(num_blocks):
    def run(blocks):
        total = sum(m["num_rows"] for _, m in blocks)
        return _gather(blocks, _row_splits([m for _, m in blocks], even_sizes(total, num_blocks)))
    return run


def split_rows(blocks, sizes):
    return _gather(blocks, _row_splits([m for _, m in blocks], sizes))


def _boundaries(blocks, key, n):
    """N - 1 ascending boundaries of KEY's values: from the samples in the
    blocks' metadata, else from sample tasks (blocks made elsewhere)."""
    if all(key in m.get("samples", {}) for _, m in blocks):
        samples = [m["samples"][key] for _, m in blocks]
    else:
        samples = ray.get([_tasks.sample_task.remote(b, key, 16 * n) for b, _ in blocks])
    samples = [s for s in samples if len(s)]
    if not samples or n <= 1:
        return []
    allv = np.sort(np.concatenate(samples), kind="stable")
    idx = [int(len(allv) * (k + 1) / n) for k in range(n - 1)]
    return [allv[min(i, len(allv) - 1)] for i in idx]


def range_partitioned(blocks, key, n, reduce_one):
    """Range-partitions BLOCKS on KEY into N parts and runs
    REDUCE_ONE(*parts) (a remote function returning (block, meta)) per part,
    in ascending key order."""
    if not blocks:
        return []
    bounds = _boundaries(blocks, key, n)
    n = len(bounds) + 1
    part = _tasks.range_partition_task(n)
    parts = []
    for b, _ in blocks:
        r = part.remote(b, key, bounds, n)
        parts.append(r if n > 1 else [r])
    return _pairs([reduce_one(*[p[j] for p in parts]) for j in range(n)])


def sort(keys, descending):
    def run(blocks):
        blocks = [x for x in blocks if x[1]["num_rows"] > 0] or blocks[:1]
        out = range_partitioned(blocks, keys[0], len(blocks),
                                lambda *p: _tasks.merge_sorted_task.remote(keys, descending, *p))
        return out[::-1] if descending[0] else out
    return run


def random_shuffle(seed):
    def run(blocks):
        if not blocks:
            return []
        n = len(blocks)
        base = seed if seed is not None else int(np.random.SeedSequence().entropy % (1 << 31))
        part = _tasks.random_partition_task(n)
        parts = []
        for k, (b, _) in enumerate(blocks):
            r = part.remote(b, base + k, n)
            parts.append(r if n > 1 else [r])
        return _pairs([_tasks.shuffle_merge_task.remote(base + 7919 * (j + 1),
                                                        *[p[j] for p in parts])
                       for j in range(n)])
    return run


def zip_blocks(left, right):
    nl = sum(m["num_rows"] for _, m in left)
    nr = sum(m["num_rows"] for _, m in right)
    if nl != nr:
        raise ValueError("Cannot zip datasets of different number of rows: %d, %d" % (nl, nr))
    specs = _row_splits([m for _, m in right], [m["num_rows"] for _, m in left])
    refs = []
    for (lb, _), spec in zip(left, specs):
        used = sorted({i for i, _, _ in spec})
        local = {b: k for k, b in enumerate(used)}
        refs.append(_tasks.zip_task.remote(lb, [(local[i], s, e) for i, s, e in spec],
                                           *[right[i][0] for i in used]))
    return _pairs(refs)

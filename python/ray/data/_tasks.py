"""The remote functions and the actor that run Ray Data's operators on
the cluster.  Each returns (block, metadata) as two objects, so the
driver reads the small metadata without fetching the block."""
import numpy as np

import ray
from ray.data import block as B
from ray.data._argsort import stable_argsort


def run_chain(chain, item, setup=None):
    """Runs a fused chain of transforms over ITEM (a block, or a ReadTask
    whose blocks are read here); returns one block."""
    blocks = item.read() if hasattr(item, "read") else [item]
    for t in chain:
        blocks = t.apply(blocks, setup)
    return B.concat(list(blocks))


def _map(chain, item):
    out = run_chain(chain, item)
    return out, B.metadata(out)


map_task = ray.remote(num_returns=2)(_map)


class MapWorker:
    """An actor of a map_batches actor pool: builds the callable classes of
    its chain once, then maps blocks."""

    def __init__(self, chain):
        self.chain = chain
        self.setup = {}
        for t in chain:
            t.setup(self.setup)

    def ready(self):
        return True

    def map(self, item):
        out = run_chain(self.chain, item, self.setup)
        return out, B.metadata(out)


def _slice(block, start, end):
    out = B.slice_block(block, start, end)
    return out, B.metadata(out)


slice_task = ray.remote(num_returns=2)(_slice)


def _concat_slices(specs, *blocks):
    """Concatenates the row ranges SPECS [(i, start, end)] of BLOCKS."""
    out = B.concat([B.slice_block(blocks[i], s, e) for i, s, e in specs])
    return out, B.metadata(out)


concat_slices_task = ray.remote(num_returns=2)(_concat_slices)


def _sample(block, key, n):
    col = B.column(block, key)
    if len(col) == 0:
        return col[:0]
    idx = np.linspace(0, len(col) - 1, min(n, len(col))).astype(np.int64)
    return col[idx]


sample_task = ray.remote(_sample)


def sort_indices(block, keys, descending):
    """The row order that sorts BLOCK by KEYS (stable; DESCENDING per key)."""
    if not keys:
        return np.arange(B.num_rows(block))
    cols = B.to_numpy(block)
    if len(keys) == 1 and cols[keys[0]].dtype != object and cols[keys[0]].ndim == 1:
        col = cols[keys[0]]
        if not descending[0]:
            return stable_argsort(col)
        # Descending and stable: sort the reversed column, read it backwards.
        return len(col) - 1 - stable_argsort(col[::-1])[::-1]
    import pandas as pd
    frame = pd.DataFrame({"k%d" % i: cols[k] for i, k in enumerate(keys)})
    order = frame.sort_values(by=list(frame.columns), ascending=[not d for d in descending],
                              kind="stable")
    return order.index.to_numpy()


def _part_numbers(col, bounds):
    """np.searchsorted(BOUNDS, COL, side="left"): for a few numeric
    boundaries a count of those each value is above (one vectorized pass
    per boundary, several times faster than a binary search per row), as
    uint8; NaN values sort after every boundary, as in numpy."""
    if (len(bounds) > 32 or col.dtype.kind not in "iuf" or col.ndim != 1
            or (col.dtype.kind == "f" and np.isnan(bounds).any())):
        return np.searchsorted(bounds, col, side="left")
    which = np.zeros(len(col), dtype=np.uint8)
    for b in bounds:
        which += col > b
    if col.dtype.kind == "f":
        nan = np.isnan(col)
        if nan.any():
            which[nan] = len(bounds)
    return which


def _counts(which, n):
    """How many of WHICH (part numbers below N) are each number: a compare
    per part when they are few (bincount first widens every number to
    64 bits, which costs more)."""
    if n > 32:
        return np.bincount(which, minlength=n)
    return [np.count_nonzero(which == k) for k in range(n)]


def _range_partition(block, key, boundaries, n):
    """Splits BLOCK into N parts by the first key's value against the
    ascending BOUNDARIES (n - 1 of them); one block per part."""
    if B.num_rows(block) == 0:
        return [block] * n if n > 1 else block
    block = B.to_numpy(block)
    col = block[key]
    # Part of a row: how many boundaries are below its value (a value equal
    # to a boundary goes left, so equal keys always meet in one part).
    bounds = np.asarray(boundaries, dtype=col.dtype) if len(boundaries) else col[:0]
    which = _part_numbers(col, bounds)
    # Part numbers fit 8 or 16 bits, which numpy's stable sort orders by
    # radix in linear time (int64 would take a merge sort).
    small = np.uint8 if n <= 256 else np.uint16 if n <= 65536 else None
    if small and which.dtype != small:
        which = which.astype(small)
    order = np.argsort(which, kind="stable")
    edges = [0] + list(np.cumsum(_counts(which, n)))
    parts = [B.take_indices(block, order[edges[i]:edges[i + 1]]) for i in range(n)]
    return parts if n > 1 else parts[0]


_range_partition_fn = ray.remote(_range_partition)


def range_partition_task(n):
    return _range_partition_fn.options(num_returns=n)


def _merge_sorted(keys, descending, *parts):
    out = B.concat(list(parts))
    col = None if B.is_pandas(out) or len(keys) != 1 or descending[0] else out.get(keys[0])
    if col is not None and col.dtype != object and col.ndim == 1:
        # The key column comes sorted out of the argsort: gather the others.
        order, sorted_key = stable_argsort(col, with_keys=True)
        out = {c: sorted_key if c == keys[0] else v[order] for c, v in out.items()}
    else:
        out = B.take_indices(out, sort_indices(out, keys, descending))
    return out, B.metadata(out)


merge_sorted_task = ray.remote(num_returns=2)(_merge_sorted)


def _random_partition(block, seed, n):
    rng = np.random.default_rng(seed)
    which = rng.integers(0, n, B.num_rows(block))
    parts = [B.take_indices(block, np.nonzero(which == i)[0]) for i in range(n)]
    return parts if n > 1 else parts[0]


_random_partition_fn = ray.remote(_random_partition)


def random_partition_task(n):
    return _random_partition_fn.options(num_returns=n)


def _shuffle_merge(seed, *parts):
    out = B.concat(list(parts))
    rng = np.random.default_rng(seed)
    out = B.take_indices(out, rng.permutation(B.num_rows(out)))
    return out, B.metadata(out)


shuffle_merge_task = ray.remote(num_returns=2)(_shuffle_merge)


def _apply_to_parts(fn, *parts):
    out = fn(B.concat(list(parts)))
    return out, B.metadata(out)


apply_parts_task = ray.remote(num_returns=2)(_apply_to_parts)


def _zip(left, right_specs, *right_blocks):
    right = B.concat([B.slice_block(right_blocks[i], s, e) for i, s, e in right_specs])
    lcols = dict(B.to_numpy(left))
    for name, col in B.to_numpy(right).items():
        new, k = name, 1
        while new in lcols:
            new = "%s_%d" % (name, k)
            k += 1
        lcols[new] = col
    return lcols, B.metadata(lcols)


zip_task = ray.remote(num_returns=2)(_zip)


def _partial_agg(aggs, block):
    B.check_columns([a.on for a in aggs if a.on is not None], block)
    return [a.partial(block) for a in aggs]


partial_agg_task = ray.remote(_partial_agg)


def _to_numpy_batch(block, column):
    cols = B.to_numpy(block)
    return cols[column] if column is not None else dict(cols)


to_numpy_task = ray.remote(_to_numpy_batch)


def _write(writer, block, index):
    return writer.write(block, index)


write_task = ray.remote(_write)

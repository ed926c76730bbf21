"""Dataset: a lazy, streaming, distributed table (Ray's ray.data.Dataset)."""
import itertools
import os
import uuid

import numpy as np

import ray
from ray.data import _tasks, aggregate as A, all_to_all
from ray.data import block as B
from ray.data.plan import (AllToAll, Limit, MapOp, Source, Transform, Union,
                           execute)


class ActorPoolStrategy:
    """compute=ActorPoolStrategy(size=N) (or min_size/max_size): run a
    callable class in a pool of actors.  rayc starts the pool at its
    largest size and does not autoscale it."""

    def __init__(self, *, size=None, min_size=None, max_size=None):
        self.size = size or max_size or min_size or 1


class Schema:
    """A dataset's columns and their types; prints as Ray's does."""

    def __init__(self, types):
        self.names = list(types)
        self.types = list(types.values())
        self._types = dict(types)

    def __eq__(self, other):
        return isinstance(other, Schema) and self._types == other._types

    def __repr__(self):
        return B.schema_repr(self._types)


def _check_columns(names, have, schema):
    for n in names:
        if n not in have:
            raise ValueError("The column '%s' does not exist in the schema '%s'."
                             % (n, schema))


def _fn_name(fn):
    return getattr(fn, "__name__", type(fn).__name__)


class Dataset:
    def __init__(self, op):
        self._op = op

    # ---- transforms ---------------------------------------------------------

    def _map(self, transform, name, compute=None, concurrency=None, num_cpus=None,
             num_gpus=None, **ray_remote_args):
        pool = None
        if isinstance(compute, ActorPoolStrategy):
            pool = compute.size
        elif compute not in (None, "tasks"):
            raise ValueError("compute must be None, 'tasks' or ActorPoolStrategy, got %r"
                             % (compute,))
        if transform.is_class:
            if pool is None and concurrency is None:
                raise ValueError("``concurrency`` must be specified when using a callable "
                                 "class. For example, use ``concurrency=n`` for a pool of "
                                 "``n`` workers.")
            if pool is None:
                pool = concurrency[1] if isinstance(concurrency, tuple) else int(concurrency)
            concurrency = None
        elif isinstance(concurrency, tuple):
            concurrency = concurrency[1]
        args = dict(ray_remote_args)
        if num_cpus is not None:
            args["num_cpus"] = num_cpus
        if num_gpus is not None:
            args["num_gpus"] = num_gpus
        op = self._op
        if isinstance(op, MapOp):
            fused = op.fused_with([transform], name, args, pool, concurrency)
            if fused is not None:
                return Dataset(fused)
        return Dataset(MapOp(op, [transform], name, args, pool, concurrency))

    def map(self, fn, *, compute=None, fn_args=None, fn_kwargs=None,
            fn_constructor_args=None, fn_constructor_kwargs=None, num_cpus=None, num_gpus=None,
            concurrency=None, **ray_remote_args):
        t = Transform("rows", fn, fn_args=fn_args, fn_kwargs=fn_kwargs,
                      ctor_args=fn_constructor_args, ctor_kwargs=fn_constructor_kwargs)
        return self._map(t, "Map(%s)" % _fn_name(fn), compute, concurrency, num_cpus, num_gpus,
                         **ray_remote_args)

    def map_batches(self, fn, *, batch_size="default", compute=None, batch_format="default",
                    zero_copy_batch=False, fn_args=None, fn_kwargs=None,
                    fn_constructor_args=None, fn_constructor_kwargs=None, num_cpus=None,
                    num_gpus=None, concurrency=None, **ray_remote_args):
        B.check_batch_format(batch_format)
        if batch_size == "default":
            batch_size = 1024
        if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
            raise ValueError("batch_size must be a positive integer or None, got %r"
                             % (batch_size,))
        if not callable(fn):
            raise ValueError("map_batches(fn): fn must be a function or a callable class, "
                             "got %r" % (fn,))
        if not isinstance(fn, type) and (fn_constructor_args or fn_constructor_kwargs):
            raise ValueError("fn_constructor_args and fn_constructor_kwargs can only be "
                             "specified if providing a callable class instance for fn, but "
                             "got: %s." % (fn,))
        t = Transform("batches", fn, batch_format, batch_size, fn_args, fn_kwargs,
                      fn_constructor_args, fn_constructor_kwargs, zero_copy_batch)
        return self._map(t, "MapBatches(%s)" % _fn_name(fn), compute, concurrency, num_cpus,
                         num_gpus, **ray_remote_args)

    def flat_map(self, fn, *, compute=None, fn_args=None, fn_kwargs=None,
                 fn_constructor_args=None, fn_constructor_kwargs=None, num_cpus=None,
                 num_gpus=None, concurrency=None, **ray_remote_args):
        t = Transform("flat", fn, fn_args=fn_args, fn_kwargs=fn_kwargs,
                      ctor_args=fn_constructor_args, ctor_kwargs=fn_constructor_kwargs)
        return self._map(t, "FlatMap(%s)" % _fn_name(fn), compute, concurrency, num_cpus,
                         num_gpus, **ray_remote_args)

    def filter(self, fn, *, compute=None, fn_args=None, fn_kwargs=None,
               fn_constructor_args=None, fn_constructor_kwargs=None, num_cpus=None,
               num_gpus=None, concurrency=None, **ray_remote_args):
        t = Transform("filter", fn, fn_args=fn_args, fn_kwargs=fn_kwargs,
                      ctor_args=fn_constructor_args, ctor_kwargs=fn_constructor_kwargs)
        return self._map(t, "Filter(%s)" % _fn_name(fn), compute, concurrency, num_cpus,
                         num_gpus, **ray_remote_args)

    def add_column(self, col, fn, *, batch_format="pandas", compute=None, concurrency=None,
                   **ray_remote_args):
        """Adds COL = FN(batch) (a pandas batch by default, as in Ray)."""
        B.check_batch_format(batch_format)

        def add(batch):
            batch[col] = fn(batch)
            return batch
        return self.map_batches(add, batch_format=batch_format, compute=compute,
                                concurrency=concurrency, **ray_remote_args)

    def drop_columns(self, cols, *, compute=None, concurrency=None, **ray_remote_args):
        cols = [cols] if isinstance(cols, str) else list(cols)
        if len(set(cols)) != len(cols):
            raise ValueError("drop_columns expects unique column names, got: %s" % cols)

        def drop(block):
            _check_columns(cols, B.column_names(block), Schema(B.schema(block)))
            return {k: v for k, v in B.to_numpy(block).items() if k not in cols} \
                if not B.is_pandas(block) else block.drop(columns=cols)
        return self._map(Transform("block", drop), "DropColumns", compute, concurrency,
                         **ray_remote_args)

    def select_columns(self, cols, *, compute=None, concurrency=None, **ray_remote_args):
        cols = [cols] if isinstance(cols, str) else list(cols)
        if len(set(cols)) != len(cols):
            raise ValueError("select_columns expected unique column names, got duplicate "
                             "column names: %s" % cols)

        def sel(block):
            _check_columns(cols, B.column_names(block), Schema(B.schema(block)))
            return B.select(block, cols)
        return self._map(Transform("block", sel), "SelectColumns", compute, concurrency,
                         **ray_remote_args)

    def rename_columns(self, names):
        def ren(block):
            _check_columns(list(names), B.column_names(block), Schema(B.schema(block)))
            if B.is_pandas(block):
                return block.rename(columns=names)
            return {names.get(k, k): v for k, v in block.items()}
        return self._map(Transform("block", ren), "RenameColumns")

    def repartition(self, num_blocks, *, shuffle=False):
        if shuffle:
            return self.random_shuffle().repartition(num_blocks)
        return Dataset(AllToAll([self._op], all_to_all.repartition(num_blocks), "Repartition"))

    def random_shuffle(self, *, seed=None, num_blocks=None):
        ds = Dataset(AllToAll([self._op], all_to_all.random_shuffle(seed), "RandomShuffle"))
        return ds.repartition(num_blocks) if num_blocks else ds

    def randomize_block_order(self, *, seed=None):
        def run(blocks):
            rng = np.random.default_rng(seed)
            return [blocks[i] for i in rng.permutation(len(blocks))]
        return Dataset(AllToAll([self._op], run, "RandomizeBlockOrder"))

    def _key_check(self, keys):
        names = self.columns()
        _check_columns(keys, names or [], self.schema())

    def sort(self, key, descending=False):
        keys = [key] if isinstance(key, str) else list(key)
        if not keys:
            raise ValueError("sort: key must name at least one column")
        desc = list(descending) if isinstance(descending, (list, tuple)) else \
            [bool(descending)] * len(keys)
        if len(desc) != len(keys):
            raise ValueError("Length of `descending` does not match the length of the key.")
        self._key_check(keys)
        return Dataset(AllToAll([self._op], all_to_all.sort(keys, desc), "Sort"))

    def groupby(self, key):
        from ray.data.grouped_data import GroupedData
        keys = [] if key is None else ([key] if isinstance(key, str) else list(key))
        if keys:
            self._key_check(keys)
        return GroupedData(self, keys)

    def union(self, *others):
        return Dataset(Union([self._op] + [o._op for o in others]))

    def zip(self, other):
        return Dataset(AllToAll([self._op, other._op], all_to_all.zip_blocks, "Zip"))

    def limit(self, limit):
        return Dataset(Limit(self._op, int(limit)))

    # ---- splitting ----------------------------------------------------------

    def materialize(self):
        pairs = list(execute(self._op))
        return MaterializedDataset(Source(pairs, "FromBlocks"))

    def split(self, n, *, equal=False, locality_hints=None):
        if n <= 0:
            raise ValueError("The number of splits %d is not positive." % n)
        pairs = list(execute(self._op))
        total = sum(m["num_rows"] for _, m in pairs)
        sizes = [total // n] * n if equal else all_to_all.even_sizes(total, n)
        return [MaterializedDataset(Source(ps, "Split")) for ps in _split_pairs(pairs, sizes)]

    def split_at_indices(self, indices):
        if list(indices) != sorted(indices) or any(i < 0 for i in indices):
            raise ValueError("indices must be sorted and non-negative")
        pairs = list(execute(self._op))
        total = sum(m["num_rows"] for _, m in pairs)
        bounds = [0] + [min(i, total) for i in indices] + [total]
        sizes = [b - a for a, b in zip(bounds[:-1], bounds[1:])]
        return [MaterializedDataset(Source(ps, "Split")) for ps in _split_pairs(pairs, sizes)]

    def train_test_split(self, test_size, *, shuffle=False, seed=None):
        ds = self.random_shuffle(seed=seed) if shuffle else self
        if isinstance(test_size, float):
            if not 0 < test_size < 1:
                raise ValueError("If `test_size` is a float, it must be bigger than 0 and "
                                 "smaller than 1. Got %s." % test_size)
            n = ds.count()
            return ds.split_at_indices([int(n * (1 - test_size))])
        if not isinstance(test_size, int) or test_size <= 0:
            raise ValueError("`test_size` must be a positive int or a float in (0, 1), "
                             "got %r" % (test_size,))
        n = ds.count()
        if test_size > n:
            raise ValueError("If `test_size` is an int, it must be smaller than or equal to "
                             "the dataset length. Got %d > %d." % (test_size, n))
        return ds.split_at_indices([n - test_size])

    # ---- consumption --------------------------------------------------------

    def _iter_blocks(self):
        for ref, meta in execute(self._op):
            if meta["num_rows"]:
                yield ray.get(ref)

    def iter_rows(self):
        for block in self._iter_blocks():
            yield from B.iter_rows(block)

    def iter_batches(self, *, batch_size=256, batch_format="default", drop_last=False,
                     prefetch_batches=1, local_shuffle_buffer_size=None,
                     local_shuffle_seed=None):
        B.check_batch_format(batch_format)
        rng = np.random.default_rng(local_shuffle_seed) if local_shuffle_buffer_size else None
        pending, have = [], 0
        for block in self._iter_blocks():
            if batch_size is None:
                yield B.to_batch(block, batch_format)
                continue
            pending.append(block)
            have += B.num_rows(block)
            if have >= batch_size:
                merged = B.concat(pending)
                if rng is not None:
                    merged = B.take_indices(merged, rng.permutation(have))
                start = 0
                while have - start >= batch_size:
                    yield B.to_batch(B.slice_block(merged, start, start + batch_size),
                                     batch_format)
                    start += batch_size
                pending = [B.slice_block(merged, start, have)] if start < have else []
                have -= start
        if have and not drop_last and batch_size is not None:
            yield B.to_batch(B.concat(pending), batch_format)

    def iter_torch_batches(self, *, batch_size=256, dtypes=None, device="cpu",
                           drop_last=False, collate_fn=None, **kwargs):
        try:
            import torch
        except ImportError:
            raise ImportError("iter_torch_batches needs PyTorch; install the Debian package "
                              "python3-torch") from None
        for batch in self.iter_batches(batch_size=batch_size, batch_format="numpy",
                                       drop_last=drop_last):
            if collate_fn is not None:
                yield collate_fn(batch)
                continue
            out = {}
            for k, v in batch.items():
                dt = dtypes.get(k) if isinstance(dtypes, dict) else dtypes
                out[k] = torch.as_tensor(v, dtype=dt, device=device)
            yield out

    def take(self, limit=20):
        return list(itertools.islice(self.limit(limit).iter_rows(), limit))

    def take_all(self, limit=None):
        rows = []
        for row in self.iter_rows():
            rows.append(row)
            if limit is not None and len(rows) > limit:
                raise ValueError("The dataset has more than the given limit of %d records."
                                 % limit)
        return rows

    def take_batch(self, batch_size=20, *, batch_format="default"):
        B.check_batch_format(batch_format)
        blocks = list(self.limit(batch_size)._iter_blocks())
        if not blocks:
            raise ValueError("The dataset is empty.")
        return B.to_batch(B.concat(blocks), batch_format)

    def show(self, limit=20):
        for row in self.take(limit):
            print(row)

    def count(self):
        if isinstance(self._op, Source) and all(isinstance(i, tuple) for i in self._op.items):
            return sum(m["num_rows"] for _, m in self._op.items)
        return sum(m["num_rows"] for _, m in execute(self._op))

    def schema(self):
        for _, meta in execute(self._op):
            if meta["num_rows"] or meta["schema"]:
                return Schema(meta["schema"])
        return None

    def columns(self):
        s = self.schema()
        return s.names if s is not None else None

    def num_blocks(self):
        return len(list(execute(self._op)))

    def size_bytes(self):
        return sum(m["size_bytes"] for _, m in execute(self._op))

    def input_files(self):
        return []

    def stats(self):
        from ray.data.context import DataContext
        st = DataContext.get_current().execution_stats
        return st.summary() if st is not None else "(no execution yet)"

    def to_pandas(self, limit=None):
        import pandas as pd
        blocks = [B.to_pandas(b) for b in self._iter_blocks()]
        df = pd.concat(blocks, ignore_index=True) if blocks else pd.DataFrame()
        if limit is not None and len(df) > limit:
            raise ValueError("the dataset has more than the given limit of %d rows: %d. If "
                             "you are sure that a DataFrame with %d rows will fit in local "
                             "memory, set ds.to_pandas(limit=None) to disable limits."
                             % (limit, len(df), len(df)))
        return df

    def to_numpy_refs(self, *, column=None):
        return [_tasks.to_numpy_task.remote(ref, column) for ref, _ in execute(self._op)]

    def to_pandas_refs(self):
        return [ray.remote(B.to_pandas).remote(ref) for ref, _ in execute(self._op)]

    def get_internal_block_refs(self):
        return [ref for ref, _ in execute(self._op)]

    # ---- aggregations -------------------------------------------------------

    def aggregate(self, *aggs):
        # Columns are checked in the tasks (A.check_columns): asking for the
        # schema first would run the head of the pipeline twice.
        op = self._op
        if isinstance(op, MapOp) and op.pool_size is None:
            # As Ray fuses a map into the aggregate after it: each map task
            # returns its partial states, never writing its block.
            fused = op.fused_with([Transform("block", A.PartialStates(list(aggs)))],
                                  "Aggregate", op.remote_args, None, op.concurrency)
            states = [ray.get(ref)["states"][0] for ref, m in execute(fused)]
        else:
            states = ray.get([_tasks.partial_agg_task.remote(list(aggs), ref)
                              for ref, m in execute(op) if m["num_rows"]])
        return {a.name: a.merge([s[i] for s in states]) for i, a in enumerate(aggs)}

    def _agg(self, cls, on, **kw):
        ons = [on] if isinstance(on, str) else list(on)
        res = self.aggregate(*[cls(o, **kw) for o in ons])
        vals = list(res.values())
        return vals[0] if isinstance(on, str) else res

    def sum(self, on, ignore_nulls=True):
        return self._agg(A.Sum, on, ignore_nulls=ignore_nulls)

    def min(self, on, ignore_nulls=True):
        return self._agg(A.Min, on, ignore_nulls=ignore_nulls)

    def max(self, on, ignore_nulls=True):
        return self._agg(A.Max, on, ignore_nulls=ignore_nulls)

    def mean(self, on, ignore_nulls=True):
        return self._agg(A.Mean, on, ignore_nulls=ignore_nulls)

    def std(self, on, ddof=1, ignore_nulls=True):
        return self._agg(A.Std, on, ddof=ddof, ignore_nulls=ignore_nulls)

    def unique(self, column):
        df = self.select_columns([column]).to_pandas()
        return list(df[column].unique())

    # ---- writes -------------------------------------------------------------

    def _write(self, path, writer):
        os.makedirs(path, exist_ok=True)
        ray.get([_tasks.write_task.remote(writer, ref, i)
                 for i, (ref, m) in enumerate(execute(self._op)) if m["num_rows"]])

    def write_csv(self, path, **kw):
        self._write(path, _Writer(path, "csv", kw))

    def write_json(self, path, **kw):
        self._write(path, _Writer(path, "json", kw))

    def write_numpy(self, path, *, column):
        self._write(path, _Writer(path, "npy", {"column": column}))

    def write_parquet(self, path, **kw):
        from ray.data.read_api import PARQUET_ERROR
        raise NotImplementedError(PARQUET_ERROR)

    def __repr__(self):
        op = self._op
        if isinstance(op, Source) and all(isinstance(i, tuple) for i in op.items):
            rows = sum(m["num_rows"] for _, m in op.items)
            sch = next((m["schema"] for _, m in op.items if m["num_rows"]), {})
            return "%s(num_rows=%d, schema=%s)" % (
                type(self).__name__, rows,
                "{" + ", ".join("%s: %s" % kv for kv in sch.items()) + "}")
        return "%s(%s)" % (type(self).__name__, op.name)

    def __iter__(self):
        raise TypeError("`Dataset` objects aren't iterable. To iterate records, call "
                        "`ds.iter_rows()` or `ds.iter_batches()`.")


class MaterializedDataset(Dataset):
    """A dataset whose blocks are computed and held in the object store."""

    def num_blocks(self):
        return len(self._op.items)


def _split_pairs(pairs, sizes):
    """Splits the blocks PAIRS into consecutive row ranges of SIZES."""
    specs = all_to_all._row_splits([m for _, m in pairs], sizes)
    out = []
    for spec in specs:
        ps = []
        for i, s, e in spec:
            ref, meta = pairs[i]
            if s == 0 and e == meta["num_rows"]:
                ps.append((ref, meta))
            else:
                r, m = _tasks.slice_task.remote(ref, s, e)
                ps.append((r, ray.get(m)))
        out.append(ps)
    return out


class _Writer:
    """Writes one block to PATH/<uuid>_<index>_000000.<ext> (in a task)."""

    def __init__(self, path, fmt, kw):
        self.path = path
        self.fmt = fmt
        self.kw = kw
        self.uuid = uuid.uuid4().hex

    def write(self, block, index):
        name = os.path.join(self.path, "%s_%06d_000000.%s" % (self.uuid, index, self.fmt))
        if self.fmt == "csv":
            B.to_pandas(block).to_csv(name, index=False, **self.kw)
        elif self.fmt == "json":
            B.to_pandas(block).to_json(name, orient="records", lines=True, **self.kw)
        else:
            np.save(name, B.column(block, self.kw["column"]))
        return name

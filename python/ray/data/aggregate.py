"""Aggregations (Ray's names: Count, Sum, Min, Max, Mean, Std) for
Dataset.aggregate/sum/... and GroupedData.  Each computes a partial state
per block (in a task), merges the states in the driver, and for groups
runs the same on pandas group-by objects."""
import math

import numpy as np

from ray.data import block as B


class AggregateFn:
    def __init__(self, on=None, name=None, ignore_nulls=True):
        self.on = on
        self.ignore_nulls = ignore_nulls
        self.name = name or ("%s(%s)" % (self.kind, on if on is not None else ""))

    def _values(self, block):
        col = B.column(block, self.on)
        if col.dtype == object or col.dtype.kind == "f":
            import pandas as pd
            mask = pd.isna(col)
            if mask.any():
                if not self.ignore_nulls:
                    return None
                col = col[~mask]
        return col


class Count(AggregateFn):
    kind = "count"

    def partial(self, block):
        return B.num_rows(block)

    def merge(self, states):
        return int(sum(s for s in states if s is not None))

    def group(self, grouped):
        return grouped.size()


class Sum(AggregateFn):
    kind = "sum"

    def partial(self, block):
        v = self._values(block)
        return None if v is None or len(v) == 0 else v.sum()

    def merge(self, states):
        states = [s for s in states if s is not None]
        return B._py(sum(states[1:], states[0])) if states else None

    def group(self, grouped):
        return grouped[self.on].sum()


class Min(AggregateFn):
    kind = "min"

    def partial(self, block):
        v = self._values(block)
        return None if v is None or len(v) == 0 else v.min()

    def merge(self, states):
        states = [s for s in states if s is not None]
        return B._py(min(states)) if states else None

    def group(self, grouped):
        return grouped[self.on].min()


class Max(Min):
    kind = "max"

    def partial(self, block):
        v = self._values(block)
        return None if v is None or len(v) == 0 else v.max()

    def merge(self, states):
        states = [s for s in states if s is not None]
        return B._py(max(states)) if states else None

    def group(self, grouped):
        return grouped[self.on].max()


class Mean(AggregateFn):
    kind = "mean"

    def partial(self, block):
        v = self._values(block)
        return None if v is None or len(v) == 0 else (float(v.sum()), len(v))

    def merge(self, states):
        states = [s for s in states if s is not None]
        n = sum(c for _, c in states)
        return sum(s for s, _ in states) / n if n else None

    def group(self, grouped):
        return grouped[self.on].mean()


class Std(AggregateFn):
    kind = "std"

    def __init__(self, on=None, ddof=1, ignore_nulls=True, name=None):
        super().__init__(on, name, ignore_nulls)
        self.ddof = ddof

    def partial(self, block):
        v = self._values(block)
        if v is None or len(v) == 0:
            return None
        v = np.asarray(v, dtype=np.float64)
        m = v.mean()
        return (len(v), m, float(((v - m) ** 2).sum()))

    def merge(self, states):
        n, mean, m2 = 0, 0.0, 0.0
        for s in states:
            if s is None:
                continue
            nb, mb, m2b = s
            delta = mb - mean
            tot = n + nb
            mean += delta * nb / tot
            m2 += m2b + delta * delta * n * nb / tot
            n = tot
        if n - self.ddof <= 0:
            return None if n == 0 else 0.0
        return math.sqrt(m2 / (n - self.ddof))

    def group(self, grouped):
        return grouped[self.on].std(ddof=self.ddof)


class PartialStates:
    """A block transform: the partial states of AGGS over a block, as a
    one-row block {"states": [state, ...]} (empty blocks give None states)."""

    def __init__(self, aggs):
        self.aggs = aggs

    def __call__(self, block):
        if B.num_rows(block):
            B.check_columns([a.on for a in self.aggs if a.on is not None], block)
        out = np.empty(1, dtype=object)
        out[0] = [a.partial(block) if B.num_rows(block) else None for a in self.aggs]
        return {"states": out}


def group_aggregate(keys, aggs, *parts):
    """The reduce task of GroupedData.aggregate: groups the rows of PARTS
    by KEYS (sorted) and computes AGGS per group."""
    import pandas as pd
    df = B.to_pandas(B.concat(list(parts)))
    if len(df) == 0:
        out = {}
    else:
        g = df.groupby(keys, sort=True)
        res = pd.DataFrame({a.name: a.group(g) for a in aggs})
        out = res.reset_index()
        out.columns = [str(c) for c in out.columns]
    return out, B.metadata(out)


def group_map(keys, fn, batch_format, fn_args, fn_kwargs, *parts):
    """The reduce task of GroupedData.map_groups: calls FN on each group
    (in key order) as a batch and concatenates what it returns."""
    from ray.data._tasks import sort_indices
    block = B.concat(list(parts))
    outs = []
    if B.num_rows(block):
        block = B.take_indices(block, sort_indices(block, keys, [False] * len(keys)))
        cols = B.to_numpy(block)
        n = B.num_rows(block)
        change = np.zeros(n, dtype=bool)
        change[0] = True
        for k in keys:
            col = cols[k]
            change[1:] |= col[1:] != col[:-1]
        starts = list(np.nonzero(change)[0]) + [n]
        for s, e in zip(starts[:-1], starts[1:]):
            batch = B.to_batch(B.slice_block(block, s, e), batch_format)
            outs.append(B.from_batch(fn(batch, *fn_args, **fn_kwargs), "map_groups"))
    out = B.concat(outs) if outs else {}
    return out, B.metadata(out)

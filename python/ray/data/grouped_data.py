"""GroupedData: Dataset.groupby(key) and its aggregations (Ray's names:
the result has the key columns, then one column per aggregation such as
"count()", "sum(x)", "mean(x)"; rows sorted by key)."""
import ray
from ray.data import aggregate as A
from ray.data import all_to_all
from ray.data import block as B
from ray.data.plan import AllToAll

_group_agg_task = ray.remote(num_returns=2)(A.group_aggregate)
_group_map_task = ray.remote(num_returns=2)(A.group_map)


class GroupedData:
    def __init__(self, dataset, keys):
        self._ds = dataset
        self._keys = keys

    def _reduce(self, name, reduce_one):
        from ray.data.dataset import Dataset
        keys = self._keys

        def run(blocks):
            blocks = [x for x in blocks if x[1]["num_rows"] > 0] or blocks[:1]
            return all_to_all.range_partitioned(blocks, keys[0], len(blocks), reduce_one)
        return Dataset(AllToAll([self._ds._op], run, name))

    def aggregate(self, *aggs):
        if not self._keys:
            from ray.data import from_items
            return from_items([self._ds.aggregate(*aggs)])
        names = self._ds.columns() or []
        for a in aggs:
            if a.on is not None and a.on not in names:
                raise ValueError("The column '%s' does not exist in the schema '%s'."
                                 % (a.on, self._ds.schema()))
        keys = self._keys
        return self._reduce("Aggregate", lambda *p: _group_agg_task.remote(keys, list(aggs), *p))

    def _each(self, cls, on, **kw):
        ons = [on] if isinstance(on, str) else list(on)
        return self.aggregate(*[cls(o, **kw) for o in ons])

    def count(self):
        return self.aggregate(A.Count())

    def sum(self, on=None, ignore_nulls=True):
        return self._each(A.Sum, self._default_on(on), ignore_nulls=ignore_nulls)

    def min(self, on=None, ignore_nulls=True):
        return self._each(A.Min, self._default_on(on), ignore_nulls=ignore_nulls)

    def max(self, on=None, ignore_nulls=True):
        return self._each(A.Max, self._default_on(on), ignore_nulls=ignore_nulls)

    def mean(self, on=None, ignore_nulls=True):
        return self._each(A.Mean, self._default_on(on), ignore_nulls=ignore_nulls)

    def std(self, on=None, ddof=1, ignore_nulls=True):
        return self._each(A.Std, self._default_on(on), ddof=ddof, ignore_nulls=ignore_nulls)

    def _default_on(self, on):
        """None: every column but the keys (as Ray does)."""
        if on is not None:
            return on
        return [c for c in (self._ds.columns() or []) if c not in self._keys]

    def map_groups(self, fn, *, compute=None, batch_format="default", fn_args=None,
                   fn_kwargs=None, **ray_remote_args):
        B.check_batch_format(batch_format)
        if not self._keys:
            raise ValueError("map_groups needs a groupby key (rayc does not support "
                             "groupby(None).map_groups)")
        keys = self._keys
        args, kwargs = tuple(fn_args or ()), dict(fn_kwargs or {})
        return self._reduce("MapGroups(%s)" % getattr(fn, "__name__", "fn"),
                            lambda *p: _group_map_task.remote(keys, fn, batch_format, args,
                                                              kwargs, *p))

"""The lazy plan of a Dataset and its streaming executor.

A Dataset holds the last operator of a chain; nothing runs until the
data is consumed.  Execution turns each operator into a generator of
(block ObjectRef, metadata dict) pairs that pulls from its input:

- Map operators (reads, map, map_batches, filter, ...; consecutive ones
  with the same resources fused into one task) keep a bounded number of
  tasks or actor calls in flight: no more than the CPUs allow and no more
  than the byte budget (DataContext.max_bytes_in_flight, by default a
  quarter of the object store) divided between the operators, counted
  from the block sizes seen so far.  A block's ref is dropped once the
  consumer moves past it, so the object store frees it: a dataset many
  times the store's size streams through it.
- All-to-all operators (sort, random_shuffle, repartition, groupby, zip)
  are barriers: they gather their input's refs, then run their own tasks.
"""
import collections
import sys

import ray
from ray.data import _tasks
from ray.data import block as B
from ray.data.context import DataContext


class ReadTask:
    """One unit of reading: read() returns a list of blocks (runs in a
    task).  FN(*ARGS) must be picklable."""

    def __init__(self, fn, *args):
        self.fn = fn
        self.args = args

    def read(self):
        out = self.fn(*self.args)
        return out if isinstance(out, list) else [out]


class Transform:
    """One map-like step: KIND is "batches", "rows", "flat", "filter" or
    "block" (FN maps a whole block); FN is a function or, for a callable
    class, the class (built once per worker by setup())."""

    def __init__(self, kind, fn, batch_format="default", batch_size=None, fn_args=(),
                 fn_kwargs=None, ctor_args=(), ctor_kwargs=None, zero_copy_batch=False):
        self.kind = kind
        self.fn = fn
        self.batch_format = batch_format
        self.batch_size = batch_size
        self.fn_args = tuple(fn_args or ())
        self.fn_kwargs = dict(fn_kwargs or {})
        self.ctor_args = tuple(ctor_args or ())
        self.ctor_kwargs = dict(ctor_kwargs or {})
        self.is_class = isinstance(fn, type)

    def setup(self, state):
        if self.is_class and id(self) not in state:
            state[id(self)] = self.fn(*self.ctor_args, **self.ctor_kwargs)

    def _callable(self, state):
        if not self.is_class:
            return self.fn
        if state is None:
            raise ValueError("``compute`` must be specified when using a callable class, and "
                             "must specify the actor compute strategy.")
        self.setup(state)
        return state[id(self)]

    def apply(self, blocks, state):
        fn = self._callable(state)
        call = (lambda x: fn(x, *self.fn_args, **self.fn_kwargs))
        if self.kind == "block":
            return [fn(B.concat(list(blocks)))]
        if self.kind == "batches":
            return self._batches(blocks, call)
        return [self._rows(blocks, call)]

    def _batches(self, blocks, call):
        block = B.concat(list(blocks))
        n = B.num_rows(block)
        size = self.batch_size or n or 1
        out = []
        for start in range(0, n, size):
            batch = B.to_batch(B.slice_block(block, start, min(n, start + size)),
                               self.batch_format)
            res = call(batch)
            if hasattr(res, "__next__"):
                out.extend(B.from_batch(r) for r in res)
            else:
                out.append(B.from_batch(res))
        return out

    def _rows(self, blocks, call):
        rows = []
        for block in blocks:
            for row in B.iter_rows(block):
                res = call(row)
                if self.kind == "rows":
                    if not isinstance(res, dict):
                        raise ValueError("Expected a dict from the `fn` passed to `map`, got %s: "
                                         "map() must return a dict (column name -> value) per "
                                         "row." % type(res).__name__)
                    rows.append(res)
                elif self.kind == "flat":
                    rows.extend(res)
                elif res:
                    rows.append(row)
        if self.kind == "filter" and not rows:
            return B.slice_block(B.concat(list(blocks)), 0, 0) if blocks else {}
        return B.from_rows(rows)


# ---- operators --------------------------------------------------------------

class Op:
    name = "Op"
    inputs = ()

    def num_outputs(self):
        return None


class Source(Op):
    """Items that already exist: ReadTasks (read by the map operator that
    consumes them) or (ref, metadata) pairs of blocks in the store."""

    def __init__(self, items, name):
        self.items = list(items)
        self.name = name

    def num_outputs(self):
        return len(self.items)


class MapOp(Op):
    def __init__(self, input_op, chain, name, remote_args=None, pool_size=None,
                 concurrency=None):
        self.inputs = (input_op,)
        self.chain = list(chain)
        self.name = name
        self.remote_args = dict(remote_args or {})
        self.pool_size = pool_size      # actors in the pool; None: tasks
        self.concurrency = concurrency  # at most this many tasks at once

    def num_outputs(self):
        return self.inputs[0].num_outputs()

    def fused_with(self, chain, name, remote_args, pool_size, concurrency):
        """A new MapOp running this one's chain then CHAIN in one task, or
        None when they cannot share a task (different resources, actors)."""
        if (pool_size is not None or self.pool_size is not None
                or dict(remote_args or {}) != self.remote_args
                or concurrency != self.concurrency):
            return None
        return MapOp(self.inputs[0], self.chain + list(chain), self.name + "->" + name,
                     self.remote_args, None, concurrency)


class AllToAll(Op):
    """A barrier: FN(list of (ref, meta) per input) -> list of (ref, meta)."""

    def __init__(self, inputs, fn, name):
        self.inputs = tuple(inputs)
        self.fn = fn
        self.name = name


class Union(Op):
    def __init__(self, inputs):
        self.inputs = tuple(inputs)
        self.name = "Union"


class Limit(Op):
    def __init__(self, input_op, n):
        self.inputs = (input_op,)
        self.n = n
        self.name = "Limit[limit=%d]" % n


# ---- execution --------------------------------------------------------------

class ExecStats:
    """What a run did: per operator (name, blocks out, rows out, bytes out)
    and the largest estimate of block bytes held in the store at once."""

    def __init__(self, budget):
        self.budget = budget
        self.ops = collections.OrderedDict()
        self.held = {}
        self.peak_bytes = 0

    def add(self, name, meta):
        s = self.ops.setdefault(name, {"blocks": 0, "rows": 0, "bytes": 0})
        s["blocks"] += 1
        s["rows"] += meta["num_rows"]
        s["bytes"] += meta["size_bytes"]

    def hold(self, key, nbytes):
        self.held[key] = nbytes
        self.peak_bytes = max(self.peak_bytes, sum(self.held.values()))

    def summary(self):
        lines = []
        for i, (name, s) in enumerate(self.ops.items()):
            lines.append("Operator %d %s: %d blocks produced, %d rows, %d bytes"
                         % (i, name, s["blocks"], s["rows"], s["bytes"]))
        lines.append("Peak estimated bytes in flight: %d (budget %d)"
                     % (self.peak_bytes, self.budget))
        return "\n".join(lines)


def _count_map_ops(op):
    n = 1 if isinstance(op, MapOp) else 0
    return n + sum(_count_map_ops(i) for i in op.inputs)


def _budget():
    ctx = DataContext.get_current()
    if ctx.max_bytes_in_flight:
        return int(ctx.max_bytes_in_flight)
    store = ray.cluster_resources().get("object_store_memory", 2 << 30)
    return int(store // 4)


def _cpus():
    return max(1, int(ray.cluster_resources().get("CPU", 1)))


def execute(op):
    """A generator of (ref, meta) for OP's output blocks, in order.  The
    run's ExecStats are left in DataContext.execution_stats."""
    stats = ExecStats(_budget())
    DataContext.get_current().execution_stats = stats
    n_maps = max(1, _count_map_ops(op))
    return _exec(op, stats, max(1, stats.budget // n_maps), _cpus())


def _exec(op, stats, share, cpus):
    if isinstance(op, Source):
        return iter(op.items)
    if isinstance(op, MapOp):
        return _run_map(op, _exec(op.inputs[0], stats, share, cpus), stats, share, cpus)
    if isinstance(op, Union):
        return _chain(*[_exec(i, stats, share, cpus) for i in op.inputs])
    if isinstance(op, Limit):
        return _run_limit(op, _exec(op.inputs[0], stats, share, cpus), stats)
    if isinstance(op, AllToAll):
        return _run_all_to_all(op, [_exec(i, stats, share, cpus) for i in op.inputs], stats)
    raise TypeError("unknown operator %r" % op)


def _chain(*gens):
    for g in gens:
        yield from g


def _progress(op):
    ctx = DataContext.get_current()
    if not ctx.enable_progress_bars or not sys.stderr.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(desc="- " + op.name, total=op.num_outputs(), unit=" blocks", delay=ctx.progress_bar_delay_s,
                leave=True, file=sys.stderr, dynamic_ncols=True)


class _TaskLauncher:
    def __init__(self, op):
        self.chain_ref = ray.put(op.chain)
        self.fn = _tasks.map_task.options(**_task_options(op.remote_args))

    def submit(self, item):
        return self.fn.remote(self.chain_ref, item)

    def close(self):
        pass


class _ActorPool:
    """POOL_SIZE MapWorker actors; a call goes to the least busy one."""

    def __init__(self, op, cpus):
        ctx = DataContext.get_current()
        opts = _task_options(op.remote_args)
        # Actors that can never all start would leave their calls queued
        # forever, and a pool holding every CPU starves the tasks feeding it.
        need = op.pool_size * opts.get("num_cpus", 0)
        feeds = not isinstance(op.inputs[0], Source) or any(
            isinstance(i, ReadTask) for i in op.inputs[0].items)
        if need > cpus or (feeds and need >= cpus and need > 0):
            raise ValueError("%s: an actor pool of %d actors with num_cpus=%g needs %g CPUs, "
                             "but the cluster has %d%s; lower `concurrency` or num_cpus"
                             % (op.name, op.pool_size, opts.get("num_cpus", 0), need, cpus,
                                " and the tasks feeding the pool need one more" if feeds
                                and need <= cpus else ""))
        cls = ray.remote(_tasks.MapWorker).options(**opts)
        self.actors = [cls.remote(op.chain) for _ in range(op.pool_size)]
        ray.get([a.ready.remote() for a in self.actors])
        self.busy = [0] * len(self.actors)
        self.per_actor = ctx.max_tasks_in_flight_per_actor
        self.calls = {}

    def capacity(self):
        return len(self.actors) * self.per_actor

    def submit(self, item):
        i = min(range(len(self.actors)), key=lambda k: self.busy[k])
        self.busy[i] += 1
        refs = self.actors[i].map.options(num_returns=2).remote(item)
        self.calls[refs[1]] = i
        return refs

    def done(self, meta_ref):
        self.busy[self.calls.pop(meta_ref)] -= 1

    def close(self):
        for a in self.actors:
            ray.kill(a)
        self.actors = []


def _task_options(remote_args):
    opts = {"num_cpus": 1}
    opts.update(remote_args)
    return {k: v for k, v in opts.items() if v is not None}


def _run_map(op, upstream, stats, share, cpus):
    """Streams UPSTREAM through OP's tasks (or actor pool), yielding the
    outputs in input order, with at most a bounded number in flight."""
    runner = _ActorPool(op, cpus) if op.pool_size else _TaskLauncher(op)
    limit = runner.capacity() if op.pool_size else 2 * cpus
    if op.concurrency:
        limit = min(limit, op.concurrency)
    inflight = collections.deque()
    avg_out, seen = 0, 0
    bar = _progress(op)
    exhausted = False
    try:
        while True:
            # Until a first output tells the block size, one task at a time.
            while not exhausted and len(inflight) < limit and (
                    not inflight or (seen and (len(inflight) + 1) * avg_out <= share)):
                try:
                    item = next(upstream)
                except StopIteration:
                    exhausted = True
                    break
                inp = item[0] if isinstance(item, tuple) else item
                refs = runner.submit(inp)
                inflight.append(refs)
                stats.hold(refs[1], avg_out)
            if not inflight:
                break
            block_ref, meta_ref = inflight.popleft()
            meta = ray.get(meta_ref)
            if op.pool_size:
                runner.done(meta_ref)
            seen += 1
            avg_out += (meta["size_bytes"] - avg_out) / seen
            stats.hold(meta_ref, meta["size_bytes"])
            stats.add(op.name, meta)
            if bar is not None:
                bar.update(1)
            yield block_ref, meta
            stats.held.pop(meta_ref, None)
    finally:
        if bar is not None:
            bar.close()
        for refs in inflight:
            stats.held.pop(refs[1], None)
        runner.close()


def _run_limit(op, upstream, stats):
    left = op.n
    if left <= 0:
        return
    for ref, meta in upstream:
        if meta["num_rows"] <= left:
            left -= meta["num_rows"]
            stats.add(op.name, meta)
            yield ref, meta
        else:
            r, m = _tasks.slice_task.remote(ref, 0, left)
            m = ray.get(m)
            stats.add(op.name, m)
            left = 0
            yield r, m
        if left <= 0:
            upstream.close() if hasattr(upstream, "close") else None
            return


def _run_all_to_all(op, upstreams, stats):
    inputs = [list(u) for u in upstreams]
    bar = _progress(op)
    for ref, meta in op.fn(*inputs):
        stats.add(op.name, meta)
        if bar is not None:
            bar.update(1)
        yield ref, meta
    if bar is not None:
        bar.close()

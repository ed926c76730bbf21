"""Blocks: the unit of data Ray Data moves between tasks.

A block is either a pandas DataFrame or a "numpy block", a dict of
equal-length numpy arrays (one per column; a tensor column is an array of
ndim > 1, ragged tensors an object array of arrays).  Ray keeps blocks as
Arrow tables; Debian packages no pyarrow, so rayc uses these two forms.
Everything here is pure and runs both in the driver and in workers."""
import numpy as np

try:
    import pandas as pd
except ImportError:  # pandas blocks and batch_format="pandas" need it
    pd = None


def is_pandas(block):
    return pd is not None and isinstance(block, pd.DataFrame)


def num_rows(block):
    if is_pandas(block):
        return len(block)
    for col in block.values():
        return len(col)
    return 0


def column_names(block):
    return [str(c) for c in block.columns] if is_pandas(block) else list(block)


def size_bytes(block):
    if is_pandas(block):
        return int(block.memory_usage(index=False, deep=True).sum())
    total = 0
    for col in block.values():
        if col.dtype == object:
            total += sum(getattr(v, "nbytes", len(v) if isinstance(v, (bytes, str)) else 8)
                         for v in col)
        total += col.nbytes
    return int(total)


def schema(block):
    """Column name -> type name (numpy dtype names; tensors as
    "numpy.ndarray(shape=..., dtype=...)", as Ray prints tensor columns)."""
    out = {}
    if is_pandas(block):
        for c in block.columns:
            out[str(c)] = _pandas_type(block[c])
        return out
    for c, col in block.items():
        if col.ndim > 1:
            out[c] = "numpy.ndarray(shape=%s, dtype=%s)" % (tuple(col.shape[1:]), col.dtype)
        elif col.dtype == object and len(col) and isinstance(col[0], np.ndarray):
            out[c] = "numpy.ndarray(shape=%s, dtype=%s)" % (
                tuple(None for _ in col[0].shape), col[0].dtype)
        elif col.dtype == object and len(col):
            out[c] = _py_type(col[0])
        else:
            out[c] = str(col.dtype)
    return out


def schema_repr(types):
    """TYPES (name -> type) as Ray prints a schema: a Column/Type table."""
    names = list(types)
    w = max([len("Column")] + [len(n) for n in names])
    lines = ["Column".ljust(w) + "  Type", "-" * len("Column") + " " * (w - 4) + "----"]
    lines += [n.ljust(w) + "  " + types[n] for n in names]
    return "\n".join(lines)


def check_columns(names, block):
    """Raises Ray's ValueError when a name in NAMES is not a column of BLOCK."""
    have = column_names(block)
    for n in names:
        if n not in have:
            raise ValueError("The column '%s' does not exist in the schema '%s'."
                             % (n, schema_repr(schema(block))))


def _py_type(v):
    return {str: "string", bytes: "binary"}.get(type(v), type(v).__name__)


def _pandas_type(series):
    if series.dtype == object and len(series):
        v = series.iloc[0]
        if isinstance(v, np.ndarray):
            return "numpy.ndarray(shape=%s, dtype=%s)" % (v.shape, v.dtype)
        return _py_type(v)
    return str(series.dtype)


SAMPLES = 32       # values per column kept in a block's metadata
SAMPLED_COLUMNS = 16


def _samples(block):
    """Up to SAMPLES evenly spaced values of the first SAMPLED_COLUMNS
    one-dimensional columns: sort and groupby choose their partition
    boundaries from these without reading the blocks again."""
    n = num_rows(block)
    if n == 0:
        return {}
    idx = np.linspace(0, n - 1, min(n, SAMPLES)).astype(np.int64)
    out = {}
    names = list(block.columns if is_pandas(block) else block)[:SAMPLED_COLUMNS]
    for name in names:
        col = block[name].to_numpy() if is_pandas(block) else block[name]
        if col.ndim == 1 and col.dtype != object:
            out[str(name)] = col[idx].copy()
    return out


def metadata(block):
    return {"num_rows": num_rows(block), "size_bytes": size_bytes(block),
            "schema": schema(block), "samples": _samples(block)}


def _column_array(values):
    """A numpy column from a list of values: stacked when they are arrays
    of one shape, else an object array; strings stay Python objects."""
    if values and isinstance(values[0], np.ndarray):
        shapes = {v.shape for v in values if isinstance(v, np.ndarray)}
        if len(shapes) == 1 and all(isinstance(v, np.ndarray) for v in values):
            return np.stack(values)
        out = np.empty(len(values), dtype=object)
        out[:] = values if len(shapes) > 1 else [np.asarray(v) for v in values]
        return out
    try:
        arr = np.asarray(values)
    except ValueError:
        arr = None
    if arr is None or arr.ndim != 1 or arr.dtype.kind in "USV":
        arr = np.empty(len(values), dtype=object)
        arr[:] = values
    return arr


def to_numpy(block):
    """BLOCK as a dict of numpy arrays (object columns holding arrays of one
    shape are stacked into a tensor column)."""
    if not is_pandas(block):
        return block
    out = {}
    for c in block.columns:
        col = block[c].to_numpy()
        if col.dtype == object and len(col) and isinstance(col[0], np.ndarray):
            col = _column_array(list(col))
        out[str(c)] = col
    return out


def to_pandas(block):
    if is_pandas(block):
        return block
    if pd is None:
        raise ImportError("batch_format=\"pandas\" needs pandas (Debian: python3-pandas)")
    cols = {}
    for c, col in block.items():
        cols[c] = list(col) if col.ndim > 1 else col
    return pd.DataFrame(cols) if cols else pd.DataFrame(index=range(num_rows(block)))


def from_rows(rows):
    """A numpy block from a list of dicts (every row must have the same
    columns)."""
    if not rows:
        return {}
    names = list(rows[0])
    for r in rows:
        if not isinstance(r, dict):
            raise ValueError("Expected a dict for each row (column name -> value), got %s: %r"
                             % (type(r).__name__, r))
        if list(r) != names and set(r) != set(names):
            raise ValueError("Rows have different columns: %s and %s" % (names, list(r)))
    return {n: _column_array([r[n] for r in rows]) for n in names}


def from_batch(batch, where="map_batches"):
    """Checks what a UDF returned and makes a block of it: a dict of
    arrays (or lists) of one length, or a pandas DataFrame."""
    if is_pandas(batch):
        idx = batch.index
        if isinstance(idx, pd.RangeIndex) and idx.start == 0 and idx.step == 1:
            return batch  # reset_index would copy every column for nothing
        return batch.reset_index(drop=True)
    if isinstance(batch, dict):
        out = {}
        for k, v in batch.items():
            out[str(k)] = v if isinstance(v, np.ndarray) else _column_array(list(v))
        lens = {len(v) for v in out.values()}
        if len(lens) > 1:
            raise ValueError("The `fn` you passed to `%s` returned a batch whose columns have "
                             "different lengths: %s" % (where, {k: len(v) for k, v in out.items()}))
        return out
    raise ValueError("The `fn` you passed to `%s` returned a value of type %s. This isn't "
                     "allowed -- `%s` expects `fn` to return a `pandas.DataFrame` or "
                     "`Dict[str, np.ndarray]`." % (where, type(batch), where))


def slice_block(block, start, end):
    if is_pandas(block):
        return block.iloc[start:end].reset_index(drop=True)
    return {c: col[start:end] for c, col in block.items()}


def take_indices(block, idx):
    if is_pandas(block):
        return block.iloc[idx].reset_index(drop=True)
    return {c: col[idx] for c, col in block.items()}


def concat(blocks):
    blocks = [b for b in blocks if num_rows(b) > 0 or column_names(b)]
    nonempty = [b for b in blocks if num_rows(b) > 0]
    if not nonempty:
        return blocks[0] if blocks else {}
    if len(nonempty) == 1:
        return nonempty[0]
    if all(is_pandas(b) for b in nonempty):
        return pd.concat(nonempty, ignore_index=True)
    arrays = [to_numpy(b) for b in nonempty]
    names = list(arrays[0])
    for a in arrays[1:]:
        if set(a) != set(names):
            raise ValueError("Cannot concatenate blocks with different columns: %s and %s"
                             % (names, list(a)))
    out = {}
    for n in names:
        cols = [a[n] for a in arrays]
        if any(c.dtype == object for c in cols) or len({c.shape[1:] for c in cols}) > 1:
            merged = []
            for c in cols:
                merged.extend(list(c))
            out[n] = _column_array(merged)
        else:
            out[n] = np.concatenate(cols)
    return out


def _py(v):
    return v.item() if isinstance(v, np.generic) else v


def iter_rows(block):
    """Rows as dicts; numpy scalars become Python values, as in Ray."""
    if is_pandas(block):
        names = [str(c) for c in block.columns]
        for tup in block.itertuples(index=False, name=None):
            yield {n: _py(v) for n, v in zip(names, tup)}
        return
    names = list(block)
    cols = [block[n] for n in names]
    for i in range(num_rows(block)):
        yield {n: _py(c[i]) for n, c in zip(names, cols)}


def column(block, name):
    """The column NAME as a numpy array."""
    return to_numpy(block)[name]


def select(block, names):
    if is_pandas(block):
        return block[list(names)]
    return {n: block[n] for n in names}


def to_batch(block, batch_format):
    """BLOCK in the batch format a UDF asked for ("numpy" or "pandas";
    "default" and None are numpy as in Ray 2.x)."""
    if batch_format == "pandas":
        return to_pandas(block)
    if batch_format in ("numpy", "default", None):
        return dict(to_numpy(block))
    raise ValueError("The given batch format %s isn't allowed (must be one of %s)."
                     % (batch_format, VALID_BATCH_FORMATS))


VALID_BATCH_FORMATS = ["default", "pandas", "numpy", None]


def check_batch_format(batch_format):
    if batch_format == "pyarrow":
        raise ValueError("The given batch format pyarrow isn't supported by rayc: Debian "
                         "packages no pyarrow (must be one of %s)." % VALID_BATCH_FORMATS)
    if batch_format not in VALID_BATCH_FORMATS:
        raise ValueError("The given batch format %s isn't allowed (must be one of %s)."
                         % (batch_format, VALID_BATCH_FORMATS))

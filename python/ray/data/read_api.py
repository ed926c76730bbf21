"""Creating datasets: ray.data.range, from_*, read_* (Ray's names, column
names and defaults).  Files are read in tasks, one task per file (range
and in-memory data are cut into blocks)."""
import builtins
import io
import json
import os

import numpy as np

import ray
from ray.data import block as B
from ray.data.context import DataContext
from ray.data.dataset import Dataset, MaterializedDataset
from ray.data.plan import MapOp, ReadTask, Source

PARQUET_ERROR = ("rayc's Ray Data cannot read or write Parquet: it needs pyarrow, which Debian "
                 "does not package (use read_csv, read_json or read_numpy)")

IMAGE_EXTENSIONS = ["png", "jpg", "jpeg", "tif", "tiff", "bmp", "gif"]


def _num_blocks(n_rows, est_bytes, override):
    """Ray's choice: override_num_blocks if given, else about 200 blocks,
    fewer when they would be under target_min_block_size, at least 2 per
    CPU, never more than the rows."""
    if override is not None and override > 0:
        return max(1, min(int(override), max(1, n_rows)))
    ctx = DataContext.get_current()
    cpus = int(ray.cluster_resources().get("CPU", 1)) if ray.is_initialized() else 1
    by_size = est_bytes // ctx.target_min_block_size
    n = max(2 * cpus, min(ctx.read_op_min_num_blocks, by_size))
    return max(1, min(n, n_rows))


def _read_dataset(tasks, name):
    return Dataset(MapOp(Source(tasks, name), [], name))


def _range_block(start, end):
    return {"id": np.arange(start, end, dtype=np.int64)}


def _range_tensor_block(start, end, shape):
    ids = np.arange(start, end, dtype=np.int64)
    return {"data": np.ones((end - start,) + tuple(shape), dtype=np.int64)
            * ids.reshape((-1,) + (1,) * len(shape))}


def _cuts(n, k):
    return [(n * i // k, n * (i + 1) // k) for i in builtins.range(k)]


def range(n, *, override_num_blocks=None, parallelism=-1, concurrency=None):  # noqa: A001
    """A dataset of rows {"id": 0} ... {"id": n - 1} (int64)."""
    if parallelism != -1 and override_num_blocks is None:
        override_num_blocks = parallelism
    k = _num_blocks(n, 8 * n, override_num_blocks)
    return _read_dataset([ReadTask(_range_block, s, e) for s, e in _cuts(n, k)], "ReadRange")


def range_tensor(n, *, shape=(1,), override_num_blocks=None, parallelism=-1):
    """A dataset of one tensor column "data": row i is an int64 array of
    SHAPE filled with i."""
    if parallelism != -1 and override_num_blocks is None:
        override_num_blocks = parallelism
    shape = tuple(shape)
    k = _num_blocks(n, 8 * n * int(np.prod(shape)), override_num_blocks)
    return _read_dataset([ReadTask(_range_tensor_block, s, e, shape) for s, e in _cuts(n, k)],
                         "ReadRange")


def _from_blocks(blocks, name):
    pairs = [(ray.put(b), B.metadata(b)) for b in blocks]
    return MaterializedDataset(Source(pairs, name))


def from_items(items, *, override_num_blocks=None, parallelism=-1):
    """Rows from a list: dicts are rows, anything else becomes {"item": x}."""
    if not isinstance(items, list):
        raise TypeError("from_items expects a list of items, got %s" % type(items).__name__)
    if parallelism != -1 and override_num_blocks is None:
        override_num_blocks = parallelism
    rows = [x if isinstance(x, dict) else {"item": x} for x in items]
    k = _num_blocks(len(rows), 64 * len(rows), override_num_blocks)
    return _from_blocks([B.from_rows(rows[s:e]) for s, e in _cuts(len(rows), k)], "FromItems")


def from_numpy(ndarrays):
    """One block per array, in the column "data"."""
    arrs = [ndarrays] if isinstance(ndarrays, np.ndarray) else list(ndarrays)
    return _from_blocks([{"data": a} for a in arrs], "FromNumpy")


def from_numpy_refs(refs):
    return from_numpy(ray.get(list(refs) if isinstance(refs, list) else [refs]))


def from_pandas(dfs):
    import pandas as pd
    dfs = [dfs] if isinstance(dfs, pd.DataFrame) else list(dfs)
    return _from_blocks([d.reset_index(drop=True) for d in dfs], "FromPandas")


def from_pandas_refs(refs):
    return from_pandas(ray.get(list(refs) if isinstance(refs, list) else [refs]))


# ---- files -----------------------------------------------------------------

def _expand(paths, extensions):
    paths = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    out = []
    for p in paths:
        p = os.fspath(p)
        if p.startswith("local://"):
            p = p[len("local://"):]
        if "://" in p:
            raise ValueError("rayc's Ray Data reads local files only, got %r" % p)
        if os.path.isdir(p):
            for root, dirs, files in os.walk(p):
                dirs.sort()
                for f in sorted(files):
                    if not f.startswith(".") and not f.startswith("_"):
                        out.append(os.path.join(root, f))
        elif os.path.exists(p):
            out.append(p)
        else:
            raise FileNotFoundError("No such file or directory: %r" % p)
    if extensions:
        exts = tuple("." + e.lower().lstrip(".") for e in extensions)
        out = [f for f in out if f.lower().endswith(exts)]
    if not out:
        raise ValueError("No input files found to read. Please double check that "
                         "'file_extensions' field is set properly.")
    return [os.path.abspath(f) for f in out]


def _with_path(block, path, include_paths):
    if include_paths:
        n = B.num_rows(block)
        col = np.empty(n, dtype=object)
        col[:] = [path] * n
        if B.is_pandas(block):
            block = block.assign(path=col)
        else:
            block = dict(block, path=col)
    return block


def _file_tasks(paths, extensions, reader, name, *args):
    files = _expand(paths, extensions)
    return _read_dataset([ReadTask(reader, f, *args) for f in files], name)


def _read_csv_file(path, include_paths, kw):
    import pandas as pd
    return _with_path(pd.read_csv(path, **kw), path, include_paths)


def read_csv(paths, *, include_paths=False, file_extensions=None, override_num_blocks=None,
             parallelism=-1, **arrow_csv_args):
    """CSV files (pandas.read_csv; extra keyword arguments go to it where
    Ray passes Arrow's CSV options)."""
    return _file_tasks(paths, file_extensions, _read_csv_file, "ReadCSV", include_paths,
                       arrow_csv_args)


def _read_json_file(path, include_paths, lines):
    import pandas as pd
    with open(path, "rb") as f:
        data = f.read()
    text = data.decode("utf-8")
    stripped = text.lstrip()
    if lines is False or (lines is None and stripped.startswith("[")):
        obj = json.loads(text)
        rows = obj if isinstance(obj, list) else [obj]
    else:
        rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    return _with_path(pd.DataFrame(rows), path, include_paths)


def read_json(paths, *, include_paths=False, file_extensions=None, lines=None,
              override_num_blocks=None, parallelism=-1, **kw):
    """JSON files: JSON lines (one object per line), or one array of
    objects (or one object) per file."""
    return _file_tasks(paths, file_extensions, _read_json_file, "ReadJSON", include_paths, lines)


def _read_text_file(path, include_paths, encoding, drop_empty_lines):
    with open(path, "rb") as f:
        lines = f.read().decode(encoding).splitlines()
    if drop_empty_lines:
        lines = [ln for ln in lines if ln.strip()]
    col = np.empty(len(lines), dtype=object)
    col[:] = lines
    return _with_path({"text": col}, path, include_paths)


def read_text(paths, *, encoding="utf-8", drop_empty_lines=True, include_paths=False,
              file_extensions=None, override_num_blocks=None, parallelism=-1):
    """One row per line: {"text": line}."""
    return _file_tasks(paths, file_extensions, _read_text_file, "ReadText", include_paths,
                       encoding, drop_empty_lines)


def _read_binary_file(path, include_paths):
    with open(path, "rb") as f:
        col = np.empty(1, dtype=object)
        col[0] = f.read()
    return _with_path({"bytes": col}, path, include_paths)


def read_binary_files(paths, *, include_paths=False, file_extensions=None,
                      override_num_blocks=None, parallelism=-1):
    """One row per file: {"bytes": contents}."""
    return _file_tasks(paths, file_extensions, _read_binary_file, "ReadBinary", include_paths)


def _read_image_file(path, include_paths, size, mode):
    from PIL import Image
    with open(path, "rb") as f:
        img = Image.open(io.BytesIO(f.read()))
        if mode is not None:
            img = img.convert(mode)
        if size is not None:
            img = img.resize((size[1], size[0]))
        arr = np.asarray(img)
    return _with_path({"image": arr[None, ...]}, path, include_paths)


def read_images(paths, *, size=None, mode=None, include_paths=False,
                file_extensions=IMAGE_EXTENSIONS, override_num_blocks=None, parallelism=-1):
    """One row per image: {"image": uint8 array (H, W[, C])} (Pillow);
    size=(height, width) resizes, mode converts ("RGB", "L", ...)."""
    try:
        import PIL  # noqa: F401
    except ImportError:
        raise ImportError("read_images needs Pillow; install the Debian package python3-pil") \
            from None
    if size is not None and (len(size) != 2 or min(size) <= 0):
        raise ValueError("Expected `size` to contain two positive integers for height and "
                         "width, but got %s instead." % (size,))
    return _file_tasks(paths, file_extensions, _read_image_file, "ReadImage", include_paths,
                       size, mode)


def _read_numpy_file(path, include_paths):
    arr = np.load(path, allow_pickle=False)
    if isinstance(arr, np.lib.npyio.NpzFile):
        arr = arr[arr.files[0]]
    return _with_path({"data": arr}, path, include_paths)


def read_numpy(paths, *, include_paths=False, file_extensions=["npy"],
               override_num_blocks=None, parallelism=-1):
    """.npy files: the array's rows in the column "data"."""
    return _file_tasks(paths, file_extensions, _read_numpy_file, "ReadNumpy", include_paths)


def read_parquet(paths, **kwargs):
    """Refused: Parquet needs pyarrow, which Debian does not package."""
    raise NotImplementedError(PARQUET_ERROR)

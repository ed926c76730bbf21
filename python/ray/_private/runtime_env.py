"""runtime_env working_dir and py_modules given to ray.init(), as in Ray.

The driver packs each local directory (or takes a .zip file) into a zip
named by a hash of its content, Ray's `gcs://_ray_pkg_<hash>.zip`, and
stores it in the GCS key-value store in chunks (a package already there is
not sent again).  The job's workers get the URIs in their environment
(WORKING_DIR_VAR, PY_MODULES_VAR); before its first task a worker unpacks
each package once per node under NODE_DIR/runtime_resources/, makes the
working_dir its current directory and puts both on sys.path.  So modules of
the working_dir and py_modules import in tasks and actors on every node,
whatever the nodes' file systems hold.

KV layout (the function table's namespace):
    b"pkg:NAME"      b"<size> <chunks>", written last (the package is whole)
    b"pkg:NAME:<i>"  chunk i (CHUNK bytes, the last one shorter)
"""
import fnmatch
import hashlib
import io
import os
import shutil
import sys
import threading
import zipfile

from ray import _raylet

WORKING_DIR_VAR = "RAYC_RUNTIME_ENV_WORKING_DIR"
PY_MODULES_VAR = "RAYC_RUNTIME_ENV_PY_MODULES"
SUPPORTED = {"env_vars", "working_dir", "py_modules", "excludes"}
CHUNK = 8 << 20
MAX_PACKAGE = 500 << 20   # Ray's GCS_STORAGE_MAX_SIZE
PREFIX = "gcs://"

_setup_lock = threading.Lock()
_setup_done = False


# ------------------------------------------------------------------ driver

def validate(runtime_env):
    """Raises ValueError (Ray's wording where Ray has one) for a runtime_env
    this front end cannot apply; returns it as a dict."""
    if runtime_env is None:
        return {}
    if not isinstance(runtime_env, dict):
        raise TypeError("runtime_env must be a dict, got %s" % type(runtime_env).__name__)
    unsupported = sorted(set(runtime_env) - SUPPORTED)
    if unsupported:
        raise ValueError("ray.init: runtime_env field(s) %s not supported by rayc's ray.init "
                         "(use `ray job submit --runtime-env-json` for pip)"
                         % ", ".join(unsupported))
    wd = runtime_env.get("working_dir")
    if wd is not None and not isinstance(wd, str):
        raise TypeError("working_dir must be a string, got %s" % type(wd).__name__)
    mods = runtime_env.get("py_modules")
    if mods is not None and (not isinstance(mods, list)
                             or not all(isinstance(m, str) for m in mods)):
        raise TypeError("py_modules must be a list of strings")
    for uri in ([wd] if wd else []) + list(mods or []):
        _check_source(uri)
    return runtime_env


def _check_source(src):
    if src.startswith(PREFIX):
        return
    if "://" in src:
        raise ValueError("%s is not a valid URI: rayc's ray.init takes a local directory, "
                         "a local .zip file or a gcs:// package" % src)
    if not os.path.exists(src):
        raise ValueError("%s is not a valid path: it does not exist" % src)
    if os.path.isfile(src) and not src.endswith(".zip"):
        raise ValueError("%s is not a valid path: only directories and .zip files can be "
                         "packaged" % src)


def pack(src, excludes, keep_top_dir):
    """(package name, zip bytes) of SRC: a .zip file as it is, or a
    directory's files (under the directory's own name when KEEP_TOP_DIR,
    as py_modules are); files matching EXCLUDES (fnmatch patterns on the
    path relative to SRC, or on a name) are left out."""
    if os.path.isfile(src):
        with open(src, "rb") as f:
            data = f.read()
    else:
        data = _zip_dir(os.path.abspath(src), excludes, keep_top_dir)
    if len(data) > MAX_PACKAGE:
        raise ValueError("Package size (%.2fMiB) exceeds the maximum size of %.2fMiB. You can "
                         "exclude large files using the 'excludes' option to the runtime_env."
                         % (len(data) / 2**20, MAX_PACKAGE / 2**20))
    return "_ray_pkg_%s.zip" % hashlib.sha1(data).hexdigest()[:16], data


def _excluded(rel, excludes):
    parts = rel.split("/")
    return any(fnmatch.fnmatch(rel, p.strip("/")) or any(fnmatch.fnmatch(x, p) for x in parts)
               for p in excludes)


def _zip_dir(root, excludes, keep_top_dir):
    out = io.BytesIO()
    top = os.path.basename(root.rstrip("/")) if keep_top_dir else ""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for d, dirs, files in os.walk(root):
            dirs[:] = sorted(x for x in dirs if x != "__pycache__" and
                             not _excluded(os.path.relpath(os.path.join(d, x), root), excludes))
            for name in sorted(files):
                path = os.path.join(d, name)
                rel = os.path.relpath(path, root)
                if _excluded(rel, excludes) or not os.path.isfile(path):
                    continue
                info = zipfile.ZipInfo(os.path.join(top, rel) if top else rel,
                                       date_time=(1980, 1, 1, 0, 0, 0))  # content decides the hash
                info.external_attr = (os.stat(path).st_mode & 0o777) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                with open(path, "rb") as f:
                    z.writestr(info, f.read())
    return out.getvalue()


def plan(runtime_env):
    """Packs the working_dir and py_modules of RUNTIME_ENV (validated):
    returns (env entries for the job's workers, {name: zip bytes} to upload
    once connected)."""
    excludes = list(runtime_env.get("excludes") or [])
    uploads = {}
    env = []

    def one(src, keep_top_dir):
        if src.startswith(PREFIX):
            return src
        name, data = pack(src, excludes, keep_top_dir)
        uploads[name] = data
        return PREFIX + name

    if runtime_env.get("working_dir"):
        env.append("%s=%s" % (WORKING_DIR_VAR, one(runtime_env["working_dir"], False)))
    mods = [one(m, os.path.isdir(m)) for m in runtime_env.get("py_modules") or []]
    if mods:
        env.append("%s=%s" % (PY_MODULES_VAR, ",".join(mods)))
    return env, uploads


def upload(uploads):
    """Stores each package of UPLOADS ({name: bytes}) in the GCS KV unless
    it is there already."""
    for name, data in uploads.items():
        meta = ("pkg:" + name).encode()
        if _raylet.kv_get(meta) is not None:
            continue
        chunks = [data[i:i + CHUNK] for i in range(0, len(data), CHUNK)] or [b""]
        for i, c in enumerate(chunks):
            _raylet.kv_put(b"%s:%d" % (meta, i), c)
        _raylet.kv_put(meta, b"%d %d" % (len(data), len(chunks)))


def check_uris(env):
    """Raises ValueError for a gcs:// URI in ENV entries that the cluster
    does not hold (Ray's message)."""
    for entry in env:
        for uri in entry.partition("=")[2].split(","):
            name = uri[len(PREFIX):]
            if _raylet.kv_get(("pkg:" + name).encode()) is None:
                raise ValueError("Failed to set up runtime environment: the package %s is not "
                                 "in the cluster (upload it with ray.init(runtime_env=...) "
                                 "from a local path first)" % uri)


# ------------------------------------------------------------------ worker

def setup_worker(node_dir):
    """Once per worker, before its first task: unpacks this job's packages
    (if any) under NODE_DIR/runtime_resources/ and makes the working_dir the
    current directory; both go first on sys.path.  Raises RuntimeError with
    Ray's "Failed to set up runtime environment" on a missing or bad
    package (ray.exceptions.RuntimeEnvSetupError)."""
    global _setup_done
    if _setup_done:
        return
    with _setup_lock:
        if _setup_done:
            return
        wd = os.environ.get(WORKING_DIR_VAR)
        mods = [m for m in os.environ.get(PY_MODULES_VAR, "").split(",") if m]
        base = os.path.join(node_dir, "runtime_resources")
        for uri in reversed(mods):
            _add_path(_local_copy(uri, os.path.join(base, "py_modules_files")))
        if wd:
            path = _local_copy(wd, os.path.join(base, "working_dir_files"))
            os.chdir(path)
            _add_path(path)
        _setup_done = True


def _add_path(path):
    if path in sys.path:
        sys.path.remove(path)
    sys.path.insert(0, path)


def _fail(uri, why):
    from ray.exceptions import RuntimeEnvSetupError
    raise RuntimeEnvSetupError("Failed to set up runtime environment: %s: %s" % (uri, why))


def _local_copy(uri, cache):
    """The directory holding package URI unpacked on this node (made once;
    concurrent workers race benignly: the first rename wins)."""
    if not uri.startswith(PREFIX):
        _fail(uri, "not a gcs:// package")
    name = uri[len(PREFIX):]
    dest = os.path.join(cache, name[:-4] if name.endswith(".zip") else name)
    if os.path.isdir(dest):
        return dest
    data = _fetch(uri, name)
    os.makedirs(cache, exist_ok=True)
    tmp = "%s.tmp.%d.%d" % (dest, os.getpid(), threading.get_ident())
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            for member in z.infolist():
                target = os.path.realpath(os.path.join(tmp, member.filename))
                if not target.startswith(os.path.realpath(tmp) + os.sep):
                    _fail(uri, "the archive names a path outside its directory: %s"
                          % member.filename)
            z.extractall(tmp)
            for member in z.infolist():
                mode = (member.external_attr >> 16) & 0o777
                if mode and not member.is_dir():
                    os.chmod(os.path.join(tmp, member.filename), mode | 0o400)
    except zipfile.BadZipFile as e:
        shutil.rmtree(tmp, ignore_errors=True)
        _fail(uri, "not a zip file (%s)" % e)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    try:
        os.rename(tmp, dest)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)  # another worker was first
        if not os.path.isdir(dest):
            raise
    return dest


def _fetch(uri, name):
    meta = _raylet.kv_get(("pkg:" + name).encode())
    if meta is None:
        _fail(uri, "the package is not in the cluster")
    try:
        size, nchunks = (int(x) for x in meta.split())
    except ValueError:
        _fail(uri, "its index entry is malformed")
    if not 0 <= size <= MAX_PACKAGE or not 0 < nchunks <= MAX_PACKAGE // CHUNK + 1:
        _fail(uri, "its index entry is out of range")
    parts = []
    for i in range(nchunks):
        c = _raylet.kv_get(b"pkg:%s:%d" % (name.encode(), i))
        if c is None:
            _fail(uri, "chunk %d is missing" % i)
        parts.append(c)
    data = b"".join(parts)
    if len(data) != size:
        _fail(uri, "it holds %d bytes, its index says %d" % (len(data), size))
    return data

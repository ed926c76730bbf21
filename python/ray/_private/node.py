"""A private local node for ray.init() without an address: `ray start
--head` from this build's bin/ in a temp dir of its own, stopped (and the
dir removed) when the driver shuts down, exits or dies: a guard process
(node_guard.py) holds a pipe from the driver and stops the node when the
pipe closes, even after a SIGKILL of the driver.  The node has a registry
of its own (TMP/nodes): `ray stop` elsewhere on the host does not stop it,
and the guard's `ray stop` stops this node only."""
import atexit
import os
import shutil
import socket
import subprocess
import sys
import tempfile


def _bin_dir():
    env = os.environ.get("RAYC_BIN_DIR")
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    for cand in (os.path.join(here, "..", "..", "..", "bin"),  # a checkout: python/ray/_private
                 # make install: PREFIX/lib/python3.X/dist-packages/ray/_private
                 os.path.join(here, "..", "..", "..", "..", "..", "bin")):
        if os.path.exists(os.path.join(cand, "raylet")):
            return os.path.normpath(cand)
    raise RuntimeError("ray.init(): cannot find rayc's bin/ (raylet, gcs_server); "
                       "set RAYC_BIN_DIR or pass an address")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalNode:
    """A head node on 127.0.0.1 owned by this driver."""

    def __init__(self, num_cpus=None, num_gpus=None, resources=None, object_store_memory=None):
        self.bin = _bin_dir()
        self.tmp = tempfile.mkdtemp(prefix="rayc_py_")
        # The node is registered in a registry of its own (not the host's),
        # so the guard's `ray stop` stops this node only, and a `ray stop`
        # of other nodes on the host does not stop it under its driver.
        self.registry = os.path.join(self.tmp, "nodes")
        self._start_guard()
        opts = []
        if num_cpus is not None:
            opts += ["--num-cpus", str(num_cpus)]
        if num_gpus is not None:
            opts += ["--num-gpus", str(num_gpus)]
        if object_store_memory is not None:
            opts += ["--object-store-memory", str(int(object_store_memory))]
        if resources:
            import json
            opts += ["--resources", json.dumps(resources)]
        self.env = dict(os.environ, RAY_TMPDIR=self.tmp, RAYC_NODE_REGISTRY=self.registry)
        self.env.pop("RAY_ADDRESS", None)
        # The ports were free when picked, but until `ray start` binds them
        # any process's bind to port 0 (the node's own daemons included) may
        # take one; `ray start` then undoes itself and says so, and new
        # ports are picked.
        for _ in range(5):
            port = _free_port()
            cmd = [os.path.join(self.bin, "ray"), "start", "--head", "--node-ip-address",
                   "127.0.0.1", "--port", str(port), "--dashboard-port", str(_free_port()),
                   "--dashboard-agent-listen-port", str(_free_port())] + opts
            r = subprocess.run(cmd, env=self.env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
            if r.returncode == 0 or "already in use" not in r.stdout:
                break
        if r.returncode != 0:
            self.stop()
            raise RuntimeError("ray.init(): starting a local node failed:\n" + r.stdout)
        self.address = "127.0.0.1:%d" % port
        self.token_file = os.path.join(self.tmp, "session_latest", "auth_token")
        atexit.register(self.stop)

    def _start_guard(self):
        """Starts node_guard.py with the read end of a pipe only this
        process can write to (os.pipe is close-on-exec: the node's daemons
        and other children do not hold it)."""
        r, w = os.pipe()
        guard = os.path.join(os.path.dirname(os.path.abspath(__file__)), "node_guard.py")
        try:
            self._guard = subprocess.Popen(
                [sys.executable, guard, str(r), os.path.join(self.bin, "ray"), self.tmp],
                pass_fds=(r,), start_new_session=True, stdin=subprocess.DEVNULL,
                env=dict(os.environ, RAYC_NODE_REGISTRY=self.registry),
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except OSError:
            os.close(w)
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise
        finally:
            os.close(r)
        self._guard_w = w

    def stop(self):
        """Stops the node (the guard runs `ray stop` and removes the dir)
        and waits until that is done."""
        if self.tmp is None:
            return
        os.close(self._guard_w)
        self._guard.wait()
        self.tmp = None

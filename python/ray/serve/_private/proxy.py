"""The HTTP proxy of each node.

ProxyActor starts and watches the C proxy, bin/ray_serve_proxy (serve/ in
the checkout), which serves HTTP and calls the replicas itself: no Python
runs on a request's path outside the replica.  PythonProxyActor is the
same proxy in Python (aiohttp on the actor's event loop), used when
RAYC_SERVE_PROXY=python is in the driver's environment when Serve starts
(the benchmark compares the two) or when the C proxy was not built."""
import os
import subprocess
import sys

from ray.serve import handle as serve_handle


def proxy_class(kind):
    """("c", ProxyActor) or ("python", PythonProxyActor) for KIND (the
    RAYC_SERVE_PROXY of the driver that started Serve)."""
    if kind == "python" or _proxy_binary() is None:
        return "python", PythonProxyActor
    return "c", ProxyActor


def _proxy_binary():
    from ray._private.node import _bin_dir
    try:
        path = os.path.join(_bin_dir(), "ray_serve_proxy")
    except RuntimeError:
        return None
    return path if os.access(path, os.X_OK) else None


def _token_file():
    argv = sys.argv
    for i, a in enumerate(argv[:-1]):
        if a == "--token-file":
            return argv[i + 1]
    return os.environ.get("RAY_AUTH_TOKEN_PATH")


class ProxyActor:
    """Runs bin/ray_serve_proxy for this node; it dies with this actor."""

    def __init__(self, host, port, node_id):
        from ray import _raylet
        env = dict(os.environ)
        token = _token_file()
        if token:
            env["RAY_AUTH_TOKEN_PATH"] = token
        log_dir = os.path.join(_raylet.info().get("node_dir", "/tmp"), "logs")
        self.log = os.path.join(log_dir, "serve_proxy.log") if os.path.isdir(log_dir) else None
        cmd = [_proxy_binary(), "--host", host, "--port", str(port), "--node-id", node_id,
               "--parent-pid", str(os.getpid())]
        gcs = os.environ.get("RAYC_GCS_ADDRESS")
        if gcs:
            cmd += ["--gcs-address", gcs]
        if self.log:
            cmd += ["--log-file", self.log]
        self.proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        line = self.proc.stdout.readline()
        if not line.startswith(b"listening"):
            err = self.proc.stderr.read().decode(errors="replace").strip()
            self.proc.wait()
            raise RuntimeError("the Serve HTTP proxy failed to start: %s"
                               % (err or "exit status %s" % self.proc.returncode))

    def stop(self):
        """Stops the proxy process (SIGTERM, then SIGKILL after 10 s), so
        the port is free even if this actor outlives serve.shutdown."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return True

    def ready(self):
        """-1 while the proxy process runs; raises once it has exited."""
        if self.proc.poll() is not None:
            raise RuntimeError("the Serve HTTP proxy exited with status %s"
                               % self.proc.returncode)
        return -1


class PythonProxyActor:
    def __init__(self, host, port, node_id=None):
        self.host = host
        self.port = port
        self.routes = {}
        self.version = -1
        self.runner = None

    async def _start(self):
        from aiohttp import web
        app = web.Application(client_max_size=100 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, self.host, self.port, reuse_address=True)
        await site.start()

    async def stop(self):
        """Closes the listening socket (see ProxyActor.stop)."""
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None
        return True

    async def set_routes(self, version, routes):
        """Takes the controller's route table; returns its version once the
        server listens."""
        if self.runner is None:
            await self._start()
        if version >= self.version:
            self.routes = routes
            self.version = version
        return self.version

    def _match(self, path):
        best = None
        for prefix in self.routes:
            p = prefix.rstrip("/")
            if path == p or path.startswith(p + "/") or prefix == "/":
                if best is None or len(prefix) > len(best):
                    best = prefix
        return best

    async def _handle(self, request):
        from aiohttp import web
        path = request.path
        if path == "/-/healthz":
            return web.Response(text="success")
        if path == "/-/routes":
            return web.json_response({p: a for p, (a, _) in self.routes.items()})
        prefix = self._match(path)
        if prefix is None:
            return web.Response(status=404, text="Path '%s' not found. Ping "
                                "http://.../-/routes for available routes." % path)
        app, ingress = self.routes[prefix]
        body = await request.read()
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": request.method, "scheme": "http", "path": path,
                 "raw_path": request.raw_path.split("?")[0].encode(),
                 "query_string": request.query_string.encode(),
                 "root_path": "" if prefix == "/" else prefix.rstrip("/"),
                 "headers": [(k.lower(), v) for k, v in request.raw_headers],
                 "client": (request.remote or "", 0), "server": (self.host, self.port)}
        router = serve_handle._router(app, ingress)
        call = router.submit(None, (scope, body), {}, actor_method="handle_http")
        try:
            status, headers, out = await serve_handle.DeploymentResponse(router, call)
        except Exception as e:  # noqa: BLE001 - the replica could not answer
            return web.Response(status=500, text="%s: %s" % (type(e).__name__, e))
        resp = web.Response(status=status, body=out)
        for k, v in headers:
            if k.lower() != "content-length":
                resp.headers.add(k, v)
        return resp


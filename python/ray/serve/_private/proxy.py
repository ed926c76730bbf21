"""The HTTP proxy of one node (an interim in Python: aiohttp on the
actor's event loop; see ../README.md for why it is not yet the C proxy).
It routes each request by the longest matching route_prefix to the
application's ingress deployment, through the same router as handles
(power of two choices, max_ongoing_requests), and sends the request to a
replica's handle_http as an ASGI scope and body."""
import json

from ray.serve import handle as serve_handle


class ProxyActor:
    def __init__(self, host, port):
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


def routes_json(routes):
    return json.dumps({p: a for p, (a, _) in routes.items()})

"""The two servers of bench/serve_bench.sh, the same no-op handler each:

    serve_bench_app.py aiohttp PORT   a single-process aiohttp server
    serve_bench_app.py serve PORT     Ray Serve (one replica) behind the node's proxy

Prints "ready" once it answers, then serves until stdin closes."""
import sys


def handler_text():
    return "ok"


def run_aiohttp(port):
    from aiohttp import web

    async def handle(request):
        return web.Response(text=handler_text())
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)

    async def start():
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        print("ready", flush=True)
        import asyncio
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    import asyncio
    asyncio.run(start())


def run_serve(port):
    import ray
    from ray import serve

    @serve.deployment(max_ongoing_requests=64)
    class NoOp:
        async def __call__(self, request):
            return handler_text()
    ray.init(log_to_driver=False)
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    serve.run(NoOp.bind(), route_prefix="/")
    print("ready", flush=True)
    sys.stdin.read()
    serve.shutdown()
    ray.shutdown()


if __name__ == "__main__":
    {"aiohttp": run_aiohttp, "serve": run_serve}[sys.argv[1]](int(sys.argv[2]))

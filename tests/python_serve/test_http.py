"""Serve's HTTP ingress: starlette Requests in, Ray's conversions of
return values out, 500 on errors, 404 on unknown routes."""
import json

import pytest
from starlette.responses import JSONResponse, PlainTextResponse

from conftest import http
from ray import serve


@pytest.fixture(scope="module")
def url(serve_instance):
    return serve_instance


@serve.deployment
class Echo:
    async def __call__(self, request):
        body = await request.body()
        kind = request.query_params.get("kind", "dict")
        if kind == "str":
            return "hello %s" % request.url.path
        if kind == "bytes":
            return body
        if kind == "list":
            return [1, 2, 3]
        if kind == "response":
            return PlainTextResponse("teapot", status_code=418,
                                     headers={"x-serve": "yes"})
        if kind == "error":
            raise KeyError("no such thing")
        return {"method": request.method, "path": request.url.path,
                "header": request.headers.get("x-test"), "len": len(body)}


@serve.deployment
def hello(request):
    return JSONResponse({"fn": request.query_params.get("name")})


def test_http_dict_is_json(url):
    serve.run(Echo.bind(), name="echo", route_prefix="/echo")
    st, body, hdr = http(url + "/echo/sub?x=1", data=b"abcd", headers={"x-test": "v"})
    assert st == 200
    assert hdr["content-type"] == "application/json"
    assert json.loads(body) == {"method": "POST", "path": "/echo/sub", "header": "v", "len": 4}


def test_http_str_bytes_list_and_response(url):
    st, body, hdr = http(url + "/echo?kind=str")
    assert (st, body) == (200, b"hello /echo")
    assert hdr["content-type"].startswith("text/plain")
    assert http(url + "/echo?kind=bytes", data=b"\x00\x01raw")[:2] == (200, b"\x00\x01raw")
    assert json.loads(http(url + "/echo?kind=list")[1]) == [1, 2, 3]
    st, body, hdr = http(url + "/echo?kind=response")
    assert (st, body, hdr.get("x-serve")) == (418, b"teapot", "yes")


def test_http_exception_is_500_with_error_text(url):
    st, body, _ = http(url + "/echo?kind=error")
    assert st == 500
    assert b"KeyError" in body and b"no such thing" in body


def test_http_unknown_route_is_404(url):
    st, body, _ = http(url + "/nowhere")
    assert st == 404
    assert b"/nowhere" in body


def test_http_function_deployment_and_longest_prefix(url):
    serve.run(hello.bind(), name="hello", route_prefix="/echo/hello")
    st, body, _ = http(url + "/echo/hello?name=ray")
    assert (st, json.loads(body)) == (200, {"fn": "ray"})
    assert json.loads(http(url + "/echo/other")[1])["path"] == "/echo/other"


def test_http_deleted_app_is_404(url):
    serve.run(hello.options(name="tmp").bind(), name="tmp", route_prefix="/tmp")
    assert http(url + "/tmp")[0] == 200
    serve.delete("tmp")
    from conftest import wait_for
    wait_for(lambda: http(url + "/tmp")[0] == 404, "the proxy to drop /tmp")


def test_http_routes_and_healthz(url):
    assert http(url + "/-/healthz")[:2] == (200, b"success")
    routes = json.loads(http(url + "/-/routes")[1])
    assert routes["/echo"] == "echo"


def test_http_proxy_is_the_c_program(url):
    """The node's proxy is bin/ray_serve_proxy (a child of the proxy actor)."""
    import subprocess
    port = url.rsplit(":", 1)[1]
    out = subprocess.run(["pgrep", "-a", "-f", "ray_serve_proxy"], capture_output=True,
                         text=True).stdout
    assert any("--port %s " % port in line for line in out.splitlines()), out


def test_http_spreads_over_replicas_and_survives_a_replica_death(url):
    import os
    import signal

    @serve.deployment(num_replicas=2, health_check_period_s=0.2)
    def pid(request):
        return str(os.getpid())
    serve.run(pid.bind(), name="httppid", route_prefix="/pid")
    from conftest import wait_for
    seen = set()
    wait_for(lambda: seen.add(http(url + "/pid")[1]) or len(seen) == 2, "both replicas")
    os.kill(int(sorted(seen)[0]), signal.SIGKILL)
    codes = [http(url + "/pid")[0] for _ in range(20)]
    assert codes == [200] * 20

"""The HTTP tests of test_http.py again, through the Python proxy
(RAYC_SERVE_PROXY=python in the driver that starts Serve), which the
benchmark compares with the C one."""
import os

import pytest

import ray
from conftest import free_port
from ray import serve
from test_http import (test_http_deleted_app_is_404, test_http_dict_is_json,  # noqa: F401
                       test_http_exception_is_500_with_error_text,
                       test_http_function_deployment_and_longest_prefix,
                       test_http_routes_and_healthz, test_http_str_bytes_list_and_response,
                       test_http_unknown_route_is_404, url)


@pytest.fixture(scope="module")
def serve_instance():
    ray.init(num_cpus=16)
    port = free_port()
    os.environ["RAYC_SERVE_PROXY"] = "python"
    try:
        serve.start(http_options={"host": "127.0.0.1", "port": port})
    finally:
        del os.environ["RAYC_SERVE_PROXY"]
    yield "http://127.0.0.1:%d" % port
    serve.shutdown()
    ray.shutdown()


def test_the_proxy_is_python(serve_instance):
    import subprocess
    port = serve_instance.rsplit(":", 1)[1]
    out = subprocess.run(["pgrep", "-a", "-f", "ray_serve_proxy"], capture_output=True,
                         text=True).stdout
    assert not any("--port %s " % port in line for line in out.splitlines()), out

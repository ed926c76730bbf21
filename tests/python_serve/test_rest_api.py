"""Ray Serve's REST API on the dashboard port (ray_jobserver,
jobserver/serve_api.c): PUT/GET/DELETE /api/serve/applications/ against a
cluster started with `ray start --head`, with the cluster token, and
`serve deploy/status --address http://...` through it."""
import json
import os
import secrets
import subprocess
import textwrap

import pytest

from conftest import ROOT, free_port, http, wait_for

SERVE = os.path.join(ROOT, "bin", "serve")
RAY = os.path.join(ROOT, "bin", "ray")
PATH = "/api/serve/applications/"

APPS = textwrap.dedent('''
    from ray import serve

    @serve.deployment
    class Hello:
        def __init__(self, word="hello"):
            self.word = word

        def __call__(self, request):
            return "%s %s" % (self.word, request.query_params.get("who", "world"))

    @serve.deployment
    def echo(request):
        return {"path": request.url.path}

    hello = Hello.bind()
    echo_app = echo.bind()

    def build(args):
        return Hello.bind(args.get("word", "built"))
''')


def start_head(tmp, **extra_env):
    """`ray start --head` in TMP with a token of its own; the cluster dict."""
    token = secrets.token_hex(32)
    (tmp / "token").write_text(token + "\n")
    (tmp / "apps").mkdir()
    (tmp / "apps" / "rest_apps.py").write_text(APPS)
    env = dict(os.environ, RAY_TMPDIR=str(tmp / "ray"),
               RAYC_NODE_REGISTRY=str(tmp / "registry"),
               PYTHONPATH=os.path.join(ROOT, "python"), **extra_env)
    env.pop("RAY_ADDRESS", None)
    env.pop("RAY_DASHBOARD_ADDRESS", None)
    port, dash = free_port(), free_port()
    subprocess.run([RAY, "start", "--head", "--node-ip-address", "127.0.0.1", "--port",
                    str(port), "--dashboard-port", str(dash), "--dashboard-agent-listen-port",
                    str(free_port()), "--num-cpus", "4", "--auth-token-file",
                    str(tmp / "token")], env=env, check=True, stdout=subprocess.PIPE,
                   stderr=subprocess.STDOUT)
    return {"tmp": tmp, "env": env, "token": token, "dash": "http://127.0.0.1:%d" % dash,
            "proxy_port": free_port(), "ray_address": "127.0.0.1:%d" % port}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    c = start_head(tmp_path_factory.mktemp("rest"))
    yield c
    api(c, "DELETE")
    subprocess.run([RAY, "stop"], env=c["env"], capture_output=True)


def api(c, method, body=None, token=True, headers=None, query=""):
    h = {"Authorization": "Bearer " + c["token"]} if token else {}
    h.update(headers or {})
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    if data is not None:
        h.setdefault("Content-Type", "application/json")
    return http(c["dash"] + PATH + query, data=data, method=method, headers=h)


def config(c, apps, **top):
    cfg = {"http_options": {"host": "127.0.0.1", "port": c["proxy_port"]},
           "applications": apps}
    cfg.update(top)
    return cfg


def app(c, name, prefix, import_path, **kw):
    a = {"name": name, "route_prefix": prefix, "import_path": import_path,
         "runtime_env": {"working_dir": str(c["tmp"] / "apps")}}
    a.update(kw)
    return a


def details(c):
    st, body, hdrs = api(c, "GET")
    assert st == 200, body
    assert hdrs["content-type"].startswith("application/json")
    return json.loads(body)


def running(c, names):
    d = details(c)
    apps = d["applications"]
    return d if set(apps) == set(names) and \
        all(apps[n]["status"] == "RUNNING" for n in names) else None


def proxy(c, path):
    return http("http://127.0.0.1:%d%s" % (c["proxy_port"], path))


def test_no_token_is_401_and_browser_put_is_refused(cluster):
    st, body, _ = api(cluster, "GET", token=False)
    assert st == 401, body
    st, body, _ = api(cluster, "PUT", config(cluster, []), token=False)
    assert st == 401, body
    st, body, _ = api(cluster, "PUT", config(cluster, []),
                      headers={"User-Agent": "Mozilla/5.0", "Sec-Fetch-Mode": "cors"})
    assert st == 405 and b"Method Not Allowed for browser traffic." in body, body


def test_get_before_serve_runs_is_rays_empty_answer(cluster):
    assert details(cluster) == {"deploy_mode": "MULTI_APP", "controller_info": {},
                                "proxies": {}, "applications": {}, "target_capacity": None}


def test_bad_json_and_schema_errors(cluster):
    st, body, _ = api(cluster, "PUT", b"{not json")
    assert st == 500 and body.startswith(b"json.decoder.JSONDecodeError: Expecting property "
                                         b"name enclosed in double quotes"), body
    st, body, _ = api(cluster, "PUT", {"applications": [{"name": "x"}]})
    assert (st, body.decode()) == (400, "ValidationError(model='ServeDeploySchema', errors=["
                                        "{'loc': ('applications', 0, 'import_path'), "
                                        "'msg': 'field required', "
                                        "'type': 'value_error.missing'}])")
    st, body, _ = api(cluster, "PUT", {"applications": [
        {"name": "a", "route_prefix": "/x", "import_path": "m:a"},
        {"name": "b", "route_prefix": "/x", "import_path": "m:b"}]})
    assert st == 400 and b"Found duplicate applications for route prefix" in body, body
    st, body, _ = api(cluster, "PUT", {"applications": [
        {"name": "a", "route_prefix": "x", "import_path": "m"}]})
    assert st == 400 and b'Route prefix must start with "/".' in body and \
        b"An import path must contain at least on dot or colon" in body, body
    st, body, _ = api(cluster, "PUT", b"x" * (4 * 1024 * 1024 + 1))
    assert st == 413 and b"exceeds the limit of 4194304 bytes" in body, body
    # Nothing was deployed by any of them.
    assert details(cluster)["applications"] == {}


def test_put_two_apps_get_route_then_drop_one(cluster):
    c = cluster
    cfg = config(c, [app(c, "hello", "/hello", "rest_apps:hello",
                         deployments=[{"name": "Hello", "num_replicas": 2}]),
                     app(c, "echo", "/echo", "rest_apps:echo_app")])
    st, body, _ = api(c, "PUT", cfg)
    assert (st, body) == (200, b"")
    d = wait_for(lambda: running(c, ["hello", "echo"]), "both applications RUNNING", 120)
    h = d["applications"]["hello"]
    assert h["route_prefix"] == "/hello" and h["source"] == "declarative"
    assert h["deployed_app_config"] == cfg["applications"][0]
    assert h["last_deployed_time_s"] > 0
    dep = h["deployments"]["Hello"]
    assert dep["status"] == "HEALTHY" and dep["target_num_replicas"] == 2
    assert [r["state"] for r in dep["replicas"]] == ["RUNNING", "RUNNING"]
    assert all(r["pid"] > 0 for r in dep["replicas"])
    assert d["applications"]["echo"]["route_prefix"] == "/echo"
    assert d["http_options"]["port"] == c["proxy_port"]
    assert d["proxy_location"] == "EveryNode" and d["controller_info"]["actor_name"] == \
        "SERVE_CONTROLLER_ACTOR"
    assert list(d["proxies"].values())[0]["status"] == "HEALTHY"
    assert proxy(c, "/hello?who=rest")[:2] == (200, b"hello rest")
    st, body, _ = proxy(c, "/echo/x")
    assert st == 200 and json.loads(body) == {"path": "/echo/x"}

    # A config without "echo" deletes it, as Ray does; "hello" keeps running.
    st, body, _ = api(c, "PUT", config(c, [cfg["applications"][0]]))
    assert (st, body) == (200, b"")
    wait_for(lambda: running(c, ["hello"]), "echo deleted", 120)
    wait_for(lambda: proxy(c, "/echo/x")[0] == 404, "/echo gone from the proxy")
    assert proxy(c, "/hello?who=again")[:2] == (200, b"hello again")


def test_builder_args_and_a_failing_import(cluster):
    c = cluster
    st, body, _ = api(c, "PUT", config(c, [
        app(c, "built", "/built", "rest_apps:build", args={"word": "hey"}),
        app(c, "broken", "/broken", "no_such_module:app")]))
    assert (st, body) == (200, b"")

    def settled():
        a = details(c)["applications"]
        return a if a.get("built", {}).get("status") == "RUNNING" and \
            a.get("broken", {}).get("status") == "DEPLOY_FAILED" else None
    a = wait_for(settled, "built RUNNING, broken DEPLOY_FAILED", 120)
    assert "ModuleNotFoundError: No module named 'no_such_module'" in a["broken"]["message"]
    assert proxy(c, "/built?who=args")[:2] == (200, b"hey args")


def test_delete_shuts_serve_down(cluster):
    c = cluster
    st, body, _ = api(c, "PUT", config(c, [app(c, "hello", "/hello", "rest_apps:hello")]))
    assert st == 200, body
    wait_for(lambda: running(c, ["hello"]), "hello RUNNING", 120)
    st, body, _ = api(c, "DELETE")
    assert (st, body) == (200, b"")
    assert details(c)["controller_info"] == {}
    assert details(c)["applications"] == {}


def serve_cli(c, *args, env=None):
    e = dict(c["env"], RAY_AUTH_TOKEN_PATH=str(c["tmp"] / "token"))
    e.update(env or {})
    r = subprocess.run([SERVE, *args], env=e, cwd=str(c["tmp"]), capture_output=True,
                       text=True, timeout=300)
    return r.returncode, r.stdout + r.stderr


def test_serve_deploy_and_status_through_the_rest_api(cluster):
    c = cluster
    (c["tmp"] / "cfg.yaml").write_text(textwrap.dedent('''
        http_options: {host: 127.0.0.1, port: %d}
        applications:
          - name: yamlapp
            route_prefix: /yaml
            import_path: rest_apps:hello
            runtime_env: {working_dir: %s}
    ''' % (c["proxy_port"], c["tmp"] / "apps")))
    rc, out = serve_cli(c, "deploy", "cfg.yaml", "--address", c["dash"])
    assert rc == 0 and "Sent deploy request successfully." in out, out
    wait_for(lambda: running(c, ["yamlapp"]), "yamlapp RUNNING", 120)
    assert proxy(c, "/yaml?who=cli")[:2] == (200, b"hello cli")
    # RAY_DASHBOARD_ADDRESS is the default address, as in Ray.
    rc, out = serve_cli(c, "status", env={"RAY_DASHBOARD_ADDRESS": c["dash"]})
    assert rc == 0 and "yamlapp:" in out and "status: RUNNING" in out and \
        "RUNNING: 1" in out and "status_trigger: CONFIG_UPDATE_COMPLETED" in out, out
    # Without the token the CLI fails with the server's line.
    rc, out = serve_cli(c, "status", "--address", c["dash"],
                        env={"RAY_AUTH_TOKEN_PATH": str(c["tmp"] / "missing")})
    assert rc == 1 and "401" in out, out
    rc, out = serve_cli(c, "shutdown", "-y", "--address", c["dash"])
    assert rc == 0, out
    assert details(c)["applications"] == {}


BLOCKING = textwrap.dedent('''
    import os, time
    open(%r, "w").close()
    while True:          # an import that never ends: the driver hangs in it
        time.sleep(0.05)
''')


def test_a_hung_driver_gives_504_and_shutdown_answers_503(tmp_path):
    import threading
    c = start_head(tmp_path, RAYC_SERVE_REST_TIMEOUT_S="10")
    try:
        mark = tmp_path / "importing"
        (tmp_path / "apps" / "hangs.py").write_text(BLOCKING % str(mark))
        cfg = config(c, [app(c, "hangs", "/hangs", "hangs:app")])
        st, body, _ = api(c, "PUT", cfg)
        assert st == 504 and b"did not finish within 10 s" in body, body
        assert mark.exists()
        mark.unlink()
        got = []
        t = threading.Thread(target=lambda: got.append(api(c, "PUT", cfg)))
        t.start()
        wait_for(mark.exists, "the second driver importing the app")
        subprocess.run([RAY, "stop"], env=c["env"], capture_output=True)
        t.join()
        assert got[0][:2] == (503, b"The job server is shutting down"), got
    finally:
        subprocess.run([RAY, "stop"], env=c["env"], capture_output=True)

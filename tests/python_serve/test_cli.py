"""The `serve` command: run, status, deploy and shutdown against a cluster
started with `ray start --head`."""
import os
import subprocess
import textwrap

import pytest

from conftest import ROOT, free_port, http

SERVE = os.path.join(ROOT, "bin", "serve")
RAY = os.path.join(ROOT, "bin", "ray")

APP = textwrap.dedent('''
    from ray import serve

    @serve.deployment
    class Greeter:
        def __init__(self, greeting="hello"):
            self.greeting = greeting

        def reconfigure(self, cfg):
            self.greeting = cfg["greeting"]

        def __call__(self, request):
            return "%s %s" % (self.greeting, request.query_params.get("who", "world"))

    app = Greeter.bind()
''')


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    env = dict(os.environ, RAY_TMPDIR=str(tmp / "ray"))
    env.pop("RAY_ADDRESS", None)
    port = free_port()
    subprocess.run([RAY, "start", "--head", "--node-ip-address", "127.0.0.1", "--port",
                    str(port), "--dashboard-port", str(free_port()),
                    "--dashboard-agent-listen-port", str(free_port()), "--num-cpus", "4"],
                   env=env, check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    (tmp / "greet_app.py").write_text(APP)
    http_port = free_port()
    env.update(RAY_ADDRESS="127.0.0.1:%d" % port, RAY_SERVE_DEFAULT_HTTP_PORT=str(http_port),
               PYTHONPATH=os.path.join(ROOT, "python"))
    yield tmp, env, "http://127.0.0.1:%d" % http_port
    subprocess.run([SERVE, "shutdown", "-y"], env=env, cwd=str(tmp), capture_output=True)
    subprocess.run([RAY, "stop"], env=env, capture_output=True)


def serve_cmd(cluster, *args):
    tmp, env, _ = cluster
    r = subprocess.run([SERVE, *args], env=env, cwd=str(tmp), capture_output=True, text=True,
                       timeout=120)
    return r.returncode, r.stdout + r.stderr


def test_serve_run_status_and_shutdown(cluster):
    tmp, env, url = cluster
    p = subprocess.Popen([SERVE, "run", "greet_app:app"], env=env, cwd=str(tmp),
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        first = p.stdout.readline()
        assert "Deployed app 'default' successfully." in first, first + p.stdout.read()
        assert http(url + "/?who=cli")[:2] == (200, b"hello cli")
        rc, out = serve_cmd(cluster, "status")
        assert rc == 0, out
        assert "status: RUNNING" in out and "Greeter" in out, out
    finally:
        p.terminate()
        rest = p.communicate(timeout=60)[0]
    assert p.returncode == 0 and "Shut down Serve." in rest, rest
    rc, out = serve_cmd(cluster, "status")
    assert rc == 0 and "applications: {}" in out, out


def test_serve_deploy_config_then_shutdown(cluster):
    tmp, env, url = cluster
    (tmp / "config.yaml").write_text(textwrap.dedent('''
        applications:
          - name: greet
            route_prefix: /greet
            import_path: greet_app:app
            deployments:
              - name: Greeter
                num_replicas: 2
                user_config: {greeting: hi}
    '''))
    rc, out = serve_cmd(cluster, "deploy", "config.yaml")
    assert rc == 0 and "Sent deploy request successfully." in out, out
    assert http(url + "/greet?who=yaml")[:2] == (200, b"hi yaml")
    rc, out = serve_cmd(cluster, "status")
    assert "RUNNING: 2" in out, out
    rc, out = serve_cmd(cluster, "shutdown", "-y")
    assert rc == 0, out
    rc, out = serve_cmd(cluster, "status")
    assert "applications: {}" in out, out


def test_serve_cli_errors(cluster):
    rc, out = serve_cmd(cluster, "run", "no_colon")
    assert rc == 1 and "module:app" in out
    rc, out = serve_cmd(cluster, "run", "missing_mod:app")
    assert rc == 1 and "cannot import missing_mod" in out
    rc, out = serve_cmd(cluster, "deploy", "nope.yaml")
    assert rc == 1 and "cannot read nope.yaml" in out


def test_port_in_use_is_a_clear_error(cluster):
    import socket
    import sys
    tmp, env, _ = cluster
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        busy = s.getsockname()[1]
        code = ("from ray import serve\n"
                "try:\n"
                "    serve.start(http_options={'port': %d})\n"
                "except Exception as e:\n"
                "    print(type(e).__name__, e)\n" % busy)
        r = subprocess.run([sys.executable, "-c", code], env=env, cwd=str(tmp),
                           capture_output=True, text=True, timeout=120)
    assert "RayServeException" in r.stdout and \
        "cannot listen on 127.0.0.1:%d" % busy in r.stdout, r.stdout + r.stderr

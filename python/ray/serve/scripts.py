"""The `serve` command (Ray's CLI): run, status, shutdown, deploy.

    serve run [--address A] [--name N] [--route-prefix P] [--non-blocking] module:app
    serve status [--address A]
    serve shutdown [--address A] [-y]
    serve deploy [--address A] config.yaml

It connects to the cluster at --address, else RAY_ADDRESS, else the local
one (`ray start` on this host).  The imported application's module is
pickled by value, so its replicas need not be able to import it.

deploy, status and shutdown given a dashboard address (--address
http://HOST:8265, or RAY_DASHBOARD_ADDRESS when --address is not given)
use Serve's REST API there instead, as Ray's CLI does; the applications
are then imported on the cluster (from runtime_env's working_dir)."""
import argparse
import importlib
import os
import signal
import sys

import yaml

DEPLOYMENT_FIELDS = {"name", "num_replicas", "ray_actor_options", "max_ongoing_requests",
                     "user_config", "autoscaling_config", "health_check_period_s",
                     "health_check_timeout_s"}


def _die(msg):
    sys.stderr.write("serve: %s\n" % msg)
    sys.exit(1)


def _connect(address):
    import ray
    address = address or os.environ.get("RAY_ADDRESS") or "auto"
    try:
        ray.init(address=address, namespace="serve", log_to_driver=False)
    except ConnectionError as e:
        _die("cannot connect to the Ray cluster at %s: %s" % (address, e))


def import_app(path, app_dir="."):
    """The Application (or bound Deployment) named by "module:attribute"."""
    import cloudpickle
    from ray.serve.deployment import Application, Deployment
    if ":" not in path:
        _die("the import path must look like module:app (got %r)" % path)
    mod_name, attr = path.split(":", 1)
    sys.path.insert(0, os.path.abspath(app_dir))
    try:
        mod = importlib.import_module(mod_name)
    except Exception as e:  # noqa: BLE001 - any import failure is the user's
        _die("cannot import %s: %s: %s" % (mod_name, type(e).__name__, e))
    cloudpickle.register_pickle_by_value(mod)
    app = getattr(mod, attr, None)
    if isinstance(app, Deployment):
        app = app.bind()
    if not isinstance(app, Application):
        _die("%s is not an application (the result of .bind())" % path)
    return app


def _override(app, deployments):
    """APP with the deployment options of a config file applied by name."""
    from ray.serve.deployment import Application
    by_name = {d["name"]: d for d in deployments or []}
    for d in by_name.values():
        bad = sorted(set(d) - DEPLOYMENT_FIELDS)
        if bad:
            _die("deployment %s: unknown field(s) %s" % (d.get("name"), ", ".join(bad)))

    def visit(a):
        if isinstance(a, Application):
            dep = a._deployment
            opts = {k: v for k, v in by_name.get(dep.name, {}).items() if k != "name"}
            if opts:
                dep = dep.options(**opts)
            return Application(dep, tuple(visit(x) for x in a._args),
                               {k: visit(v) for k, v in a._kwargs.items()})
        if isinstance(a, (list, tuple)):
            return type(a)(visit(x) for x in a)
        if isinstance(a, dict):
            return {k: visit(v) for k, v in a.items()}
        return a
    return visit(app)


def cmd_run(o):
    from ray import serve
    app = import_app(o.import_path, o.app_dir)
    _connect(o.address)
    serve.run(app, name=o.name, route_prefix=o.route_prefix)
    print("Deployed app '%s' successfully." % o.name, flush=True)
    if o.non_blocking:
        return 0
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    try:
        while not stop:
            signal.pause()
    except KeyboardInterrupt:
        pass
    serve.shutdown()
    print("Shut down Serve.", flush=True)
    return 0


def _rest_address(o):
    """The dashboard address when this command goes through the REST API."""
    from ray.serve._private.rest_client import is_dashboard_address
    address = o.address or os.environ.get("RAY_DASHBOARD_ADDRESS")
    return address if is_dashboard_address(address) else None


def _rest(o, call):
    from ray.serve._private.rest_client import ServeSubmissionClient
    try:
        return call(ServeSubmissionClient(_rest_address(o)))
    except (RuntimeError, ConnectionError) as e:
        _die(str(e))


def cmd_status(o):
    if _rest_address(o):
        from ray.serve._private.rest_client import status_from_details
        d = _rest(o, lambda c: c.get_serve_details())
        sys.stdout.write(yaml.safe_dump(status_from_details(d), sort_keys=False))
        return 0
    from ray import serve
    from ray.serve.api import _get_controller
    from ray.serve.schema import status_dict
    _connect(o.address)
    import ray
    c = _get_controller()
    raw = ray.get(c.status.remote()) if c is not None else {"applications": {}, "proxies": {}}
    sys.stdout.write(yaml.safe_dump(status_dict(raw), sort_keys=False))
    del serve
    return 0


def cmd_shutdown(o):
    from ray import serve
    if not o.yes:
        answer = input("This will shut down Serve on the cluster. Continue? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            return 1
    if _rest_address(o):
        _rest(o, lambda c: c.delete_applications())
        print("Sent shutdown request; applications will be deleted asynchronously.")
        return 0
    _connect(o.address)
    serve.shutdown()
    print("Sent shutdown request; applications will be deleted asynchronously.")
    return 0


def cmd_deploy(o):
    from ray import serve
    try:
        with open(o.config) as f:
            cfg = yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as e:
        _die("cannot read %s: %s" % (o.config, e))
    if not cfg:
        _die("One or more configs are empty.")
    if _rest_address(o):
        _rest(o, lambda c: c.deploy_applications(cfg))
        print("Sent deploy request successfully.\n * Use `serve status` to check "
              "applications' statuses.")
        return 0
    if not isinstance(cfg, dict) or not isinstance(cfg.get("applications"), list):
        _die("%s: expected a mapping with an 'applications' list" % o.config)
    apps = []
    for i, a in enumerate(cfg["applications"]):
        if not isinstance(a, dict) or "import_path" not in a:
            _die("%s: application %d has no import_path" % (o.config, i))
        app = _override(import_app(a["import_path"], os.path.dirname(
            os.path.abspath(o.config))), a.get("deployments"))
        apps.append((a.get("name", "default"), a.get("route_prefix", "/"), app))
    _connect(o.address)
    serve.start(http_options=cfg.get("http_options"))
    for name, prefix, app in apps:
        serve.run(app, name=name, route_prefix=prefix)
    print("Sent deploy request successfully.")
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(prog="serve", description="Ray Serve's CLI on rayc")
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run an application (until Ctrl-C)")
    r.add_argument("import_path")
    r.add_argument("--address", "-a")
    r.add_argument("--name", default="default")
    r.add_argument("--route-prefix", default="/")
    r.add_argument("--app-dir", "-d", default=".")
    r.add_argument("--non-blocking", action="store_true")
    s = sub.add_parser("status", help="the applications and their deployments (YAML)")
    s.add_argument("--address", "-a")
    d = sub.add_parser("shutdown", help="delete every application and stop Serve")
    d.add_argument("--address", "-a")
    d.add_argument("--yes", "-y", action="store_true")
    c = sub.add_parser("deploy", help="deploy the applications of a config file")
    c.add_argument("config")
    c.add_argument("--address", "-a")
    o = p.parse_args(argv)
    return {"run": cmd_run, "status": cmd_status, "shutdown": cmd_shutdown,
            "deploy": cmd_deploy}[o.cmd](o)


if __name__ == "__main__":
    sys.exit(main())

"""Ray Serve's REST API (GET/PUT/DELETE /api/serve/applications/), the
Python half.  The job server (C, jobserver/serve_api.c) answers the HTTP
request and runs, once per request,

    python3 -m ray.serve._private.rest_api OP RESULT_FILE [BODY_FILE] [API_TYPE]

OP is get, put or delete.  This process connects to the cluster
(RAY_ADDRESS, the token from RAY_AUTH_TOKEN_PATH), does OP through the
Serve controller as Ray's dashboard does (serve_head.py) and writes
{"status", "content_type", "body"} to RESULT_FILE; the job server sends
that as the answer.  Its stdout and stderr are only a log."""
import json
import os
import sys
import time
import traceback

CT_TEXT = "text/plain; charset=utf-8"
CT_JSON = "application/json; charset=utf-8"
STATUS_TRIGGER = {"HEALTHY": "CONFIG_UPDATE_COMPLETED", "UPDATING": "CONFIG_UPDATE_STARTED",
                  "UPSCALING": "AUTOSCALING", "DOWNSCALING": "AUTOSCALING",
                  "DEPLOY_FAILED": "REPLICA_STARTUP_FAILED"}
PROXY_LOCATION = {"NoServer": "Disabled", "HeadOnly": "HeadOnly", "EveryNode": "EveryNode"}
# The answer when Serve is not running (Ray's ServeInstanceDetails.get_empty_schema_dict).
EMPTY_DETAILS = {"deploy_mode": "MULTI_APP", "controller_info": {}, "proxies": {},
                 "applications": {}, "target_capacity": None}


def _answer(status, body="", content_type=CT_TEXT):
    return {"status": status, "content_type": content_type, "body": body}


def _exc_line(e):
    """The last line of a traceback of E (`module.Class: message`)."""
    t = type(e)
    name = t.__qualname__ if t.__module__ in ("builtins", "__main__") else \
        "%s.%s" % (t.__module__, t.__qualname__)
    return "%s: %s" % (name, e)


def _connect():
    import ray
    ray.init(address=os.environ.get("RAY_ADDRESS") or "auto", namespace="serve",
             log_to_driver=False)


# ---------------------------------------------------------------- building apps

def _import_target(import_path, runtime_env):
    """The object import_path names, with runtime_env's working_dir (a
    directory on this host) first on sys.path."""
    import importlib

    import cloudpickle
    wd = (runtime_env or {}).get("working_dir")
    if wd is not None:
        if not isinstance(wd, str) or "://" in wd or not os.path.isdir(wd):
            raise ValueError("runtime_env working_dir %r: rayc's Serve REST API takes a "
                             "directory on the head node here (remote URIs are not "
                             "supported yet)" % (wd,))
        sys.path.insert(0, os.path.abspath(wd))
    if ":" in import_path:
        mod_name, attr = import_path.split(":", 1)
    else:
        mod_name, attr = import_path.rsplit(".", 1)
    mod = importlib.import_module(mod_name)
    # Replicas get the module's code by value: they need not import it.
    cloudpickle.register_pickle_by_value(mod)
    for part in attr.split("."):
        mod = getattr(mod, part)
    return mod


def _build_app(a):
    """The Application of config A (Ray's ServeApplicationSchema dict)."""
    from ray.serve.deployment import Application, Deployment
    from ray.serve.scripts import DEPLOYMENT_FIELDS, _override
    target = _import_target(a["import_path"], a.get("runtime_env"))
    args = a.get("args") or {}
    if isinstance(target, (Application, Deployment)):
        if args:
            raise ValueError("Arguments can only be passed to an application builder "
                             "function, not an already built application.")
        app = target.bind() if isinstance(target, Deployment) else target
    elif callable(target):
        app = target(args)
        app = app.bind() if isinstance(app, Deployment) else app
    else:
        app = None
    if not isinstance(app, Application):
        raise TypeError("Expected '%s' to be an Application but got %s." %
                        (a["import_path"], type(app).__name__))
    deps = a.get("deployments") or []
    for d in deps:
        bad = sorted(set(d) - DEPLOYMENT_FIELDS)
        if bad:
            raise ValueError("deployment %s: option(s) not supported by rayc: %s"
                             % (d["name"], ", ".join(bad)))
    names = _deployment_names(app)
    for d in deps:
        if d["name"] not in names:
            raise ValueError("Deployment '%s' does not exist in application '%s'. "
                             "Available: %s" % (d["name"], a.get("name", "default"),
                                                sorted(names)))
    return _override(app, deps)


def _deployment_names(app):
    from ray.serve.deployment import Application
    out = set()

    def visit(v):
        if isinstance(v, Application):
            out.add(v._deployment.name)
            for x in list(v._args) + list(v._kwargs.values()):
                visit(x)
        elif isinstance(v, (list, tuple)):
            for x in v:
                visit(x)
        elif isinstance(v, dict):
            for x in v.values():
                visit(x)
    visit(app)
    return out


# ---------------------------------------------------------------- PUT

def _http_options(cfg):
    opts = {}
    given = cfg.get("http_options") or {}
    for key in ("host", "port"):
        if key in given:
            opts[key] = int(given[key]) if key == "port" else given[key]
    loc = cfg.get("proxy_location", "EveryNode")
    opts["location"] = {"Disabled": "NoServer"}.get(loc, loc)
    return opts


def _deploy_one(c, a):
    """Deploys application config A; "" or the controller's refusal."""
    import ray
    name = a.get("name", "default")
    prefix = a.get("route_prefix", "/")
    meta = {"deployed_app_config": a, "last_deployed_time_s": time.time(),
            "source": "declarative"}
    try:
        configs = _build_app(a)._build(name)
    except Exception:  # noqa: BLE001 - the user's code: the app fails, as in Ray
        msg = "Deploying app '%s' failed with exception:\n%s" % (name, traceback.format_exc())
        return ray.get(c.fail_app.remote(name, prefix, msg, meta))
    return ray.get(c.deploy_app.remote(name, prefix, configs, meta))


def put(body):
    from ray.serve._private.deploy_schema import SchemaError, validate
    try:
        cfg = json.loads(body.decode("utf-8"))
    except ValueError as e:   # JSONDecodeError and UnicodeDecodeError
        return _answer(500, _exc_line(e))
    try:
        validate(cfg)
    except SchemaError as e:
        return _answer(400, repr(e))
    import ray
    from ray.serve.api import _ensure_controller
    from ray.serve.exceptions import RayServeException
    _connect()
    try:
        c = _ensure_controller(_http_options(cfg))
    except RayServeException as e:
        return _answer(500, _exc_line(e))
    wanted = {a.get("name", "default") for a in cfg["applications"]}
    for name in ray.get(c.status.remote())["applications"]:
        if name not in wanted:
            ray.get(c.delete_app.remote(name))
    for a in cfg["applications"]:
        err = _deploy_one(c, a)
        if err:
            return _answer(400, err)
    return _answer(200)


# ---------------------------------------------------------------- GET

def _node_ips():
    import ray
    return {n["NodeID"]: n.get("NodeManagerAddress") for n in ray.nodes()}


def _actor(node_id, ips, name, actor_id=None):
    return {"node_id": node_id, "node_ip": ips.get(node_id), "node_instance_id": None,
            "actor_id": actor_id, "actor_name": name, "worker_id": None,
            "log_file_path": None}


def _deployment_config(cfg):
    out = {"name": cfg["name"]}
    if cfg.get("autoscaling_config") is not None:
        out["autoscaling_config"] = cfg["autoscaling_config"]
    else:
        out["num_replicas"] = cfg.get("num_replicas")
    for key in ("max_ongoing_requests", "user_config", "health_check_period_s",
                "health_check_timeout_s", "ray_actor_options"):
        out[key] = cfg.get(key)
    return out


def _required_resources(cfg):
    rao = cfg.get("ray_actor_options") or {}
    res = {"CPU": rao.get("num_cpus", 1)}
    if rao.get("num_gpus"):
        res["GPU"] = rao["num_gpus"]
    if rao.get("memory"):
        res["memory"] = rao["memory"]
    res.update(rao.get("resources") or {})
    return res


def _deployment(name, st, det):
    cfg = det["config"]
    return {
        "name": name, "status": st["status"],
        "status_trigger": STATUS_TRIGGER.get(st["status"], "CONFIG_UPDATE_STARTED"),
        "message": st["message"], "deployment_config": _deployment_config(cfg),
        "target_num_replicas": det["target"], "required_resources": _required_resources(cfg),
        "replicas": [dict(_actor(None, {}, r["name"]), replica_id=r["name"].rsplit("#", 1)[-1],
                          state=r["state"], pid=r["pid"], start_time_s=r["start_time_s"])
                     for r in det["replicas"]],
    }


def _application(name, st, det):
    meta = det["meta"]
    return {
        "name": name, "route_prefix": st["route_prefix"], "docs_path": None,
        "status": st["status"], "message": st["message"],
        "last_deployed_time_s": meta.get("last_deployed_time_s"),
        "deployed_app_config": meta.get("deployed_app_config"),
        "source": meta.get("source", "imperative"),
        "deployments": {d: _deployment(d, st["deployments"][d], det["deployments"][d])
                        for d in det["deployments"] if d in st["deployments"]},
        "external_scaler_enabled": False,
    }


def _details(st, det, api_type):
    from ray.serve.config import CONTROLLER_NAME
    ips = _node_ips()
    http = det["http_options"] or {}
    apps = {name: _application(name, a, det["applications"][name])
            for name, a in st["applications"].items() if name in det["applications"]}
    if api_type:
        apps = {k: v for k, v in apps.items() if v["source"] == api_type}
    return {
        "controller_info": _actor(det["node_id"], ips, CONTROLLER_NAME, det["actor_id"]),
        "proxy_location": PROXY_LOCATION.get(http.get("location"), "EveryNode"),
        "http_options": {"host": http.get("host"), "port": http.get("port"), "root_path": ""},
        "grpc_options": {"port": 9000, "grpc_servicer_functions": [],
                         "request_timeout_s": None},
        "proxies": {nid: dict(_actor(nid, ips, p["name"]),
                              status="HEALTHY" if p["ready"] else "STARTING")
                    for nid, p in det["proxies"].items()},
        "deploy_mode": "MULTI_APP", "applications": apps, "target_capacity": None,
        "target_groups": [],
    }


def get(api_type=None):
    if api_type:
        valid = ("imperative", "declarative")
        if api_type.lower() not in valid:
            return _answer(400, "Invalid 'api_type' value: '%s'. Must be one of: %s"
                           % (api_type, ", ".join(valid)))
        api_type = api_type.lower()
    import ray
    from ray.serve.api import _get_controller
    _connect()
    c = _get_controller()
    if c is None:
        return _answer(200, json.dumps(EMPTY_DETAILS), CT_JSON)
    try:
        st, det = ray.get([c.status.remote(), c.details.remote()])
    except ray.exceptions.RayActorError:
        return _answer(200, json.dumps(EMPTY_DETAILS), CT_JSON)
    return _answer(200, json.dumps(_details(st, det, api_type)), CT_JSON)


# ---------------------------------------------------------------- DELETE

def delete():
    from ray import serve
    _connect()
    serve.shutdown()
    return _answer(200)


def main(argv):
    if len(argv) < 2 or argv[0] not in ("get", "put", "delete"):
        sys.stderr.write("usage: rest_api get|put|delete RESULT_FILE [BODY_FILE] [API_TYPE]\n")
        return 2
    op, result = argv[0], argv[1]
    try:
        if op == "put":
            with open(argv[2], "rb") as f:
                ans = put(f.read())
        elif op == "get":
            ans = get(argv[2] if len(argv) > 2 and argv[2] else None)
        else:
            ans = delete()
    except Exception as e:  # noqa: BLE001 - as Ray's dashboard: 500 with the error
        traceback.print_exc()
        ans = _answer(500, _exc_line(e))
    tmp = result + ".tmp"
    with open(tmp, "w") as f:
        json.dump(ans, f)
    os.rename(tmp, result)
    sys.stdout.flush()
    # Leave at once: the job server answers when this process ends.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

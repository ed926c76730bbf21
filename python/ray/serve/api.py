"""Serve's public functions: start, run, status, delete, shutdown and the
handles of running applications."""
import os
import time

import ray
from ray.serve.config import (CONTROLLER_NAME, DEFAULT_APP_NAME, SERVE_NAMESPACE,
                              HTTPOptions)
from ray.serve.deployment import Application, Deployment
from ray.serve.exceptions import RayServeException
from ray.serve.handle import DeploymentHandle
from ray.serve.schema import ServeStatus

POLL_S = 0.05


def _connect():
    if not ray.is_initialized():
        ray.init()


def _get_controller():
    try:
        return ray.get_actor(CONTROLLER_NAME, namespace=SERVE_NAMESPACE)
    except ValueError:
        return None


def _ensure_controller(http_options=None):
    from ray.serve._private.controller import ServeController
    _connect()
    opts = HTTPOptions.parse(http_options)
    c = ray.remote(ServeController).options(
        name=CONTROLLER_NAME, namespace=SERVE_NAMESPACE, lifetime="detached",
        get_if_exists=True, num_cpus=0, max_concurrency=1000).remote()
    # RAYC_SERVE_PROXY=python: the Python proxy instead of bin/ray_serve_proxy.
    started = ray.get(c.start.remote(dict(opts.__dict__,
                                          proxy=os.environ.get("RAYC_SERVE_PROXY", "c"))))
    if started["errors"]:
        raise RayServeException("; ".join(started["errors"]))
    return c


def _check_kwargs(what, kwargs, known):
    bad = sorted(set(kwargs) - known)
    if bad:
        raise TypeError("%s() got unexpected keyword argument(s) %s" % (what, ", ".join(bad)))


def start(http_options=None, **kwargs):
    """Starts Serve on the cluster (the controller, and the HTTP proxies
    on http_options' host and port, 127.0.0.1:8000 by default)."""
    # Ray's other arguments, accepted and without effect here.
    _check_kwargs("serve.start", kwargs, {"detached", "proxy_location", "grpc_options",
                                          "logging_config"})
    _ensure_controller(http_options)


def run(target, *, name=DEFAULT_APP_NAME, route_prefix="/", blocking=False, **kwargs):
    """Deploys TARGET (an Application from .bind()) as application NAME and
    waits until it runs; returns a DeploymentHandle to its ingress."""
    _check_kwargs("serve.run", kwargs, {"logging_config", "_local_testing_mode"})
    if isinstance(target, Deployment):
        target = target.bind()
    if not isinstance(target, Application):
        raise TypeError("`serve.run` expects an `Application` returned by "
                        "`Deployment.bind()`, got %r" % type(target).__name__)
    if route_prefix is not None and (not isinstance(route_prefix, str) or
                                     not route_prefix.startswith("/")):
        raise ValueError("The route_prefix must start with a forward slash ('/')")
    c = _ensure_controller()
    err = ray.get(c.deploy_app.remote(name, route_prefix, target._build(name)))
    if err:
        raise RayServeException(err)
    _wait_running(c, name)
    handle = DeploymentHandle(ray.get(c.get_ingress.remote(name)), name)
    if blocking:
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
    return handle


def _wait_running(c, name):
    said = time.monotonic()
    while True:
        st = ray.get(c.status.remote())
        a = st["applications"].get(name)
        if a is None:
            raise RayServeException("Application '%s' was deleted while deploying" % name)
        if a["status"] == "DEPLOY_FAILED":
            raise RayServeException("Deploying application %s failed: %s" % (name, a["message"]))
        if a["status"] == "RUNNING" and st["routes_acked"]:
            return
        if time.monotonic() - said > 10:   # as Ray does: say what it waits for
            said = time.monotonic()
            import sys
            deps = {k: (v["status"], v["replica_states"], v["message"])
                    for k, v in a["deployments"].items()}
            sys.stderr.write("serve.run: application '%s' is %s (deployments %s; proxies "
                             "%s, routes %s)\n" % (name, a["status"], deps, st["proxies"],
                                                   "sent" if st["routes_acked"] else
                                                   "not yet taken"))
        time.sleep(POLL_S)


def status():
    """The applications, their deployments and the proxies (ServeStatus)."""
    _connect()
    c = _get_controller()
    if c is None:
        return ServeStatus()
    return ServeStatus(ray.get(c.status.remote()))


def delete(name, _blocking=True):
    """Deletes application NAME and waits until its replicas are gone."""
    _connect()
    c = _get_controller()
    if c is None:
        return
    ray.get(c.delete_app.remote(name))
    while _blocking and name in ray.get(c.status.remote())["applications"]:
        time.sleep(POLL_S)


def shutdown():
    """Deletes every application and stops Serve (controller and proxies)."""
    if not ray.is_initialized():
        return
    c = _get_controller()
    if c is None:
        return
    ray.get(c.shutdown.remote())
    ray.kill(c)
    while _get_controller() is not None:
        time.sleep(POLL_S)


def get_app_handle(name):
    """A DeploymentHandle to the ingress of running application NAME."""
    _connect()
    c = _get_controller()
    ingress = ray.get(c.get_ingress.remote(name)) if c is not None else None
    if ingress is None:
        raise RayServeException("Application '%s' does not exist." % name)
    return DeploymentHandle(ingress, name)


def get_deployment_handle(deployment_name, app_name=DEFAULT_APP_NAME):
    """A DeploymentHandle to deployment DEPLOYMENT_NAME of APP_NAME."""
    _connect()
    c = _get_controller()
    if c is None or ray.get(c.get_replicas.remote(app_name, deployment_name)) is None:
        raise RayServeException("Deployment '%s' in application '%s' does not exist."
                                % (deployment_name, app_name))
    return DeploymentHandle(deployment_name, app_name)

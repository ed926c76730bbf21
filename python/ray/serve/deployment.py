"""@serve.deployment, Deployment and Application (a deployment bound to
its constructor arguments, possibly other bound deployments)."""
import inspect

import cloudpickle

from ray.serve.config import (DEFAULT_HEALTH_CHECK_PERIOD_S, DEFAULT_HEALTH_CHECK_TIMEOUT_S,
                              DEFAULT_MAX_ONGOING_REQUESTS, AutoscalingConfig)

DEPLOYMENT_OPTIONS = {"name", "num_replicas", "ray_actor_options", "max_ongoing_requests",
                      "user_config", "autoscaling_config", "health_check_period_s",
                      "health_check_timeout_s", "route_prefix", "version",
                      "graceful_shutdown_timeout_s", "graceful_shutdown_wait_loop_s",
                      "max_queued_requests", "logging_config"}
ACTOR_OPTIONS = {"num_cpus", "num_gpus", "memory", "resources", "runtime_env"}


def _check(options):
    bad = sorted(set(options) - DEPLOYMENT_OPTIONS)
    if bad:
        raise TypeError("@serve.deployment: unknown option(s) %s" % ", ".join(bad))
    n = options.get("num_replicas")
    if n is not None and n != "auto" and (not isinstance(n, int) or n < 0):
        raise ValueError("num_replicas must be a non-negative int or \"auto\"")
    m = options.get("max_ongoing_requests")
    if m is not None and (not isinstance(m, int) or m <= 0):
        raise ValueError("max_ongoing_requests must be an int > 0")
    rao = options.get("ray_actor_options") or {}
    if not isinstance(rao, dict):
        raise TypeError("ray_actor_options must be a dict")
    bad = sorted(set(rao) - ACTOR_OPTIONS)
    if bad:
        raise ValueError("ray_actor_options: unsupported option(s) %s" % ", ".join(bad))
    if n is not None and options.get("autoscaling_config") is not None and n != "auto":
        raise ValueError("Manually setting num_replicas is not allowed when "
                         "autoscaling_config is provided.")
    AutoscalingConfig.parse(options.get("autoscaling_config"))


class Deployment:
    """A class or function made a deployment; .bind() makes an Application."""

    def __init__(self, func_or_class, options):
        _check(options)
        self.func_or_class = func_or_class
        self._options = dict(options)
        self.name = options.get("name") or func_or_class.__name__

    @property
    def num_replicas(self):
        return self._options.get("num_replicas", 1)

    @property
    def max_ongoing_requests(self):
        return self._options.get("max_ongoing_requests", DEFAULT_MAX_ONGOING_REQUESTS)

    @property
    def user_config(self):
        return self._options.get("user_config")

    def options(self, **options):
        _check(options)
        merged = dict(self._options, **options)
        if "num_replicas" in options and "autoscaling_config" not in options:
            merged.pop("autoscaling_config", None)
        if "autoscaling_config" in options and "num_replicas" not in options:
            merged.pop("num_replicas", None)
        return Deployment(self.func_or_class, merged)

    def bind(self, *args, **kwargs):
        return Application(self, args, kwargs)

    def __call__(self, *args, **kwargs):
        raise RuntimeError("Deployments cannot be constructed directly. Use "
                           "`deployment.bind()` instead.")

    def config(self):
        """What the controller needs to run this deployment (plain values)."""
        o = self._options
        auto = AutoscalingConfig.parse(o.get("autoscaling_config"))
        if o.get("num_replicas") == "auto" and auto is None:
            auto = AutoscalingConfig(min_replicas=1, max_replicas=100)
        return {
            "name": self.name,
            "num_replicas": o.get("num_replicas", 1) if auto is None else None,
            "autoscaling_config": auto.to_dict() if auto is not None else None,
            "max_ongoing_requests": self.max_ongoing_requests,
            "user_config": o.get("user_config"),
            "ray_actor_options": dict(o.get("ray_actor_options") or {}),
            "health_check_period_s": float(o.get("health_check_period_s",
                                                 DEFAULT_HEALTH_CHECK_PERIOD_S)),
            "health_check_timeout_s": float(o.get("health_check_timeout_s",
                                                  DEFAULT_HEALTH_CHECK_TIMEOUT_S)),
            "is_function": not inspect.isclass(self.func_or_class),
        }

    def __repr__(self):
        return "Deployment(name=%s)" % self.name


class Application:
    """A deployment bound to its constructor arguments (serve.run's input)."""

    def __init__(self, deployment, args, kwargs):
        self._deployment = deployment
        self._args = args
        self._kwargs = kwargs

    def _build(self, app_name):
        """The deployments of this application, ingress last: a list of
        config dicts with the pickled callable and arguments, bound
        applications inside the arguments replaced by DeploymentHandles."""
        from ray.serve.handle import DeploymentHandle
        out = {}

        def visit(app):
            dep = app._deployment
            if dep.name in out and out[dep.name][0] is not app:
                if out[dep.name][0]._deployment is not dep:
                    raise ValueError("Found multiple deployments named '%s' in application "
                                     "'%s'; use .options(name=...) to rename one"
                                     % (dep.name, app_name))
            args = [sub(a) for a in app._args]
            kwargs = {k: sub(v) for k, v in app._kwargs.items()}
            cfg = dep.config()
            cfg["serialized"] = cloudpickle.dumps((dep.func_or_class, args, kwargs))
            out[dep.name] = (app, cfg)
            return DeploymentHandle(dep.name, app_name)

        def sub(v):
            if isinstance(v, Application):
                return visit(v)
            if isinstance(v, list):
                return [sub(x) for x in v]
            if isinstance(v, tuple):
                return tuple(sub(x) for x in v)
            if isinstance(v, dict):
                return {k: sub(x) for k, x in v.items()}
            return v

        visit(self)
        ingress = self._deployment.name
        deps = [cfg for name, (_, cfg) in out.items() if name != ingress]
        return deps + [out[ingress][1]]


def deployment(_func_or_class=None, name=None, num_replicas=None, ray_actor_options=None,
               max_ongoing_requests=None, user_config=None, autoscaling_config=None,
               health_check_period_s=None, health_check_timeout_s=None, **others):
    """@serve.deployment or @serve.deployment(option=value, ...)."""
    options = {k: v for k, v in dict(
        name=name, num_replicas=num_replicas, ray_actor_options=ray_actor_options,
        max_ongoing_requests=max_ongoing_requests, user_config=user_config,
        autoscaling_config=autoscaling_config, health_check_period_s=health_check_period_s,
        health_check_timeout_s=health_check_timeout_s, **others).items() if v is not None}

    def wrap(obj):
        if not callable(obj):
            raise TypeError("@serve.deployment must be applied to a class or function")
        return Deployment(obj, options)
    if _func_or_class is not None:
        return wrap(_func_or_class)
    return wrap

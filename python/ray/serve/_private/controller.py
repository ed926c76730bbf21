"""The Serve controller: one detached actor per cluster
(SERVE_CONTROLLER_ACTOR in namespace "serve").  It keeps the applications
and their deployments, starts and stops replica actors to reach each
deployment's target (fixed, or autoscaled on ongoing requests), checks
their health every health_check_period_s and replaces dead or unhealthy
ones, starts one HTTP proxy actor per node and tells the proxies the
routes.  All methods are async: they run on the actor's one event loop,
so the state needs no locks."""
import asyncio
import concurrent.futures
import time
import uuid

import ray
from ray.serve.config import SERVE_NAMESPACE, AutoscalingConfig

TICK_S = 0.1
MAX_CONSTRUCTOR_FAILURES = 3
HANDLE_REPORT_TTL_S = 2.0
GRACEFUL_SHUTDOWN_S = 20.0
# A stopping replica is out of get_replicas' answer; routers refresh every
# REFRESH_S (0.5 s), so after this long none sends it new calls.
STOP_GRACE_S = 1.5


class _Replica:
    def __init__(self, name, creating):
        self.name = name
        self.creating = creating   # a Future of the actor handle (creation blocks)
        self.handle = None
        self.state = "STARTING"
        self.ready_ref = None
        self.health_ref = None
        self.health_sent = 0.0
        self.last_health = time.monotonic()
        self.metric_ref = None
        self.ongoing = 0
        self.stop_since = None
        self.pid = None
        self.start_time_s = time.time()


class _Deployment:
    def __init__(self, app, cfg):
        self.app = app
        self.cfg = cfg
        self.replicas = {}
        self.handles = {}   # router id -> (queued, time)
        self.failures = 0
        self.message = ""
        self.failed = False
        self.auto = AutoscalingConfig.parse(cfg["autoscaling_config"])
        self.target = cfg["num_replicas"] if self.auto is None else self.auto.start_replicas()
        self.scale_want = None   # (desired, since) while autoscaling wants a change

    @property
    def name(self):
        return self.cfg["name"]

    def live(self):
        return [r for r in self.replicas.values() if r.state in ("STARTING", "RUNNING")]

    def running(self):
        return [r for r in self.replicas.values() if r.state == "RUNNING"]

    def status(self):
        if self.failed:
            return "DEPLOY_FAILED"
        starting = [r for r in self.replicas.values() if r.state == "STARTING"]
        n = len(self.running())
        if n == self.target and not starting:
            return "HEALTHY"
        if self.auto is not None and n > 0:
            return "UPSCALING" if n < self.target else "DOWNSCALING"
        return "UPDATING"


class ServeController:
    def __init__(self, http_options=None):
        self.apps = {}        # name -> {"route_prefix", "ingress", "deployments", "deleting"}
        self.http_options = http_options or {}
        self.proxies = {}     # node id -> {"name", "handle", "ready", "version"}
        self.routes_version = 0
        self._task = None
        self._last_nodes = 0.0
        self._stopped = False  # shutdown() ran: start nothing again
        # A named actor's creation waits for its constructor: off the loop.
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=16,
                                                           thread_name_prefix="serve-create")

    def _ensure_loop(self):
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._control_loop())

    async def start(self, http_options):
        """Starts the control loop (and the proxies, unless location is
        NoServer); returns the http options in force."""
        if not self.http_options:
            self.http_options = http_options
        self._ensure_loop()
        errors = []
        if self.http_options.get("location") != "NoServer":
            self._last_nodes = time.monotonic()
            errors = self._start_proxies()
        return {"http_options": self.http_options, "errors": errors}

    # -- applications ------------------------------------------------------

    def _prefix_taken(self, name, route_prefix):
        if route_prefix is not None:
            for other, a in self.apps.items():
                if other != name and a["route_prefix"] == route_prefix and not a["deleting"]:
                    return ("Prefix %s is being used by application \"%s\"."
                            % (route_prefix, other))
        return ""

    async def deploy_app(self, name, route_prefix, configs, meta=None):
        """Deploys or updates application NAME; "" or an error message.
        META: {"deployed_app_config", "last_deployed_time_s", "source"} of a
        declarative deploy (the REST API), kept for its GET."""
        self._ensure_loop()
        taken = self._prefix_taken(name, route_prefix)
        if taken:
            return taken
        old = self.apps.get(name)
        if old is not None and old.get("failed"):
            old = None
        deps = {}
        reconfigured = []  # refs of reconfigure calls: the update ends with them
        for cfg in configs:
            prev = old["deployments"].get(cfg["name"]) if old else None
            if prev is not None and prev.cfg["serialized"] == cfg["serialized"] and \
                    prev.cfg["ray_actor_options"] == cfg["ray_actor_options"] and \
                    prev.cfg["max_ongoing_requests"] == cfg["max_ongoing_requests"]:
                d = prev
                if cfg["user_config"] != prev.cfg["user_config"] and \
                        cfg["user_config"] is not None:
                    for r in d.live():
                        if r.handle is not None:
                            reconfigured.append(r.handle.reconfigure.remote(cfg["user_config"]))
                d.cfg = cfg
                d.auto = AutoscalingConfig.parse(cfg["autoscaling_config"])
                if d.auto is None:
                    d.target = cfg["num_replicas"]
                else:
                    d.target = min(max(d.target, d.auto.min_replicas), d.auto.max_replicas)
            else:
                d = _Deployment(name, cfg)
                if prev is not None:
                    self._stop_all(prev)
            deps[cfg["name"]] = d
        if old:
            for dname, d in old["deployments"].items():
                if dname not in deps:
                    self._stop_all(d)
        self.apps[name] = {"route_prefix": route_prefix, "ingress": configs[-1]["name"],
                           "deployments": deps, "deleting": False, "failed": "",
                           "meta": meta or {"last_deployed_time_s": time.time(),
                                            "source": "imperative"}}
        self.routes_version += 1
        # As in Ray, the update is done when the live replicas have their new
        # user_config (a replica that dies meanwhile is replaced with it).
        for ref in reconfigured:
            try:
                await ref
            except ray.exceptions.RayActorError:
                pass
            except Exception as e:  # noqa: BLE001 - the user's reconfigure raised
                return "reconfigure of application %s failed: %s" % (name, e)
        return ""

    async def fail_app(self, name, route_prefix, message, meta):
        """Records application NAME as DEPLOY_FAILED with MESSAGE (a declarative
        deploy whose application could not be built); its old deployments
        stop.  "" or an error message."""
        self._ensure_loop()
        taken = self._prefix_taken(name, route_prefix)
        if taken:
            return taken
        old = self.apps.get(name)
        if old:
            for d in old["deployments"].values():
                self._stop_all(d)
        self.apps[name] = {"route_prefix": route_prefix, "ingress": None, "deployments": {},
                           "deleting": False, "failed": message, "meta": meta}
        self.routes_version += 1
        return ""

    async def details(self):
        """What the REST API's GET needs beyond status(): the controller's
        node and actor, each application's deploy metadata, each deployment's
        options and replicas, the proxies' actors."""
        ctx = ray.get_runtime_context()
        apps = {}
        for name, a in self.apps.items():
            deps = {}
            for dname, d in a["deployments"].items():
                cfg = {k: v for k, v in d.cfg.items() if k not in ("serialized", "is_function")}
                deps[dname] = {"config": cfg, "target": d.target, "replicas": [
                    {"name": r.name, "state": r.state, "pid": r.pid,
                     "start_time_s": r.start_time_s} for r in d.replicas.values()]}
            apps[name] = {"meta": a.get("meta") or {}, "deployments": deps}
        proxies = {nid: {"name": p["name"], "ready": p["ready"]}
                   for nid, p in self.proxies.items()}
        return {"node_id": ctx.get_node_id(), "actor_id": ctx.get_actor_id(),
                "applications": apps, "proxies": proxies, "http_options": self.http_options}

    async def delete_app(self, name):
        a = self.apps.get(name)
        if a is None:
            return False
        a["deleting"] = True
        for d in a["deployments"].values():
            self._stop_all(d)
        self.routes_version += 1
        return True

    def _stop_all(self, d):
        d.target = 0
        d.auto = None
        for r in list(d.replicas.values()):
            self._kill(d, r)

    def _kill(self, d, r):
        if r.handle is None:
            r.creating.add_done_callback(lambda f: f.exception() is None and
                                         ray.kill(f.result()))
            d.replicas.pop(r.name, None)
            return
        try:
            ray.kill(r.handle)
        except Exception:  # noqa: BLE001 - already gone
            pass
        d.replicas.pop(r.name, None)

    async def get_replicas(self, app, deployment, router_id=None, queued=0):
        """The running replicas of a deployment for a router (None when
        there is no such deployment); records the router's queue."""
        a = self.apps.get(app)
        d = a["deployments"].get(deployment) if a and not a["deleting"] else None
        if d is None:
            return None
        if router_id is not None:
            d.handles[router_id] = (queued, time.monotonic())
        return {"replicas": [r.name for r in d.running()],
                "max_ongoing_requests": d.cfg["max_ongoing_requests"]}

    async def get_ingress(self, app):
        a = self.apps.get(app)
        return a["ingress"] if a and not a["deleting"] else None

    async def get_routes(self):
        """(version, {route_prefix: (app, ingress deployment)})."""
        routes = {a["route_prefix"]: (name, a["ingress"]) for name, a in self.apps.items()
                  if a["route_prefix"] is not None and not a["deleting"] and a["ingress"]}
        return self.routes_version, routes

    async def proxy_table(self, node_id, version):
        """The route table for the C proxy of NODE_ID (a raw call: str in,
        bytes out), which has installed table VERSION so far:
        "V\tversion", then per route "R\tprefix\tapp\tingress\tmax_ongoing"
        followed by one "P\treplica name" line per running replica."""
        p = self.proxies.get(node_id)
        if p is not None:
            p["version"] = max(p["version"], int(version))
        lines = ["V\t%d" % self.routes_version]
        for name, a in self.apps.items():
            if a["route_prefix"] is None or a["deleting"] or not a["ingress"]:
                continue
            d = a["deployments"][a["ingress"]]
            lines.append("R\t%s\t%s\t%s\t%d" % (a["route_prefix"], name, a["ingress"],
                                                d.cfg["max_ongoing_requests"]))
            lines += ["P\t%s" % r.name for r in d.running()]
        return ("\n".join(lines) + "\n").encode()

    async def status(self):
        apps = {}
        for name, a in self.apps.items():
            deps = {}
            for dname, d in a["deployments"].items():
                states = {}
                for r in d.replicas.values():
                    states[r.state] = states.get(r.state, 0) + 1
                deps[dname] = {"status": d.status(), "replica_states": states,
                               "message": d.message, "target": d.target,
                               "replica_pids": sorted(r.pid for r in d.running()
                                                      if r.pid is not None)}
            sts = [v["status"] for v in deps.values()]
            if a["deleting"]:
                st = "DELETING"
            elif a.get("failed"):
                st = "DEPLOY_FAILED"
            elif "DEPLOY_FAILED" in sts:
                st = "DEPLOY_FAILED"
            elif all(s in ("HEALTHY", "UPSCALING", "DOWNSCALING") for s in sts) and \
                    all(d.running() or d.target == 0 for d in a["deployments"].values()):
                st = "RUNNING"
            else:
                st = "DEPLOYING"
            msg = a.get("failed") or "; ".join(v["message"] for v in deps.values()
                                               if v["message"])
            apps[name] = {"status": st, "route_prefix": a["route_prefix"], "message": msg,
                          "deployments": deps, "ingress": a["ingress"]}
        proxies = {nid: ("HEALTHY" if p["ready"] else "STARTING")
                   for nid, p in self.proxies.items()}
        acked = all(p["version"] >= self.routes_version for p in self.proxies.values())
        return {"applications": apps, "proxies": proxies, "routes_acked": acked,
                "http_options": self.http_options}

    async def shutdown(self):
        # The control loop would start the proxies again (none left) before
        # the driver kills this actor.
        self._stopped = True
        for a in self.apps.values():
            for d in a["deployments"].values():
                self._stop_all(d)
        self.apps.clear()
        # Each proxy stops its server first: on 3 hosts a killed proxy
        # actor's process was sometimes left running with its port
        # (tests/integration/serve_cluster.tcl), and the port must be free.
        stops = [p["handle"].stop.remote() for p in self.proxies.values()]
        try:
            if stops:
                ray.wait(stops, num_returns=len(stops), timeout=15)
        except Exception as e:  # noqa: BLE001 - a proxy died meanwhile
            print("serve controller: stopping the proxies: %s" % e)
        for nid, p in self.proxies.items():
            try:
                ray.kill(p["handle"])
            except Exception as e:  # noqa: BLE001
                print("serve controller: killing the proxy of node %s: %s" % (nid[:12], e))
        self.proxies.clear()
        return True

    # -- the control loop --------------------------------------------------

    async def _control_loop(self):
        while True:
            try:
                self._tick()
            except Exception as e:  # noqa: BLE001 - keep controlling
                import traceback
                traceback.print_exc()
                print("serve controller: %s" % e)
            await asyncio.sleep(TICK_S)

    def _tick(self):
        if self._stopped:
            return
        now = time.monotonic()
        for name, a in list(self.apps.items()):
            for d in a["deployments"].values():
                self._check_replicas(d, now)
                self._autoscale(d, now)
                self._reconcile(d, now)
            if a["deleting"] and not any(d.replicas for d in a["deployments"].values()):
                del self.apps[name]
        self._check_proxies(now)

    def _check_replicas(self, d, now):
        for r in list(d.replicas.values()):
            if r.state == "STARTING" and r.handle is None:
                if not r.creating.done():
                    continue
                try:
                    r.handle = r.creating.result()
                    r.ready_ref = r.handle.ready.remote()
                except Exception as e:  # noqa: BLE001 - the constructor failed
                    self._failed_start(d, r, e)
                    continue
            if r.state == "STARTING":
                ready, _ = ray.wait([r.ready_ref], timeout=0)
                if ready:
                    try:
                        r.pid = ray.get(r.ready_ref)
                        r.state = "RUNNING"
                        r.last_health = now
                    except Exception as e:  # noqa: BLE001 - the constructor failed
                        self._failed_start(d, r, e)
                continue
            if r.state == "STOPPING":
                self._poll_metric(r)
                idle = r.ongoing == 0 and now - r.stop_since > STOP_GRACE_S
                if idle or now - r.stop_since > GRACEFUL_SHUTDOWN_S:
                    self._kill(d, r)
                continue
            self._poll_health(d, r, now)
            if d.auto is not None:
                self._poll_metric(r)

    def _failed_start(self, d, r, e):
        d.failures += 1
        text = e.args[1] if len(getattr(e, "args", ())) > 1 else str(e)
        d.message = "Replica %s failed to start: %s" % (r.name, text)
        if d.failures >= MAX_CONSTRUCTOR_FAILURES:
            d.failed = True
        d.replicas.pop(r.name, None)

    def _poll_health(self, d, r, now):
        if r.health_ref is not None:
            ready, _ = ray.wait([r.health_ref], timeout=0)
            if ready:
                try:
                    ray.get(r.health_ref)
                    r.last_health = now
                except Exception as e:  # noqa: BLE001 - dead or unhealthy: replace
                    d.message = "Replica %s failed its health check: %s" % (
                        r.name, str(e).splitlines()[0] if str(e) else type(e).__name__)
                    self._kill(d, r)
                    return
                r.health_ref = None
            elif now - r.health_sent > d.cfg["health_check_timeout_s"]:
                d.message = "Replica %s did not answer its health check" % r.name
                self._kill(d, r)
                return
        if r.health_ref is None and now - r.last_health >= d.cfg["health_check_period_s"]:
            r.health_ref = r.handle.check_health.remote()
            r.health_sent = now

    def _poll_metric(self, r):
        if r.metric_ref is not None:
            ready, _ = ray.wait([r.metric_ref], timeout=0)
            if not ready:
                return
            try:
                r.ongoing = ray.get(r.metric_ref)
            except Exception:  # noqa: BLE001 - the health check deals with it
                r.ongoing = 0
        r.metric_ref = r.handle.get_num_ongoing_requests.remote()

    def _autoscale(self, d, now):
        if d.auto is None:
            return
        d.handles = {k: v for k, v in d.handles.items() if now - v[1] < HANDLE_REPORT_TTL_S}
        total = max(sum(r.ongoing for r in d.running()), sum(q for q, _ in d.handles.values()))
        want = d.auto.desired(len(d.running()), total)
        if want == d.target:
            d.scale_want = None
            return
        if d.scale_want is None or d.scale_want[0] != want:
            d.scale_want = (want, now)
        delay = d.auto.upscale_delay_s if want > d.target else d.auto.downscale_delay_s
        if now - d.scale_want[1] >= delay:
            d.target = want
            d.scale_want = None

    def _reconcile(self, d, now):
        if d.failed:
            return
        live = d.live()
        for _ in range(d.target - len(live)):
            self._start_replica(d)
        if len(live) > d.target:
            extra = sorted(live, key=lambda r: (r.state != "STARTING", r.ongoing))
            for r in extra[:len(live) - d.target]:
                if r.state == "STARTING":
                    self._kill(d, r)
                else:
                    r.state = "STOPPING"
                    r.stop_since = now

    def _start_replica(self, d):
        from ray.serve._private.replica import Replica
        cfg = d.cfg
        name = "SERVE_REPLICA::%s#%s#%s" % (d.app, d.name, uuid.uuid4().hex[:6])
        opts = dict(cfg["ray_actor_options"])
        opts.pop("runtime_env", None)
        # Spread over the nodes, as Ray's Serve places replicas by default.
        actor = ray.remote(Replica).options(
            name=name, namespace=SERVE_NAMESPACE, lifetime="detached",
            scheduling_strategy="SPREAD",
            max_concurrency=cfg["max_ongoing_requests"] + 16, **opts)
        creating = self._pool.submit(actor.remote, d.app, d.name, name, cfg["serialized"],
                                     cfg["user_config"], cfg["max_ongoing_requests"],
                                     cfg["is_function"])
        d.replicas[name] = _Replica(name, creating)

    # -- proxies -----------------------------------------------------------

    def _check_proxies(self, now):
        opts = self.http_options
        if not opts or opts.get("location") == "NoServer":
            return
        if now - self._last_nodes > 2.0 or not self.proxies:
            self._last_nodes = now
            self._start_proxies()
        routes = None
        for nid, p in list(self.proxies.items()):
            if p["ref"] is not None:
                ready, _ = ray.wait([p["ref"]], timeout=0)
                if not ready:
                    continue
                try:
                    v = ray.get(p["ref"])
                    if p["kind"] != "c":
                        p["version"] = v
                    p["ready"] = True
                except Exception:  # noqa: BLE001 - the proxy died: start another
                    print("serve controller: the proxy on node %s failed; restarting" % nid)
                    del self.proxies[nid]
                    continue
                p["ref"] = None
            if p["kind"] == "c":
                if now - p["sent"] > 2.0:   # is the proxy process still there?
                    p["ref"] = p["handle"].ready.remote()
                    p["sent"] = now
                continue
            if p["version"] < self.routes_version or now - p["sent"] > 1.0:
                if routes is None:
                    routes = {a["route_prefix"]: (name, a["ingress"])
                              for name, a in self.apps.items()
                              if a["route_prefix"] is not None and not a["deleting"]
                              and a["ingress"]}
                p["ref"] = p["handle"].set_routes.remote(self.routes_version, routes)
                p["sent"] = now

    def _start_proxies(self):
        from ray.serve._private.proxy import proxy_class
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy
        kind, cls = proxy_class(self.http_options.get("proxy"))
        opts = self.http_options
        errors = []
        nodes = [n for n in ray.nodes() if n["Alive"]]
        if opts.get("location") == "HeadOnly":
            here = ray.get_runtime_context().get_node_id()
            nodes = [n for n in nodes if n["NodeID"] == here]
        for n in nodes:
            nid = n["NodeID"]
            if nid in self.proxies:
                continue
            name = "SERVE_PROXY_ACTOR-%s" % nid
            try:
                handle = ray.remote(cls).options(
                    name=name, namespace=SERVE_NAMESPACE, lifetime="detached", num_cpus=0,
                    get_if_exists=True, max_concurrency=1000,
                    scheduling_strategy=NodeAffinitySchedulingStrategy(nid, soft=False)).remote(
                    opts.get("host", "127.0.0.1"), opts.get("port", 8000), nid)
            except Exception as e:  # noqa: BLE001 - e.g. the port is taken; tried again later
                text = e.args[1] if len(e.args) > 1 else str(e)
                lines = [ln for ln in text.splitlines() if "failed to start:" in ln]
                errors.append("node %s: %s" % (nid[:12], lines[-1].split("Error: ", 1)[-1]
                                               if lines else text.strip()))
                continue
            first = handle.ready.remote() if kind == "c" else handle.set_routes.remote(-1, {})
            self.proxies[nid] = {"name": name, "handle": handle, "ready": False, "kind": kind,
                                 "version": -1, "sent": time.monotonic(), "ref": first}
        return errors

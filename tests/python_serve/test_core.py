"""Ray Serve's core API: deployments, handles, composition, options,
user_config, status, delete and errors."""
import pytest

import ray
from ray import serve
from ray.serve.exceptions import RayServeException


@pytest.fixture(scope="module", autouse=True)
def _serve(serve_instance):
    yield serve_instance


@serve.deployment
class Counter:
    def __init__(self, start):
        self.n = start

    def incr(self, k=1):
        self.n += k
        return self.n

    def __call__(self, x):
        return "counter %s" % x


@serve.deployment
def double(x):
    return 2 * x


@serve.deployment
class Model:
    def __init__(self):
        self.threshold = None

    def reconfigure(self, config):
        self.threshold = config["threshold"]

    def get(self):
        return self.threshold


@serve.deployment
class Pipeline:
    def __init__(self, first, second):
        self.first = first
        self.second = second

    async def __call__(self, x):
        y = await self.first.remote(x)
        return await self.second.remote(y)

    def chain_sync(self, x):
        return self.second.remote(self.first.remote(x)).result()


@serve.deployment
class Failing:
    def __call__(self):
        raise ValueError("boom from the replica")


def test_class_deployment_handle_methods_and_call():
    h = serve.run(Counter.bind(5), name="counter", route_prefix="/counter")
    assert h.incr.remote(2).result() == 7
    assert h.remote("x").result() == "counter x"


def test_function_deployment():
    h = serve.run(double.bind(), name="double", route_prefix=None)
    assert h.remote(21).result() == 42


def test_composition_passes_deployment_handles():
    app = Pipeline.bind(double.bind(), double.options(name="double2").bind())
    h = serve.run(app, name="pipeline", route_prefix=None)
    assert h.remote(3).result() == 12
    # A DeploymentResponse passed to another call is resolved first (Ray).
    assert h.chain_sync.remote(5).result() == 20


def test_deployment_response_is_awaitable_in_the_driver():
    import asyncio
    h = serve.get_app_handle("double")

    async def go():
        return await asyncio.gather(*[h.remote(i) for i in range(5)])
    assert asyncio.run(go()) == [0, 2, 4, 6, 8]


def test_user_config_calls_reconfigure_and_updates():
    h = serve.run(Model.options(user_config={"threshold": 0.5}).bind(), name="model",
                  route_prefix=None)
    assert h.get.remote().result() == 0.5
    h = serve.run(Model.options(user_config={"threshold": 0.9}).bind(), name="model",
                  route_prefix=None)
    assert h.get.remote().result() == 0.9


def test_num_replicas_and_status():
    serve.run(double.options(name="wide", num_replicas=3).bind(), name="wide",
              route_prefix=None)
    st = serve.status()
    app = st.applications["wide"]
    assert app.status == "RUNNING"
    assert app.deployments["wide"].status == "HEALTHY"
    assert app.deployments["wide"].replica_states == {"RUNNING": 3}
    assert st.proxies and all(v == "HEALTHY" for v in st.proxies.values())


def test_controller_is_named_detached_actor_in_serve_namespace():
    c = ray.get_actor("SERVE_CONTROLLER_ACTOR", namespace="serve")
    assert c is not None


def test_calls_spread_over_replicas_by_pid():
    @serve.deployment(num_replicas=2, max_ongoing_requests=1)
    class Pid:
        async def __call__(self):
            import asyncio
            import os
            await asyncio.sleep(0.05)
            return os.getpid()
    h = serve.run(Pid.bind(), name="pid", route_prefix=None)
    pids = {r.result() for r in [h.remote() for _ in range(10)]}
    assert len(pids) == 2


def test_max_ongoing_requests_is_respected():
    @serve.deployment(max_ongoing_requests=2)
    class Gate:
        def __init__(self):
            self.now = 0
            self.peak = 0

        async def __call__(self):
            import asyncio
            self.now += 1
            self.peak = max(self.peak, self.now)
            await asyncio.sleep(0.02)
            self.now -= 1

        def get_peak(self):
            return self.peak
    h = serve.run(Gate.bind(), name="gate", route_prefix=None)
    for r in [h.remote() for _ in range(12)]:
        r.result()
    assert h.get_peak.remote().result() == 2


def test_exception_in_replica_raises_at_caller():
    h = serve.run(Failing.bind(), name="failing", route_prefix=None)
    with pytest.raises(ValueError, match="boom from the replica"):
        h.remote().result()


def test_result_timeout():
    @serve.deployment
    class Slow:
        async def __call__(self, ev):
            import asyncio
            await asyncio.sleep(30)
    h = serve.run(Slow.bind(), name="slow", route_prefix=None)
    with pytest.raises(TimeoutError):
        h.remote(1).result(timeout_s=0.2)
    serve.delete("slow")


def test_get_app_and_deployment_handles():
    assert serve.get_app_handle("counter").incr.remote(0).result() >= 5
    h = serve.get_deployment_handle("double2", app_name="pipeline")
    assert h.remote(4).result() == 8
    with pytest.raises(RayServeException):
        serve.get_app_handle("no-such-app")
    with pytest.raises(RayServeException):
        serve.get_deployment_handle("nope", app_name="pipeline")


def test_delete_removes_the_app():
    serve.run(double.options(name="gone").bind(), name="gone", route_prefix=None)
    serve.delete("gone")
    assert "gone" not in serve.status().applications


def test_bad_arguments_are_clear_errors():
    with pytest.raises(TypeError, match="unknown option"):
        serve.deployment(num_replica=2)(double.func_or_class)
    with pytest.raises(ValueError, match="num_replicas"):
        double.options(num_replicas=-1)
    with pytest.raises(TypeError, match="Application"):
        serve.run(42)
    with pytest.raises(ValueError, match="route_prefix"):
        serve.run(double.bind(), name="x", route_prefix="nope")
    with pytest.raises(RuntimeError, match="bind"):
        double(1)


def test_route_prefix_conflict_is_refused():
    with pytest.raises(RayServeException, match="Prefix /counter"):
        serve.run(double.options(name="other").bind(), name="other", route_prefix="/counter")


def test_constructor_failure_is_deploy_failed():
    @serve.deployment
    class Broken:
        def __init__(self):
            raise RuntimeError("cannot start")
    with pytest.raises(RayServeException, match="cannot start"):
        serve.run(Broken.bind(), name="broken", route_prefix=None)
    assert serve.status().applications["broken"].status == "DEPLOY_FAILED"
    serve.delete("broken")


def test_handles_work_after_serve_restarts(serve_instance):
    h = serve.run(double.options(name="again").bind(), name="again", route_prefix=None)
    assert h.remote(1).result() == 2
    serve.shutdown()
    port = int(serve_instance.rsplit(":", 1)[1])
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    serve.run(double.options(name="again").bind(), name="again", route_prefix=None)
    assert h.remote(2).result() == 4

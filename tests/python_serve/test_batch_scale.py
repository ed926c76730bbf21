"""@serve.batch, autoscaling up and down on ongoing requests, and the
replacement of a replica whose process died."""
import asyncio
import os
import signal

import pytest

from conftest import wait_for
from ray import serve


@pytest.fixture(scope="module", autouse=True)
def _serve(serve_instance):
    yield serve_instance


@serve.deployment(max_ongoing_requests=16)
class Batched:
    def __init__(self):
        self.sizes = []

    @serve.batch(max_batch_size=4, batch_wait_timeout_s=1000)
    async def handle(self, items):
        self.sizes.append(len(items))
        return [x * 10 for x in items]

    async def __call__(self, x):
        return await self.handle(x)

    def batch_sizes(self):
        return self.sizes


def test_batch_gathers_calls_into_lists():
    h = serve.run(Batched.bind(), name="batched", route_prefix=None)
    # The wait is "forever": only a full batch of 4 can answer these 8 calls.
    rs = [h.remote(i) for i in range(8)]
    assert [r.result() for r in rs] == [i * 10 for i in range(8)]
    assert h.batch_sizes.remote().result() == [4, 4]


def test_batch_timeout_sends_a_partial_batch():
    @serve.deployment
    class Partial:
        @serve.batch(max_batch_size=100, batch_wait_timeout_s=0.05)
        async def __call__(self, items):
            return [len(items)] * len(items)
    h = serve.run(Partial.bind(), name="partial", route_prefix=None)
    assert h.remote("a").result() == 1


def test_batch_error_reaches_every_caller():
    @serve.deployment
    class Bad:
        @serve.batch(max_batch_size=2, batch_wait_timeout_s=1000)
        async def __call__(self, items):
            return items[:1]   # wrong length
    h = serve.run(Bad.bind(), name="badbatch", route_prefix=None)
    rs = [h.remote(i) for i in range(2)]
    for r in rs:
        with pytest.raises(TypeError, match="expected a list of length 2"):
            r.result()


def test_batch_decorator_checks():
    with pytest.raises(TypeError, match="async def"):
        serve.batch(lambda items: items)
    with pytest.raises(ValueError, match="max_batch_size"):
        serve.batch(max_batch_size=0)


def _replicas(app, dep):
    return serve.status().applications[app].deployments[dep].replica_states.get("RUNNING", 0)


def test_autoscaling_up_and_down(tmp_path):
    release = str(tmp_path / "release")

    @serve.deployment(max_ongoing_requests=10, autoscaling_config={
        "min_replicas": 1, "max_replicas": 3, "target_ongoing_requests": 1,
        "upscale_delay_s": 0, "downscale_delay_s": 0})
    class Blocker:
        async def __call__(self):
            # Held until the test creates the file (any replica sees it).
            while not os.path.exists(release):
                await asyncio.sleep(0.01)
            return os.getpid()
    h = serve.run(Blocker.bind(), name="auto", route_prefix=None)
    assert _replicas("auto", "Blocker") == 1
    held = [h.remote() for _ in range(6)]
    wait_for(lambda: _replicas("auto", "Blocker") == 3, "scaling up to 3 replicas")
    open(release, "w").close()
    for r in held:
        r.result()
    wait_for(lambda: _replicas("auto", "Blocker") == 1 and
             serve.status().applications["auto"].deployments["Blocker"].status == "HEALTHY",
             "scaling down to 1 replica")


def test_dead_replica_is_replaced_and_calls_succeed():
    @serve.deployment(num_replicas=2, health_check_period_s=0.2)
    class Pid:
        def __call__(self):
            return os.getpid()
    h = serve.run(Pid.bind(), name="pids", route_prefix=None)
    pids = set()
    wait_for(lambda: pids.add(h.remote().result()) or len(pids) == 2, "both replicas answering")
    victim = sorted(pids)[0]
    os.kill(victim, signal.SIGKILL)
    # Every call still succeeds (a call sent to the dead replica is retried once).
    new = set()

    def replaced():
        new.add(h.remote().result(timeout_s=60))
        st = serve.status().applications["pids"].deployments["Pid"]
        return len(new - pids) >= 1 and st.replica_states == {"RUNNING": 2}
    wait_for(replaced, "a new replica replacing pid %d" % victim)
    assert victim not in {h.remote().result() for _ in range(10)}

"""ray.nodes(), ray.cluster_resources(), ray.available_resources() and
ray.get_runtime_context()."""
import time

import pytest

import ray


@pytest.fixture(scope="module", autouse=True)
def ray_foo():
    """A private node with 3 CPUs and 2 of a custom resource."""
    ray.init(num_cpus=3, resources={"foo": 2})
    yield
    ray.shutdown()


def _wait_until(cond, what):
    # Raylets report their free resources periodically: wait for the
    # report; the bound only stops a broken report from hanging the test.
    deadline = time.monotonic() + 60
    while not cond():
        assert time.monotonic() < deadline, "never saw " + what
        time.sleep(0.05)


@ray.remote(num_cpus=2)
def ctx_of_task():
    c = ray.get_runtime_context()
    return c.get_job_id(), c.get_node_id(), c.get_task_id(), c.get_actor_id(), \
        c.get_assigned_resources(), c.namespace


@ray.remote(num_cpus=0, resources={"foo": 1})
class Holder:
    def ctx(self):
        c = ray.get_runtime_context()
        return c.get_task_id(), c.get_actor_id(), c.get_assigned_resources()


def test_nodes_lists_this_node():
    nodes = ray.nodes()
    assert len(nodes) == 1
    n = nodes[0]
    assert n["Alive"] and n["alive"]
    assert n["NodeID"] == ray.get_runtime_context().get_node_id()
    assert n["NodeManagerAddress"] == "127.0.0.1" and n["NodeManagerPort"] > 0
    assert n["Resources"]["CPU"] == 3.0 and n["Resources"]["foo"] == 2.0


def test_cluster_resources_are_the_totals():
    r = ray.cluster_resources()
    assert r["CPU"] == 3.0 and r["foo"] == 2.0 and r["memory"] > 0


def test_available_resources_follow_an_actor():
    _wait_until(lambda: ray.available_resources().get("foo") == 2.0, "foo=2 free")
    a = Holder.remote()
    ray.get(a.ctx.remote())
    _wait_until(lambda: ray.available_resources().get("foo") == 1.0, "foo=1 free")
    ray.kill(a)
    _wait_until(lambda: ray.available_resources().get("foo") == 2.0, "foo back")


def test_runtime_context_of_the_driver():
    c = ray.get_runtime_context()
    assert len(c.get_job_id()) == 8 and len(c.get_node_id()) == 56
    assert c.get_task_id() is None and c.get_actor_id() is None
    assert c.get_assigned_resources() == {}
    assert c.namespace and c.get()["job_id"] == c.get_job_id()


def test_runtime_context_of_a_task():
    c = ray.get_runtime_context()
    job, node, task, actor, res, ns = ray.get(ctx_of_task.remote())
    assert (job, node, ns) == (c.get_job_id(), c.get_node_id(), c.namespace)
    assert len(task) == 48 and actor is None
    assert res == {"CPU": 2.0}


def test_runtime_context_of_an_actor():
    a = Holder.remote()
    t1, actor, res = ray.get(a.ctx.remote())
    t2, _, _ = ray.get(a.ctx.remote())
    assert actor == a._core.hex() and t1 != t2
    assert res == {"foo": 1.0}
    ray.kill(a)


def test_before_init_is_a_clear_error():
    ray.shutdown()
    try:
        with pytest.raises(ray.exceptions.RaySystemError, match="ray.init"):
            ray.nodes()
        with pytest.raises(ray.exceptions.RaySystemError, match="ray.init"):
            ray.get_runtime_context().get_job_id()
    finally:
        ray.init(num_cpus=3, resources={"foo": 2})

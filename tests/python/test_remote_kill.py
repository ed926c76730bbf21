"""ray.kill of an actor on another node that the driver's raylet never
called: the handle comes from the GCS (ray.get_actor), the actor was made
by a task on the other node.  The raylet looks the actor up and forwards
the kill, as it does a call (it answered "no such actor" and the actor
lived on, which left Serve's proxies running after serve.shutdown)."""
import os
import subprocess
import time

import pytest

import ray
from conftest import _free_port
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy


@ray.remote
class Pinned:
    def where(self):
        return ray.get_runtime_context().get_node_id(), os.getpid()


@ray.remote
def make_pinned(node_id):
    a = Pinned.options(name="pinned", namespace="remote_kill", lifetime="detached",
                       scheduling_strategy=NodeAffinitySchedulingStrategy(node_id, soft=False)
                       ).remote()
    return ray.get(a.where.remote())


def _wait(cond):
    # conftest's hang guard turns a wait that never ends into a failure.
    while not cond():
        time.sleep(0.05)


@pytest.fixture
def two_nodes(head):
    address, env, _ = head
    bin_ray = os.path.join(os.environ["RAYC_BIN_DIR"], "ray")
    subprocess.run([bin_ray, "start", "--address", address, "--node-ip-address", "127.0.0.1",
                    "--dashboard-agent-listen-port", str(_free_port()), "--num-cpus", "2"],
                   env=env, check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    ray.init(address=address)
    _wait(lambda: sum(n["Alive"] for n in ray.nodes()) == 2)
    yield
    ray.shutdown()


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = open("/proc/%d/stat" % pid).read()
    return stat[stat.rindex(")") + 2] != "Z"


def test_kill_of_an_actor_this_raylet_never_called(two_nodes):
    here = ray.get_runtime_context().get_node_id()
    other = [n["NodeID"] for n in ray.nodes() if n["Alive"] and n["NodeID"] != here][0]
    node, pid = ray.get(make_pinned.options(
        scheduling_strategy=NodeAffinitySchedulingStrategy(other, soft=False)).remote(other))
    assert node == other
    handle = ray.get_actor("pinned", namespace="remote_kill")
    ray.kill(handle)
    _wait(lambda: not _alive(pid))
    with pytest.raises(ray.exceptions.RayActorError):
        ray.get(handle.where.remote())

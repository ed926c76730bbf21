"""ray.kill of an actor on another node that the driver's raylet never
called: the handle comes from the GCS (ray.get_actor), the actor was made
by a task on the other node.  The raylet looks the actor up and forwards
the kill, as it does a call (it answered "no such actor" and the actor
lived on, which left Serve's proxies running after serve.shutdown)."""
import glob
import json
import os
import subprocess
import sys
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
    # Killing an actor that is already dead is not an error, as in Ray.
    ray.kill(handle)


# A driver whose detached Keeper (on the driver's node) makes two detached
# Targets, one on each node, then exits: its job ends, the actors live on.
_FIRST_DRIVER = r'''
import json, os, sys
import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy as On

@ray.remote
class Target:
    def where(self):
        return ray.get_runtime_context().get_node_id(), os.getpid()

@ray.remote
class Keeper:
    def make(self, nodes):
        self.targets = [Target.options(lifetime="detached", scheduling_strategy=On(n, soft=False))
                        .remote() for n in nodes]
        return ray.get([t.where.remote() for t in self.targets])

    def kill_targets(self):
        for t in self.targets:
            ray.kill(t)
        return True

ray.init(address=sys.argv[1])
here = ray.get_runtime_context().get_node_id()
other = [n["NodeID"] for n in ray.nodes() if n["Alive"] and n["NodeID"] != here][0]
keeper = Keeper.options(name="keeper", namespace="detached_kill", lifetime="detached",
                        scheduling_strategy=On(here, soft=False)).remote()
print(json.dumps({"job": ray.get_runtime_context().get_job_id(), "pid": os.getpid(),
                  "targets": ray.get(keeper.make.remote([here, other]))}))
'''


def _job_ended_on_its_node(tmp, job, pid):
    # The raylet the first driver registered with logs the job's end.
    for log in glob.glob(os.path.join(tmp, "session_latest", "node_*", "logs", "raylet.log")):
        text = open(log).read()
        if "job %s: driver pid %d registered" % (job, pid) in text and \
                "job %s ended" % job in text:
            return True
    return False


def test_detached_actor_kills_its_actors_after_its_job_ended(head, two_nodes):
    """Serve's shape: the controller (a detached actor) kills the proxies it
    made (detached, one per node) after the job that started Serve ended.
    The kill reaches both, and both worker processes end."""
    address, env, _ = head
    out = subprocess.run([sys.executable, "-c", _FIRST_DRIVER, address], env=env, check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    first = json.loads(out.strip().splitlines()[-1])
    nodes = [n for n, _ in first["targets"]]
    assert len(set(nodes)) == 2
    _wait(lambda: _job_ended_on_its_node(env["RAY_TMPDIR"], first["job"], first["pid"]))
    keeper = ray.get_actor("keeper", namespace="detached_kill")
    assert ray.get(keeper.kill_targets.remote()) is True
    for _, pid in first["targets"]:
        _wait(lambda: not _alive(pid))
    ray.kill(keeper)

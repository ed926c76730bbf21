"""Serve over two nodes on this host (a head and a joined node, 2 CPUs
each): replicas on both nodes answer through the head's HTTP proxy, and
when the joined node dies (its raylet killed) every request still succeeds
(a request sent to a dead replica goes again to another live one) and the
controller replaces the lost replicas."""
import glob
import os
import signal
import subprocess

import pytest

import ray
from conftest import ROOT, free_port, http, wait_for
from ray import serve

RAY = os.path.join(ROOT, "bin", "ray")


@pytest.fixture(scope="module")
def two_nodes(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("multi")
    env = dict(os.environ, RAY_TMPDIR=str(tmp))
    env.pop("RAY_ADDRESS", None)
    port = free_port()
    common = ["--node-ip-address", "127.0.0.1", "--num-cpus", "2"]
    subprocess.run([RAY, "start", "--head", "--port", str(port), "--dashboard-port",
                    str(free_port()), "--dashboard-agent-listen-port", str(free_port()),
                    *common], env=env, check=True, capture_output=True)
    subprocess.run([RAY, "start", "--address", "127.0.0.1:%d" % port,
                    "--dashboard-agent-listen-port", str(free_port()), *common],
                   env=env, check=True, capture_output=True)
    ray.init(address="127.0.0.1:%d" % port)
    wait_for(lambda: sum(n["Alive"] and n["Resources"].get("CPU") == 2.0
                         for n in ray.nodes()) == 2, "both nodes alive with 2 CPUs")
    http_port = free_port()
    # Both nodes are 127.0.0.1 here: one proxy (the head's) can have the port.
    serve.start(http_options={"port": http_port, "location": "HeadOnly"})
    yield tmp, "http://127.0.0.1:%d" % http_port
    serve.shutdown()
    ray.shutdown()
    subprocess.run([RAY, "stop"], env=env, capture_output=True)


def _joined_raylet_pid(tmp):
    for info in glob.glob(os.path.join(str(tmp), "session_latest", "node_*", "node.info")):
        text = open(info).read()
        if "\nhead 1\n" not in text:
            pids = os.path.join(os.path.dirname(info), "pids", "raylet.pid")
            return int(open(pids).read().split()[0])
    raise AssertionError("no joined node found")


@serve.deployment(num_replicas=4, ray_actor_options={"num_cpus": 1},
                  health_check_period_s=0.5)
def where(request):
    return ray.get_runtime_context().get_node_id()


def test_replicas_on_both_nodes_answer_and_survive_a_node_death(two_nodes):
    tmp, url = two_nodes
    serve.run(where.bind(), name="where", route_prefix="/where")
    nodes = set()
    wait_for(lambda: nodes.add(http(url + "/where")[1]) or len(nodes) == 2,
             "answers from replicas on both nodes")
    os.kill(_joined_raylet_pid(tmp), signal.SIGKILL)
    answers = [http(url + "/where") for _ in range(40)]
    assert [a[0] for a in answers] == [200] * 40, [a for a in answers if a[0] != 200][:3]
    head = ray.get_runtime_context().get_node_id().encode()
    assert answers[-1][1] == head

    def replaced():
        st = serve.status().applications["where"].deployments["where"].replica_states
        return st.get("RUNNING") == 2 and sum(st.values()) == 4
    # The lost replicas are replaced (they wait for CPUs: the head has 2).
    wait_for(replaced, "2 running replicas and 2 replacements")

"""Serve drivers for tests/integration/serve_cluster.tcl, run on a test host
with RAY_ADDRESS naming the head (PYTHONPATH the checkout's python/).

    serve_cluster.py deploy N      serve.start (proxies on every node, host
                                   0.0.0.0, port 8000) and serve.run of the
                                   "where" deployment with N replicas
                                   (SPREAD, as every replica); prints
                                   "deployed"
    serve_cluster.py running N     waits until "where" has N replicas, all
                                   RUNNING; prints the states as they change,
                                   then "running N"
    serve_cluster.py ask URL N [D] N GETs of URL one after another (or fewer:
                                   until D distinct replicas answered);
                                   prints "answer IP PID COUNT" per replica
                                   that answered, "errors K" and up to 5
                                   errors
    serve_cluster.py proxies K     waits until serve.status() lists K proxies,
                                   all HEALTHY; prints "proxies K healthy"
    serve_cluster.py shutdown      serve.shutdown(); prints "shut down"

The deployment answers "IP PID": ray.util.get_node_ip_address() (the
replica's node) and its process id."""
import collections
import os
import sys
import time
import urllib.error
import urllib.request

import ray
from ray import serve

POLL_S = 0.2


@serve.deployment(ray_actor_options={"num_cpus": 0.5}, health_check_period_s=0.5)
def where(request):
    return "%s %d" % (ray.util.get_node_ip_address(), os.getpid())


def deploy(n):
    serve.start(http_options={"host": "0.0.0.0", "port": 8000})
    serve.run(where.options(num_replicas=n).bind(), name="where", route_prefix="/where")
    print("deployed", flush=True)


def running(n):
    last = None
    while True:
        app = serve.status().applications.get("where")
        states = dict(app.deployments["where"].replica_states) if app else {}
        if states != last:
            print("states", sorted(states.items()), flush=True)
            last = states
        if states.get("RUNNING") == n and sum(states.values()) == n:
            print("running", n, flush=True)
            return
        time.sleep(POLL_S)


def proxies(k):
    while True:
        states = list(serve.status().proxies.values())
        if len(states) == k and set(states) == {"HEALTHY"}:
            print("proxies", k, "healthy", flush=True)
            return
        time.sleep(POLL_S)


def ask(url, n, distinct=None):
    answers = collections.Counter()
    errors = []
    for _ in range(n):
        if distinct is not None and len(answers) >= distinct:
            break
        try:
            with urllib.request.urlopen(url, timeout=60) as r:
                answers[r.read().decode()] += 1
        except urllib.error.HTTPError as e:
            errors.append("%d %s" % (e.code, e.read().decode(errors="replace")[:200]))
        except OSError as e:
            errors.append(repr(e))
    for who, count in sorted(answers.items()):
        print("answer", who, count)
    print("errors", len(errors))
    for e in errors[:5]:
        print("error", e.replace("\n", " | "))


def main():
    cmd = sys.argv[1]
    if cmd == "ask":   # plain HTTP: no driver needed
        ask(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]) if len(sys.argv) > 4 else None)
        return
    ray.init()
    if cmd == "deploy":
        deploy(int(sys.argv[2]))
    elif cmd == "running":
        running(int(sys.argv[2]))
    elif cmd == "proxies":
        proxies(int(sys.argv[2]))
    elif cmd == "shutdown":
        serve.shutdown()
        print("shut down")
    else:
        sys.exit("serve_cluster.py: unknown command %r" % cmd)


if __name__ == "__main__":
    main()

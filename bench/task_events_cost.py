#!/usr/bin/python3
"""What task events cost, in CPU time per task of every process involved.

    bench/task_events_cost.py [--rounds R] [--tasks N] [ROOT ...]

For each ROOT (a built rayc checkout; default: this one) two single-node
clusters run side by side for the whole benchmark, one with task events on
and one with them off (RAY_task_events_report_interval_ms=0), each on its
own GCS and dashboard ports on 127.0.0.1, with its own registry and temp
dir.  Each round runs tiny_demo N (N tasks at once, as
single_client_tasks_async) once against every cluster, in an order that
rotates from round to round, and counts the CPU time (user + system) of
the driver (wait4's rusage), the GCS, the raylet and the raylet's workers
(/proc/PID/stat, before and after) -- what the user pays per task.

Printed: per round and cluster, CPU microseconds per task; per ROOT, the
median over rounds of (on / off - 1) of the same round, which a machine
whose load changes between rounds moves far less than totals do; and the
load average (uptime) at the start and end.  Nothing is asserted.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_cpu_s(pid):
    """utime + stime of PID in seconds (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def children_of(root_pids):
    """ROOT_PIDS and every process below them."""
    parent = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    parent[int(d)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                pass
    out, todo = set(), list(root_pids)
    while todo:
        p = todo.pop()
        if p in out:
            continue
        out.add(p)
        todo.extend(c for c, pp in parent.items() if pp == p)
    return out


class Cluster:
    def __init__(self, root, events, port, base):
        self.root, self.events, self.port = root, events, port
        self.ip = "127.0.0.1"
        self.name = f"{os.path.basename(os.path.abspath(root)) or root} events-{'on' if events else 'off'}"
        self.dir = tempfile.mkdtemp(prefix="evcost-", dir=base)
        self.env = dict(os.environ)
        self.env.update(RAYC_NODE_REGISTRY=f"{self.dir}/reg", RAY_TMPDIR=f"{self.dir}/tmp",
                        RAY_AUTH_TOKEN_PATH=f"{self.dir}/token",
                        RAY_ADDRESS=f"127.0.0.1:{port}")
        if not events:
            self.env["RAY_task_events_report_interval_ms"] = "0"
        os.makedirs(f"{self.dir}/tmp")
        with open(f"{self.dir}/token", "w") as f:
            f.write(f"evcost-{os.getpid()}-{time.time_ns()}\n")

    def ray(self, *args):
        return subprocess.run([f"{self.root}/bin/ray", *args], env=self.env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def start(self):
        r = self.ray("start", "--head", "--node-ip-address", self.ip, "--port", str(self.port),
                     "--dashboard-port", str(self.port + 1), "--num-cpus", "2", "--auth-token-file", f"{self.dir}/token")
        if r.returncode != 0:
            sys.exit(f"task_events_cost: ray start for {self.name} failed: {r.stderr.strip()}")
        reg = f"{self.dir}/reg"
        nd = os.path.realpath(os.path.join(reg, [e for e in os.listdir(reg) if e.startswith(self.ip)][0]))
        self.daemons = [int(open(f"{nd}/pids/{p}.pid").read().split()[0])
                        for p in ("raylet", "gcs_server")]

    def stop(self):
        self.ray("stop", "--force")
        shutil.rmtree(self.dir, ignore_errors=True)

    def run(self, n):
        """Runs tiny_demo N; returns the CPU seconds of all its processes."""
        before = {p: proc_cpu_s(p) for p in children_of(self.daemons)}
        drv = subprocess.Popen([f"{self.root}/examples/tiny_demo/tiny_demo", str(n)], env=self.env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, ru = os.wait4(drv.pid, 0)
        drv.returncode = os.waitstatus_to_exitcode(status)
        if drv.returncode != 0:
            sys.exit(f"task_events_cost: tiny_demo on {self.name}: {drv.stderr.read().decode().strip()}")
        # The last batch of events is sent within 1 s of the last task.
        time.sleep(1.5)
        after = {p: proc_cpu_s(p) for p in children_of(self.daemons)}
        daemons = sum(after[p] - before.get(p, 0.0) for p in after)
        return ru.ru_utime + ru.ru_stime + daemons


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--tasks", type=int, default=5000)
    ap.add_argument("roots", nargs="*", default=["."])
    a = ap.parse_args()
    base = tempfile.mkdtemp(prefix="rayc-evcost-")
    clusters = []
    try:
        port = 21000 + os.getpid() % 5000 * 4
        for root in a.roots:
            for events in (True, False):
                clusters.append(Cluster(root, events, port, base))
                port += 2
        for c in clusters:
            c.start()
            c.run(200)  # warm: workers started
        print("load at start:", os.getloadavg())
        per = {c.name: [] for c in clusters}
        for r in range(a.rounds):
            order = clusters[r % len(clusters):] + clusters[:r % len(clusters)]
            line = []
            for c in order:
                us = 1e6 * c.run(a.tasks) / a.tasks
                per[c.name].append(us)
                line.append(f"{c.name} {us:.0f}")
            print(f"round {r}: cpu us/task: " + ", ".join(line), flush=True)
        print("load at end:", os.getloadavg())
        for i in range(0, len(clusters), 2):
            on, off = clusters[i].name, clusters[i + 1].name
            ratios = [100 * (x / y - 1) for x, y in zip(per[on], per[off])]
            print(f"{a.roots[i // 2]}: cpu us/task median events_on {statistics.median(per[on]):.0f} "
                  f"events_off {statistics.median(per[off]):.0f}; events cost median "
                  f"{statistics.median(ratios):.1f} % (per round: "
                  + " ".join(f"{x:.1f}" for x in ratios) + ")")
    finally:
        for c in clusters:
            c.stop()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()

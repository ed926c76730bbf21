#!/usr/bin/python3
"""What task events cost, in CPU time per task of every process involved.

    bench/task_events_cost.py [--rounds R] [--tasks N] [ROOT ...]

For each ROOT (a built rayc checkout with `make benches`; default: this one) two single-node
clusters run side by side for the whole benchmark, one with task events on
and one with them off (RAY_task_events_report_interval_ms=0), each on its
own GCS and dashboard ports on 127.0.0.1, with its own registry and temp
dir.  Each round runs tiny_demo N (N tasks at once, as
single_client_tasks_async) once against every cluster, through one
driver per cluster that stays connected (build/bench/tev_cost: one job,
its workers warm), in an order that rotates from round to round, and
counts the CPU time (user + system, /proc/PID/stat before and after the
burst and the 1.2 s in which its last events are sent) of the driver, the
GCS, the raylet and the raylet's workers (those that ended count through
the raylet's cutime/cstime) -- what the user pays per task.

Printed: per round and cluster, CPU microseconds per task; per ROOT, the
median over rounds of (on / off - 1) of the same round, which a machine
whose load changes between rounds moves far less than totals do; and the
load average (uptime) at the start and end.  With --profile-hz HZ, each
events-on cluster then runs one more burst (20,000 tasks at least) under
`perf record` and the
share of samples whose stack is in task-event code (recording, batching,
sending, the GCS storing them) is printed: a ratio within the same
processes and the same seconds, which load hardly moves.  Nothing is
asserted.
"""
import argparse
import re
import signal
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_cpu_s(pid):
    """CPU time of PID's threads in seconds, from the scheduler's own
    nanosecond count (/proc/PID/task/*/schedstat; utime's 10 ms ticks
    are too coarse for a few microseconds a task), plus cutime + cstime
    (its children that ended and were waited for: the workers of a job that
    finished); 0 when it is gone."""
    total = 0.0
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                    total += int(f.read().split()[0]) / 1e9
            except (OSError, ValueError, IndexError):
                pass
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return total
    return total + sum(int(x) for x in fields[13:15]) / CLK_TCK


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
        if getattr(self, "driver", None) is not None:
            self.driver.stdin.close()
            self.driver.wait()
        self.ray("stop", "--force")
        shutil.rmtree(self.dir, ignore_errors=True)

    def connect(self):
        """Starts the driver: one job for the whole benchmark, its workers warm."""
        self.driver = subprocess.Popen([f"{self.root}/build/bench/tev_cost"], env=self.env,
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True, bufsize=1)

    def burst(self, n):
        self.driver.stdin.write(f"{n}\n")
        self.driver.stdin.flush()
        line = self.driver.stdout.readline()
        if not line.startswith("ok"):
            sys.exit(f"task_events_cost: {self.name}: {line.strip() or self.driver.stderr.read()}")

    def cpu_by_role(self):
        """CPU seconds so far of the raylet, the GCS, the driver and the
        workers (every other process below them)."""
        named = dict(zip(("raylet", "gcs", "driver"), self.daemons + [self.driver.pid]))
        out = {role: proc_cpu_s(pid) for role, pid in named.items()}
        out["workers"] = sum(proc_cpu_s(p) for p in children_of(list(named.values()))
                             if p not in named.values())
        return out

    def run(self, n):
        """Runs one burst of N tasks; returns the CPU seconds it cost, in all
        and by role."""
        before = self.cpu_by_role()
        self.burst(n)
        # The last batch of events is sent within 1 s of the last task.
        time.sleep(1.2)
        after = self.cpu_by_role()
        roles = {k: after[k] - before[k] for k in after}
        return sum(roles.values()), roles


# Functions that record, batch, send or store task events: a sample whose
# stack holds one of them is CPU that events cost.
EVENT_FRAMES = re.compile(r"\b(tev_task|tev__flush|tev_actor\w*|tev_from_worker|tev_send\w*|"
                          r"gcs_handle_add_task_events|gev_\w+|api_tev_\w+|tev_wire_\w+)\b")


def profile(c, n, hz):
    """perf samples of C's processes during a burst of N tasks: the share
    (in %) whose stack is in task-event code, and the sample count."""
    pids = ",".join(str(p) for p in children_of(c.daemons + [c.driver.pid]))
    data = os.path.join(c.dir, "perf.data")
    rec = subprocess.Popen(["perf", "record", "-q", "--call-graph", "dwarf,16384", "-F", str(hz),
                            "-o", data, "-p", pids], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    c.burst(n)
    time.sleep(1.2)
    rec.send_signal(signal.SIGINT)
    rec.wait()
    out = subprocess.run(["perf", "script", "-i", data, "-F", "comm,ip,sym"], capture_output=True,
                         text=True).stdout
    total = in_events = 0
    for sample in out.split("\n\n"):
        if sample.strip():
            total += 1
            in_events += EVENT_FRAMES.search(sample) is not None
    return (100.0 * in_events / total if total else 0.0), total


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--tasks", type=int, default=5000)
    ap.add_argument("--profile-hz", type=int, default=0,
                    help="also sample each events-on cluster with perf at this rate")
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
            c.connect()
            c.run(1000)  # warm: workers started
        print("load at start:", os.getloadavg())
        per = {c.name: [] for c in clusters}
        by_role = {c.name: {} for c in clusters}
        for r in range(a.rounds):
            order = clusters[r % len(clusters):] + clusters[:r % len(clusters)]
            line = []
            for c in order:
                total, roles = c.run(a.tasks)
                us = 1e6 * total / a.tasks
                per[c.name].append(us)
                for k, v in roles.items():
                    by_role[c.name].setdefault(k, []).append(1e6 * v / a.tasks)
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
            for name in (on, off):
                print(f"  {name}: median cpu us/task by process: " + ", ".join(
                    f"{k} {statistics.median(v):.1f}" for k, v in by_role[name].items()))
            if a.profile_hz > 0 and shutil.which("perf"):
                share, total = profile(clusters[i], max(a.tasks, 20000), a.profile_hz)
                print(f"{a.roots[i // 2]}: perf: {share:.1f} % of {total} samples of the driver, "
                      f"GCS, raylet and workers are in task-event code")
    finally:
        for c in clusters:
            c.stop()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()

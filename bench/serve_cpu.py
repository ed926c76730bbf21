"""CPU time of the processes of one bench/serve_bench.sh row, by role.

    serve_cpu.py snap MARK > FILE      CPU seconds so far of every process
                                       whose environment holds MARK
    serve_cpu.py diff A B REQUESTS     the CPU each role spent between the
                                       snapshots A and B, in microseconds per
                                       request ("proxy 123 replica 456 ...")

Roles: proxy (bin/ray_serve_proxy), worker (ray._private.worker: replicas,
controller, the proxy actor), raylet, gcs, driver/aiohttp (the benchmark
app itself), other.  Processes that started or ended between the snapshots
count from zero or not at all; the rows run long enough for that not to
matter."""
import os
import sys

TICK = os.sysconf("SC_CLK_TCK")


def role(pid):
    try:
        with open("/proc/%s/cmdline" % pid, "rb") as f:
            argv = f.read().split(b"\0")
    except OSError:
        return None
    text = b" ".join(argv)
    if b"ray_serve_proxy" in text:
        return "proxy"
    if b"ray._private.worker" in text:
        return "worker"
    if argv and argv[0].endswith(b"raylet"):
        return "raylet"
    if argv and argv[0].endswith(b"gcs_server"):
        return "gcs"
    if b"serve_bench_app.py" in text:
        return "app"
    return "other"


def snap(mark):
    mark = mark.encode()
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/environ" % pid, "rb") as f:
                if mark not in f.read().split(b"\0"):
                    continue
            with open("/proc/%s/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        r = role(pid)
        if r is not None:
            # utime and stime are fields 14 and 15 of stat (1-based).
            print(pid, r, (int(fields[11]) + int(fields[12])) / TICK)


def load(path):
    out = {}
    with open(path) as f:
        for line in f:
            pid, r, secs = line.split()
            out[pid] = (r, float(secs))
    return out


def diff(a_path, b_path, requests):
    a, b = load(a_path), load(b_path)
    per = {}
    for pid, (r, secs) in b.items():
        per[r] = per.get(r, 0.0) + secs - a.get(pid, (r, 0.0))[1]
    total = sum(per.values())
    n = max(int(requests), 1)
    parts = ["%s %.0f" % (r, per[r] * 1e6 / n) for r in sorted(per) if per[r] > 0]
    print("cpu/req us: total %.0f (%s)" % (total * 1e6 / n, ", ".join(parts)))


if __name__ == "__main__":
    if sys.argv[1] == "snap":
        snap(sys.argv[2])
    else:
        diff(sys.argv[2], sys.argv[3], sys.argv[4])

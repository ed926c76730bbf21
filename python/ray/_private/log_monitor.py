"""Worker output on the driver (ray.init(log_to_driver=True), the
default): a thread of the driver follows the log files of this job's
workers on the driver's node (NODE_DIR/logs/worker-<id>-<job>.log, both
streams of each worker) and prints each new line as Ray does:

    (square pid=1234) text

Workers write a marker line (TASK_MARKER) before each task, naming the
task (or the actor's class) and their pid; markers are not printed.
Output of the job's workers on other nodes arrives through the raylets
(runtime/raylet/wlog.c) in logs/worker-remote-<ip>-<worker>-<job>.log and
is printed as Ray prints it, `(square pid=1234, ip=10.0.0.2) text`."""
import glob
import os
import sys
import threading

TASK_MARKER = ":rayc_task:"   # :rayc_task:<pid>:<name>
POLL_S = 0.1                  # how often the files are looked at, as Ray's log monitor
MAX_READ = 1 << 20            # per file and round


class LogMonitor:
    def __init__(self, node_dir, job_hex, out=None):
        self._pattern = os.path.join(node_dir, "logs", "worker-*-%s.log" % job_hex)
        self._out = out or sys.stdout
        self._files = {}    # path -> [offset, partial line, prefix]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ray_log_monitor", daemon=True)
        self._thread.start()

    def stop(self):
        """Prints what is left and stops."""
        self._stop.set()
        self._thread.join()

    def _run(self):
        while not self._stop.wait(POLL_S):
            self._poll()
        self._poll()

    def _poll(self):
        for path in glob.glob(self._pattern):
            st = self._files.get(path)
            if st is None:
                st = self._files[path] = [0, b"", None, _remote_ip(path)]
            try:
                with open(path, "rb") as f:
                    f.seek(st[0])
                    data = f.read(MAX_READ)
            except OSError:
                continue
            if not data:
                continue
            st[0] += len(data)
            lines = (st[1] + data).split(b"\n")
            st[1] = lines.pop()
            self._emit(st, lines)

    def _emit(self, st, lines):
        out = []
        for raw in lines:
            line = raw.decode("utf-8", "replace")
            if line.startswith(TASK_MARKER):
                pid, _, name = line[len(TASK_MARKER):].partition(":")
                where = "pid=%s, ip=%s" % (pid, st[3]) if st[3] else "pid=%s" % pid
                st[2] = "(%s %s) " % (name, where)
            elif st[2] is not None:
                out.append(st[2] + line + "\n")
        if out:
            try:
                self._out.write("".join(out))
                self._out.flush()
            except (OSError, ValueError):
                pass  # the driver's stdout is gone or closed


def _remote_ip(path):
    """The node ip of a forwarded worker log (worker-remote-<ip>-...), else
    None."""
    base = os.path.basename(path)
    if not base.startswith("worker-remote-"):
        return None
    return base[len("worker-remote-"):].split("-", 1)[0]


_last_marker = None


def mark_task(name):
    """Called by a worker before a task: the marker on both streams, unless
    the last marker written already names it (an actor's calls all do): the
    prefix it sets holds until the next marker, and a marker per call cost
    two writes and ~50 bytes of log per Serve request."""
    global _last_marker
    line = "%s%d:%s\n" % (TASK_MARKER, os.getpid(), name)
    if line == _last_marker:
        return
    _last_marker = line
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
            stream.write(line)
            stream.flush()
        except (OSError, ValueError):
            pass


def flush_streams():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass

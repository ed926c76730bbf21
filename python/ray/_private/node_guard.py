"""The guard of a private local node: stops the node when its driver is gone.

LocalNode starts this script (by path, so it does not import ray) before
the node itself, with the read end of a pipe whose only write end the
driver holds.  The read returns when the driver closes it (ray.shutdown)
or when the driver dies in any way, SIGKILL included, since the kernel
closes the dead process's descriptors.  Then `ray stop` stops exactly the
daemons of this node (those recorded under its own RAY_TMPDIR) and the
directory is removed.

    python3 node_guard.py FD RAY_BINARY TMPDIR
"""
import os
import shutil
import signal
import subprocess
import sys


def main(argv):
    if len(argv) != 4:
        sys.stderr.write("usage: node_guard.py FD RAY_BINARY TMPDIR\n")
        return 2
    fd, ray_bin, tmp = int(argv[1]), argv[2], argv[3]
    # A Ctrl-C or hang-up meant for the driver must not stop the guard
    # before it has stopped the node.
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    while True:
        try:
            if not os.read(fd, 64):
                break
        except InterruptedError:
            continue
        except OSError:
            break
    env = dict(os.environ, RAY_TMPDIR=tmp)
    env.pop("RAY_ADDRESS", None)
    subprocess.run([ray_bin, "stop"], env=env, stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

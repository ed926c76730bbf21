"""Worker output on the driver: `(name pid=N) text` lines, as Ray prints
them, unless ray.init(log_to_driver=False)."""
import os
import re
import subprocess
import sys

DRIVER = """
import sys
import ray

@ray.remote
def say(x):
    print("hello from task", x)
    print("on stderr", file=sys.stderr)
    return x

@ray.remote
class Talker:
    def talk(self):
        print("actor says hi")
        return 1

ray.init(num_cpus=1, log_to_driver=sys.argv[1] == "1")
print("got", ray.get(say.remote(3)))
ray.get(Talker.remote().talk.remote())
if sys.argv[2] == "shutdown":
    ray.shutdown()
"""


def _run(tmp_path, log_to_driver, end):
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    r = subprocess.run([sys.executable, str(script), log_to_driver, end], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_worker_output_reaches_the_driver_with_its_task_and_pid(tmp_path):
    out = _run(tmp_path, "1", "shutdown")
    assert "got 3" in out
    assert re.search(r"^\(say pid=\d+\) hello from task 3$", out, re.M), out
    assert re.search(r"^\(say pid=\d+\) on stderr$", out, re.M), out
    assert re.search(r"^\(Talker pid=\d+\) actor says hi$", out, re.M), out
    assert ":rayc_task:" not in out


def test_output_printed_when_the_driver_exits_without_shutdown(tmp_path):
    out = _run(tmp_path, "1", "exit")
    assert re.search(r"^\(Talker pid=\d+\) actor says hi$", out, re.M), out


def test_log_to_driver_false_turns_it_off(tmp_path):
    out = _run(tmp_path, "0", "shutdown")
    assert out.splitlines() == ["got 3"]

"""`make install PREFIX=P` installs the package where Python finds it
(P/lib/python3.X/dist-packages) and an installed driver starts its
private node from P/bin."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_make_install_puts_a_working_package_under_prefix(tmp_path):
    prefix = tmp_path / "prefix"
    r = subprocess.run(["make", "-s", "-C", ROOT, "install", "PREFIX=%s" % prefix,
                        "PYTHON=%s" % sys.executable], capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    site = prefix / "lib" / ("python%d.%d" % sys.version_info[:2]) / "dist-packages"
    assert (site / "ray" / "__init__.py").exists()
    assert list((site / "ray").glob("_raylet*.so"))
    env = {k: v for k, v in os.environ.items()
           if k not in ("RAY_ADDRESS", "RAYC_BIN_DIR", "PYTHONPATH")}
    env["PYTHONPATH"] = str(site)
    code = ("import ray\n@ray.remote\ndef sq(x):\n    return x * x\n"
            "ray.init(num_cpus=1)\nprint(ray.__file__)\nprint(ray.get(sq.remote(9)))\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=str(tmp_path), env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [str(site / "ray" / "__init__.py"), "81"]

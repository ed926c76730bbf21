"""A Python driver run as a job: `ray job submit -- python3 main.py` joins
the cluster through the RAY_ADDRESS the job server sets."""
import json
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_job_submit_python_driver(head, tmp_path):
    addr, env, dash = head
    wd = tmp_path / "wd"
    wd.mkdir()
    (wd / "helper.py").write_text("def double(x):\n    return 2 * x\n")
    (wd / "main.py").write_text(
        "import os, ray, helper\nray.init()\n"
        "@ray.remote\ndef f(x):\n    return helper.double(x)\n"
        "@ray.remote\ndef where():\n    return os.environ.get('RT_JOB_PROBE'), os.getcwd()\n"
        "print('RESULT', ray.get([f.remote(i) for i in range(3)]), os.environ['RAY_ADDRESS'])\n"
        "print('WORKER', *ray.get(where.remote()))\n")
    renv = {"env_vars": {"PYTHONPATH": os.path.join(ROOT, "python"), "RT_JOB_PROBE": "job-env"}}
    r = subprocess.run([os.path.join(os.environ["RAYC_BIN_DIR"], "ray"), "job", "submit",
                        "--address", "http://127.0.0.1:%d" % dash, "--working-dir", str(wd),
                        "--runtime-env-json", json.dumps(renv), "--", "/usr/bin/python3",
                        "main.py"], env=env, capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "RESULT [0, 2, 4] %s" % addr in r.stdout
    # The job's runtime_env applies to its workers: env_vars, and the
    # working_dir as a package unpacked on the worker's node.
    assert "WORKER job-env " in r.stdout, r.stdout
    assert "/runtime_resources/working_dir_files/_ray_pkg_" in r.stdout, r.stdout


def _wheel(path, package, value):
    """A pure-Python wheel of PACKAGE (VALUE = value), built here: pip
    installs it offline."""
    import zipfile
    dist = "%s-1.0.dist-info" % package
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("%s/__init__.py" % package, "VALUE = %r\n" % value)
        z.writestr(dist + "/METADATA", "Metadata-Version: 2.1\nName: %s\nVersion: 1.0\n"
                   % package.replace("_", "-"))
        z.writestr(dist + "/WHEEL", "Wheel-Version: 1.0\nGenerator: rayc-test\n"
                   "Root-Is-Purelib: true\nTag: py3-none-any\n")
        z.writestr(dist + "/RECORD", "")
    return str(path)


def test_job_pip_reaches_python_workers(head, tmp_path):
    """A job's pip packages import in its tasks: the job server's virtualenv
    interpreter runs the driver, and a Python job's workers run the driver's
    interpreter."""
    import pytest
    if subprocess.run(["/usr/bin/python3", "-m", "venv", "--help"],
                      capture_output=True).returncode:
        pytest.skip("python3 -m venv is not available (Debian's python3-venv)")
    addr, env, dash = head
    whl = _wheel(tmp_path / "rayc_pytestpkg-1.0-py3-none-any.whl", "rayc_pytestpkg", "wheel-ok")
    wd = tmp_path / "wd"
    wd.mkdir()
    (wd / "main.py").write_text(
        "import sys, ray\nray.init()\n"
        "@ray.remote\ndef f():\n    import rayc_pytestpkg, sys\n"
        "    return rayc_pytestpkg.VALUE, sys.prefix\n"
        "print('TASK', *ray.get(f.remote()))\n")
    renv = {"env_vars": {"PYTHONPATH": os.path.join(ROOT, "python")},
            "pip": {"packages": [whl], "pip_install_options": ["--no-index"]}}
    r = subprocess.run([os.path.join(os.environ["RAYC_BIN_DIR"], "ray"), "job", "submit",
                        "--address", "http://127.0.0.1:%d" % dash, "--working-dir", str(wd),
                        "--runtime-env-json", json.dumps(renv), "--", "python3", "main.py"],
                       env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    line = [x for x in r.stdout.splitlines() if x.startswith("TASK ")]
    assert line, r.stdout
    value, prefix = line[0].split()[1:3]
    assert value == "wheel-ok"
    assert "/runtime_resources/pip/" in prefix and prefix.endswith("/virtualenv"), prefix

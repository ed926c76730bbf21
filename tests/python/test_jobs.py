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

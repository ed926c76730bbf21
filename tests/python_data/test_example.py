"""examples/python/data.py runs as its docstring says and prints the iris
pipeline's results, checked against pandas computing the same."""
import os
import subprocess
import sys

import pandas as pd

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_data_example(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"))
    env.pop("RAY_ADDRESS", None)
    r = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "python", "data.py"),
                        str(tmp_path)], env=env, capture_output=True, text=True, timeout=170)
    assert r.returncode == 0, r.stdout + r.stderr
    df = pd.read_csv(tmp_path / "iris.csv")
    area = (df["petal length (cm)"] * df["petal width (cm)"]).round(2).tolist()
    means = (df["petal length (cm)"] * df["petal width (cm)"]).groupby(df["target"]).mean()
    exp = [str(area[0:4]), str(area[4:8]), str(area[8:])]
    exp += ["class %d: mean petal area %.2f" % (k, v) for k, v in means.items()]
    exp += ["wrote 1 file(s)"]
    assert r.stdout.splitlines() == exp
    written = pd.concat(pd.read_csv(tmp_path / "iris_area" / f)
                        for f in os.listdir(tmp_path / "iris_area"))
    assert written["petal area (cm^2)"].round(6).tolist() == \
        (df["petal length (cm)"] * df["petal width (cm)"]).round(6).tolist()

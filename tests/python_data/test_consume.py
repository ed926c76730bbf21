"""Consuming datasets: rows, batches, aggregates (against pandas/numpy),
refs, materialize, show and the progress bars."""
import io

import numpy as np
import pandas as pd
import pytest

import ray
from ray.data import DataContext

pytestmark = pytest.mark.usefixtures("ray_local")


def test_take_take_all_take_batch_count():
    ds = ray.data.range(100)
    assert ds.take() == [{"id": i} for i in range(20)]
    assert len(ds.take_all()) == 100
    with pytest.raises(ValueError, match="more than the given limit"):
        ds.take_all(limit=10)
    b = ds.take_batch(5)
    assert list(b) == ["id"] and b["id"].tolist() == [0, 1, 2, 3, 4]
    assert isinstance(ds.take_batch(5, batch_format="pandas"), pd.DataFrame)
    assert ds.count() == 100


def test_show_prints_rows(capsys):
    ray.data.range(3).show()
    assert capsys.readouterr().out == "{'id': 0}\n{'id': 1}\n{'id': 2}\n"


def test_schema_prints_like_ray():
    df = pd.DataFrame({"a": [1], "name": ["x"], "f": [0.5]})
    s = ray.data.from_pandas(df).schema()
    assert s.names == ["a", "name", "f"]
    assert repr(s) == ("Column  Type\n------  ----\na       int64\nname    string\n"
                       "f       float64")


def test_aggregates_match_pandas():
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"a": rng.normal(size=1000), "b": rng.integers(0, 100, 1000)})
    ds = ray.data.from_pandas(df).repartition(6)
    assert ds.sum("b") == df["b"].sum()
    assert ds.min("a") == pytest.approx(df["a"].min())
    assert ds.max("a") == pytest.approx(df["a"].max())
    assert ds.mean("a") == pytest.approx(df["a"].mean())
    assert ds.std("a") == pytest.approx(df["a"].std())
    assert ds.sum(["a", "b"]) == pytest.approx({"sum(a)": df["a"].sum(), "sum(b)": df["b"].sum()})
    assert ray.data.range(10).filter(lambda r: False).sum("id") is None


def test_iter_rows_and_iter_batches():
    ds = ray.data.range(103, override_num_blocks=4)
    assert [r["id"] for r in ds.iter_rows()] == list(range(103))
    sizes = [len(b["id"]) for b in ds.iter_batches(batch_size=25)]
    assert sizes == [25, 25, 25, 25, 3]
    assert [len(b) for b in ds.iter_batches(batch_size=25, drop_last=True,
                                            batch_format="pandas")] == [25] * 4
    allb = np.concatenate([b["id"] for b in ds.iter_batches(batch_size=10,
                                                            local_shuffle_buffer_size=30,
                                                            local_shuffle_seed=0)])
    assert sorted(allb.tolist()) == list(range(103))


def test_iter_torch_batches():
    torch = pytest.importorskip("torch", reason="python3-torch is not installed")
    b = next(ray.data.range(10).iter_torch_batches(batch_size=4))
    assert isinstance(b["id"], torch.Tensor) and b["id"].tolist() == [0, 1, 2, 3]


def test_to_pandas_to_numpy_refs_materialize():
    ds = ray.data.range(10, override_num_blocks=2).map(lambda r: {"x": r["id"] * 1.5})
    pd.testing.assert_frame_equal(ds.to_pandas(), pd.DataFrame({"x": np.arange(10) * 1.5}))
    refs = ds.to_numpy_refs()
    assert len(refs) == 2 and all(isinstance(r, ray.ObjectRef) for r in refs)
    got = np.concatenate([ray.get(r)["x"] for r in refs])
    assert got.tolist() == (np.arange(10) * 1.5).tolist()
    m = ds.materialize()
    assert isinstance(m, ray.data.MaterializedDataset) and m.count() == 10
    assert "num_rows=10" in repr(m)


def test_dataset_is_lazy():
    calls = []
    ds = ray.data.range(10).map(lambda r: calls.append(1) or r)
    assert calls == [] and ds.count() == 10


class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_per_operator_on_a_tty_only(monkeypatch):
    pytest.importorskip("tqdm")
    ctx = DataContext.get_current()
    monkeypatch.setattr(ctx, "progress_bar_delay_s", 0)
    tty = _Tty()
    monkeypatch.setattr("sys.stderr", tty)
    ray.data.range(40, override_num_blocks=4).map_batches(
        lambda b: b, concurrency=1, num_cpus=0.5).count()
    out = tty.getvalue()
    assert "- ReadRange" in out and "4/4" in out
    pipe = io.StringIO()
    monkeypatch.setattr("sys.stderr", pipe)
    ray.data.range(40, override_num_blocks=4).count()
    assert pipe.getvalue() == ""

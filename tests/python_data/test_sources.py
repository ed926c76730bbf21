"""Ray Data sources and writes: each checked against pandas/numpy reading
or building the same data."""
import json
import os

import numpy as np
import pandas as pd
import pytest

import ray

pytestmark = pytest.mark.usefixtures("ray_local")


def test_range_rows_are_id():
    ds = ray.data.range(100)
    assert ds.take(3) == [{"id": 0}, {"id": 1}, {"id": 2}]
    assert ds.count() == 100
    assert ds.schema().names == ["id"] and ds.schema().types == ["int64"]
    assert [r["id"] for r in ds.take_all()] == list(range(100))


def test_range_override_num_blocks():
    assert ray.data.range(10, override_num_blocks=5).materialize().num_blocks() == 5


def test_range_tensor_column_data():
    ds = ray.data.range_tensor(6, shape=(2, 3))
    batch = ds.take_batch(6)
    assert list(batch) == ["data"]
    assert batch["data"].shape == (6, 2, 3)
    assert (batch["data"][4] == 4).all()
    assert "numpy.ndarray(shape=(2, 3), dtype=int64)" in repr(ds.schema())


def test_from_items_dicts_and_scalars():
    assert ray.data.from_items([{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]).take_all() == \
        [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]
    assert ray.data.from_items([5, 6]).take_all() == [{"item": 5}, {"item": 6}]


def test_from_numpy_and_from_pandas():
    arr = np.arange(12).reshape(6, 2)
    b = ray.data.from_numpy(arr).take_batch(10)
    assert (b["data"] == arr).all()
    df = pd.DataFrame({"x": [1, 2, 3], "y": ["a", "b", "c"]})
    pd.testing.assert_frame_equal(ray.data.from_pandas(df).to_pandas(), df)
    assert ray.data.from_pandas([df, df]).count() == 6


def test_read_csv_matches_pandas(tmp_path):
    df = pd.DataFrame({"a": np.arange(50), "b": np.arange(50) * 0.5, "c": ["s%d" % i
                                                                        for i in range(50)]})
    df.iloc[:20].to_csv(tmp_path / "1.csv", index=False)
    df.iloc[20:].to_csv(tmp_path / "2.csv", index=False)
    got = ray.data.read_csv(str(tmp_path)).to_pandas()
    pd.testing.assert_frame_equal(got, df)
    rows = ray.data.read_csv(str(tmp_path / "1.csv"), include_paths=True).take(1)
    assert rows[0]["path"].endswith("1.csv")


def test_read_json_lines_and_array(tmp_path):
    rows = [{"a": i, "b": "v%d" % i} for i in range(5)]
    with open(tmp_path / "l.jsonl", "w") as f:
        f.write("\n".join(json.dumps(r) for r in rows) + "\n")
    with open(tmp_path / "arr.json", "w") as f:
        json.dump(rows, f)
    assert ray.data.read_json(str(tmp_path / "l.jsonl")).take_all() == rows
    assert ray.data.read_json(str(tmp_path / "arr.json")).take_all() == rows
    assert ray.data.read_json(str(tmp_path)).count() == 10


def test_read_text_lines(tmp_path):
    (tmp_path / "t.txt").write_text("hello\n\nworld\n")
    assert ray.data.read_text(str(tmp_path / "t.txt")).take_all() == \
        [{"text": "hello"}, {"text": "world"}]


def test_read_binary_files(tmp_path):
    (tmp_path / "b1").write_bytes(b"\x00\x01")
    (tmp_path / "b2").write_bytes(b"abc")
    rows = ray.data.read_binary_files(str(tmp_path), include_paths=True).take_all()
    assert sorted(r["bytes"] for r in rows) == [b"\x00\x01", b"abc"]
    assert all(os.path.isabs(r["path"]) for r in rows)


def test_read_images(tmp_path):
    from PIL import Image
    a = (np.arange(4 * 5 * 3) % 256).astype(np.uint8).reshape(4, 5, 3)
    Image.fromarray(a).save(tmp_path / "a.png")
    Image.fromarray(a[::-1].copy()).save(tmp_path / "b.png")
    (tmp_path / "notes.txt").write_text("not an image")
    ds = ray.data.read_images(str(tmp_path))
    batch = ds.take_batch(2)
    assert batch["image"].shape == (2, 4, 5, 3) and batch["image"].dtype == np.uint8
    assert (batch["image"][0] == a).all()
    small = ray.data.read_images(str(tmp_path / "a.png"), size=(2, 3), mode="L").take(1)
    assert small[0]["image"].shape == (2, 3)


def test_read_numpy(tmp_path):
    arr = np.arange(20, dtype=np.float32).reshape(10, 2)
    np.save(tmp_path / "x.npy", arr)
    got = ray.data.read_numpy(str(tmp_path)).take_batch(100)["data"]
    assert (got == arr).all()


def test_read_parquet_refused_with_one_line():
    with pytest.raises(NotImplementedError, match="pyarrow, which Debian does not package"):
        ray.data.read_parquet("/tmp/x.parquet")


def test_missing_path_is_an_error():
    with pytest.raises(FileNotFoundError):
        ray.data.read_csv("/nonexistent/rayc/data.csv")


def test_write_csv_json_numpy_round_trip(tmp_path):
    ds = ray.data.range(30, override_num_blocks=3).map(lambda r: {"id": r["id"],
                                                                   "sq": r["id"] ** 2})
    ds.write_csv(str(tmp_path / "csv"))
    ds.write_json(str(tmp_path / "json"))
    assert len(os.listdir(tmp_path / "csv")) == 3
    exp = ds.to_pandas()
    got = ray.data.read_csv(str(tmp_path / "csv")).sort("id").to_pandas()
    pd.testing.assert_frame_equal(got, exp)
    got = ray.data.read_json(str(tmp_path / "json")).sort("id").to_pandas()
    pd.testing.assert_frame_equal(got, exp)
    ray.data.range_tensor(8, shape=(2,)).write_numpy(str(tmp_path / "npy"), column="data")
    back = ray.data.read_numpy(str(tmp_path / "npy")).take_batch(100)["data"]
    assert sorted(back[:, 0].tolist()) == list(range(8))

"""Ray Data transforms, each checked against pandas computing the same."""
import os

import numpy as np
import pandas as pd
import pytest

import ray

pytestmark = pytest.mark.usefixtures("ray_local")


def _frame(n=200):
    rng = np.random.default_rng(0)
    return pd.DataFrame({"k": rng.integers(0, 7, n), "x": rng.normal(size=n),
                         "y": np.arange(n)})


def test_map_rows():
    got = ray.data.range(50).map(lambda r: {"id": r["id"], "sq": r["id"] ** 2}).to_pandas()
    exp = pd.DataFrame({"id": np.arange(50), "sq": np.arange(50) ** 2})
    pd.testing.assert_frame_equal(got, exp)


def test_map_batches_numpy_default_and_pandas():
    ds = ray.data.range(1000)
    seen = []

    def double(b):
        seen.append(type(b))
        return {"id": b["id"] * 2}
    assert ds.map_batches(double).sum("id") == 2 * sum(range(1000))
    assert ds.map_batches(lambda b: {"t": [type(b).__name__] * len(b["id"])},
                          batch_format="numpy").take(1) == [{"t": "dict"}]
    got = ds.map_batches(lambda df: df.assign(z=df["id"] + 1), batch_format="pandas").to_pandas()
    exp = pd.DataFrame({"id": np.arange(1000)}).assign(z=lambda d: d["id"] + 1)
    pd.testing.assert_frame_equal(got, exp)


def test_map_batches_batch_size():
    sizes = ray.data.range(100, override_num_blocks=1).map_batches(
        lambda b: {"n": [len(b["id"])]}, batch_size=30).take_all()
    assert [r["n"] for r in sizes] == [30, 30, 30, 10]


def test_map_batches_fn_args_kwargs():
    got = ray.data.range(10).map_batches(lambda b, a, c=0: {"id": b["id"] * a + c},
                                         fn_args=(3,), fn_kwargs={"c": 1}).take_all()
    assert [r["id"] for r in got] == [3 * i + 1 for i in range(10)]


class AddOffset:
    """A callable class: built once per actor with its constructor args."""

    def __init__(self, offset):
        self.offset = offset
        self.pid = os.getpid()

    def __call__(self, batch):
        return {"id": batch["id"] + self.offset, "pid": np.full(len(batch["id"]), self.pid)}


def test_callable_class_runs_in_actor_pool_of_concurrency():
    ds = ray.data.range(400, override_num_blocks=8).map_batches(
        AddOffset, fn_constructor_args=(1000,), concurrency=2, batch_size=50)
    df = ds.to_pandas()
    assert sorted(df["id"]) == list(range(1000, 1400))
    assert 1 <= df["pid"].nunique() <= 2
    assert os.getpid() not in set(df["pid"])


def test_callable_class_needs_concurrency():
    with pytest.raises(ValueError, match="``concurrency`` must be specified"):
        ray.data.range(10).map_batches(AddOffset, fn_constructor_args=(1,))


def test_actor_pool_larger_than_the_cluster_is_an_error_not_a_hang():
    with pytest.raises(ValueError, match="needs 8 CPUs, but the cluster has 4"):
        ray.data.range(10).map_batches(AddOffset, fn_constructor_args=(1,),
                                       concurrency=8).take_all()
    with pytest.raises(ValueError, match="the tasks feeding the pool need one more"):
        ray.data.range(10).map_batches(AddOffset, fn_constructor_args=(1,),
                                       concurrency=4).take_all()


def test_map_batches_num_cpus():
    # num_cpus=2 tasks on a 4-CPU node: at most two run at once, all finish.
    got = ray.data.range(40, override_num_blocks=4).map_batches(
        lambda b: b, num_cpus=2).count()
    assert got == 40


def test_bad_batch_format_gives_rays_message():
    with pytest.raises(ValueError, match="The given batch format bogus isn't allowed"):
        ray.data.range(10).map_batches(lambda b: b, batch_format="bogus")


def test_udf_returning_wrong_type_is_reported():
    with pytest.raises(Exception, match="returned a value of type"):
        ray.data.range(10).map_batches(lambda b: 5).take_all()


def test_flat_map_and_filter():
    got = ray.data.range(5).flat_map(lambda r: [r, r]).filter(lambda r: r["id"] % 2 == 0)
    assert [r["id"] for r in got.take_all()] == [0, 0, 2, 2, 4, 4]
    assert ray.data.range(5).filter(lambda r: False).count() == 0


def test_add_drop_select_columns():
    df = _frame()
    ds = ray.data.from_pandas(df)
    got = ds.add_column("z", lambda b: b["x"] * 2).to_pandas()
    pd.testing.assert_frame_equal(got, df.assign(z=df["x"] * 2))
    assert ds.drop_columns(["x"]).columns() == ["k", "y"]
    assert ds.select_columns(["y", "k"]).columns() == ["y", "k"]


def test_bad_column_gives_rays_message():
    ds = ray.data.range(10)
    with pytest.raises(Exception, match="The column 'nope' does not exist in the schema"):
        ds.select_columns(["nope"]).take_all()
    with pytest.raises(ValueError, match="The column 'nope' does not exist in the schema"):
        ds.sort("nope")
    with pytest.raises(ValueError, match="The column 'nope' does not exist in the schema"):
        ds.groupby("nope")
    with pytest.raises(ValueError, match="The column 'nope' does not exist in the schema"):
        ds.sum("nope")


def test_sort_matches_pandas():
    df = _frame(500)
    ds = ray.data.from_pandas(df).repartition(5)
    got = ds.sort("x").to_pandas()
    pd.testing.assert_frame_equal(got, df.sort_values("x").reset_index(drop=True))
    got = ds.sort("x", descending=True).to_pandas()
    pd.testing.assert_frame_equal(got, df.sort_values("x", ascending=False)
                                  .reset_index(drop=True))
    got = ds.sort(["k", "y"], descending=[False, True]).to_pandas()
    pd.testing.assert_frame_equal(got, df.sort_values(["k", "y"], ascending=[True, False])
                                  .reset_index(drop=True))


def test_stable_argsort_matches_numpy():
    # The packed-key argsort the sort's merge tasks use (issue 15) gives
    # exactly numpy's stable order: ties, NaN, -0.0, infinities, ints.
    from ray.data._argsort import MIN_ROWS, stable_argsort
    rng = np.random.default_rng(5)
    n = MIN_ROWS * 2
    cols = [rng.random(n), rng.normal(size=n), rng.integers(0, 9, n).astype(np.float64),
            np.where(rng.random(n) < 0.1, np.nan, rng.normal(size=n)),
            rng.choice([-0.0, 0.0, -1.0, np.inf, -np.inf, np.nan, 5e-324], n),
            1.0 + rng.integers(0, 3, n) * np.finfo(float).eps,
            rng.integers(-2 ** 62, 2 ** 62, n), rng.integers(-50, 50, n).astype(np.int32),
            rng.integers(0, 2 ** 63, n).astype(np.uint64) * 2, rng.random(n) < 0.5,
            rng.random(n).astype(np.float32)]
    for col in cols:
        before = col.copy()
        np.testing.assert_array_equal(stable_argsort(col), np.argsort(col, kind="stable"))
        np.testing.assert_array_equal(col, before)  # the input is not touched


def test_stable_argsort_keys_in_a_narrow_range():
    # A merge task's keys span one reducer's range: the packed key drops
    # low bits and the almost sorted order is fixed where it must be; the
    # sorted keys come back too.  Non-negative keys with -0.0 take the
    # path that maps no sign bit.
    from ray.data._argsort import MIN_ROWS, stable_argsort
    rng = np.random.default_rng(8)
    n = MIN_ROWS * 8
    cols = [rng.uniform(0.25, 0.375, n), rng.choice([-0.0, 0.0, 1.0, 2.5], n),
            np.concatenate([rng.uniform(0.5, 0.5 + 1e-9, n // 2), rng.random(n // 2)])]
    for col in cols:
        order, keys = stable_argsort(col, with_keys=True)
        want = np.argsort(col, kind="stable")
        np.testing.assert_array_equal(order, want)
        np.testing.assert_array_equal(keys, col[want])


def test_range_part_numbers_match_searchsorted():
    # The partition tasks number parts by comparing with each boundary
    # instead of a binary search per row: the same numbers, NaN last.
    from ray.data._tasks import _part_numbers
    rng = np.random.default_rng(9)
    x = np.where(rng.random(5000) < 0.05, np.nan, rng.normal(size=5000))
    x[:4] = [-0.0, 0.0, np.inf, -np.inf]
    ints = rng.integers(-100, 100, 5000)
    for col, bounds in [(x, np.sort(rng.normal(size=7))), (x, np.array([0.0, 0.0, 1.0])),
                        (x, np.array([-1.0, np.nan])), (ints, np.array([-50, 0, 0, 50])),
                        (ints.astype(np.uint16) % 37, np.arange(0, 37, 3, dtype=np.uint16)),
                        (x, np.sort(rng.normal(size=40))), (x, x[:0])]:
        np.testing.assert_array_equal(_part_numbers(col, bounds),
                                      np.searchsorted(bounds, col, side="left"))


def test_large_sort_is_stable_and_matches_pandas():
    # Blocks big enough for the packed-key argsort; ties keep row order.
    rng = np.random.default_rng(6)
    n = 160_000
    x = np.round(rng.normal(size=n), 3)
    x[rng.random(n) < 0.01] = -0.0
    df = pd.DataFrame({"x": x, "i": np.arange(n)})
    ds = ray.data.from_pandas(df).repartition(2)
    got = ds.sort("x").to_pandas()
    pd.testing.assert_frame_equal(got, df.sort_values("x", kind="stable").reset_index(drop=True))
    got = ds.sort("x", descending=True).to_pandas()
    assert np.array_equal(got["x"].to_numpy(), np.sort(x)[::-1])
    ties = got.groupby("x", sort=False)["i"].apply(lambda s: bool(np.all(np.diff(s) > 0)))
    assert ties.all()


def test_groupby_aggregations_match_pandas():
    df = _frame(600)
    ds = ray.data.from_pandas(df).repartition(4)
    g = df.groupby("k")
    exp = pd.DataFrame({"k": sorted(df["k"].unique())})
    got = ds.groupby("k").count().to_pandas()
    assert list(got.columns) == ["k", "count()"]
    assert list(got["count()"]) == list(g.size())
    for name, fn in [("sum", g["x"].sum), ("min", g["x"].min), ("max", g["x"].max),
                     ("mean", g["x"].mean), ("std", g["x"].std)]:
        got = getattr(ds.groupby("k"), name)("x").to_pandas()
        assert list(got.columns) == ["k", "%s(x)" % name]
        assert list(got["k"]) == list(exp["k"])
        np.testing.assert_allclose(got["%s(x)" % name], fn().to_numpy())


def test_groupby_map_groups():
    df = _frame(300)
    got = ray.data.from_pandas(df).groupby("k").map_groups(
        lambda g: pd.DataFrame({"k": [g["k"].iloc[0]], "n": [len(g)]}),
        batch_format="pandas").to_pandas()
    exp = df.groupby("k").size()
    assert list(got["k"]) == list(exp.index) and list(got["n"]) == list(exp)


def test_repartition_and_random_shuffle():
    ds = ray.data.range(100).repartition(7).materialize()
    assert ds.num_blocks() == 7 and ds.count() == 100
    shuffled = [r["id"] for r in ray.data.range(100).random_shuffle(seed=3).take_all()]
    assert sorted(shuffled) == list(range(100)) and shuffled != list(range(100))
    again = [r["id"] for r in ray.data.range(100).random_shuffle(seed=3).take_all()]
    assert shuffled == again


def test_union_zip_limit():
    a, b = ray.data.range(3), ray.data.range(2).map(lambda r: {"id": r["id"] + 10})
    assert [r["id"] for r in a.union(b).take_all()] == [0, 1, 2, 10, 11]
    z = ray.data.range(4).zip(ray.data.range(4).map(lambda r: {"v": r["id"] * 10}))
    assert z.take_all() == [{"id": i, "v": i * 10} for i in range(4)]
    same = ray.data.range(2).zip(ray.data.range(2)).take_all()
    assert same == [{"id": 0, "id_1": 0}, {"id": 1, "id_1": 1}]
    assert ray.data.range(1000).limit(17).count() == 17


def test_split_and_train_test_split():
    parts = ray.data.range(10).split(3)
    assert [p.count() for p in parts] == [4, 3, 3]
    assert sorted(r["id"] for p in parts for r in p.take_all()) == list(range(10))
    assert [p.count() for p in ray.data.range(10).split(3, equal=True)] == [3, 3, 3]
    train, test = ray.data.range(10).train_test_split(test_size=0.2)
    assert [r["id"] for r in train.take_all()] == list(range(8))
    assert [r["id"] for r in test.take_all()] == [8, 9]
    train, test = ray.data.range(10).train_test_split(test_size=3, shuffle=True, seed=1)
    assert train.count() == 7 and test.count() == 3

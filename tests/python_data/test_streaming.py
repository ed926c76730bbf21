"""Streaming execution: a dataset five times the object store's size goes
through map_batches with a bounded number of bytes in flight, so the store
never has to spill (and never runs out)."""
import os

import pytest

import ray
from ray.data import DataContext

STORE = 64 << 20
ROW_BYTES = 8 * 1024          # one int64 tensor of shape (1024,)
ROWS = 5 * STORE // ROW_BYTES  # 5x the store
BLOCKS = 40                    # 8 MiB blocks: 8 in flight would fill the store


@pytest.fixture(scope="module")
def small_store():
    ray.init(num_cpus=4, object_store_memory=STORE)
    yield os.path.join(ray._raylet.info()["node_dir"], "spill")
    ray.shutdown()


def _spilled(spill_dir):
    if not os.path.isdir(spill_dir):
        return 0
    return sum(os.path.getsize(os.path.join(spill_dir, f)) for f in os.listdir(spill_dir))


def test_dataset_five_times_the_store_streams_without_spilling(small_store):
    ds = ray.data.range_tensor(ROWS, shape=(1024,), override_num_blocks=BLOCKS)
    ds = ds.map_batches(lambda b: {"data": b["data"] + 1}, batch_size=None)
    total, rows, most_spilled = 0, 0, 0
    for batch in ds.iter_batches(batch_size=4096):
        total += int(batch["data"][:, 0].sum())
        rows += len(batch["data"])
        most_spilled = max(most_spilled, _spilled(small_store))
    assert rows == ROWS
    assert total == ROWS * (ROWS + 1) // 2
    stats = DataContext.get_current().execution_stats
    produced = sum(s["bytes"] for s in stats.ops.values())
    assert produced >= 4 * STORE
    assert stats.budget == STORE // 4
    assert stats.peak_bytes <= STORE
    assert most_spilled == 0, "the store spilled %d bytes" % most_spilled

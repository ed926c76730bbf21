"""Ray Data on rayc: distributed datasets over ray tasks and actors, with
Ray's API (ray.data.range, read_csv, Dataset.map_batches, ...).  Blocks
are pandas DataFrames or dicts of numpy arrays in the object store
(Ray uses Arrow tables; Debian has no pyarrow).  See README.md."""
from ray.data.aggregate import AggregateFn, Count, Max, Mean, Min, Std, Sum
from ray.data.context import DataContext
from ray.data.dataset import ActorPoolStrategy, Dataset, MaterializedDataset, Schema
from ray.data.grouped_data import GroupedData
from ray.data.read_api import (from_items, from_numpy, from_numpy_refs, from_pandas,
                               from_pandas_refs, range, range_tensor, read_binary_files,
                               read_csv, read_images, read_json, read_numpy, read_parquet,
                               read_text)

__all__ = ["ActorPoolStrategy", "AggregateFn", "Count", "DataContext", "Dataset", "GroupedData",
           "MaterializedDataset", "Max", "Mean", "Min", "Schema", "Std", "Sum", "from_items",
           "from_numpy", "from_numpy_refs", "from_pandas", "from_pandas_refs", "range",
           "range_tensor", "read_binary_files", "read_csv", "read_images", "read_json",
           "read_numpy", "read_parquet", "read_text"]

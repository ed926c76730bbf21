"""Ray's introduction Data demo (the iris pipeline of Ray's overview),
as Ray users write it:

    PYTHONPATH=python /usr/bin/python3 examples/python/data.py [OUT_DIR]

Ray reads iris.csv from S3 and writes Parquet; this machine has no
network and Debian no pyarrow, so the demo writes the CSV it reads
(a sample of iris) and saves the result as CSV.  The pipeline is the same:
read, transform batches in parallel, iterate, aggregate, write.
"""
import os
import sys
import tempfile
from typing import Dict

import numpy as np

import ray

IRIS = """sepal length (cm),sepal width (cm),petal length (cm),petal width (cm),target
5.1,3.5,1.4,0.2,0
4.9,3.0,1.4,0.2,0
4.7,3.2,1.3,0.2,0
7.0,3.2,4.7,1.4,1
6.4,3.2,4.5,1.5,1
6.9,3.1,4.9,1.5,1
6.3,3.3,6.0,2.5,2
5.8,2.7,5.1,1.9,2
7.1,3.0,5.9,2.1,2
"""

out_dir = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="iris_")
csv = os.path.join(out_dir, "iris.csv")
with open(csv, "w") as f:
    f.write(IRIS)

ray.init()

# Load data.
ds = ray.data.read_csv(csv)


# Apply functions to transform data. Ray Data executes transformations in parallel.
def compute_area(batch: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
    length = batch["petal length (cm)"]
    width = batch["petal width (cm)"]
    batch["petal area (cm^2)"] = length * width
    return batch


transformed_ds = ds.map_batches(compute_area)

# Iterate over batches of data.
for batch in transformed_ds.iter_batches(batch_size=4):
    print(np.round(batch["petal area (cm^2)"], 2).tolist())

# Aggregate: the mean petal area of each class.
for row in transformed_ds.groupby("target").mean("petal area (cm^2)").iter_rows():
    print("class %d: mean petal area %.2f" % (row["target"], row["mean(petal area (cm^2))"]))

# Save dataset contents to on-disk files (Ray: write_parquet).
transformed_ds.write_csv(os.path.join(out_dir, "iris_area"))
print("wrote", len(os.listdir(os.path.join(out_dir, "iris_area"))), "file(s)")

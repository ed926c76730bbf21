#!/bin/sh
# bench/data.sh - Ray Data (python/ray/data) against dask.dataframe in the
# same run: map_batches over 10 M rows and a sort of 1 GB (issue 15; target
# >= 2x Dask).  Arguments go to bench/data_bench.py (--rows N --sort-mb MB
# --cpus N --parts N --runs N --sort-runs N); needs python3-pandas and
# python3-dask.
#
#   bench/data.sh                              full size
#   bench/data.sh --rows 1000000 --sort-mb 100 quick
set -eu
cd "$(dirname "$0")/.."
for m in pandas dask.dataframe; do
    /usr/bin/python3 -c "import $m" 2>/dev/null ||
        { echo "data.sh: /usr/bin/python3 has no $m (deploy/install-deps.sh)"; exit 1; }
done
[ -n "$(ls python/ray/_raylet*.so 2>/dev/null)" ] || { echo "data.sh: run make first"; exit 1; }
exec /usr/bin/python3 bench/data_bench.py "$@"

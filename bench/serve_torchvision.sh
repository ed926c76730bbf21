#!/bin/sh
# torchvision behind Ray Serve with and without @serve.batch, same run:
# the introduction's ResNet-18 classifier (examples/python/serve_torchvision.py)
# and the same class answering one image per forward pass, same weights and
# replica count, both loaded by one client with CONCURRENCY requests in
# flight.  Prints images/s, p50/p99 latency and the replicas' CPU time per
# image of each, alternated for ROUNDS rounds (default 2); asserts nothing.
#
#     bench/serve_torchvision.sh [REQUESTS] [CONCURRENCY] [REPLICAS] [ROUNDS]
#
# Defaults: 160 requests, 16 concurrent, 1 replica each.  The image is a
# 224x224 JPEG made with Pillow and the weights are untrained: nothing is
# downloaded.  Needs python3-torchvision and python3-pil
# (deploy/install-deps.sh) and a built tree (make).
set -eu
BENCH=serve_torchvision
ROOT=$(cd "$(dirname "$0")/.." && pwd)
REQUESTS=${1:-160}
CONCURRENCY=${2:-16}
REPLICAS=${3:-1}
ROUNDS=${4:-2}
W=$(mktemp -d)
. "$ROOT/bench/bench_lib.sh"
export PYTHONPATH="$ROOT/python" RAYC_BIN_DIR="$ROOT/bin"
export RAYC_NODE_REGISTRY="$W/nodes"   # another `ray stop` on this host leaves it alone
export RAY_TMPDIR="$W/ray"
unset RAY_ADDRESS || true
trap 'rm -rf "$W"' EXIT

if ! /usr/bin/python3 -c 'import torchvision, PIL' 2>/dev/null; then
    step "python3-torchvision and python3-pil are needed (deploy/install-deps.sh)"
    exit 2
fi
RAY_SERVE_DEFAULT_HTTP_PORT=$(/usr/bin/python3 -c \
    'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export RAY_SERVE_DEFAULT_HTTP_PORT
step "$REQUESTS requests, $CONCURRENCY concurrent, $REPLICAS replica(s), $ROUNDS rounds"
/usr/bin/python3 "$ROOT/bench/serve_torchvision_bench.py" "$REQUESTS" "$CONCURRENCY" \
    "$REPLICAS" "$ROUNDS"

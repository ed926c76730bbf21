#!/bin/sh
# The main job, end to end: `make demo` runs this after the build.
#
# As root (CI, a fresh Debian machine): three local test hosts
# (deploy/testnet.sh), `ray up templates/demo.yaml -y` bootstraps a head and
# two workers over SSH, `ray status` shows 3 nodes, a job from
# examples/tiny_demo and a Python one (examples/python/spread.py: tasks on
# every node) are submitted to the new cluster through `ray dashboard`'s
# port forward and their logs are shown; examples/python/serve.py is
# submitted too and left running (its proxies bound to 0.0.0.0), curl asks
# the head's Serve proxy on port 8000, `serve status` and `serve shutdown`
# go through the Serve REST API on the same forward; then `ray down -y` and
# the test hosts are removed.  RAYC_TESTNET_SUBNET_PREFIX, RAYC_TESTNET_NAME
# and RAYC_TESTNET_DIR choose the test hosts (deploy/TESTNET.md); the
# cluster YAML is templates/demo.yaml with their addresses and key.  Not root: the same job on a head and a second node started on
# this host with `ray start`.
set -eu
cd "$(dirname "$0")/.."
ROOT=$PWD
PATH="$ROOT/bin:$PATH"
export PATH

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

# The demo's launcher state, known_hosts and token stay in a scratch HOME,
# so every run starts clean and nothing of the user's ~/.ray is touched.
SCRATCH=$(mktemp -d /tmp/rayc-demo-home.XXXXXX)
HOME=$SCRATCH
RAY_TMPDIR=$SCRATCH/ray
export HOME RAY_TMPDIR

submit_job() { # ADDRESS: submit examples/tiny_demo with env_vars and follow its logs
    step "ray job submit --address $1 --working-dir examples/tiny_demo --runtime-env-json '{\"env_vars\": {\"TINY_DEMO_N\": \"10\"}}' -- ./tiny_demo"
    out=$(ray job submit --address "$1" --working-dir examples/tiny_demo \
        --runtime-env-json '{"env_vars": {"TINY_DEMO_N": "10"}}' -- ./tiny_demo 2>&1) || {
        printf '%s\n' "$out"; return 1; }
    printf '%s\n' "$out"
    id=$(printf '%s\n' "$out" | sed -n "s/.*Job '\([^']*\)' submitted successfully.*/\1/p" | head -1)
    step "ray job status $id"
    ray job status --address "$1" "$id"
}

submit_python_job() { # ADDRESS: Python tasks spread over the cluster's nodes (examples/python)
    step "ray job submit --address $1 --working-dir examples/python -- /usr/bin/python3 spread.py"
    ray job submit --address "$1" --working-dir examples/python -- /usr/bin/python3 spread.py
}

serve_demo() { # ADDRESS HEAD_IP: examples/python/serve.py on the cluster, asked over HTTP
    env='{"env_vars": {"RAY_SERVE_DEFAULT_HTTP_HOST": "0.0.0.0"}}'
    step "ray job submit --address $1 --working-dir examples/python --runtime-env-json '$env' -- /usr/bin/python3 serve.py --keep-running"
    ray job submit --address "$1" --working-dir examples/python --runtime-env-json "$env" \
        -- /usr/bin/python3 serve.py --keep-running
    url="http://$2:8000/classify?text=Ray%20Serve%20on%20three%20hosts%20is%20great"
    step "curl '$url'   (the head's Serve proxy)"
    curl -sS --fail-with-body --max-time 60 "$url"
    echo
    step "serve status --address $1   (Serve's REST API on the dashboard port)"
    serve status --address "$1"
    step "serve shutdown -y --address $1"
    serve shutdown -y --address "$1"
}

local_demo() {
    export RAY_AUTH_TOKEN_PATH="$SCRATCH/auth_token"
    # --auth-token-file reads an existing file (only ~/.ray/auth_token is made).
    (umask 077; od -An -tx1 -N32 /dev/urandom | tr -d ' \n' > "$RAY_AUTH_TOKEN_PATH")
    trap 'ray stop >/dev/null 2>&1 || true; rm -rf "$SCRATCH"' EXIT INT TERM
    step "ray start --head --port 6380 --dashboard-port 8266 --num-cpus 2"
    ray start --head --port 6380 --dashboard-port 8266 --num-cpus 2 \
        --auth-token-file "$RAY_AUTH_TOKEN_PATH" --resources '{"demo": 1}'
    head=$(cat "$RAY_TMPDIR/ray_current_cluster")
    step "ray start --address $head --num-cpus 1   (a second node on this host)"
    ray start --address "$head" --num-cpus 1
    step "ray status"
    ray status
    submit_job http://127.0.0.1:8266
    submit_python_job http://127.0.0.1:8266
    step "ray stop"
    ray stop
}

cluster_demo() {
    export RAYC_TESTNET_DIR="${RAYC_TESTNET_DIR:-/tmp/rayc-testnet}"
    export RAY_AUTH_TOKEN_PATH=/tmp/rayc-demo/auth_token
    prefix="${RAYC_TESTNET_SUBNET_PREFIX:-10.77.0}"
    # templates/demo.yaml names the default test hosts; other ones get a copy.
    YAML=templates/demo.yaml
    if [ "$prefix" != 10.77.0 ] || [ "$RAYC_TESTNET_DIR" != /tmp/rayc-testnet ]; then
        YAML="$SCRATCH/demo.yaml"
        sed -e "s|10\.77\.0\.|$prefix.|g" -e "s|/tmp/rayc-testnet/|$RAYC_TESTNET_DIR/|g" \
            templates/demo.yaml > "$YAML"
    fi
    cleanup() {
        [ -n "${FWD:-}" ] && kill "$FWD" 2>/dev/null
        ray down "$YAML" -y >/dev/null 2>&1 || true
        deploy/testnet.sh down >/dev/null 2>&1 || true
        rm -rf "$SCRATCH" /tmp/rayc-demo
    }
    trap cleanup EXIT INT TERM
    step "make dist   (the tarball file_mounts puts on every node)"
    make -s dist
    step "deploy/testnet.sh up 3"
    deploy/testnet.sh up 3
    step "ray up $YAML -y"
    ray up "$YAML" -y
    step "ray exec $YAML 'ray status'"
    ray exec "$YAML" "/tmp/rayc-demo/bin/ray status --temp-dir /tmp/rayc-demo/ray"
    step "ray dashboard $YAML --port 18265   (SSH port forward to the head's job server)"
    ray dashboard "$YAML" --port 18265 >"$SCRATCH/dashboard.log" 2>&1 &
    FWD=$!
    # ray up turned TLS on (its default): the job server answers HTTPS with
    # a certificate of the cluster's CA, which `ray job` checks.
    export RAY_TLS_CA_CERT="$HOME/.ray/launcher/rayc-demo/tls/ca.crt"
    i=0
    until ray job list --address https://127.0.0.1:18265 >/dev/null 2>&1; do
        i=$((i + 1))
        [ $i -lt 100 ] || { cat "$SCRATCH/dashboard.log"; exit 1; }
        sleep 0.1
    done
    submit_job https://127.0.0.1:18265
    submit_python_job https://127.0.0.1:18265
    serve_demo https://127.0.0.1:18265 "$prefix.11"
    step "ray down $YAML -y"
    kill "$FWD" 2>/dev/null || true
    FWD=
    ray down "$YAML" -y
    step "deploy/testnet.sh down"
    deploy/testnet.sh down
}

if [ "$(id -u)" -eq 0 ] && [ "${RAYC_DEMO_LOCAL:-0}" = 0 ]; then
    cluster_demo
else
    local_demo
fi

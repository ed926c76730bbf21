#!/bin/sh
# The main job, end to end on this machine: start a head and one more node,
# show `ray status`, then stop them.  Run by `make demo` after the build.
set -eu
cd "$(dirname "$0")/.."
RAY="$PWD/bin/ray"

# Keep the demo's files and token apart from any real cluster on this host.
RAY_TMPDIR=$(mktemp -d /tmp/rayc-demo.XXXXXX)
RAY_AUTH_TOKEN_PATH="$RAY_TMPDIR/auth_token"
export RAY_TMPDIR RAY_AUTH_TOKEN_PATH
cleanup() { "$RAY" stop >/dev/null 2>&1 || true; rm -rf "$RAY_TMPDIR"; }
trap cleanup EXIT INT TERM

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "ray start --head --port 6380 --num-cpus 2 --auth-token-file $RAY_AUTH_TOKEN_PATH"
"$RAY" start --head --port 6380 --dashboard-port 8266 --num-cpus 2 \
    --auth-token-file "$RAY_AUTH_TOKEN_PATH" --resources '{"demo": 1}'

HEAD=$(cat "$RAY_TMPDIR/ray_current_cluster")
step "ray start --address $HEAD --num-cpus 1   (a second node on this host)"
"$RAY" start --address "$HEAD" --num-cpus 1

step "ray status"
"$RAY" status

step "ray stop"
"$RAY" stop

#!/bin/sh
# Installs every Debian package that rayc's build, tests and runtime need.
# Run as root. Quiet and quick when everything is already present.
#
#   deploy/install-deps.sh           build, tests, runtime (python3-dev for the
#                                    extension ray._raylet; cloudpickle, numpy and
#                                    pytest for the Python front end and its tests;
#                                    pandas, tqdm, Pillow for Ray Data, Dask for
#                                    its benchmark)
#   deploy/install-deps.sh --bench   also what bench/multihost.sh compares
#                                    against (Dask distributed, NumPy)
set -eu

PACKAGES="build-essential pkg-config clang llvm
libuv1-dev libssh-dev libyaml-dev libcurl4-openssl-dev libsqlite3-dev
libmicrohttpd-dev libjansson-dev libprotobuf-c-dev protobuf-c-compiler
libarchive-dev libssl-dev libcmocka-dev
tcl8.6 tcllib libsqlite3-tcl openssh-server openssh-client iproute2 iptables procps psmisc
valgrind python3 python3-venv python3-pip python3-aiohttp zip unzip wrk openssl tcpdump
python3-dev python3-cloudpickle python3-numpy python3-pytest python3-distributed
python3-pandas python3-tqdm python3-pil python3-dask
python3-starlette python3-yaml python3-torch python3-torchvision
prometheus chromium chromium-driver python3-selenium libjs-chart.js
podman runc debootstrap"
if [ "${1:-}" = "--bench" ]; then
    PACKAGES="$PACKAGES python3-distributed python3-numpy"
fi

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages:$missing (run as root to install them)" >&2
    exit 1
fi

echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null

#!/bin/sh
# deploy/docker_image.sh - build the local container image that the launcher's
# docker tests run rayc in, from Debian packages only (no registry pull).
#
#   deploy/docker_image.sh [IMAGE]      default IMAGE: localhost/rayc-test:bookworm
#
# debootstrap --variant=minbase makes a bookworm root filesystem with the
# shared libraries rayc's binaries load (the runtime packages of
# deploy/install-deps.sh's -dev packages), plus /etc/rayc-image, a file only
# the image has.  `podman import` turns it into IMAGE.  The rayc binaries are
# NOT in the image: a cluster YAML brings them in as a Ray user's YAML brings
# Ray (a file mount of `make dist`'s tarball and a setup command that installs
# it in the container).
#
# Cached: the image carries the label rayc.pkghash (a hash of the suite and
# the package list); when IMAGE exists with the same hash nothing is done.
# The root filesystem is kept in $RAYC_IMAGE_CACHE (default
# /var/cache/rayc-image/HASH) so a removed image is imported again without
# downloading.  Prints the image name on success; exits 1 with one line
# saying why otherwise.  Needs root, debootstrap and podman.
set -eu
IMAGE=${1:-localhost/rayc-test:bookworm}
SUITE=bookworm
MIRROR=${RAYC_IMAGE_MIRROR:-http://deb.debian.org/debian}
PACKAGES="libarchive13,libcurl4,libjansson4,libmicrohttpd12,libprotobuf-c1,libsqlite3-0,libssh-4,libssl3,libuv1,libyaml-0-2,procps"

die() { echo "docker_image.sh: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "must run as root"
command -v podman >/dev/null || die "podman is not installed (deploy/install-deps.sh)"
command -v debootstrap >/dev/null || die "debootstrap is not installed (deploy/install-deps.sh)"

HASH=$(printf '%s\n%s\n' "$SUITE" "$PACKAGES" | sha256sum | cut -c1-16)
have=$(podman image inspect -f '{{index .Labels "rayc.pkghash"}}' "$IMAGE" 2>/dev/null || true)
if [ "$have" = "$HASH" ]; then
    echo "$IMAGE"
    exit 0
fi

CACHE=${RAYC_IMAGE_CACHE:-/var/cache/rayc-image}/$HASH
ROOT=$CACHE/rootfs
if [ ! -f "$CACHE/done" ]; then
    rm -rf "$CACHE"
    mkdir -p "$CACHE"
    if ! debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$ROOT" "$MIRROR" \
            >"$CACHE/debootstrap.log" 2>&1; then
        tail -n 3 "$CACHE/debootstrap.log" >&2
        die "debootstrap failed (log: $CACHE/debootstrap.log)"
    fi
    echo "rayc-test image $HASH" >"$ROOT/etc/rayc-image"
    rm -rf "$ROOT/var/cache/apt/archives/"*.deb
    touch "$CACHE/done"
fi

tar -C "$ROOT" -cf "$CACHE/rootfs.tar" . || die "cannot pack $ROOT"
podman import --change "LABEL rayc.pkghash=$HASH" --change "ENV HOME=/root" \
    --change "CMD [\"bash\"]" "$CACHE/rootfs.tar" "$IMAGE" >/dev/null \
    || die "podman import of $CACHE/rootfs.tar failed"
rm -f "$CACHE/rootfs.tar"
echo "$IMAGE"

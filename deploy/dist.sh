#!/bin/sh
# deploy/dist.sh - pack rayc's binaries into a tarball that fresh hosts can
# install from (`make dist` runs it after the build).
#
#   deploy/dist.sh [OUT_DIR]          default OUT_DIR: build/dist
#
# Makes OUT_DIR/rayc-VERSION-linux-ARCH.tar.gz and a copy named rayc.tar.gz
# (the name templates/demo.yaml mounts).  The tarball holds one directory,
# rayc/, with bin/ (ray, gcs_server, raylet, ray_jobserver, ray_job_wrapper, ray_worker when
# built, ray-up and ray-down links), install.sh and VERSION.  On a host:
#
#   tar -xzf rayc.tar.gz && rayc/install.sh --prefix /usr/local
#
# which is what a cluster YAML's setup_commands run after file_mounts has
# copied the tarball (see templates/demo.yaml).  The binaries use the Debian
# packages of deploy/install-deps.sh (libssh, libuv, ...); install.sh stops
# with the list of missing libraries when a host lacks them.
set -eu
cd "$(dirname "$0")/.."
OUT=${1:-build/dist}

[ -x bin/ray ] || { echo "dist.sh: bin/ray is not built; run make first" >&2; exit 1; }
VERSION=$(bin/ray --version | sed -n 's/^ray, version \([^ ]*\).*/\1/p')
[ -n "$VERSION" ] || VERSION=0
ARCH=$(uname -m)
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT INT TERM

mkdir -p "$STAGE/rayc/bin" "$OUT"
for b in ray gcs_server raylet ray_jobserver ray_job_wrapper ray_worker; do
    [ -x "bin/$b" ] && cp "bin/$b" "$STAGE/rayc/bin/"
done
ln -s ray "$STAGE/rayc/bin/ray-up"
ln -s ray "$STAGE/rayc/bin/ray-down"
echo "$VERSION" > "$STAGE/rayc/VERSION"

cat > "$STAGE/rayc/install.sh" <<'INSTALL'
#!/bin/sh
# Installs rayc's binaries:  install.sh [--prefix DIR]   (default /usr/local)
# Safe to run again and from several hosts sharing a filesystem at once:
# each binary is copied under a temporary name and renamed into place, and
# an identical one is left alone.
set -eu
prefix=/usr/local
while [ $# -gt 0 ]; do
    case $1 in
        --prefix) prefix=$2; shift 2 ;;
        --prefix=*) prefix=${1#--prefix=}; shift ;;
        -h|--help) echo "usage: install.sh [--prefix DIR]"; exit 0 ;;
        *) echo "install.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$prefix/bin"
for f in "$here"/bin/*; do
    n=$(basename "$f")
    [ -L "$f" ] && continue
    if cmp -s "$f" "$prefix/bin/$n"; then continue; fi
    tmp="$prefix/bin/.$n.install.$$"
    cp "$f" "$tmp" && chmod 755 "$tmp" && mv -f "$tmp" "$prefix/bin/$n"
done
for link in ray-up ray-down; do
    [ "$(readlink "$prefix/bin/$link" 2>/dev/null || true)" = ray ] && continue
    ln -s ray "$prefix/bin/.$link.$$" && mv -f "$prefix/bin/.$link.$$" "$prefix/bin/$link"
done
missing=$(for f in "$prefix"/bin/ray "$prefix"/bin/gcs_server "$prefix"/bin/raylet; do
              [ -x "$f" ] && ldd "$f" 2>/dev/null | sed -n 's/^[[:space:]]*\([^ ]*\) => not found.*/\1/p'
          done | sort -u)
if [ -n "$missing" ]; then
    echo "install.sh: these shared libraries are missing on $(hostname):" $missing >&2
    echo "install.sh: install rayc's runtime packages (see deploy/install-deps.sh)" >&2
    exit 1
fi
echo "rayc $(cat "$here/VERSION") installed in $prefix/bin"
INSTALL
chmod 755 "$STAGE/rayc/install.sh"

NAME="rayc-$VERSION-linux-$ARCH.tar.gz"
tar -czf "$OUT/$NAME" -C "$STAGE" rayc
cp "$OUT/$NAME" "$OUT/rayc.tar.gz.tmp.$$" && mv -f "$OUT/rayc.tar.gz.tmp.$$" "$OUT/rayc.tar.gz"
echo "$OUT/$NAME"

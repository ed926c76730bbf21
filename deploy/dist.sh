#!/bin/sh
# deploy/dist.sh - pack rayc's binaries into a tarball that fresh hosts can
# install from (`make dist` runs it after the build).
#
#   deploy/dist.sh [OUT_DIR]          default OUT_DIR: build/dist
#
# Makes OUT_DIR/rayc-VERSION-linux-ARCH.tar.gz and a copy named rayc.tar.gz
# (the name templates/demo.yaml mounts).  The tarball holds one directory,
# rayc/, with bin/ (ray, gcs_server, raylet, ray_jobserver, ray_job_wrapper, ray_worker,
# Serve's ray_serve_proxy and serve when built: the programs of `make install`; ray-up and
# ray-down links), include/ray/, lib/ (libray.a,
# libray.so.A.B.C with its soname link and libray.so, pkgconfig/ray.pc.in),
# install.sh and VERSION.  On a host:
#
#   tar -xzf rayc.tar.gz && rayc/install.sh --prefix /usr/local
#
# installs the same files as `make install PREFIX=/usr/local`, so drivers
# build there with `cc driver.c $(pkg-config --cflags --libs ray)`.
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
for b in ray gcs_server raylet ray_jobserver ray_job_wrapper ray_worker ray_serve_proxy serve; do
    [ -x "bin/$b" ] && cp "bin/$b" "$STAGE/rayc/bin/"
done
ln -s ray "$STAGE/rayc/bin/ray-up"
ln -s ray "$STAGE/rayc/bin/ray-down"
echo "$VERSION" > "$STAGE/rayc/VERSION"
# The dashboard's page and static files (the job server serves them from
# PREFIX/share/rayc/dashboard).
mkdir -p "$STAGE/rayc/share/rayc/dashboard"
cp dashboard/index.html dashboard/app.js dashboard/style.css "$STAGE/rayc/share/rayc/dashboard/"

# libray: the real file the libray.so link names, its soname link, the
# static library, ray.h and the pkg-config template.
REAL=$(readlink lib/libray.so 2>/dev/null || true)
SONAME=$(readelf -d "lib/$REAL" 2>/dev/null | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
if [ -z "$REAL" ] || [ -z "$SONAME" ] || [ ! -f lib/libray.a ]; then
    echo "dist.sh: lib/libray.a or a versioned lib/libray.so is not built; run make first" >&2
    exit 1
fi
mkdir -p "$STAGE/rayc/lib/pkgconfig" "$STAGE/rayc/include/ray"
cp lib/libray.a "lib/$REAL" "$STAGE/rayc/lib/"
ln -s "$REAL" "$STAGE/rayc/lib/$SONAME"
ln -s "$REAL" "$STAGE/rayc/lib/libray.so"
cp include/ray/*.h "$STAGE/rayc/include/ray/"
sed "s|@VERSION@|$VERSION|" deploy/ray.pc.in > "$STAGE/rayc/lib/pkgconfig/ray.pc.in"

# The Python package `ray` with its extension ray._raylet, when built.
if ls python/ray/_raylet*.so >/dev/null 2>&1; then
    (cd python && find ray -name '*.py' -o -name '_raylet*.so') | while read -r f; do
        mkdir -p "$STAGE/rayc/python/$(dirname "$f")"
        cp "python/$f" "$STAGE/rayc/python/$f"
    done
fi

cat > "$STAGE/rayc/install.sh" <<'INSTALL'
#!/bin/sh
# Installs rayc's binaries, ray.h, libray and ray.pc:
#   install.sh [--prefix DIR]   (default /usr/local)
# Safe to run again and from several hosts sharing a filesystem at once:
# each file is copied under a temporary name and renamed into place, and
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
# put SRC DIR MODE: copies the regular file SRC into DIR unless identical.
put() {
    n=$(basename "$1")
    if cmp -s "$1" "$2/$n"; then return 0; fi
    tmp="$2/.$n.install.$$"
    cp "$1" "$tmp" && chmod "$3" "$tmp" && mv -f "$tmp" "$2/$n"
}
# link TARGET DIR/NAME: makes DIR/NAME a symlink to TARGET unless it is one.
link() {
    [ "$(readlink "$2" 2>/dev/null || true)" = "$1" ] && return 0
    ln -s "$1" "$2.$$" && mv -f "$2.$$" "$2"
}
mkdir -p "$prefix/bin" "$prefix/lib/pkgconfig" "$prefix/include/ray"
prefix=$(cd "$prefix" && pwd)   # ray.pc needs an absolute path
for f in "$here"/bin/*; do
    [ -L "$f" ] || put "$f" "$prefix/bin" 755
done
for f in "$here"/lib/*; do
    [ -f "$f" ] && [ ! -L "$f" ] && put "$f" "$prefix/lib" 644
done
for f in "$here"/lib/*; do
    [ -L "$f" ] && link "$(readlink "$f")" "$prefix/lib/$(basename "$f")"
done
for f in "$here"/include/ray/*.h; do
    put "$f" "$prefix/include/ray" 644
done
mkdir -p "$prefix/share/rayc/dashboard"
for f in "$here"/share/rayc/dashboard/*; do
    put "$f" "$prefix/share/rayc/dashboard" 644
done
pcdir=$(mktemp -d)
sed "s|@PREFIX@|$prefix|" "$here/lib/pkgconfig/ray.pc.in" > "$pcdir/ray.pc"
put "$pcdir/ray.pc" "$prefix/lib/pkgconfig" 644
rm -rf "$pcdir"
for l in ray-up ray-down; do
    link ray "$prefix/bin/$l"
done
# The Python package: PREFIX/lib/python3.X/dist-packages, X from the
# extension's name (Debian's python3 finds it there for /usr/local; `ray
# start` puts it on its jobs' PYTHONPATH for any other prefix).
pyso=$(ls "$here"/python/ray/_raylet*.so 2>/dev/null | head -1)
if [ -n "$pyso" ]; then
    pyver=$(basename "$pyso" | sed -n 's/.*cpython-3\([0-9]*\)-.*/python3.\1/p')
    site="$prefix/lib/${pyver:-python3}/dist-packages"
    (cd "$here/python" && find ray -type f) | while read -r f; do
        mkdir -p "$site/$(dirname "$f")"
        put "$here/python/$f" "$site/$(dirname "$f")" 644
    done
fi
missing=$(for f in "$prefix"/bin/ray "$prefix"/bin/gcs_server "$prefix"/bin/raylet; do
              [ -x "$f" ] && ldd "$f" 2>/dev/null | sed -n 's/^[[:space:]]*\([^ ]*\) => not found.*/\1/p'
          done | sort -u)
if [ -n "$missing" ]; then
    echo "install.sh: these shared libraries are missing on $(hostname):" $missing >&2
    echo "install.sh: install rayc's runtime packages (see deploy/install-deps.sh)" >&2
    exit 1
fi
echo "rayc $(cat "$here/VERSION") installed in $prefix (bin, include/ray, lib, lib/pkgconfig/ray.pc)"
INSTALL
chmod 755 "$STAGE/rayc/install.sh"

NAME="rayc-$VERSION-linux-$ARCH.tar.gz"
tar -czf "$OUT/$NAME" -C "$STAGE" rayc
cp "$OUT/$NAME" "$OUT/rayc.tar.gz.tmp.$$" && mv -f "$OUT/rayc.tar.gz.tmp.$$" "$OUT/rayc.tar.gz"
echo "$OUT/$NAME"

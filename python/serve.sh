#!/bin/sh
# The `serve` command (Ray Serve's CLI, python/ray/serve/scripts.py), run
# with Debian's python3.  From a checkout (bin/serve) it uses the checkout's
# python/ package; installed (PREFIX/bin/serve) it uses the one in
# PREFIX/lib/python3.X/dist-packages (Debian's python3 looks there only for
# /usr/local, as `ray start` puts it on its jobs' PYTHONPATH for any other).
here=$(dirname "$(readlink -f "$0")")
pkg=
if [ -d "$here/../python/ray/serve" ]; then
    pkg="$here/../python"
else
    for d in "$here"/../lib/python3*/dist-packages; do
        [ -d "$d/ray/serve" ] && pkg=$d
    done
fi
if [ -n "$pkg" ]; then
    PYTHONPATH="$pkg${PYTHONPATH:+:$PYTHONPATH}"
    export PYTHONPATH
fi
exec "${RAYC_PYTHON:-/usr/bin/python3}" -m ray.serve.scripts "$@"

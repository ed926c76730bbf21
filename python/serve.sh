#!/bin/sh
# The `serve` command (Ray Serve's CLI, python/ray/serve/scripts.py), run
# with Debian's python3.  From a checkout (bin/serve) it uses the checkout's
# python/ package; installed (PREFIX/bin/serve) it uses the one in
# dist-packages.
here=$(dirname "$(readlink -f "$0")")
if [ -d "$here/../python/ray/serve" ]; then
    PYTHONPATH="$here/../python${PYTHONPATH:+:$PYTHONPATH}"
    export PYTHONPATH
fi
exec "${RAYC_PYTHON:-/usr/bin/python3}" -m ray.serve.scripts "$@"

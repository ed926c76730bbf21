# Ray Serve on rayc (python/ray/serve, the C HTTP proxy bin/ray_serve_proxy):
# runs the pytest suite tests/python_serve with Debian's /usr/bin/python3 and
# reports every pytest test as one test of this suite.  Each pytest module
# starts its own private local node and Serve instance on a free port.
source [file join [file dirname [info script]] .. lib pytest_suite.tcl]

pytest_suite tests/python_serve -modules {starlette aiohttp yaml}

# The Python front end (python/ray over ray._raylet): runs the pytest suite
# tests/python with Debian's /usr/bin/python3 and reports every pytest test
# as one test of this suite (python-FILE.TEST), with pytest's failure text.
# Each pytest module starts its own private local node (ray.init()).
source [file join [file dirname [info script]] .. lib pytest_suite.tcl]

pytest_suite tests/python

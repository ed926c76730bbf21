# Ray Data on the Python front end (python/ray/data): runs the pytest suite
# tests/python_data with Debian's /usr/bin/python3 and reports every pytest
# test as one test of this suite (python-FILE.TEST).  Each pytest module
# starts its own private local node; the streaming test one with a 64 MiB
# object store.  Skipped when pandas is missing (python3-pandas).
source [file join [file dirname [info script]] .. lib pytest_suite.tcl]

pytest_suite tests/python_data -modules {pandas}

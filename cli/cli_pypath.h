/* Where this rayc's Python package is, for the processes the CLI starts. */
#ifndef RAYC_CLI_CLI_PYPATH_H
#define RAYC_CLI_CLI_PYPATH_H

/* Puts the directory that holds this rayc's `ray` Python package first on
 * PYTHONPATH (the checkout's python/ beside bin/, or the install's
 * PREFIX/lib/python3.X/dist-packages), so that job drivers, Python workers
 * and `ray microbenchmark --python` import this rayc wherever it was
 * installed.  Leaves PYTHONPATH alone when there is no such package or it
 * is already there. */
void cli_export_python_path(void);

#endif

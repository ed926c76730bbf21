/* Loading a job's task libraries: every shared object on its code search path. */
#ifndef RAYC_WORKER_WORKER_LIBS_H
#define RAYC_WORKER_WORKER_LIBS_H

#include <stddef.h>

/* Most libraries one worker loads. */
#define WORKER_MAX_LIBS 256

/* dlopens every "*.so" file in each directory of PATH (':'-separated; an
 * entry that is a file is loaded itself), in name order, so that their
 * RAY_REMOTE registrations run.  Libraries that fail to load are logged and
 * skipped.  Returns the number loaded. */
size_t worker_libs_load(const char *path);

#endif

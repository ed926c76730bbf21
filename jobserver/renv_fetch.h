/* Downloading a runtime_env package over http(s) with libcurl: timeouts, a
 * size cap, http(s) only (redirects included).  Blocking: run it off the
 * loop.  curl_global_init must have been called. */
#ifndef RAYC_JOBSERVER_RENV_FETCH_H
#define RAYC_JOBSERVER_RENV_FETCH_H

#include <stddef.h>
#include <stdint.h>

/* Downloads URL into a new file PATH.  Fails past MAX_BYTES, after
 * TIMEOUT_S seconds in all (0: no overall limit; connecting is always
 * capped at 30 s and a stalled transfer at 60 s), or on an HTTP error status.
 * Returns 0 or -errno with one line in ERR (PATH is removed on failure). */
int renv_fetch_http(const char *url, const char *path, uint64_t max_bytes, long timeout_s,
                    char *err, size_t errlen);

#endif

/* HTTP calls from the head's job server to other nodes' job agents, shared
 * by job forwarding (jobs_remote_io.c) and the state API's log reads
 * (state_logs.c), and query strings for the URLs of /api/v0. */
#ifndef RAYC_JOBSERVER_JOBS_AGENT_HTTP_H
#define RAYC_JOBSERVER_JOBS_AGENT_HTTP_H

#include <stddef.h>

#include <curl/curl.h>

/* "https" when this process runs with TLS on (agents then serve HTTPS),
 * else "http". */
const char *jobs_agent_scheme(void);

/* Limits C to that scheme and, with TLS on, verifies the agent against
 * the cluster CA ($RAY_TLS_CA_CERT; any certificate it signed, as between
 * the daemons, so the agent's address need not be in it) and presents
 * this node's certificate. */
void jobs_agent_curl_setup(CURL *c);

/* Appends "?KEY=VALUE" (or "&...") to URL, VALUE URL-escaped; nothing for
 * a NULL or empty VALUE.  An addition that does not fit in LEN is left
 * out (the URL stays as it was). */
void jobs_url_add_query(char *url, size_t len, const char *key, const char *value);

#endif

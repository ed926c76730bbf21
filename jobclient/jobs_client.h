/* The job server client used by `ray job`: the address and token rules of
 * Ray's JobSubmissionClient, requests with libcurl, and the log tail over a
 * WebSocket (polling /logs where a WebSocket cannot be used). */
#ifndef RAYC_JOBCLIENT_JOBS_CLIENT_H
#define RAYC_JOBCLIENT_JOBS_CLIENT_H

#include <stddef.h>

#include "common/token.h"

#define JOBS_CLIENT_DEFAULT_ADDRESS "http://127.0.0.1:8265"
#define JOBS_CLIENT_MAX_RESPONSE (512u << 20)

typedef struct jobs_client {
    char base[1024];            /* "http://host:port[/prefix]", no trailing '/' */
    int tls;
    char host[256];
    int port;
    char prefix[512];
    char token[TOKEN_MAX + 1];  /* "" when none was found */
    char **headers;             /* "Name: value" lines from --headers / RAY_JOB_HEADERS */
    size_t nheaders;
    int verify;                 /* TLS peer verification */
    char ca_path[1024];         /* --verify PATH */
    void *curl;
} jobs_client;

/* Resolves the address (ADDRESS, else RAY_API_SERVER_ADDRESS, else
 * RAY_ADDRESS, else http://127.0.0.1:8265; "http://" is added when there is
 * no scheme), the token (RAY_AUTH_TOKEN, RAY_AUTH_TOKEN_PATH,
 * ~/.ray/auth_token, then the local head's session_latest/auth_token),
 * HEADERS_JSON (or RAY_JOB_HEADERS) and VERIFY ("true", "false" or a CA
 * path; NULL: true).  Returns 0 or -EINVAL with one line in ERR. */
int jobs_client_init(jobs_client *c, const char *address, const char *headers_json,
                     const char *verify, char *err, size_t errlen);

void jobs_client_free(jobs_client *c);

/* Sends METHOD BASE+PATH with BODY (LEN bytes, CTYPE; BODY may be NULL).
 * On an answer returns 0 with *STATUS and the body in *RESP (caller frees,
 * NUL-terminated).  Without one returns -ECONNREFUSED (or another -errno)
 * with Ray's "Failed to connect to Ray at address: ..." in ERR. */
int jobs_client_request(jobs_client *c, const char *method, const char *path, const char *body,
                        size_t len, const char *ctype, long *status, char **resp,
                        size_t *resp_len, char *err, size_t errlen);

/* Formats a failed answer as Ray's SDK words it ("Request failed with status
 * code N: BODY.", or the authentication advice for 401/403). */
void jobs_client_http_error(long status, const char *body, char *out, size_t outlen);

/* Follows the log of job ID from its start until the job ends, calling CB
 * with each piece of text.  Returns 0 when the log ended normally, or
 * -errno with one line in ERR. */
int jobs_client_tail(jobs_client *c, const char *id,
                     void (*cb)(void *arg, const char *text, size_t n), void *arg, char *err,
                     size_t errlen);

/* GETs PATH and, while the answer is a chunked 200, calls CB with each
 * HTTP chunk as it arrives, whole (at most 1 MiB); CB returns non-zero to
 * stop.  Returns 0 once the answer ended (or CB stopped) with *STATUS and,
 * for an answer that was not a chunked 200, its body (at most 64 KiB) in
 * *BODY (caller frees; NULL when empty).  -ECONNREFUSED or -EPROTO with one
 * line in ERR when the server cannot be reached or the stream broke. */
int jobs_client_stream(jobs_client *c, const char *path,
                       int (*cb)(void *arg, const char *data, size_t n), void *arg,
                       long *status, char **body, size_t *body_len, char *err, size_t errlen);

/* Internal, for jobs_client_stream.c: a GET of URL set up as every request
 * is, and the request headers (free with curl_slist_free_all). */
struct curl_slist;
void jobs_client__setup(jobs_client *c, const char *url);
struct curl_slist *jobs_client__headers(const jobs_client *c);

#endif

/* HTTP calls to job agents and /api/v0 query strings (jobs_agent_http.h). */
#include "jobserver/jobs_agent_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/tls.h"

const char *jobs_agent_scheme(void)
{
    return tls_state() == 1 ? "https" : "http";
}

void jobs_agent_curl_setup(CURL *c)
{
    int tls = tls_state() == 1;
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, tls ? "https" : "http");
    if (!tls)
        return;
    curl_easy_setopt(c, CURLOPT_CAINFO, getenv("RAY_TLS_CA_CERT"));
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(c, CURLOPT_SSLCERT, getenv("RAY_TLS_SERVER_CERT"));
    curl_easy_setopt(c, CURLOPT_SSLKEY, getenv("RAY_TLS_SERVER_KEY"));
}

void jobs_url_add_query(char *url, size_t len, const char *key, const char *value)
{
    if (value == NULL || value[0] == '\0')
        return;
    char *esc = curl_easy_escape(NULL, value, 0);
    size_t n = strlen(url);
    if (esc != NULL && n < len &&
        (size_t)snprintf(url + n, len - n, "%s%s=%s", strchr(url, '?') ? "&" : "?", key, esc) >=
            len - n)
        url[n] = '\0';
    curl_free(esc);
}

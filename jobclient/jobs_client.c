/* The job server client used by `ray job`: address, token, requests. */
#include "jobclient/jobs_client.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/node_registry.h"
#include "common/tls.h"
#include "common/util.h"
#include "common/dbuf.h"

/* ---------------------------------------------------------------- address */

static int parse_base(jobs_client *c, const char *address, char *err, size_t errlen)
{
    char addr[1024];
    const char *scheme = strstr(address, "://") ? "" : "http://";
    /* With Ray's TLS variables on, the dashboard serves only HTTPS: an
     * http:// address (Ray's default spelling) means the same host over it. */
    if (tls_env_on() && strncmp(address, "http://", 7) == 0) {
        scheme = "https://";
        address += 7;
    } else if (tls_env_on() && scheme[0] != '\0') {
        scheme = "https://";
    }
    snprintf(addr, sizeof addr, "%s%s", scheme, address);
    size_t n = strlen(addr);
    while (n > 0 && addr[n - 1] == '/')
        addr[--n] = '\0';
    c->tls = strncmp(addr, "https://", 8) == 0;
    if (!c->tls && strncmp(addr, "http://", 7) != 0) {
        snprintf(err, errlen, "unsupported address %s: use http:// or https://", address);
        return -EINVAL;
    }
    str_copy(c->base, sizeof c->base, addr);
    const char *hp = addr + (c->tls ? 8 : 7);
    size_t hl = strcspn(hp, "/");
    str_copy(c->prefix, sizeof c->prefix, hp + hl);
    char hostport[512];
    snprintf(hostport, sizeof hostport, "%.*s", (int)hl, hp);
    char *colon = strrchr(hostport, ':');
    long port = c->tls ? 443 : 80;
    if (colon != NULL && parse_long(colon + 1, 1, 65535, &port) == 0)
        *colon = '\0';
    else if (colon != NULL) {
        snprintf(err, errlen, "invalid port in address %s", address);
        return -EINVAL;
    }
    str_copy(c->host, sizeof c->host, hostport);
    c->port = (int)port;
    return c->host[0] ? 0 : -EINVAL;
}

static const char *pick_address(const char *address)
{
    const char *v;
    if (address != NULL && *address != '\0')
        return address;
    if ((v = getenv("RAY_API_SERVER_ADDRESS")) != NULL && *v != '\0')
        return v;
    if ((v = getenv("RAY_ADDRESS")) != NULL && *v != '\0' && strcmp(v, "auto") != 0)
        return v;
    return JOBS_CLIENT_DEFAULT_ADDRESS;
}

/* ---------------------------------------------------------------- token and headers */

/* Finds the token as every client does.  No token anywhere is fine (the
 * server answers 401); a named source that is missing or refused is an
 * error (-EINVAL, one line in ERR). */
static int find_token(jobs_client *c, char *err, size_t errlen)
{
    char fallback[PATH_MAX], source[PATH_MAX];
    node_token_fallback(NULL, fallback, sizeof fallback);
    int rc = token_find(c->token, sizeof c->token, fallback, source, sizeof source);
    if (rc == 0)
        return 0;
    c->token[0] = '\0';
    if (rc == -ENOENT && !token_env_set())
        return 0;
    snprintf(err, errlen, "cannot read the cluster token from %s: %s", source, token_error(rc));
    return -EINVAL;
}

static int add_header(jobs_client *c, const char *name, const char *value)
{
    char **h = realloc(c->headers, (c->nheaders + 1) * sizeof *h);
    if (h == NULL)
        return -ENOMEM;
    c->headers = h;
    size_t n = strlen(name) + strlen(value) + 3;
    if ((h[c->nheaders] = malloc(n)) == NULL)
        return -ENOMEM;
    snprintf(h[c->nheaders++], n, "%s: %s", name, value);
    return 0;
}

static int parse_headers(jobs_client *c, const char *json, char *err, size_t errlen)
{
    if (json == NULL && (json = getenv("RAY_JOB_HEADERS")) == NULL)
        return 0;
    json_t *root = json_loads(json, 0, NULL);
    if (!json_is_object(root)) {
        json_decref(root);
        snprintf(err, errlen, "Failed to parse headers into JSON. Expected format: "
                              "{\"KEY\": \"VALUE\"}, got %.200s", json);
        return -EINVAL;
    }
    const char *k;
    json_t *v;
    int rc = 0;
    json_object_foreach(root, k, v) {
        if (rc == 0 && json_is_string(v))
            rc = add_header(c, k, json_string_value(v));
    }
    json_decref(root);
    return rc;
}

static int has_user_auth(const jobs_client *c)
{
    for (size_t i = 0; i < c->nheaders; i++)
        if (strncasecmp(c->headers[i], "Authorization:", 14) == 0)
            return 1;
    return 0;
}

int jobs_client_init(jobs_client *c, const char *address, const char *headers_json,
                     const char *verify, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    c->verify = 1;
    if (verify != NULL && (strcasecmp(verify, "false") == 0 || strcmp(verify, "0") == 0))
        c->verify = 0;
    else if (verify != NULL && strcasecmp(verify, "true") != 0 && strcmp(verify, "1") != 0)
        str_copy(c->ca_path, sizeof c->ca_path, verify);
    /* The cluster CA verifies the dashboard unless --verify names another. */
    const char *ca = getenv("RAY_TLS_CA_CERT");
    if (c->verify && c->ca_path[0] == '\0' && ca != NULL && *ca != '\0')
        str_copy(c->ca_path, sizeof c->ca_path, ca);
    int rc = parse_base(c, pick_address(address), err, errlen);
    if (rc == 0)
        rc = parse_headers(c, headers_json, err, errlen);
    if (rc != 0)
        return rc;
    if (!has_user_auth(c) && (rc = find_token(c, err, errlen)) != 0)
        return rc;
    if (c->token[0] != '\0' && !has_user_auth(c)) {
        char v[TOKEN_MAX + 16];
        snprintf(v, sizeof v, "Bearer %s", c->token);
        rc = add_header(c, "Authorization", v);
    }
    c->curl = curl_easy_init();
    return c->curl ? rc : -ENOMEM;
}

void jobs_client_free(jobs_client *c)
{
    for (size_t i = 0; i < c->nheaders; i++)
        free(c->headers[i]);
    free(c->headers);
    if (c->curl)
        curl_easy_cleanup(c->curl);
    memset(c, 0, sizeof *c);
}

/* ---------------------------------------------------------------- requests */

static size_t collect_cb(char *data, size_t size, size_t nmemb, void *arg)
{
    dbuf *b = arg;
    return dbuf_add(b, data, size * nmemb) == 0 ? size * nmemb : 0;
}

static struct curl_slist *header_list(const jobs_client *c, const char *ctype)
{
    struct curl_slist *l = NULL;
    char ct[256];
    for (size_t i = 0; i < c->nheaders; i++)
        l = curl_slist_append(l, c->headers[i]);
    if (ctype != NULL) {
        snprintf(ct, sizeof ct, "Content-Type: %s", ctype);
        l = curl_slist_append(l, ct);
    }
    return curl_slist_append(l, "Expect:");
}

static void setup_request(jobs_client *c, const char *method, const char *url,
                          const char *body, size_t len, dbuf *out)
{
    CURL *h = c->curl;
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect_cb);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "rayc-job-cli");
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, c->verify ? 1L : 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, c->verify ? 2L : 0L);
    if (c->ca_path[0] != '\0')
        curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_path);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    if (body != NULL) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
}

int jobs_client_request(jobs_client *c, const char *method, const char *path, const char *body,
                        size_t len, const char *ctype, long *status, char **resp,
                        size_t *resp_len, char *err, size_t errlen)
{
    char url[2048];
    snprintf(url, sizeof url, "%s%s", c->base, path);
    dbuf out;
    dbuf_init(&out, JOBS_CLIENT_MAX_RESPONSE);
    setup_request(c, method, url, body, len, &out);
    struct curl_slist *hl = header_list(c, body ? ctype : NULL);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hl);
    CURLcode res = curl_easy_perform(c->curl);
    curl_slist_free_all(hl);
    if (res != CURLE_OK) {
        dbuf_free(&out);
        snprintf(err, errlen, "Failed to connect to Ray at address: %s.", c->base);
        return -ECONNREFUSED;
    }
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, status);
    *resp = dbuf_take(&out, resp_len);
    return *resp ? 0 : -ENOMEM;
}

void jobs_client_http_error(long status, const char *body, char *out, size_t outlen)
{
    if (status == 401)
        snprintf(out, outlen, "Authentication required: %s. Set RAY_AUTH_TOKEN or "
                              "RAY_AUTH_TOKEN_PATH, or put the cluster's token in "
                              "~/.ray/auth_token.", body);
    else if (status == 403)
        snprintf(out, outlen, "Authentication failed: %s. The token does not match the "
                              "cluster's (RAY_AUTH_TOKEN, RAY_AUTH_TOKEN_PATH or "
                              "~/.ray/auth_token).", body);
    else
        snprintf(out, outlen, "Request failed with status code %ld: %s.", status, body);
}

/* ---------------------------------------------------------------- for jobs_client_stream.c */

void jobs_client__setup(jobs_client *c, const char *url)
{
    setup_request(c, "GET", url, NULL, 0, NULL);
}

struct curl_slist *jobs_client__headers(const jobs_client *c)
{
    return header_list(c, NULL);
}

/* A GET whose answer is a stream of HTTP chunks that mean something one by
 * one (Ray's log stream: each chunk starts with "1" or "0"): libcurl is
 * asked for the raw chunked body and the chunks are cut here. */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/dbuf.h"
#include "jobclient/jobs_client.h"

#define CHUNK_MAX (1u << 20)
#define ERROR_BODY_MAX (64u * 1024)

typedef struct chunker {
    CURL *h;
    int chunked;             /* Transfer-Encoding: chunked */
    int state;               /* 0 size line, 1 data, 2 CRLF after data, 3 trailers */
    char line[32];
    size_t line_len;
    size_t left;             /* data bytes of this chunk still to come */
    dbuf chunk;              /* the chunk being read */
    dbuf other;              /* a body that is not a chunked 200 */
    int (*cb)(void *arg, const char *data, size_t n);
    void *arg;
    int stopped, bad;
} chunker;

static size_t header_cb(char *data, size_t size, size_t nmemb, void *arg)
{
    chunker *k = arg;
    size_t n = size * nmemb;
    const char *name = "transfer-encoding:";
    if (n > strlen(name) && strncasecmp(data, name, strlen(name)) == 0 &&
        strstr(data + strlen(name), "chunked") != NULL)
        k->chunked = 1;
    return n;
}

/* One byte of the size line; the chunk size once it ends. */
static void size_byte(chunker *k, char ch)
{
    if (ch != '\n') {
        if (k->line_len + 1 < sizeof k->line)
            k->line[k->line_len++] = ch;
        return;
    }
    k->line[k->line_len] = '\0';
    k->line_len = 0;
    char *end;
    unsigned long v = strtoul(k->line, &end, 16);
    if (end == k->line || v > CHUNK_MAX) {
        k->bad = 1;
        return;
    }
    k->left = v;
    k->state = v == 0 ? 3 : 1;
}

static void take(chunker *k, const char *p, size_t n)
{
    while (n > 0 && !k->bad && !k->stopped) {
        if (k->state == 0) {
            size_byte(k, *p++);
            n--;
        } else if (k->state == 1) {
            size_t m = n < k->left ? n : k->left;
            if (dbuf_add(&k->chunk, p, m) != 0)
                k->bad = 1;
            p += m;
            n -= m;
            k->left -= m;
            if (k->left == 0) {
                k->stopped = k->cb(k->arg, k->chunk.data ? k->chunk.data : "", k->chunk.len);
                k->chunk.len = 0;
                k->state = 2;
            }
        } else if (k->state == 2) {
            if (*p++ == '\n')
                k->state = 0;
            n--;
        } else {
            n = 0;           /* trailers: nothing we need */
        }
    }
}

static size_t write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
    chunker *k = arg;
    size_t n = size * nmemb;
    long status = 0;
    curl_easy_getinfo(k->h, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200 || !k->chunked) {
        dbuf_add(&k->other, data, n);   /* what does not fit is dropped */
        return n;
    }
    take(k, data, n);
    return k->bad || k->stopped ? 0 : n;
}

int jobs_client_stream(jobs_client *c, const char *path,
                       int (*cb)(void *arg, const char *data, size_t n), void *arg,
                       long *status, char **body, size_t *body_len, char *err, size_t errlen)
{
    char url[4096];
    snprintf(url, sizeof url, "%s%s", c->base, path);
    chunker k = {.h = c->curl, .cb = cb, .arg = arg};
    dbuf_init(&k.chunk, CHUNK_MAX);
    dbuf_init(&k.other, ERROR_BODY_MAX);
    /* The same options as every other request, then raw chunked data. */
    char *resp = NULL;
    size_t len = 0;
    jobs_client__setup(c, url);
    struct curl_slist *hl = jobs_client__headers(c);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c->curl, CURLOPT_HTTP_TRANSFER_DECODING, 0L);
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &k);
    curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, &k);
    CURLcode res = curl_easy_perform(c->curl);
    curl_slist_free_all(hl);
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, status);
    dbuf_free(&k.chunk);
    int rc = 0;
    if (res != CURLE_OK && !k.stopped) {
        snprintf(err, errlen, k.bad ? "The stream from %s is malformed." :
                 *status == 200 ? "The stream from %s broke off." :
                 "Failed to connect to Ray at address: %s.", c->base);
        rc = k.bad ? -EPROTO : -ECONNREFUSED;
    }
    resp = dbuf_take(&k.other, &len);
    *body = resp;
    *body_len = resp ? len : 0;
    return rc;
}

/* Downloading a runtime_env package over http(s) with libcurl. */
#include "jobserver/renv_fetch.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define CONNECT_TIMEOUT_S 30L
#define STALL_TIMEOUT_S 60L

typedef struct sink {
    FILE *f;
    uint64_t got;
    uint64_t max;
    int too_big;
} sink;

static size_t write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
    sink *s = arg;
    size_t n = size * nmemb;
    if (s->got + n > s->max) {
        s->too_big = 1;
        return 0;   /* makes curl stop with CURLE_WRITE_ERROR */
    }
    s->got += n;
    return fwrite(data, 1, n, s->f);
}

static void setup(CURL *c, const char *url, sink *s, long timeout_s, char *errbuf)
{
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, STALL_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)s->max);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "rayc-jobserver");
    if (timeout_s > 0)
        curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s);
}

int renv_fetch_http(const char *url, const char *path, uint64_t max_bytes, long timeout_s,
                    char *err, size_t errlen)
{
    sink s = {.max = max_bytes};
    s.f = fopen(path, "wbe");
    if (s.f == NULL) {
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
        return -errno;
    }
    CURL *c = curl_easy_init();
    char errbuf[CURL_ERROR_SIZE] = "";
    CURLcode res = CURLE_OUT_OF_MEMORY;
    if (c != NULL) {
        setup(c, url, &s, timeout_s, errbuf);
        res = curl_easy_perform(c);
        curl_easy_cleanup(c);
    }
    int rc = fclose(s.f) == 0 ? 0 : -EIO;
    if (res == CURLE_OK && rc == 0)
        return 0;
    if (s.too_big || res == CURLE_FILESIZE_EXCEEDED)
        snprintf(err, errlen, "failed to download %s: larger than %llu bytes", url,
                 (unsigned long long)max_bytes);
    else
        snprintf(err, errlen, "failed to download %s: %s", url,
                 errbuf[0] ? errbuf : curl_easy_strerror(res));
    unlink(path);
    return res == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EIO;
}

/* Unit tests for http_server.c's deferred answers (http_request_defer) and
 * per-request body caps (http_request_limit_body), against a real server on
 * a libuv loop and libcurl clients on threads. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <uv.h>

#include "jobserver/http_server.h"

/* The server's side: /slow is deferred and answered from /fast's handler,
 * so its answer can only come after the loop served another request. */
typedef struct world {
    uv_loop_t loop;
    uv_async_t done;
    http_server *srv;
    http_request *pending;   /* the deferred /slow */
    atomic_int slow_seen;
    int clients_left;
    pthread_mutex_t mu;
} world;

typedef struct client {
    world *w;
    const char *path;
    char url[128];
    const char *method;
    size_t body_len;
    long status;
    char answer[256];
    size_t answer_len;
    int wait_for_slow;       /* start only once the server holds /slow */
} client;

static int on_headers(void *arg, http_request *r)
{
    if (strcmp(http_request_path(r), "/small") == 0)
        http_request_limit_body(r, 10);
    return 0;
}

static void on_request(void *arg, http_request *r)
{
    world *w = arg;
    const char *p = http_request_path(r);
    if (strcmp(p, "/slow") == 0) {
        assert_int_equal(http_request_defer(r), 0);
        w->pending = r;
        atomic_store(&w->slow_seen, 1);
    } else if (strcmp(p, "/fast") == 0) {
        http_respond_text(r, 200, "fast");
        assert_non_null(w->pending);
        http_respond_text(w->pending, 201, "slow, answered later");
        w->pending = NULL;
    } else {
        http_respond_text(r, 200, "small body taken");
    }
}

static size_t take(char *data, size_t size, size_t n, void *arg)
{
    client *c = arg;
    size_t len = size * n, room = sizeof c->answer - 1 - c->answer_len;
    memcpy(c->answer + c->answer_len, data, len < room ? len : room);
    c->answer_len += len < room ? len : room;
    c->answer[c->answer_len] = '\0';
    return len;
}

static void *client_main(void *arg)
{
    client *c = arg;
    while (c->wait_for_slow && !atomic_load(&c->w->slow_seen))
        uv_sleep(1);   /* polls a flag the server sets; no time decides anything */
    CURL *h = curl_easy_init();
    char *body = c->body_len ? calloc(1, c->body_len) : NULL;
    curl_easy_setopt(h, CURLOPT_URL, c->url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, c->method);
    if (body != NULL) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)c->body_len);
    }
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, take);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &c->status);
    curl_easy_cleanup(h);
    free(body);
    pthread_mutex_lock(&c->w->mu);
    if (--c->w->clients_left == 0)
        uv_async_send(&c->w->done);
    pthread_mutex_unlock(&c->w->mu);
    return NULL;
}

static void done_cb(uv_async_t *a)
{
    world *w = a->data;
    http_server_close(w->srv);
    uv_close((uv_handle_t *)&w->done, NULL);
}

/* Runs the clients C[0..N) against a fresh server until all are done. */
static void run_clients(client *c, int n)
{
    world w = {.clients_left = n};
    pthread_mutex_init(&w.mu, NULL);
    uv_loop_init(&w.loop);
    uv_async_init(&w.loop, &w.done, done_cb);
    w.done.data = &w;
    http_server_config cfg = {.host = "127.0.0.1", .max_body = 1 << 20,
                              .on_headers = on_headers, .on_request = on_request, .arg = &w};
    char err[256];
    /* A free port: the first one from a random start that binds. */
    cfg.port = 20000 + (int)(uv_hrtime() % 20000);
    while (http_server_start(&w.loop, &cfg, &w.srv, err, sizeof err) != 0)
        cfg.port++;
    pthread_t t[4];
    for (int i = 0; i < n; i++) {
        c[i].w = &w;
        snprintf(c[i].url, sizeof c[i].url, "http://127.0.0.1:%d%.60s", cfg.port, c[i].path);
        pthread_create(&t[i], NULL, client_main, &c[i]);
    }
    uv_run(&w.loop, UV_RUN_DEFAULT);
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    uv_loop_close(&w.loop);
    pthread_mutex_destroy(&w.mu);
}

static void a_deferred_request_is_answered_after_others(void **state)
{
    client c[2] = {{.path = "/slow", .method = "GET"},
                   {.path = "/fast", .method = "GET", .wait_for_slow = 1}};
    run_clients(c, 2);
    assert_int_equal(c[1].status, 200);
    assert_string_equal(c[1].answer, "fast");
    assert_int_equal(c[0].status, 201);
    assert_string_equal(c[0].answer, "slow, answered later");
}

static void a_lowered_body_limit_gets_413(void **state)
{
    client c[2] = {{.path = "/small", .method = "PUT", .body_len = 11},
                   {.path = "/other", .method = "PUT", .body_len = 11}};
    run_clients(c, 2);
    assert_int_equal(c[0].status, 413);
    assert_string_equal(c[0].answer, "Request body exceeds the limit of 10 bytes");
    assert_int_equal(c[1].status, 200);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_deferred_request_is_answered_after_others),
        cmocka_unit_test(a_lowered_body_limit_gets_413),
    };
    return cmocka_run_group_tests_name("http_defer", tests, NULL, NULL);
}

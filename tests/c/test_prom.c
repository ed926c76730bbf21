/* Unit tests for runtime/common/prom_http.c: the text buffer (escaping, the
 * cap) and the scrape server over a real socket (200, 404, 405, 431). */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/prom_http.h"

static void label_values_are_escaped(void **state)
{
    (void)state;
    prom_text t;
    prom_text_init(&t);
    prom_text_printf(&t, "x{a=\"");
    prom_text_label(&t, "q\"b\\s\nn");
    prom_text_printf(&t, "\"} 1\n");
    assert_false(t.failed);
    assert_string_equal(t.data, "x{a=\"q\\\"b\\\\s\\nn\"} 1\n");
    prom_text_free(&t);
}

static void text_stops_at_its_cap(void **state)
{
    (void)state;
    prom_text t;
    prom_text_init(&t);
    char line[1024];
    memset(line, 'a', sizeof line - 1);
    line[sizeof line - 1] = '\0';
    for (size_t i = 0; i < PROM_TEXT_MAX / 1000 + 10; i++)
        prom_text_printf(&t, "%s", line);
    assert_true(t.failed);
    assert_true(t.len <= PROM_TEXT_MAX);
    prom_text_free(&t);
}

/* ---------------------------------------------------------------- server */

typedef struct client_job {
    int port;
    const char *request;
    size_t reqlen;
    char reply[4096];
    uv_async_t *done;
} client_job;

static void *client_main(void *arg)
{
    client_job *j = arg;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)j->port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    size_t got = 0;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
        (void)!write(fd, j->request, j->reqlen);
        ssize_t n;
        while (got < sizeof j->reply - 1 && (n = read(fd, j->reply + got, sizeof j->reply - 1 - got)) > 0)
            got += (size_t)n;
    }
    j->reply[got] = '\0';
    close(fd);
    uv_async_send(j->done);
    return NULL;
}

static void render(void *arg, prom_text *t)
{
    (void)arg;
    prom_text_gauge(t, "ray_test", "A test gauge.");
    prom_text_printf(t, "ray_test{State=\"RUNNING\"} 3\n");
}

static void done_cb(uv_async_t *a)
{
    uv_stop(a->loop);
}

/* Sends REQUEST (LEN bytes) to a fresh server and returns its whole reply. */
static void scrape(const char *request, size_t len, char *out, size_t outlen)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    uv_async_t done;
    uv_async_init(&loop, &done, done_cb);
    prom_http *s = NULL;
    int port = 0;
    char err[128];
    assert_int_equal(prom_http_start(&loop, "127.0.0.1", 0, render, NULL, &s, &port, err,
                                     sizeof err), 0);
    assert_true(port > 0);
    client_job j = {.port = port, .request = request, .reqlen = len, .done = &done};
    pthread_t th;
    pthread_create(&th, NULL, client_main, &j);
    uv_run(&loop, UV_RUN_DEFAULT);
    pthread_join(th, NULL);
    prom_http_close(s);
    uv_close((uv_handle_t *)&done, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    snprintf(out, outlen, "%s", j.reply);
}

static void scrape_answers_metrics_text(void **state)
{
    (void)state;
    char r[4096];
    static const char req[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
    scrape(req, sizeof req - 1, r, sizeof r);
    assert_true(strncmp(r, "HTTP/1.1 200 OK\r\n", 17) == 0);
    assert_non_null(strstr(r, "Content-Type: text/plain; version=0.0.4"));
    assert_non_null(strstr(r, "\r\n\r\n# HELP ray_test A test gauge.\n# TYPE ray_test gauge\n"
                              "ray_test{State=\"RUNNING\"} 3\n"));
}

static void other_paths_and_methods_are_refused(void **state)
{
    (void)state;
    char r[4096];
    static const char nf[] = "GET /nope HTTP/1.1\r\n\r\n";
    scrape(nf, sizeof nf - 1, r, sizeof r);
    assert_true(strncmp(r, "HTTP/1.1 404 ", 13) == 0);
    static const char post[] = "POST /metrics HTTP/1.1\r\n\r\n";
    scrape(post, sizeof post - 1, r, sizeof r);
    assert_true(strncmp(r, "HTTP/1.1 405 ", 13) == 0);
}

static void oversized_headers_get_431(void **state)
{
    (void)state;
    size_t len = 8192;   /* exactly the cap: nothing is left unread, so no reset */
    char *big = malloc(len);
    memcpy(big, "GET /metrics HTTP/1.1\r\nX: ", 26);
    memset(big + 26, 'a', len - 26);
    char r[4096];
    scrape(big, len, r, sizeof r);
    free(big);
    assert_true(strncmp(r, "HTTP/1.1 431 ", 13) == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(label_values_are_escaped),
        cmocka_unit_test(text_stops_at_its_cap),
        cmocka_unit_test(scrape_answers_metrics_text),
        cmocka_unit_test(other_paths_and_methods_are_refused),
        cmocka_unit_test(oversized_headers_get_431),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* libFuzzer target: the HTTP request path of the job server's http_server
 * (libmicrohttpd plus our access handler and framing checks) on arbitrary
 * bytes sent over a real loopback connection.
 *
 * Each input is written to a fresh connection, the write side is shut, and
 * the loop runs until the server closes the connection.  The application
 * answers every complete request with its path.
 *
 * fuzz-srcs: jobserver/http_server.c jobserver/http_framing.c jobserver/http_stream.c */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "common/log.h"
#include "jobserver/http_server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uv_loop_t loop;
static http_server *server;
static int port;

static int on_headers(void *arg, http_request *r)
{
    return 0;
}

static void on_request(void *arg, http_request *r)
{
    const char *path = http_request_path(r);
    size_t len;
    http_request_body(r, &len);
    http_respond_text(r, 200, path != NULL ? path : "");
}

/* A port that was free a moment ago. */
static int pick_port(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0)
        __builtin_trap();
    close(fd);
    return ntohs(sa.sin_port);
}

static void start_once(void)
{
    if (server != NULL)
        return;
    log_setup("fuzz_http", LOG_ERROR);   /* libmicrohttpd warns about every bad input */
    uv_loop_init(&loop);
    port = pick_port();
    http_server_config cfg = {.host = "127.0.0.1", .port = port, .max_body = 4096,
                              .on_headers = on_headers, .on_request = on_request};
    char err[256];
    if (http_server_start(&loop, &cfg, &server, err, sizeof err) != 0)
        __builtin_trap();
}

static int connect_server(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0)
        __builtin_trap();
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 && errno != EINPROGRESS)
        __builtin_trap();
    return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    start_once();
    int fd = connect_server();
    size_t sent = 0;
    int eof = 0, shut = 0;
    char buf[65536];
    /* Bounded so that a server that never closes shows up as a slow input,
     * not a hang of the whole run. */
    for (int turn = 0; turn < 2000 && !eof; turn++) {
        uv_run(&loop, UV_RUN_NOWAIT);
        if (sent < size) {
            ssize_t n = write(fd, data + sent, size - sent);
            if (n > 0)
                sent += (size_t)n;
            else if (n < 0 && errno != EAGAIN && errno != EINPROGRESS && errno != ENOTCONN)
                break;   /* the server closed early */
        } else if (!shut) {
            shutdown(fd, SHUT_WR);
            shut = 1;
        }
        /* Sleep until the server's loop or our socket has something. */
        struct pollfd p[2] = {{.fd = fd, .events = POLLIN},
                              {.fd = uv_backend_fd(&loop), .events = POLLIN}};
        poll(p, 2, sent < size || !shut ? 0 : 10);
        if (p[0].revents != 0) {
            ssize_t n = read(fd, buf, sizeof buf);
            if (n == 0 || (n < 0 && errno != EAGAIN))
                eof = 1;
        }
    }
    close(fd);
    uv_run(&loop, UV_RUN_NOWAIT);
    return 0;
}

/* A blocking framed-protobuf client for command-line tools and benchmarks. */
#include "common/rpc_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/frame.h"
#include "common/net.h"
#include "common/rpc.h"
#include "common/tls.h"
#include "common/util.h"

struct rpc_client {
    int fd;
    tls_sess *tls;      /* NULL when TLS is off */
    uint64_t next_id;
    char session[128];
};

#define CLIENT_MAX_FRAME FRAME_DEFAULT_MAX

/* Connects FD to SA, giving up after TIMEOUT_MS.  Returns 0 or -errno. */
static int connect_timeout(int fd, const struct sockaddr_in *sa, int timeout_ms)
{
    int flags = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    int rc = connect(fd, (const struct sockaddr *)sa, sizeof *sa);
    if (rc != 0 && errno == EINPROGRESS) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        rc = poll(&p, 1, timeout_ms);
        if (rc == 0)
            return -ETIMEDOUT;
        int soerr = 0;
        socklen_t len = sizeof soerr;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
        if (soerr != 0)
            return -soerr;
        rc = 0;
    } else if (rc != 0) {
        return -errno;
    }
    fcntl(fd, F_SETFL, flags);
    return rc;
}

/* Waits until FD has bytes to read before DEADLINE.  Returns 0 or -errno. */
static int wait_readable(int fd, int64_t deadline)
{
    for (;;) {
        int wait = (int)(deadline - time_mono_ms());
        if (wait <= 0)
            return -ETIMEDOUT;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int rc = poll(&p, 1, wait);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc == 0)
            return -ETIMEDOUT;
        return rc < 0 ? -errno : 0;
    }
}

/* Reads what the socket holds (at most LEN) before DEADLINE.  Returns the
 * count, -ECONNRESET at end of stream, or -errno. */
static ssize_t read_some(int fd, uint8_t *buf, size_t len, int64_t deadline)
{
    for (;;) {
        int rc = wait_readable(fd, deadline);
        if (rc != 0)
            return rc;
        ssize_t n = read(fd, buf, len);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            return n == 0 ? -ECONNRESET : -errno;
        return n;
    }
}

static int write_full(int fd, const uint8_t *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Sends the ciphertext C's session holds. */
static int tls_flush(rpc_client *c)
{
    uint8_t *out;
    ssize_t n = tls_sess_take_out(c->tls, &out);
    if (n <= 0)
        return (int)n;
    int rc = write_full(c->fd, out, (size_t)n);
    free(out);
    return rc;
}

/* Moves ciphertext from the socket into C's session before DEADLINE. */
static int tls_pull(rpc_client *c, int64_t deadline)
{
    uint8_t raw[16 * 1024];
    ssize_t n = read_some(c->fd, raw, sizeof raw, deadline);
    if (n < 0)
        return (int)n;
    return tls_sess_feed(c->tls, raw, (size_t)n);
}

/* Reads exactly LEN bytes before the DEADLINE (monotonic ms). */
static int read_full(rpc_client *c, uint8_t *buf, size_t len, int64_t deadline)
{
    while (len > 0) {
        ssize_t n;
        if (c->tls == NULL) {
            n = read_some(c->fd, buf, len, deadline);
        } else if ((n = tls_sess_read(c->tls, buf, len)) == 0) {
            int rc = tls_flush(c);
            if (rc == 0)
                rc = tls_pull(c, deadline);
            if (rc != 0)
                return rc;
            continue;
        }
        if (n < 0)
            return (int)n;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Runs the TLS handshake as the client before DEADLINE. */
static int tls_handshake(rpc_client *c, int64_t deadline, char *err, size_t errlen)
{
    c->tls = tls_sess_new(0);
    if (c->tls == NULL) {
        if (err != NULL)
            snprintf(err, errlen, "TLS: %s", tls_state() < 0 ? tls_init_error() : "out of memory");
        return tls_state() < 0 ? -EINVAL : -ENOMEM;
    }
    for (;;) {
        int hs = tls_sess_handshake(c->tls);
        int rc = tls_flush(c);
        if (hs < 0) {
            if (err != NULL)
                snprintf(err, errlen, "TLS handshake failed: %s", tls_sess_error(c->tls));
            return -EPROTO;
        }
        if (rc == 0 && hs == 0)
            rc = tls_pull(c, deadline);
        if (rc != 0) {
            if (err != NULL)
                snprintf(err, errlen, "TLS handshake failed: %s",
                         rc == -ECONNRESET ? "the server closed the connection (does it use TLS?)"
                                           : strerror(-rc));
            return rc;
        }
        if (hs == 1)
            return 0;
    }
}

int rpc_client_send(rpc_client *c, const Rayc__Envelope *env)
{
    uint8_t *buf;
    size_t len;
    int rc = rpc_pack(env, CLIENT_MAX_FRAME, &buf, &len);
    if (rc != 0)
        return rc;
    if (c->tls == NULL) {
        rc = write_full(c->fd, buf, len);
    } else {
        rc = tls_sess_write(c->tls, buf, len);
        if (rc == 0)
            rc = tls_flush(c);
    }
    free(buf);
    return rc;
}

int rpc_client_recv(rpc_client *c, int timeout_ms, Rayc__Envelope **msg)
{
    int64_t deadline = time_mono_ms() + timeout_ms;
    uint8_t hdr[FRAME_HEADER_SIZE];
    int rc = read_full(c, hdr, sizeof hdr, deadline);
    if (rc != 0)
        return rc;
    uint32_t n = ((uint32_t)hdr[0] << 24) | ((uint32_t)hdr[1] << 16) |
                 ((uint32_t)hdr[2] << 8) | hdr[3];
    if (n > CLIENT_MAX_FRAME)
        return -EMSGSIZE;
    uint8_t *payload = malloc(n ? n : 1);
    if (payload == NULL)
        return -ENOMEM;
    rc = read_full(c, payload, n, deadline);
    if (rc == 0) {
        *msg = rayc__envelope__unpack(NULL, n, payload);
        rc = *msg ? 0 : -EPROTO;
    }
    free(payload);
    return rc;
}

int rpc_client_call(rpc_client *c, Rayc__Envelope *req, int timeout_ms,
                    Rayc__Envelope **reply, char *err, size_t errlen)
{
    req->request_id = ++c->next_id;
    int rc = rpc_client_send(c, req);
    int64_t deadline = time_mono_ms() + timeout_ms;
    while (rc == 0) {
        Rayc__Envelope *m;
        int left = (int)(deadline - time_mono_ms());
        rc = rpc_client_recv(c, left > 0 ? left : 0, &m);
        if (rc != 0)
            break;
        if (m->request_id != req->request_id && m->body_case != RAYC__ENVELOPE__BODY_ERROR) {
            rayc__envelope__free_unpacked(m, NULL);
            continue;
        }
        if (m->body_case == RAYC__ENVELOPE__BODY_ERROR) {
            if (err != NULL)
                snprintf(err, errlen, "%s", m->error->message);
            rc = m->error->code == RPC_E_UNAUTHENTICATED ? -EACCES : -EREMOTEIO;
            rayc__envelope__free_unpacked(m, NULL);
            return rc;
        }
        *reply = m;
        return 0;
    }
    if (err != NULL)
        snprintf(err, errlen, "%s", strerror(-rc));
    return rc;
}

/* Sends Hello and checks the reply. */
static int handshake(rpc_client *c, const char *token, const char *kind, int timeout_ms,
                     char *err, size_t errlen)
{
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    Rayc__Hello hello = RAYC__HELLO__INIT;
    hello.token = (char *)token;
    hello.client_kind = (char *)kind;
    env.body_case = RAYC__ENVELOPE__BODY_HELLO;
    env.hello = &hello;
    Rayc__Envelope *reply;
    int rc = rpc_client_call(c, &env, timeout_ms, &reply, err, errlen);
    if (rc != 0)
        return rc;
    if (reply->body_case != RAYC__ENVELOPE__BODY_HELLO_REPLY) {
        rayc__envelope__free_unpacked(reply, NULL);
        if (err != NULL)
            snprintf(err, errlen, "unexpected reply to hello");
        return -EPROTO;
    }
    str_copy(c->session, sizeof c->session, reply->hello_reply->session_name);
    rayc__envelope__free_unpacked(reply, NULL);
    return 0;
}

int rpc_client_connect(const char *host, int port, const char *token, const char *kind,
                       int timeout_ms, rpc_client **out, char *err, size_t errlen)
{
    char ip[64];
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (net_resolve_ipv4(host, ip, sizeof ip) != 0 || inet_pton(AF_INET, ip, &sa.sin_addr) != 1) {
        if (err != NULL)
            snprintf(err, errlen, "cannot resolve %s", host);
        return -EHOSTUNREACH;
    }
    rpc_client *c = calloc(1, sizeof *c);
    if (c == NULL)
        return -ENOMEM;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int rc = c->fd < 0 ? -errno : connect_timeout(c->fd, &sa, timeout_ms);
    if (rc != 0) {
        if (err != NULL)
            snprintf(err, errlen, "cannot connect to %s:%d: %s", host, port, strerror(-rc));
    } else {
        int one = 1;
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (tls_state() != 0)
            rc = tls_handshake(c, time_mono_ms() + timeout_ms, err, errlen);
        if (rc == 0)
            rc = handshake(c, token, kind, timeout_ms, err, errlen);
        /* A TLS server drops a plain-text Hello without a word. */
        if (rc == -ECONNRESET && tls_state() == 0 && err != NULL)
            snprintf(err, errlen, "the server closed the connection; if the cluster uses TLS, "
                                  "set RAY_USE_TLS=1 and RAY_TLS_SERVER_CERT, "
                                  "RAY_TLS_SERVER_KEY, RAY_TLS_CA_CERT");
    }
    if (rc != 0) {
        rpc_client_close(c);
        return rc;
    }
    *out = c;
    return 0;
}

const char *rpc_client_session(const rpc_client *c) { return c->session; }
int rpc_client_fd(const rpc_client *c) { return c->fd; }

void rpc_client_close(rpc_client *c)
{
    if (c == NULL)
        return;
    if (c->fd >= 0)
        close(c->fd);
    tls_sess_free(c->tls);
    free(c);
}

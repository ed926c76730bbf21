/* tcp_xfer: raw TCP throughput between two hosts, the baseline of
 * bench/multihost.sh's cross-node transfer (no iperf needed).
 *
 *   tcp_xfer recv PORT RUNS           accepts RUNS connections, one after another
 *   tcp_xfer send IP PORT BYTES RUNS  sends BYTES of pseudo-random data RUNS times
 *
 * Like a store-to-store transfer, the sender sends from one buffer of BYTES
 * (filled before the clock starts) and the receiver writes into one buffer
 * of BYTES, in place; neither reads from nor writes to disk.  Per run the
 * sender writes an 8-byte length, then the bytes; the receiver answers one
 * byte once it has them all (the clock stops there), then the checksum of
 * what it got.  Prints, from the sender:
 *
 *   tcp_run I SECONDS
 *   tcp BYTES BEST_SECONDS GB/s ok|MISMATCH
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "multihost.h"

#define MAX_BYTES (4ull << 30)

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Writes or reads exactly N bytes; 0, or -1 with errno. */
static int write_all(int fd, const void *p, size_t n)
{
    const char *b = p;
    while (n > 0) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        b += w, n -= (size_t)w;
    }
    return 0;
}

static int read_all(int fd, void *p, size_t n)
{
    char *b = p;
    while (n > 0) {
        ssize_t r = read(fd, b, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (r == 0)
                errno = ECONNRESET;
            return -1;
        }
        b += r, n -= (size_t)r;
    }
    return 0;
}

static int die(const char *what)
{
    fprintf(stderr, "tcp_xfer: %s: %s\n", what, strerror(errno));
    return 1;
}

/* ---------------------------------------------------------------- receiver */

/* Serves one connection: the length, the bytes, the ack, the checksum. */
static int serve_one(int c, char **buf, size_t *cap)
{
    uint64_t n;
    if (read_all(c, &n, sizeof n) != 0)
        return die("reading the length");
    if (n > MAX_BYTES) {
        fprintf(stderr, "tcp_xfer: %llu bytes is over the limit\n", (unsigned long long)n);
        return 1;
    }
    if (n > *cap) {
        free(*buf);
        if ((*buf = malloc(n)) == NULL)
            return die("malloc");
        *cap = n;
    }
    if (read_all(c, *buf, n) != 0)
        return die("reading the data");
    char ack = 1;
    if (write_all(c, &ack, 1) != 0)
        return die("writing the ack");
    uint64_t sum = mh_checksum(*buf, n);
    return write_all(c, &sum, sizeof sum) != 0 ? die("writing the checksum") : 0;
}

static int recv_main(int port, long runs)
{
    int one = 1, s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(s, (struct sockaddr *)&a, sizeof a) != 0 || listen(s, 4) != 0)
        return die("listen");
    char *buf = NULL;
    size_t cap = 0;
    int rc = 0;
    for (long i = 0; rc == 0 && i < runs; i++) {
        int c = accept(s, NULL, NULL);
        if (c < 0)
            return die("accept");
        rc = serve_one(c, &buf, &cap);
        close(c);
    }
    free(buf);
    close(s);
    return rc;
}

/* ---------------------------------------------------------------- sender */

/* Connects to IP:PORT, retrying for up to 10 s while the receiver starts. */
static int connect_to(const char *ip, int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, ip, &a.sin_addr) != 1) {
        fprintf(stderr, "tcp_xfer: bad address '%s'\n", ip);
        return -1;
    }
    for (int i = 0; i < 1000; i++) {
        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0)
            return -1;
        if (connect(s, (struct sockaddr *)&a, sizeof a) == 0)
            return s;
        close(s);
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return -1;
}

/* One timed send of N bytes of BUF; *SECS gets the time to the ack. */
static int send_one(const char *ip, int port, const char *buf, uint64_t n, uint64_t want,
                    double *secs, int *ok)
{
    int s = connect_to(ip, port);
    if (s < 0)
        return die("connect");
    char ack;
    uint64_t sum = 0;
    double t0 = now_s();
    int rc = write_all(s, &n, sizeof n) || write_all(s, buf, n) || read_all(s, &ack, 1);
    *secs = now_s() - t0;
    if (rc == 0)
        rc = read_all(s, &sum, sizeof sum);
    close(s);
    *ok = sum == want;
    return rc ? die("transfer") : 0;
}

static int send_main(const char *ip, int port, uint64_t n, long runs)
{
    if (n == 0 || n > MAX_BYTES || n % 8 != 0) {
        fprintf(stderr, "tcp_xfer: BYTES must be a multiple of 8 up to 4 GiB\n");
        return 2;
    }
    uint64_t *w = malloc(n), x = 88172645463325252ull;
    if (w == NULL)
        return die("malloc");
    for (size_t i = 0; i < n / 8; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        w[i] = x;
    }
    uint64_t want = mh_checksum(w, n);
    double best = 1e9, secs;
    int all_ok = 1, ok;
    for (long i = 0; i < runs; i++) {
        if (send_one(ip, port, (const char *)w, n, want, &secs, &ok)) {
            free(w);
            return 1;
        }
        printf("tcp_run %ld %.4f%s\n", i, secs, ok ? "" : " MISMATCH");
        all_ok &= ok;
        if (secs < best)
            best = secs;
    }
    printf("tcp %llu %.4f %.3f %s\n", (unsigned long long)n, best, (double)n / best / 1e9,
           all_ok ? "ok" : "MISMATCH");
    free(w);
    return !all_ok;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "recv") == 0)
        return recv_main((int)strtol(argv[2], NULL, 10), strtol(argv[3], NULL, 10));
    if (argc == 6 && strcmp(argv[1], "send") == 0)
        return send_main(argv[2], (int)strtol(argv[3], NULL, 10),
                         strtoull(argv[4], NULL, 10), strtol(argv[5], NULL, 10));
    fprintf(stderr, "usage: tcp_xfer recv PORT RUNS | tcp_xfer send IP PORT BYTES RUNS\n");
    return 2;
}

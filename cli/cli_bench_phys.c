/* The physical limits the microbenchmark prints beside its metrics: memcpy
 * bandwidth (for put_gigabytes) and a Unix-socket ping-pong between two
 * processes (for tasks_sync, which needs two such round trips: driver to
 * raylet to worker and back). */
#include "cli/cli_bench.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void stats(const double *v, int n, double *mean, double *sd)
{
    double m = 0, s = 0;
    for (int i = 0; i < n; i++)
        m += v[i];
    m /= n > 0 ? n : 1;
    for (int i = 0; i < n; i++)
        s += (v[i] - m) * (v[i] - m);
    *mean = m;
    *sd = n > 0 ? sqrt(s / n) : 0;
}

void cli_bench_memcpy(size_t size, double seconds, int runs, double *mean, double *sd)
{
    double rates[16];
    char *a = malloc(size), *b = malloc(size);
    *mean = *sd = 0;
    if (a == NULL || b == NULL || runs > 16) {
        free(a);
        free(b);
        return;
    }
    memset(a, 1, size);
    memset(b, 2, size); /* both warm: no page faults in the measurement */
    for (int r = 0; r < runs; r++) {
        double t0 = now_s(), t;
        long n = 0;
        do {
            memcpy(n % 2 ? a : b, n % 2 ? b : a, size);
            n++;
        } while ((t = now_s() - t0) < seconds);
        rates[r] = (double)n * (double)size / 1e9 / t;
    }
    stats(rates, runs, mean, sd);
    free(a);
    free(b);
}

/* Reads one 64-byte message, sleeping in poll (see api_conn.c on why not
 * in recv).  Returns 0, or -1 at end of file. */
static int read_msg(int fd, char *buf)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    for (;;) {
        ssize_t n = recv(fd, buf, 64, MSG_DONTWAIT);
        if (n > 0)
            return 0;
        if (n == 0 || (errno != EAGAIN && errno != EINTR))
            return -1;
        poll(&p, 1, -1);
    }
}

/* Echoes messages on FD until it closes; with NEXT >= 0, forwards each to
 * NEXT and its answer back (the middle of a relay). */
static void echo_loop(int fd, int next)
{
    char buf[64];
    for (;;) {
        if (read_msg(fd, buf) != 0)
            _exit(0);
        if (next >= 0 && (write(next, buf, 64) != 64 || read_msg(next, buf) != 0))
            _exit(0);
        if (write(fd, buf, 64) != 64)
            _exit(0);
    }
}

/* Round trips per second through FD for SECONDS. */
static double round_trips(int fd, double seconds)
{
    char buf[64] = {0};
    double t0 = now_s();
    long n = 0;
    do {
        if (write(fd, buf, sizeof buf) != sizeof buf || read_msg(fd, buf) != 0)
            break;
        n++;
    } while (now_s() - t0 < seconds);
    return (double)n / (now_s() - t0);
}

/* Starts an echo process on a new socket pair (through a relay process
 * when RELAY); returns our end, with the pids in PIDS. */
static int start_echo(int relay, pid_t pids[2])
{
    int a[2], b[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, a) != 0)
        return -1;
    if (relay && socketpair(AF_UNIX, SOCK_STREAM, 0, b) != 0)
        return -1;
    pids[0] = pids[1] = 0;
    if (relay && (pids[1] = fork()) == 0) {
        close(a[0]), close(a[1]), close(b[0]);
        echo_loop(b[1], -1);
    }
    if ((pids[0] = fork()) == 0) {
        close(a[0]);
        if (relay)
            close(b[1]);
        echo_loop(a[1], relay ? b[0] : -1);
    }
    close(a[1]);
    if (relay) {
        close(b[0]);
        close(b[1]);
    }
    return a[0];
}

static void measure(int relay, double seconds, int runs, double *mean, double *sd)
{
    double rates[16];
    pid_t pids[2];
    *mean = *sd = 0;
    int fd = runs <= 16 ? start_echo(relay, pids) : -1;
    if (fd < 0)
        return;
    for (int r = 0; r < runs; r++)
        rates[r] = round_trips(fd, seconds);
    close(fd);
    for (int i = 0; i < 2; i++)
        if (pids[i] > 0)
            waitpid(pids[i], NULL, 0);
    stats(rates, runs, mean, sd);
}

void cli_bench_pingpong(double seconds, int runs, double *mean, double *sd)
{
    measure(0, seconds, runs, mean, sd);
}

void cli_bench_relay(double seconds, int runs, double *mean, double *sd)
{
    measure(1, seconds, runs, mean, sd);
}

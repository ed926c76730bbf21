/* The physical limits the microbenchmark prints beside its metrics: memcpy
 * bandwidth (for put_gigabytes) and a Unix-socket ping-pong between two
 * processes (for tasks_sync, which needs two such round trips: driver to
 * raylet to worker and back). */
#include "api/api_bench.h"

#include <math.h>
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

void api_bench_memcpy(size_t size, double seconds, int runs, double *mean, double *sd)
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

/* Echoes 64-byte messages on FD until it closes. */
static void echo_loop(int fd)
{
    char buf[64];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0 || write(fd, buf, (size_t)n) != n)
            _exit(0);
    }
}

void api_bench_pingpong(double seconds, int runs, double *mean, double *sd)
{
    double rates[16];
    int sv[2];
    *mean = *sd = 0;
    if (runs > 16 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        return;
    pid_t pid = fork();
    if (pid == 0) {
        close(sv[0]);
        echo_loop(sv[1]);
    }
    close(sv[1]);
    char buf[64] = {0};
    for (int r = 0; pid > 0 && r < runs; r++) {
        double t0 = now_s(), t;
        long n = 0;
        do {
            if (write(sv[0], buf, sizeof buf) != sizeof buf || read(sv[0], buf, sizeof buf) <= 0)
                break;
            n++;
        } while ((t = now_s() - t0) < seconds);
        rates[r] = (double)n / (now_s() - t0);
    }
    close(sv[0]);
    if (pid > 0) {
        waitpid(pid, NULL, 0);
        stats(rates, runs, mean, sd);
    }
}

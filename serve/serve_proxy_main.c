/* ray_serve_proxy: Serve's HTTP proxy of one node (see sp.h).
 *
 *     ray_serve_proxy --host H --port P --node-id HEX [--gcs-address A]
 *                     [--parent-pid PID] [--log-file F]
 *
 * Started by the node's proxy actor (python/ray/serve/_private/proxy.py);
 * it ends with that actor's process (PR_SET_PDEATHSIG) or on SIGTERM. */
#include "serve/sp.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "api/api.h"
#include "common/log.h"

static int usage(void)
{
    fprintf(stderr, "usage: ray_serve_proxy --host H --port P --node-id HEX "
                    "[--gcs-address A] [--parent-pid PID] [--log-file F]\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1", *node = "", *gcs = NULL, *log_file = NULL;
    long port = 8000, parent = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        char *end = NULL;
        if (strcmp(argv[i], "--host") == 0)
            host = argv[i + 1];
        else if (strcmp(argv[i], "--port") == 0)
            port = strtol(argv[i + 1], &end, 10);
        else if (strcmp(argv[i], "--node-id") == 0)
            node = argv[i + 1];
        else if (strcmp(argv[i], "--gcs-address") == 0)
            gcs = argv[i + 1];
        else if (strcmp(argv[i], "--parent-pid") == 0)
            parent = strtol(argv[i + 1], &end, 10);
        else if (strcmp(argv[i], "--log-file") == 0)
            log_file = argv[i + 1];
        else
            return usage();
        if (end != NULL && *end != '\0')
            return usage();
    }
    if (argc % 2 == 0 || port < 0 || port > 65535)
        return usage();
    if (parent > 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != (pid_t)parent)
            return 0; /* the actor died before we got here */
    }
    log_setup("ray_serve_proxy", LOG_INFO);
    if (log_file != NULL)
        log_open(log_file);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* every thread inherits it; sigwait below */
    ray_init_opts o = {.address = gcs, .ns = "serve"};
    if (ray_init(&o) != RAY_OK) {
        log_error("cannot connect to the cluster: %s", ray_last_error());
        fprintf(stderr, "ray_serve_proxy: %s\n", ray_last_error());
        return 1;
    }
    /* The replicas are Python actors: calls to them are Python tasks (their
     * arguments follow the raw-call convention, not pickles). */
    api_set_submit_language(RAYC__LANGUAGE__PYTHON);
    char err[256];
    if (sp_table_start(node, err, sizeof(err)) < 0 ||
        sp_http_start(host, (int)port, err, sizeof(err)) < 0) {
        log_error("%s", err);
        fprintf(stderr, "ray_serve_proxy: %s\n", err);
        ray_shutdown();
        return 1;
    }
    log_info("serving HTTP on %s:%ld for node %s", host, port, node);
    printf("listening on %s:%ld\n", host, port);
    fflush(stdout);
    int sig = 0;
    sigwait(&set, &sig);
    log_info("received signal %d; stopping", sig);
    sp_http_stop();
    ray_shutdown();
    return 0;
}

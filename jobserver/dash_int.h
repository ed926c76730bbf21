/* The dashboard's state, shared by dash_*.c only. */
#ifndef RAYC_JOBSERVER_DASH_INT_H
#define RAYC_JOBSERVER_DASH_INT_H

#include <limits.h>
#include <stdint.h>

#include "common/rpc_client.h"
#include "common/token.h"
#include "jobserver/dash.h"

#define DASH_MAX_NODES 4096

typedef struct dash_sample {
    int64_t t_ms;
    double cpu, mem_used, mem_total, store_used;
    int32_t running, pending;
} dash_sample;

typedef struct dash_node {
    char id[NODE_ID_HEX_LEN + 1];
    char ip[64];
    dash_sample ring[DASH_RING];
    size_t first, count;
    int64_t last_ms;
} dash_node;

typedef struct dash {
    jobs_server *srv;
    uv_timer_t timer;
    uv_work_t work;
    int busy, stopped, polled, warned;
    /* the thread pool's half (touched only while busy) */
    char gcs_host[256];
    int gcs_port;
    char token[TOKEN_MAX + 1];
    rpc_client *client;
    Rayc__Envelope *reply;
    char err[256];
    /* the loop's half */
    char *summary;               /* Ray's /nodes?view=summary body */
    dash_node *nodes;
    size_t nnodes, cap;
    char sd_path[PATH_MAX];
    char *sd_text;               /* what the file holds */
} dash;

/* Frees D and what it owns (not its handles or client). */
void dash__free(dash *d);

#endif

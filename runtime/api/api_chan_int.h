/* Internals shared by api_chan.c (direct connections) and api_lease.c
 * (leased workers). */
#ifndef RAYC_API_API_CHAN_INT_H
#define RAYC_API_API_CHAN_INT_H

#include "api/api.h"

#define CHAN_MAX_OUT 256           /* direct connections a process opens */
#define CHAN_MAX_IN 1024           /* callers a worker accepts */
#define CHAN_RETRY_MS 200          /* between connection attempts to one peer */
#define CHAN_HELLO_MS 2000
#define API_LEASE_IDLE_MS 5        /* a leased worker idle this long ends its lease */
#define API_LEASE_DEPTH 1024      /* calls in flight on one lease */
#define API_LEASE_ENDED 100        /* TaskResult status of a task that came too late */

enum { CHAN_CLOSED = 0, CHAN_CONNECTING, CHAN_HELLO, CHAN_OPEN };

typedef struct api_call {
    ids_task id;
    uint8_t *frame;                /* the ExecuteTask frame, for a resubmission */
    size_t len;
    int nreturns;
    int cancelled;                 /* ray_cancel(force): fail it when the connection breaks */
    struct api_call *next;
} api_call;

struct api_chan {
    int fd;
    int out;                       /* 1: to a worker; 0: from a caller (worker side) */
    int lease;                     /* to/from a leased worker (not an actor's) */
    int state;
    frame_reader fr;
    ids_actor actor;               /* out: the actor, or a lease's worker id */
    char *path;                    /* out lease: the worker's socket */
    Rayc__Resource **shape;        /* out lease: the resources of the tasks it takes */
    size_t nshape;
    int ended;                     /* out lease: LeaseEnded seen, no more calls */
    int pid;                       /* out lease: the worker's pid */
    int doomed;                    /* out lease: over and answered: free it after reading */
    unsigned refs;                 /* in: tasks still to answer on it */
    api_call *calls, *calls_tail;  /* out: direct calls not answered, in order */
    size_t ncalls;
    ids_task *via;                 /* out: calls through the raylet not answered */
    size_t nvia, avia;
    int64_t retry_at_ms;
    int sending;                   /* out: a frame is being written (mu may be released) */
    int incarnation;               /* out: the actor's restart count of that worker */
    pthread_mutex_t send_mu;       /* in: one result at a time */
    struct api_chan *next;
};

extern size_t api_chan__n_out, api_chan__n_in;

/* Opens CH if it is closed and may be retried (mu held; released while
 * connecting).  Returns 1 when it is open. */
int api_chan__open(api_chan *ch);

/* Sends task SPEC (id ID) on CH and records the call (mu held).
 * Returns 0 or -errno (a broken connection is handled by the reader). */
int api_chan__send_call(api_chan *ch, Rayc__TaskSpec *spec, const ids_task *id);

/* Closes CH's connection (mu held). */
void api_chan__drop(api_chan *ch);

/* Frees CH (mu held). */
void api_chan__free(api_chan *ch);

/* Lease side of the channels (api_lease.c), mu held. */
void api_lease__result_done(api_chan *ch);
int api_lease__accepts(void);
void api_lease__task_started(void);

#endif

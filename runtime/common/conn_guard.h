/* Admission limits for connections that have not authenticated yet.
 *
 * A daemon that listens on the network holds an unauthenticated connection
 * for at most a couple of seconds and reads at most one small Hello frame
 * from it (rpc_conn_set_read_limit).  conn_guard bounds how many such
 * connections it holds at once, in total and per peer address, and how many
 * log lines they may cause, so that nobody without the cluster token can grow
 * the daemon's memory or its log.  Pure bookkeeping: no sockets, no logging. */
#ifndef RAYC_COMMON_CONN_GUARD_H
#define RAYC_COMMON_CONN_GUARD_H

#include <stddef.h>
#include <stdint.h>

#define GUARD_HELLO_MAX_FRAME 4096   /* largest frame read before Hello */
#define GUARD_HELLO_TIMEOUT_MS 2000  /* Hello must arrive by then */
#define GUARD_MAX_TOTAL 256          /* unauthenticated connections per server */
#define GUARD_MAX_PER_PEER 32        /* ... per peer IP address */
#define GUARD_LOG_BURST 10           /* lines about them per window */
#define GUARD_LOG_WINDOW_MS 10000

typedef struct guard_peer {
    char ip[48];
    unsigned n;
} guard_peer;

typedef struct conn_guard {
    unsigned total;
    guard_peer peers[GUARD_MAX_TOTAL];   /* n == 0: free slot */
    int64_t log_window_start;
    unsigned log_lines;                  /* logged in this window */
    unsigned log_dropped;                /* not logged since the last line */
} conn_guard;

/* Why guard_admit refused a connection. */
enum { GUARD_FULL = -1, GUARD_PEER_FULL = -2 };

/* Empties G. */
void guard_init(conn_guard *g);

/* Counts one more unauthenticated connection from PEER ("ip" or "ip:port";
 * the port is ignored).  Returns 0 when admitted (release it later with
 * guard_release), GUARD_FULL over GUARD_MAX_TOTAL, or GUARD_PEER_FULL over
 * GUARD_MAX_PER_PEER for that address; G is unchanged when refused. */
int guard_admit(conn_guard *g, const char *peer);

/* Forgets one admitted connection from PEER (it authenticated or closed).
 * A PEER that holds nothing is ignored. */
void guard_release(conn_guard *g, const char *peer);

/* Decides whether a line about an unauthenticated connection may be logged
 * at NOW_MS: at most GUARD_LOG_BURST lines per GUARD_LOG_WINDOW_MS.  Returns
 * 1 when it may, and then stores in *DROPPED how many lines were held back
 * since the previous one (for a "N more" note); 0 when it must not. */
int guard_log_allowed(conn_guard *g, int64_t now_ms, unsigned *dropped);

/* A one-line reason for a guard_admit refusal. */
const char *guard_strerror(int rc);

#endif

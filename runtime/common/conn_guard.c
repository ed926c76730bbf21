/* Counting unauthenticated connections per server and per peer address. */
#include "common/conn_guard.h"

#include <string.h>

void guard_init(conn_guard *g)
{
    memset(g, 0, sizeof *g);
}

/* Copies the address part of PEER ("ip:port" -> "ip") into IP. */
static void peer_ip(const char *peer, char ip[48])
{
    const char *colon = strrchr(peer, ':');
    size_t n = colon != NULL ? (size_t)(colon - peer) : strlen(peer);
    if (n > 47)
        n = 47;
    memcpy(ip, peer, n);
    ip[n] = '\0';
}

/* The slot counting IP, or NULL. */
static guard_peer *find(conn_guard *g, const char *ip)
{
    for (size_t i = 0; i < GUARD_MAX_TOTAL; i++)
        if (g->peers[i].n > 0 && strcmp(g->peers[i].ip, ip) == 0)
            return &g->peers[i];
    return NULL;
}

int guard_admit(conn_guard *g, const char *peer)
{
    char ip[48];
    peer_ip(peer, ip);
    if (g->total >= GUARD_MAX_TOTAL)
        return GUARD_FULL;
    guard_peer *p = find(g, ip);
    if (p != NULL && p->n >= GUARD_MAX_PER_PEER)
        return GUARD_PEER_FULL;
    if (p == NULL) {
        /* total < GUARD_MAX_TOTAL, so some slot is free. */
        for (p = g->peers; p->n > 0; p++)
            ;
        memcpy(p->ip, ip, sizeof p->ip);
    }
    p->n++;
    g->total++;
    return 0;
}

void guard_release(conn_guard *g, const char *peer)
{
    char ip[48];
    peer_ip(peer, ip);
    guard_peer *p = find(g, ip);
    if (p == NULL)
        return;
    p->n--;
    g->total--;
}

int guard_log_allowed(conn_guard *g, int64_t now_ms, unsigned *dropped)
{
    if (now_ms - g->log_window_start >= GUARD_LOG_WINDOW_MS) {
        g->log_window_start = now_ms;
        g->log_lines = 0;
    }
    if (g->log_lines >= GUARD_LOG_BURST) {
        g->log_dropped++;
        return 0;
    }
    g->log_lines++;
    *dropped = g->log_dropped;
    g->log_dropped = 0;
    return 1;
}

const char *guard_strerror(int rc)
{
    if (rc == GUARD_PEER_FULL)
        return "too many unauthenticated connections from this address";
    if (rc == GUARD_FULL)
        return "too many unauthenticated connections";
    return "admitted";
}

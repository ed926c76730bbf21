/* Port forwards (direct-tcpip channels) and a command, in one poll loop. */
#include "launcher/ssh_fwd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define FWD_CHUNK 16384
#define FWD_MAX_PORTS 16
#define FWD_IDLE_MS 50

/* One forwarded connection.  Bytes from the node wait in OUT until the
 * client takes them, so a slow client never stalls the others.  The slot
 * is free again once both directions have ended (EOF each way, data
 * flushed) or either side failed. */
typedef struct fwd_conn {
    int fd;                     /* the local client, -1 when the slot is free */
    ssh_channel ch;
    int local_eof;              /* the client closed its sending side */
    int remote_eof;             /* the node's side sent EOF or closed the channel */
    size_t out_off, out_len;    /* pending node -> client bytes in out */
    char out[FWD_CHUNK];
} fwd_conn;

typedef struct fwd_loop {
    ssh_conn *c;
    const ssh_fwd_port *ports;
    size_t n_ports;
    int listen_fd[FWD_MAX_PORTS];
    fwd_conn *conns;            /* SSH_FWD_MAX_CONNS slots */
    size_t n_open;
    int busy;                   /* the last round moved bytes: poll without waiting */
    ssh_channel cmd;
    ssh_output_cb out;
    void *out_data;
    char *err;
    size_t errlen;
} fwd_loop;

/* ---------------------------------------------------------------- setup */

static int listen_on(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), on = 1;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0)
        return -errno;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 128) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

static int open_listeners(fwd_loop *l)
{
    for (size_t i = 0; i < l->n_ports; i++) {
        int fd = listen_on(l->ports[i].local_port);
        if (fd < 0) {
            snprintf(l->err, l->errlen, "cannot listen on 127.0.0.1:%d: %s",
                     l->ports[i].local_port, strerror(-fd));
            return fd == -EADDRINUSE ? -EADDRINUSE : -EPROTO;
        }
        l->listen_fd[i] = fd;
    }
    return 0;
}

static int start_command(fwd_loop *l, const char *command)
{
    ssh_session s = ssh_conn_session(l->c);
    l->cmd = ssh_channel_new(s);
    if (l->cmd == NULL || ssh_channel_open_session(l->cmd) != SSH_OK ||
        ssh_channel_request_exec(l->cmd, command) != SSH_OK) {
        snprintf(l->err, l->errlen, "cannot run the command: %s", ssh_get_error(s));
        return -EPROTO;
    }
    ssh_channel_send_eof(l->cmd);
    return 0;
}

/* ---------------------------------------------------------------- connections */

static void conn_close(fwd_loop *l, fwd_conn *fc)
{
    if (fc->ch != NULL) {
        ssh_channel_close(fc->ch);
        ssh_channel_free(fc->ch);
    }
    if (fc->fd >= 0) {
        close(fc->fd);
        l->n_open--;
    }
    fc->ch = NULL;
    fc->fd = -1;
    fc->local_eof = fc->remote_eof = 0;
    fc->out_off = fc->out_len = 0;
}

static void accept_one(fwd_loop *l, size_t port_index)
{
    const ssh_fwd_port *p = &l->ports[port_index];
    fwd_conn *slot = NULL;
    for (size_t i = 0; i < SSH_FWD_MAX_CONNS && slot == NULL; i++)
        if (l->conns[i].fd < 0)
            slot = &l->conns[i];
    if (slot == NULL)
        return;                         /* full: the client waits in the backlog */
    int fd = accept4(l->listen_fd[port_index], NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0)
        return;
    ssh_channel ch = ssh_channel_new(ssh_conn_session(l->c));
    if (ch == NULL || ssh_channel_open_forward(ch, p->remote_host, p->remote_port, "127.0.0.1",
                                               p->local_port) != SSH_OK) {
        if (ch != NULL)
            ssh_channel_free(ch);
        close(fd);                      /* the node refused: the client sees EOF */
        return;
    }
    slot->fd = fd;
    slot->ch = ch;
    l->n_open++;
}

/* Client -> node.  Returns -1 when the connection failed. */
static int pump_local(fwd_loop *l, fwd_conn *fc)
{
    char buf[FWD_CHUNK];
    if (fc->local_eof)
        return 0;
    ssize_t n = read(fc->fd, buf, sizeof buf);
    if (n > 0) {
        l->busy = 1;
        return ssh_channel_write(fc->ch, buf, (uint32_t)n) == n ? 0 : -1;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    if (n < 0)
        return -1;                      /* reset by the client */
    fc->local_eof = 1;                  /* half-close: pass the EOF on */
    l->busy = 1;
    if (!ssh_channel_is_closed(fc->ch) && ssh_channel_send_eof(fc->ch) != SSH_OK)
        return -1;
    return 0;
}

/* Writes what is pending to the client.  Returns -1 on a write error. */
static int flush_out(fwd_loop *l, fwd_conn *fc)
{
    while (fc->out_off < fc->out_len) {
        ssize_t w = write(fc->fd, fc->out + fc->out_off, fc->out_len - fc->out_off);
        if (w < 0 && (errno == EAGAIN || errno == EINTR))
            return 0;
        if (w < 0)
            return -1;
        fc->out_off += (size_t)w;
        l->busy = 1;
    }
    fc->out_off = fc->out_len = 0;
    return 0;
}

/* Node -> client.  libssh reports the node's EOF as SSH_EOF (not 0) once
 * the channel's data is drained; that ends this direction. */
static int pump_remote(fwd_loop *l, fwd_conn *fc)
{
    if (flush_out(l, fc) != 0)
        return -1;
    if (fc->out_len > 0 || fc->remote_eof)
        return 0;
    int n = ssh_channel_read_nonblocking(fc->ch, fc->out, sizeof fc->out, 0);
    if (n > 0) {
        fc->out_len = (size_t)n;
        l->busy = 1;
        return flush_out(l, fc);
    }
    int ended = ssh_channel_is_eof(fc->ch) || ssh_channel_is_closed(fc->ch);
    if (n == SSH_ERROR && !ended)
        return -1;
    if (n == SSH_EOF || ended) {
        fc->remote_eof = 1;
        l->busy = 1;
        shutdown(fc->fd, SHUT_WR);      /* half-close: the client reads EOF */
    }
    return 0;
}

/* Moves bytes both ways; frees the slot when the connection is over. */
static void pump_conn(fwd_loop *l, fwd_conn *fc)
{
    if (pump_local(l, fc) != 0 || pump_remote(l, fc) != 0) {
        conn_close(l, fc);
        return;
    }
    /* Both ways ended: done.  A node that closed the channel while the
     * client still talks gets nothing more; the client sees EOF already. */
    if (fc->remote_eof && fc->out_len == 0 && (fc->local_eof || ssh_channel_is_closed(fc->ch)))
        conn_close(l, fc);
}

/* ---------------------------------------------------------------- the command */

/* Returns 1 once the command has finished. */
static int pump_command(fwd_loop *l, int *exit_status)
{
    char buf[FWD_CHUNK];
    for (int is_err = 0; is_err < 2; is_err++) {
        int n = ssh_channel_read_nonblocking(l->cmd, buf, sizeof buf, is_err);
        if (n > 0 && l->out != NULL)
            l->out(l->out_data, is_err, buf, (size_t)n);
        if (n == SSH_ERROR)
            return 1;
    }
    if (!ssh_channel_is_eof(l->cmd) && ssh_channel_is_open(l->cmd))
        return 0;
    int status = ssh_channel_get_exit_status(l->cmd);
    *exit_status = status >= 0 ? status : SSH_EXIT_NONE;
    return 1;
}

static void wait_events(fwd_loop *l)
{
    struct pollfd pfd[FWD_MAX_PORTS + SSH_FWD_MAX_CONNS + 1];
    nfds_t n = 0, n_listen = 0;
    if (l->n_open < SSH_FWD_MAX_CONNS)  /* when full, new clients wait in the backlog */
        for (size_t i = 0; i < l->n_ports; i++)
            pfd[n_listen++] = (struct pollfd){.fd = l->listen_fd[i], .events = POLLIN};
    n = n_listen;
    for (size_t i = 0; i < SSH_FWD_MAX_CONNS; i++) {
        const fwd_conn *fc = &l->conns[i];
        short ev = (short)((fc->local_eof ? 0 : POLLIN) | (fc->out_len > 0 ? POLLOUT : 0));
        if (fc->fd >= 0 && ev != 0)
            pfd[n++] = (struct pollfd){.fd = fc->fd, .events = ev};
    }
    pfd[n++] = (struct pollfd){.fd = ssh_get_fd(ssh_conn_session(l->c)), .events = POLLIN};
    /* libssh may already hold data for a channel (read from the socket
     * while another call waited), which poll cannot see: then, and after
     * a busy round, do not wait. */
    for (size_t i = 0; i < SSH_FWD_MAX_CONNS && !l->busy; i++) {
        const fwd_conn *fc = &l->conns[i];
        if (fc->fd >= 0 && fc->out_len == 0 && !fc->remote_eof && ssh_channel_poll(fc->ch, 0) != 0)
            l->busy = 1;
    }
    poll(pfd, n, l->busy ? 0 : FWD_IDLE_MS);
    l->busy = 0;
    for (size_t i = 0; i < n_listen; i++)
        if (pfd[i].revents & POLLIN)
            accept_one(l, i);
}

static int serve(fwd_loop *l, volatile sig_atomic_t *stop, int *exit_status)
{
    while (stop == NULL || !*stop) {
        wait_events(l);
        for (size_t i = 0; i < SSH_FWD_MAX_CONNS; i++)
            if (l->conns[i].fd >= 0)
                pump_conn(l, &l->conns[i]);
        if (l->cmd != NULL && pump_command(l, exit_status))
            return 0;
        if (!ssh_is_connected(ssh_conn_session(l->c))) {
            snprintf(l->err, l->errlen, "connection to %s lost", ssh_conn_host(l->c));
            return -ECONNRESET;
        }
    }
    return 0;
}

int ssh_fwd_run(ssh_conn *c, const ssh_fwd_port *ports, size_t n_ports, const char *command,
                ssh_output_cb out, void *out_data, void (*ready)(void *), void *ready_data,
                volatile sig_atomic_t *stop, int *exit_status, char *err, size_t errlen)
{
    fwd_loop l = {.c = c, .ports = ports, .n_ports = n_ports < FWD_MAX_PORTS ? n_ports
                                                                              : FWD_MAX_PORTS,
                  .out = out, .out_data = out_data, .err = err, .errlen = errlen};
    for (size_t i = 0; i < FWD_MAX_PORTS; i++)
        l.listen_fd[i] = -1;
    *exit_status = SSH_EXIT_NONE;
    l.conns = calloc(SSH_FWD_MAX_CONNS, sizeof *l.conns);
    if (l.conns == NULL) {
        snprintf(err, errlen, "out of memory");
        return -EPROTO;
    }
    for (size_t i = 0; i < SSH_FWD_MAX_CONNS; i++)
        l.conns[i].fd = -1;
    int rc = open_listeners(&l);
    if (rc == 0 && command != NULL)
        rc = start_command(&l, command);
    if (rc == 0 && ready != NULL)
        ready(ready_data);
    if (rc == 0)
        rc = serve(&l, stop, exit_status);
    for (size_t i = 0; i < SSH_FWD_MAX_CONNS; i++)
        if (l.conns[i].fd >= 0)
            conn_close(&l, &l.conns[i]);
    free(l.conns);
    for (size_t i = 0; i < l.n_ports; i++)
        if (l.listen_fd[i] >= 0)
            close(l.listen_fd[i]);
    if (l.cmd != NULL) {
        ssh_channel_close(l.cmd);
        ssh_channel_free(l.cmd);
    }
    return rc;
}

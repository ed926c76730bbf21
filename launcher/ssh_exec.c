/* Running a command over an SSH channel and collecting its output and status. */
#include "launcher/ssh_exec.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"

#define READ_CHUNK 16384
#define POLL_MS 50
#define KEEPALIVE_MS 30000

static int open_channel(ssh_conn *c, const char *command, int pty, ssh_channel *out,
                        char *err, size_t errlen)
{
    ssh_session s = ssh_conn_session(c);
    ssh_channel ch = ssh_channel_new(s);
    if (ch == NULL || ssh_channel_open_session(ch) != SSH_OK) {
        snprintf(err, errlen, "cannot open a session on %s: %s", ssh_conn_host(c),
                 ssh_get_error(s));
        if (ch != NULL)
            ssh_channel_free(ch);
        return ssh_is_connected(s) ? -EPROTO : -ECONNRESET;
    }
    if ((pty && ssh_channel_request_pty_size(ch, "xterm", 160, 48) != SSH_OK) ||
        ssh_channel_request_exec(ch, command) != SSH_OK) {
        snprintf(err, errlen, "cannot run a command on %s: %s", ssh_conn_host(c),
                 ssh_get_error(s));
        ssh_channel_close(ch);
        ssh_channel_free(ch);
        return -EPROTO;
    }
    ssh_channel_send_eof(ch);
    *out = ch;
    return 0;
}

/* Moves what is waiting on one stream to the callback.  Returns the byte
 * count, 0 when nothing was there, or -1 on a channel error. */
static int drain(ssh_channel ch, int is_stderr, int wait_ms, const ssh_run_opts *o)
{
    char buf[READ_CHUNK];
    int n = wait_ms > 0 ? ssh_channel_read_timeout(ch, buf, sizeof buf, is_stderr, wait_ms)
                        : ssh_channel_read_nonblocking(ch, buf, sizeof buf, is_stderr);
    if (n == SSH_ERROR)
        return -1;
    if (n > 0 && o->on_output != NULL)
        o->on_output(o->data, is_stderr, buf, (size_t)n);
    return n > 0 ? n : 0;
}

/* Pumps output until the remote side closes both streams.  Returns 0,
 * -ETIMEDOUT or -ECONNRESET. */
static int pump(ssh_conn *c, ssh_channel ch, const ssh_run_opts *o, char *err, size_t errlen)
{
    int64_t start = time_mono_ms(), last_traffic = start;
    for (;;) {
        int a = drain(ch, 0, POLL_MS, o), b = a < 0 ? 0 : drain(ch, 1, 0, o);
        if (a < 0 || b < 0) {
            snprintf(err, errlen, "connection to %s failed: %s", ssh_conn_host(c),
                     ssh_get_error(ssh_conn_session(c)));
            return -ECONNRESET;
        }
        int64_t now = time_mono_ms();
        if (a > 0 || b > 0)
            last_traffic = now;
        else if (ssh_channel_is_eof(ch) || !ssh_channel_is_open(ch))
            return 0;
        if (o->timeout_s > 0 && now - start > (int64_t)o->timeout_s * 1000) {
            snprintf(err, errlen, "command did not finish within %d s", o->timeout_s);
            return -ETIMEDOUT;
        }
        if (now - last_traffic > KEEPALIVE_MS) {
            ssh_conn_keepalive(c);
            last_traffic = now;
        }
    }
}

int ssh_run(ssh_conn *c, const char *command, const ssh_run_opts *o, int *exit_status,
            char *err, size_t errlen)
{
    static const ssh_run_opts none = {0};
    ssh_channel ch = NULL;
    if (o == NULL)
        o = &none;
    *exit_status = SSH_EXIT_NONE;
    int rc = open_channel(c, command, o->pty, &ch, err, errlen);
    if (rc != 0)
        return rc;
    rc = pump(c, ch, o, err, errlen);
    if (rc == 0) {
        /* Any output still queued behind the EOF. */
        while (drain(ch, 0, 0, o) > 0 || drain(ch, 1, 0, o) > 0) {
        }
        int status = ssh_channel_get_exit_status(ch);
        *exit_status = status >= 0 ? status : SSH_EXIT_NONE;
    }
    ssh_channel_close(ch);
    ssh_channel_free(ch);
    return rc;
}

void ssh_output_stdio(void *data, int is_stderr, const char *buf, size_t len)
{
    (void)data;
    fwrite(buf, 1, len, is_stderr ? stderr : stdout);
    fflush(is_stderr ? stderr : stdout);
}

/* Interactive pty sessions: raw local terminal, window size, two-way copy. */
#include "launcher/ssh_shell.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "launcher/ssh_exec.h"

#define SHELL_CHUNK 16384

static volatile sig_atomic_t winch_seen;

static void on_winch(int sig)
{
    (void)sig;
    winch_seen = 1;
}

static void term_size(int *cols, int *rows)
{
    struct winsize ws;
    *cols = 80;
    *rows = 24;
    if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) {
        *cols = ws.ws_col;
        *rows = ws.ws_row;
    }
}

static int open_shell(ssh_conn *c, const char *command, ssh_channel *out, char *err,
                      size_t errlen)
{
    int cols, rows;
    const char *term = getenv("TERM");
    ssh_session s = ssh_conn_session(c);
    ssh_channel ch = ssh_channel_new(s);
    term_size(&cols, &rows);
    if (ch == NULL || ssh_channel_open_session(ch) != SSH_OK ||
        ssh_channel_request_pty_size(ch, term != NULL ? term : "xterm", cols, rows) != SSH_OK ||
        (command != NULL ? ssh_channel_request_exec(ch, command)
                         : ssh_channel_request_shell(ch)) != SSH_OK) {
        snprintf(err, errlen, "cannot start a shell on %s: %s", ssh_conn_host(c),
                 ssh_get_error(s));
        if (ch != NULL)
            ssh_channel_free(ch);
        return -EPROTO;
    }
    *out = ch;
    return 0;
}

/* Copies what the node sent to stdout.  Returns -1 on a channel error. */
static int from_node(ssh_channel ch)
{
    char buf[SHELL_CHUNK];
    for (int is_err = 0; is_err < 2; is_err++) {
        int n = ssh_channel_read_nonblocking(ch, buf, sizeof buf, is_err);
        if (n == SSH_ERROR)
            return -1;
        for (int off = 0; off < n;) {
            ssize_t w = write(is_err ? STDERR_FILENO : STDOUT_FILENO, buf + off,
                              (size_t)(n - off));
            if (w <= 0 && errno != EINTR)
                return 0;               /* our stdout is gone; keep the session */
            off += w > 0 ? (int)w : 0;
        }
    }
    return 0;
}

/* Copies keystrokes to the node.  Sets *STDIN_OPEN to 0 at end of input. */
static int to_node(ssh_channel ch, int *stdin_open)
{
    char buf[SHELL_CHUNK];
    ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
    if (n > 0)
        return ssh_channel_write(ch, buf, (uint32_t)n) == n ? 0 : -1;
    if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        *stdin_open = 0;
        ssh_channel_send_eof(ch);
    }
    return 0;
}

static int pump(ssh_conn *c, ssh_channel ch, char *err, size_t errlen)
{
    int stdin_open = 1;
    while (ssh_channel_is_open(ch) && !ssh_channel_is_eof(ch)) {
        struct pollfd pfd[2] = {{.fd = ssh_get_fd(ssh_conn_session(c)), .events = POLLIN},
                                {.fd = STDIN_FILENO, .events = POLLIN}};
        poll(pfd, stdin_open ? 2 : 1, 50);
        if (winch_seen) {
            int cols, rows;
            winch_seen = 0;
            term_size(&cols, &rows);
            ssh_channel_change_pty_size(ch, cols, rows);
        }
        if ((stdin_open && (pfd[1].revents & (POLLIN | POLLHUP)) && to_node(ch, &stdin_open)) ||
            from_node(ch) != 0) {
            snprintf(err, errlen, "connection to %s failed: %s", ssh_conn_host(c),
                     ssh_get_error(ssh_conn_session(c)));
            return -ECONNRESET;
        }
    }
    from_node(ch);
    return 0;
}

int ssh_shell_run(ssh_conn *c, const char *command, int *exit_status, char *err,
                  size_t errlen)
{
    struct termios saved, raw;
    int is_tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
    ssh_channel ch = NULL;
    *exit_status = SSH_EXIT_NONE;
    int rc = open_shell(c, command, &ch, err, errlen);
    if (rc != 0)
        return rc;
    struct sigaction sa = {.sa_handler = on_winch}, old_sa;
    sigaction(SIGWINCH, &sa, &old_sa);
    if (is_tty) {
        raw = saved;
        cfmakeraw(&raw);
        tcsetattr(STDIN_FILENO, TCSADRAIN, &raw);
    }
    rc = pump(c, ch, err, errlen);
    if (is_tty)
        tcsetattr(STDIN_FILENO, TCSADRAIN, &saved);
    sigaction(SIGWINCH, &old_sa, NULL);
    if (rc == 0) {
        int status = ssh_channel_get_exit_status(ch);
        *exit_status = status >= 0 ? status : SSH_EXIT_NONE;
    }
    ssh_channel_close(ch);
    ssh_channel_free(ch);
    return rc;
}

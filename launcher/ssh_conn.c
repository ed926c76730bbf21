/* SSH connections: connect, verify, authenticate, retry, SFTP and home dir. */
#include "launcher/ssh_conn.h"

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "common/util.h"

struct ssh_conn {
    ssh_session session;
    sftp_session sftp;
    char host[256];
    char home[PATH_MAX];
};

int ssh_conn_global_init(void)
{
    return ssh_init() == SSH_OK ? 0 : -EIO;
}

ssh_session ssh_conn_session(ssh_conn *c)
{
    return c->session;
}

const char *ssh_conn_host(const ssh_conn *c)
{
    return c->host;
}

/* ---------------------------------------------------------------- connect */

static int set_options(ssh_session s, const ssh_target *t)
{
    long timeout = t->connect_timeout_s > 0 ? t->connect_timeout_s : 10;
    unsigned int port = t->port > 0 ? (unsigned int)t->port : 22;
    /* No Nagle: a small message (a channel open, a forwarded request)
     * sent right after another would otherwise wait for the peer's delayed
     * ACK, ~20-40 ms per forwarded connection. */
    int nodelay = 1;
    int rc = ssh_options_set(s, SSH_OPTIONS_HOST, t->host);
    rc |= ssh_options_set(s, SSH_OPTIONS_PORT, &port);
    rc |= ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &timeout);
    rc |= ssh_options_set(s, SSH_OPTIONS_NODELAY, &nodelay);
    rc |= ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS, t->known_hosts);
    rc |= ssh_options_set(s, SSH_OPTIONS_GLOBAL_KNOWNHOSTS,
                          t->known_hosts_also != NULL ? t->known_hosts_also : "/dev/null");
    if (t->user != NULL)
        rc |= ssh_options_set(s, SSH_OPTIONS_USER, t->user);
    if (t->proxy_command != NULL)
        rc |= ssh_options_set(s, SSH_OPTIONS_PROXYCOMMAND, t->proxy_command);
    return rc == SSH_OK ? 0 : -EINVAL;
}

/* TCP keepalives catch a peer that vanished while a long command runs.  A
 * proxy command gives a pipe, where this quietly does nothing. */
static void set_tcp_keepalive(ssh_session s)
{
    int fd = ssh_get_fd(s), on = 1, idle = 30, intvl = 10, cnt = 6;
    if (fd < 0)
        return;
    if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on) != 0)
        return;
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
}

static int authenticate(ssh_session s, const ssh_target *t, char *err, size_t errlen)
{
    int rc;
    const char *user = t->user != NULL ? t->user : "(local user)";
    if (t->key_path != NULL) {
        ssh_key key = NULL;
        if (ssh_pki_import_privkey_file(t->key_path, NULL, NULL, NULL, &key) != SSH_OK) {
            snprintf(err, errlen,
                     "cannot use the private key %s (missing, unreadable or protected by a "
                     "passphrase; load it into ssh-agent and leave ssh_private_key unset)",
                     t->key_path);
            return -EACCES;
        }
        rc = ssh_userauth_publickey(s, NULL, key);
        ssh_key_free(key);
    } else {
        rc = ssh_userauth_publickey_auto(s, NULL, NULL);
    }
    if (rc == SSH_AUTH_SUCCESS)
        return 0;
    if (rc == SSH_AUTH_ERROR) {
        snprintf(err, errlen, "authentication to %s failed: %s", t->host, ssh_get_error(s));
        return -EHOSTUNREACH;
    }
    snprintf(err, errlen, "Permission denied (publickey) for %s@%s%s%s", user, t->host,
             t->key_path != NULL ? " with key " : " (agent and default keys)",
             t->key_path != NULL ? t->key_path : "");
    return -EACCES;
}

int ssh_conn_open(const ssh_target *t, ssh_conn **out, char *err, size_t errlen)
{
    *out = NULL;
    ssh_conn *c = calloc(1, sizeof *c);
    if (c == NULL || (c->session = ssh_new()) == NULL) {
        free(c);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    snprintf(c->host, sizeof c->host, "%s", t->host);
    int rc = set_options(c->session, t);
    if (rc != 0) {
        snprintf(err, errlen, "bad ssh options for %s: %s", t->host, ssh_get_error(c->session));
        ssh_conn_close(c);
        return -EPROTO;
    }
    if (ssh_connect(c->session) != SSH_OK) {
        snprintf(err, errlen, "%s", ssh_get_error(c->session));
        ssh_free(c->session);
        free(c);
        return -EHOSTUNREACH;
    }
    set_tcp_keepalive(c->session);
    if ((rc = ssh_hostkey_verify(c->session, t, err, errlen)) != 0 ||
        (rc = authenticate(c->session, t, err, errlen)) != 0) {
        ssh_conn_close(c);
        return rc;
    }
    *out = c;
    return 0;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

int ssh_conn_wait(const ssh_target *t, int64_t deadline_ms, ssh_retry_cb cb, void *cb_data,
                  ssh_conn **out, char *err, size_t errlen)
{
    ssh_target attempt = *t;
    char last[512] = "";
    for (int tries = 0;; tries++) {
        int64_t left = deadline_ms - time_mono_ms();
        if (tries > 0 && left <= 0) {
            snprintf(err, errlen, "%s", last);
            return -ETIMEDOUT;
        }
        if (tries > 0 && cb != NULL)
            cb(cb_data, last);
        long want = t->connect_timeout_s > 0 ? t->connect_timeout_s : 10;
        attempt.connect_timeout_s = (int)(left / 1000 < want ? (left / 1000 > 1 ? left / 1000 : 1)
                                                             : want);
        int rc = ssh_conn_open(&attempt, out, last, sizeof last);
        if (rc != -EHOSTUNREACH) {
            if (rc != 0)
                snprintf(err, errlen, "%s", last);
            return rc;
        }
        left = deadline_ms - time_mono_ms();
        if (left > 0)
            sleep_ms(left < 2000 ? left : 2000);
    }
}

/* ---------------------------------------------------------------- sftp and home */

int ssh_conn_sftp(ssh_conn *c, sftp_session *out, char *err, size_t errlen)
{
    if (c->sftp == NULL) {
        sftp_session sf = sftp_new(c->session);
        if (sf == NULL || sftp_init(sf) != SSH_OK) {
            snprintf(err, errlen, "cannot start SFTP on %s: %s", c->host,
                     ssh_get_error(c->session));
            if (sf != NULL)
                sftp_free(sf);
            return -EPROTO;
        }
        c->sftp = sf;
    }
    *out = c->sftp;
    return 0;
}

int ssh_conn_home(ssh_conn *c, const char **home, char *err, size_t errlen)
{
    sftp_session sf;
    int rc;
    if (c->home[0] == '\0') {
        if ((rc = ssh_conn_sftp(c, &sf, err, errlen)) != 0)
            return rc;
        char *path = sftp_canonicalize_path(sf, ".");
        if (path == NULL || strlen(path) >= sizeof c->home) {
            snprintf(err, errlen, "cannot find the home directory on %s", c->host);
            ssh_string_free_char(path);
            return -EPROTO;
        }
        snprintf(c->home, sizeof c->home, "%s", path);
        ssh_string_free_char(path);
    }
    *home = c->home;
    return 0;
}

int ssh_conn_expand(ssh_conn *c, const char *path, char *out, size_t outlen, char *err,
                    size_t errlen)
{
    const char *home;
    if (path[0] == '/')
        return str_copy(out, outlen, path);
    int rc = ssh_conn_home(c, &home, err, errlen);
    if (rc != 0)
        return rc;
    if (strcmp(path, "~") == 0)
        rc = str_copy(out, outlen, home);
    else
        rc = fs_path_join(out, outlen, home, strncmp(path, "~/", 2) == 0 ? path + 2 : path);
    if (rc != 0) {
        snprintf(err, errlen, "remote path too long: %s", path);
        return -ENAMETOOLONG;
    }
    return 0;
}

int ssh_conn_keepalive(ssh_conn *c)
{
    return ssh_send_ignore(c->session, "keepalive") == SSH_OK ? 0 : -ECONNRESET;
}

void ssh_conn_close(ssh_conn *c)
{
    if (c == NULL)
        return;
    if (c->sftp != NULL)
        sftp_free(c->sftp);
    if (c->session != NULL) {
        if (ssh_is_connected(c->session))
            ssh_disconnect(c->session);
        ssh_free(c->session);
    }
    free(c);
}

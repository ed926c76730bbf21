/* SSH connections to cluster nodes over libssh: connect with a timeout,
 * retry until a deadline while a host boots, check the host key against
 * known_hosts (trust on first use; a changed key is refused), authenticate
 * with a key file, the agent or the default keys.
 *
 * One ssh_conn belongs to one thread at a time (libssh sessions are not
 * shared between threads); different threads may use different connections
 * at once.  ssh_conn_global_init() must run once before any thread starts. */
#ifndef RAYC_LAUNCHER_SSH_CONN_H
#define RAYC_LAUNCHER_SSH_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <libssh/libssh.h>
#include <libssh/sftp.h>

typedef struct ssh_target {
    const char *host;               /* name or address */
    int port;                       /* 0: 22 */
    const char *user;               /* NULL: the local user */
    const char *key_path;           /* NULL: agent, then ~/.ssh/id_* */
    const char *proxy_command;      /* NULL: connect directly */
    const char *known_hosts;        /* where new host keys are recorded */
    const char *known_hosts_also;   /* also trusted, never written; NULL: none */
    int connect_timeout_s;          /* 0: 10 */
} ssh_target;

typedef struct ssh_conn ssh_conn;

/* Prepares libssh for use from several threads.  Returns 0 or -EIO. */
int ssh_conn_global_init(void);

/* Connects to T once, verifies the host key and authenticates.  On success
 * stores the connection in *OUT and returns 0.  Errors (with one line in ERR):
 * -EHOSTUNREACH (could not connect: refused, timed out, no route; worth
 * retrying), -EKEYREJECTED (the host key changed: ERR says which file and
 * line to delete), -EACCES (authentication refused, or the key file cannot
 * be read), -ENOMEM, -EPROTO (anything else). */
int ssh_conn_open(const ssh_target *t, ssh_conn **out, char *err, size_t errlen);

/* Called before each new attempt of ssh_conn_wait with the last failure. */
typedef void (*ssh_retry_cb)(void *data, const char *why);

/* Like ssh_conn_open, but retries connection failures (-EHOSTUNREACH) every
 * two seconds until DEADLINE_MS (time_mono_ms clock).  Host key and
 * authentication failures are returned at once.  When the deadline passes,
 * returns -ETIMEDOUT with the last failure in ERR. */
int ssh_conn_wait(const ssh_target *t, int64_t deadline_ms, ssh_retry_cb cb, void *cb_data,
                  ssh_conn **out, char *err, size_t errlen);

/* The libssh session of C (owned by C). */
ssh_session ssh_conn_session(ssh_conn *c);

/* The host C is connected to ("user@host" is not included). */
const char *ssh_conn_host(const ssh_conn *c);

/* The SFTP session of C, opened on first use and owned by C.  Returns 0, or
 * -EPROTO with the reason in ERR (e.g. no sftp subsystem on the server). */
int ssh_conn_sftp(ssh_conn *c, sftp_session *out, char *err, size_t errlen);

/* The remote user's home directory, asked once over SFTP and cached.
 * Returns 0 or a negative errno with ERR set. */
int ssh_conn_home(ssh_conn *c, const char **home, char *err, size_t errlen);

/* Expands a leading "~" or "~/" in the remote PATH to the home directory
 * and a relative path to one under it, into OUT.  Returns 0, -ENAMETOOLONG
 * or the error of ssh_conn_home. */
int ssh_conn_expand(ssh_conn *c, const char *path, char *out, size_t outlen, char *err,
                    size_t errlen);

/* Sends an SSH_MSG_IGNORE so idle connections are not dropped by NAT boxes.
 * Returns 0 or -ECONNRESET. */
int ssh_conn_keepalive(ssh_conn *c);

/* Disconnects and frees C (NULL is fine). */
void ssh_conn_close(ssh_conn *c);

/* Verifies the server key of the connected session S for host T (used by
 * ssh_conn_open): a known key passes, an unknown one is recorded in
 * T->known_hosts, a different one is refused with -EKEYREJECTED and a message
 * naming the file and line to delete.  Returns 0 or a negative errno. */
int ssh_hostkey_verify(ssh_session s, const ssh_target *t, char *err, size_t errlen);

/* Finds the line of FILE that holds a key for HOST (port PORT), hashed
 * entries included.  Returns the 1-based line number, or 0 when none. */
int ssh_hostkey_find_line(const char *file, const char *host, int port);

#endif

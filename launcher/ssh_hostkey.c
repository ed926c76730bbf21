/* Host key checks against known_hosts: trust on first use, refuse a change.
 *
 * New keys are appended by us (not by libssh) under an exclusive flock on
 * the file, so parallel updaters and parallel `ray` processes never
 * interleave lines; flock also serialises threads of this process because
 * each open() is its own lock owner. */
#include "launcher/ssh_conn.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "common/util.h"

#define KNOWN_HOSTS_MAX_LINE 16384

/* ---------------------------------------------------------------- finding a line */

/* Decodes base64 IN (NUL-terminated, at most 64 chars) into OUT; returns the
 * byte count or -1. */
static int b64_decode(const char *in, unsigned char *out, size_t outlen)
{
    size_t len = strlen(in);
    if (len == 0 || len > 64 || len % 4 != 0 || outlen < 48)
        return -1;
    int n = EVP_DecodeBlock(out, (const unsigned char *)in, (int)len);
    if (n < 0)
        return -1;
    while (len > 0 && in[len - 1] == '=') {
        len--;
        n--;
    }
    return n;
}

/* True when the hashed entry "|1|SALT|HASH" is NAME. */
static int hashed_match(const char *entry, const char *name)
{
    char salt64[80], hash64[80];
    unsigned char salt[64], hash[64], mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    const char *bar = strchr(entry + 3, '|');
    if (bar == NULL || (size_t)(bar - entry - 3) >= sizeof salt64 ||
        strlen(bar + 1) >= sizeof hash64)
        return 0;
    memcpy(salt64, entry + 3, (size_t)(bar - entry - 3));
    salt64[bar - entry - 3] = '\0';
    snprintf(hash64, sizeof hash64, "%s", bar + 1);
    int ns = b64_decode(salt64, salt, sizeof salt), nh = b64_decode(hash64, hash, sizeof hash);
    if (ns <= 0 || nh <= 0)
        return 0;
    if (HMAC(EVP_sha1(), salt, ns, (const unsigned char *)name, strlen(name), mac, &maclen) ==
        NULL)
        return 0;
    return (int)maclen == nh && memcmp(mac, hash, maclen) == 0;
}

/* True when the comma-separated host list HOSTS names NAME. */
static int hosts_match(char *hosts, const char *name)
{
    for (char *h = hosts; h != NULL;) {
        char *comma = strchr(h, ',');
        if (comma != NULL)
            *comma = '\0';
        if (strncmp(h, "|1|", 3) == 0 ? hashed_match(h, name) : strcmp(h, name) == 0)
            return 1;
        h = comma != NULL ? comma + 1 : NULL;
    }
    return 0;
}

int ssh_hostkey_find_line(const char *file, const char *host, int port)
{
    char name[300], line[KNOWN_HOSTS_MAX_LINE];
    if (port > 0 && port != 22)
        snprintf(name, sizeof name, "[%s]:%d", host, port);
    else
        snprintf(name, sizeof name, "%s", host);
    FILE *f = fopen(file, "r");
    if (f == NULL)
        return 0;
    int found = 0;
    for (int no = 1; fgets(line, sizeof line, f) != NULL; no++) {
        char *p = line + strspn(line, " \t");
        if (*p == '#' || *p == '\n' || *p == '@')
            continue;
        char *end = p + strcspn(p, " \t\n");
        *end = '\0';
        if (hosts_match(p, name)) {
            found = no;
            break;
        }
    }
    fclose(f);
    return found;
}

/* ---------------------------------------------------------------- refusing */

static void offered_key(ssh_session s, char *out, size_t outlen)
{
    ssh_key key = NULL;
    unsigned char *hash = NULL;
    size_t hlen = 0;
    snprintf(out, outlen, "unknown key");
    if (ssh_get_server_publickey(s, &key) != SSH_OK)
        return;
    if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) == 0) {
        char *fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
        snprintf(out, outlen, "%s %s", ssh_key_type_to_char(ssh_key_type(key)),
                 fp != NULL ? fp : "?");
        ssh_string_free_char(fp);
        ssh_clean_pubkey_hash(&hash);
    }
    ssh_key_free(key);
}

static int refuse_changed(ssh_session s, const ssh_target *t, char *err, size_t errlen)
{
    char offered[200];
    const char *file = t->known_hosts;
    int line = ssh_hostkey_find_line(file, t->host, t->port);
    if (line == 0 && t->known_hosts_also != NULL &&
        (line = ssh_hostkey_find_line(t->known_hosts_also, t->host, t->port)) != 0)
        file = t->known_hosts_also;
    offered_key(s, offered, sizeof offered);
    if (line > 0)
        snprintf(err, errlen,
                 "host key for %s has CHANGED (it now offers %s), refusing to connect: "
                 "someone may be intercepting the connection, or the host was reinstalled. "
                 "If you trust the new key, delete line %d of %s (sed -i '%dd' %s) and retry",
                 t->host, offered, line, file, line, file);
    else
        snprintf(err, errlen,
                 "host key for %s has CHANGED (it now offers %s), refusing to connect. If you "
                 "trust the new key, remove the old one: ssh-keygen -R %s -f %s",
                 t->host, offered, t->host, file);
    return -EKEYREJECTED;
}

/* ---------------------------------------------------------------- recording */

static int parent_dir(const char *file)
{
    char dir[PATH_MAX];
    if (str_copy(dir, sizeof dir, file) != 0)
        return -ENAMETOOLONG;
    char *slash = strrchr(dir, '/');
    if (slash == NULL || slash == dir)
        return 0;
    *slash = '\0';
    return fs_mkdir_p(dir, 0700);
}

static int append_entry(int fd, const char *entry)
{
    size_t len = strlen(entry);
    int need_nl = len == 0 || entry[len - 1] != '\n';
    if (write(fd, entry, len) != (ssize_t)len || (need_nl && write(fd, "\n", 1) != 1))
        return -errno;
    return 0;
}

static int record_new(ssh_session s, const ssh_target *t, char *err, size_t errlen)
{
    char *entry = NULL;
    int rc = parent_dir(t->known_hosts);
    int fd = rc == 0 ? open(t->known_hosts, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)
                     : -1;
    if (fd < 0) {
        snprintf(err, errlen, "cannot record the host key of %s in %s: %s", t->host,
                 t->known_hosts, strerror(rc != 0 ? -rc : errno));
        return -EPROTO;
    }
    flock(fd, LOCK_EX);
    /* Another updater may have recorded this host while we waited. */
    enum ssh_known_hosts_e again = ssh_session_is_known_server(s);
    if (again == SSH_KNOWN_HOSTS_OK) {
        rc = 0;
    } else if (again == SSH_KNOWN_HOSTS_CHANGED || again == SSH_KNOWN_HOSTS_OTHER) {
        rc = refuse_changed(s, t, err, errlen);
    } else if (ssh_session_export_known_hosts_entry(s, &entry) != SSH_OK) {
        snprintf(err, errlen, "cannot read the host key of %s: %s", t->host, ssh_get_error(s));
        rc = -EPROTO;
    } else if ((rc = append_entry(fd, entry)) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", t->known_hosts, strerror(-rc));
        rc = -EPROTO;
    }
    ssh_string_free_char(entry);
    flock(fd, LOCK_UN);
    close(fd);
    return rc;
}

int ssh_hostkey_verify(ssh_session s, const ssh_target *t, char *err, size_t errlen)
{
    switch (ssh_session_is_known_server(s)) {
    case SSH_KNOWN_HOSTS_OK:
        return 0;
    case SSH_KNOWN_HOSTS_CHANGED:
    case SSH_KNOWN_HOSTS_OTHER:
        return refuse_changed(s, t, err, errlen);
    case SSH_KNOWN_HOSTS_NOT_FOUND:
    case SSH_KNOWN_HOSTS_UNKNOWN:
        return record_new(s, t, err, errlen);
    default:
        snprintf(err, errlen, "cannot check the host key of %s against %s: %s", t->host,
                 t->known_hosts, ssh_get_error(s));
        return -EPROTO;
    }
}

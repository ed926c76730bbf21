/* Launcher state in SQLite, and the per-cluster `ray up` lock. */
#include "launcher/lstate.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "common/token.h"
#include "common/util.h"

struct lstate {
    sqlite3 *db;
};

static const char schema_sql[] =
    "PRAGMA journal_mode=WAL;"
    "CREATE TABLE IF NOT EXISTS clusters("
    "  name TEXT PRIMARY KEY, config TEXT, head_ip TEXT, token TEXT NOT NULL,"
    "  created_ms INTEGER, updated_ms INTEGER);"
    "CREATE TABLE IF NOT EXISTS nodes("
    "  cluster TEXT NOT NULL, ip TEXT NOT NULL, kind TEXT NOT NULL, status TEXT NOT NULL,"
    "  runtime_hash TEXT NOT NULL DEFAULT '', files_hash TEXT NOT NULL DEFAULT '',"
    "  message TEXT NOT NULL DEFAULT '', updated_ms INTEGER,"
    "  started INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY(cluster, ip));";

/* A state file from before `started` existed gets the column; its nodes
 * that were up-to-date had their start commands run by this cluster. */
static const char migrate_sql[] =
    "ALTER TABLE nodes ADD COLUMN started INTEGER NOT NULL DEFAULT 0;"
    "UPDATE nodes SET started = 1 WHERE status = 'up-to-date';";

int lstate_dir(char *out, size_t outlen)
{
    const char *home = getenv("HOME");
    if (home == NULL || home[0] == '\0') {
        struct passwd *pw = getpwuid(getuid());
        home = pw != NULL ? pw->pw_dir : "/tmp";
    }
    int n = snprintf(out, outlen, "%s/.ray", home);
    return n > 0 && (size_t)n < outlen ? 0 : -ENAMETOOLONG;
}

/* Adds the `started` column when the table lacks it. */
static int migrate(lstate *s)
{
    sqlite3_stmt *st = NULL;
    int has = 0;
    if (sqlite3_prepare_v2(s->db, "SELECT started FROM nodes LIMIT 0", -1, &st, NULL) ==
        SQLITE_OK)
        has = 1;
    sqlite3_finalize(st);
    if (has)
        return 0;
    return sqlite3_exec(s->db, migrate_sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -EIO;
}

int lstate_open(const char *path, lstate **out, char *err, size_t errlen)
{
    char dir[PATH_MAX], def[PATH_MAX + 16];
    *out = NULL;
    if (path == NULL) {
        if (lstate_dir(dir, sizeof dir) != 0 || fs_mkdir_p(dir, 0700) != 0) {
            snprintf(err, errlen, "cannot create the directory %s", dir);
            return -EIO;
        }
        snprintf(def, sizeof def, "%s/launcher.db", dir);
        path = def;
    }
    lstate *s = calloc(1, sizeof *s);
    if (s == NULL)
        return -ENOMEM;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
    int prc = strcmp(path, ":memory:") != 0 ? fs_private_file(path) : 0;
    if (prc != 0) {
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(-prc));
        free(s);
        return -EIO;
    }
    if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK ||
        sqlite3_busy_timeout(s->db, 10000) != SQLITE_OK ||
        sqlite3_exec(s->db, schema_sql, NULL, NULL, NULL) != SQLITE_OK ||
        migrate(s) != 0) {
        snprintf(err, errlen, "cannot open the launcher state %s: %s", path,
                 s->db != NULL ? sqlite3_errmsg(s->db) : "out of memory");
        lstate_close(s);
        return -EIO;
    }
    *out = s;
    return 0;
}

void lstate_close(lstate *s)
{
    if (s == NULL)
        return;
    sqlite3_close(s->db);
    free(s);
}

/* ---------------------------------------------------------------- statements */

/* Prepares SQL and binds the N text arguments in ARGS (NULL binds null). */
static sqlite3_stmt *prepare(lstate *s, const char *sql, const char *const *args, int n)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return NULL;
    for (int i = 0; i < n; i++)
        sqlite3_bind_text(st, i + 1, args[i], -1, SQLITE_TRANSIENT);
    return st;
}

static int exec_args(lstate *s, const char *sql, const char *const *args, int n)
{
    sqlite3_stmt *st = prepare(s, sql, args, n);
    if (st == NULL)
        return -EIO;
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -EIO;
}

static void column_copy(sqlite3_stmt *st, int col, char *out, size_t outlen)
{
    const unsigned char *v = sqlite3_column_text(st, col);
    snprintf(out, outlen, "%s", v != NULL ? (const char *)v : "");
}

static void now_text(char *out, size_t outlen)
{
    snprintf(out, outlen, "%lld", (long long)time_now_ms());
}

/* ---------------------------------------------------------------- clusters */

int lstate_cluster_token(lstate *s, const char *name, char *token, size_t tokenlen)
{
    const char *args[] = {name};
    sqlite3_stmt *st = prepare(s, "SELECT token FROM clusters WHERE name = ?", args, 1);
    if (st == NULL)
        return -EIO;
    int rc = sqlite3_step(st) == SQLITE_ROW ? 0 : -ENOENT;
    if (rc == 0)
        column_copy(st, 0, token, tokenlen);
    sqlite3_finalize(st);
    return rc;
}

int lstate_cluster_ensure(lstate *s, const char *name, const char *config, const char *head_ip,
                          char *token, size_t tokenlen, int *created, char *err,
                          size_t errlen)
{
    char fresh[TOKEN_MAX + 1], now[32];
    now_text(now, sizeof now);
    if (created != NULL)
        *created = 0;
    if (lstate_cluster_token(s, name, token, tokenlen) != 0) {
        if (token_generate(fresh, sizeof fresh) != 0) {
            snprintf(err, errlen, "cannot make a cluster token: no randomness");
            return -EIO;
        }
        const char *args[] = {name, config, head_ip, fresh, now, now};
        if (exec_args(s, "INSERT OR IGNORE INTO clusters VALUES (?, ?, ?, ?, ?, ?)", args, 6))
            goto fail;
        if (created != NULL)
            *created = 1;
        if (lstate_cluster_token(s, name, token, tokenlen) != 0)
            goto fail;
    }
    const char *args[] = {config, head_ip, now, name};
    if (exec_args(s, "UPDATE clusters SET config = ?, head_ip = ?, updated_ms = ? "
                     "WHERE name = ?", args, 4) == 0)
        return 0;
fail:
    snprintf(err, errlen, "cannot record cluster %s: %s", name, sqlite3_errmsg(s->db));
    return -EIO;
}

/* ---------------------------------------------------------------- nodes */

#define NODE_COLUMNS "ip, kind, status, runtime_hash, files_hash, message, updated_ms, started"

static void read_node(sqlite3_stmt *st, lstate_node *n)
{
    memset(n, 0, sizeof *n);
    column_copy(st, 0, n->ip, sizeof n->ip);
    column_copy(st, 1, n->kind, sizeof n->kind);
    column_copy(st, 2, n->status, sizeof n->status);
    column_copy(st, 3, n->runtime_hash, sizeof n->runtime_hash);
    column_copy(st, 4, n->files_hash, sizeof n->files_hash);
    column_copy(st, 5, n->message, sizeof n->message);
    n->updated_ms = sqlite3_column_int64(st, 6);
    n->started = sqlite3_column_int(st, 7) != 0;
}

int lstate_node_get(lstate *s, const char *cluster, const char *ip, lstate_node *out)
{
    const char *args[] = {cluster, ip};
    sqlite3_stmt *st = prepare(s, "SELECT " NODE_COLUMNS " FROM nodes "
                                  "WHERE cluster = ? AND ip = ?", args, 2);
    if (st == NULL)
        return -EIO;
    int rc = sqlite3_step(st) == SQLITE_ROW ? 0 : -ENOENT;
    if (rc == 0)
        read_node(st, out);
    sqlite3_finalize(st);
    return rc;
}

int lstate_node_status(lstate *s, const char *cluster, const char *ip, const char *kind,
                       const char *status, const char *message)
{
    char now[32];
    now_text(now, sizeof now);
    const char *msg = message != NULL ? message : "";
    const char *args[] = {cluster, ip, kind, status, msg, now};
    return exec_args(s,
                     "INSERT INTO nodes (cluster, ip, kind, status, message, updated_ms) "
                     "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(cluster, ip) DO UPDATE SET "
                     "kind = excluded.kind, status = excluded.status, "
                     "message = excluded.message, updated_ms = excluded.updated_ms, "
                     "started = CASE WHEN excluded.status = '" LSTATE_TERMINATED "' THEN 0 "
                     "ELSE nodes.started END",
                     args, 6);
}

int lstate_node_started(lstate *s, const char *cluster, const char *ip)
{
    const char *args[] = {cluster, ip};
    return exec_args(s, "UPDATE nodes SET started = 1 WHERE cluster = ? AND ip = ?", args, 2);
}

int lstate_node_done(lstate *s, const char *cluster, const char *ip, const char *runtime_hash,
                     const char *files_hash)
{
    char now[32];
    now_text(now, sizeof now);
    const char *args[] = {LSTATE_UP_TO_DATE, runtime_hash, files_hash, now, cluster, ip};
    return exec_args(s, "UPDATE nodes SET status = ?, runtime_hash = ?, files_hash = ?, "
                        "message = '', updated_ms = ? WHERE cluster = ? AND ip = ?",
                     args, 6);
}

int lstate_forget_hashes(lstate *s, const char *cluster)
{
    const char *args[] = {cluster};
    return exec_args(s, "UPDATE nodes SET runtime_hash = '', files_hash = '' "
                        "WHERE cluster = ?", args, 1);
}

int lstate_nodes(lstate *s, const char *cluster, lstate_node **out, size_t *n)
{
    const char *args[] = {cluster};
    sqlite3_stmt *st = prepare(s, "SELECT " NODE_COLUMNS " FROM nodes WHERE cluster = ? "
                                  "ORDER BY kind = 'worker', ip", args, 1);
    *out = NULL;
    *n = 0;
    if (st == NULL)
        return -EIO;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        lstate_node *bigger = realloc(*out, (*n + 1) * sizeof **out);
        if (bigger == NULL) {
            rc = SQLITE_NOMEM;
            break;
        }
        *out = bigger;
        read_node(st, &(*out)[(*n)++]);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        free(*out);
        *out = NULL;
        *n = 0;
        return rc == SQLITE_NOMEM ? -ENOMEM : -EIO;
    }
    return 0;
}

/* ---------------------------------------------------------------- lock */

static void describe_holder(int fd, char *err, size_t errlen, const char *name)
{
    char text[128] = "";
    ssize_t n = pread(fd, text, sizeof text - 1, 0);
    text[n > 0 ? n : 0] = '\0';
    text[strcspn(text, "\n")] = '\0';
    snprintf(err, errlen, "another `ray up` of cluster %s is running (%s)", name,
             text[0] != '\0' ? text : "pid unknown");
}

int lstate_lock(const char *name, char *err, size_t errlen)
{
    char home[PATH_MAX], dir[PATH_MAX + 16], path[PATH_MAX + 300], text[128], when[64];
    if (lstate_dir(home, sizeof home) != 0)
        return -ENAMETOOLONG;
    snprintf(dir, sizeof dir, "%s/launcher", home);
    if (fs_path_join_ext(path, sizeof path, dir, name, ".lock") != 0) {
        snprintf(err, errlen, "the cluster name is too long for a lock file: %.64s...", name);
        return -ENAMETOOLONG;
    }
    int fd = fs_mkdir_p(dir, 0700) == 0 ? open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600) : -1;
    if (fd < 0) {
        snprintf(err, errlen, "cannot open the lock %s: %s", path, strerror(errno));
        return -EIO;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        describe_holder(fd, err, errlen, name);
        close(fd);
        return -EBUSY;
    }
    time_t now = time(NULL);
    struct tm tm;
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", localtime_r(&now, &tm));
    int n = snprintf(text, sizeof text, "pid %d since %s\n", (int)getpid(), when);
    if (ftruncate(fd, 0) != 0 || pwrite(fd, text, (size_t)n, 0) != n) {
        /* The lock holds without the note; the message will say less. */
    }
    return fd;
}

/* Shell quoting and Ray's login-shell wrapper for remote commands. */
#include "launcher/lshell.h"

#include <stdlib.h>
#include <string.h>

#define LSHELL_MAX (4u * 1024 * 1024)

int lshell_quote(dbuf *b, const char *s)
{
    int rc = dbuf_puts(b, "'");
    for (const char *p = s; rc == 0 && *p != '\0'; p++)
        rc = *p == '\'' ? dbuf_puts(b, "'\\''") : dbuf_add(b, p, 1);
    return rc == 0 ? dbuf_puts(b, "'") : rc;
}

/* A value starting with "~/" keeps meaning the remote home: "$HOME" stays
 * outside the quotes so the remote shell expands it. */
static void add_exports(dbuf *b, const lshell_env *env, size_t n_env)
{
    for (size_t i = 0; i < n_env; i++) {
        const char *v = env[i].value;
        dbuf_printf(b, "export %s=", env[i].name);
        if (strncmp(v, "~/", 2) == 0) {
            dbuf_puts(b, "\"$HOME\"");
            v++;
        }
        lshell_quote(b, v);
        dbuf_puts(b, "; ");
    }
}

char *lshell_wrap(const char *cmd, const lshell_env *env, size_t n_env, int login_shell)
{
    dbuf inner, outer;
    dbuf_init(&inner, LSHELL_MAX);
    add_exports(&inner, env, n_env);
    dbuf_puts(&inner, cmd);
    if (!login_shell)
        return dbuf_take(&inner, NULL);
    dbuf_init(&outer, LSHELL_MAX);
    dbuf_puts(&outer, "[ -f ~/.bashrc ] && source ~/.bashrc; "
                      "export OMP_NUM_THREADS=1 PYTHONWARNINGS=ignore && (");
    dbuf_puts(&outer, dbuf_str(&inner));
    dbuf_puts(&outer, ")");
    dbuf_free(&inner);
    dbuf line;
    dbuf_init(&line, LSHELL_MAX);
    dbuf_puts(&line, "bash --login -c -i ");
    lshell_quote(&line, dbuf_str(&outer));
    int failed = outer.failed;
    dbuf_free(&outer);
    if (failed) {
        dbuf_free(&line);
        return NULL;
    }
    return dbuf_take(&line, NULL);
}

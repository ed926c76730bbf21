/* Shell quoting and Ray's login-shell wrapper for remote commands. */
#include "launcher/lshell.h"

#include <stdlib.h>
#include <string.h>

#define LSHELL_MAX (4u * 1024 * 1024)

int lshell_quote(lbuf *b, const char *s)
{
    int rc = lbuf_puts(b, "'");
    for (const char *p = s; rc == 0 && *p != '\0'; p++)
        rc = *p == '\'' ? lbuf_puts(b, "'\\''") : lbuf_add(b, p, 1);
    return rc == 0 ? lbuf_puts(b, "'") : rc;
}

/* A value starting with "~/" keeps meaning the remote home: "$HOME" stays
 * outside the quotes so the remote shell expands it. */
static void add_exports(lbuf *b, const lshell_env *env, size_t n_env)
{
    for (size_t i = 0; i < n_env; i++) {
        const char *v = env[i].value;
        lbuf_printf(b, "export %s=", env[i].name);
        if (strncmp(v, "~/", 2) == 0) {
            lbuf_puts(b, "\"$HOME\"");
            v++;
        }
        lshell_quote(b, v);
        lbuf_puts(b, "; ");
    }
}

char *lshell_wrap(const char *cmd, const lshell_env *env, size_t n_env, int login_shell)
{
    lbuf inner, outer;
    lbuf_init(&inner, LSHELL_MAX);
    add_exports(&inner, env, n_env);
    lbuf_puts(&inner, cmd);
    if (!login_shell)
        return lbuf_take(&inner);
    lbuf_init(&outer, LSHELL_MAX);
    lbuf_puts(&outer, "[ -f ~/.bashrc ] && source ~/.bashrc; "
                      "export OMP_NUM_THREADS=1 PYTHONWARNINGS=ignore && (");
    lbuf_puts(&outer, lbuf_str(&inner));
    lbuf_puts(&outer, ")");
    lbuf_free(&inner);
    lbuf line;
    lbuf_init(&line, LSHELL_MAX);
    lbuf_puts(&line, "bash --login -c -i ");
    lshell_quote(&line, lbuf_str(&outer));
    int failed = outer.failed;
    lbuf_free(&outer);
    if (failed) {
        lbuf_free(&line);
        return NULL;
    }
    return lbuf_take(&line);
}

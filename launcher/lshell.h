/* Shell text for commands run on the nodes: quoting, environment exports
 * and Ray's login-shell wrapper. */
#ifndef RAYC_LAUNCHER_LSHELL_H
#define RAYC_LAUNCHER_LSHELL_H

#include <stddef.h>

#include "common/dbuf.h"

typedef struct lshell_env {
    const char *name;
    const char *value;
} lshell_env;

/* Appends S to B as one single-quoted POSIX shell word. */
int lshell_quote(dbuf *b, const char *s);

/* Builds the command line sent to a node for CMD: the N_ENV variables are
 * exported first (a value starting with "~/" is taken from the remote
 * $HOME); with LOGIN_SHELL the whole runs as Ray runs it,
 *   bash --login -c -i '[ -f ~/.bashrc ] && source ~/.bashrc;
 *                       export OMP_NUM_THREADS=1 PYTHONWARNINGS=ignore && (CMD)'
 * so ~/.profile and ~/.bashrc (conda, PATH additions) apply; without it the
 * exports and CMD go to the user's shell as they are.  Returns a new string
 * (free it) or NULL when out of memory. */
char *lshell_wrap(const char *cmd, const lshell_env *env, size_t n_env, int login_shell);

#endif

/* The job wrapper: the session leader of a job, which records how its
 * command ended.  It runs as bin/ray_job_wrapper (jobwrapper_main.c), a
 * program linked with libc alone, so that starting it costs what starting
 * /bin/sh costs: the job server's own binary pulls in some fifty shared
 * libraries, whose loading and relocation took ~45 ms of CPU per job on a
 * paravirtualised machine.  `ray_jobserver --job-wrapper` runs the same
 * code when the small program is missing.  Only libc here, on purpose. */
#include "jobserver/jobs_proc.h"
#include "jobserver/jobs_procstat.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* LINE to PATH through a temporary file and rename, as jobs_proc_write_int. */
static int write_line(const char *path, const char *line)
{
    char tmp[4096];
    size_t len = strlen(line);
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof tmp)
        return -ENAMETOOLONG;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    int ok = write(fd, line, len) == (ssize_t)len;
    if (close(fd) != 0 || !ok || rename(tmp, path) != 0) {
        int e = errno ? errno : EIO;
        unlink(tmp);
        return -e;
    }
    return 0;
}

static int write_int(const char *path, long n)
{
    char line[32];
    snprintf(line, sizeof line, "%ld\n", n);
    return write_line(path, line);
}

/* "PID START\n": the wrapper's pid and start time (jobs_proc_read_pidfile).
 * The wrapper reads its own start time, after its exec, so that the server
 * does not wait for the exec to finish to read it. */
static int write_pidfile(const char *path)
{
    jobs_procstat st;
    char line[64];
    if (jobs_procstat_read(0, &st) != 0)
        st.start = 0;
    snprintf(line, sizeof line, "%ld %lld\n", (long)getpid(), (long long)st.start);
    return write_line(path, line);
}

/* ---------------------------------------------------------------- a job without a shell */

#define DIRECT_WORDS_MAX 64

/* What `sh -c` would do with a first word of these itself (dash's builtins
 * and keywords): such commands keep the shell. */
static const char *const shell_words[] = {
    ".", ":", "[", "alias", "bg", "break", "case", "cd", "command", "continue", "do",
    "done", "echo", "elif", "else", "esac", "eval", "exec", "exit", "export", "false",
    "fc", "fg", "fi", "for", "function", "getopts", "hash", "if", "jobs", "kill", "local",
    "printf", "pwd", "read", "readonly", "return", "select", "set", "shift", "test",
    "then", "times", "trap", "true", "type", "ulimit", "umask", "unalias", "unset",
    "until", "wait", "while", NULL};

static int is_plain(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           strchr("_./:,+@%=-", c) != NULL;
}

/* Splits TEXT (modified) into WORDS when `/bin/sh -c TEXT` would only run
 * one program with literal arguments, as GNU make decides: plain characters
 * and blanks only (no quotes, expansions, globs, redirections, operators or
 * comments), no assignment before the program and no shell builtin as it.
 * Returns the word count, or 0 when the shell is needed. */
static int direct_words(char *text, char **words)
{
    int n = 0;
    for (char *p = text; *p != '\0';) {
        if (*p == ' ' || *p == '\t') {
            *p++ = '\0';
            continue;
        }
        if (n == DIRECT_WORDS_MAX)
            return 0;
        words[n++] = p;
        while (*p != '\0' && *p != ' ' && *p != '\t')
            if (!is_plain(*p++))
                return 0;
    }
    words[n] = NULL;
    if (n == 0 || strchr(words[0], '=') != NULL)
        return 0;
    for (int i = 0; shell_words[i] != NULL; i++)
        if (strcmp(words[0], shell_words[i]) == 0)
            return 0;
    return n;
}

static void child_exec(char **cmd, char **direct)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    signal(SIGQUIT, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    /* No shell in between; when the program cannot start, the shell says
     * why in its own words, as it would have. */
    if (direct != NULL)
        execvp(direct[0], direct);
    execv(cmd[0], cmd);
    fprintf(stderr, "ray_jobserver: cannot run %s: %s\n", cmd[0], strerror(errno));
    _exit(127);
}

static volatile sig_atomic_t wrapper_stopping;

static void wrapper_stop_handler(int sig)
{
    (void)sig;
    wrapper_stopping = 1;
}

/* The stop signal goes to the whole group; the wrapper outlives the
 * command so that it can record how the command ended, and notes that a
 * stop began. */
static void wrapper_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = wrapper_stop_handler;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGHUP, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
}

/* Waits for CHILD, reaping orphans that end meanwhile (no zombies pile up
 * under a long job).  Returns its exit code, or -SIGNAL. */
/* CHILD's exit code; with DIRECT (no shell in between) a death by signal N
 * is 128+N, the code `sh -c` would have ended with. */
static long wrapper_wait_child(pid_t child, int direct)
{
    int status;
    for (;;) {
        pid_t p = waitpid(-1, &status, 0);
        if (p == child)
            break;
        if (p < 0 && errno != EINTR)
            return 127;
    }
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return direct ? 128 + (long)WTERMSIG(status) : -(long)WTERMSIG(status);
}

/* Reaps every descendant left (they were reparented here: subreaper). */
static void wrapper_wait_tree(void)
{
    int status;
    while (waitpid(-1, &status, 0) > 0 || errno == EINTR)
        ;
}

int jobs_wrapper_main(int argc, char **argv)
{
    if (argc < 5 || strcmp(argv[1], JOBS_WRAPPER_FLAG) != 0) {
        fprintf(stderr, "usage: ray_job_wrapper %s PIDFILE EXITFILE CMD...\n", JOBS_WRAPPER_FLAG);
        return 2;
    }
    write_pidfile(argv[2]);
    wrapper_signals();
    /* Orphans of the job (a shell killed by the stop signal leaves its
     * children) come to the wrapper, so during a stop it lives until the
     * whole tree has ended, and the supervisor's grace period covers them. */
    prctl(PR_SET_CHILD_SUBREAPER, 1L, 0L, 0L, 0L);
    /* The server runs every job as `/bin/sh -c ENTRYPOINT`, as Ray's
     * Popen(shell=True); a plain command runs without the shell. */
    char *words[DIRECT_WORDS_MAX + 1], *text = NULL;
    if (argc == 7 && strcmp(argv[4], "/bin/sh") == 0 && strcmp(argv[5], "-c") == 0)
        text = strdup(argv[6]);
    int direct = text != NULL && direct_words(text, words) > 0;
    pid_t child = fork();
    if (child < 0) {
        fprintf(stderr, "ray_jobserver: fork failed: %s\n", strerror(errno));
        write_int(argv[3], 127);
        return 127;
    }
    if (child == 0)
        child_exec(argv + 4, direct ? words : NULL);
    long code = wrapper_wait_child(child, direct);
    free(text);
    write_int(argv[3], code);
    if (wrapper_stopping)
        wrapper_wait_tree();
    return code >= 0 ? (int)code : 128 + (int)-code;
}

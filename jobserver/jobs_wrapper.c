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
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

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

/* Starts the job's command as our child with every signal unblocked and
 * at its default, without copying our memory (posix_spawn: CLONE_VFORK).
 * DIRECT (no shell in between) is tried first; when that program cannot
 * start, CMD (`/bin/sh -c TEXT`) runs instead, so the shell says why in its
 * own words, as it would have.  Returns the pid, or -1 with a message. */
static pid_t start_child(char **cmd, char **direct)
{
    posix_spawnattr_t at;
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    pid_t pid = -1;
    int rc = posix_spawnattr_init(&at);
    if (rc == 0)
        rc = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    if (rc == 0)
        rc = posix_spawnattr_setsigdefault(&at, &all);
    if (rc == 0)
        rc = posix_spawnattr_setsigmask(&at, &none);
    if (rc == 0 &&
        (direct == NULL || posix_spawnp(&pid, direct[0], NULL, &at, direct, environ) != 0))
        rc = posix_spawn(&pid, cmd[0], NULL, &at, cmd, environ);
    posix_spawnattr_destroy(&at);
    if (rc != 0) {
        fprintf(stderr, "ray_jobserver: cannot run %s: %s\n", cmd[0], strerror(rc));
        return -1;
    }
    return pid;
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

/* Runs CMD (N words) for the job: the pid file, the stop signals, the
 * child, its exit code in EXITFILE.  Returns the wrapper's exit code. */
static int wrapper_run(const char *pidfile, const char *exitfile, int n, char **cmd)
{
    write_pidfile(pidfile);
    wrapper_signals();
    /* Orphans of the job (a shell killed by the stop signal leaves its
     * children) come to the wrapper, so during a stop it lives until the
     * whole tree has ended, and the supervisor's grace period covers them. */
    prctl(PR_SET_CHILD_SUBREAPER, 1L, 0L, 0L, 0L);
    /* The server runs every job as `/bin/sh -c ENTRYPOINT`, as Ray's
     * Popen(shell=True); a plain command runs without the shell. */
    char *words[DIRECT_WORDS_MAX + 1], *text = NULL;
    if (n == 3 && strcmp(cmd[0], "/bin/sh") == 0 && strcmp(cmd[1], "-c") == 0)
        text = strdup(cmd[2]);
    int direct = text != NULL && direct_words(text, words) > 0;
    pid_t child = start_child(cmd, direct ? words : NULL);
    if (child < 0) {
        write_int(exitfile, 127);
        return 127;
    }
    long code = wrapper_wait_child(child, direct);
    free(text);
    write_int(exitfile, code);
    if (wrapper_stopping)
        wrapper_wait_tree();
    return code >= 0 ? (int)code : 128 + (int)-code;
}

/* ---------------------------------------------------------------- a spare wrapper */

typedef struct spare_job {
    char *blob;              /* the description, owned */
    char **strings;          /* into blob, NULL-terminated, owned */
    const char *pidfile, *exitfile, *cwd;
    char **cmd;              /* n_cmd words, NULL-terminated in place of the count */
    int n_cmd;
    char **env;              /* NULL-terminated */
} spare_job;

/* Reads LEN bytes of FD from offset 0 into a new NUL-terminated buffer. */
static char *read_blob(int fd, size_t len)
{
    char *b = malloc(len + 1);
    size_t got = 0;
    while (b != NULL && got < len) {
        ssize_t n = pread(fd, b + got, len - got, (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            free(b);
            return NULL;
        }
        got += (size_t)n;
    }
    if (b != NULL)
        b[len] = '\0';
    return b;
}

/* Splits JOB->blob (LEN bytes, the last one NUL) into its fields.
 * Returns 0 or -EPROTO. */
static int parse_job(spare_job *job, size_t len)
{
    size_t count = 0;
    for (size_t i = 0; i < len; i++)
        count += job->blob[i] == '\0';
    job->strings = calloc(count + 2, sizeof *job->strings);
    if (job->strings == NULL || len == 0 || job->blob[len - 1] != '\0')
        return -EPROTO;
    size_t k = 0;
    for (char *p = job->blob; p < job->blob + len; p += strlen(p) + 1)
        job->strings[k++] = p;
    char *end;
    long n = k >= 5 ? strtol(job->strings[4], &end, 10) : -1;
    if (k < 5 || strcmp(job->strings[0], JOBS_SPARE_MAGIC) != 0 || *job->strings[4] == '\0' ||
        *end != '\0' || n < 1 || (size_t)n > k - 5)
        return -EPROTO;
    job->pidfile = job->strings[1];
    job->exitfile = job->strings[2];
    job->cwd = job->strings[3];
    job->n_cmd = (int)n;
    /* The words move down over the count so that they end with a NULL. */
    memmove(&job->strings[4], &job->strings[5], (size_t)n * sizeof *job->strings);
    job->strings[4 + n] = NULL;
    job->cmd = &job->strings[4];
    job->env = &job->strings[5 + n];   /* strings[k] is NULL (calloc) */
    return 0;
}

/* Waits for the job on the control socket; takes its log as stdout and
 * stderr.  Returns 0, 1 when the server went away first, or -errno. */
static int spare_receive(spare_job *job)
{
    uint64_t len = 0;
    struct iovec iov = {.iov_base = &len, .iov_len = sizeof len};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(2 * sizeof(int))];
    } ctl;
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
                       .msg_controllen = sizeof ctl.buf};
    ssize_t n;
    while ((n = recvmsg(JOBS_SPARE_CTL_FD, &m, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
        ;
    close(JOBS_SPARE_CTL_FD);
    if (n == 0)
        return 1;
    struct cmsghdr *c = n > 0 ? CMSG_FIRSTHDR(&m) : NULL;
    if (c == NULL || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
        c->cmsg_len != CMSG_LEN(2 * sizeof(int)))
        return n < 0 ? -errno : -EPROTO;
    int fds[2];
    memcpy(fds, CMSG_DATA(c), sizeof fds);
    if (n == (ssize_t)sizeof len && (m.msg_flags & MSG_CTRUNC) == 0 && len > 0 &&
        len <= JOBS_SPARE_MAX_BYTES)
        job->blob = read_blob(fds[1], (size_t)len);
    close(fds[1]);
    dup2(fds[0], 1);
    dup2(fds[0], 2);
    if (fds[0] > 2)
        close(fds[0]);
    if (job->blob == NULL)
        return -EPROTO;
    return parse_job(job, (size_t)len);
}

static int spare_main(void)
{
    spare_job job = {0};
    int rc = spare_receive(&job);
    if (rc == 1)
        return 0;
    if (rc != 0) {
        fprintf(stderr, "ray_jobserver: the job wrapper got no usable job: %s\n", strerror(-rc));
        return 127;
    }
    if (*job.cwd != '\0' && chdir(job.cwd) != 0) {
        fprintf(stderr, "ray_jobserver: cannot change to %s: %s\n", job.cwd, strerror(errno));
        write_pidfile(job.pidfile);
        write_int(job.exitfile, 127);
        return 127;
    }
    environ = job.env;
    return wrapper_run(job.pidfile, job.exitfile, job.n_cmd, job.cmd);
}

int jobs_wrapper_main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], JOBS_WRAPPER_SPARE_FLAG) == 0)
        return spare_main();
    if (argc < 5 || strcmp(argv[1], JOBS_WRAPPER_FLAG) != 0) {
        fprintf(stderr, "usage: ray_job_wrapper %s PIDFILE EXITFILE CMD...\n", JOBS_WRAPPER_FLAG);
        return 2;
    }
    return wrapper_run(argv[2], argv[3], argc - 4, argv + 4);
}

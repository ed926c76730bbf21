/* Per-node status lines: redrawn on a terminal, timestamped lines otherwise. */
#include "launcher/up_display.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"

typedef struct up_line {
    char ip[64];
    char kind[8];
    int step;
    char status[24];
    char what[256];
    int64_t start_ms, end_ms;   /* end_ms 0: still running */
} up_line;

struct up_display {
    FILE *out;
    int tty;
    size_t n;
    up_line *lines;
    size_t drawn;               /* lines on screen from the last redraw */
    pthread_mutex_t lock;
};

up_display *up_display_new(FILE *out, size_t n, int tty)
{
    up_display *d = calloc(1, sizeof *d);
    if (d == NULL || (d->lines = calloc(n > 0 ? n : 1, sizeof *d->lines)) == NULL) {
        free(d);
        return NULL;
    }
    d->out = out;
    d->tty = tty;
    d->n = n;
    pthread_mutex_init(&d->lock, NULL);
    for (size_t i = 0; i < n; i++)
        snprintf(d->lines[i].status, sizeof d->lines[i].status, "uninitialized");
    return d;
}

void up_display_name(up_display *d, size_t i, const char *ip, const char *kind)
{
    if (i >= d->n)
        return;
    snprintf(d->lines[i].ip, sizeof d->lines[i].ip, "%s", ip);
    snprintf(d->lines[i].kind, sizeof d->lines[i].kind, "%s", kind);
}

static void format_step(int step, char *out, size_t outlen)
{
    if (step == UP_STEP_SKIPPED)
        snprintf(out, outlen, "[2-6/%d]", UP_STEPS);
    else if (step > 0)
        snprintf(out, outlen, "[%d/%d]", step, UP_STEPS);
    else
        snprintf(out, outlen, "     ");
}

static int term_width(void)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20)
        return ws.ws_col;
    return 120;
}

/* One terminal line for L, cut to the terminal's width. */
static void draw_line(up_display *d, const up_line *l, int64_t now)
{
    char step[16], text[512];
    format_step(l->step, step, sizeof step);
    int64_t end = l->end_ms ? l->end_ms : now;
    double secs = l->start_ms ? (double)(end - l->start_ms) / 1000.0 : 0.0;
    snprintf(text, sizeof text, "  %-15s %-6s %-7s %-15s %6.1fs  %s", l->ip, l->kind, step,
             l->status, secs, l->what);
    int width = term_width() - 1;
    if ((int)strlen(text) > width)
        text[width] = '\0';
    fprintf(d->out, "\r\033[K%s\n", text);
}

void up_display_tick(up_display *d)
{
    if (d == NULL || !d->tty)
        return;
    pthread_mutex_lock(&d->lock);
    int64_t now = time_mono_ms();
    if (d->drawn > 0)
        fprintf(d->out, "\033[%zuA", d->drawn);
    for (size_t i = 0; i < d->n; i++)
        draw_line(d, &d->lines[i], now);
    d->drawn = d->n;
    fflush(d->out);
    pthread_mutex_unlock(&d->lock);
}

static void stamp(char *out, size_t outlen)
{
    time_t now = time(NULL);
    struct tm tm;
    strftime(out, outlen, "%Y-%m-%d %H:%M:%S", localtime_r(&now, &tm));
}

/* Plain mode: one timestamped line per change. */
static void print_change(up_display *d, const up_line *l)
{
    char when[32], step[16];
    stamp(when, sizeof when);
    format_step(l->step, step, sizeof step);
    fprintf(d->out, "%s %s %s %s%s%s%s%s\n", when, l->ip, l->kind, l->step ? step : "",
            l->step ? " " : "", l->status, l->what[0] ? ": " : "", l->what);
    fflush(d->out);
}

void up_display_set(up_display *d, size_t i, int step, const char *status, const char *what)
{
    if (d == NULL || i >= d->n)
        return;
    pthread_mutex_lock(&d->lock);
    up_line *l = &d->lines[i];
    if (l->start_ms == 0)
        l->start_ms = time_mono_ms();
    int changed = l->step != step || strcmp(l->status, status) != 0 ||
                  strcmp(l->what, what != NULL ? what : "") != 0;
    l->step = step;
    snprintf(l->status, sizeof l->status, "%s", status);
    snprintf(l->what, sizeof l->what, "%s", what != NULL ? what : "");
    if (changed && !d->tty)
        print_change(d, l);
    pthread_mutex_unlock(&d->lock);
}

void up_display_done(up_display *d, size_t i)
{
    if (d == NULL || i >= d->n)
        return;
    pthread_mutex_lock(&d->lock);
    if (d->lines[i].start_ms == 0)
        d->lines[i].start_ms = time_mono_ms();
    d->lines[i].end_ms = time_mono_ms();
    pthread_mutex_unlock(&d->lock);
}

void up_display_note(up_display *d, const char *text)
{
    pthread_mutex_lock(&d->lock);
    if (d->tty && d->drawn > 0) {
        /* Scroll the note in above the live lines, then redraw them below. */
        fprintf(d->out, "\033[%zuA\r\033[K%s\n", d->drawn, text);
        d->drawn = 0;
        pthread_mutex_unlock(&d->lock);
        up_display_tick(d);
        return;
    }
    fprintf(d->out, "%s\n", text);
    fflush(d->out);
    pthread_mutex_unlock(&d->lock);
}

void up_display_free(up_display *d)
{
    if (d == NULL)
        return;
    pthread_mutex_destroy(&d->lock);
    free(d->lines);
    free(d);
}

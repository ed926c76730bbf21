/* The live view of `ray up` and `ray down`: one line per node with its step
 * and status.  On a terminal the lines are redrawn in place (call
 * up_display_tick a few times a second); otherwise every change is printed
 * as its own timestamped line, so logs of CI runs read top to bottom.
 * up_display_set may be called from any thread. */
#ifndef RAYC_LAUNCHER_UP_DISPLAY_H
#define RAYC_LAUNCHER_UP_DISPLAY_H

#include <stddef.h>
#include <stdio.h>

#define UP_STEPS 7

/* Step numbers for up_display_set besides 1..UP_STEPS. */
#define UP_STEP_NONE 0
#define UP_STEP_SKIPPED (-1)    /* shown as [2-6/7] */

typedef struct up_display up_display;

/* A display of N node lines on OUT; TTY picks the redrawing mode.
 * Returns NULL when out of memory. */
up_display *up_display_new(FILE *out, size_t n, int tty);

/* Names line I: the node's address and kind ("head" / "worker"). */
void up_display_name(up_display *d, size_t i, const char *ip, const char *kind);

/* Sets line I to STEP (1..7, UP_STEP_NONE or UP_STEP_SKIPPED), STATUS (Ray's
 * status word) and WHAT (what it is doing; may be NULL).  Thread-safe. */
void up_display_set(up_display *d, size_t i, int step, const char *status, const char *what);

/* Marks line I finished (its clock stops). */
void up_display_done(up_display *d, size_t i);

/* Redraws the lines on a terminal; does nothing otherwise. */
void up_display_tick(up_display *d);

/* Prints a line of text above the live lines (or as a plain line). */
void up_display_note(up_display *d, const char *text);

/* Frees D (NULL is fine). */
void up_display_free(up_display *d);

#endif

/* The GCS's task and actor event tables (in memory, like Ray's
 * GcsTaskManager): events from raylets are merged per task attempt (per
 * actor) into one record with the state history; the newest N records are
 * kept, older ones are evicted and counted.  Queries filter on Ray's field
 * names and return the newest records first. */
#ifndef RAYC_GCS_EVENTS_H
#define RAYC_GCS_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "ray.pb-c.h"

#define GEV_DEFAULT_MAX 100000       /* Ray's task_events_max_num_task_in_gcs */
#define GEV_MAX_EVENTS 8             /* state changes kept per record (the first and the newest) */
#define GEV_QUERY_MAX_LIMIT 10000        /* Ray's RAY_MAX_LIMIT_FROM_API_SERVER */

typedef struct gev_table gev_table;

/* A new empty table that keeps at most MAX records; IS_ACTORS picks the
 * actor rules (the latest state wins) over the task ones (the furthest).
 * Returns NULL when out of memory. */
gev_table *gev_table_new(size_t max, int is_actors);
void gev_table_free(gev_table *t);

/* Merges one event.  Returns 0, -EINVAL (a malformed id: ignored) or
 * -ENOMEM (the event is counted as dropped). */
int gev_add_task(gev_table *t, const Rayc__TaskEvent *ev);
int gev_add_actor(gev_table *t, const Rayc__ActorEvent *ev);

/* Merges the packed task records of M (M->packed, M->names, M->node_id;
 * common/tev_wire.h) like gev_add_task merges TaskEvents.  Returns 0, or
 * -EINVAL for a length that is not whole records (nothing merged);
 * records with a bad state are skipped. */
int gev_add_packed(gev_table *t, const Rayc__AddTaskEvents *m);

/* Adds N events a raylet dropped to the dropped count. */
void gev_note_dropped(gev_table *t, int64_t n);

/* Answers a query into OUT (its arrays and strings borrowed from T: valid
 * until T changes; free with gev_reply_release).  A bad filter sets
 * OUT->error (a static string) and nothing else.  Returns 0 or -ENOMEM. */
int gev_query(gev_table *t, const Rayc__GetTaskEvents *q, Rayc__TaskEventsReply *out);
void gev_reply_release(Rayc__TaskEventsReply *out);

size_t gev_count(const gev_table *t);

#endif

/* Internals shared by the state_*.c files. */
#ifndef RAYC_JOBSERVER_STATE_INT_H
#define RAYC_JOBSERVER_STATE_INT_H

#include <jansson.h>

#include "jobserver/state_api.h"

#define STATE_MAX_FILTERS 32
#define STATE_DEFAULT_LIMIT 100       /* Ray's DEFAULT_LIMIT */
#define STATE_MAX_LIMIT 10000         /* Ray's RAY_MAX_LIMIT_FROM_API_SERVER */

/* The query parameters of a state request (Ray's names). */
typedef struct state_query {
    int limit;
    int detail;
    int exclude_driver;
    size_t nkeys, npreds, nvalues;
    char *keys[STATE_MAX_FILTERS], *preds[STATE_MAX_FILTERS], *values[STATE_MAX_FILTERS];
    char summary_by[32];
    char node_id[128], node_ip[64], filename[256], glob[256], actor_id[64], task_id[64];
    char format[16];              /* logs/file: "leading_1" (default) or "text" */
    long lines;
    long pid;                     /* logs: the worker with this pid (0: none) */
    char suffix[8];               /* logs: "out" or "err" (one file holds both here) */
    double interval;              /* logs/stream: seconds between checks where a file
                                     cannot be watched (Ray's interval) */
    char err[256];                /* set when a parameter is bad */
} state_query;

/* ---------------------------------------------------------------- state_json.c */

/* JSON for one record of the GCS (Ray's TaskState / ActorState / NodeState /
 * PlacementGroupState field names).  New references, NULL when out of memory. */
json_t *state_task_json(const Rayc__TaskRecord *rec, int detail);
json_t *state_actor_json(const Rayc__ActorRecord *rec, int detail);
json_t *state_node_json(const Rayc__NodeInfo *n, int detail);
json_t *state_pg_json(const Rayc__PlacementGroupInfo *pg, int detail);
json_t *state_driver_job_json(const Rayc__JobInfo *j);

/* Hex of binary id B into a new JSON string (null when empty). */
json_t *state_hex(const ProtobufCBinaryData *b);

/* ---------------------------------------------------------------- state_api.c */

/* Answers R with Ray's envelope around DATA (stolen): {"result": true,
 * "msg": MSG, "data": DATA}. */
void state_respond_ok(http_request *r, const char *msg, json_t *data);

/* Answers R with STATUS and {"result": false, "msg": MSG, "data": {}}. */
void state_respond_error(http_request *r, int status, const char *msg);

/* Filters ALL (stolen, detail objects) by Q, keeps Q's limit and answers R
 * with Ray's list envelope; WARNING (NULL: none) is its
 * partial_failure_warning.  A filter on a key the objects lack is a 400. */
void state_respond_filtered(http_request *r, const state_query *q, json_t *all,
                            const char *warning);

/* Sends REQ to the GCS and returns its reply of WANT_CASE (free with
 * rayc__envelope__free_unpacked), or answers R with a 500 and returns NULL. */
Rayc__Envelope *state_gcs_get(jobs_server *srv, http_request *r, Rayc__Envelope *req,
                              int want_case);

/* The GCS's node list (a NodeList envelope, free with
 * rayc__envelope__free_unpacked), or NULL after answering R with a 500. */
Rayc__Envelope *state_gcs_nodes(jobs_server *srv, http_request *r);

/* ---------------------------------------------------------------- state_node.c */

/* /api/v0/objects, /api/v0/objects/summarize and /api/v0/workers: asked of
 * every alive node's raylet (GetNodeState); nodes that do not answer are
 * named in partial_failure_warning. */
void state_list_objects(jobs_server *srv, http_request *r, const state_query *q);
void state_summarize_objects(jobs_server *srv, http_request *r, const state_query *q);
void state_list_workers(jobs_server *srv, http_request *r, const state_query *q);

/* ---------------------------------------------------------------- state_summary.c */

void state_summarize_tasks(jobs_server *srv, http_request *r, const state_query *q);
void state_summarize_actors(jobs_server *srv, http_request *r, const state_query *q);

/* Queries the GCS's task (ACTORS: actor) events with Q's filters and
 * LIMIT.  Answers R itself and returns NULL on failure. */
Rayc__Envelope *state_query_events(jobs_server *srv, http_request *r, const state_query *q,
                                   int actors, int limit);

/* ---------------------------------------------------------------- state_logs.c */

void state_logs_list(jobs_server *srv, http_request *r, const state_query *q);
void state_logs_file(jobs_server *srv, http_request *r, const state_query *q);

/* Where a log lives: this node, or another node's job agent. */
typedef struct state_log_target {
    int local;
    char url_base[128];           /* http(s)://ip:port of the node's agent */
    char node_id[128];
} state_log_target;

/* The file Q names (filename, or the log of the worker of actor_id,
 * task_id or pid) into NAME and its node into T; Q's node_id is set to the
 * worker's node.  Returns 0, or -1 after answering R (400, 404, 500). */
int state_logs_resolve(jobs_server *srv, http_request *r, state_query *q, char *name,
                       size_t len, state_log_target *t);

/* ---------------------------------------------------------------- state_stream*.c */

/* /api/v0/logs/stream: Ray's media_type=stream.  The last Q->lines lines,
 * then every byte written to the file as it comes, each HTTP chunk framed
 * "1" + text (format=leading_1) until the client goes away; "0" + a message
 * ends a stream that fails midway.  Another node's file is relayed from its
 * job agent's stream. */
void state_logs_stream(jobs_server *srv, http_request *r, const state_query *q);

/* Relays the stream of NAME from T's agent into R (state_stream_agent.c).
 * Answers R in every case. */
void state_stream_agent(jobs_server *srv, http_request *r, const state_log_target *t,
                        const char *name, const state_query *q);

#endif

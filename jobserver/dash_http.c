/* dash_http: the dashboard's routes — which paths are its, which are
 * public, and the two data answers (Ray's node summary, the Metrics ring). */
#include "jobserver/dash.h"
#include "jobserver/dash_int.h"

#include <inttypes.h>
#include <string.h>

#include "common/dbuf.h"
#include "jobserver/jobs_buf.h"

#define CT_JSON "application/json; charset=utf-8"
#define METRICS_MAX (64u << 20)

int dash_path(const char *path)
{
    return strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0 ||
           strncmp(path, "/static/", 8) == 0 || strcmp(path, "/nodes") == 0 ||
           strcmp(path, "/api/rayc/node_metrics") == 0;
}

int dash_public(const char *path)
{
    return strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0 ||
           strncmp(path, "/static/", 8) == 0;
}

static void respond_buf(http_request *r, dbuf *b)
{
    size_t len;
    char *body = dbuf_take(b, &len);
    if (body == NULL)
        http_respond_text(r, 500, "Out of memory");
    else
        http_respond_take(r, 200, CT_JSON, body, len);
}

/* {"result": true, "data": {"interval_s": 5, "nodes": [{"node_id", "ip",
 * "samples": [[t_ms, cpu%, mem_used, mem_total, store_used, running,
 * pending], ...]}]}}, oldest sample first. */
static void handle_metrics(dash *d, http_request *r)
{
    dbuf b;
    dbuf_init(&b, METRICS_MAX);
    int rc = dbuf_printf(&b, "{\"result\": true, \"msg\": \"\", \"data\": {\"interval_s\": %d, "
                        "\"nodes\": [", DASH_SAMPLE_MS / 1000);
    for (size_t i = 0; i < d->nnodes; i++) {
        const dash_node *n = &d->nodes[i];
        rc |= dbuf_printf(&b, "%s{\"node_id\": \"%s\", \"ip\": \"%s\", \"samples\": [",
                        i ? ", " : "", n->id, n->ip);
        for (size_t k = 0; k < n->count; k++) {
            const dash_sample *s = &n->ring[(n->first + k) % DASH_RING];
            rc |= dbuf_printf(&b, "%s[%" PRId64 ", %.2f, %.0f, %.0f, %.0f, %d, %d]", k ? ", " : "",
                            s->t_ms, s->cpu, s->mem_used, s->mem_total, s->store_used,
                            (int)s->running, (int)s->pending);
        }
        rc |= dbuf_puts(&b, "]}");
    }
    if ((rc | dbuf_puts(&b, "]}}")) != 0) {
        dbuf_free(&b);
        http_respond_text(r, 500, "Out of memory");
        return;
    }
    respond_buf(r, &b);
}

void dash_handle(jobs_server *srv, http_request *r)
{
    const char *path = http_request_path(r);
    dash *d = srv->dash;
    if (dash_public(path)) {
        dash_static(srv, r, path);
        return;
    }
    if (d == NULL) {
        http_respond_text(r, 503, "The node view needs the head's job server with a GCS address");
        return;
    }
    if (!d->polled) {
        http_respond_text(r, 503, "The node table has not been read from the GCS yet");
        return;
    }
    if (strcmp(path, "/nodes") == 0)
        http_respond(r, 200, CT_JSON, d->summary, strlen(d->summary));
    else
        handle_metrics(d, r);
}

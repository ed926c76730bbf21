/* `ray status`: nodes and resource usage, in Ray's layout. */
#include "cli/cli_cmds.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "cli/cli_common.h"
#include "common/node_registry.h"
#include "common/token.h"

#define RULE "---------------------------------------------------------------"

/* Formats a byte count as Ray does ("0B", "1.50GiB"). */
static void format_bytes(double bytes, char *out, size_t outlen)
{
    static const char *units[] = {"KiB", "MiB", "GiB", "TiB"};
    if (bytes < 1024) {
        snprintf(out, outlen, "%.0fB", bytes);
        return;
    }
    int u = -1;
    while (bytes >= 1024 && u < 3) {
        bytes /= 1024;
        u++;
    }
    snprintf(out, outlen, "%.2f%s", bytes, units[u]);
}

/* One resource name with its cluster-wide totals. */
typedef struct res_sum {
    char name[128];
    double total, available;
    double pg_total, pg_available;   /* reserved in placement groups */
} res_sum;

typedef struct res_table {
    res_sum rows[256];
    size_t n;
} res_table;

static res_sum *res_row(res_table *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->rows[i].name, name) == 0)
            return &t->rows[i];
    if (t->n == sizeof t->rows / sizeof t->rows[0])
        return NULL;
    res_sum *r = &t->rows[t->n++];
    snprintf(r->name, sizeof r->name, "%s", name);
    r->total = r->available = r->pg_total = r->pg_available = 0;
    return r;
}

/* A placement group resource "<R>_group_<hex id>" (the whole group's) puts
 * its base name R in BASE and returns 1; an indexed one ("<R>_group_<i>_<hex
 * id>") or a marker ("bundle_group_...") returns 0 and is not shown: like
 * Ray, `ray status` folds groups into their base resources. */
static int group_base(const char *name, char *base, size_t len)
{
    const char *g = strstr(name, "_group_");
    if (g == NULL)
        return 0;
    const char *id = g + 7;
    if (strlen(id) != 36 || strspn(id, "0123456789abcdef") != 36 ||
        strncmp(name, "bundle_group_", 13) == 0 || (size_t)(g - name) >= len)
        return 0;
    memcpy(base, name, (size_t)(g - name));
    base[g - name] = '\0';
    return 1;
}

/* Adds a group resource's QTY to its base row (TOTAL: to the totals). */
static void sum_group(res_table *t, const char *name, double qty, int total)
{
    char base[128];
    res_sum *r = group_base(name, base, sizeof base) ? res_row(t, base) : NULL;
    if (r != NULL && total)
        r->pg_total += qty;
    else if (r != NULL)
        r->pg_available += qty;
}

/* Ray lists CPU, GPU, memory, object_store_memory, then the rest by name. */
static int res_rank(const char *name)
{
    static const char *order[] = {"CPU", "GPU", "memory", "object_store_memory"};
    for (int i = 0; i < 4; i++)
        if (strcmp(name, order[i]) == 0)
            return i;
    return 4;
}

static int res_cmp(const void *a, const void *b)
{
    const res_sum *x = a, *y = b;
    int rx = res_rank(x->name), ry = res_rank(y->name);
    return rx != ry ? rx - ry : strcmp(x->name, y->name);
}

static void sum_node(res_table *t, const Rayc__NodeInfo *n)
{
    for (size_t i = 0; i < n->n_resources_total; i++) {
        const char *name = n->resources_total[i]->key;
        if (strncmp(name, "node:", 5) == 0)
            continue; /* Ray hides the per-node marker resources */
        if (strstr(name, "_group_") != NULL) {
            sum_group(t, name, n->resources_total[i]->value, 1);
            continue;
        }
        res_sum *r = res_row(t, name);
        if (r != NULL)
            r->total += n->resources_total[i]->value;
    }
    for (size_t i = 0; i < n->n_resources_available; i++) {
        const char *name = n->resources_available[i]->key;
        if (strstr(name, "_group_") != NULL) {
            sum_group(t, name, n->resources_available[i]->value, 0);
            continue;
        }
        res_sum *r = strncmp(name, "node:", 5) == 0 ? NULL : res_row(t, name);
        if (r != NULL)
            r->available += n->resources_available[i]->value;
    }
}

static void print_usage_line(const res_sum *r)
{
    double used = r->total - r->available;
    if (used < 0)
        used = 0;
    if (strcmp(r->name, "memory") == 0 || strcmp(r->name, "object_store_memory") == 0) {
        char u[32], tot[32];
        format_bytes(used, u, sizeof u);
        format_bytes(r->total, tot, sizeof tot);
        printf(" %s/%s %s\n", u, tot, r->name);
    } else if (r->pg_total > 0) {
        printf(" %.1f/%.1f %s (%.1f used of %.1f reserved in placement groups)\n", used,
               r->total, r->name, r->pg_total - r->pg_available, r->pg_total);
    } else {
        printf(" %.1f/%.1f %s\n", used, r->total, r->name);
    }
}

static void print_demands(const Rayc__NodeList *list)
{
    int any = 0;
    for (size_t i = 0; i < list->n_nodes; i++) {
        const Rayc__NodeInfo *n = list->nodes[i];
        if (n->state != RAYC__NODE_INFO__STATE__ALIVE)
            continue;
        for (size_t d = 0; d < n->n_demands; d++) {
            printf(" {");
            for (size_t k = 0; k < n->demands[d]->n_shape; k++) {
                /* Python's float repr, as Ray prints the dict: 1.0, 0.5 */
                double v = n->demands[d]->shape[k]->value;
                printf(v == (double)(long long)v ? "%s'%s': %.1f" : "%s'%s': %g", k ? ", " : "",
                       n->demands[d]->shape[k]->key, v);
            }
            printf("}: %d+ pending tasks/actors\n", n->demands[d]->count);
            any = 1;
        }
    }
    if (!any)
        printf(" (no resource demands)\n");
}

static void print_status(const Rayc__NodeList *list)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    localtime_r(&tv.tv_sec, &tm);
    char stamp[64];
    strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
    printf("======== Autoscaler status: %s.%06ld ========\n", stamp, (long)tv.tv_usec);
    printf("Node status\n%s\nActive:\n", RULE);
    res_table *t = calloc(1, sizeof *t);
    int alive = 0, dead = 0;
    for (size_t i = 0; i < list->n_nodes; i++) {
        const Rayc__NodeInfo *n = list->nodes[i];
        if (n->state != RAYC__NODE_INFO__STATE__ALIVE)
            continue;
        printf(" 1 node_%s (%s%s)\n", n->node_id, n->address, n->is_head ? ", head" : "");
        if (t != NULL)
            sum_node(t, n);
        alive++;
    }
    if (alive == 0)
        printf(" (no active nodes)\n");
    printf("Pending:\n (no pending nodes)\nRecent failures:\n");
    for (size_t i = 0; i < list->n_nodes; i++) {
        const Rayc__NodeInfo *n = list->nodes[i];
        if (n->state == RAYC__NODE_INFO__STATE__ALIVE)
            continue;
        printf(" node_%s (%s): DEAD (%s)\n", n->node_id, n->address,
               n->death_reason[0] ? n->death_reason : "unknown");
        dead++;
    }
    if (dead == 0)
        printf(" (no failures)\n");
    printf("\nResources\n%s\nUsage:\n", RULE);
    if (t != NULL) {
        qsort(t->rows, t->n, sizeof t->rows[0], res_cmp);
        for (size_t i = 0; i < t->n; i++)
            print_usage_line(&t->rows[i]);
    }
    free(t);
    printf("\nDemands:\n");
    print_demands(list);
}

int cmd_status(int argc, char **argv)
{
    static const struct option flags[] = {
        {"address", required_argument, NULL, 'a'},
        {"temp-dir", required_argument, NULL, 't'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *address = NULL, *temp_dir = NULL;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "v", flags, NULL)) != -1) {
        if (c == 'a')
            address = optarg;
        else if (c == 't')
            temp_dir = optarg;
        else if (c == 'h') {
            printf("Usage: ray status [--address HOST:PORT] [-v]\n");
            return 0;
        } else if (c != 'v')
            return cli_bad_flag("status", argv);
    }
    char root[PATH_MAX], host[256], token[TOKEN_MAX + 1];
    int port;
    node_temp_root(temp_dir, root, sizeof root);
    if (cli_find_gcs(address, root, host, sizeof host, &port) != 0 ||
        cli_find_token(root, token, sizeof token) != 0)
        return 1;
    rpc_client *client = cli_connect_gcs(host, port, token, "cli");
    if (client == NULL)
        return 1;
    Rayc__Envelope req = RAYC__ENVELOPE__INIT, *reply = NULL;
    Rayc__GetAllNodes get = RAYC__GET_ALL_NODES__INIT;
    req.body_case = RAYC__ENVELOPE__BODY_GET_ALL_NODES;
    req.get_all_nodes = &get;
    char err[256];
    int rc = rpc_client_call(client, &req, 5000, &reply, err, sizeof err);
    rpc_client_close(client);
    if (rc != 0 || reply->body_case != RAYC__ENVELOPE__BODY_NODE_LIST) {
        fprintf(stderr, "Error: the GCS at %s:%d did not answer: %s\n", host, port,
                rc != 0 ? err : "unexpected reply");
        if (reply != NULL)
            rayc__envelope__free_unpacked(reply, NULL);
        return 1;
    }
    print_status(reply->node_list);
    rayc__envelope__free_unpacked(reply, NULL);
    return 0;
}

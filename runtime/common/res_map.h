/* Small sorted maps for node resources (name -> quantity) and labels
 * (key -> value), and the one rule for whether a resource request fits.
 *
 * A node has a handful of resources, so both maps are sorted arrays with a
 * hard cap on their length; lookups are linear and order is alphabetical,
 * which keeps logs, reports and tests deterministic.  Resources added while
 * the node runs (placement group bundles) are appended instead, so that
 * indexes held by the scheduler stay valid. */
#ifndef RAYC_COMMON_RES_MAP_H
#define RAYC_COMMON_RES_MAP_H

#include <stddef.h>

/* Most entries one map may hold (Ray nodes rarely have more than a dozen,
 * but every placement group bundle adds four names). */
#define RES_MAP_MAX 1024
/* Longest resource name or label key, and longest label value, in bytes. */
#define RES_NAME_MAX 256
#define RES_VALUE_MAX 1024

typedef struct res_entry {
    char *name;
    double qty;
} res_entry;

typedef struct res_map {
    res_entry *items;   /* sorted by name */
    size_t len;
} res_map;

typedef struct res_label {
    char *key;
    char *value;
} res_label;

typedef struct res_labels {
    res_label *items;   /* sorted by key */
    size_t len;
} res_labels;

/* Slack of every "does this request fit" comparison.  Quantities are doubles
 * summed from fractions (ten tasks of 0.1 CPU), so a request may exceed what
 * is free by this much and still fit, and a request this small or smaller is
 * no request at all. */
#define RES_EPS 1e-9

/* The one resource-fit rule of the raylet, the GCS and the job server: true
 * (1) when a request of WANT fits HAVE (what is free, or a node's total),
 * else 0.  A resource the node lacks is HAVE 0.  A request of RES_EPS or less
 * fits anywhere, even where the resource is overdrawn (as Ray drops zero
 * requests); a NaN request never fits. */
static inline int res_fits(double have, double want)
{
    return want <= RES_EPS || have + RES_EPS >= want;
}

/* Makes M empty; it owns no memory until the first set. */
void res_map_init(res_map *m);

/* Sets NAME to QTY, replacing an existing entry.  NAME is copied.
 * Returns 0, -EINVAL for an empty or over-long name, -E2BIG when the map
 * already holds RES_MAP_MAX entries, or -ENOMEM; on error M is unchanged. */
int res_map_set(res_map *m, const char *name, double qty);

/* Adds NAME with QTY at the end, so that the indexes of the entries before
 * stay valid (the raylet's scheduler keeps indexes).  The map is no longer
 * sorted afterwards; lookups still work.  Returns 0, -EINVAL, -EEXIST,
 * -E2BIG or -ENOMEM; on error M is unchanged. */
int res_map_append(res_map *m, const char *name, double qty);

/* Renames entry I to NAME with QTY in place (its index stays).  An empty
 * NAME marks a free slot that lookups never match and messages skip.
 * Returns 0, -EINVAL, -EEXIST (NAME is another entry) or -ENOMEM; on error
 * M is unchanged. */
int res_map_rename_at(res_map *m, size_t i, const char *name, double qty);

/* Stores NAME's quantity in *QTY and returns 0, or returns -ENOENT. */
int res_map_get(const res_map *m, const char *name, double *qty);

/* Removes NAME if present. */
void res_map_del(res_map *m, const char *name);

/* Replaces DST's contents with a copy of SRC.  Returns 0 or -ENOMEM, in
 * which case DST is left empty. */
int res_map_copy(res_map *dst, const res_map *src);

/* Frees everything M owns and leaves it empty. */
void res_map_free(res_map *m);

/* Writes "CPU=4 memory=1.2e+10 ..." into OUT (OUTLEN > 0) for log lines,
 * cut short when it does not fit. */
void res_map_format(const res_map *m, char *out, size_t outlen);

/* Same operations for labels; KEY and VALUE are copied.  res_labels_set
 * returns 0, -EINVAL (empty or over-long key, over-long value), -E2BIG or
 * -ENOMEM, leaving L unchanged on error. */
void res_labels_init(res_labels *l);
int res_labels_set(res_labels *l, const char *key, const char *value);
const char *res_labels_get(const res_labels *l, const char *key);
void res_labels_free(res_labels *l);

#endif

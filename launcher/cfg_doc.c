/* YAML text to a cfg_node tree with positions, via libyaml's event parser. */
#include "launcher/cfg_doc.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "common/yscalar.h"

typedef struct anchor {
    char *name;
    const cfg_node *node;
} anchor;

typedef struct doc_parser {
    yaml_parser_t yp;
    const char *name;
    size_t nodes;               /* nodes made so far, copies included */
    anchor *anchors;
    size_t n_anchors;
    cfg_doc_warn_fn warn;
    void *warn_data;
    char *err;
    size_t errlen;
    int reported;               /* ERR holds a problem of the document */
} doc_parser;

static cfg_node *parse_node(doc_parser *p, yaml_event_t *ev, int depth);

/* ---------------------------------------------------------------- errors */

static int fail_at(doc_parser *p, int line, int col, const char *what)
{
    snprintf(p->err, p->errlen, "%s:%d:%d: %s", p->name, line, col, what);
    p->reported = 1;
    return -EINVAL;
}

/* Reports libyaml's own error (scanner or parser problem). */
static void fail_yaml(doc_parser *p)
{
    const yaml_parser_t *y = &p->yp;
    char what[256];
    if (y->context != NULL)
        snprintf(what, sizeof what, "%s %s", y->problem ? y->problem : "invalid YAML",
                 y->context);
    else
        snprintf(what, sizeof what, "%s", y->problem ? y->problem : "invalid YAML");
    fail_at(p, (int)y->problem_mark.line + 1, (int)y->problem_mark.column + 1, what);
}

static int next_event(doc_parser *p, yaml_event_t *ev)
{
    if (!yaml_parser_parse(&p->yp, ev)) {
        if (p->yp.error == YAML_MEMORY_ERROR) {
            snprintf(p->err, p->errlen, "%s: out of memory", p->name);
            return -ENOMEM;
        }
        fail_yaml(p);
        return -EINVAL;
    }
    return 0;
}

/* ---------------------------------------------------------------- nodes */

static cfg_node *node_new(doc_parser *p, cfg_kind kind, const yaml_mark_t *m)
{
    if (++p->nodes > CFG_DOC_MAX_NODES) {
        fail_at(p, (int)m->line + 1, (int)m->column + 1,
                "document has too many nodes (aliases included)");
        return NULL;
    }
    cfg_node *n = calloc(1, sizeof *n);
    if (n == NULL) {
        snprintf(p->err, p->errlen, "%s: out of memory", p->name);
        return NULL;
    }
    n->kind = kind;
    n->line = (int)m->line + 1;
    n->col = (int)m->column + 1;
    return n;
}

void cfg_node_free(cfg_node *n)
{
    if (n == NULL)
        return;
    free(n->text);
    for (size_t i = 0; i < n->n; i++) {
        if (n->kind == CFG_SEQ) {
            cfg_node_free(n->items[i]);
        } else if (n->kind == CFG_MAP) {
            free(n->pairs[i].key);
            cfg_node_free(n->pairs[i].value);
        }
    }
    free(n->items);
    free(n->pairs);
    free(n);
}

static cfg_node *node_copy(doc_parser *p, const cfg_node *src)
{
    yaml_mark_t m = {.line = (size_t)src->line - 1, .column = (size_t)src->col - 1};
    cfg_node *n = node_new(p, src->kind, &m);
    if (n == NULL)
        return NULL;
    n->quoted = src->quoted;
    if (src->text != NULL && (n->text = strdup(src->text)) == NULL)
        goto fail;
    if (src->n > 0) {
        n->items = src->kind == CFG_SEQ ? calloc(src->n, sizeof *n->items) : NULL;
        n->pairs = src->kind == CFG_MAP ? calloc(src->n, sizeof *n->pairs) : NULL;
        if (n->items == NULL && n->pairs == NULL)
            goto fail;
    }
    for (size_t i = 0; i < src->n; i++, n->n++) {
        if (src->kind == CFG_SEQ) {
            if ((n->items[i] = node_copy(p, src->items[i])) == NULL)
                goto fail;
            continue;
        }
        cfg_pair *d = &n->pairs[i];
        const cfg_pair *s = &src->pairs[i];
        d->line = s->line;
        d->col = s->col;
        if ((d->key = strdup(s->key)) == NULL || (d->value = node_copy(p, s->value)) == NULL) {
            free(d->key);
            goto fail;
        }
    }
    return n;
fail:
    cfg_node_free(n);
    return NULL;
}

static int remember_anchor(doc_parser *p, const yaml_char_t *name, const cfg_node *n)
{
    if (name == NULL)
        return 0;
    anchor *a = realloc(p->anchors, (p->n_anchors + 1) * sizeof *a);
    if (a == NULL)
        return -ENOMEM;
    p->anchors = a;
    if ((a[p->n_anchors].name = strdup((const char *)name)) == NULL)
        return -ENOMEM;
    a[p->n_anchors++].node = n;
    return 0;
}

/* The newest anchor called NAME wins, as in YAML. */
static const cfg_node *find_anchor(const doc_parser *p, const char *name)
{
    for (size_t i = p->n_anchors; i-- > 0;)
        if (strcmp(p->anchors[i].name, name) == 0)
            return p->anchors[i].node;
    return NULL;
}

/* ---------------------------------------------------------------- events */

static cfg_node *parse_scalar(doc_parser *p, yaml_event_t *ev)
{
    cfg_node *n = node_new(p, CFG_SCALAR, &ev->start_mark);
    if (n == NULL)
        return NULL;
    const char *tag = (const char *)ev->data.scalar.tag;
    n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
                (tag != NULL && strcmp(tag, YAML_STR_TAG) == 0);
    n->text = malloc(ev->data.scalar.length + 1);
    if (n->text == NULL) {
        cfg_node_free(n);
        return NULL;
    }
    memcpy(n->text, ev->data.scalar.value, ev->data.scalar.length);
    n->text[ev->data.scalar.length] = '\0';
    if (remember_anchor(p, ev->data.scalar.anchor, n) != 0) {
        cfg_node_free(n);
        return NULL;
    }
    return n;
}

static int grow(void **arr, size_t n, size_t size)
{
    /* Capacity is 4, then doubles whenever N reaches a power of two. */
    if (n != 0 && (n < 4 || (n & (n - 1)) != 0))
        return 0;
    void *bigger = realloc(*arr, (n == 0 ? 4 : 2 * n) * size);
    if (bigger == NULL)
        return -ENOMEM;
    *arr = bigger;
    return 0;
}

static cfg_node *parse_seq(doc_parser *p, yaml_event_t *start, int depth)
{
    cfg_node *n = node_new(p, CFG_SEQ, &start->start_mark);
    yaml_char_t *anchor_name = start->data.sequence_start.anchor;
    anchor_name = anchor_name ? (yaml_char_t *)strdup((char *)anchor_name) : NULL;
    yaml_event_t ev;
    while (n != NULL) {
        if (next_event(p, &ev) != 0)
            goto fail;
        if (ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        cfg_node *item = NULL;
        if (grow((void **)&n->items, n->n, sizeof *n->items) == 0)
            item = parse_node(p, &ev, depth + 1);
        yaml_event_delete(&ev);
        if (item == NULL)
            goto fail;
        n->items[n->n++] = item;
    }
    if (n != NULL && remember_anchor(p, anchor_name, n) != 0)
        goto fail;
    free(anchor_name);
    return n;
fail:
    free(anchor_name);
    cfg_node_free(n);
    return NULL;
}

/* Reads one key event of a mapping into PAIR (the value is read later).
 * A key the mapping already has is PyYAML's case: the last value wins, so
 * *DUP is set to the earlier pair (which the caller overwrites) and a
 * warning naming both lines goes to the warning callback. */
static int parse_key(doc_parser *p, cfg_node *map, yaml_event_t *ev, cfg_pair *pair,
                     cfg_pair **dup)
{
    int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
    *dup = NULL;
    if (ev->type != YAML_SCALAR_EVENT)
        return fail_at(p, line, col, "mapping keys must be plain strings");
    char *key = strndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
    if (key == NULL)
        return -ENOMEM;
    *dup = (cfg_pair *)cfg_map_pair(map, key);
    if (*dup != NULL && p->warn != NULL) {
        char what[400];
        snprintf(what, sizeof what, "%s:%d:%d: duplicate key \"%.200s\" (first on line %d); "
                 "the value on line %d is used, as Ray does", p->name, line, col, key,
                 (*dup)->line, line);
        if (p->warn(p->warn_data, what) != 0) {
            free(key);
            return -ENOMEM;
        }
    }
    pair->key = key;
    pair->line = line;
    pair->col = col;
    return 0;
}

/* Puts PAIR into MAP: in place of DUP (the earlier pair of the same key,
 * freed) or at the end. */
static void store_pair(cfg_node *map, cfg_pair *dup, cfg_pair *pair)
{
    if (dup == NULL) {
        map->pairs[map->n++] = *pair;
        return;
    }
    free(dup->key);
    cfg_node_free(dup->value);
    *dup = *pair;
}

static cfg_node *parse_map(doc_parser *p, yaml_event_t *start, int depth)
{
    cfg_node *n = node_new(p, CFG_MAP, &start->start_mark);
    yaml_char_t *anchor_name = start->data.mapping_start.anchor;
    anchor_name = anchor_name ? (yaml_char_t *)strdup((char *)anchor_name) : NULL;
    yaml_event_t ev;
    while (n != NULL) {
        if (next_event(p, &ev) != 0)
            goto fail;
        if (ev.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        cfg_pair pair = {0}, *dup = NULL;
        int rc = grow((void **)&n->pairs, n->n, sizeof *n->pairs);
        if (rc == 0)
            rc = parse_key(p, n, &ev, &pair, &dup);
        yaml_event_delete(&ev);
        if (rc == 0 && (rc = next_event(p, &ev)) == 0) {
            pair.value = parse_node(p, &ev, depth + 1);
            yaml_event_delete(&ev);
        }
        if (rc != 0 || pair.value == NULL) {
            free(pair.key);
            goto fail;
        }
        store_pair(n, dup, &pair);
    }
    if (n != NULL && remember_anchor(p, anchor_name, n) != 0)
        goto fail;
    free(anchor_name);
    return n;
fail:
    free(anchor_name);
    cfg_node_free(n);
    return NULL;
}

static cfg_node *parse_alias(doc_parser *p, yaml_event_t *ev)
{
    const char *name = (const char *)ev->data.alias.anchor;
    const cfg_node *target = find_anchor(p, name);
    if (target == NULL) {
        char what[300];
        snprintf(what, sizeof what, "unknown anchor \"%.200s\"", name);
        fail_at(p, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1, what);
        return NULL;
    }
    return node_copy(p, target);
}

/* Builds the node that starts with event EV (owned by the caller). */
static cfg_node *parse_node(doc_parser *p, yaml_event_t *ev, int depth)
{
    if (depth > CFG_DOC_MAX_DEPTH) {
        fail_at(p, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
                "document is nested too deeply");
        return NULL;
    }
    switch (ev->type) {
    case YAML_SCALAR_EVENT: return parse_scalar(p, ev);
    case YAML_SEQUENCE_START_EVENT: return parse_seq(p, ev, depth);
    case YAML_MAPPING_START_EVENT: return parse_map(p, ev, depth);
    case YAML_ALIAS_EVENT: return parse_alias(p, ev);
    default:
        fail_at(p, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
                "unexpected YAML event");
        return NULL;
    }
}

/* Skips events up to the first node of the document.  A stream with no
 * document (an empty file, or only comments) or a document that is only
 * null is refused: Ray would load it as None and fail later. */
static cfg_node *parse_document(doc_parser *p, int *empty)
{
    yaml_event_t ev;
    cfg_node *root = NULL;
    *empty = 0;
    for (;;) {
        if (next_event(p, &ev) != 0)
            return NULL;
        yaml_event_type_t t = ev.type;
        if (t == YAML_STREAM_END_EVENT || t == YAML_DOCUMENT_END_EVENT || t == YAML_NO_EVENT) {
            yaml_event_delete(&ev);
            *empty = 1;
            return NULL;
        }
        if (t != YAML_STREAM_START_EVENT && t != YAML_DOCUMENT_START_EVENT) {
            root = parse_node(p, &ev, 0);
            yaml_event_delete(&ev);
            if (root != NULL && root->kind == CFG_SCALAR && cfg_scalar_type(root) == CFG_T_NULL) {
                cfg_node_free(root);
                *empty = 1;
                return NULL;
            }
            return root;
        }
        yaml_event_delete(&ev);
    }
}

/* A second document in the file is refused rather than silently ignored.
 * libyaml answers YAML_NO_EVENT forever once the stream has ended, so that
 * ends the loop too. */
static int check_single_document(doc_parser *p)
{
    yaml_event_t ev;
    for (;;) {
        int rc = next_event(p, &ev);
        if (rc != 0)
            return rc;
        yaml_event_type_t t = ev.type;
        int line = (int)ev.start_mark.line + 1, col = (int)ev.start_mark.column + 1;
        yaml_event_delete(&ev);
        if (t == YAML_STREAM_END_EVENT || t == YAML_NO_EVENT)
            return 0;
        if (t == YAML_DOCUMENT_START_EVENT)
            return fail_at(p, line, col, "only one YAML document is allowed");
    }
}

int cfg_doc_parse(const char *name, const char *text, size_t len, cfg_doc_warn_fn warn,
                  void *warn_data, cfg_node **out, char *err, size_t errlen)
{
    doc_parser p = {.name = name, .warn = warn, .warn_data = warn_data, .err = err,
                    .errlen = errlen};
    int empty = 0;
    *out = NULL;
    if (len > CFG_DOC_MAX_BYTES) {
        snprintf(err, errlen, "%s: file is larger than %d bytes", name, CFG_DOC_MAX_BYTES);
        return -EINVAL;
    }
    if (!yaml_parser_initialize(&p.yp)) {
        snprintf(err, errlen, "%s: out of memory", name);
        return -ENOMEM;
    }
    snprintf(err, errlen, "%s: out of memory", name);
    yaml_parser_set_input_string(&p.yp, (const unsigned char *)text, len);
    cfg_node *root = parse_document(&p, &empty);
    /* A failure nobody reported was an allocation (ERR says out of memory). */
    int rc = root != NULL ? check_single_document(&p) : empty ? -ENODATA
             : p.reported ? -EINVAL : -ENOMEM;
    if (empty)
        snprintf(err, errlen, "%s: the cluster config file is empty (nothing but comments or "
                 "blank lines)", name);
    yaml_parser_delete(&p.yp);
    for (size_t i = 0; i < p.n_anchors; i++)
        free(p.anchors[i].name);
    free(p.anchors);
    if (rc != 0) {
        cfg_node_free(root);
        return rc;
    }
    err[0] = '\0';
    *out = root;
    return 0;
}

/* ---------------------------------------------------------------- lookups */

const cfg_pair *cfg_map_pair(const cfg_node *map, const char *key)
{
    if (map == NULL || map->kind != CFG_MAP)
        return NULL;
    for (size_t i = 0; i < map->n; i++)
        if (strcmp(map->pairs[i].key, key) == 0)
            return &map->pairs[i];
    return NULL;
}

cfg_node *cfg_map_get(const cfg_node *map, const char *key)
{
    const cfg_pair *p = cfg_map_pair(map, key);
    return p != NULL ? p->value : NULL;
}

/* ---------------------------------------------------------------- scalar types */

/* The scalar of N when N is a plain (unquoted) scalar, else NULL. */
static const char *plain_text(const cfg_node *n)
{
    return n != NULL && n->kind == CFG_SCALAR && !n->quoted ? n->text : NULL;
}

int cfg_scalar_bool(const cfg_node *n, int *out)
{
    const char *s = plain_text(n);
    return s != NULL ? yscalar_bool(s, out) : -EINVAL;
}

int cfg_scalar_int(const cfg_node *n, long long *out)
{
    const char *s = plain_text(n);
    return s != NULL ? yscalar_int(s, out) : -EINVAL;
}

int cfg_scalar_number(const cfg_node *n, double *out)
{
    const char *s = plain_text(n);
    return s != NULL ? yscalar_number(s, out) : -EINVAL;
}

cfg_type cfg_scalar_type(const cfg_node *n)
{
    static const cfg_type types[] = {
        [YSCALAR_NULL] = CFG_T_NULL, [YSCALAR_BOOL] = CFG_T_BOOL, [YSCALAR_INT] = CFG_T_INT,
        [YSCALAR_FLOAT] = CFG_T_FLOAT, [YSCALAR_STR] = CFG_T_STR,
    };
    return n->quoted ? CFG_T_STR : types[yscalar_type_of(n->text)];
}

const char *cfg_node_describe(const cfg_node *n)
{
    if (n->kind == CFG_SEQ)
        return "a list";
    if (n->kind == CFG_MAP)
        return "a mapping";
    switch (cfg_scalar_type(n)) {
    case CFG_T_NULL: return "null";
    case CFG_T_BOOL: return "a boolean";
    case CFG_T_INT: return "an integer";
    case CFG_T_FLOAT: return "a number";
    default: return "a string";
    }
}

/* A YAML document as a small tree that remembers where every node came from.
 *
 * The cluster YAML is parsed with libyaml's event API into cfg_node trees:
 * scalars, sequences and mappings (string keys only), each with the 1-based
 * line and column of its first character, so every later error can point at
 * the file.  Aliases are expanded into copies; a document over CFG_DOC_MAX_NODES
 * nodes (alias bombs included) or nested deeper than CFG_DOC_MAX_DEPTH is
 * refused. */
#ifndef RAYC_LAUNCHER_CFG_DOC_H
#define RAYC_LAUNCHER_CFG_DOC_H

#include <stddef.h>

#define CFG_DOC_MAX_BYTES (1024 * 1024)
#define CFG_DOC_MAX_NODES 100000
#define CFG_DOC_MAX_DEPTH 64

typedef enum cfg_kind { CFG_SCALAR, CFG_SEQ, CFG_MAP } cfg_kind;

/* What a scalar means under YAML 1.1 (PyYAML's rules, which Ray uses). */
typedef enum cfg_type { CFG_T_NULL, CFG_T_BOOL, CFG_T_INT, CFG_T_FLOAT, CFG_T_STR } cfg_type;

typedef struct cfg_node cfg_node;

typedef struct cfg_pair {
    char *key;
    int line, col;              /* where the key is */
    cfg_node *value;
} cfg_pair;

struct cfg_node {
    cfg_kind kind;
    int line, col;              /* 1-based */
    char *text;                 /* CFG_SCALAR: the scalar's text */
    int quoted;                 /* CFG_SCALAR: written with quotes (always a string) */
    size_t n;                   /* CFG_SEQ: items; CFG_MAP: pairs */
    cfg_node **items;           /* CFG_SEQ */
    cfg_pair *pairs;            /* CFG_MAP, in document order */
};

/* Receives one warning line "NAME:LINE:COL: problem" (only valid during
 * the call).  Returns 0, or -ENOMEM when it could not keep the line, which
 * makes the parse fail with -ENOMEM (a warning is never dropped). */
typedef int (*cfg_doc_warn_fn)(void *data, const char *line);

/* Parses LEN bytes of YAML TEXT (one document).  NAME is used in messages.
 * A key repeated in a mapping is accepted as PyYAML does (the last value
 * wins, at the first key's place) and reported to WARN (may be NULL) with
 * both lines.  On success stores the root in *OUT (free with cfg_node_free)
 * and returns 0.  On failure returns -ENODATA (no document: an empty or
 * comment-only file, or a lone null), -EINVAL (bad YAML, non-string key,
 * too deep, too many nodes) or -ENOMEM and writes one line, "NAME:LINE:COL:
 * problem" where there is a position, into ERR. */
int cfg_doc_parse(const char *name, const char *text, size_t len, cfg_doc_warn_fn warn,
                  void *warn_data, cfg_node **out, char *err, size_t errlen);

/* Frees N and everything below it (NULL is fine). */
void cfg_node_free(cfg_node *n);

/* The value of KEY in the mapping MAP, or NULL when MAP is not a mapping
 * or has no such key. */
cfg_node *cfg_map_get(const cfg_node *map, const char *key);

/* The pair for KEY in MAP, or NULL. */
const cfg_pair *cfg_map_pair(const cfg_node *map, const char *key);

/* The YAML 1.1 type of a scalar (CFG_T_STR for quoted scalars). */
cfg_type cfg_scalar_type(const cfg_node *n);

/* Reads a YAML 1.1 boolean scalar into *OUT.  Returns 0 or -EINVAL. */
int cfg_scalar_bool(const cfg_node *n, int *out);

/* Reads an integer scalar (decimal, 0x, 0o, underscores) into *OUT.
 * Returns 0 or -EINVAL (not an integer, or out of range). */
int cfg_scalar_int(const cfg_node *n, long long *out);

/* Reads an integer or float scalar into *OUT.  Returns 0 or -EINVAL. */
int cfg_scalar_number(const cfg_node *n, double *out);

/* A short name for the kind of N for messages: "a string", "an integer",
 * "a list", "a mapping", "null", "a boolean", "a number". */
const char *cfg_node_describe(const cfg_node *n);

#endif

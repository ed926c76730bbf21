/* Reading a runtime_env YAML file into JSON (libyaml). */
#include "jobclient/jobs_yaml.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "common/yscalar.h"

#define YAML_MAX_DEPTH 64

/* A plain scalar typed as PyYAML resolves it (common/yscalar).  JSON has
 * no .inf or .nan, so those stay strings. */
static json_t *plain_scalar(const char *s)
{
    int b;
    long long i;
    double d;
    switch (yscalar_type_of(s)) {
    case YSCALAR_NULL: return json_null();
    case YSCALAR_BOOL: return yscalar_bool(s, &b) == 0 ? json_boolean(b) : NULL;
    case YSCALAR_INT: return yscalar_int(s, &i) == 0 ? json_integer(i) : NULL;
    case YSCALAR_FLOAT:
        if (yscalar_number(s, &d) == 0 && isfinite(d))
            return json_real(d);
        return json_string(s);
    default: return json_string(s);
    }
}

static json_t *convert(yaml_document_t *doc, yaml_node_t *node, int depth, char *err, size_t errlen);

static json_t *convert_mapping(yaml_document_t *doc, yaml_node_t *node, int depth, char *err,
                               size_t errlen)
{
    json_t *obj = json_object();
    for (yaml_node_pair_t *p = node->data.mapping.pairs.start;
         obj != NULL && p < node->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        json_t *v = convert(doc, yaml_document_get_node(doc, p->value), depth + 1, err, errlen);
        if (k == NULL || k->type != YAML_SCALAR_NODE || v == NULL) {
            if (v != NULL)
                snprintf(err, errlen, "YAML mapping keys must be strings");
            json_decref(v);
            json_decref(obj);
            return NULL;
        }
        json_object_set_new(obj, (const char *)k->data.scalar.value, v);
    }
    return obj;
}

static json_t *convert(yaml_document_t *doc, yaml_node_t *node, int depth, char *err, size_t errlen)
{
    if (node == NULL || depth > YAML_MAX_DEPTH) {
        snprintf(err, errlen, "YAML nested too deep");
        return NULL;
    }
    if (node->type == YAML_SCALAR_NODE) {
        const char *v = (const char *)node->data.scalar.value;
        return node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? plain_scalar(v) : json_string(v);
    }
    if (node->type == YAML_MAPPING_NODE)
        return convert_mapping(doc, node, depth, err, errlen);
    json_t *arr = json_array();
    for (yaml_node_item_t *it = node->data.sequence.items.start;
         arr != NULL && it < node->data.sequence.items.top; it++) {
        json_t *v = convert(doc, yaml_document_get_node(doc, *it), depth + 1, err, errlen);
        if (v == NULL) {
            json_decref(arr);
            return NULL;
        }
        json_array_append_new(arr, v);
    }
    return arr;
}

json_t *jobs_yaml_to_json(const char *text, size_t len, char *err, size_t errlen)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser)) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    json_t *out = NULL;
    if (!yaml_parser_load(&parser, &doc)) {
        snprintf(err, errlen, "invalid YAML at line %zu: %s", parser.problem_mark.line + 1,
                 parser.problem ? parser.problem : "parse error");
    } else {
        yaml_node_t *root = yaml_document_get_root_node(&doc);
        out = root ? convert(&doc, root, 0, err, errlen) : json_object();
        yaml_document_delete(&doc);
    }
    yaml_parser_delete(&parser);
    return out;
}

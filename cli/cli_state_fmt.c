/* Output of the state commands: Ray's table, JSON and YAML. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_state.h"

/* A scalar as the text a table cell or a YAML value shows (owned). */
static char *cell(json_t *v)
{
    char buf[64];
    if (json_is_string(v))
        return strdup(json_string_value(v));
    if (json_is_null(v) || v == NULL)
        return strdup("");
    if (json_is_true(v) || json_is_false(v))
        return strdup(json_is_true(v) ? "True" : "False");
    if (json_is_integer(v)) {
        snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
        return strdup(buf);
    }
    if (json_is_real(v)) {
        snprintf(buf, sizeof buf, "%g", json_real_value(v));
        return strdup(buf);
    }
    return json_dumps(v, JSON_COMPACT);
}

static void upper(char *dst, size_t len, const char *s)
{
    size_t i = 0;
    for (; s[i] && i + 1 < len; i++)
        dst[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
    dst[i] = '\0';
}

static void print_table(FILE *out, json_t *list)
{
    json_t *first = json_array_get(list, 0);
    if (first == NULL)
        return;
    size_t ncols = json_object_size(first), nrows = json_array_size(list);
    const char **keys = calloc(ncols, sizeof *keys);
    size_t *width = calloc(ncols, sizeof *width);
    if (keys == NULL || width == NULL) {
        free(keys);
        free(width);
        return;
    }
    const char *k;
    json_t *v;
    size_t c = 0;
    json_object_foreach(first, k, v) {
        keys[c] = k;
        width[c++] = strlen(k);
    }
    for (size_t r = 0; r < nrows; r++)
        for (c = 0; c < ncols; c++) {
            char *s = cell(json_object_get(json_array_get(list, r), keys[c]));
            if (s && strlen(s) > width[c])
                width[c] = strlen(s);
            free(s);
        }
    char head[256];
    fprintf(out, "%*s", (int)(snprintf(NULL, 0, "%zu", nrows) + 1), "");
    for (c = 0; c < ncols; c++) {
        upper(head, sizeof head, keys[c]);
        fprintf(out, "  %-*s", (int)width[c], head);
    }
    fputc('\n', out);
    for (size_t r = 0; r < nrows; r++) {
        fprintf(out, "%*zu", (int)(snprintf(NULL, 0, "%zu", nrows) + 1), r);
        for (c = 0; c < ncols; c++) {
            char *s = cell(json_object_get(json_array_get(list, r), keys[c]));
            fprintf(out, "  %-*s", (int)width[c], s ? s : "");
            free(s);
        }
        fputc('\n', out);
    }
    free(keys);
    free(width);
}

/* A YAML scalar: plain when safe, else a JSON (double-quoted) string. */
static void yaml_scalar(FILE *out, json_t *v)
{
    if (!json_is_string(v)) {
        char *s = json_is_null(v) ? strdup("null") : cell(v);
        if (json_is_true(v) || json_is_false(v))
            fputs(json_is_true(v) ? "true" : "false", out);
        else
            fputs(s ? s : "", out);
        free(s);
        return;
    }
    const char *s = json_string_value(v);
    int plain = s[0] != '\0' && strcspn(s, ":#{}[],&*!|>'\"%@`\n\t") == strlen(s) &&
                s[0] != '-' && s[0] != ' ' && s[strlen(s) - 1] != ' ' &&
                strcmp(s, "null") != 0 && strcmp(s, "true") != 0 && strcmp(s, "false") != 0 &&
                strspn(s, "0123456789.eE+-") != strlen(s);
    if (plain) {
        fputs(s, out);
    } else {
        char *q = json_dumps(v, JSON_ENCODE_ANY);
        fputs(q ? q : "''", out);
        free(q);
    }
}

void cli_state_print_yaml(FILE *out, json_t *v, int indent)
{
    const char *k;
    json_t *e;
    size_t i;
    if (json_is_object(v)) {
        if (json_object_size(v) == 0) {
            fprintf(out, "%*s{}\n", indent, "");
            return;
        }
        json_object_foreach(v, k, e) {
            fprintf(out, "%*s%s:", indent, "", k);
            if ((json_is_object(e) && json_object_size(e)) || (json_is_array(e) && json_array_size(e))) {
                fputc('\n', out);
                cli_state_print_yaml(out, e, indent + 2);
            } else {
                fputc(' ', out);
                if (json_is_object(e) || json_is_array(e))
                    fputs(json_is_object(e) ? "{}" : "[]", out);
                else
                    yaml_scalar(out, e);
                fputc('\n', out);
            }
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, e) {
            if (json_is_object(e) && json_object_size(e)) {
                fprintf(out, "%*s-\n", indent, "");
                cli_state_print_yaml(out, e, indent + 2);
            } else {
                fprintf(out, "%*s- ", indent, "");
                yaml_scalar(out, e);
                fputc('\n', out);
            }
        }
    } else {
        fprintf(out, "%*s", indent, "");
        yaml_scalar(out, v);
        fputc('\n', out);
    }
}

void cli_state_print_list(FILE *out, json_t *list, const char *format)
{
    if (strcmp(format, "json") == 0) {
        char *s = json_dumps(list, JSON_INDENT(2));
        fprintf(out, "%s\n", s ? s : "[]");
        free(s);
    } else if (strcmp(format, "yaml") == 0) {
        if (json_array_size(list) == 0)
            fputs("[]\n", out);
        else
            cli_state_print_yaml(out, list, 0);
    } else {
        print_table(out, list);
    }
}

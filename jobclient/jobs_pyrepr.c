/* Python's repr of JSON values and of Ray's JobDetails. */
#include "jobclient/jobs_pyrepr.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* repr(str): single quotes unless the text holds ' and no ". */
static int repr_str(dbuf *b, const char *s)
{
    char q = strchr(s, '\'') != NULL && strchr(s, '"') == NULL ? '"' : '\'';
    int rc = dbuf_add(b, &q, 1);
    for (const unsigned char *p = (const unsigned char *)s; rc == 0 && *p; p++) {
        if (*p == '\\') rc = dbuf_puts(b, "\\\\");
        else if (*p == (unsigned char)q) rc = dbuf_printf(b, "\\%c", q);
        else if (*p == '\n') rc = dbuf_puts(b, "\\n");
        else if (*p == '\r') rc = dbuf_puts(b, "\\r");
        else if (*p == '\t') rc = dbuf_puts(b, "\\t");
        else if (*p < 0x20 || *p == 0x7f) rc = dbuf_printf(b, "\\x%02x", *p);
        else rc = dbuf_add(b, p, 1);
    }
    return rc ? rc : dbuf_add(b, &q, 1);
}

/* repr(float): the shortest text that reads back the same, with ".0". */
static int repr_real(dbuf *b, double d)
{
    if (isinf(d))
        return dbuf_puts(b, d > 0 ? "inf" : "-inf");
    char text[64];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(text, sizeof text, "%.*g", prec, d);
        if (strtod(text, NULL) == d)
            break;
    }
    int rc = dbuf_puts(b, text);
    if (rc == 0 && strpbrk(text, ".eni") == NULL)
        rc = dbuf_puts(b, ".0");
    return rc;
}

int jobs_pyrepr_value(dbuf *b, json_t *v)
{
    const char *k;
    json_t *item;
    size_t i;
    int rc = 0, first = 1;
    switch (json_typeof(v)) {
    case JSON_STRING: return repr_str(b, json_string_value(v));
    case JSON_INTEGER: return dbuf_printf(b, "%lld", (long long)json_integer_value(v));
    case JSON_REAL: return repr_real(b, json_real_value(v));
    case JSON_TRUE: return dbuf_puts(b, "True");
    case JSON_FALSE: return dbuf_puts(b, "False");
    case JSON_NULL: return dbuf_puts(b, "None");
    case JSON_ARRAY:
        rc = dbuf_puts(b, "[");
        json_array_foreach(v, i, item) {
            if (rc == 0 && i > 0) rc = dbuf_puts(b, ", ");
            if (rc == 0) rc = jobs_pyrepr_value(b, item);
        }
        return rc ? rc : dbuf_puts(b, "]");
    case JSON_OBJECT:
        rc = dbuf_puts(b, "{");
        json_object_foreach(v, k, item) {
            if (rc == 0 && !first) rc = dbuf_puts(b, ", ");
            first = 0;
            if (rc == 0) rc = repr_str(b, k);
            if (rc == 0) rc = dbuf_puts(b, ": ");
            if (rc == 0) rc = jobs_pyrepr_value(b, item);
        }
        return rc ? rc : dbuf_puts(b, "}");
    }
    return 0;
}

/* <Enum.NAME: 'NAME'> for the type and status fields. */
static int repr_enum(dbuf *b, const char *cls, json_t *v)
{
    const char *s = json_string_value(v);
    if (s == NULL)
        return jobs_pyrepr_value(b, v);
    return dbuf_printf(b, "<%s.%s: '%s'>", cls, s, s);
}

static int repr_driver_info(dbuf *b, json_t *v)
{
    if (!json_is_object(v))
        return jobs_pyrepr_value(b, v);
    static const char *const fields[] = {"id", "node_ip_address", "pid", NULL};
    int rc = dbuf_puts(b, "DriverInfo(");
    for (int i = 0; rc == 0 && fields[i] != NULL; i++) {
        rc = dbuf_printf(b, "%s%s=", i ? ", " : "", fields[i]);
        if (rc == 0) {
            json_t *f = json_object_get(v, fields[i]);
            rc = jobs_pyrepr_value(b, f ? f : json_null());
        }
    }
    return rc ? rc : dbuf_puts(b, ")");
}

int jobs_pyrepr_job(dbuf *b, json_t *job)
{
    const char *k;
    json_t *v;
    int rc = dbuf_puts(b, "JobDetails("), first = 1;
    json_object_foreach(job, k, v) {
        if (rc == 0)
            rc = dbuf_printf(b, "%s%s=", first ? "" : ", ", k);
        first = 0;
        if (rc != 0)
            break;
        if (strcmp(k, "type") == 0)
            rc = repr_enum(b, "JobType", v);
        else if (strcmp(k, "status") == 0)
            rc = repr_enum(b, "JobStatus", v);
        else if (strcmp(k, "driver_info") == 0)
            rc = repr_driver_info(b, v);
        else
            rc = jobs_pyrepr_value(b, v);
    }
    return rc ? rc : dbuf_puts(b, ")");
}

int jobs_pyrepr_job_list(dbuf *b, json_t *jobs)
{
    size_t i;
    json_t *job;
    int rc = dbuf_puts(b, "[");
    json_array_foreach(jobs, i, job) {
        if (rc == 0 && i > 0)
            rc = dbuf_puts(b, ",\n ");
        if (rc == 0)
            rc = jobs_pyrepr_job(b, job);
    }
    return rc ? rc : dbuf_puts(b, "]");
}

/* Reading a runtime_env YAML file (ray job submit --runtime-env) into JSON,
 * with YAML 1.1 plain-scalar types as PyYAML's safe_load gives them. */
#ifndef RAYC_JOBCLIENT_JOBS_YAML_H
#define RAYC_JOBCLIENT_JOBS_YAML_H

#include <jansson.h>
#include <stddef.h>

/* Parses TEXT (LEN bytes).  Returns a new JSON value (caller decrefs; an
 * empty document is an empty object) or NULL with one line in ERR. */
json_t *jobs_yaml_to_json(const char *text, size_t len, char *err, size_t errlen);

#endif

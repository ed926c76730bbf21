/* YAML 1.1 plain (unquoted) scalars typed as PyYAML's resolver types them:
 * null (~, null), booleans (yes/no/on/off/true/false), integers (decimal,
 * 0x, 0o and 0-leading octal, underscores), floats (.inf, .nan).  The one
 * resolver of the cluster YAML (launcher) and the runtime_env YAML
 * (`ray job submit`).  Quoted scalars are strings; callers check that. */
#ifndef RAYC_COMMON_YSCALAR_H
#define RAYC_COMMON_YSCALAR_H

typedef enum yscalar_type {
    YSCALAR_NULL,
    YSCALAR_BOOL,
    YSCALAR_INT,
    YSCALAR_FLOAT,
    YSCALAR_STR,
} yscalar_type;

/* The type of the plain scalar S. */
yscalar_type yscalar_type_of(const char *s);

/* Reads a boolean into *OUT.  Returns 0 or -EINVAL (not a boolean). */
int yscalar_bool(const char *s, int *out);

/* Reads an integer into *OUT.  Returns 0 or -EINVAL (not an integer, or out
 * of range). */
int yscalar_int(const char *s, long long *out);

/* Reads an integer or a float (also .inf and .nan) into *OUT.  Returns 0 or
 * -EINVAL. */
int yscalar_number(const char *s, double *out);

#endif

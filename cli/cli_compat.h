/* Ray's `ray start` flags that on-prem start lines carry: checking their
 * values the way Ray does, and the one-line notes for the ones rayc accepts
 * without an equivalent. */
#ifndef RAYC_CLI_CLI_COMPAT_H
#define RAYC_CLI_CLI_COMPAT_H

/* Prints the one-line note (stderr) of FLAG (without "--"), a flag rayc
 * accepts but that changes nothing here, saying why.  Unknown names print
 * a generic note. */
void compat_note(const char *flag);

/* Parses VALUE as click's boolean ("true"/"false", "1"/"0", "yes"/"no",
 * "y"/"n", "on"/"off", "t"/"f", any case) into *OUT.  Returns 0, or prints
 * click's "Invalid value" line and returns -EINVAL. */
int compat_parse_bool(const char *flag, const char *value, int *out);

/* Checks Ray's worker port flags (any may be NULL): MIN and MAX are 0 or
 * 1024..65535, MAX above MIN, LIST a comma-separated list of such ports.
 * Returns 0, or prints one line and returns -EINVAL. */
int compat_check_worker_ports(const char *min, const char *max, const char *list);

/* Checks that JSON (--system-config) is a JSON object and exports each key
 * K to this process's environment as RAY_K (numbers and booleans as text,
 * strings as they are, other values as compact JSON), so the daemons `ray
 * start` spawns read them as they read Ray's RAY_<name> overrides.  Returns
 * 0, or prints one line and returns -EINVAL. */
int compat_apply_system_config(const char *json);

#endif

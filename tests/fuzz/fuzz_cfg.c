/* libFuzzer target: the cluster YAML loader of `ray up` (libyaml, the
 * document tree, Ray's schema, the defaults merged under it) on arbitrary
 * bytes.  A load either gives a config or one error line; never a crash.
 *
 * fuzz-srcs: launcher/cfg_load.c launcher/cfg_doc.c launcher/cfg_schema.c launcher/cfg_defaults.c */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "launcher/cfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cluster_config *c = NULL;
    char err[512];
    err[0] = '\0';
    int rc = cfg_load_text("fuzz.yaml", (const char *)data, size, NULL, &c, err, sizeof err);
    if (rc == 0) {
        if (c == NULL)
            __builtin_trap(); /* success gives a config */
        (void)cfg_head_ssh_host(c);
        (void)cfg_worker_count(c);
        cfg_free(c);
    } else if (c != NULL || strlen(err) == 0 || memchr(err, '\n', strlen(err)) != NULL) {
        __builtin_trap(); /* failure gives one line and nothing else */
    }
    return 0;
}

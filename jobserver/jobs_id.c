/* Submission ids: generation in Ray's format and the file-name safety check. */
#include "jobserver/jobs_id.h"

#include <errno.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

/* Ray's alphabet: ascii letters and digits minus the look-alikes I l o O 0. */
static const char id_alphabet[] =
    "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ123456789";

int jobs_id_generate(char *out, size_t outlen)
{
    size_t plen = sizeof JOBS_ID_PREFIX - 1;
    size_t n = sizeof id_alphabet - 1;
    if (outlen < plen + JOBS_ID_RANDOM_LEN + 1)
        return -ENAMETOOLONG;
    memcpy(out, JOBS_ID_PREFIX, plen);
    /* Rejection sampling keeps every character equally likely. */
    unsigned limit = 256 - 256 % (unsigned)n;
    size_t i = 0;
    while (i < JOBS_ID_RANDOM_LEN) {
        unsigned char raw[32];
        if (RAND_bytes(raw, sizeof raw) != 1)
            return -EIO;
        for (size_t k = 0; k < sizeof raw && i < JOBS_ID_RANDOM_LEN; k++)
            if (raw[k] < limit)
                out[plen + i++] = id_alphabet[raw[k] % n];
    }
    out[plen + JOBS_ID_RANDOM_LEN] = '\0';
    return 0;
}

static int id_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
}

int jobs_id_check(const char *id, char *err, size_t errlen)
{
    size_t n = strlen(id);
    if (n == 0 || n > JOBS_ID_MAX) {
        snprintf(err, errlen, "submission_id must be 1 to %d characters long", JOBS_ID_MAX);
        return -EINVAL;
    }
    if (id[0] == '.') {
        snprintf(err, errlen, "submission_id must not start with '.'");
        return -EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        if (!id_char_ok(id[i])) {
            snprintf(err, errlen,
                     "submission_id may only contain letters, digits, '.', '_' and '-'");
            return -EINVAL;
        }
    }
    return 0;
}

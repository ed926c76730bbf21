/* The cluster token: generation, files, lookup and comparison. */
#include "common/token.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

int token_generate(char *out, size_t outlen)
{
    if (outlen < 65)
        return -ENAMETOOLONG;
    return ids_random_hex(out, 32);
}

int token_check(const char *text, size_t len, char *out, size_t outlen)
{
    if (len > 0 && text[len - 1] == '\n')
        len--;
    if (len > 0 && text[len - 1] == '\r')
        len--;
    if (len == 0)
        return TOKEN_ERR_EMPTY;
    for (size_t i = 0; i < len; i++)
        if (!isgraph((unsigned char)text[i]))
            return TOKEN_ERR_BAD_CHAR;
    if (len > TOKEN_MAX || len >= outlen)
        return TOKEN_ERR_LONG;
    if (len < TOKEN_MIN)
        return TOKEN_ERR_SHORT;
    memcpy(out, text, len);
    out[len] = '\0';
    return 0;
}

const char *token_error(int rc)
{
    switch (rc) {
    case TOKEN_ERR_EMPTY: return "the token is empty";
    case TOKEN_ERR_SHORT: return "the token is shorter than 16 characters";
    case TOKEN_ERR_BAD_CHAR: return "the token contains whitespace, a NUL byte or a control "
                                    "character";
    case TOKEN_ERR_LONG: return "the token is longer than 256 characters";
    default: return strerror(-rc);
    }
}

int token_read_file(const char *path, char *out, size_t outlen)
{
    char *text;
    size_t len;
    int rc = fs_read_file(path, TOKEN_MAX + 1024, &text, &len);
    if (rc == -EFBIG)
        return TOKEN_ERR_LONG;
    if (rc != 0)
        return rc;
    rc = token_check(text, len, out, outlen);
    free(text);
    return rc;
}

int token_write_file(const char *path, const char *token)
{
    char dir[PATH_MAX];
    str_copy(dir, sizeof dir, path);
    char *slash = strrchr(dir, '/');
    if (slash != NULL && slash != dir) {
        *slash = '\0';
        int rc = fs_mkdir_p(dir, 0700);
        if (rc != 0)
            return rc;
    }
    char line[TOKEN_MAX + 2];
    int n = snprintf(line, sizeof line, "%s\n", token);
    return fs_write_file(path, line, (size_t)n, 0600);
}

int token_env_set(void)
{
    const char *a = getenv("RAY_AUTH_TOKEN"), *b = getenv("RAY_AUTH_TOKEN_PATH");
    return (a != NULL && *a != '\0') || (b != NULL && *b != '\0');
}

int token_default_path(char *out, size_t outlen)
{
    const char *home = getenv("HOME");
    if (home == NULL || *home == '\0')
        return -ENOENT;
    if (snprintf(out, outlen, "%s/.ray/auth_token", home) >= (int)outlen)
        return -ENAMETOOLONG;
    return 0;
}

int token_find(char *out, size_t outlen, const char *fallback_path,
               char *source, size_t sourcelen)
{
    const char *env = getenv("RAY_AUTH_TOKEN");
    char src[PATH_MAX] = "";
    int rc = -ENOENT;
    if (env != NULL && *env != '\0') {
        snprintf(src, sizeof src, "RAY_AUTH_TOKEN");
        rc = token_check(env, strlen(env), out, outlen);
    } else if ((env = getenv("RAY_AUTH_TOKEN_PATH")) != NULL && *env != '\0') {
        snprintf(src, sizeof src, "%s", env);
        rc = token_read_file(env, out, outlen);
    } else {
        char path[PATH_MAX];
        if (token_default_path(path, sizeof path) == 0) {
            snprintf(src, sizeof src, "%s", path);
            rc = token_read_file(path, out, outlen);
        }
        if (rc == -ENOENT && fallback_path != NULL) {
            snprintf(src, sizeof src, "%s", fallback_path);
            rc = token_read_file(fallback_path, out, outlen);
        }
    }
    if (source != NULL)
        str_copy(source, sourcelen, src);
    return rc;
}

int token_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char diff = (unsigned char)(la != lb);
    size_t n = la < lb ? la : lb;
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

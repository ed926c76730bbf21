/* The cluster token: generation, files, lookup and comparison.
 *
 * Clients look for a token in this order (Ray's names): RAY_AUTH_TOKEN,
 * RAY_AUTH_TOKEN_PATH, ~/.ray/auth_token. */
#ifndef RAYC_COMMON_TOKEN_H
#define RAYC_COMMON_TOKEN_H

#include <stddef.h>

#define TOKEN_MAX 256

/* Writes a new random 64-hex-character token into OUT (at least 65 bytes).
 * Returns 0 or -EIO. */
int token_generate(char *out, size_t outlen);

/* Reads the token in PATH (surrounding whitespace removed) into OUT.
 * Returns 0, -errno, -EINVAL for an empty file or one with inner spaces,
 * or -EFBIG for a token over TOKEN_MAX. */
int token_read_file(const char *path, char *out, size_t outlen);

/* Writes TOKEN to PATH with mode 0600, creating parent directories (0700).
 * Returns 0 or -errno. */
int token_write_file(const char *path, const char *token);

/* Finds the client token from the environment and ~/.ray/auth_token; when
 * FALLBACK_PATH is not NULL it is tried last.  On success fills OUT, stores
 * where it came from in SOURCE (may be NULL) and returns 0; returns -ENOENT
 * when no source has one and another -errno when a named source is broken. */
int token_find(char *out, size_t outlen, const char *fallback_path,
               char *source, size_t sourcelen);

/* Default token path for this user: $HOME/.ray/auth_token. */
int token_default_path(char *out, size_t outlen);

/* Compares two tokens in time independent of where they differ. */
int token_equal(const char *a, const char *b);

#endif

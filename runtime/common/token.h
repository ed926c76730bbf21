/* The cluster token: generation, files, lookup and comparison.
 *
 * Clients look for a token in this order (Ray's names): RAY_AUTH_TOKEN,
 * RAY_AUTH_TOKEN_PATH, ~/.ray/auth_token.  Every source obeys one rule
 * (token_check): one trailing newline ("\n" or "\r\n") is dropped, and the
 * rest must be 16 to TOKEN_MAX printable characters with no whitespace or
 * NUL byte. */
#ifndef RAYC_COMMON_TOKEN_H
#define RAYC_COMMON_TOKEN_H

#include <errno.h>
#include <stddef.h>

#define TOKEN_MAX 256
#define TOKEN_MIN 16

/* Why token_check refused a token (negative codes, as every function here returns). */
#define TOKEN_ERR_EMPTY    (-ENODATA)  /* nothing but the trailing newline */
#define TOKEN_ERR_SHORT    (-ERANGE)   /* fewer than TOKEN_MIN characters */
#define TOKEN_ERR_BAD_CHAR (-EILSEQ)   /* whitespace, a NUL byte or a control character */
#define TOKEN_ERR_LONG     (-EFBIG)    /* more than TOKEN_MAX characters */

/* Checks TEXT (LEN bytes, may hold NUL bytes) as a token and copies it,
 * without its one trailing newline, into OUT (OUTLEN > the token).  Returns
 * 0 or one of the TOKEN_ERR_ codes; OUT is then unspecified. */
int token_check(const char *text, size_t len, char *out, size_t outlen);

/* A phrase for a code from the functions here ("shorter than 16
 * characters", or strerror's text).  The string is static. */
const char *token_error(int rc);

/* Writes a new random 64-hex-character token into OUT (at least 65 bytes).
 * Returns 0 or -EIO. */
int token_generate(char *out, size_t outlen);

/* Reads the token in PATH into OUT (token_check's rule).  Returns 0,
 * -errno (-ENOENT: no such file), or a TOKEN_ERR_ code. */
int token_read_file(const char *path, char *out, size_t outlen);

/* Writes TOKEN to PATH with mode 0600, creating parent directories (0700).
 * Returns 0 or -errno. */
int token_write_file(const char *path, const char *token);

/* Finds the client token from the environment and ~/.ray/auth_token; when
 * FALLBACK_PATH is not NULL it is tried after ~/.ray/auth_token.  When
 * RAY_AUTH_TOKEN or RAY_AUTH_TOKEN_PATH is set, only it is tried.  On
 * success fills OUT, stores where it came from in SOURCE (may be NULL) and
 * returns 0; otherwise returns the last source's error (SOURCE names it):
 * -ENOENT when its file does not exist (token_env_set() tells a missing
 * RAY_AUTH_TOKEN_PATH file from no token anywhere), a TOKEN_ERR_ code or
 * another -errno. */
int token_find(char *out, size_t outlen, const char *fallback_path,
               char *source, size_t sourcelen);

/* True when RAY_AUTH_TOKEN or RAY_AUTH_TOKEN_PATH is set (not empty). */
int token_env_set(void);

/* Default token path for this user: $HOME/.ray/auth_token. */
int token_default_path(char *out, size_t outlen);

/* Compares two tokens in time independent of where they differ. */
int token_equal(const char *a, const char *b);

#endif

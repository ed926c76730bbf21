/* Cluster-token checks for HTTP requests and the browser heuristic. */
#include "jobserver/http_auth.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "common/token.h"

const char *const http_auth_browser_headers[] = {
    "Origin", "Referer", "Sec-Fetch-Mode", "Sec-Fetch-Dest", "Sec-Fetch-Site",
    "Sec-Fetch-User", "Access-Control-Request-Method", "Access-Control-Request-Headers",
    NULL,
};

/* Returns the token after a "Bearer " scheme (case-insensitive, extra spaces
 * allowed), or NULL when VALUE has another form. */
static const char *strip_bearer(const char *value)
{
    if (strncasecmp(value, "Bearer", 6) != 0 || (value[6] != ' ' && value[6] != '\t'))
        return NULL;
    value += 6;
    while (*value == ' ' || *value == '\t')
        value++;
    return value;
}

/* Compares TOKEN (possibly followed by spaces) with EXPECTED. */
static int token_matches(const char *token, const char *expected)
{
    char clean[TOKEN_MAX + 2];
    size_t n = strcspn(token, " \t\r\n");
    if (n == 0 || n > TOKEN_MAX || token[n + strspn(token + n, " \t\r\n")] != '\0')
        return 0;
    memcpy(clean, token, n);
    clean[n] = '\0';
    return token_equal(clean, expected);
}

enum http_auth_result http_auth_check(const char *authorization, const char *x_ray_authorization,
                                      const char *cookie, const char *expected)
{
    const char *token;
    if (authorization != NULL && *authorization != '\0') {
        token = strip_bearer(authorization);
    } else if (x_ray_authorization != NULL && *x_ray_authorization != '\0') {
        token = strip_bearer(x_ray_authorization);
        if (token == NULL)
            token = x_ray_authorization;
    } else if (cookie != NULL && *cookie != '\0') {
        token = cookie;
    } else {
        return HTTP_AUTH_MISSING;
    }
    if (token == NULL || !token_matches(token, expected))
        return HTTP_AUTH_INVALID;
    return HTTP_AUTH_OK;
}

int http_auth_is_browser(const char *user_agent, int has_browser_header)
{
    return has_browser_header || (user_agent != NULL && strncmp(user_agent, "Mozilla", 7) == 0);
}

int http_auth_method_mutates(const char *method)
{
    return strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
           strcmp(method, "DELETE") == 0 || strcmp(method, "PATCH") == 0;
}

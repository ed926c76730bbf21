/* Cluster-token checks for HTTP requests (Ray's token authentication) and the
 * browser heuristic that keeps browsers from changing state. */
#ifndef RAYC_JOBSERVER_HTTP_AUTH_H
#define RAYC_JOBSERVER_HTTP_AUTH_H

enum http_auth_result {
    HTTP_AUTH_OK = 0,
    HTTP_AUTH_MISSING,   /* no token presented: 401 */
    HTTP_AUTH_INVALID,   /* a wrong token: 403 */
};

#define HTTP_AUTH_COOKIE "ray-authentication-token"
#define HTTP_AUTH_MISSING_TEXT "Unauthorized: Missing authentication token"
#define HTTP_AUTH_INVALID_TEXT "Forbidden: Invalid authentication token"
#define HTTP_AUTH_BROWSER_TEXT "Method Not Allowed for browser traffic."

/* Checks the token presented in the first non-empty of AUTHORIZATION
 * ("Bearer T"), X_RAY_AUTHORIZATION ("Bearer T" or "T") and COOKIE ("T"),
 * as Ray does, against EXPECTED.  Any argument but EXPECTED may be NULL. */
enum http_auth_result http_auth_check(const char *authorization, const char *x_ray_authorization,
                                      const char *cookie, const char *expected);

/* Headers whose presence marks a request as coming from a browser. */
extern const char *const http_auth_browser_headers[];

/* True when a request with USER_AGENT (may be NULL) and, when
 * HAS_BROWSER_HEADER, one of http_auth_browser_headers looks like a browser's. */
int http_auth_is_browser(const char *user_agent, int has_browser_header);

/* True for methods a browser-looking request may not use (POST, PUT, DELETE, PATCH). */
int http_auth_method_mutates(const char *method);

#endif

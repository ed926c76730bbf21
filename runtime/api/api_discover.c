/* Finding the cluster: the GCS address, the token, the local raylet's socket. */
#include "api/api.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/net.h"
#include "common/node_registry.h"
#include "common/rpc.h"
#include "common/rpc_client.h"
#include "common/token.h"
#include "common/uds.h"
#include "common/util.h"

int api_find_token(const char *given, char *out, size_t outlen)
{
    if (given != NULL) {
        int bad = token_check(given, strlen(given), out, outlen);
        return bad == 0 ? RAY_OK
                        : api_fail(RAY_ERR_INVALID, "ray_init: the given token is refused: %s",
                                   token_error(bad));
    }
    char fallback[PATH_MAX + 64], source[PATH_MAX];
    node_token_fallback(NULL, fallback, sizeof fallback);
    int rc = token_find(out, outlen, fallback, source, sizeof source);
    if (rc == -ENOENT && !token_env_set())
        return api_fail(RAY_ERR_CONNECTION, "ray_init: no cluster token (set RAY_AUTH_TOKEN "
                                            "or RAY_AUTH_TOKEN_PATH)");
    if (rc != 0)
        return api_fail(RAY_ERR_CONNECTION, "ray_init: cannot read the cluster token from %s: %s",
                        source, token_error(rc));
    return RAY_OK;
}

int api_find_gcs(const char *given, char *out, size_t outlen)
{
    const char *env = getenv("RAY_ADDRESS");
    if (given == NULL && env != NULL && *env != '\0' && strcmp(env, "auto") != 0 &&
        strncmp(env, "http", 4) != 0)
        given = env;
    if (given != NULL)
        return str_copy(out, outlen, given) == 0
                   ? RAY_OK
                   : api_fail(RAY_ERR_INVALID, "ray_init: the address is too long");
    int rc = node_current_gcs(NULL, out, outlen);
    if (rc == -ENOENT)
        return api_fail(RAY_ERR_CONNECTION, "ray_init: could not find any running Ray instance "
                                            "(set RAY_ADDRESS or run `ray start --head`)");
    return rc == 0 ? RAY_OK : api_fail(RAY_ERR_INVALID, "ray_init: the local cluster's address "
                                                        "is too long");
}

/* Picks the raylet of this host from LIST: the head when it is local, else
 * the first live local node.  Returns its index or -1. */
static int pick_local(const Rayc__NodeList *list)
{
    int best = -1;
    for (size_t i = 0; i < list->n_nodes; i++) {
        const Rayc__NodeInfo *n = list->nodes[i];
        if (n->state != RAYC__NODE_INFO__STATE__ALIVE || n->node_dir == NULL ||
            !net_is_local_ipv4(n->address))
            continue;
        if (best < 0 || n->is_head)
            best = (int)i;
    }
    return best;
}

int api_gcs_connect(const char *addr, const char *token, int timeout_ms, rpc_client **out)
{
    char host[256], err[512];
    int port;
    if (net_parse_hostport(addr, 6379, host, sizeof host, &port) != 0)
        return api_fail(RAY_ERR_INVALID, "ray_init: malformed address '%s' (want ip:port)", addr);
    int rc = rpc_client_connect(host, port, token, "driver", timeout_ms, out, err, sizeof err);
    if (rc != 0)
        return api_fail(RAY_ERR_CONNECTION, "ray_init: cannot reach the GCS at %s: %s", addr,
                        rc == -EACCES ? "the cluster token was refused" : err);
    return RAY_OK;
}

int api_gcs_call(rpc_client *c, Rayc__Envelope *req, int want, int timeout_ms,
                 Rayc__Envelope **reply, const char *what)
{
    char err[512];
    *reply = NULL;
    int rc = rpc_client_call(c, req, timeout_ms, reply, err, sizeof err);
    if (rc == 0 && (int)(*reply)->body_case == want)
        return RAY_OK;
    if (*reply != NULL)
        rayc__envelope__free_unpacked(*reply, NULL);
    *reply = NULL;
    return api_fail(RAY_ERR_CONNECTION, "ray_init: %s failed at the GCS: %s", what,
                    rc ? err : "unexpected reply");
}

int api_find_raylet(rpc_client *c, const char *addr, int timeout_ms, char *sock, size_t socklen)
{
    Rayc__Envelope req = RAYC__ENVELOPE__INIT;
    Rayc__GetAllNodes get = RAYC__GET_ALL_NODES__INIT;
    req.body_case = RAYC__ENVELOPE__BODY_GET_ALL_NODES;
    req.get_all_nodes = &get;
    Rayc__Envelope *reply;
    int rc = api_gcs_call(c, &req, RAYC__ENVELOPE__BODY_NODE_LIST, timeout_ms, &reply,
                          "GetAllNodes");
    if (rc != RAY_OK)
        return rc;
    int i = pick_local(reply->node_list);
    if (i >= 0)
        snprintf(sock, socklen, "%s/sockets/raylet", reply->node_list->nodes[i]->node_dir);
    rayc__envelope__free_unpacked(reply, NULL);
    if (i < 0)
        return api_fail(RAY_ERR_CONNECTION, "ray_init: the cluster at %s has no live node on "
                                            "this host (run `ray start --address=%s`)", addr, addr);
    return RAY_OK;
}

/* Sends Hello on the blocking socket FD and reads HelloReply. */
static int hello(int fd, const char *token, const char *kind, int timeout_ms)
{
    Rayc__Envelope env = RAYC__ENVELOPE__INIT;
    Rayc__Hello h = RAYC__HELLO__INIT;
    h.token = (char *)token;
    h.client_kind = (char *)kind;
    env.body_case = RAYC__ENVELOPE__BODY_HELLO;
    env.hello = &h;
    Rayc__Envelope *reply = NULL;
    int rc = api_request(&env, timeout_ms, &reply);
    if (rc != 0)
        return api_conn_fail(rc, "ray_init: hello to the raylet");
    int ok = reply->body_case == RAYC__ENVELOPE__BODY_HELLO_REPLY;
    if (ok && reply->hello_reply->session_name != NULL)
        str_copy(api_g.session, sizeof api_g.session, reply->hello_reply->session_name);
    rc = ok ? RAY_OK
            : api_fail(RAY_ERR_CONNECTION, "ray_init: the raylet refused us: %s",
                       reply->body_case == RAYC__ENVELOPE__BODY_ERROR ? reply->error->message
                                                                      : "unexpected reply");
    rayc__envelope__free_unpacked(reply, NULL);
    (void)fd;
    return rc;
}

int api_connect_raylet(const char *path, const char *token, const char *kind, int timeout_ms)
{
    int fd = uds_connect(path, timeout_ms);
    if (fd < 0)
        return -api_fail(RAY_ERR_CONNECTION, "cannot connect to the raylet at %s: %s", path,
                         strerror(-fd));
    api_conn_init(fd);
    const char *slash = strrchr(path, '/');
    snprintf(api_g.sock_dir, sizeof api_g.sock_dir, "%.*s", slash ? (int)(slash - path) : 0, path);
    api_chan_init(token);
    int rc = hello(fd, token, kind, timeout_ms);
    if (rc != RAY_OK) {
        char keep[API_ERROR_MAX];
        snprintf(keep, sizeof keep, "%s", ray_last_error());
        api_conn_close();
        api_fail_msg(rc, keep);
        return -rc;
    }
    api_ostate_start();
    return fd;
}

/* Addresses and ports: parsing "host:port", this host's IPv4 addresses, free ports. */
#include "common/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/util.h"

int net_parse_hostport(const char *s, int default_port, char *host, size_t hostlen, int *port)
{
    const char *colon = strrchr(s, ':');
    size_t hl = colon ? (size_t)(colon - s) : strlen(s);
    if (hl == 0 || hl >= hostlen || strchr(s, '/') != NULL)
        return -EINVAL;
    memcpy(host, s, hl);
    host[hl] = '\0';
    if (colon == NULL) {
        if (default_port < 0)
            return -EINVAL;
        *port = default_port;
        return 0;
    }
    long p;
    if (parse_long(colon + 1, 1, 65535, &p) != 0)
        return -EINVAL;
    *port = (int)p;
    return 0;
}

int net_resolve_ipv4(const char *host, char *out, size_t outlen)
{
    struct in_addr a;
    if (inet_pton(AF_INET, host, &a) == 1)
        return str_copy(out, outlen, host) == 0 ? 0 : -EINVAL;
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    if (getaddrinfo(host, NULL, &hints, &res) != 0 || res == NULL)
        return -EHOSTUNREACH;
    inet_ntop(AF_INET, &((struct sockaddr_in *)res->ai_addr)->sin_addr, out, (socklen_t)outlen);
    freeaddrinfo(res);
    return 0;
}

/* Calls FN for every IPv4 address of an interface that is up; stops when FN
 * returns non-zero and returns that value. */
static int each_ipv4(int (*fn)(const char *ip, int loopback, void *data), void *data)
{
    struct ifaddrs *list, *i;
    if (getifaddrs(&list) != 0)
        return 0;
    int rc = 0;
    for (i = list; i != NULL && rc == 0; i = i->ifa_next) {
        if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET || !(i->ifa_flags & IFF_UP))
            continue;
        char ip[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, ip, sizeof ip);
        rc = fn(ip, (i->ifa_flags & IFF_LOOPBACK) != 0, data);
    }
    freeifaddrs(list);
    return rc;
}

static int match_ip(const char *ip, int loopback, void *data)
{
    (void)loopback;
    return strcmp(ip, data) == 0;
}

static int is_loopback(const char *ip, int loopback, void *data)
{
    (void)ip;
    (void)data;
    return loopback;
}

int net_is_local_ipv4(const char *ip)
{
    if (each_ipv4(match_ip, (void *)ip))
        return 1;
    /* The loopback interface carries 127.0.0.1 but answers for all of
     * 127.0.0.0/8 (a node started on 127.0.0.2 is this host's). */
    struct in_addr a;
    return inet_pton(AF_INET, ip, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127 &&
           each_ipv4(is_loopback, NULL);
}

static int first_public(const char *ip, int loopback, void *data)
{
    if (loopback)
        return 0;
    snprintf(data, INET_ADDRSTRLEN, "%s", ip);
    return 1;
}

int net_default_ipv4(char *out, size_t outlen)
{
    char ip[INET_ADDRSTRLEN] = "127.0.0.1";
    each_ipv4(first_public, ip);
    str_copy(out, outlen, ip);
    return 0;
}

/* Binds a TCP socket to IP:PORT; returns the fd or -errno. */
static int bind_tcp(const char *ip, int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1)
        return -EINVAL;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

int net_pick_free_port(const char *ip)
{
    int fd = bind_tcp(ip, 0);
    if (fd < 0)
        return fd;
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    int rc = getsockname(fd, (struct sockaddr *)&sa, &len) == 0 ? ntohs(sa.sin_port) : -errno;
    close(fd);
    return rc;
}

int net_port_free(const char *ip, int port)
{
    int fd = bind_tcp(ip, port);
    if (fd < 0)
        return 0;
    close(fd);
    return 1;
}

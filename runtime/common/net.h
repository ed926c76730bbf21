/* Addresses and ports: parsing "host:port", this host's IPv4 addresses, free ports. */
#ifndef RAYC_COMMON_NET_H
#define RAYC_COMMON_NET_H

#include <stddef.h>

/* Splits "HOST:PORT" (HOST may be a name or IPv4; an "http://" prefix or a
 * trailing "/" is not accepted here).  When the port is missing, DEFAULT_PORT
 * is used (-1: required).  Returns 0 or -EINVAL. */
int net_parse_hostport(const char *s, int default_port, char *host, size_t hostlen, int *port);

/* Resolves HOST (name or dotted quad) to a dotted-quad IPv4 in OUT.
 * Returns 0 or -EHOSTUNREACH. */
int net_resolve_ipv4(const char *host, char *out, size_t outlen);

/* True when IP is assigned to an interface of this network namespace, or
 * is in 127.0.0.0/8 and the namespace's loopback interface is up. */
int net_is_local_ipv4(const char *ip);

/* This host's preferred IPv4: the first non-loopback address of an interface
 * that is up, else 127.0.0.1.  Sends no traffic.  Returns 0. */
int net_default_ipv4(char *out, size_t outlen);

/* Returns a TCP port that is free on IP right now (bound then released),
 * or a negative errno. */
int net_pick_free_port(const char *ip);

/* True when nothing listens on IP:PORT and it can be bound. */
int net_port_free(const char *ip, int port);

#endif

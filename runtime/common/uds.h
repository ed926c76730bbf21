/* Unix-domain stream sockets at paths of any length.
 *
 * sun_path holds at most 107 bytes and node directories can be deeper than
 * that.  A long path is reached through an O_PATH descriptor of its
 * directory: "/proc/self/fd/N/NAME" names the same socket (the raylet binds
 * the same way). */
#ifndef RAYC_COMMON_UDS_H
#define RAYC_COMMON_UDS_H

/* Connects a blocking, close-on-exec stream socket to PATH, waiting at most
 * TIMEOUT_MS for the connection.  Returns the descriptor, or -errno
 * (-ENOENT: no socket there, -ECONNREFUSED: nobody listening,
 * -ENAMETOOLONG: even the short form does not fit). */
int uds_connect(const char *path, int timeout_ms);

/* Binds a close-on-exec stream socket at PATH (any length; a stale socket
 * file there is replaced) and listens.  Returns the descriptor or -errno. */
int uds_listen(const char *path, int backlog);

#endif

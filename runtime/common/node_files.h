/* Names of the files a node keeps outside its node directory, shared by the
 * raylet (which makes them) and `ray stop` (which removes what a killed
 * raylet left behind). */
#ifndef RAYC_COMMON_NODE_FILES_H
#define RAYC_COMMON_NODE_FILES_H

#include <stddef.h>

/* The object store's shared-memory file prefix of node NODE_ID
 * ("rayc_<first 16 hex>_"), written into OUT. */
void node_shm_prefix(const char *node_id, char *out, size_t outlen);

/* The directory holding the object store's shared memory: $RAY_object_store_shm_dir
 * or /dev/shm.  The string is static or from the environment. */
const char *node_shm_dir(void);

/* Removes every file in DIR (NULL or "": node_shm_dir()) whose name starts
 * with NODE_ID's prefix.  Returns how many were removed. */
int node_shm_remove(const char *dir, const char *node_id);

#endif

/* Protobuf helpers for the GCS: deep copies and id checks. */
#include "gcs/gcs_server.h"

#include <stdlib.h>
#include <string.h>

ProtobufCMessage *gcs_msg_dup(const ProtobufCMessage *msg)
{
    size_t len = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = malloc(len ? len : 1);
    if (buf == NULL)
        return NULL;
    protobuf_c_message_pack(msg, buf);
    ProtobufCMessage *copy = protobuf_c_message_unpack(msg->descriptor, NULL, len, buf);
    free(buf);
    return copy;
}

int gcs_valid_id(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > GCS_MAX_ID_LEN)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        int ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                 (c >= 'A' && c <= 'Z') || c == '_' || c == '-';
        if (!ok)
            return 0;
    }
    return 1;
}

/*
 * MessagePack-RPC messages on the wire:
 *   request       [0, msgid, method, params]
 *   response      [1, msgid, error, result]
 *   notification  [2, method, params]
 */
#ifndef XIPC_RPC_WIRE_H
#define XIPC_RPC_WIRE_H

#include "xipc/msgpack.h"

#define XIPC_RPC_REQUEST 0
#define XIPC_RPC_RESPONSE 1
#define XIPC_RPC_NOTIFICATION 2

/* Longest message text in the error objects xipc writes. */
#define XIPC_RPC_ERRMSG_MAX 1024

/* One decoded message; pointers into the message's bytes. */
typedef struct xipc_rpc_msg {
    int type;              /* XIPC_RPC_REQUEST... */
    uint32_t msgid;        /* request, response */
    const char *method;    /* request, notification (not NUL-terminated) */
    uint32_t method_len;
    const uint8_t *params; /* request, notification: the params value */
    size_t params_len;
    int params_array;      /* the params value is an array */
    const uint8_t *error;  /* response */
    size_t error_len;
    const uint8_t *result; /* response */
    size_t result_len;
} xipc_rpc_msg;

/*
 * Decode the envelope of the complete message @p buf (one value). The
 * params, error and result are located, not decoded.
 * @return XIPC_OK, XIPC_EPROTO (not a MessagePack-RPC message)
 */
xipc_err xipc__rpc_msg_parse(xipc_rpc_msg *m, const uint8_t *buf, size_t len);

/* The header of a request or notification, up to the params: the caller
 * appends the params array. @p msgid is ignored for notifications. */
xipc_err xipc__rpc_write_call_hdr(xipc_mp_buf *b, int type, uint32_t msgid,
                                  const char *method, size_t method_len);

/* Check what a caller asks to send: a method name of 1..255 bytes, and
 * @p params exactly one well-formed array (or NULL with @p len 0: []).
 * @return XIPC_OK, XIPC_EINVAL */
xipc_err xipc__rpc_check_call(const char *method, const void *params, size_t len);

/* [1, msgid, nil, — the start of a successful response */
xipc_err xipc__rpc_write_result_hdr(xipc_mp_buf *b, uint32_t msgid);

/* [1, msgid, [code, message], nil] (message cut at XIPC_RPC_ERRMSG_MAX) */
xipc_err xipc__rpc_write_error(xipc_mp_buf *b, uint32_t msgid, int64_t code,
                               const char *message);

#endif

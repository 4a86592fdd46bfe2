/* Encoding and decoding the MessagePack-RPC envelope (see rpc_wire.h). */
#include <string.h>

#include "rpc/rpc_fmt.h"
#include "rpc/rpc_scan.h"
#include "rpc/rpc_wire.h"

/* Locate the next value: its bytes and length. */
static xipc_err wire_span(xipc_mp_reader *r, const uint8_t *buf, size_t len,
                          const uint8_t **at, size_t *n)
{
    size_t before = xipc_mp_reader_left(r);
    *at = buf + (len - before);
    xipc_err rv = xipc_mp_skip(r);
    *n = before - xipc_mp_reader_left(r);
    return rv;
}

xipc_err xipc__rpc_msg_parse(xipc_rpc_msg *m, const uint8_t *buf, size_t len)
{
    xipc_mp_reader r;
    uint32_t n;
    uint64_t type;
    memset(m, 0, sizeof(*m));
    xipc_mp_reader_init(&r, buf, len);
    if (xipc_mp_read_array(&r, &n) != XIPC_OK || xipc_mp_read_uint(&r, &type) != XIPC_OK)
        return XIPC_EPROTO;
    if ((type == XIPC_RPC_REQUEST || type == XIPC_RPC_RESPONSE) && n != 4)
        return XIPC_EPROTO;
    if (type == XIPC_RPC_NOTIFICATION && n != 3)
        return XIPC_EPROTO;
    if (type > XIPC_RPC_NOTIFICATION)
        return XIPC_EPROTO;
    m->type = (int)type;
    if (type != XIPC_RPC_NOTIFICATION && xipc_mp_read_uint32(&r, &m->msgid) != XIPC_OK)
        return XIPC_EPROTO;
    if (type == XIPC_RPC_RESPONSE) {
        if (wire_span(&r, buf, len, &m->error, &m->error_len) != XIPC_OK ||
            wire_span(&r, buf, len, &m->result, &m->result_len) != XIPC_OK)
            return XIPC_EPROTO;
    } else {
        xipc_mp_obj o;
        if (xipc_mp_read_str(&r, &m->method, &m->method_len) != XIPC_OK ||
            xipc_mp_peek(&r, &o) != XIPC_OK)
            return XIPC_EPROTO;
        m->params_array = o.type == XIPC_MP_ARRAY;
        if (wire_span(&r, buf, len, &m->params, &m->params_len) != XIPC_OK)
            return XIPC_EPROTO;
    }
    return xipc_mp_reader_left(&r) == 0 ? XIPC_OK : XIPC_EPROTO;
}

xipc_err xipc__rpc_write_call_hdr(xipc_mp_buf *b, int type, uint32_t msgid,
                                  const char *method, size_t method_len)
{
    xipc_mp_write_array(b, type == XIPC_RPC_NOTIFICATION ? 3 : 4);
    xipc_mp_write_uint(b, (uint64_t)type);
    if (type != XIPC_RPC_NOTIFICATION)
        xipc_mp_write_uint(b, msgid);
    return xipc_mp_write_str(b, method, method_len);
}

xipc_err xipc__rpc_write_result_hdr(xipc_mp_buf *b, uint32_t msgid)
{
    xipc_mp_write_array(b, 4);
    xipc_mp_write_uint(b, XIPC_RPC_RESPONSE);
    xipc_mp_write_uint(b, msgid);
    return xipc_mp_write_nil(b);
}

xipc_err xipc__rpc_write_error(xipc_mp_buf *b, uint32_t msgid, int64_t code,
                               const char *message)
{
    size_t n = message != NULL ? strlen(message) : 0;
    if (n > XIPC_RPC_ERRMSG_MAX)
        n = XIPC_RPC_ERRMSG_MAX;
    xipc_mp_write_array(b, 4);
    xipc_mp_write_uint(b, XIPC_RPC_RESPONSE);
    xipc_mp_write_uint(b, msgid);
    xipc_mp_write_array(b, 2);
    xipc_mp_write_int(b, code);
    xipc_mp_write_str(b, n > 0 ? message : "", n);
    return xipc_mp_write_nil(b);
}

xipc_err xipc__rpc_check_call(const char *method, const void *params, size_t len)
{
    if (method == NULL || method[0] == '\0' || strlen(method) > XIPC_RPC_METHOD_MAX)
        return XIPC_EINVAL;
    if (params == NULL)
        return len == 0 ? XIPC_OK : XIPC_EINVAL;
    const uint8_t *p = params;
    /* one value, and an array: fixarray, array 16, array 32 */
    if (len == 0 || !((p[0] >= 0x90 && p[0] <= 0x9f) || p[0] == 0xdc || p[0] == 0xdd))
        return XIPC_EINVAL;
    return xipc__rpc_scan_exact(params, len, XIPC_RPC_SCAN_DEPTH) == XIPC_OK
               ? XIPC_OK
               : XIPC_EINVAL;
}

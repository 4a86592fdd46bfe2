/*
 * The format-string language of include/xipc/rpc.h (one letter per value:
 * n B i I u U d s b m), on top of the codec. Shared by the client's callf,
 * notifyf, pack and result_scanf and the server's argsf and returnf.
 */
#ifndef XIPC_RPC_FMT_H
#define XIPC_RPC_FMT_H

#include <stdarg.h>

#include "xipc/msgpack.h"

/* Longest method name, in bytes. */
#define XIPC_RPC_METHOD_MAX 255

/* Copies handed out by reads (s, b, m), freed together on failure. */
typedef struct xipc_rpc_allocs {
    void **p;
    size_t n, cap;
} xipc_rpc_allocs;

/* Free every copy and forget them. */
void xipc__rpc_allocs_free(xipc_rpc_allocs *a);
/* Forget the copies without freeing them (the caller owns them now). */
void xipc__rpc_allocs_forget(xipc_rpc_allocs *a);

/* Count the letters of @p fmt (NULL counts 0). XIPC_EINVAL on an unknown one. */
xipc_err xipc__rpc_fmt_count(const char *fmt, uint32_t *n);

/* Write one value per letter, taking arguments from @p ap. */
xipc_err xipc__rpc_fmt_write(xipc_mp_buf *b, const char *fmt, va_list *ap);

/*
 * Write a whole value from @p fmt: one letter alone, several as an array
 * (@p as_array forces an array even for one letter or none).
 */
xipc_err xipc__rpc_fmt_write_value(xipc_mp_buf *b, const char *fmt,
                                   va_list *ap, int as_array);

/* A notification sender: a client's or a link's (xipc_rpc_notify...). */
typedef xipc_err (*xipc_rpc_notify_send)(void *to, const char *method,
                                         const void *params, size_t len,
                                         int timeout_ms);

/* Pack the params of @p fmt from @p ap as an array and send them with
 * @p send: the body of xipc_rpc_notifyf and xipc_rpc_link_notifyf. */
xipc_err xipc__rpc_fmt_notify(xipc_rpc_notify_send send, void *to, const char *method,
                              int timeout_ms, const char *fmt, va_list *ap);

/*
 * Read one value per letter into the pointers taken from @p ap; copies go
 * into @p a. On XIPC_EINVAL @p why (may be NULL) says which value (from 1)
 * and why, as "2: expected int, got str"; the reader may have moved.
 * @return XIPC_OK, XIPC_EINVAL, XIPC_EPROTO, XIPC_ENOMEM
 */
xipc_err xipc__rpc_fmt_read(xipc_mp_reader *r, const char *fmt, va_list *ap,
                            xipc_rpc_allocs *a, char *why, size_t whycap);

/*
 * Read the whole value @p buf/@p len per @p fmt: one letter reads it
 * directly, several read an array of exactly that many, "" or NULL
 * accepts anything.
 */
xipc_err xipc__rpc_fmt_read_value(const void *buf, size_t len, const char *fmt,
                                  va_list *ap, xipc_rpc_allocs *a);

/* Consume the arguments of @p fmt's reading side without storing. */
void xipc__rpc_fmt_skip_read_args(const char *fmt, va_list *ap);

#endif

/*
 * The client's insides, shared by rpc_client.c (connection, reader thread,
 * pending calls, futures) and rpc_result.c (results, remote errors, the
 * format-string calls).
 */
#ifndef XIPC_RPC_CLIENT_H
#define XIPC_RPC_CLIENT_H

#include <stdatomic.h>

#include "rpc/rpc_conn.h"
#include "rpc/rpc_fmt.h"
#include "rpc/rpc_wire.h"
#include "xipc/rpc.h"

#define CLI_BUCKETS 256u

enum { FUT_PENDING, FUT_DONE };

/* Who receives on the connection (xipc_rpc_client.token): nobody, the
 * reader thread, or a thread inside xipc_rpc_call waiting for its own
 * response (the direct path, which saves two thread hand-offs a call). */
enum { CLI_TOK_NONE, CLI_TOK_READER, CLI_TOK_CALLER };

struct xipc_rpc_future {
    xipc_rpc_future *next; /* bucket chain while pending */
    xipc_rpc_client *c;
    uint32_t msgid;
    int state;
    xipc_err status;
    uint8_t *msg; /* the response's bytes (owned) */
    size_t value_off, value_len, error_off, error_len;
    xipc_plat_cond cond;
    xipc_rpc_callback cb;
    void *userdata;
    int auto_free; /* free after the callback */
    int in_cb;     /* the callback is running */
    int free_req;  /* freed from inside the callback: free after it */
    int settled;   /* done and any callback returned: waiters may go */
};

struct xipc_rpc_client {
    xipc_rpc_client_opts o;
    xipc_rpc_conn *conn;
    xipc_plat_mutex mu;
    xipc_rpc_future *pending[CLI_BUCKETS];
    uint32_t npending;
    uint32_t next_id;
    xipc_err dead; /* why the connection ended, once it did */
    int closing;
    atomic_uint refs; /* the user's, plus one per future */
    xipc_plat_thread reader;
    int token;          /* CLI_TOK_*: who receives */
    int reader_parked;  /* the reader waits on idle */
    xipc_plat_cond idle;
};

/* The last remote error on this thread (xipc_rpc_last_error). */
extern _Thread_local struct xipc_rpc_last {
    int set;
    int64_t code;
    char message[XIPC_RPC_ERRMSG_MAX + 1];
} xipc__rpc_last;

/*
 * Move the outcome of completed future @p f into @p res (may be NULL) and
 * record a remote error as this thread's last. Returns the outcome.
 */
xipc_err xipc__rpc_result_take(xipc_rpc_future *f, xipc_rpc_result *res);

/* Set the next msgid @p c gives out (tests: msgid wrap-around). */
void xipc__rpc_client_set_next_id(xipc_rpc_client *c, uint32_t id);

#endif

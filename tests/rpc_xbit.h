/*
 * Cross-bitness RPC: the values, the server methods and the client check
 * shared by rpc_peer (built in every configuration) and rpc_xbit_test.
 */
#ifndef XIPC_TESTS_RPC_XBIT_H
#define XIPC_TESTS_RPC_XBIT_H

#include "xipc/msgpack.h"
#include "xipc/rpc.h"

/* Size of the bin blob among the values. */
#define RPCX_BLOB (1u << 20)

/*
 * Write the params array: [int64 extremes..., uint64 extremes..., doubles
 * (bit patterns: -0.0, a NaN with payload, denormals, infinities...),
 * float 32, a 1 MiB bin, nested maps with str, int and bool keys, a
 * timestamp, an ext]. 0 on success.
 */
int rpcx_build(xipc_mp_buf *b);

/* Register "echo" (params back as they came), "reencode" (every value
 * decoded into C types and written again), "bits" (pointer width). */
xipc_err rpcx_register(xipc_rpc_server *srv);

/*
 * Dial @p url, check the server's pointer width equals @p want_bits (0:
 * any), then call echo and reencode with the values and compare the
 * results with the params byte for byte, and decode them into C values
 * that must equal the originals. 0 on success; prints why otherwise.
 */
int rpcx_client(const char *url, unsigned want_bits);

#endif

/* Cross-bitness traffic: one side of a connection, run by a 64-bit and a
 * 32-bit process. See xbit.c. */
#ifndef XIPC_TESTS_XBIT_H
#define XIPC_TESTS_XBIT_H

/*
 * Run one side: "listen" or "dial" at @p url, then send @p count messages
 * of random sizes 1 B..64 KiB while receiving @p count from the peer, each
 * verified byte for byte and by checksum and sequence number. @p zc uses
 * reserve/commit and peek/release. When @p want_peer_bits is non-zero the
 * peer's pointer width must equal it.
 * @return 0 on success; prints the reason and returns 1 on failure.
 */
int xbit_run(const char *role, const char *url, long count, int zc,
             unsigned want_peer_bits);

#endif

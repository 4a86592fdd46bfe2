/*
 * Every driver (drv.h) the suites list: xipc's transports and RPC, the raw
 * baselines, memcpy, and the peer libraries (built only when CMake found
 * them: XIPC_BENCH_HAVE_ZMQ, _NNG, _DBUS).
 */
#ifndef XIPC_BENCH_DRIVERS_H
#define XIPC_BENCH_DRIVERS_H

#include "harness/drv.h"
#include "harness/peer.h"

/* xipc channels (xipc.c) */
extern const bench_drv bench_drv_x_shm;
extern const bench_drv bench_drv_x_shm_nospin; /* spin_us = 0 on both ends */
extern const bench_drv bench_drv_x_shm_zc;     /* reserve/commit, peek/release */
extern const bench_drv bench_drv_x_shm_xbit;   /* the peer: the --peer32 xipc */
/* The xipc program that bench_drv_x_shm_xbit's peer is (scripts/run32
 * starts it), or NULL: none, its cases fail saying so. */
void bench_drv_x_shm_xbit_peer(const char *prog);
extern const bench_drv bench_drv_x_pipe;
extern const bench_drv bench_drv_x_unix;
extern const bench_drv bench_drv_x_tcp;
extern const bench_drv bench_drv_x_tls;   /* ENOTSUP at setup without OpenSSL */
extern const bench_drv bench_drv_x_spawn; /* xipc_spawn of this program */
/* unix:// and tcp:// with the throughput stream sent XIPC_SEND_MORE */
extern const bench_drv bench_drv_x_unix_more;
extern const bench_drv bench_drv_x_tcp_more;
/* one-way endpoints, one per direction (xipc_oneway.c) */
extern const bench_drv bench_drv_x_mailslot;
extern const bench_drv bench_drv_x_mq;
extern const bench_drv bench_drv_x_clipboard; /* latest value; Windows only */
extern const bench_drv bench_drv_x_dde;       /* DDE pokes; Windows only */
/* pubsub:// with cfg.subs subscribers (xipc_pubsub.c) */
extern const bench_drv bench_drv_x_pubsub;
/* MessagePack-RPC: rtt calls "echo" with a bin of cfg.size bytes (a null
 * call at size 0), put is a pipelined call, call() a null call from any
 * thread (xipc_rpc.c) */
extern const bench_drv bench_drv_rpc_shm;
extern const bench_drv bench_drv_rpc_unix;
extern const bench_drv bench_drv_rpc_tcp;
extern const bench_drv bench_drv_rpc_shm_nospin; /* shm:// with spin_us = 0 */
extern const bench_drv bench_drv_rpc_shm_inline; /* shm://, null and echo XIPC_RPC_INLINE */
/* the same two, but call() from thread i uses a client of its own (up to
 * RPCB_MAX_CLIENTS: one connection per calling thread) */
extern const bench_drv bench_drv_rpc_shm_per;
extern const bench_drv bench_drv_rpc_shm_inline_per;
/* The raw baselines, with CPU accounting (posix/raw.c; on Windows
 * win32/raw.c skips them, saying so) */
extern const bench_drv bench_drv_raw_spin; /* a counter on one cache line */
extern const bench_drv bench_drv_raw_pipe; /* two pipe(2)s */
extern const bench_drv bench_drv_raw_unix; /* socketpair AF_UNIX stream */
extern const bench_drv bench_drv_raw_tcp;  /* TCP loopback, TCP_NODELAY */
/* memcpy into a reused buffer, in one process (memcpy.c) */
extern const bench_drv bench_drv_memcpy;

/* The peer libraries; a stand-in that skips with "library not found at
 * build time" when absent. PAIR sockets for channels (zmq, nng), REQ/REP
 * for RPC (nng), a method call through a private dbus-daemon (dbus). */
extern const bench_drv bench_drv_zmq_ipc;
extern const bench_drv bench_drv_zmq_tcp;
extern const bench_drv bench_drv_nng_ipc;
extern const bench_drv bench_drv_nng_tcp;
extern const bench_drv bench_drv_nng_req_ipc;
extern const bench_drv bench_drv_nng_req_tcp;
extern const bench_drv bench_drv_dbus;

/* The peer programs of those drivers that run on every OS (peers.c). */
extern const bench_peer_prog bench_peer_xchan;  /* xipc.c */
extern const bench_peer_prog bench_peer_oneway; /* xipc_oneway.c */
extern const bench_peer_prog bench_peer_pubsub; /* xipc_pubsub.c */
extern const bench_peer_prog bench_peer_rpc;    /* xipc_rpc.c: the server */

/* The program xipc_spawn starts for bench_drv_x_spawn (bench.c dispatches
 * "--spawn-peer MODE FD" here). @return an exit code */
int bench_spawn_peer_main(const char *mode, const char *fd);

/* The peer of bench_drv_x_shm_xbit, the --peer32 xipc started through
 * scripts/run32 (bench.c dispatches "--shm-peer URL rtt|thr" here).
 * @return an exit code */
int bench_shm_peer_main(const char *url, const char *mode);

/* The nng peer, exec'd anew after the fork (nng refuses to run in a forked
 * child of a process that used it): "--nng-peer URL rtt|thr|rpc FD". */
int bench_nng_peer_main(const char *url, const char *mode, const char *fd);

#endif

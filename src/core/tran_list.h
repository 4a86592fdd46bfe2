/* Every transport, one line each: XIPC_TRAN(symbol suffix). The table
 * xipc_<name>_tran is defined in src/transport/<name>.c. */
XIPC_TRAN(shm)
XIPC_TRAN(pipe)
XIPC_TRAN(unix)
XIPC_TRAN(tcp)
XIPC_TRAN(pubsub)
XIPC_TRAN(mailslot)
XIPC_TRAN(mq)
XIPC_TRAN(clipboard)
XIPC_TRAN(dde)
#ifdef XIPC_HAVE_TLS /* set by CMake when OpenSSL is found */
XIPC_TRAN(tls)
#endif

/*
 * Stand-ins for the peer-library drivers CMake did not find: their setup()
 * fails, so the suites skip them and say why.
 */
#include "drivers/drivers.h"
#include "harness/runner.h"

/* Why a library is absent: the mingw-w64 build looks for none (there is no
 * Windows build of them here); elsewhere its Debian package was missing. */
#ifdef _WIN32
#define MISSING_WHY(lib, pkg) lib " (not in the Windows build: CMake looks for none)"
#else
#define MISSING_WHY(lib, pkg) lib " (library not found at build time: " pkg ")"
#endif

#if !defined(XIPC_BENCH_HAVE_ZMQ) || !defined(XIPC_BENCH_HAVE_NNG) || \
    !defined(XIPC_BENCH_HAVE_DBUS)
static int missing_open(bench_conn **out, const bench_cfg *cfg)
{
    *out = 0;
    bench_set_error("not built");
    return -1;
}

static int missing_op(bench_conn *c)
{
    return -1;
}

#define MISSING(var, name, impl_, why)                                           \
    const bench_drv var = {.transport = name, .impl = impl_, .open = missing_open, \
                           .rtt = missing_op, .put = missing_op, .sync = missing_op, \
                           .close = missing_op, .setup = why}
#endif

#ifndef XIPC_BENCH_HAVE_ZMQ
static int missing_zmq(void)
{
    bench_set_error("%s", MISSING_WHY("zmq", "libzmq3-dev"));
    return -1;
}
#endif

#ifndef XIPC_BENCH_HAVE_NNG
int bench_nng_peer_main(const char *url, const char *mode, const char *fd)
{
    return 1;
}

static int missing_nng(void)
{
    bench_set_error("%s", MISSING_WHY("nng", "libnng-dev"));
    return -1;
}
#endif

#ifndef XIPC_BENCH_HAVE_DBUS
static int missing_dbus(void)
{
    bench_set_error("%s", MISSING_WHY("dbus", "libsystemd-dev"));
    return -1;
}
#endif

#ifndef XIPC_BENCH_HAVE_ZMQ
MISSING(bench_drv_zmq_ipc, "ipc", "zmq", missing_zmq);
MISSING(bench_drv_zmq_tcp, "tcp", "zmq", missing_zmq);
#endif
#ifndef XIPC_BENCH_HAVE_NNG
MISSING(bench_drv_nng_ipc, "ipc", "nng", missing_nng);
MISSING(bench_drv_nng_tcp, "tcp", "nng", missing_nng);
MISSING(bench_drv_nng_req_ipc, "reqrep-ipc", "nng", missing_nng);
MISSING(bench_drv_nng_req_tcp, "reqrep-tcp", "nng", missing_nng);
#endif
#ifndef XIPC_BENCH_HAVE_DBUS
MISSING(bench_drv_dbus, "dbus", "dbus", missing_dbus);
#endif

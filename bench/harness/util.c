/* Small helpers the drivers and the runner share (the temporary directory:
 * posix/tmpdir.c, win32/tmpdir.c). */
#include "core/platform.h"

#include "harness/util.h"

int bench_free_port(void)
{
    xipc_plat_sock s;
    uint16_t port;
    if (xipc_plat_tcp_listen("127.0.0.1", 0, 1, &s, &port) != XIPC_OK)
        return -1;
    xipc_plat_sock_close(s);
    return port;
}

void bench_nap_us(unsigned us)
{
    xipc_plat_sleep_us(us);
}

/*
 * Anonymous pipes: xipc_spawn() starts a child with a connected channel,
 * xipc_sock_from_parent() finds it in the child. On POSIX the channel is
 * a socketpair — the bidirectional anonymous pipe — announced to the child
 * in the environment variable XIPC_PARENT_FD. No name exists anywhere, so
 * only the two processes can use it.
 */
#include "core/opts.h"
#include "transport/stream.h"

#define SPAWN_ENV "XIPC_PARENT_FD"

/* No listen or dial: the channel is made only by spawning. */
static const xipc_tran spawn_tran = {
    .scheme = "spawn",
    XIPC_STREAM_OPS,
};

xipc_err xipc_spawn(xipc_sock **out, const char *path, char *const argv[],
                    uint32_t *pid)
{
    if (out == NULL || path == NULL || argv == NULL || argv[0] == NULL)
        return XIPC_EINVAL;
    *out = NULL;
    xipc_plat_sock fd;
    xipc_err rv = xipc_plat_spawn(path, argv, SPAWN_ENV, &fd, pid);
    if (rv != XIPC_OK)
        return rv;
    return xipc__stream_new(out, &spawn_tran, fd, XIPC_STREAM_MAX_MSG, "spawn://child");
}

xipc_err xipc_sock_from_parent(xipc_sock **out)
{
    if (out == NULL)
        return XIPC_EINVAL;
    *out = NULL;
    xipc_plat_sock fd;
    xipc_err rv = xipc_plat_sock_inherited(SPAWN_ENV, &fd);
    if (rv != XIPC_OK)
        return rv;
    return xipc__stream_new(out, &spawn_tran, fd, XIPC_STREAM_MAX_MSG, "spawn://parent");
}

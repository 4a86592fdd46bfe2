/*
 * xipc inspect-helper: the 64-bit helper of a 32-bit xipc library
 * (docs/inspect.md). Not listed in the help: a 32-bit library starts it
 * with xipc_spawn() and talks over the inherited channel; a person has
 * nothing to type to it.
 */
#include <stdio.h>

#include "xipc/inspect.h"

#include "cli.h"
#include "cmd.h"

int cmd_inspect_helper(int argc, char **argv)
{
    if (argc > 1)
        return cli_usage_error("usage: xipc inspect-helper  (started by the library)", argv[1],
                               "unexpected argument");
    xipc_sock *s;
    xipc_err rv = xipc_sock_from_parent(&s);
    if (rv != XIPC_OK)
        return cli_fail("inspect-helper: the channel from the parent", rv);
    rv = xipc_inspect_serve(s);
    xipc_close(s);
    return rv == XIPC_OK ? CLI_EXIT_OK : cli_fail("inspect-helper", rv);
}

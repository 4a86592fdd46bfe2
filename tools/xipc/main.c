/* xipc: the command-line front door; dispatches to one file per command. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"

#define MAIN_USAGE "usage: xipc <send|recv|pub|sub|bridge|ls|serve|call|host|ps|modules|peek|com-serve|bench|help> [ARGS...]  (xipc --help)"

typedef struct main_cmd {
    const char *name;
    int (*run)(int argc, char **argv);
} main_cmd;

static const main_cmd main_cmds[] = {
    {"send", cmd_send},
    {"recv", cmd_recv},
    {"pub", cmd_pub},
    {"sub", cmd_sub},
    {"bridge", cmd_bridge},
    {"ls", cmd_ls},
    {"serve", cmd_serve},
    {"call", cmd_call},
    {"host", cmd_host},
    {"ps", cmd_ps},
    {"modules", cmd_modules},
    {"peek", cmd_peek},
    {"com-serve", cmd_com_serve},
    {"bench", cmd_bench},
    {"inspect-helper", cmd_inspect_helper}, /* not in the help: docs/inspect.md */
};

static const char main_help[] =
    MAIN_USAGE "\n"
    "\n"
    "Talk between processes through the xipc library.\n"
    "\n"
    "commands:\n"
    "  send URL [MESSAGE...]   dial URL and send each MESSAGE, or each stdin line\n"
    "  recv URL                listen at URL and print each message on a line\n"
    "                          (mailslot: as a server; mq: as the receiver)\n"
    "  pub URL [MESSAGE...]    publish at pubsub://NAME each MESSAGE or stdin line\n"
    "  sub URL                 subscribe to pubsub://NAME, print each message\n"
    "  bridge FROM TO          pubsub://NAME to an MQTT topic (mqtt://HOST:PORT/\n"
    "                          TOPIC, through a broker) or the reverse\n"
    "  ls [--json]             list this user's endpoints, owner pid, alive\n"
    "  serve URL...            serve a MessagePack-RPC demo service (ping, echo,\n"
    "                          add, sysinfo, sleep) at every URL until a signal\n"
    "  call URL METHOD [ARG...]  call METHOD with JSON ARGs, print the result\n"
    "                          as JSON\n"
    "  host LIB --fn SIG... URL...  serve the functions of a C library of\n"
    "                          either bitness as MessagePack-RPC methods\n"
    "  ps                      list the processes of this host and their bitness\n"
    "  modules PID             list a process's modules: base, size, bitness\n"
    "  peek PID ADDR LEN       hex dump of another process's memory\n"
    "  com-serve --clsid {GUID} URL  (Windows) a COM class whose IDispatch\n"
    "                          calls the RPC service at URL by name\n"
    "  bench [ARGS...]         run the benchmark harness\n"
    "  help [COMMAND]          show this help, or a command's help\n"
    "\n"
    "options:\n"
    "  -h, --help              show this help and exit\n"
    "  -V, --version           show the version and exit\n"
    "\n"
    "URLs (the library decides what it accepts):\n"
    "  shm://NAME              shared-memory channel on this host\n"
    "  pipe://NAME             local stream socket in the per-user run dir\n"
    "  unix:///PATH, unix://@NAME   Unix socket at a path / abstract name\n"
    "  tcp://HOST:PORT         TCP (port 0 on recv: any free port)\n"
    "  mailslot://NAME         one-way datagrams to every receiver of NAME\n"
    "  mq://NAME               POSIX message queue\n"
    "  pubsub://NAME           publish/subscribe (pub and sub only; send and\n"
    "                          recv refuse it with a usage error)\n"
    "  NAME is 1-64 bytes of [A-Za-z0-9._-] and does not start with '.'\n"
    "\n"
    "exit status:\n"
    "  0  success\n"
    "  1  runtime error, printed as \"xipc: URL: REASON\", REASON being the\n"
    "     library's error text. A malformed URL is one of these (it is the\n"
    "     library that judges URLs): \"invalid argument\"; a scheme with no\n"
    "     transport: \"operation not supported by this transport\".\n"
    "  2  usage error (unknown command or option, missing URL, bad number,\n"
    "     a pubsub:// URL for send/recv or another scheme for pub/sub),\n"
    "     printed as \"xipc: WHAT: WHY\" and the command's usage line\n"
    "  128+N  stopped by signal N (recv, pub and sub close their endpoint\n"
    "     first)\n";

static const main_cmd *main_find(const char *name)
{
    for (size_t i = 0; i < sizeof(main_cmds) / sizeof(main_cmds[0]); i++)
        if (strcmp(main_cmds[i].name, name) == 0)
            return &main_cmds[i];
    return NULL;
}

/* "xipc help [COMMAND]": the command's own --help. */
static int main_help_cmd(int argc, char **argv)
{
    if (argc < 2) {
        fputs(main_help, stdout);
        return CLI_EXIT_OK;
    }
    if (argc > 2)
        return cli_usage_error(MAIN_USAGE, argv[2], "unexpected argument");
    const main_cmd *c = main_find(argv[1]);
    if (c == NULL)
        return cli_usage_error(MAIN_USAGE, argv[1], "unknown command");
    char help_opt[] = "--help";
    char *sub[] = {argv[1], help_opt, NULL};
    return c->run(2, sub);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error(MAIN_USAGE, "command", "missing");
    const char *name = argv[1];
    if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0)
        return main_help_cmd(1, argv + 1);
    if (strcmp(name, "help") == 0)
        return main_help_cmd(argc - 1, argv + 1);
    if (strcmp(name, "-V") == 0 || strcmp(name, "--version") == 0) {
        printf("xipc %d.%d.%d\n", XIPC_VERSION_MAJOR, XIPC_VERSION_MINOR,
               XIPC_VERSION_PATCH);
        return CLI_EXIT_OK;
    }
    const main_cmd *c = main_find(name);
    if (c == NULL)
        return cli_usage_error(MAIN_USAGE, name,
                               name[0] == '-' ? "unknown option" : "unknown command");
    return c->run(argc - 1, argv + 1);
}

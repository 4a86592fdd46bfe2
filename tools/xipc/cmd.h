/*
 * The xipc commands. Each takes its arguments with argv[0] the command's
 * name ("send") and returns the process exit code (see cli.h).
 */
#ifndef XIPC_TOOLS_CMD_H
#define XIPC_TOOLS_CMD_H

/* One-line usage of each command, printed after usage errors. */
extern const char cmd_send_usage[];
extern const char cmd_recv_usage[];
extern const char cmd_bench_usage[];
extern const char cmd_pub_usage[];
extern const char cmd_sub_usage[];
extern const char cmd_ls_usage[];
extern const char cmd_serve_usage[];
extern const char cmd_call_usage[];
extern const char cmd_com_serve_usage[];
extern const char cmd_ps_usage[];
extern const char cmd_modules_usage[];
extern const char cmd_peek_usage[];
extern const char cmd_host_usage[];
extern const char cmd_bridge_usage[];

int cmd_send(int argc, char **argv);
int cmd_recv(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_pub(int argc, char **argv);
int cmd_sub(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_call(int argc, char **argv);
int cmd_com_serve(int argc, char **argv);
int cmd_ps(int argc, char **argv);
int cmd_modules(int argc, char **argv);
int cmd_peek(int argc, char **argv);
/* hidden: the 64-bit helper of a 32-bit library (cmd_helper.c) */
int cmd_inspect_helper(int argc, char **argv);
int cmd_host(int argc, char **argv);
int cmd_bridge(int argc, char **argv);

#endif

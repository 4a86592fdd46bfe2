/*
 * xipc com-serve: a COM local server whose IDispatch forwards each call
 * by name to a MessagePack-RPC service (docs/com.md). cmd_com_serve.c
 * reads the command line on every OS; com_serve_run() is the OS's part:
 * win32/com_serve.c serves, posix/com_serve.c says COM is not there.
 */
#ifndef XIPC_TOOLS_COM_H
#define XIPC_TOOLS_COM_H

/* "{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}" and its NUL */
#define COM_GUID_LEN 38

typedef struct com_cfg {
    char clsid[COM_GUID_LEN + 1]; /* checked, upper-case, with braces */
    const char *url;              /* the RPC service (into argv) */
    const char *progid;           /* --progid NAME, or NULL */
    long timeout_ms;              /* -t: each dial and call (-1: none) */
    int reg;                      /* --register */
    int unreg;                    /* --unregister */
    int all_users;                /* --all-users: HKLM, not HKCU */
    int embedding;                /* -Embedding: COM started this process */
} com_cfg;

/* Serve, register or unregister as @p cfg says. @return an exit code */
int com_serve_run(const com_cfg *cfg);

#endif

/*
 * The pieces of the COM local server (docs/com.md) and what each asks of
 * the others: com_serve.c (the class object and the process's lifetime),
 * com_disp.c (the objects: IDispatch by name), com_link.c (the one
 * connection to the RPC service), com_reg.c (the registry).
 */
#ifndef XIPC_TOOLS_COM_SERVER_H
#define XIPC_TOOLS_COM_SERVER_H

#define COBJMACROS /* IDispatch_AddRef(p) for p->lpVtbl->AddRef(p) */
#include <windows.h>
#include <oleauto.h>

#include "com.h"
#include "xipc/rpc.h"

/*
 * HRESULTs of a call the service did not answer with a result, in the
 * EXCEPINFO of DISP_E_EXCEPTION (FACILITY_ITF, codes 0x200 on as
 * Microsoft advises): the service's error object, whose message is the
 * description; no answer at all (the description says why: "URL:
 * connection refused: no listener").
 */
#define COM_E_REMOTE ((HRESULT)0x80040200L)
#define COM_E_IPC ((HRESULT)0x80040201L)

/* com_serve.c: an object or a LockServer(TRUE) keeps the process; the
 * last release ends a process that COM started. */
void com_serve_hold(void);
void com_serve_release(void);

/* com_disp.c: a new object, its interface @p riid in @p out. */
HRESULT com_disp_new(REFIID riid, void **out);

/* com_disp.c: forget the method names (at exit). */
void com_disp_names_fini(void);

/* com_link.c: where the calls go; before the first object. */
void com_link_init(const char *url, int timeout_ms);

/* com_link.c: the URL given to com_link_init. */
const char *com_link_url(void);

/*
 * com_link.c: call @p method with @p params (a MessagePack array) on the
 * one connection, dialled at the first call and again after it is lost
 * (a call that finds an idle connection closed by the service is sent
 * once more on a new one). Any number of threads at once.
 * @return as xipc_rpc_call, and xipc_rpc_client_dial's codes
 */
xipc_err com_link_call(const char *method, const void *params, size_t len,
                       xipc_rpc_result *res);

/* com_link.c: close the connection (at exit, no call running). */
void com_link_fini(void);

/* com_reg.c: --register and --unregister. @return an exit code */
int com_reg_write(const com_cfg *cfg);
int com_reg_delete(const com_cfg *cfg);

#endif

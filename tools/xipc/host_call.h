/*
 * One library function served by `xipc host`: its signature (host_sig.h)
 * prepared for libffi, and the RPC handler that checks a call's arguments
 * against it, calls the function and writes the result (docs/host.md,
 * "Calls").
 */
#ifndef XIPC_TOOLS_HOST_CALL_H
#define XIPC_TOOLS_HOST_CALL_H

#include "host_sig.h"
#include "xipc/rpc.h"

typedef struct host_lib host_lib; /* the libffi side of a host_sigs */

/*
 * Prepare every function of @p s, found in the library @p handle (dlopen),
 * for calling. @p s must outlive the result.
 * @return 0, or -1 with the reason in @p why (a missing symbol...)
 */
int host_lib_prepare(host_lib **out, const host_sigs *s, void *handle, char *why,
                     size_t cap);

void host_lib_free(host_lib *h);

/* Register each function of @p h as the method of its name on @p srv,
 * with @p flags (0 or XIPC_RPC_INLINE). */
xipc_err host_lib_register(host_lib *h, xipc_rpc_server *srv, unsigned flags);

#endif

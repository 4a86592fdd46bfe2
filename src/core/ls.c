/* xipc_endpoints: ask every transport that keeps a registry to list it. */
#include "core/transport.h"

#define XIPC_TRAN(name) extern const xipc_tran xipc_##name##_tran;
#include "core/tran_list.h"
#undef XIPC_TRAN

static const xipc_tran *const ls_trans[] = {
#define XIPC_TRAN(name) &xipc_##name##_tran,
#include "core/tran_list.h"
#undef XIPC_TRAN
};

xipc_err xipc_endpoints(void (*fn)(const xipc_endpoint_info *e, void *arg),
                        void *arg)
{
    if (fn == NULL)
        return XIPC_EINVAL;
    xipc_err first = XIPC_OK;
    for (size_t i = 0; i < sizeof(ls_trans) / sizeof(ls_trans[0]); i++) {
        if (ls_trans[i]->list == NULL)
            continue; /* no registry: unix://, tcp:// */
        xipc_err rv = ls_trans[i]->list(fn, arg);
        if (rv != XIPC_OK && first == XIPC_OK)
            first = rv;
    }
    return first;
}

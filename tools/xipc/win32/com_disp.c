/*
 * The objects com-serve hands out: an IDispatch whose methods are
 * whatever the client names. The service's methods are not known in
 * advance, so GetIDsOfNames accepts any name and gives it a DISPID (one
 * table for the process: a name keeps its DISPID for every object and
 * client); Invoke sends the call by that name, and a name the service
 * does not have comes back as its error ("method not found: NAME"),
 * DISP_E_EXCEPTION. Names are kept as the client spelled them: RPC
 * names are case-sensitive, COM's usually are not, so "Echo" and "echo"
 * are two methods.
 *
 * Invoke: DISPATCH_METHOD and DISPATCH_PROPERTYGET (VBScript's "x =
 * o.ping" is both) call the method; a property put is
 * DISP_E_MEMBERNOTFOUND. rgvarg holds the arguments last first; they go
 * out first first. Named arguments have no MessagePack-RPC form:
 * DISP_E_NONAMEDARGS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "com_server.h"
#include "com_variant.h"

#define DISP_NAME_MAX 255   /* the RPC server's limit on a method name */
#define DISP_NAMES_MAX 4096 /* distinct names of one process */

typedef struct com_disp {
    IDispatch iface; /* first: the object's address is the interface's */
    LONG refs;
} com_disp;

static SRWLOCK disp_lock = SRWLOCK_INIT;
static char *disp_names[DISP_NAMES_MAX]; /* DISPID n is disp_names[n - 1] */
static LONG disp_count;

void com_disp_names_fini(void)
{
    AcquireSRWLockExclusive(&disp_lock);
    for (LONG i = 0; i < disp_count; i++)
        free(disp_names[i]);
    disp_count = 0;
    ReleaseSRWLockExclusive(&disp_lock);
}

/* The DISPID of @p name (UTF-8), added when new; DISPID_UNKNOWN when full. */
static DISPID disp_id_of(const char *name)
{
    DISPID id = DISPID_UNKNOWN;
    AcquireSRWLockExclusive(&disp_lock);
    for (LONG i = 0; i < disp_count && id == DISPID_UNKNOWN; i++)
        if (strcmp(disp_names[i], name) == 0)
            id = i + 1;
    if (id == DISPID_UNKNOWN && disp_count < DISP_NAMES_MAX &&
        (disp_names[disp_count] = _strdup(name)) != NULL)
        id = ++disp_count;
    ReleaseSRWLockExclusive(&disp_lock);
    return id;
}

/* The name of @p id copied to @p buf. @return 0, or -1 (no such DISPID) */
static int disp_name_of(DISPID id, char buf[DISP_NAME_MAX + 1])
{
    int rv = -1;
    AcquireSRWLockShared(&disp_lock);
    if (id >= 1 && id <= disp_count) {
        strcpy(buf, disp_names[id - 1]);
        rv = 0;
    }
    ReleaseSRWLockShared(&disp_lock);
    return rv;
}

/* A BSTR from UTF-8 (a message of the service or of the library). */
static BSTR disp_bstr(const char *s)
{
    int n = MultiByteToWideChar(CP_UTF8, 0, s, -1, NULL, 0);
    BSTR w = n > 0 ? SysAllocStringLen(NULL, (UINT)n - 1) : NULL;
    if (w != NULL)
        MultiByteToWideChar(CP_UTF8, 0, s, -1, w, n);
    return w;
}

/* DISP_E_EXCEPTION with @p scode and @p text in @p ei (which may be NULL). */
static HRESULT disp_raise(EXCEPINFO *ei, HRESULT scode, const char *text)
{
    if (ei != NULL) {
        memset(ei, 0, sizeof(*ei));
        ei->bstrSource = disp_bstr("xipc");
        ei->bstrDescription = disp_bstr(text);
        ei->scode = scode;
    }
    return DISP_E_EXCEPTION;
}

/* The outcome of a call that did not return a result, as an exception. */
static HRESULT disp_failed(xipc_err rv, const xipc_rpc_result *res, EXCEPINFO *ei)
{
    char text[1100];
    if (rv == XIPC_EREMOTE && res->message[0] != '\0')
        return disp_raise(ei, COM_E_REMOTE, res->message);
    if (rv == XIPC_EREMOTE) /* not [code, message] nor a str */
        return disp_raise(ei, COM_E_REMOTE, "the service answered with an error "
                                             "that is not [code, message]");
    const char *detail = xipc_last_detail();
    snprintf(text, sizeof(text), "%s: %s%s%s", com_link_url(), xipc_strerror(rv),
             detail[0] != '\0' ? ": " : "", detail);
    return disp_raise(ei, COM_E_IPC, text);
}

/* ------------------------------------------------------------- IDispatch */

static HRESULT STDMETHODCALLTYPE disp_query(IDispatch *self, REFIID riid, void **out)
{
    if (out == NULL)
        return E_POINTER;
    if (!IsEqualIID(riid, &IID_IUnknown) && !IsEqualIID(riid, &IID_IDispatch)) {
        *out = NULL;
        return E_NOINTERFACE;
    }
    *out = self;
    IDispatch_AddRef(self);
    return S_OK;
}

static ULONG STDMETHODCALLTYPE disp_addref(IDispatch *self)
{
    return (ULONG)InterlockedIncrement(&((com_disp *)self)->refs);
}

static ULONG STDMETHODCALLTYPE disp_release(IDispatch *self)
{
    com_disp *d = (com_disp *)self;
    LONG left = InterlockedDecrement(&d->refs);
    if (left == 0) {
        free(d);
        com_serve_release();
    }
    return (ULONG)left;
}

static HRESULT STDMETHODCALLTYPE disp_type_count(IDispatch *self, UINT *n)
{
    if (n == NULL)
        return E_POINTER;
    *n = 0; /* no type information: the methods are the service's */
    return S_OK;
}

static HRESULT STDMETHODCALLTYPE disp_type_info(IDispatch *self, UINT i, LCID lcid,
                                                ITypeInfo **out)
{
    if (out != NULL)
        *out = NULL;
    return DISP_E_BADINDEX;
}

static HRESULT STDMETHODCALLTYPE disp_ids(IDispatch *self, REFIID riid, LPOLESTR *names,
                                          UINT n, LCID lcid, DISPID *ids)
{
    char name[DISP_NAME_MAX + 1];
    if (n == 0)
        return S_OK;
    if (names == NULL || ids == NULL)
        return E_POINTER;
    for (UINT i = 1; i < n; i++) /* parameter names: no named arguments */
        ids[i] = DISPID_UNKNOWN;
    int len = names[0] == NULL ? 0
                               : WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, names[0],
                                                     -1, name, sizeof(name), NULL, NULL);
    ids[0] = len > 1 ? disp_id_of(name) : DISPID_UNKNOWN; /* "": len 1 */
    return ids[0] == DISPID_UNKNOWN || n > 1 ? DISP_E_UNKNOWNNAME : S_OK;
}

/* The arguments, first first, as a MessagePack array in @p b. */
static HRESULT disp_params(const DISPPARAMS *dp, xipc_mp_buf *b, UINT *arg_err)
{
    HRESULT hr = xipc_mp_write_array(b, dp->cArgs) == XIPC_OK ? S_OK : E_OUTOFMEMORY;
    for (UINT i = dp->cArgs; i-- > 0 && hr == S_OK;) {
        hr = com_variant_to_mp(&dp->rgvarg[i], b);
        if (hr == DISP_E_TYPEMISMATCH && arg_err != NULL)
            *arg_err = i; /* COM's index: into rgvarg, last argument 0 */
    }
    return hr;
}

static HRESULT STDMETHODCALLTYPE disp_invoke(IDispatch *self, DISPID id, REFIID riid,
                                             LCID lcid, WORD flags, DISPPARAMS *dp,
                                             VARIANT *result, EXCEPINFO *ei, UINT *arg_err)
{
    char name[DISP_NAME_MAX + 1];
    if (!IsEqualIID(riid, &IID_NULL))
        return DISP_E_UNKNOWNINTERFACE;
    if (!(flags & (DISPATCH_METHOD | DISPATCH_PROPERTYGET)) || disp_name_of(id, name) != 0)
        return DISP_E_MEMBERNOTFOUND;
    if (dp == NULL || (dp->cArgs > 0 && dp->rgvarg == NULL))
        return E_POINTER;
    if (dp->cNamedArgs > 0)
        return DISP_E_NONAMEDARGS;
    xipc_mp_buf params;
    xipc_mp_buf_init(&params);
    HRESULT hr = disp_params(dp, &params, arg_err);
    xipc_rpc_result res;
    xipc_rpc_result_init(&res);
    xipc_err rv = XIPC_OK;
    if (hr == S_OK)
        rv = com_link_call(name, params.data, params.len, &res);
    if (hr == S_OK && rv != XIPC_OK)
        hr = disp_failed(rv, &res, ei);
    if (hr == S_OK && result != NULL) {
        xipc_mp_reader r;
        VariantInit(result);
        xipc_mp_reader_init(&r, res.value, res.value_len);
        hr = com_variant_from_mp(&r, result);
        if (hr == E_INVALIDARG) /* the client checked it: too large for COM */
            hr = disp_raise(ei, COM_E_IPC, "the result does not fit a VARIANT");
    }
    xipc_rpc_result_fini(&res);
    xipc_mp_buf_fini(&params);
    return hr;
}

static const IDispatchVtbl disp_vtbl = {
    disp_query,     disp_addref, disp_release, disp_type_count,
    disp_type_info, disp_ids,    disp_invoke,
};

HRESULT com_disp_new(REFIID riid, void **out)
{
    com_disp *d = calloc(1, sizeof(*d));
    if (d == NULL)
        return E_OUTOFMEMORY;
    d->iface.lpVtbl = (IDispatchVtbl *)&disp_vtbl;
    d->refs = 1;
    com_serve_hold();
    HRESULT hr = disp_query(&d->iface, riid, out);
    disp_release(&d->iface); /* the query's reference is the caller's */
    return hr;
}

/*
 * xipc com-serve from a COM client in C, under wine (docs/com.md):
 *   com_client PATH/TO/xipc.exe
 * Against a real service (xipc.exe serve pipe://...: echo, add, ping):
 *  1. a server started here: CoCreateInstance(CLSCTX_LOCAL_SERVER),
 *     GetIDsOfNames, Invoke; every VARIANT type of the mapping through
 *     echo and back; argument order; an RPC error as DISP_E_EXCEPTION
 *     with the service's message; DISP_E_TYPEMISMATCH with puArgErr;
 *     named arguments, property puts, unknown DISPIDs; a service that is
 *     down; the server ending when its stdin does;
 *  2. after --register (and a ProgID): COM starts the server itself
 *     through LocalServer32, one process for two objects, which ends
 *     when the last one is released;
 *  3. --unregister removes the keys: REGDB_E_CLASSNOTREG.
 * Also bad input to the command. Prints the median Invoke round trip and
 * the first call when COM starts the server (not asserted).
 */
#define COBJMACROS
#include <windows.h>
#include <oleauto.h>
#include <tlhelp32.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform/win32/win32.h"
#include "test.h"
#include "xipc/rpc.h"

#define CT_E_REMOTE ((HRESULT)0x80040200L) /* com_server.h's COM_E_REMOTE */
#define CT_E_IPC ((HRESULT)0x80040201L)
#define CT_OUT_MAX 4096
#define CT_ROUNDS 300 /* Invokes timed for the median */

/* ------------------------------------------------------------ processes */

typedef struct ct_proc {
    HANDLE h;
    HANDLE in;  /* the write end of its stdin, or NULL */
    HANDLE out; /* the read end of its stdout and stderr */
} ct_proc;

/* Start @p argv (argv[0] the program) with pipes for stdin and output. */
static ct_proc ct_start(char *argv[])
{
    SECURITY_ATTRIBUTES sa = {sizeof(sa), NULL, TRUE};
    HANDLE in_r, in_w, out_r, out_w;
    XT_ASSERT(CreatePipe(&in_r, &in_w, &sa, 0) && CreatePipe(&out_r, &out_w, &sa, 0));
    SetHandleInformation(in_w, HANDLE_FLAG_INHERIT, 0);
    SetHandleInformation(out_r, HANDLE_FLAG_INHERIT, 0);
    STARTUPINFOW si;
    PROCESS_INFORMATION pi;
    memset(&si, 0, sizeof(si));
    si.cb = sizeof(si);
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = in_r;
    si.hStdOutput = out_w;
    si.hStdError = out_w;
    wchar_t *cmd;
    XT_OK(xipc__win32_cmdline(argv, &cmd));
    XT_ASSERT(CreateProcessW(NULL, cmd, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi));
    free(cmd);
    CloseHandle(pi.hThread);
    CloseHandle(in_r);
    CloseHandle(out_w);
    ct_proc p = {pi.hProcess, in_w, out_r};
    return p;
}

/* The next line of @p p's output, without its line end; fails at its end. */
static void ct_line(ct_proc *p, char *line, size_t cap)
{
    size_t n = 0;
    char c;
    DWORD got;
    for (;;) {
        XT_ASSERT(ReadFile(p->out, &c, 1, &got, NULL) && got == 1);
        if (c == '\n')
            break;
        if (c != '\r' && n + 1 < cap)
            line[n++] = c;
    }
    line[n] = '\0';
}

/* Wait for @p p's end. @return its exit code */
static int ct_wait(ct_proc *p)
{
    DWORD code;
    if (p->in != NULL)
        CloseHandle(p->in);
    XT_ASSERT(WaitForSingleObject(p->h, INFINITE) == WAIT_OBJECT_0);
    XT_ASSERT(GetExitCodeProcess(p->h, &code));
    CloseHandle(p->h);
    CloseHandle(p->out);
    return (int)code;
}

/* Run @p argv to its end, its output in @p out. @return its exit code */
static int ct_run(char *argv[], char out[CT_OUT_MAX])
{
    ct_proc p = ct_start(argv);
    CloseHandle(p.in);
    p.in = NULL;
    size_t n = 0;
    DWORD got;
    while (n + 1 < CT_OUT_MAX && ReadFile(p.out, out + n, CT_OUT_MAX - 1 - (DWORD)n, &got, NULL) &&
           got > 0)
        n += got;
    out[n] = '\0';
    return ct_wait(&p);
}

/* Running processes named xipc.exe. */
static int ct_count_xipc(void)
{
    HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
    PROCESSENTRY32W pe;
    int n = 0;
    XT_ASSERT(snap != INVALID_HANDLE_VALUE);
    pe.dwSize = sizeof(pe);
    for (BOOL ok = Process32FirstW(snap, &pe); ok; ok = Process32NextW(snap, &pe))
        n += _wcsicmp(pe.szExeFile, L"xipc.exe") == 0;
    CloseHandle(snap);
    return n;
}

/* ------------------------------------------------------------- VARIANTs */

static VARIANT ct_int(VARTYPE vt, LONGLONG v)
{
    VARIANT x;
    VariantInit(&x);
    V_VT(&x) = vt;
    if (vt == VT_I8)
        V_I8(&x) = v;
    else
        V_I4(&x) = (LONG)v;
    return x;
}

static VARIANT ct_r8(double v)
{
    VARIANT x;
    V_VT(&x) = VT_R8;
    V_R8(&x) = v;
    return x;
}

static VARIANT ct_bool(int v)
{
    VARIANT x;
    V_VT(&x) = VT_BOOL;
    V_BOOL(&x) = v ? VARIANT_TRUE : VARIANT_FALSE;
    return x;
}

static VARIANT ct_null(void)
{
    VARIANT x;
    VariantInit(&x);
    V_VT(&x) = VT_NULL;
    return x;
}

static VARIANT ct_str(const WCHAR *s)
{
    VARIANT x;
    V_VT(&x) = VT_BSTR;
    V_BSTR(&x) = SysAllocString(s);
    XT_ASSERT(V_BSTR(&x) != NULL);
    return x;
}

static VARIANT ct_bytes(const void *p, ULONG n)
{
    VARIANT x;
    void *data;
    V_VT(&x) = VT_ARRAY | VT_UI1;
    V_ARRAY(&x) = SafeArrayCreateVector(VT_UI1, 0, n);
    XT_ASSERT(V_ARRAY(&x) != NULL && SafeArrayAccessData(V_ARRAY(&x), &data) == S_OK);
    memcpy(data, p, n);
    SafeArrayUnaccessData(V_ARRAY(&x));
    return x;
}

/* A SAFEARRAY of @p n VARIANTs of type @p et (VT_VARIANT or a scalar),
 * taking the values of @p el (a VARIANT's value for a scalar). */
static VARIANT ct_vec(VARTYPE et, VARIANT *el, ULONG n)
{
    VARIANT x;
    V_VT(&x) = VT_ARRAY | et;
    V_ARRAY(&x) = SafeArrayCreateVector(et, 0, n);
    XT_ASSERT(V_ARRAY(&x) != NULL);
    for (LONG i = 0; i < (LONG)n; i++)
        XT_ASSERT(SafeArrayPutElement(V_ARRAY(&x), &i, et == VT_VARIANT ? (void *)&el[i]
                                                                         : (void *)&V_I4(&el[i])) == S_OK);
    for (ULONG i = 0; i < n; i++)
        VariantClear(&el[i]);
    return x;
}

/* Are @p a and @p b the same type and value, arrays element by element? */
static int ct_same(const VARIANT *a, const VARIANT *b)
{
    if (V_VT(a) != V_VT(b))
        return 0;
    if (V_VT(a) & VT_ARRAY) {
        SAFEARRAY *x = V_ARRAY(a), *y = V_ARRAY(b);
        ULONG n = x->rgsabound[0].cElements;
        if (n != y->rgsabound[0].cElements || x->cbElements != y->cbElements)
            return 0;
        if (V_VT(a) == (VT_ARRAY | VT_UI1))
            return memcmp(x->pvData, y->pvData, n) == 0;
        for (ULONG i = 0; i < n; i++)
            if (!ct_same((VARIANT *)x->pvData + i, (VARIANT *)y->pvData + i))
                return 0;
        return 1;
    }
    switch (V_VT(a)) {
    case VT_EMPTY:
    case VT_NULL:
        return 1;
    case VT_BSTR:
        return SysStringLen(V_BSTR(a)) == SysStringLen(V_BSTR(b)) &&
               memcmp(V_BSTR(a), V_BSTR(b), SysStringByteLen(V_BSTR(a))) == 0;
    case VT_BOOL:
        return V_BOOL(a) == V_BOOL(b);
    case VT_I4:
        return V_I4(a) == V_I4(b);
    case VT_R8:
        return V_R8(a) == V_R8(b);
    default: /* VT_I8, VT_UI8 */
        return V_I8(a) == V_I8(b);
    }
}

/* ---------------------------------------------------------------- calls */

static DISPID ct_id(IDispatch *d, const WCHAR *name)
{
    DISPID id;
    LPOLESTR n = (LPOLESTR)name;
    XT_HR(IDispatch_GetIDsOfNames(d, &IID_NULL, &n, 1, LOCALE_USER_DEFAULT, &id), S_OK);
    return id;
}

/* Invoke @p name with @p n arguments, first first, as COM passes them
 * (reversed). @p ei and @p arg_err are cleared first. */
static HRESULT ct_call(IDispatch *d, const WCHAR *name, VARIANT *args, UINT n, VARIANT *res,
                       EXCEPINFO *ei, UINT *arg_err)
{
    VARIANT rev[4];
    XT_ASSERT(n <= 4);
    for (UINT i = 0; i < n; i++)
        rev[n - 1 - i] = args[i];
    DISPPARAMS dp = {rev, NULL, n, 0};
    memset(ei, 0, sizeof(*ei));
    *arg_err = 99;
    VariantInit(res);
    return IDispatch_Invoke(d, ct_id(d, name), &IID_NULL, LOCALE_USER_DEFAULT,
                            DISPATCH_METHOD, &dp, res, ei, arg_err);
}

/* echo(@p in) must give @p want; both are cleared. */
static void ct_echo(IDispatch *d, VARIANT in, VARIANT want, const char *what)
{
    VARIANT res;
    EXCEPINFO ei;
    UINT bad;
    HRESULT hr = ct_call(d, L"echo", &in, 1, &res, &ei, &bad);
    if (hr != S_OK || !ct_same(&res, &want))
        XT_FAIL("echo %s: HRESULT 0x%08lx, vt %u, want vt %u", what, (unsigned long)hr,
                V_VT(&res), V_VT(&want));
    VariantClear(&in);
    VariantClear(&want);
    VariantClear(&res);
}

/* Is @p ei the exception @p scode with the description @p text? */
static void ct_exception(const EXCEPINFO *ei, HRESULT scode, const WCHAR *text, int prefix)
{
    if (ei->scode != scode || ei->bstrDescription == NULL ||
        (prefix ? wcsncmp(ei->bstrDescription, text, wcslen(text)) != 0
                : wcscmp(ei->bstrDescription, text) != 0))
        XT_FAIL("exception 0x%08lx \"%ls\", want 0x%08lx \"%ls\"", (unsigned long)ei->scode,
                ei->bstrDescription ? ei->bstrDescription : L"(none)", (unsigned long)scode,
                text);
    SysFreeString(ei->bstrDescription);
    SysFreeString(ei->bstrSource);
    SysFreeString(ei->bstrHelpFile);
}

/* Every type of the mapping through echo and back. */
static void ct_mapping(IDispatch *d)
{
    static const BYTE bin[] = {0, 1, 0x80, 0xff, 0};
    static const WCHAR text[] = L"h\u00e9llo \u20ac \U0001F600";
    ct_echo(d, ct_int(VT_I4, -7), ct_int(VT_I4, -7), "VT_I4");
    ct_echo(d, ct_int(VT_I4, INT32_MIN), ct_int(VT_I4, INT32_MIN), "VT_I4 min");
    ct_echo(d, ct_int(VT_I8, (LONGLONG)1 << 40), ct_int(VT_I8, (LONGLONG)1 << 40), "VT_I8");
    ct_echo(d, ct_int(VT_I8, INT64_MIN), ct_int(VT_I8, INT64_MIN), "VT_I8 min");
    /* MessagePack has no widths: a small VT_I8 comes back VT_I4 */
    ct_echo(d, ct_int(VT_I8, 5), ct_int(VT_I4, 5), "small VT_I8");
    VARIANT u8 = ct_int(VT_I8, -1), u8want = u8; /* UINT64_MAX */
    V_VT(&u8) = V_VT(&u8want) = VT_UI8;
    ct_echo(d, u8, u8want, "VT_UI8 beyond INT64_MAX");
    ct_echo(d, ct_r8(-1.25), ct_r8(-1.25), "VT_R8");
    ct_echo(d, ct_r8(1e300), ct_r8(1e300), "VT_R8 large");
    ct_echo(d, ct_str(text), ct_str(text), "VT_BSTR");
    ct_echo(d, ct_str(L""), ct_str(L""), "empty VT_BSTR");
    ct_echo(d, ct_bool(1), ct_bool(1), "VT_BOOL true");
    ct_echo(d, ct_bool(0), ct_bool(0), "VT_BOOL false");
    ct_echo(d, ct_bytes(bin, sizeof(bin)), ct_bytes(bin, sizeof(bin)), "bin");
    ct_echo(d, ct_bytes(bin, 0), ct_bytes(bin, 0), "empty bin");
    ct_echo(d, ct_null(), ct_null(), "VT_NULL");
    VARIANT empty;
    VariantInit(&empty);
    ct_echo(d, empty, ct_null(), "VT_EMPTY is nil, nil is VT_NULL");
    LONG target = 42;
    VARIANT ref;
    V_VT(&ref) = VT_BYREF | VT_I4;
    V_I4REF(&ref) = &target;
    ct_echo(d, ref, ct_int(VT_I4, 42), "VT_BYREF | VT_I4");
    /* [1, "two", [3.5, true], bin, null] */
    for (int twice = 0; twice < 2; twice++) {
        VARIANT in[5], inner[2];
        inner[0] = ct_r8(3.5);
        inner[1] = ct_bool(1);
        in[0] = ct_int(VT_I4, 1);
        in[1] = ct_str(L"two");
        in[2] = ct_vec(VT_VARIANT, inner, 2);
        in[3] = ct_bytes(bin, sizeof(bin));
        in[4] = ct_null();
        if (twice == 0)
            u8 = ct_vec(VT_VARIANT, in, 5);
        else
            ct_echo(d, u8, ct_vec(VT_VARIANT, in, 5), "nested array");
    }
    /* a SAFEARRAY of a scalar type is an array too, VARIANTs on return */
    VARIANT three[3] = {ct_int(VT_I4, 1), ct_int(VT_I4, 2), ct_int(VT_I4, 3)};
    VARIANT want[3] = {ct_int(VT_I4, 1), ct_int(VT_I4, 2), ct_int(VT_I4, 3)};
    ct_echo(d, ct_vec(VT_I4, three, 3), ct_vec(VT_VARIANT, want, 3), "SAFEARRAY of VT_I4");
}

/* Argument order, RPC errors, type mismatches, the calls refused. */
static void ct_errors(IDispatch *d)
{
    VARIANT args[2], res;
    EXCEPINFO ei;
    UINT bad;
    args[0] = ct_int(VT_I4, 2);
    args[1] = ct_int(VT_I4, 3);
    XT_HR(ct_call(d, L"add", args, 2, &res, &ei, &bad), S_OK);
    XT_ASSERT(V_VT(&res) == VT_I4 && V_I4(&res) == 5);
    /* the service's message names the operands in order */
    args[0] = ct_int(VT_I8, INT64_MAX);
    args[1] = ct_int(VT_I4, 1);
    XT_HR(ct_call(d, L"add", args, 2, &res, &ei, &bad), DISP_E_EXCEPTION);
    ct_exception(&ei, CT_E_REMOTE,
                 L"integer overflow: 9223372036854775807 + 1 does not fit int64", 0);
    /* any name gets a DISPID; the service says what it lacks */
    XT_HR(ct_call(d, L"nosuch", args, 0, &res, &ei, &bad), DISP_E_EXCEPTION);
    ct_exception(&ei, CT_E_REMOTE, L"method not found: nosuch", 0);
    XT_HR(ct_call(d, L"Echo", args, 1, &res, &ei, &bad), DISP_E_EXCEPTION);
    ct_exception(&ei, CT_E_REMOTE, L"method not found: Echo", 0);
    /* VT_CY has no MessagePack form: puArgErr counts in rgvarg (reversed) */
    V_VT(&args[1]) = VT_CY;
    V_CY(&args[1]).int64 = 10000;
    XT_HR(ct_call(d, L"add", args, 2, &res, &ei, &bad), DISP_E_TYPEMISMATCH);
    XT_EQ(bad, 0);
    args[1] = args[0];
    V_VT(&args[0]) = VT_DATE;
    V_DATE(&args[0]) = 1.0;
    XT_HR(ct_call(d, L"add", args, 2, &res, &ei, &bad), DISP_E_TYPEMISMATCH);
    XT_EQ(bad, 1);
    /* named arguments, property puts, a DISPID never given */
    DISPID id = ct_id(d, L"add"), named = 0;
    args[0] = ct_int(VT_I4, 2);
    DISPPARAMS dp = {args, &named, 1, 1};
    XT_HR(IDispatch_Invoke(d, id, &IID_NULL, 0, DISPATCH_METHOD, &dp, &res, &ei, &bad),
          DISP_E_NONAMEDARGS);
    named = DISPID_PROPERTYPUT;
    XT_HR(IDispatch_Invoke(d, id, &IID_NULL, 0, DISPATCH_PROPERTYPUT, &dp, &res, &ei, &bad),
          DISP_E_MEMBERNOTFOUND);
    DISPPARAMS none = {NULL, NULL, 0, 0};
    XT_HR(IDispatch_Invoke(d, 99999, &IID_NULL, 0, DISPATCH_METHOD, &none, &res, &ei, &bad),
          DISP_E_MEMBERNOTFOUND);
    /* no result wanted; a property get calls the method too (VBScript) */
    XT_HR(IDispatch_Invoke(d, ct_id(d, L"ping"), &IID_NULL, 0, DISPATCH_METHOD, &none, NULL,
                           NULL, NULL),
          S_OK);
    XT_HR(IDispatch_Invoke(d, ct_id(d, L"ping"), &IID_NULL, 0,
                           DISPATCH_METHOD | DISPATCH_PROPERTYGET, &none, &res, NULL, NULL),
          S_OK);
    XT_ASSERT(V_VT(&res) == VT_BSTR && wcscmp(V_BSTR(&res), L"pong") == 0);
    VariantClear(&res);
}

/* GetIDsOfNames: one DISPID per name, for every object; no parameter names. */
static void ct_names(IDispatch *d)
{
    DISPID ids[2];
    LPOLESTR names[2] = {L"echo", L"value"};
    XT_ASSERT(ct_id(d, L"echo") == ct_id(d, L"echo"));
    XT_ASSERT(ct_id(d, L"echo") != ct_id(d, L"add"));
    XT_ASSERT(ct_id(d, L"echo") != ct_id(d, L"Echo"));
    XT_HR(IDispatch_GetIDsOfNames(d, &IID_NULL, names, 2, 0, ids), DISP_E_UNKNOWNNAME);
    XT_ASSERT(ids[0] == ct_id(d, L"echo") && ids[1] == DISPID_UNKNOWN);
}

static DISPID ct_id_ping; /* ct_ping's DISPID */

static int ct_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* One ping: through com-serve (@p d), or straight to the service (@p c). */
static void ct_ping(IDispatch *d, xipc_rpc_client *c)
{
    DISPPARAMS none = {NULL, NULL, 0, 0};
    VARIANT res;
    VariantInit(&res);
    if (d != NULL)
        XT_HR(IDispatch_Invoke(d, ct_id_ping, &IID_NULL, 0, DISPATCH_METHOD, &none, &res,
                               NULL, NULL),
              S_OK);
    else
        XT_OK(xipc_rpc_call(c, "ping", NULL, 0, NULL, -1));
    VariantClear(&res);
}

/* The median round trip of ping (ct_ping), in microseconds. */
static double ct_median_us(IDispatch *d, xipc_rpc_client *c)
{
    static double us[CT_ROUNDS];
    LARGE_INTEGER f, t0, t1;
    QueryPerformanceFrequency(&f);
    if (d != NULL)
        ct_id_ping = ct_id(d, L"ping");
    for (int i = 0; i < CT_ROUNDS; i++) {
        QueryPerformanceCounter(&t0);
        ct_ping(d, c);
        QueryPerformanceCounter(&t1);
        us[i] = (double)(t1.QuadPart - t0.QuadPart) * 1e6 / (double)f.QuadPart;
    }
    qsort(us, CT_ROUNDS, sizeof(us[0]), ct_cmp_double);
    return us[CT_ROUNDS / 2];
}

static void ct_guid(CLSID *g, char text[40])
{
    WCHAR w[40];
    XT_HR(CoCreateGuid(g), S_OK);
    XT_ASSERT(StringFromGUID2(g, w, 40) == 39);
    WideCharToMultiByte(CP_ACP, 0, w, -1, text, 40, NULL, NULL);
}

static IDispatch *ct_create(const CLSID *g)
{
    IDispatch *d = NULL;
    XT_HR(CoCreateInstance(g, NULL, CLSCTX_LOCAL_SERVER, &IID_IDispatch, (void **)&d), S_OK);
    return d;
}

/* Part 1: a server started here, by hand. */
static void ct_by_hand(char *xipc, char *url)
{
    CLSID g;
    char gs[40], line[512], out[CT_OUT_MAX];
    IDispatch *d;
    ct_guid(&g, gs);
    char *bad_guid[] = {xipc, "com-serve", "--clsid", "{nope}", url, NULL};
    XT_EQ(ct_run(bad_guid, out), 2);
    XT_ASSERT(strstr(out, "xipc: com-serve: --clsid '{nope}' is not a GUID") != NULL);
    char *bad_url[] = {xipc, "com-serve", "--clsid", gs, "bogus://x", NULL};
    XT_EQ(ct_run(bad_url, out), 1);
    XT_ASSERT(strstr(out, "xipc: com-serve: bogus://x: operation not supported") != NULL);

    char *serve[] = {xipc, "com-serve", "--clsid", gs, url, NULL};
    int before = ct_count_xipc(); /* xipc serve */
    ct_proc p = ct_start(serve);
    ct_line(&p, line, sizeof(line));
    XT_ASSERT(strstr(line, "com-serve: class ") == line && strstr(line, url) != NULL);
    /* a running class object is found without any registry key */
    d = ct_create(&g);
    XT_EQ(ct_count_xipc(), before + 1);
    ct_names(d);
    ct_mapping(d);
    ct_errors(d);
    IDispatch *d2 = ct_create(&g); /* a second object: one connection */
    XT_ASSERT(ct_id(d2, L"echo") == ct_id(d, L"echo"));
    IDispatch_Release(d2);
    xipc_rpc_client *c;
    XT_OK(xipc_rpc_client_dial(&c, url, NULL, -1));
    printf("com_client: Invoke round trip (ping), median of %d: %.0f us; the same call "
           "straight to the service: %.0f us\n",
           CT_ROUNDS, ct_median_us(d, NULL), ct_median_us(NULL, c));
    xipc_rpc_client_close(c);
    IDispatch_Release(d);
    XT_EQ(ct_wait(&p), 0); /* its stdin ended */

    /* a service that is down: the call says why, as an exception */
    char down[64];
    snprintf(down, sizeof(down), "pipe://comdown-%lu", GetCurrentProcessId());
    ct_guid(&g, gs);
    char *serve_down[] = {xipc, "com-serve", "--clsid", gs, down, NULL};
    p = ct_start(serve_down);
    ct_line(&p, line, sizeof(line));
    d = ct_create(&g);
    VARIANT res;
    EXCEPINFO ei;
    UINT bad;
    WCHAR want[96];
    swprintf(want, 96, L"pipe://comdown-%lu: connection refused", GetCurrentProcessId());
    XT_HR(ct_call(d, L"ping", NULL, 0, &res, &ei, &bad), DISP_E_EXCEPTION);
    ct_exception(&ei, CT_E_IPC, want, 1);
    IDispatch_Release(d);
    XT_EQ(ct_wait(&p), 0);
}

/* The default value of @p root\@p key, or "" when it has none. */
static void ct_reg(HKEY root, const WCHAR *key, WCHAR *buf, DWORD cap)
{
    DWORD size = cap * sizeof(WCHAR);
    if (RegGetValueW(root, key, NULL, RRF_RT_REG_SZ, NULL, buf, &size) != 0)
        buf[0] = L'\0';
}

/* Parts 2 and 3: registered, COM starts the server; unregistered. */
static void ct_registered(char *xipc, char *url)
{
    CLSID g, got;
    char gs[40], out[CT_OUT_MAX], progid[40];
    WCHAR key[160], val[1024], want[600], wprogid[40], wgs[40];
    ct_guid(&g, gs);
    MultiByteToWideChar(CP_ACP, 0, gs, -1, wgs, 40);
    snprintf(progid, sizeof(progid), "XipcTest.Com%lu", GetCurrentProcessId());
    MultiByteToWideChar(CP_ACP, 0, progid, -1, wprogid, 40);
    char *reg[] = {xipc, "com-serve", "--register", "--progid", progid, "--clsid", gs, url, NULL};
    char *reg_all[] = {xipc, "com-serve", "--register", "--all-users", "--progid", progid,
                       "--clsid", gs, url, NULL};
    XT_EQ(ct_run(reg, out), 0);
    swprintf(want, 600, L"xipc.exe com-serve --clsid %hs %hs", gs, url);
    for (int all = 0; all < 2; all++) {
        HKEY root = all ? HKEY_LOCAL_MACHINE : HKEY_CURRENT_USER;
        swprintf(key, 160, L"Software\\Classes\\CLSID\\%hs\\LocalServer32", gs);
        ct_reg(root, key, val, 1024);
        if (wcslen(val) < wcslen(want) || wcscmp(val + wcslen(val) - wcslen(want), want) != 0)
            XT_FAIL("LocalServer32 is \"%ls\", want \"...%ls\"", val, want);
        swprintf(key, 160, L"Software\\Classes\\%hs\\CLSID", progid);
        ct_reg(root, key, val, 1024);
        XT_ASSERT(_wcsicmp(val, wgs) == 0);
        if (all)
            break;
        /* wine 8 starts a local server from HKLM\\Software\\Classes only
         * (its HKCR; the user's HKCU\\Software\\Classes is not merged
         * in): REGDB_E_CLASSNOTREG here, where Windows would start it
         * (docs/windows.md). So: --all-users. */
        IDispatch *none;
        XT_HR(CoCreateInstance(&g, NULL, CLSCTX_LOCAL_SERVER, &IID_IDispatch, (void **)&none),
              REGDB_E_CLASSNOTREG);
        XT_EQ(ct_run(reg_all, out), 0);
    }
    XT_HR(CLSIDFromProgID(wprogid, &got), S_OK);
    XT_ASSERT(IsEqualCLSID(&g, &got));

    int before = ct_count_xipc(); /* xipc serve */
    LARGE_INTEGER f, t0, t1;
    QueryPerformanceFrequency(&f);
    QueryPerformanceCounter(&t0);
    IDispatch *d = ct_create(&g);
    VARIANT res, arg = ct_int(VT_I4, 42);
    EXCEPINFO ei;
    UINT bad;
    XT_HR(ct_call(d, L"echo", &arg, 1, &res, &ei, &bad), S_OK);
    QueryPerformanceCounter(&t1);
    XT_ASSERT(V_VT(&res) == VT_I4 && V_I4(&res) == 42);
    printf("com_client: COM started the server: CoCreateInstance + first Invoke %.0f ms\n",
           (double)(t1.QuadPart - t0.QuadPart) * 1e3 / (double)f.QuadPart);
    IDispatch *d2 = ct_create(&g);
    XT_EQ(ct_count_xipc(), before + 1); /* one server for both objects */
    IDispatch_Release(d);
    XT_EQ(ct_count_xipc(), before + 1);
    IDispatch_Release(d2);
    while (ct_count_xipc() != before) /* the last release ends it */
        Sleep(20);

    char *unreg[] = {xipc, "com-serve", "--unregister", "--clsid", gs, NULL};
    char *unreg_all[] = {xipc, "com-serve", "--unregister", "--all-users", "--clsid", gs, NULL};
    XT_EQ(ct_run(unreg, out), 0);
    XT_EQ(ct_run(unreg_all, out), 0);
    for (int all = 0; all < 2; all++) {
        HKEY k, root = all ? HKEY_LOCAL_MACHINE : HKEY_CURRENT_USER;
        swprintf(key, 160, L"Software\\Classes\\CLSID\\%hs", gs);
        XT_EQ(RegOpenKeyExW(root, key, 0, KEY_READ, &k), ERROR_FILE_NOT_FOUND);
        swprintf(key, 160, L"Software\\Classes\\%hs", progid);
        XT_EQ(RegOpenKeyExW(root, key, 0, KEY_READ, &k), ERROR_FILE_NOT_FOUND);
    }
    XT_HR(CoCreateInstance(&g, NULL, CLSCTX_LOCAL_SERVER, &IID_IDispatch, (void **)&d),
          REGDB_E_CLASSNOTREG);
    XT_EQ(ct_run(unreg, out), 1); /* nothing left to delete */
    XT_ASSERT(strstr(out, "xipc: com-serve: HKCU\\Software\\Classes\\CLSID\\") != NULL);
}

int main(int argc, char **argv)
{
    char url[64], line[512];
    printf("com_client (pointer width %u bits)\n", (unsigned)(sizeof(void *) * 8));
    fflush(stdout);
    if (argc != 2)
        XT_FAIL("usage: com_client PATH/TO/xipc.exe");
    snprintf(url, sizeof(url), "pipe://comtest-%lu", GetCurrentProcessId());
    char *serve[] = {argv[1], "serve", url, NULL};
    ct_proc svc = ct_start(serve);
    ct_line(&svc, line, sizeof(line));
    XT_ASSERT(strstr(line, "serve: listening at") == line);
    XT_HR(CoInitializeEx(NULL, COINIT_MULTITHREADED), S_OK);
    ct_by_hand(argv[1], url);
    ct_registered(argv[1], url);
    CoUninitialize();
    XT_ASSERT(TerminateProcess(svc.h, 0));
    ct_wait(&svc);
    printf("com_client ok\n");
    return 0;
}

/*
 * xipc com-serve on Windows: the class object and the process's life.
 *
 * The class object is one static IClassFactory, registered with
 * CoRegisterClassObject(CLSCTX_LOCAL_SERVER, REGCLS_MULTIPLEUSE): every
 * client's CoCreateInstance reaches this one process, whose objects
 * share its connection to the service (com_link.c). The apartment is
 * the multithreaded one, so calls arrive on COM's own threads and the
 * main thread only waits; no message loop is needed.
 *
 * How long the process lives: started by hand, until Ctrl+C, Ctrl+Break
 * or the console closing (as xipc serve), or the end of stdin when stdin
 * is a pipe (a parent that started it stops it so, cleanly); started by
 * COM (-Embedding), until the last object (or LockServer) is released,
 * counted with CoAddRefServerProcess, or after COM_IDLE_MS if no object
 * ever came (a client that died before its CoCreateInstance got here).
 */
#include <stdio.h>

#include "cli.h"
#include "com_server.h"

#define COM_IDLE_MS 30000        /* -Embedding and still no object */
#define COM_CHECK_MS 1000        /* the URL check's dial, without -t */

static HANDLE serve_stop; /* set: the process is to end */
static int serve_embedding;
static volatile LONG serve_used; /* 1 once an object was made */

void com_serve_hold(void)
{
    CoAddRefServerProcess();
    InterlockedExchange(&serve_used, 1);
}

void com_serve_release(void)
{
    if (CoReleaseServerProcess() == 0 && serve_embedding)
        SetEvent(serve_stop);
}

/* --------------------------------------------- the class object, static */

static HRESULT STDMETHODCALLTYPE factory_query(IClassFactory *self, REFIID riid, void **out)
{
    if (out == NULL)
        return E_POINTER;
    if (!IsEqualIID(riid, &IID_IUnknown) && !IsEqualIID(riid, &IID_IClassFactory)) {
        *out = NULL;
        return E_NOINTERFACE;
    }
    *out = self;
    return S_OK; /* static: references are not counted */
}

static ULONG STDMETHODCALLTYPE factory_addref(IClassFactory *self)
{
    return 2;
}

static ULONG STDMETHODCALLTYPE factory_release(IClassFactory *self)
{
    return 1;
}

static HRESULT STDMETHODCALLTYPE factory_create(IClassFactory *self, IUnknown *outer,
                                                REFIID riid, void **out)
{
    if (out == NULL)
        return E_POINTER;
    *out = NULL;
    return outer != NULL ? CLASS_E_NOAGGREGATION : com_disp_new(riid, out);
}

static HRESULT STDMETHODCALLTYPE factory_lock(IClassFactory *self, BOOL lock)
{
    if (lock)
        com_serve_hold();
    else
        com_serve_release();
    return S_OK;
}

static const IClassFactoryVtbl factory_vtbl = {
    factory_query, factory_addref, factory_release, factory_create, factory_lock,
};
static IClassFactory serve_factory = {(IClassFactoryVtbl *)&factory_vtbl};

/* ------------------------------------------------------------ the process */

/* Reads stdin to its end, then ends the process (a parent's pipe). */
static DWORD WINAPI serve_stdin(void *h)
{
    char buf[256];
    DWORD n;
    while (ReadFile(h, buf, sizeof(buf), &n, NULL) && n > 0)
        ;
    SetEvent(serve_stop);
    return 0;
}

/* "xipc: com-serve: WHAT: HRESULT 0x...". @return CLI_EXIT_FAIL */
static int serve_hr_fail(const char *what, HRESULT hr)
{
    fprintf(stderr, "xipc: com-serve: %s: HRESULT 0x%08lx\n", what, (unsigned long)hr);
    return CLI_EXIT_FAIL;
}

/*
 * The URL is good when the RPC client can dial it or fails only for want
 * of a listener: a service may start after its COM server.
 * @return -1, or the exit code of a bad URL
 */
static int serve_check_url(const com_cfg *cfg)
{
    xipc_rpc_client *c;
    char what[600];
    int ms = cfg->timeout_ms >= 0 ? (int)cfg->timeout_ms : COM_CHECK_MS;
    xipc_err rv = xipc_rpc_client_dial(&c, cfg->url, NULL, ms);
    if (rv == XIPC_OK)
        xipc_rpc_client_close(c);
    if (rv != XIPC_EINVAL && rv != XIPC_ENOTSUP)
        return -1;
    snprintf(what, sizeof(what), "com-serve: %s", cfg->url);
    return cli_fail(what, rv);
}

/* Wait for the end (see the top). */
static void serve_wait(void)
{
    ULONGLONG start = GetTickCount64();
    while (WaitForSingleObject(serve_stop, 0) != WAIT_OBJECT_0 &&
           cli_signal_wait_ms(CLI_SLICE_MS) == 0)
        if (serve_embedding && !serve_used && GetTickCount64() - start > COM_IDLE_MS)
            break;
}

static int serve_run(const com_cfg *cfg)
{
    WCHAR wclsid[COM_GUID_LEN + 1];
    CLSID clsid;
    DWORD cookie;
    MultiByteToWideChar(CP_ACP, 0, cfg->clsid, -1, wclsid, COM_GUID_LEN + 1);
    HRESULT hr = CLSIDFromString(wclsid, &clsid);
    if (FAILED(hr))
        return serve_hr_fail(cfg->clsid, hr);
    serve_embedding = cfg->embedding;
    serve_stop = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (serve_stop == NULL)
        return serve_hr_fail("CreateEvent", HRESULT_FROM_WIN32(GetLastError()));
    HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
    if (!cfg->embedding && in != NULL && GetFileType(in) == FILE_TYPE_PIPE) {
        HANDLE t = CreateThread(NULL, 0, serve_stdin, in, 0, NULL);
        if (t != NULL)
            CloseHandle(t);
    }
    cli_signals_block();
    com_link_init(cfg->url, (int)cfg->timeout_ms);
    if (FAILED(hr = CoInitializeEx(NULL, COINIT_MULTITHREADED)))
        return serve_hr_fail("CoInitializeEx", hr);
    hr = CoRegisterClassObject(&clsid, (IUnknown *)&serve_factory, CLSCTX_LOCAL_SERVER,
                               REGCLS_MULTIPLEUSE, &cookie);
    int code = CLI_EXIT_OK;
    if (FAILED(hr)) {
        code = serve_hr_fail("CoRegisterClassObject", hr);
    } else {
        fprintf(stderr, "com-serve: class %s registered for %s\n", cfg->clsid, cfg->url);
        fflush(stderr);
        serve_wait();
        CoRevokeClassObject(cookie);
    }
    CoUninitialize(); /* disconnects the objects clients still hold */
    com_link_fini();
    com_disp_names_fini();
    return code;
}

int com_serve_run(const com_cfg *cfg)
{
    int code;
    if (cfg->unreg)
        return com_reg_delete(cfg);
    if (!cfg->embedding && (code = serve_check_url(cfg)) >= 0)
        return code;
    return cfg->reg ? com_reg_write(cfg) : serve_run(cfg);
}

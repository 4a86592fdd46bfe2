/*
 * The "DDE" group on Windows: Dynamic Data Exchange through DDEML.
 *
 * A DDEML instance belongs to the thread that made it (DdeInitialize):
 * its transactions must be started there, and its callback runs there,
 * from inside that thread's message loop. So each object has a loop
 * thread of its own (win32_loop.h) that makes the instance, holds the
 * conversation or the name, and runs the work callers queue for it
 * (dde_job): a caller queues a job, wakes the loop and waits for the
 * job's event. What the callback receives (a server's pokes of its item,
 * a client's advised values) goes to a bounded queue callers read.
 *
 * A server keeps the latest value of every item poked to it or set by
 * its owner (at most DDE_ITEMS_MAX items, values up to max bytes), answers
 * requests and advise links from that table, and queues the pokes of its
 * own item. A full queue makes the poking client wait (dde_take). Values
 * travel as CF_TEXT: the bytes as they are, no terminator added, so other
 * DDE programs read text.
 */
#include <stdlib.h>
#include <string.h>

#include <windows.h>
#include <ddeml.h>

#include "core/deadline.h"
#include "core/detail.h"
#include "platform/win32/win32.h"
#include "platform/win32/win32_loop.h"

#define DDE_QUEUE_MAX 1024u  /* queued pokes or advised values */
#define DDE_ITEMS_MAX 1024u  /* items a server keeps */
#define DDE_BUSY_PAUSE_US 1000u
#define DDE_MS_FOREVER 0x7fffffffu
#define DDE_WATCH_NS 100000000u /* a waiting client looks at its server this often */

typedef struct dde_val {
    struct dde_val *next;
    size_t len;
    unsigned char data[];
} dde_val;

typedef struct dde_item {
    struct dde_item *next;
    HSZ hsz;
    int changed; /* since the last DdePostAdvise */
    size_t len;
    unsigned char *v;
} dde_item;

typedef enum { DDE_JOB_PUT, DDE_JOB_REQUEST, DDE_JOB_ADVISE } dde_job_kind;

typedef struct dde_job {
    struct dde_job *next;
    dde_job_kind kind;
    const void *buf;
    size_t len;
    DWORD ms; /* the transaction's timeout */
    xipc_err rv;
    dde_val *out; /* a request's answer */
    HANDLE done;
} dde_job;

struct xipc_plat_dde {
    xipc__win32_loop loop;
    int server;
    size_t max;
    wchar_t *service, *topic, *item;
    /* the loop thread's */
    DWORD inst;
    HSZ hservice, htopic, hitem;
    HCONV conv;   /* client */
    HANDLE peer;  /* client: the server's process (NULL: not watched) */
    int serving;  /* server: the name is registered */
    int advise_due;
    dde_item *items;
    unsigned nitems;
    /* shared, under mu */
    xipc_plat_mutex mu;
    xipc_plat_cond cv;
    dde_job *jobs, **jobs_tail;
    dde_val *q, **q_tail;
    unsigned qn;
    int closed;   /* client: the conversation ended */
    int stopping; /* closing: a server's callback waits for room no more */
    int overrun;  /* client: values were dropped since the last next */
    /* the loop thread's last failure, for the caller's xipc_last_detail()
     * (the detail text is per thread): what failed, and DDEML's code */
    const char *fail_what;
    UINT fail_code;
};

/* The object whose instance this thread runs: DDEML's callback has no
 * argument of ours, and an instance lives on one thread. */
static _Thread_local xipc_plat_dde *dde_self;

static dde_job *dde_job_pop(xipc_plat_dde *d);
static void dde_finish(xipc_plat_dde *d, dde_job *j);

/* ---- the queue of received values ------------------------------------------- */

/*
 * Queue a received value. The queue holds DDE_QUEUE_MAX values; when it
 * is full:
 *  - a server's callback waits until its owner receives one (or closes),
 *    and the poking client waits for its acknowledgement meanwhile, up to
 *    its timeout. Refusing instead (DDE_FBUSY, CBR_BLOCK) would lose the
 *    message under wine, whose client reports every answered poke as
 *    done (docs/windows.md);
 *  - a client drops its oldest value, as a live item's reader that fell
 *    behind should, and its next receive says XIPC_EOVERRUN.
 * DDE_FACK, or DDE_FNOTPROCESSED (no memory, bad data, closing).
 */
static HDDEDATA dde_take(xipc_plat_dde *d, HDDEDATA data, DWORD n)
{
    dde_val *v = malloc(sizeof(*v) + n);
    if (v == NULL)
        return (HDDEDATA)DDE_FNOTPROCESSED;
    v->next = NULL;
    v->len = n;
    if (n > 0 && DdeGetData(data, v->data, n, 0) != n) {
        free(v);
        return (HDDEDATA)DDE_FNOTPROCESSED;
    }
    xipc_plat_mutex_lock(&d->mu);
    while (d->server && d->qn >= DDE_QUEUE_MAX && !d->stopping) {
        /* the owner's own sends are jobs of this thread: run them while
         * waiting, or an owner that sends before it receives would wait
         * for us as we wait for it */
        dde_job *j = dde_job_pop(d);
        if (j == NULL) {
            xipc_plat_cond_wait(&d->cv, &d->mu, UINT64_MAX);
            continue;
        }
        xipc_plat_mutex_unlock(&d->mu);
        dde_finish(d, j);
        xipc_plat_mutex_lock(&d->mu);
    }
    if (d->stopping) {
        xipc_plat_mutex_unlock(&d->mu);
        free(v);
        return (HDDEDATA)DDE_FNOTPROCESSED;
    }
    if (d->qn >= DDE_QUEUE_MAX) { /* a client's */
        dde_val *old = d->q;
        d->q = old->next;
        d->qn--;
        d->overrun = 1;
        free(old);
    }
    *d->q_tail = v;
    d->q_tail = &v->next;
    d->qn++;
    xipc_plat_cond_broadcast(&d->cv);
    xipc_plat_mutex_unlock(&d->mu);
    return (HDDEDATA)DDE_FACK;
}

/* ---- the server's items ------------------------------------------------------- */

static dde_item *dde_item_find(xipc_plat_dde *d, HSZ hsz, int make)
{
    for (dde_item *it = d->items; it != NULL; it = it->next)
        if (DdeCmpStringHandles(it->hsz, hsz) == 0)
            return it;
    if (!make || d->nitems >= DDE_ITEMS_MAX)
        return NULL;
    dde_item *it = calloc(1, sizeof(*it));
    if (it == NULL)
        return NULL;
    it->hsz = hsz;
    DdeKeepStringHandle(d->inst, hsz);
    it->next = d->items;
    d->items = it;
    d->nitems++;
    return it;
}

/* Make @p v (taken) the value of @p it; its advise links learn it soon. */
static void dde_item_set(xipc_plat_dde *d, dde_item *it, unsigned char *v, size_t len)
{
    free(it->v);
    it->v = v;
    it->len = len;
    it->changed = 1;
    d->advise_due = 1;
}

static HDDEDATA dde_poked(xipc_plat_dde *d, UINT fmt, HSZ hitem, HDDEDATA data)
{
    DWORD n = DdeGetData(data, NULL, 0, 0);
    if (!d->serving || fmt != CF_TEXT || n > d->max)
        return (HDDEDATA)DDE_FNOTPROCESSED;
    dde_item *it = dde_item_find(d, hitem, 1);
    unsigned char *v = malloc(n > 0 ? n : 1);
    if (it == NULL || v == NULL || (n > 0 && DdeGetData(data, v, n, 0) != n)) {
        free(v);
        return (HDDEDATA)DDE_FNOTPROCESSED;
    }
    if (DdeCmpStringHandles(hitem, d->hitem) == 0) {
        HDDEDATA took = dde_take(d, data, n);
        if (took != (HDDEDATA)DDE_FACK) {
            free(v);
            return took;
        }
    }
    dde_item_set(d, it, v, n);
    return (HDDEDATA)DDE_FACK;
}

/* A request's or an advise link's answer: the item's value, or none. */
static HDDEDATA dde_value(xipc_plat_dde *d, UINT fmt, HSZ hitem)
{
    dde_item *it = fmt == CF_TEXT ? dde_item_find(d, hitem, 0) : NULL;
    if (it == NULL || it->v == NULL)
        return NULL;
    return DdeCreateDataHandle(d->inst, it->v, (DWORD)it->len, 0, hitem, CF_TEXT, 0);
}

/* ---- the callback -------------------------------------------------------------- */

static HDDEDATA CALLBACK dde_callback(UINT type, UINT fmt, HCONV conv, HSZ hsz1, HSZ hsz2,
                                      HDDEDATA data, ULONG_PTR d1, ULONG_PTR d2)
{
    (void)conv, (void)d1, (void)d2;
    xipc_plat_dde *d = dde_self;
    if (d == NULL)
        return NULL;
    switch (type) {
    case XTYP_CONNECT: /* hsz1: the topic, hsz2: the service */
        return (HDDEDATA)(uintptr_t)(d->serving && DdeCmpStringHandles(hsz1, d->htopic) == 0 &&
                                     DdeCmpStringHandles(hsz2, d->hservice) == 0);
    case XTYP_POKE:
        return dde_poked(d, fmt, hsz2, data);
    case XTYP_REQUEST:
    case XTYP_ADVREQ:
        return d->serving ? dde_value(d, fmt, hsz2) : NULL;
    case XTYP_ADVSTART:
        return (HDDEDATA)(uintptr_t)(d->serving && fmt == CF_TEXT);
    case XTYP_ADVDATA: {
        DWORD n = data != NULL ? DdeGetData(data, NULL, 0, 0) : 0;
        if (d->server || data == NULL || fmt != CF_TEXT || n > d->max ||
            DdeCmpStringHandles(hsz2, d->hitem) != 0)
            return (HDDEDATA)DDE_FNOTPROCESSED;
        return dde_take(d, data, n);
    }
    case XTYP_DISCONNECT:
        if (!d->server) {
            xipc_plat_mutex_lock(&d->mu);
            d->closed = 1;
            xipc_plat_cond_broadcast(&d->cv);
            xipc_plat_mutex_unlock(&d->mu);
        }
        return NULL;
    default:
        return NULL;
    }
}

/* ---- the loop thread: start, work, stop ----------------------------------------- */

static void dde_stop(void *arg);

static xipc_err dde_begin(xipc_plat_dde *d)
{
    DWORD flags = APPCLASS_STANDARD | CBF_SKIP_REGISTRATIONS | CBF_SKIP_UNREGISTRATIONS |
                  CBF_FAIL_EXECUTES | (d->server ? 0 : CBF_FAIL_ALLSVRXACTIONS);
    UINT e = DdeInitializeW(&d->inst, dde_callback, flags, 0);
    if (e != DMLERR_NO_ERROR) {
        d->fail_what = "DdeInitialize";
        d->fail_code = e;
        return XIPC_ESYS;
    }
    d->hservice = DdeCreateStringHandleW(d->inst, d->service, CP_WINUNICODE);
    d->htopic = DdeCreateStringHandleW(d->inst, d->topic, CP_WINUNICODE);
    d->hitem = DdeCreateStringHandleW(d->inst, d->item, CP_WINUNICODE);
    if (d->hservice == 0 || d->htopic == 0 || d->hitem == 0)
        return XIPC_ENOMEM;
    /* a server first looks for one that answers the name already; a
     * client holds its conversation from here on */
    d->conv = DdeConnect(d->inst, d->hservice, d->htopic, NULL);
    if (d->server) {
        if (d->conv != 0) {
            DdeDisconnect(d->conv);
            d->conv = 0;
            return XIPC_EADDRINUSE;
        }
        d->serving = 1;
        if (DdeNameService(d->inst, d->hservice, 0, DNS_REGISTER) == 0) {
            d->fail_what = "DdeNameService";
            d->fail_code = DdeGetLastError(d->inst);
            return XIPC_ESYS;
        }
        return XIPC_OK;
    }
    if (d->conv == 0)
        return XIPC_ECONNREFUSED;
    /* A server killed ends its conversations without a word under wine
     * (no XTYP_DISCONNECT reaches the client: docs/windows.md), so a
     * client also watches the server's process. */
    CONVINFO ci;
    memset(&ci, 0, sizeof(ci));
    ci.cb = sizeof(ci);
    DWORD pid = 0;
    if (DdeQueryConvInfo(d->conv, QID_SYNC, &ci) != 0 &&
        GetWindowThreadProcessId(ci.hwndPartner, &pid) != 0 && pid != 0)
        d->peer = OpenProcess(SYNCHRONIZE, FALSE, pid);
    return XIPC_OK;
}

/* 1 once a client's server process has ended. */
static int dde_peer_gone(xipc_plat_dde *d)
{
    return d->peer != NULL && WaitForSingleObject(d->peer, 0) == WAIT_OBJECT_0;
}

/* The loop's start: the instance, then the name or the conversation. What
 * a failed start made is undone here, on the instance's thread. */
static xipc_err dde_start(void *arg)
{
    xipc_plat_dde *d = arg;
    dde_self = d;
    xipc_err rv = dde_begin(d);
    if (rv != XIPC_OK)
        dde_stop(d);
    return rv;
}

/* Free what the instance holds, and the instance: on its thread. */
static void dde_stop(void *arg)
{
    xipc_plat_dde *d = arg;
    while (d->items != NULL) {
        dde_item *it = d->items;
        d->items = it->next;
        DdeFreeStringHandle(d->inst, it->hsz);
        free(it->v);
        free(it);
    }
    if (d->inst != 0)
        DdeUninitialize(d->inst); /* ends conversations, drops the name and handles */
    d->inst = 0;
    dde_self = NULL;
}

/* What a failed transaction means; XIPC_EBUSY: try again later. */
static xipc_err dde_failed(xipc_plat_dde *d, UINT type)
{
    UINT e = DdeGetLastError(d->inst);
    d->fail_what = type == XTYP_POKE ? "DDE poke" : type == XTYP_REQUEST ? "DDE request"
                                                                        : "DDE advise start";
    d->fail_code = e;
    switch (e) {
    case DMLERR_BUSY:
        return XIPC_EBUSY;
    case DMLERR_NO_ERROR: /* wine's word for a request the server answered with
                           * a negative acknowledgement (docs/windows.md) */
    case DMLERR_NOTPROCESSED:
        if (type == XTYP_REQUEST)
            return XIPC_ENOENT;
        return XIPC_EREMOTE;
    case DMLERR_ADVACKTIMEOUT:
    case DMLERR_DATAACKTIMEOUT:
    case DMLERR_POKEACKTIMEOUT:
        return XIPC_ETIMEDOUT;
    case DMLERR_NO_CONV_ESTABLISHED:
    case DMLERR_SERVER_DIED:
    case DMLERR_INVALIDPARAMETER: /* the conversation is gone */
        return XIPC_ECLOSED;
    case DMLERR_MEMORY_ERROR:
        return XIPC_ENOMEM;
    default:
        return XIPC_ESYS;
    }
}

/*
 * One client transaction on the conversation.
 *
 * Wine 8's DDEML server acknowledges each request once too often, and the
 * client takes that stray positive acknowledgement for the answer to its
 * next request, which then fails with DMLERR_NOTPROCESSED (0x4009). A
 * request that fails so is sent once more: that one gets the real answer
 * (500 times in 500 under wine), and one that fails twice is a real "no
 * value". Windows never fails the first time, so the retry costs it
 * nothing. dde:// requests once per conversation (its first receive), so
 * the retry guards users of this file that ask again; the pokes that
 * follow a request arrive once each all the same (dde_test checks it).
 */
static xipc_err dde_xact(xipc_plat_dde *d, dde_job *j, UINT type, HDDEDATA *out)
{
    HDDEDATA h = 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (d->closed || dde_peer_gone(d))
            return XIPC_ECLOSED;
        h = DdeClientTransaction((LPBYTE)j->buf, (DWORD)j->len, d->conv, d->hitem, CF_TEXT,
                                 type, j->ms, NULL);
        if (h != 0)
            break;
        if (type != XTYP_REQUEST || DdeGetLastError(d->inst) != DMLERR_NOTPROCESSED)
            return dde_peer_gone(d) ? XIPC_ECLOSED : dde_failed(d, type);
    }
    if (h == 0)
        return dde_peer_gone(d) ? XIPC_ECLOSED : dde_failed(d, type);
    if (out != NULL)
        *out = h;
    return XIPC_OK;
}

static xipc_err dde_run_request(xipc_plat_dde *d, dde_job *j)
{
    HDDEDATA h;
    xipc_err rv = dde_xact(d, j, XTYP_REQUEST, &h);
    if (rv != XIPC_OK)
        return rv;
    DWORD n = DdeGetData(h, NULL, 0, 0);
    if (n > d->max) {
        rv = XIPC_EPROTO;
    } else if ((j->out = malloc(sizeof(*j->out) + n)) == NULL) {
        rv = XIPC_ENOMEM;
    } else {
        j->out->len = n;
        if (n > 0 && DdeGetData(h, j->out->data, n, 0) != n) {
            free(j->out);
            j->out = NULL;
            rv = XIPC_EPROTO;
        }
    }
    DdeFreeDataHandle(h);
    return rv;
}

static xipc_err dde_run(xipc_plat_dde *d, dde_job *j)
{
    if (d->server) { /* only a put: set our own item */
        unsigned char *v = malloc(j->len > 0 ? j->len : 1);
        dde_item *it = dde_item_find(d, d->hitem, 1);
        if (v == NULL || it == NULL) {
            free(v);
            return XIPC_ENOMEM;
        }
        if (j->len > 0)
            memcpy(v, j->buf, j->len);
        dde_item_set(d, it, v, j->len);
        return XIPC_OK;
    }
    switch (j->kind) {
    case DDE_JOB_PUT:
        return dde_xact(d, j, XTYP_POKE, NULL);
    case DDE_JOB_ADVISE:
        return dde_xact(d, j, XTYP_ADVSTART, NULL);
    default:
        return dde_run_request(d, j);
    }
}

/* The next queued job, or NULL; d->mu held. */
static dde_job *dde_job_pop(xipc_plat_dde *d)
{
    dde_job *j = d->jobs;
    if (j != NULL && (d->jobs = j->next) == NULL)
        d->jobs_tail = &d->jobs;
    return j;
}

/* Run @p j and hand it back: the caller's from the SetEvent on. */
static void dde_finish(xipc_plat_dde *d, dde_job *j)
{
    j->rv = dde_run(d, j);
    SetEvent(j->done);
}

/* The loop's wake: tell advise links what changed, then run queued jobs. */
static void dde_wake(void *arg)
{
    xipc_plat_dde *d = arg;
    for (;;) {
        if (d->advise_due) {
            d->advise_due = 0;
            for (dde_item *it = d->items; it != NULL; it = it->next)
                if (it->changed) {
                    it->changed = 0;
                    DdePostAdvise(d->inst, d->htopic, it->hsz);
                }
        }
        xipc_plat_mutex_lock(&d->mu);
        dde_job *j = dde_job_pop(d);
        xipc_plat_mutex_unlock(&d->mu);
        if (j == NULL)
            return;
        dde_finish(d, j);
    }
}

/* ---- callers' side ------------------------------------------------------------------- */

/* After @p rv from the loop thread: the detail, on the caller's thread. */
static xipc_err dde_said(xipc_plat_dde *d, xipc_err rv)
{
    if (rv == XIPC_EREMOTE)
        xipc__set_detail("the DDE server did not take it (DDE_FNOTPROCESSED)");
    else if (rv == XIPC_ESYS && d->fail_what != NULL)
        xipc__set_detail("%s failed: DDEML error 0x%x", d->fail_what, d->fail_code);
    return rv;
}

/* Run @p j on the loop thread, again while the server is busy. */
static xipc_err dde_do(xipc_plat_dde *d, dde_job *j, int timeout_ms)
{
    xipc_deadline dl = xipc__deadline(timeout_ms);
    j->done = CreateEventW(NULL, FALSE, FALSE, NULL);
    if (j->done == NULL)
        return xipc__win32_err(GetLastError());
    for (;;) {
        int left = xipc__deadline_left_ms(&dl);
        j->ms = left < 0 ? DDE_MS_FOREVER : left == 0 ? 1u : (DWORD)left;
        j->next = NULL;
        j->out = NULL;
        xipc_plat_mutex_lock(&d->mu);
        *d->jobs_tail = j;
        d->jobs_tail = &j->next;
        xipc_plat_cond_broadcast(&d->cv); /* a server's callback may wait in dde_take */
        xipc_plat_mutex_unlock(&d->mu);
        xipc__win32_loop_wake(&d->loop);
        WaitForSingleObject(j->done, INFINITE); /* the transaction's own timeout bounds it */
        uint32_t us;
        if (j->rv != XIPC_EBUSY || xipc__deadline_slice(&dl, DDE_BUSY_PAUSE_US, &us) != XIPC_OK)
            break;
        xipc_plat_sleep_us(us);
    }
    CloseHandle(j->done);
    return dde_said(d, j->rv == XIPC_EBUSY ? XIPC_ETIMEDOUT : j->rv);
}

void xipc_plat_dde_close(xipc_plat_dde *d)
{
    if (d == NULL)
        return;
    if (d->loop.thread != NULL) {
        xipc_plat_mutex_lock(&d->mu);
        d->stopping = 1; /* a callback waiting for room gives up */
        xipc_plat_cond_broadcast(&d->cv);
        xipc_plat_mutex_unlock(&d->mu);
        xipc__win32_loop_stop(&d->loop);
    }
    while (d->q != NULL) {
        dde_val *v = d->q;
        d->q = v->next;
        free(v);
    }
    if (d->peer != NULL)
        CloseHandle(d->peer);
    xipc_plat_cond_fini(&d->cv);
    xipc_plat_mutex_fini(&d->mu);
    free(d->service);
    free(d->topic);
    free(d->item);
    free(d);
}

static xipc_err dde_open(xipc_plat_dde **out, const char *service, const char *topic,
                         const char *item, size_t max, int server)
{
    *out = NULL;
    xipc_plat_dde *d = calloc(1, sizeof(*d));
    if (d == NULL)
        return XIPC_ENOMEM;
    d->server = server;
    d->max = max;
    d->jobs_tail = &d->jobs;
    d->q_tail = &d->q;
    xipc_err rv = xipc_plat_mutex_init(&d->mu);
    if (rv == XIPC_OK && (rv = xipc_plat_cond_init(&d->cv)) != XIPC_OK)
        xipc_plat_mutex_fini(&d->mu);
    if (rv != XIPC_OK) {
        free(d);
        return rv;
    }
    if ((rv = xipc__win32_wide(service, &d->service)) == XIPC_OK &&
        (rv = xipc__win32_wide(topic, &d->topic)) == XIPC_OK &&
        (rv = xipc__win32_wide(item, &d->item)) == XIPC_OK) {
        rv = dde_said(d, xipc__win32_loop_start(&d->loop, dde_start, dde_stop, dde_wake, d));
    }
    if (rv != XIPC_OK) {
        xipc_plat_dde_close(d);
        return rv;
    }
    *out = d;
    return XIPC_OK;
}

xipc_err xipc_plat_dde_serve(xipc_plat_dde **out, const char *service, const char *topic,
                             const char *item, size_t max)
{
    return dde_open(out, service, topic, item, max, 1);
}

xipc_err xipc_plat_dde_connect(xipc_plat_dde **out, const char *service, const char *topic,
                               const char *item, size_t max)
{
    return dde_open(out, service, topic, item, max, 0);
}

xipc_err xipc_plat_dde_put(xipc_plat_dde *d, const void *buf, size_t len, int timeout_ms)
{
    if (len > d->max)
        return XIPC_EMSGSIZE;
    dde_job j = {.kind = DDE_JOB_PUT, .buf = buf, .len = len};
    return dde_do(d, &j, timeout_ms);
}

xipc_err xipc_plat_dde_request(xipc_plat_dde *d, void **buf, size_t *len, int timeout_ms)
{
    *buf = NULL;
    *len = 0;
    if (d->server)
        return XIPC_EINVAL;
    dde_job j = {.kind = DDE_JOB_REQUEST};
    xipc_err rv = dde_do(d, &j, timeout_ms);
    if (rv != XIPC_OK)
        return rv;
    /* hand out the value's bytes: move them to the front of the block */
    size_t n = j.out->len;
    memmove(j.out, j.out->data, n);
    *buf = j.out;
    *len = n;
    return XIPC_OK;
}

xipc_err xipc_plat_dde_advise(xipc_plat_dde *d, int timeout_ms)
{
    if (d->server)
        return XIPC_EINVAL;
    dde_job j = {.kind = DDE_JOB_ADVISE};
    return dde_do(d, &j, timeout_ms);
}

xipc_err xipc_plat_dde_next(xipc_plat_dde *d, void **buf, size_t *len, int timeout_ms)
{
    *buf = NULL;
    *len = 0;
    xipc_deadline dl = xipc__deadline(timeout_ms);
    xipc_plat_mutex_lock(&d->mu);
    while (d->q == NULL && !d->closed) {
        if (dde_peer_gone(d)) {
            d->closed = 1;
            break;
        }
        uint64_t end = xipc__deadline_ns(&dl), now = xipc_plat_now_ns();
        if (now >= end) {
            xipc_plat_mutex_unlock(&d->mu);
            return XIPC_ETIMEDOUT;
        }
        uint64_t until = d->peer == NULL || end - now < DDE_WATCH_NS ? end : now + DDE_WATCH_NS;
        xipc_plat_cond_wait(&d->cv, &d->mu, until); /* then look again */
    }
    if (d->overrun) {
        d->overrun = 0;
        xipc_plat_mutex_unlock(&d->mu);
        return XIPC_EOVERRUN;
    }
    dde_val *v = d->q;
    if (v != NULL) {
        if ((d->q = v->next) == NULL)
            d->q_tail = &d->q;
        d->qn--;
        xipc_plat_cond_broadcast(&d->cv); /* room: a server's callback may wait */
    }
    xipc_plat_mutex_unlock(&d->mu);
    if (v == NULL)
        return XIPC_ECLOSED; /* after everything queued before the end */
    size_t n = v->len;
    memmove(v, v->data, n);
    *buf = v;
    *len = n;
    return XIPC_OK;
}

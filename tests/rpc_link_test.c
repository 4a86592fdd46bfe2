/*
 * Server push (include/xipc/rpc.h, "server push"): a handler takes a link
 * to its client, and any server thread sends that client notifications
 * through it, in order, between the server's responses, over every
 * channel kind. A link fails with XIPC_ECLOSED once its client is gone or
 * the server stopped, and never holds a stop.
 */
#include <stdlib.h>

#include "rpc_util.h"

#define NPUSH 300

/* Taken by "watch". Atomic: over shm:// the handler runs on the reader
 * thread, and what orders its store before the test's loads is the ring's
 * atomics, which ThreadSanitizer cannot follow across the ring's two
 * mappings in one process. */
static _Atomic(xipc_rpc_link *) lk_link;

static xipc_err lk_watch(xipc_rpc_req *req, void *ud)
{
    xipc_rpc_link *l;
    xipc_err rv = xipc_rpc_req_link(req, &l);
    if (rv != XIPC_OK)
        return rv;
    xipc_rpc_link_free(lk_link); /* a second watch replaces the first */
    lk_link = l;
    return xipc_rpc_req_returnf(req, "s", "watching");
}

/* What the client received, in order. */
typedef struct lk_seen {
    xipc_plat_mutex mu;
    int n;
    int bad;     /* an out-of-order or malformed notification */
    int empty;   /* "empty" notifications, params [] */
} lk_seen;

static void lk_on_notify(xipc_rpc_client *c, const char *method, const void *params,
                         size_t len, void *ud)
{
    lk_seen *s = ud;
    xipc_plat_mutex_lock(&s->mu);
    if (strcmp(method, "empty") == 0) {
        if (len == 1 && ((const uint8_t *)params)[0] == 0x90)
            s->empty++;
        else
            s->bad++;
    } else {
        xipc_mp_reader r;
        uint32_t n;
        int64_t v;
        xipc_mp_reader_init(&r, params, len);
        if (strcmp(method, "tick") != 0 || xipc_mp_read_array(&r, &n) != XIPC_OK || n != 2 ||
            xipc_mp_read_int(&r, &v) != XIPC_OK || v != s->n)
            s->bad++;
        else
            s->n++;
    }
    xipc_plat_mutex_unlock(&s->mu);
}

static int lk_count(lk_seen *s)
{
    xipc_plat_mutex_lock(&s->mu);
    int n = s->n + s->bad + s->empty;
    xipc_plat_mutex_unlock(&s->mu);
    return n;
}

/* Calls made while the server pushes: both streams stay intact. */
static void lk_caller_main(void *p)
{
    xipc_rpc_client *c = p;
    for (int i = 0; i < 200; i++) {
        int v = 0;
        XT_OK(xipc_rpc_callf(c, "add", "ii", i, 1, "i", &v));
        XT_EQ(v, i + 1);
    }
}

static xipc_rpc_client *lk_dial(const char *url, lk_seen *seen)
{
    xipc_rpc_client_opts o;
    xipc_rpc_client *c;
    xipc_rpc_client_opts_init(&o);
    o.timeout_ms = 60000;
    o.on_notify = seen != NULL ? lk_on_notify : NULL;
    o.notify_userdata = seen;
    XT_OK(xipc_rpc_client_dial(&c, url, &o, 10000));
    return c;
}

static void t_push(const char *kind)
{
    xipc_rpc_server *srv = rt_server(2, NULL);
    XT_OK(xipc_rpc_server_register(srv, "watch", "() -> str", lk_watch, NULL));
    char url[512];
    rt_serve(srv, kind, url, sizeof(url));
    lk_seen seen;
    memset(&seen, 0, sizeof(seen));
    XT_OK(xipc_plat_mutex_init(&seen.mu));
    xipc_rpc_client *c = lk_dial(url, &seen);
    char *s = NULL;
    XT_OK(xipc_rpc_callf(c, "watch", "", "s", &s));
    XT_ASSERT(strcmp(s, "watching") == 0);
    xipc_rpc_free(s);
    XT_ASSERT(lk_link != NULL);

    /* bad input: refused, nothing sent */
    XT_ERR(xipc_rpc_link_notify(lk_link, NULL, NULL, 0, 1000), XIPC_EINVAL);
    XT_ERR(xipc_rpc_link_notify(lk_link, "", NULL, 0, 1000), XIPC_EINVAL);
    static const uint8_t not_array = 0x07, truncated[] = {0x92, 0x01};
    XT_ERR(xipc_rpc_link_notify(lk_link, "tick", &not_array, 1, 1000), XIPC_EINVAL);
    XT_ERR(xipc_rpc_link_notify(lk_link, "tick", truncated, sizeof(truncated), 1000),
           XIPC_EINVAL);
    XT_ERR(xipc_rpc_link_notify(lk_link, "tick", NULL, 0, -2), XIPC_EINVAL);
    XT_ERR(xipc_rpc_link_notifyf(NULL, "tick", ""), XIPC_EINVAL);
    xipc_rpc_link *none = NULL;
    XT_ERR(xipc_rpc_req_link(NULL, &none), XIPC_EINVAL);
    XT_ASSERT(none == NULL);

    /* pushes in order, while another thread calls on the same connection */
    xipc_plat_thread th;
    XT_OK(xipc_plat_thread_create(&th, lk_caller_main, c));
    for (int i = 0; i < NPUSH; i++)
        XT_OK(xipc_rpc_link_notifyf(lk_link, "tick", "is", i, "payload"));
    XT_OK(xipc_rpc_link_notify(lk_link, "empty", NULL, 0, 1000));
    xipc_plat_thread_join(&th);
    for (int i = 0; i < 30000 && lk_count(&seen) < NPUSH + 1; i++)
        xipc_plat_sleep_us(1000);
    xipc_plat_mutex_lock(&seen.mu);
    XT_EQ(seen.n, NPUSH);
    XT_EQ(seen.bad, 0);
    XT_EQ(seen.empty, 1);
    xipc_plat_mutex_unlock(&seen.mu);

    /* the client leaves: the link says so (the server notices within its
     * reader's poll period) */
    xipc_rpc_client_close(c);
    xipc_err rv = XIPC_OK;
    for (int i = 0; i < 10000 && rv == XIPC_OK; i++) {
        rv = xipc_rpc_link_notifyf(lk_link, "tick", "is", i, "late");
        if (rv == XIPC_OK)
            xipc_plat_sleep_us(1000);
    }
    XT_ERR(rv, XIPC_ECLOSED);
    xipc_rpc_link_free(lk_link);
    lk_link = NULL;

    /* a client that sets no on_notify: pushes are dropped, calls work */
    c = lk_dial(url, NULL);
    XT_OK(xipc_rpc_callf(c, "watch", "", "s", &s));
    xipc_rpc_free(s);
    for (int i = 0; i < 50; i++)
        XT_OK(xipc_rpc_link_notifyf(lk_link, "tick", "is", i, "dropped"));
    int v = 0;
    XT_OK(xipc_rpc_callf(c, "add", "ii", 2, 3, "i", &v));
    XT_EQ(v, 5);

    /* a held link does not hold the stop, and fails after it */
    XT_OK(xipc_rpc_server_stop(srv));
    XT_ERR(xipc_rpc_link_notifyf(lk_link, "tick", "is", 0, "stopped"), XIPC_ECLOSED);
    xipc_rpc_link_free(lk_link);
    lk_link = NULL;
    xipc_rpc_client_close(c);
    xipc_rpc_server_free(srv);
    xipc_plat_mutex_fini(&seen.mu);
}

int main(void)
{
    xipc_rpc_link_free(NULL); /* a no-op */
    for (size_t i = 0; i < RT_NKINDS; i++) {
        t_push(rt_kinds[i]);
        printf("rpc_link_test %s ok\n", rt_kinds[i]);
    }
    printf("rpc_link_test ok\n");
    return 0;
}

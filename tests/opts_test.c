/*
 * Options: defaults (xipc_opts_init), validation and rounding
 * (xipc__opts_resolve), and the argument checks of the public API that
 * come before any transport runs.
 */
#include <string.h>

#include "core/opts.h"
#include "test.h"

/* Resolve @p src (copied) into a garbage-filled struct; return the result. */
static xipc_err opts_resolve(const xipc_opts *src, xipc_opts *out)
{
    memset(out, 0xa5, sizeof(*out));
    return xipc__opts_resolve(out, src);
}

static void opts_test_init(void)
{
    xipc_opts o;
    memset(&o, 0xa5, sizeof(o));
    XT_OK(xipc_opts_init(&o));
    XT_EQ(o.magic, XIPC_OPTS_MAGIC);
    XT_EQ(o.size, sizeof(xipc_opts));
    XT_EQ(o.ring_capacity, 1u << 20);
    XT_EQ(o.ring_capacity, XIPC_DEFAULT_RING);
    XT_EQ(o.spin_us, 50);
    XT_EQ(o.backlog, 64);
    XT_EQ(o.max_msg, 0); /* 0: each transport's own default */
    XT_EQ(o.pub_slots, 4096);
    XT_EQ(o.pub_slot_size, 2048);
    XT_EQ(o.mq_depth, 10);
    XT_ERR(xipc_opts_init(NULL), XIPC_EINVAL);
    /* the defaults lie inside the documented ranges */
    XT_ASSERT(o.ring_capacity >= XIPC_MIN_RING && o.ring_capacity <= XIPC_MAX_RING);
    XT_EQ(o.ring_capacity & (o.ring_capacity - 1), 0);
    XT_ASSERT(o.backlog >= 1 && o.backlog <= XIPC_MAX_BACKLOG);
    XT_EQ(o.pub_slots & (o.pub_slots - 1), 0);
    XT_EQ(o.pub_slot_size % 64, 0);
}

static void opts_test_resolve_defaults(void)
{
    xipc_opts def, got;
    XT_OK(xipc_opts_init(&def));
    /* NULL: the defaults */
    XT_OK(opts_resolve(NULL, &got));
    XT_ASSERT(memcmp(&got, &def, sizeof(def)) == 0);
    /* initialised, unchanged: the same */
    xipc_opts src = def;
    XT_OK(opts_resolve(&src, &got));
    XT_ASSERT(memcmp(&got, &def, sizeof(def)) == 0);
    /* the source is not modified */
    XT_ASSERT(memcmp(&src, &def, sizeof(def)) == 0);
}

static void opts_test_uninit(void)
{
    xipc_opts src, got;
    /* never initialised: garbage everywhere */
    const int fills[] = {0x00, 0xa5, 0xff, 0x6f};
    for (size_t i = 0; i < sizeof(fills) / sizeof(fills[0]); i++) {
        memset(&src, fills[i], sizeof(src));
        XT_ERR(opts_resolve(&src, &got), XIPC_EINVAL);
    }
    /* garbage with sensible-looking values but no magic */
    memset(&src, 0, sizeof(src));
    src.size = sizeof(src);
    src.ring_capacity = 1u << 20;
    src.spin_us = 50;
    src.max_msg = 0;
    src.backlog = 64;
    src.pub_slots = 4096;
    src.pub_slot_size = 2048;
    src.mq_depth = 10;
    XT_ERR(opts_resolve(&src, &got), XIPC_EINVAL);
    /* the magic right but a size from another build */
    XT_OK(xipc_opts_init(&src));
    src.size = (uint32_t)sizeof(src) + 8;
    XT_ERR(opts_resolve(&src, &got), XIPC_EINVAL);
    src.size = (uint32_t)sizeof(src) - 4;
    XT_ERR(opts_resolve(&src, &got), XIPC_EINVAL);
    src.size = 0;
    XT_ERR(opts_resolve(&src, &got), XIPC_EINVAL);
}

/* ring_capacity @p in resolves to @p want (0: refused). */
static void opts_cap(uint32_t in, uint32_t want)
{
    xipc_opts src, got;
    XT_OK(xipc_opts_init(&src));
    src.ring_capacity = in;
    xipc_err rv = opts_resolve(&src, &got);
    if (want == 0) {
        if (rv != XIPC_EINVAL)
            XT_FAIL("ring_capacity %u: %s, want EINVAL", (unsigned)in,
                    xipc_err_name(rv));
        return;
    }
    if (rv != XIPC_OK)
        XT_FAIL("ring_capacity %u: %s, want OK", (unsigned)in, xipc_err_name(rv));
    if (got.ring_capacity != want)
        XT_FAIL("ring_capacity %u -> %u, want %u", (unsigned)in,
                (unsigned)got.ring_capacity, (unsigned)want);
    /* the other fields are copied through */
    XT_EQ(got.magic, XIPC_OPTS_MAGIC);
    XT_EQ(got.size, sizeof(xipc_opts));
    XT_EQ(got.spin_us, src.spin_us);
    XT_EQ(got.backlog, src.backlog);
    XT_EQ(got.max_msg, src.max_msg);
    XT_EQ(got.pub_slots, src.pub_slots);
    XT_EQ(got.pub_slot_size, src.pub_slot_size);
    XT_EQ(got.mq_depth, src.mq_depth);
}

static void opts_test_capacity(void)
{
    opts_cap(5000, 8192);
    opts_cap(4096, 4096);
    opts_cap(4097, 8192);
    opts_cap(8191, 8192);
    opts_cap(8192, 8192);
    opts_cap(8193, 16384);
    opts_cap(1000000, 1u << 20);
    opts_cap((1u << 20) + 1, 1u << 21);
    opts_cap((1u << 29) + 1, 1u << 30);
    opts_cap(1u << 30, 1u << 30);
    /* out of range */
    opts_cap(0, 0);
    opts_cap(1, 0);
    opts_cap(100, 0);
    opts_cap(4095, 0);
    opts_cap((1u << 30) + 1, 0);
    opts_cap(2u << 30, 0); /* 2 GiB */
    opts_cap(3u << 30, 0);
    opts_cap(UINT32_MAX, 0);
}

typedef enum opts_field {
    F_BACKLOG,
    F_SPIN,
    F_MAXMSG,
    F_PUB_SLOTS,
    F_PUB_SLOT_SIZE,
    F_MQ_DEPTH
} opts_field;

static uint32_t *opts_field_ptr(xipc_opts *o, opts_field f)
{
    switch (f) {
    case F_BACKLOG: return &o->backlog;
    case F_SPIN: return &o->spin_us;
    case F_MAXMSG: return &o->max_msg;
    case F_PUB_SLOTS: return &o->pub_slots;
    case F_PUB_SLOT_SIZE: return &o->pub_slot_size;
    case F_MQ_DEPTH: return &o->mq_depth;
    }
    return NULL;
}

/* Field @p f set to @p v resolves to @p want. */
static void opts_field_check(opts_field f, uint32_t v, xipc_err want)
{
    static const char *const names[] = {"backlog",   "spin_us",       "max_msg",
                                        "pub_slots", "pub_slot_size", "mq_depth"};
    xipc_opts src, got;
    XT_OK(xipc_opts_init(&src));
    *opts_field_ptr(&src, f) = v;
    xipc_err rv = opts_resolve(&src, &got);
    if (rv != want)
        XT_FAIL("%s = %u: %s, want %s", names[f], (unsigned)v,
                xipc_err_name(rv), xipc_err_name(want));
    if (want == XIPC_OK)
        XT_EQ(*opts_field_ptr(&got, f), v);
}

static void opts_test_ranges(void)
{
    opts_field_check(F_BACKLOG, 0, XIPC_EINVAL);
    opts_field_check(F_BACKLOG, 1, XIPC_OK);
    opts_field_check(F_BACKLOG, 1024, XIPC_OK);
    opts_field_check(F_BACKLOG, 1025, XIPC_EINVAL);
    opts_field_check(F_BACKLOG, 5000, XIPC_EINVAL);
    opts_field_check(F_BACKLOG, UINT32_MAX, XIPC_EINVAL);
    opts_field_check(F_SPIN, 0, XIPC_OK);
    opts_field_check(F_SPIN, 1000, XIPC_OK);
    opts_field_check(F_SPIN, 10u * 1000 * 1000, XIPC_OK);
    opts_field_check(F_SPIN, 10u * 1000 * 1000 + 1, XIPC_EINVAL);
    opts_field_check(F_SPIN, 1u << 31, XIPC_EINVAL);
    opts_field_check(F_SPIN, UINT32_MAX, XIPC_EINVAL);
    opts_field_check(F_MAXMSG, 0, XIPC_OK); /* the transport's default */
    opts_field_check(F_MAXMSG, 1, XIPC_OK);
    opts_field_check(F_MAXMSG, 1u << 30, XIPC_OK);
    opts_field_check(F_MAXMSG, (1u << 30) + 1, XIPC_EINVAL);
    opts_field_check(F_MAXMSG, UINT32_MAX, XIPC_EINVAL);
    opts_field_check(F_PUB_SLOTS, 0, XIPC_EINVAL);
    opts_field_check(F_PUB_SLOTS, 1, XIPC_EINVAL);
    opts_field_check(F_PUB_SLOTS, 2, XIPC_OK);
    opts_field_check(F_PUB_SLOTS, 3, XIPC_EINVAL);
    opts_field_check(F_PUB_SLOTS, 5000, XIPC_EINVAL);
    opts_field_check(F_PUB_SLOTS, 1u << 19, XIPC_OK); /* x 2048 = 1 GiB */
    opts_field_check(F_PUB_SLOTS, 1u << 20, XIPC_EINVAL); /* 2 GiB in all */
    opts_field_check(F_PUB_SLOTS, 1u << 21, XIPC_EINVAL);
    opts_field_check(F_PUB_SLOT_SIZE, 0, XIPC_EINVAL);
    opts_field_check(F_PUB_SLOT_SIZE, 63, XIPC_EINVAL);
    opts_field_check(F_PUB_SLOT_SIZE, 64, XIPC_OK);
    opts_field_check(F_PUB_SLOT_SIZE, 100, XIPC_EINVAL);
    opts_field_check(F_PUB_SLOT_SIZE, 128, XIPC_OK);
    opts_field_check(F_PUB_SLOT_SIZE, 1u << 18, XIPC_OK); /* x 4096 = 1 GiB */
    opts_field_check(F_PUB_SLOT_SIZE, (1u << 18) + 64, XIPC_EINVAL);
    opts_field_check(F_PUB_SLOT_SIZE, 32u << 20, XIPC_EINVAL);
    opts_field_check(F_MQ_DEPTH, 0, XIPC_EINVAL);
    opts_field_check(F_MQ_DEPTH, 1, XIPC_OK);
    opts_field_check(F_MQ_DEPTH, 65536, XIPC_OK);
    opts_field_check(F_MQ_DEPTH, 65537, XIPC_EINVAL);
}

/* The public API refuses bad arguments before any transport work. */
static void opts_test_api(void)
{
    xipc_sock *s = (xipc_sock *)&s; /* not NULL: must be cleared */
    xipc_opts garbage;
    memset(&garbage, 0xa5, sizeof(garbage));
    XT_ERR(xipc_listen(&s, "shm://opts_test_uninit", &garbage), XIPC_EINVAL);
    XT_ASSERT(s == NULL);
    s = (xipc_sock *)&s;
    XT_ERR(xipc_dial(&s, "shm://opts_test_uninit", &garbage, 0), XIPC_EINVAL);
    XT_ASSERT(s == NULL);

    xipc_opts o;
    XT_OK(xipc_opts_init(&o));
    o.ring_capacity = 100;
    XT_ERR(xipc_listen(&s, "shm://opts_test_small", &o), XIPC_EINVAL);
    XT_ASSERT(s == NULL);
    o.ring_capacity = 2u << 30;
    XT_ERR(xipc_listen(&s, "shm://opts_test_big", &o), XIPC_EINVAL);
    o.ring_capacity = 1u << 16;
    o.backlog = 0;
    XT_ERR(xipc_listen(&s, "shm://opts_test_backlog", &o), XIPC_EINVAL);

    s = (xipc_sock *)&s;
    XT_ERR(xipc_listen(&s, "nope://x", NULL), XIPC_ENOTSUP);
    XT_ASSERT(s == NULL);
    XT_ERR(xipc_dial(&s, "nope://x", NULL, 0), XIPC_ENOTSUP);
    XT_ERR(xipc_listen(&s, "shm://a/b", NULL), XIPC_EINVAL);
    XT_ASSERT(s == NULL);
    XT_ERR(xipc_dial(&s, "shm://a/b", NULL, 0), XIPC_EINVAL);
    XT_ERR(xipc_listen(&s, "shm://..", NULL), XIPC_EINVAL);
    XT_ERR(xipc_listen(&s, "shm://.hidden", NULL), XIPC_EINVAL);
    XT_ERR(xipc_listen(&s, "shm://", NULL), XIPC_EINVAL);
    XT_ERR(xipc_listen(&s, "no-scheme", NULL), XIPC_EINVAL);
    XT_ERR(xipc_listen(&s, NULL, NULL), XIPC_EINVAL);
    XT_ERR(xipc_listen(NULL, "shm://x", NULL), XIPC_EINVAL);
    XT_ERR(xipc_dial(NULL, "shm://x", NULL, 0), XIPC_EINVAL);
    XT_ERR(xipc_dial(&s, "shm://x", NULL, -2), XIPC_EINVAL);

    char buf[8];
    size_t len = 0;
    void *wp;
    const void *rp;
    uint32_t pid;
    XT_ERR(xipc_send(NULL, buf, sizeof(buf), 0), XIPC_EINVAL);
    XT_ERR(xipc_send(NULL, NULL, 0, 0), XIPC_EINVAL);
    XT_ERR(xipc_recv(NULL, buf, sizeof(buf), &len, 0), XIPC_EINVAL);
    XT_ERR(xipc_reserve(NULL, 8, &wp, 0), XIPC_EINVAL);
    XT_ERR(xipc_commit(NULL, 8), XIPC_EINVAL);
    XT_ERR(xipc_peek(NULL, &rp, &len, 0), XIPC_EINVAL);
    XT_ERR(xipc_release(NULL), XIPC_EINVAL);
    XT_ERR(xipc_peer_pid(NULL, &pid), XIPC_EINVAL);
    XT_ERR(xipc_accept(NULL, &s, 0), XIPC_EINVAL);
    xipc_close(NULL); /* a no-op: must not crash */
}

int main(void)
{
    opts_test_init();
    opts_test_resolve_defaults();
    opts_test_uninit();
    opts_test_capacity();
    opts_test_ranges();
    opts_test_api();
    printf("opts_test ok\n");
    return 0;
}

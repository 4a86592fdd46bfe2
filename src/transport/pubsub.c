/*
 * pubsub://NAME — publish/subscribe over shared memory. The publisher
 * (xipc_listen) writes each message once into a broadcast ring
 * (src/ring/bcast.h); every subscriber (xipc_dial) reads it in place.
 *
 * What a subscriber gets, and why it cannot disturb the others
 * (docs/SECURITY.md). The publisher holds the lock file
 * <rundir>/pubsub/NAME.lock (kernel OFD lock: one publisher per name,
 * released by the kernel when it dies) and keeps two memfds open:
 *  - the ring, sealed against resizing and, after the publisher's own
 *    mapping, against every new writable mapping (F_SEAL_FUTURE_WRITE);
 *  - the signals page (data_seq, waiting: the wake-up words), the one
 *    thing subscribers write.
 * It writes their descriptor numbers, the ring's size, a key and its
 * NAME's hash into NAME.fds (pubsub_layout.h); the key (time and pid, new
 * per ring) sits in the ring's header too and binds the note to its ring. A subscriber maps both straight from the
 * publisher's descriptor table (/proc/PID/fd/N, PID the lock holder's):
 * the ring read-only, refused without those seals or when its key, NAME
 * or publisher pid disagree with the note. So the publisher does nothing
 * per subscriber (no thread, no accept: it never waits for anyone, and a
 * process that forks after publishing has nothing hidden running), no
 * subscriber can move the head, close the stream, write a slot or shrink
 * the ring, and the worst a hostile one does through the signals page is
 * wake sleepers for nothing (a storm costs bounded CPU, wait.h) or let
 * them sleep out a slice (10 ms). A subscriber watches the publisher
 * through a pidfd of the lock holder's pid.
 *
 * Both ends are connections (sock.listener = 0) with a table each: the
 * publisher's has send/reserve/commit, the subscriber's recv/peek/release;
 * the operations an end lacks are NULL, so the generic layer answers
 * XIPC_ENOTSUP. The publisher never blocks; a lapped subscriber gets
 * XIPC_EOVERRUN with the count of lost messages (also added to its
 * stats.lost). docs/pubsub.md has the whole story.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/transport.h"
#include "ring/bcast.h"
#include "ring/wait.h"
#include "transport/named_sock.h"
#include "transport/pubsub_layout.h"

/* A dial waits this long at least, even with a shorter timeout: a new
 * publisher writes its note a moment after it takes its lock. */
#define PUBSUB_FIND_MS 1000
#define PUBSUB_RETRY_US 1000u

typedef struct pubsub_sock {
    xipc_sock sock;
    xipc_plat_shm seg; /* the ring */
    xipc_plat_shm sig; /* the signals page */
    xipc_bcast bc;
    xipc_plat_proc peer; /* subscriber: the publisher's process */
    intptr_t lock;       /* publisher: the lock file, held while open */
    char lockpath[XIPC_NAMED_LOCK_MAX]; /* <rundir>/pubsub/NAME.pid */
    char notepath[XIPC_NAMED_LOCK_MAX]; /* <rundir>/pubsub/NAME.fds */
    char name[XIPC_NAME_MAX + 1];
} pubsub_sock;

extern const xipc_tran xipc_pubsub_tran;
static const xipc_tran pubsub_sub_tran;

/* The NAME's hash in the ring's header (FNV-1a, 64 bits). */
static uint64_t pubsub_name_hash(const char *name)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (; *name != '\0'; name++)
        h = (h ^ (uint8_t)*name) * 0x100000001b3u;
    return h;
}

static pubsub_sock *pubsub_alloc(const xipc_tran *t, const char *name)
{
    pubsub_sock *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    p->sock.tran = t;
    p->sock.listener = 0;
    p->seg.handle = -1;
    p->sig.handle = -1;
    p->peer.handle = -1;
    p->lock = -1;
    snprintf(p->name, sizeof(p->name), "%.64s", name);
    return p;
}

/* The lock file's and the note's paths. */
static xipc_err pubsub_paths(pubsub_sock *p)
{
    xipc_err rv = xipc__named_lock_path("pubsub", p->name, p->lockpath, sizeof(p->lockpath));
    if (rv != XIPC_OK)
        return rv;
    size_t n = strlen(p->lockpath); /* ends in ".pid" */
    memcpy(p->notepath, p->lockpath, n - 4);
    memcpy(p->notepath + n - 4, ".fds", 5);
    return XIPC_OK;
}

/* Unmap and forget the publisher: back to a fresh subscriber. */
static void pubsub_unmap(pubsub_sock *p)
{
    xipc_plat_proc_close(&p->peer);
    xipc_plat_shm_unmap(&p->seg);
    xipc_plat_shm_unmap(&p->sig);
    memset(&p->bc, 0, sizeof(p->bc));
}

static void pubsub_free(pubsub_sock *p)
{
    pubsub_unmap(p);
    free(p);
}

/* ---- publisher ------------------------------------------------------------- */

static xipc_err pubsub_publish(pubsub_sock *p, const xipc_opts *opts)
{
    uint64_t size = xipc_bcast_seg_size(opts->pub_slots, opts->pub_slot_size);
    if (size > (uint64_t)SIZE_MAX / 2)
        return XIPC_ENOMEM;
    /* the ring: writable through this mapping only (F_SEAL_FUTURE_WRITE) */
    xipc_err rv = xipc_plat_shm_anon(&p->seg, (size_t)size, 1);
    if (rv == XIPC_OK)
        rv = xipc_plat_shm_anon(&p->sig, XIPC_PUBSUB_SIG_SIZE, 0);
    if (rv != XIPC_OK)
        return rv;
    uint32_t pid = xipc_plat_getpid();
    xipc_bcast_format(p->seg.base, opts->pub_slots, opts->pub_slot_size, pid);
    xipc_bcast_hdr *h = p->seg.base;
    h->key = xipc_plat_now_ns() ^ ((uint64_t)pid << 32) ^ (uint64_t)(uintptr_t)p;
    h->name_hash = pubsub_name_hash(p->name);
    rv = xipc_bcast_attach(&p->bc, p->seg.base, p->seg.size, p->sig.base,
                           XIPC_BCAST_PUBLISHER, opts->spin_us, NULL);
    if (rv != XIPC_OK)
        return rv;
    char note[XIPC_PUBSUB_NOTE_MAX];
    snprintf(note, sizeof(note), XIPC_PUBSUB_NOTE_FMT "\n", XIPC_BCAST_VERSION,
             (long)p->seg.handle, (long)p->sig.handle, (uint64_t)p->seg.size, h->key,
             h->name_hash);
    return xipc_plat_textfile_write(p->notepath, note);
}

static xipc_err pubsub_listen(xipc_sock **out, const xipc_url *url,
                              const xipc_opts *opts)
{
    pubsub_sock *p = pubsub_alloc(&xipc_pubsub_tran, url->rest);
    if (p == NULL)
        return XIPC_ENOMEM;
    xipc_err rv = pubsub_paths(p);
    if (rv == XIPC_OK)
        rv = xipc_plat_lockfile_acquire(&p->lock, p->lockpath); /* one publisher */
    if (rv == XIPC_OK) {
        rv = pubsub_publish(p, opts);
        if (rv != XIPC_OK) {
            xipc_plat_unlink(p->notepath);
            xipc_plat_lockfile_release(p->lock, p->lockpath);
        }
    }
    if (rv != XIPC_OK) {
        pubsub_free(p);
        return rv;
    }
    *out = &p->sock;
    return XIPC_OK;
}

static xipc_err pubsub_send(xipc_sock *s, const void *buf, size_t len,
                            int timeout_ms)
{
    (void)timeout_ms; /* never waits */
    return xipc_bcast_send(&((pubsub_sock *)s)->bc, buf, len);
}

static xipc_err pubsub_reserve(xipc_sock *s, size_t len, void **buf,
                               int timeout_ms)
{
    (void)timeout_ms;
    return xipc_bcast_reserve(&((pubsub_sock *)s)->bc, len, buf);
}

static xipc_err pubsub_commit(xipc_sock *s, size_t len)
{
    return xipc_bcast_commit(&((pubsub_sock *)s)->bc, len);
}

/* ---- subscriber ------------------------------------------------------------ */

/*
 * Map the ring and the signals page of publisher @p pid as its note says.
 * The note and the descriptor table are the publisher's, read without its
 * help: a note half-written, left by a publisher that died, or naming
 * another ring gives XIPC_EPROTO or XIPC_ENOENT, and the caller tries again.
 */
static xipc_err pubsub_map(pubsub_sock *p, uint32_t pid, const xipc_opts *opts)
{
    /* the pidfd first: if pid is reused after the maps, alive() says so */
    xipc_plat_proc_open(&p->peer, pid);
    char note[XIPC_PUBSUB_NOTE_MAX];
    xipc_err rv = xipc_plat_textfile_read(p->notepath, note, sizeof(note));
    if (rv != XIPC_OK)
        return rv;
    unsigned version;
    long ring_fd, sig_fd;
    uint64_t size, key, name_hash;
    char end;
    if (sscanf(note, XIPC_PUBSUB_NOTE_FMT "%c", &version, &ring_fd, &sig_fd, &size, &key,
               &name_hash, &end) != 7 ||
        end != '\n' || version != XIPC_BCAST_VERSION || size < XIPC_BCAST_DATA_OFF ||
        size > (uint64_t)SIZE_MAX / 2 || name_hash != pubsub_name_hash(p->name))
        return XIPC_EPROTO;
    /* read-only, and refused unless only the publisher can write it */
    rv = xipc_plat_shm_from_peer(&p->seg, pid, ring_fd, (size_t)size, 0);
    if (rv == XIPC_OK)
        rv = xipc_plat_shm_from_peer(&p->sig, pid, sig_fd, XIPC_PUBSUB_SIG_SIZE, 1);
    if (rv == XIPC_OK)
        rv = xipc_bcast_attach(&p->bc, p->seg.base, p->seg.size, p->sig.base,
                               XIPC_BCAST_SUBSCRIBER, opts->spin_us, &p->peer);
    if (rv != XIPC_OK)
        return rv;
    /* read-only memory: these cannot change once checked */
    const xipc_bcast_hdr *h = p->seg.base;
    if (h->key != key || h->name_hash != name_hash || xipc_bcast_pub_pid(&p->bc) != pid)
        return XIPC_EPROTO;
    /* a publisher closing or dying right now */
    if (xipc_bcast_closed(&p->bc) || !xipc_plat_proc_alive(&p->peer))
        return XIPC_ENOENT;
    return XIPC_OK;
}

static xipc_err pubsub_dial(xipc_sock **out, const xipc_url *url,
                            const xipc_opts *opts, int timeout_ms)
{
    pubsub_sock *p = pubsub_alloc(&pubsub_sub_tran, url->rest);
    if (p == NULL)
        return XIPC_ENOMEM;
    xipc_deadline d = xipc__deadline(timeout_ms >= 0 && timeout_ms < PUBSUB_FIND_MS
                                         ? PUBSUB_FIND_MS
                                         : timeout_ms);
    xipc_err rv = pubsub_paths(p);
    while (rv == XIPC_OK) {
        uint32_t pid, slice;
        rv = xipc__named_lock_owner(p->lockpath, &pid);
        if (rv != XIPC_OK)
            break; /* XIPC_ECONNREFUSED: no publisher */
        rv = pubsub_map(p, pid, opts);
        if (rv != XIPC_EPROTO && rv != XIPC_ENOENT && rv != XIPC_EBUSY)
            break;
        pubsub_unmap(p);
        if (xipc__deadline_slice(&d, PUBSUB_RETRY_US, &slice) != XIPC_OK)
            break; /* the last reason stands: XIPC_ENOENT means gone */
        xipc_plat_sleep_us(slice);
        rv = XIPC_OK;
    }
    if (rv == XIPC_ENOENT)
        rv = XIPC_ECONNREFUSED;
    if (rv != XIPC_OK) {
        pubsub_free(p);
        return rv;
    }
    *out = &p->sock;
    return XIPC_OK;
}

/* Count what an XIPC_EOVERRUN reported. */
static xipc_err pubsub_lost(pubsub_sock *p, xipc_err rv)
{
    if (rv == XIPC_EOVERRUN)
        p->sock.stats.lost += p->bc.last_lost;
    return rv;
}

static xipc_err pubsub_recv(xipc_sock *s, void *buf, size_t cap, size_t *len,
                            int timeout_ms)
{
    pubsub_sock *p = (pubsub_sock *)s;
    return pubsub_lost(p, xipc_bcast_recv(&p->bc, buf, cap, len, timeout_ms));
}

static xipc_err pubsub_peek(xipc_sock *s, const void **buf, size_t *len,
                            int timeout_ms)
{
    pubsub_sock *p = (pubsub_sock *)s;
    return pubsub_lost(p, xipc_bcast_peek(&p->bc, buf, len, timeout_ms));
}

static xipc_err pubsub_release(xipc_sock *s)
{
    pubsub_sock *p = (pubsub_sock *)s;
    return pubsub_lost(p, xipc_bcast_release(&p->bc));
}

/* ---- both ------------------------------------------------------------------ */

static xipc_err pubsub_peer_pid(xipc_sock *s, uint32_t *pid)
{
    /* a subscriber's peer is the publisher; a publisher has many peers */
    *pid = ((pubsub_sock *)s)->peer.pid;
    return XIPC_OK;
}

static xipc_err pubsub_url(xipc_sock *s, char *buf, size_t cap)
{
    return xipc__url_format(buf, cap, "pubsub", ((pubsub_sock *)s)->name);
}

static void pubsub_close(xipc_sock *s)
{
    pubsub_sock *p = (pubsub_sock *)s;
    if (p->lock >= 0) {
        /* the note first: a new publisher may write its own once the lock
         * is free; then the end of the stream; then the name */
        xipc_plat_unlink(p->notepath);
        xipc_bcast_close(&p->bc);
        xipc_plat_lockfile_release(p->lock, p->lockpath);
    }
    pubsub_free(p);
}

/* ---- listing (xipc_endpoints) --------------------------------------------- */

static xipc_err pubsub_list(void (*fn)(const xipc_endpoint_info *, void *),
                            void *arg)
{
    return xipc__named_lock_list("pubsub", "pubsub", "pubsub", fn, arg);
}

const xipc_tran xipc_pubsub_tran = {
    .scheme = "pubsub",
    .listen = pubsub_listen,
    .dial = pubsub_dial,
    .send = pubsub_send,
    .reserve = pubsub_reserve,
    .commit = pubsub_commit,
    .peer_pid = pubsub_peer_pid,
    .url = pubsub_url,
    .close = pubsub_close,
    .list = pubsub_list,
};

static const xipc_tran pubsub_sub_tran = {
    .scheme = "pubsub",
    .listen = pubsub_listen,
    .dial = pubsub_dial,
    .recv = pubsub_recv,
    .peek = pubsub_peek,
    .release = pubsub_release,
    .peer_pid = pubsub_peer_pid,
    .url = pubsub_url,
    .close = pubsub_close,
};

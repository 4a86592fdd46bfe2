/*
 * Untrusted shared memory. A hostile process writes valid messages mixed
 * with random values into the ring header and the record headers while a
 * reader is attached; the reader must return valid messages, XIPC_EPROTO
 * (sticky) or XIPC_ECLOSED, never touch memory outside the ring (guard
 * pages on both sides, and an exactly sized heap buffer for AddressSanitizer),
 * and never block past its timeout. Then hostile connection offers are
 * thrown at a listener (test_hostile_offers).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/platform.h"
#include "ring/ring.h"
#include "run32.h"
#include "test.h"
#include "transport/shm_layout.h"

#define CAP 4096u
#define PAGE 4096u
#define HDR_OFF 0u
#define DATA_OFF 4096u
#define SEG (DATA_OFF + CAP)
#define READ_TIMEOUT_MS 20

static uint32_t rnd(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A record header with a random length and tag at @p off of the area. */
static void junk_header(uint8_t *seg, uint32_t off, uint32_t *seed)
{
    uint32_t v[2] = {rnd(seed) % (2 * CAP), rnd(seed) & 1 ? XIPC_REC_PAD : rnd(seed)};
    if (rnd(seed) & 1)
        v[1] = XIPC_REC_MSG;
    memcpy(seg + DATA_OFF + off, v, sizeof(v));
}

/* The hostile producer: valid sends mixed with random writes. */
static void hostile_writer(uint8_t *seg, uint32_t seed)
{
    xipc_ring w;
    if (xipc_ring_attach(&w, seg, SEG, HDR_OFF, XIPC_RING_PRODUCER, 0, NULL) != XIPC_OK)
        _exit(0);
    xipc_ring_hdr *h = (xipc_ring_hdr *)(seg + HDR_OFF);
    uint8_t msg[CAP];
    memset(msg, 0x5a, sizeof(msg));
    for (int op = 0; op < 40; op++) {
        uint32_t r = rnd(&seed);
        switch (r % 8) {
        case 0: /* head anywhere */
            atomic_store(&h->head, ((uint64_t)rnd(&seed) << 32 | rnd(&seed)) % (4 * CAP));
            break;
        case 1: /* a record header anywhere, or where the next record goes
                 * (the slot the reader polls: it ignores head, docs/design.md
                 * "Header polling"; the next send may overwrite it first) */
            junk_header(seg,
                        rnd(&seed) & 1 ? (uint32_t)(w.pos & (CAP - 1))
                                       : (rnd(&seed) % (CAP / 8)) * 8,
                        &seed);
            break;
        case 2: /* the fixed line: the reader must not re-read it */
            h->capacity = rnd(&seed);
            h->data_off = rnd(&seed);
            break;
        case 3: /* signal words */
            atomic_store(&h->data_seq, rnd(&seed));
            atomic_store(&h->cons_waiting, rnd(&seed));
            break;
        default: /* a valid message */
            xipc_ring_send(&w, msg, rnd(&seed) % 600, 0);
            break;
        }
        if (r & 0x100)
            usleep(r % 300);
    }
    /* in every other round the last write is a header where the reader
     * will look once it has read the rest, whatever the timing */
    if (rnd(&seed) & 1)
        junk_header(seg, (uint32_t)(w.pos & (CAP - 1)), &seed);
    _exit(0);
}

static int reader_round(uint8_t *seg, uint32_t seed, int zero_copy, int *protos)
{
    xipc_ring_format((xipc_ring_hdr *)(seg + HDR_OFF), CAP, DATA_OFF);
    xipc_plat_proc peer;
    xipc_ring r;
    XT_OK(xipc_ring_attach(&r, seg, SEG, HDR_OFF, XIPC_RING_CONSUMER, 0, &peer));
    pid_t pid = fork();
    XT_ASSERT(pid >= 0);
    if (pid == 0)
        hostile_writer(seg, seed);
    xipc_plat_proc_open(&peer, (uint32_t)pid);
    const size_t max = (size_t)xipc_ring_max_msg(CAP);
    uint8_t *buf = malloc(max); /* exactly the largest message */
    XT_ASSERT(buf != NULL);
    int msgs = 0;
    /* a read that overstays its timeout by this much hangs */
    static uint64_t hang_ms;
    if (hang_ms == 0)
        hang_ms = xt_bound_ms("corrupt_test: hang check", 1000, 0);
    for (int i = 0; i < 1000; i++) {
        uint64_t t0 = now_ms();
        size_t n = 0;
        xipc_err rv;
        if (zero_copy) {
            const void *p = NULL;
            rv = xipc_ring_peek(&r, &p, &n, READ_TIMEOUT_MS);
            if (rv == XIPC_OK) {
                const uint8_t *b = p;
                XT_ASSERT(b >= seg + DATA_OFF && b + n <= seg + DATA_OFF + CAP);
                memcpy(buf, p, n);
                rv = xipc_ring_release(&r);
            }
        } else {
            rv = xipc_ring_recv(&r, buf, max, &n, READ_TIMEOUT_MS);
        }
        uint64_t dt = now_ms() - t0;
        if (dt > READ_TIMEOUT_MS + hang_ms)
            XT_FAIL("a read blocked %llu ms past a %d ms timeout",
                    (unsigned long long)dt, READ_TIMEOUT_MS);
        if (rv == XIPC_OK) {
            XT_ASSERT(n <= max);
            msgs++;
            continue;
        }
        if (rv == XIPC_ETIMEDOUT)
            continue;
        if (rv == XIPC_EPROTO) {
            (*protos)++;
            XT_ERR(xipc_ring_recv(&r, buf, max, &n, 0), XIPC_EPROTO);
            break;
        }
        XT_ERR(rv, XIPC_ECLOSED);
        break;
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    xipc_plat_proc_close(&peer);
    free(buf);
    return msgs;
}

static void test_hostile_ring(int rounds)
{
    /* guard pages on both sides of the segment */
    uint8_t *map = mmap(NULL, SEG + 2 * PAGE, PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    XT_ASSERT(map != MAP_FAILED);
    XT_ASSERT(mprotect(map, PAGE, PROT_NONE) == 0);
    XT_ASSERT(mprotect(map + PAGE + SEG, PAGE, PROT_NONE) == 0);
    uint8_t *seg = map + PAGE;
    long msgs = 0;
    int protos = 0;
    for (int i = 0; i < rounds; i++)
        msgs += reader_round(seg, 0x1234567u + (uint32_t)i * 7919u, i & 1, &protos);
    printf("  %d hostile rounds: %ld valid messages, %d detected corruptions\n",
           rounds, msgs, protos);
    XT_ASSERT(protos > rounds / 10); /* the corruption really happened */
    XT_ASSERT(msgs > rounds);        /* and valid traffic got through */
    munmap(map, SEG + 2 * PAGE);
}

/* One hostile offer on a fresh connection to @p path: @p kind picks the
 * lie. The connection is left to the listener (it must let it go). */
static void hostile_offer(const char *path, uint32_t *seed, int kind)
{
    xipc_plat_sock fd;
    XT_OK(xipc_plat_msgsock_dial(path, 1000, &fd));
    xipc_shm_offer o = {XIPC_OFFER_MAGIC, XIPC_SHM_VERSION, 64, 0, 4096};
    size_t size = XIPC_CONN_DATA_OFF + 2 * 4096;
    intptr_t h = -1;
    xipc_plat_shm seg = {NULL, 0, -1};
    switch (kind) {
    case 0: /* nothing at all: parked, then dropped */
        break;
    case 1: { /* random bytes, no segment */
        uint8_t junk[40];
        for (size_t k = 0; k < sizeof(junk); k++)
            junk[k] = (uint8_t)rnd(seed);
        XT_OK(xipc_plat_sock_send_handle(fd, junk, 1 + rnd(seed) % sizeof(junk), -1));
        break;
    }
    case 2: { /* an unsealed memfd: could be shrunk under the listener */
        int m = memfd_create("hostile", MFD_CLOEXEC);
        XT_ASSERT(m >= 0 && ftruncate(m, (off_t)size) == 0);
        h = m;
        break;
    }
    case 3: /* sealed, but not the size the offer implies */
        XT_OK(xipc_plat_shm_anon(&seg, size / 2 + 4096 * (rnd(seed) % 3), 0));
        break;
    case 4: { /* a pipe instead of a segment */
        int pp[2];
        XT_ASSERT(pipe(pp) == 0);
        close(pp[0]);
        h = pp[1];
        break;
    }
    default: { /* sealed, right size, random or lying contents */
        XT_OK(xipc_plat_shm_anon(&seg, size, 0));
        uint32_t *w = seg.base;
        for (size_t k = 0; k < size / 4; k++)
            w[k] = rnd(seed);
        if (rnd(seed) & 1) { /* plausible header with some lies */
            xipc_conn_hdr *ch = seg.base;
            ch->magic = XIPC_CONN_MAGIC;
            ch->version = XIPC_SHM_VERSION;
            ch->total_size = size;
            ch->ring_capacity = (rnd(seed) & 3) ? 4096 : 8192;
            ch->ring_off[0] = XIPC_CONN_RING0_OFF;
            ch->ring_off[1] = XIPC_CONN_RING1_OFF;
            if (rnd(seed) & 1) {
                uint8_t *b = seg.base; /* well-formed rings, hostile positions */
                xipc_ring_format((xipc_ring_hdr *)(b + XIPC_CONN_RING0_OFF), 4096,
                                 XIPC_CONN_DATA_OFF);
                xipc_ring_format((xipc_ring_hdr *)(b + XIPC_CONN_RING1_OFF), 4096,
                                 XIPC_CONN_DATA_OFF + 4096);
                atomic_store(&((xipc_ring_hdr *)(b + XIPC_CONN_RING0_OFF))->head,
                             (rnd(seed) & 1) ? 0 : rnd(seed) % 8192);
            }
        }
        if (rnd(seed) % 4 == 0)
            o.ring_capacity = rnd(seed) % 3 ? 4097 : (uint64_t)1 << 40; /* lies */
        if (rnd(seed) % 8 == 0)
            o.magic ^= 1;
        break;
    }
    }
    if (kind >= 2)
        XT_OK(xipc_plat_sock_send_handle(fd, &o, sizeof(o), seg.base ? seg.handle : h));
    xipc_plat_handle_close(h);
    xipc_plat_shm_unmap(&seg);
    xipc_plat_sock_close(fd); /* what is queued stays for the listener */
}

/*
 * Hostile connection offers (the socket handshake of shm_layout.h): no
 * offer, junk, unsealed or wrongly sized segments, a pipe, random and
 * lying headers and rings. The listener refuses the bad ones and accepts
 * only well-formed ones, whose receive gives a message, EPROTO or the end.
 * Honest dials in between must still go through.
 */
static void test_hostile_offers(int rounds)
{
    char url[64], dir[160], path[300];
    snprintf(url, sizeof(url), "shm://corrupt-%d", (int)getpid());
    XT_OK(xipc_plat_rundir(dir, sizeof(dir), "shm"));
    snprintf(path, sizeof(path), "%s/corrupt-%d", dir, (int)getpid());
    xipc_sock *l;
    XT_OK(xipc_listen(&l, url, NULL));
    uint32_t seed = 77;
    int accepted = 0, honest = 0;
    for (int i = 0; i < rounds; i++) {
        int kind = (int)(rnd(&seed) % 8);
        hostile_offer(path, &seed, kind);
        xipc_sock *s;
        xipc_err rv = xipc_accept(l, &s, 5);
        if (rv == XIPC_OK) {
            accepted++;
            uint8_t b[64];
            size_t n;
            xipc_err rr = xipc_recv(s, b, sizeof(b), &n, 0);
            XT_ASSERT(rr == XIPC_OK || rr == XIPC_ETIMEDOUT || rr == XIPC_EPROTO ||
                      rr == XIPC_EMSGSIZE || rr == XIPC_ECLOSED);
            XT_ASSERT(kind >= 5); /* only a sealed segment of the right size */
            xipc_close(s);
        } else {
            XT_ERR(rv, XIPC_ETIMEDOUT);
        }
        if (i % 50 == 0) { /* an honest client is served among them */
            xipc_sock *c, *a = NULL;
            XT_OK(xipc_dial(&c, url, NULL, 1000));
            XT_OK(xipc_send(c, "ok", 2, 1000));
            for (int k = 0; k < 100 && a == NULL; k++) {
                uint8_t b[8];
                size_t n;
                if (xipc_accept(l, &a, 100) != XIPC_OK)
                    continue;
                if (xipc_recv(a, b, sizeof(b), &n, 0) != XIPC_OK || n != 2 ||
                    memcmp(b, "ok", 2) != 0) {
                    xipc_close(a); /* a hostile one accepted first */
                    a = NULL;
                }
            }
            XT_ASSERT(a != NULL);
            honest++;
            xipc_close(a);
            xipc_close(c);
        }
    }
    printf("  %d hostile offers: %d accepted as well-formed; %d honest clients served "
           "among them\n", rounds, accepted, honest);
    xipc_close(l);
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 3000;
    test_hostile_ring(rounds);
    test_hostile_offers(rounds / 6);
    printf("corrupt_test ok\n");
    return 0;
}

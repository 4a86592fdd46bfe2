/*
 * libFuzzer target: a hostile shm:// client against an honest listener
 * and connection (src/transport/shm.c, the rings under it), in one
 * process under AddressSanitizer.
 *
 * Input: [ctl][offer lies...][ops...]. The hostile client makes its
 * segment as a client would (sealed memfd, header, two rings), then lets
 * ctl and the following bytes lie: in the offer (magic, version, ring
 * capacity), in the header (capacity, size, ring offsets), in the
 * segment's size and seals. It connects and offers; the listener accepts
 * with timeout 0. If it did, the rest of the input is a program: sends by
 * the client (through its own ring ends), receives, peeks, releases,
 * sends, reservations by the server (all timeout 0), and hostile writes
 * anywhere in the segment: the header, both ring headers, record headers,
 * payload bytes, the close and wait words.
 *
 * Checks: a segment that is not sealed or not of the size the offer
 * implies is never accepted; the server's calls return only documented
 * errors, never a length beyond what its buffer holds, and XIPC_EPROTO is
 * sticky; until the first hostile write the server receives exactly what
 * the client sent. Bounds of every ring access are checked precisely by
 * fuzz_ring (exact heap blocks); here the ring lives in a mapping, so
 * this target covers the handshake and the connection path around it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "core/platform.h"
#include "ring/ring.h"
#include "transport/shm_layout.h"
#include "xipc/xipc.h"

#define SHM_FZ_CAP 4096u
#define SHM_FZ_SEG (XIPC_CONN_DATA_OFF + 2 * SHM_FZ_CAP)
#define SHM_FZ_OPS 128

static xipc_sock *shm_fz_listener;
static char shm_fz_path[256];

static void shm_fz_setup(void)
{
    if (shm_fz_listener != NULL)
        return;
    char url[64], dir[200];
    snprintf(url, sizeof(url), "shm://fz-shm-%d", (int)getpid());
    FZ_CHECK(xipc_listen(&shm_fz_listener, url, NULL) == XIPC_OK);
    FZ_CHECK(xipc_plat_rundir(dir, sizeof(dir), "shm") == XIPC_OK);
    snprintf(shm_fz_path, sizeof(shm_fz_path), "%s/fz-shm-%d", dir, (int)getpid());
}

static int shm_fz_errok(xipc_err rv)
{
    return rv == XIPC_OK || rv == XIPC_ETIMEDOUT || rv == XIPC_EPROTO ||
           rv == XIPC_EMSGSIZE || rv == XIPC_ECLOSED;
}

/* The client's segment: sealed or not, of @p size bytes, formatted as a
 * client formats it; @p fd receives its descriptor, the mapping returned. */
static uint8_t *shm_fz_segment(size_t size, int sealed, int *fd)
{
    *fd = memfd_create("xipc", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    FZ_CHECK(*fd >= 0 && ftruncate(*fd, (off_t)size) == 0);
    uint8_t *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
    FZ_CHECK(p != MAP_FAILED);
    if (size >= SHM_FZ_SEG) {
        xipc_conn_hdr *h = (xipc_conn_hdr *)p;
        h->magic = XIPC_CONN_MAGIC;
        h->version = XIPC_SHM_VERSION;
        h->total_size = size;
        h->ring_capacity = SHM_FZ_CAP;
        h->ring_off[0] = XIPC_CONN_RING0_OFF;
        h->ring_off[1] = XIPC_CONN_RING1_OFF;
        xipc_ring_format((xipc_ring_hdr *)(p + XIPC_CONN_RING0_OFF), SHM_FZ_CAP,
                         XIPC_CONN_DATA_OFF);
        xipc_ring_format((xipc_ring_hdr *)(p + XIPC_CONN_RING1_OFF), SHM_FZ_CAP,
                         XIPC_CONN_DATA_OFF + SHM_FZ_CAP);
    }
    if (sealed)
        FZ_CHECK(fcntl(*fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) == 0);
    return p;
}

typedef struct shm_fz {
    uint8_t *seg;     /* the client's (hostile) mapping */
    size_t size;
    xipc_ring tx, rx; /* the client's ring ends */
    xipc_sock *conn;  /* the server's connection */
    int hostile, broken;
    int closed;         /* the client closed its ring ends */
    uint64_t sent, got; /* honest mode: messages client -> server */
} shm_fz;

static uint8_t shm_fz_byte(uint64_t seq, size_t k)
{
    return (uint8_t)(seq * 13u + k * 5u + 3u);
}

static void shm_fz_recv_check(shm_fz *z, xipc_err rv, const uint8_t *b, size_t n, size_t cap)
{
    FZ_CHECK(shm_fz_errok(rv));
    if (z->broken)
        FZ_CHECK(rv == XIPC_EPROTO); /* sticky */
    if (rv == XIPC_EPROTO)
        z->broken = 1;
    if (rv == XIPC_OK)
        FZ_CHECK(n <= cap);
    if (z->hostile)
        return;
    FZ_CHECK(rv != XIPC_EPROTO);
    /* the end only after the client closed, and after all it sent */
    FZ_CHECK(rv != XIPC_ECLOSED || (z->closed && z->got == z->sent));
    if (rv == XIPC_OK) {
        FZ_CHECK(z->got < z->sent);
        for (size_t k = 0; k < n; k++)
            FZ_CHECK(b[k] == shm_fz_byte(z->got, k));
        z->got++;
    }
}

static void shm_fz_op(shm_fz *z, fz_in *in)
{
    static uint8_t msg[SHM_FZ_CAP];
    uint8_t op = fz_u8(in) % 8;
    size_t len = fz_u16(in) % (SHM_FZ_CAP / 2);
    switch (op) {
    case 0: { /* the client sends through its ring */
        for (size_t k = 0; k < len; k++)
            msg[k] = shm_fz_byte(z->sent, k);
        xipc_err rv = xipc_ring_send(&z->tx, msg, len, 0);
        if (rv == XIPC_OK)
            z->sent++;
        return;
    }
    case 1: { /* the server receives into an exactly sized buffer */
        uint8_t *b = malloc(len + 1);
        FZ_CHECK(b != NULL);
        size_t n = 0;
        xipc_err rv = xipc_recv(z->conn, b, len, &n, 0);
        if (rv == XIPC_EMSGSIZE) {
            FZ_CHECK(n > len);
            rv = XIPC_ETIMEDOUT; /* it stays queued: nothing consumed */
        }
        shm_fz_recv_check(z, rv, b, n, len);
        free(b);
        return;
    }
    case 2: { /* peek, copy every byte, release */
        const void *p = NULL;
        size_t n = 0;
        xipc_err rv = xipc_peek(z->conn, &p, &n, 0);
        if (rv == XIPC_OK) {
            FZ_CHECK(n <= SHM_FZ_CAP);
            memcpy(msg, p, n);
            xipc_err r2 = xipc_release(z->conn);
            FZ_CHECK(r2 == XIPC_OK || r2 == XIPC_EPROTO);
            if (r2 == XIPC_EPROTO) {
                shm_fz_recv_check(z, r2, NULL, 0, 0);
                return;
            }
        }
        shm_fz_recv_check(z, rv, msg, n, SHM_FZ_CAP);
        return;
    }
    case 3: { /* the server sends; the client drains */
        memset(msg, 0x5a, len);
        FZ_CHECK(shm_fz_errok(xipc_send(z->conn, msg, len, 0)));
        size_t n;
        xipc_ring_recv(&z->rx, msg, sizeof(msg), &n, 0);
        return;
    }
    case 4: { /* a hostile word anywhere in the segment */
        uint64_t off = fz_u16(in) % (z->size - 8);
        uint64_t v = fz_u64(in);
        memcpy(z->seg + (off & ~7u), &v, 8);
        z->hostile = 1;
        return;
    }
    case 5: { /* hostile bytes in the data areas */
        size_t n;
        const uint8_t *b = fz_bytes(in, 64, &n);
        uint64_t off = XIPC_CONN_DATA_OFF + fz_u16(in) % (2 * SHM_FZ_CAP - 64);
        memcpy(z->seg + off, b, n);
        z->hostile = 1;
        return;
    }
    case 6: { /* a reservation by the server */
        void *p;
        xipc_err rv = xipc_reserve(z->conn, len, &p, 0);
        FZ_CHECK(shm_fz_errok(rv));
        if (rv == XIPC_OK) {
            memset(p, 0x33, len);
            FZ_CHECK(xipc_commit(z->conn, len) == XIPC_OK);
        }
        return;
    }
    default: /* the client closes its ends: the server drains, then the end */
        xipc_ring_close(&z->tx);
        xipc_ring_close(&z->rx);
        z->closed = 1;
        return;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    shm_fz_setup();
    fz_in in = {data, size, 0};
    uint8_t ctl = fz_u8(&in);
    shm_fz z;
    memset(&z, 0, sizeof(z));
    /* the lies of the handshake */
    z.size = SHM_FZ_SEG;
    int sealed = !(ctl & 1);
    if (ctl & 2)
        z.size = 64 + fz_u16(&in) % (2 * SHM_FZ_SEG);
    xipc_shm_offer o = {XIPC_OFFER_MAGIC, XIPC_SHM_VERSION, 64, 0, SHM_FZ_CAP};
    if (ctl & 4) {
        o.magic ^= fz_u8(&in) & 1;
        o.version = fz_u8(&in) & 1 ? fz_u32(&in) : o.version;
        o.ring_capacity = fz_u8(&in) & 1 ? fz_u64(&in) : o.ring_capacity;
    }
    int fd;
    z.seg = shm_fz_segment(z.size, sealed, &fd);
    if (ctl & 8 && z.size >= sizeof(xipc_conn_hdr)) { /* a lying header */
        size_t n;
        const uint8_t *b = fz_bytes(&in, sizeof(xipc_conn_hdr), &n);
        memcpy(z.seg, b, n);
    }
    xipc_plat_sock s;
    FZ_CHECK(xipc_plat_msgsock_dial(shm_fz_path, 1000, &s) == XIPC_OK);
    FZ_CHECK(xipc_plat_sock_send_handle(s, &o, sizeof(o), fd) == XIPC_OK);
    close(fd);
    xipc_err rv = xipc_accept(shm_fz_listener, &z.conn, 0);
    FZ_CHECK(rv == XIPC_OK || rv == XIPC_ETIMEDOUT);
    int honest = sealed && z.size == SHM_FZ_SEG && !(ctl & 12);
    if (honest)
        FZ_CHECK(rv == XIPC_OK);
    if (rv == XIPC_OK) {
        FZ_CHECK(sealed && z.size == XIPC_CONN_DATA_OFF + 2 * o.ring_capacity);
        z.hostile = !honest;
        FZ_CHECK(xipc_ring_attach(&z.tx, z.seg, z.size, XIPC_CONN_RING0_OFF,
                                  XIPC_RING_PRODUCER, 0, NULL) == XIPC_OK);
        FZ_CHECK(xipc_ring_attach(&z.rx, z.seg, z.size, XIPC_CONN_RING1_OFF,
                                  XIPC_RING_CONSUMER, 0, NULL) == XIPC_OK);
        for (int i = 0; i < SHM_FZ_OPS && fz_left(&in) > 0; i++)
            shm_fz_op(&z, &in);
        xipc_close(z.conn);
    }
    xipc_plat_sock_close(s);
    munmap(z.seg, z.size);
    return 0;
}

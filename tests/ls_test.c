/*
 * xipc_endpoints: live endpoints of every listed scheme with our pid;
 * what a killed process leaves (its pid, alive 0) and that the next
 * listener reclaims it; a pending shm offer (not listed: it waits in the
 * kernel's queue); garbage under our names (random bytes, lying headers,
 * a FIFO, a symbolic link, a huge object, another user's object, objects
 * readable by others, files where sockets belong) that must neither crash
 * nor hang the listing nor be changed by it; and nothing left after.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/platform.h"
#include "ring/bcast_layout.h"
#include "test.h"
#include "transport/shm_layout.h"

#define MAXSEEN 64

typedef struct seen {
    char url[160];
    char kind[32];
    uint32_t pid;
    int alive;
} seen;

static seen found[MAXSEEN];
static int nfound;
static char tag[32]; /* in every name of ours: "lstest<pid>" */

static const char *const schemes[] = {"shm", "pubsub", "pipe", "mailslot", "mq"};
static const char *const kinds[] = {"shm listener", "pubsub", "pipe",
                                    "mailslot server", "mq"};
#define NSCHEMES 5

static void collect(const xipc_endpoint_info *e, void *arg)
{
    (void)arg;
    XT_ASSERT(e->kind != NULL);
    XT_ASSERT(memchr(e->url, '\0', sizeof(e->url)) != NULL);
    XT_ASSERT(e->alive == 0 || e->alive == 1);
    if (strstr(e->url, tag) == NULL)
        return; /* another test's, or a real user's */
    XT_ASSERT(nfound < MAXSEEN);
    seen *s = &found[nfound++];
    snprintf(s->url, sizeof(s->url), "%s", e->url);
    snprintf(s->kind, sizeof(s->kind), "%s", e->kind);
    s->pid = e->pid;
    s->alive = e->alive;
}

static void list(void)
{
    nfound = 0;
    XT_OK(xipc_endpoints(collect, NULL));
}

/* The one entry with @p url and @p kind (fails when not exactly one). */
static const seen *find(const char *url, const char *kind)
{
    const seen *hit = NULL;
    int n = 0;
    for (int i = 0; i < nfound; i++) {
        if (strcmp(found[i].url, url) == 0 && strcmp(found[i].kind, kind) == 0) {
            hit = &found[i];
            n++;
        }
    }
    if (n != 1)
        XT_FAIL("%s (%s) listed %d times, want once", url, kind, n);
    return hit;
}

static void expect(const char *url, const char *kind, uint32_t pid, int alive)
{
    const seen *s = find(url, kind);
    if (s->pid != pid || s->alive != alive)
        XT_FAIL("%s (%s): pid %u alive %d, want pid %u alive %d", url, kind,
                (unsigned)s->pid, s->alive, (unsigned)pid, alive);
}

/* The count of entries of ours is @p want (prints them when not). */
static void expect_count(int want)
{
    if (nfound == want)
        return;
    for (int i = 0; i < nfound; i++)
        fprintf(stderr, "  %s (%s) pid %u alive %d\n", found[i].url, found[i].kind,
                (unsigned)found[i].pid, found[i].alive);
    XT_FAIL("%d entries listed, want %d", nfound, want);
}

static void url_of(char *buf, size_t cap, int scheme, const char *what)
{
    snprintf(buf, cap, "%s://%s-%s", schemes[scheme], tag, what);
}

/* ---- cleanup, also after a failed assertion --------------------------------- */

static void rm_tagged(const char *dir, int recurse)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strstr(e->d_name, tag) == NULL)
            continue;
        char path[1300];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (recurse)
            rm_tagged(path, 0); /* a mailslot folder: every file is ours */
        if (unlink(path) != 0)
            rmdir(path);
    }
    closedir(d);
}

static void cleanup(void)
{
    char dir[512];
    rm_tagged("/dev/shm", 0);
    static const char *const queues[] = {"live", "dead", "mk"};
    for (size_t i = 0; i < sizeof(queues) / sizeof(queues[0]); i++) {
        snprintf(dir, sizeof(dir), "/xipc.%u.%s-%s", (unsigned)xipc_plat_getuid(), tag,
                 queues[i]);
        xipc_plat_mq_unlink(dir); /* /dev/mqueue is not always mounted */
    }
    if (xipc_plat_rundir_find(dir, sizeof(dir), "pipe") == XIPC_OK)
        rm_tagged(dir, 0);
    if (xipc_plat_rundir_find(dir, sizeof(dir), "shm") == XIPC_OK)
        rm_tagged(dir, 0);
    if (xipc_plat_rundir_find(dir, sizeof(dir), "pubsub") == XIPC_OK)
        rm_tagged(dir, 0);
    if (xipc_plat_rundir_find(dir, sizeof(dir), "mq") == XIPC_OK)
        rm_tagged(dir, 0);
    if (xipc_plat_rundir_find(dir, sizeof(dir), "mailslot") == XIPC_OK) {
        DIR *d = opendir(dir);
        struct dirent *e;
        while (d != NULL && (e = readdir(d)) != NULL) {
            if (strstr(e->d_name, tag) == NULL)
                continue;
            char sub[1024];
            snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name);
            DIR *s = opendir(sub);
            struct dirent *f;
            while (s != NULL && (f = readdir(s)) != NULL) {
                char path[1300];
                snprintf(path, sizeof(path), "%s/%s", sub, f->d_name);
                if (f->d_name[0] != '.')
                    unlink(path);
            }
            if (s != NULL)
                closedir(s);
            rmdir(sub);
        }
        if (d != NULL)
            closedir(d);
    }
}

/* Objects of ours in /dev/shm. */
static int shm_left(void)
{
    DIR *d = opendir("/dev/shm");
    XT_ASSERT(d != NULL);
    int n = 0;
    for (struct dirent *e; (e = xt_readdir(d)) != NULL;)
        n += strstr(e->d_name, tag) != NULL;
    closedir(d);
    return n;
}

/* ---- the cases ------------------------------------------------------------------ */

static void open_all(xipc_sock **s, const char *what)
{
    for (int i = 0; i < NSCHEMES; i++) {
        char url[160];
        url_of(url, sizeof(url), i, what);
        XT_OK(xipc_listen(&s[i], url, NULL));
    }
}

static void close_all(xipc_sock **s)
{
    for (int i = 0; i < NSCHEMES; i++)
        xipc_close(s[i]);
}

static void expect_all(const char *what, uint32_t pid, int alive)
{
    for (int i = 0; i < NSCHEMES; i++) {
        char url[160];
        url_of(url, sizeof(url), i, what);
        expect(url, kinds[i], pid, alive);
    }
}

/* Our own endpoints, alive; a pending offer and unix:// not listed. */
static void test_live(void)
{
    xipc_sock *s[NSCHEMES], *c, *a, *u;
    char url[160], upath[160];
    uint32_t me = xipc_plat_getpid();
    open_all(s, "live");
    url_of(url, sizeof(url), 0, "live");
    XT_OK(xipc_dial(&c, url, NULL, 1000)); /* queued, not accepted yet */
    snprintf(upath, sizeof(upath), "unix:///tmp/%s-unix", tag);
    XT_OK(xipc_listen(&u, upath, NULL));
    list();
    expect_all("live", me, 1);
    expect_count(NSCHEMES); /* nothing for unix:// nor the queued offer */
    XT_OK(xipc_accept(s[0], &a, 1000));
    list();
    expect_count(NSCHEMES); /* the offer became a connection: unnamed */
    xipc_close(a);
    xipc_close(c);
    xipc_close(u);
    close_all(s);
    list();
    expect_count(0);
}

/* A child listens everywhere, offers a connection, and dies with it all. */
static void test_dead(void)
{
    xipc_sock *s[NSCHEMES], *l;
    char url[160];
    url_of(url, sizeof(url), 0, "host");
    XT_OK(xipc_listen(&l, url, NULL));
    pid_t pid = fork();
    XT_ASSERT(pid >= 0);
    if (pid == 0) {
        xipc_sock *cs[NSCHEMES], *c;
        for (int i = 0; i < NSCHEMES; i++) {
            char u[160];
            url_of(u, sizeof(u), i, "dead");
            if (xipc_listen(&cs[i], u, NULL) != XIPC_OK)
                _exit(2);
        }
        _exit(xipc_dial(&c, url, NULL, 1000) == XIPC_OK ? 0 : 3);
    }
    int status;
    XT_EQ(waitpid(pid, &status, 0), pid);
    XT_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    for (int round = 0; round < 2; round++) { /* listing changed nothing */
        list();
        expect_all("dead", (uint32_t)pid, 0);
        expect(url, "shm listener", xipc_plat_getpid(), 1);
        expect_count(NSCHEMES + 1);
    }
    /* the next listener of each name reclaims what the dead one left */
    open_all(s, "dead");
    list();
    expect_all("dead", xipc_plat_getpid(), 1);
    close_all(s);
    xipc_close(l); /* refuses the dead client's offer: its name goes */
    list();
    expect_count(0);
}

/* Create "/xipc.<uid>.<tag>-<what>" with @p len bytes from @p bytes. */
static void shm_put(const char *what, const void *bytes, size_t len, mode_t mode)
{
    char name[160];
    snprintf(name, sizeof(name), "/xipc.%u.%s-%s", (unsigned)xipc_plat_getuid(), tag, what);
    int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, mode);
    XT_ASSERT(fd >= 0);
    XT_ASSERT(fchmod(fd, mode) == 0);
    XT_ASSERT(ftruncate(fd, (off_t)len) == 0);
    XT_ASSERT(len == 0 || pwrite(fd, bytes, len, 0) == (ssize_t)len);
    close(fd);
}

static void shm_get(const char *what, void *bytes, size_t len)
{
    char path[160];
    snprintf(path, sizeof(path), "/dev/shm/xipc.%u.%s-%s", (unsigned)xipc_plat_getuid(),
             tag, what);
    int fd = open(path, O_RDONLY);
    XT_ASSERT(fd >= 0);
    XT_ASSERT(pread(fd, bytes, len, 0) == (ssize_t)len);
    close(fd);
}

static uint32_t rnd(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

/* A broadcast header that passes every check, for @p pid (2 slots of 64). */
static void good_bcast(uint8_t *seg, uint32_t pid)
{
    xipc_bcast_hdr *h = (xipc_bcast_hdr *)seg;
    memset(seg, 0, XIPC_BCAST_DATA_OFF + 128);
    h->magic = XIPC_BCAST_MAGIC;
    h->version = XIPC_BCAST_VERSION;
    h->total_size = XIPC_BCAST_DATA_OFF + 128;
    h->slot_count = 2;
    h->slot_size = 64;
    h->data_off = XIPC_BCAST_DATA_OFF;
    h->pub_pid = pid;
}

static void test_garbage(void)
{
    static uint8_t junk[8192], back[8192], seg[8192];
    uint32_t x = 0x9e3779b9u ^ xipc_plat_getpid();
    uint32_t me = xipc_plat_getpid();
    char url[160];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (uint8_t)rnd(&x);
    junk[0] = 0xff; /* a magic that is not 0 ("being created") */
    shm_put("junk", junk, sizeof(junk), 0600);
    shm_put("junk#pub", junk, sizeof(junk), 0600);
    shm_put("junk@123.4", junk, sizeof(junk), 0600);
    shm_put("empty", NULL, 0, 0600);
    shm_put("tiny", junk, 3, 0600);
    shm_put("open", junk, 4096, 0644);     /* readable by others: skipped */
    shm_put("junk@x.4", junk, 4096, 0600); /* not an offer's name: skipped */
    /* headers that pass, then the same with one lie each */
    good_bcast(seg, me);
    shm_put("bc#pub", seg, XIPC_BCAST_DATA_OFF + 128, 0600);
    good_bcast(seg, me);
    ((xipc_bcast_hdr *)seg)->slot_count = 3;
    shm_put("bc-slots#pub", seg, XIPC_BCAST_DATA_OFF + 128, 0600);
    good_bcast(seg, me);
    shm_put("bc-short#pub", seg, XIPC_BCAST_DATA_OFF + 64, 0600);
    /* a huge (sparse) object: only its head is read */
    char path[200];
    snprintf(path, sizeof(path), "/dev/shm/xipc.%u.%s-huge", (unsigned)xipc_plat_getuid(), tag);
    shm_put("huge", junk, 64, 0600);
    off_t big = (off_t)1 << 30;
    if (sizeof(off_t) >= 8)
        big *= 1024; /* 1 TiB where off_t allows */
    int huge = truncate(path, big) == 0;
    /* a FIFO (an open for reading would block) and a symbolic link */
    snprintf(path, sizeof(path), "/dev/shm/xipc.%u.%s-fifo", (unsigned)xipc_plat_getuid(), tag);
    XT_ASSERT(mkfifo(path, 0600) == 0);
    char link[200];
    snprintf(link, sizeof(link), "/dev/shm/xipc.%u.%s-link", (unsigned)xipc_plat_getuid(), tag);
    snprintf(path, sizeof(path), "xipc.%u.%s-bc#pub", (unsigned)xipc_plat_getuid(), tag);
    XT_ASSERT(symlink(path, link) == 0);
    /* another user's object under our name: skipped */
    if (geteuid() == 0) {
        good_bcast(seg, me);
        shm_put("theirs#pub", seg, XIPC_BCAST_DATA_OFF + 128, 0600);
        snprintf(path, sizeof(path), "/dev/shm/xipc.%u.%s-theirs#pub",
                 (unsigned)xipc_plat_getuid(), tag);
        XT_ASSERT(chown(path, 65534, 65534) == 0);
    }

    alarm(20); /* a listing that blocks fails here, not at the ctest timeout */
    list();
    alarm(0);
    /* shm:// and pubsub:// keep nothing in /dev/shm (their listeners are
     * sockets in the runtime folder): nothing there is an endpoint of
     * ours, however plausible its header, and the listing opens none of
     * it (the FIFO would block, the huge object is never read) */
    (void)huge;
    (void)url;
    expect_count(0);

    /* the listing changed nothing */
    shm_get("junk", back, sizeof(back));
    XT_ASSERT(memcmp(back, junk, sizeof(junk)) == 0);
    shm_get("junk@123.4", back, sizeof(back));
    XT_ASSERT(memcmp(back, junk, sizeof(junk)) == 0);
    good_bcast(seg, me);
    shm_get("bc#pub", back, XIPC_BCAST_DATA_OFF + 128);
    XT_ASSERT(memcmp(back, seg, XIPC_BCAST_DATA_OFF + 128) == 0);
    cleanup();
    list();
    expect_count(0);
}

/* Garbage in the runtime directory: files where sockets belong, bad pid
 * files, bad names. */
static void test_rundir_garbage(void)
{
    char dir[512], path[700];
    xipc_sock *s;
    char url[160];
    /* make the folders exist */
    url_of(url, sizeof(url), 2, "mk");
    XT_OK(xipc_listen(&s, url, NULL));
    xipc_close(s);
    url_of(url, sizeof(url), 4, "mk");
    XT_OK(xipc_listen(&s, url, NULL));
    xipc_close(s);
    url_of(url, sizeof(url), 0, "mk");
    XT_OK(xipc_listen(&s, url, NULL));
    xipc_close(s);
    url_of(url, sizeof(url), 1, "mk");
    XT_OK(xipc_listen(&s, url, NULL));
    xipc_close(s);

    XT_OK(xipc_plat_rundir_find(dir, sizeof(dir), "pipe"));
    /* a socket nobody listens on, without a pid file: pid 0, alive 0 */
    xipc_plat_sock fd;
    snprintf(path, sizeof(path), "%s/%s-nopid", dir, tag);
    XT_OK(xipc_plat_unix_listen(path, 0, 1, &fd));
    xipc_plat_sock_close(fd);
    /* a socket with a garbage pid file */
    snprintf(path, sizeof(path), "%s/%s-badpid", dir, tag);
    XT_OK(xipc_plat_unix_listen(path, 0, 1, &fd));
    xipc_plat_sock_close(fd);
    snprintf(path, sizeof(path), "%s/%s-badpid.pid", dir, tag);
    FILE *f = fopen(path, "w");
    XT_ASSERT(f != NULL && fputs("garbage\n", f) >= 0 && fclose(f) == 0);
    /* a plain file where a socket belongs: skipped */
    snprintf(path, sizeof(path), "%s/%s-file", dir, tag);
    f = fopen(path, "w");
    XT_ASSERT(f != NULL && fclose(f) == 0);

    XT_OK(xipc_plat_rundir_find(dir, sizeof(dir), "shm"));
    /* shm:// the same: a stale message socket with a garbage pid file,
     * a plain file and a stream socket where a listener belongs */
    snprintf(path, sizeof(path), "%s/%s-stale", dir, tag);
    XT_OK(xipc_plat_msgsock_listen(path, 1, &fd));
    xipc_plat_sock_close(fd);
    snprintf(path, sizeof(path), "%s/%s-stale.pid", dir, tag);
    f = fopen(path, "w");
    XT_ASSERT(f != NULL && fputs("-1\n", f) >= 0 && fclose(f) == 0);
    /* pubsub:// a publisher that died: its unlocked lock file (pid 77)
     * and its note; a socket is not a publisher and is not listed */
    XT_OK(xipc_plat_rundir_find(dir, sizeof(dir), "pubsub"));
    snprintf(path, sizeof(path), "%s/%s-stale.pid", dir, tag);
    f = fopen(path, "w");
    XT_ASSERT(f != NULL && fputs("77\n", f) >= 0 && fclose(f) == 0);
    XT_ASSERT(chmod(path, 0600) == 0);
    snprintf(path, sizeof(path), "%s/%s-stale.fds", dir, tag);
    f = fopen(path, "w");
    XT_ASSERT(f != NULL && fputs("xipc-pubsub 2 3 4 4096 1 2\n", f) >= 0 && fclose(f) == 0);
    snprintf(path, sizeof(path), "%s/%s-sock", dir, tag);
    XT_OK(xipc_plat_msgsock_listen(path, 1, &fd));
    xipc_plat_sock_close(fd);
    XT_OK(xipc_plat_rundir_find(dir, sizeof(dir), "shm"));
    snprintf(path, sizeof(path), "%s/%s-file", dir, tag);
    f = fopen(path, "w");
    XT_ASSERT(f != NULL && fclose(f) == 0);

    XT_OK(xipc_plat_rundir_find(dir, sizeof(dir), "mq"));
    /* an unlocked lock file holding garbage: a dead receiver, pid unknown */
    snprintf(path, sizeof(path), "%s/%s-mqjunk.pid", dir, tag);
    f = fopen(path, "w");
    XT_ASSERT(f != NULL && fputs("\x01\x02zz", f) >= 0 && fclose(f) == 0);
    XT_ASSERT(chmod(path, 0600) == 0);

    XT_OK(xipc_plat_rundir_find(dir, sizeof(dir), "mailslot"));
    /* a folder with files that are not server sockets */
    snprintf(path, sizeof(path), "%s/%s-ms", dir, tag);
    XT_ASSERT(mkdir(path, 0700) == 0);
    snprintf(path, sizeof(path), "%s/%s-ms/1.2.3", dir, tag);
    f = fopen(path, "w"); /* the right name, but a plain file */
    XT_ASSERT(f != NULL && fclose(f) == 0);
    snprintf(path, sizeof(path), "%s/%s-ms/1.2.3x", dir, tag);
    f = fopen(path, "w");
    XT_ASSERT(f != NULL && fclose(f) == 0);

    list();
    url_of(url, sizeof(url), 2, "nopid");
    expect(url, "pipe", 0, 0);
    url_of(url, sizeof(url), 2, "badpid");
    expect(url, "pipe", 0, 0);
    url_of(url, sizeof(url), 4, "mqjunk");
    expect(url, "mq", 0, 0);
    url_of(url, sizeof(url), 0, "stale");
    expect(url, "shm listener", 0, 0);
    url_of(url, sizeof(url), 1, "stale");
    expect(url, "pubsub", 77, 0);
    expect_count(5);
    cleanup();
    list();
    expect_count(0);
}

int main(void)
{
    snprintf(tag, sizeof(tag), "lstest%u", (unsigned)xipc_plat_getpid());
    atexit(cleanup);
    XT_ERR(xipc_endpoints(NULL, NULL), XIPC_EINVAL);
    list();
    expect_count(0);
    test_live();
    test_dead();
    test_garbage();
    test_rundir_garbage();
    XT_EQ(shm_left(), 0);
    printf("ls_test: ok\n");
    return 0;
}

/*
 * Permissions and identity with a second user: a stranger cannot connect
 * to our listeners unless allowed, cannot reach our private objects, and
 * cannot plant an object under a name our service will open; an offer
 * that reaches a shm:// listener anyway is refused by the sender's uid.
 *
 * Needs root (to create the user "xipc-test" and to switch to it in a
 * child); without root it reports "skipped" (exit 77, ctest SKIP).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/platform.h"
#include "test.h"
#include "transport/shm_layout.h"

#define STRANGER "xipc-test"

static uid_t stranger_uid;
static gid_t stranger_gid;

static void stranger_setup(void)
{
    struct passwd *pw = getpwnam(STRANGER);
    if (pw == NULL) {
        int rc = system("useradd --system --no-create-home --shell /usr/sbin/nologin "
                        STRANGER " >/dev/null 2>&1");
        XT_ASSERT(rc == 0);
        pw = getpwnam(STRANGER);
    }
    XT_ASSERT(pw != NULL && pw->pw_uid != 0);
    stranger_uid = pw->pw_uid;
    stranger_gid = pw->pw_gid;
}

/* Run @p fn as the stranger in a child; its exit status is the result. */
static int as_stranger(int (*fn)(const char *), const char *arg)
{
    pid_t pid = fork();
    XT_ASSERT(pid >= 0);
    if (pid == 0) {
        if (setgroups(0, NULL) != 0 || setgid(stranger_gid) != 0 ||
            setuid(stranger_uid) != 0)
            _exit(100);
        unsetenv("XDG_RUNTIME_DIR");
        _exit(fn(arg));
    }
    int st;
    XT_ASSERT(waitpid(pid, &st, 0) == pid);
    XT_ASSERT(WIFEXITED(st));
    return WEXITSTATUS(st);
}

/* Child: dial @p url and report what recv says (the error number). */
static int stranger_dial_recv(const char *url)
{
    xipc_sock *s;
    xipc_err rv = xipc_dial(&s, url, NULL, 2000);
    if (rv != XIPC_OK)
        return 50 + (int)rv;
    char buf[16];
    size_t n;
    rv = xipc_recv(s, buf, sizeof(buf), &n, 2000);
    xipc_close(s);
    return (int)rv;
}

static int stranger_dial(const char *url)
{
    xipc_sock *s;
    xipc_err rv = xipc_dial(&s, url, NULL, 500);
    if (rv == XIPC_OK)
        xipc_close(s);
    return (int)rv;
}

/* Child: plant a shared-memory object under @p name (mode 0666). */
static int stranger_plant_shm(const char *name)
{
    int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0666);
    if (fd < 0)
        return 1;
    fchmod(fd, 0666);
    int ok = ftruncate(fd, 4096) == 0;
    close(fd);
    return ok ? 0 : 2;
}

static void test_abstract_allow_list(void)
{
    char url[96];
    snprintf(url, sizeof(url), "unix://@xipc-perm-%d", (int)getpid());
    /* default: our own user only */
    xipc_sock *l, *c;
    XT_OK(xipc_listen(&l, url, NULL));
    pid_t pid = fork();
    if (pid == 0)
        _exit(as_stranger(stranger_dial_recv, url));
    XT_ERR(xipc_accept(l, &c, 1000), XIPC_ETIMEDOUT);
    int st;
    XT_ASSERT(waitpid(pid, &st, 0) == pid && WIFEXITED(st));
    XT_EQ(WEXITSTATUS(st), XIPC_ECLOSED); /* the stranger was hung up on */
    xipc_stats stats;
    XT_OK(xipc_stats_get(l, &stats));
    XT_EQ(stats.refused, 1);
    xipc_close(l);
    /* allowed by uid: accepted, and the application sees who it is */
    xipc_opts o;
    XT_OK(xipc_opts_init(&o));
    o.allow_uid[0] = (uint32_t)stranger_uid;
    o.allow_uid_count = 1;
    XT_OK(xipc_listen(&l, url, &o));
    pid = fork();
    if (pid == 0)
        _exit(as_stranger(stranger_dial_recv, url));
    XT_OK(xipc_accept(l, &c, 5000));
    uint32_t uid, ppid;
    XT_OK(xipc_peer_uid(c, &uid));
    XT_EQ(uid, stranger_uid);
    XT_OK(xipc_peer_pid(c, &ppid));
    XT_ASSERT(ppid != 0 && ppid != (uint32_t)getpid());
    XT_OK(xipc_send(c, "hi", 2, 1000));
    XT_ASSERT(waitpid(pid, &st, 0) == pid && WIFEXITED(st));
    XT_EQ(WEXITSTATUS(st), XIPC_OK);
    xipc_close(c);
    /* and our own user is not on that list any more */
    xipc_sock *me;
    XT_OK(xipc_dial(&me, url, NULL, 1000));
    XT_ERR(xipc_accept(l, &c, 300), XIPC_ETIMEDOUT);
    char b[4];
    size_t n;
    XT_ERR(xipc_recv(me, b, sizeof(b), &n, 1000), XIPC_ECLOSED);
    xipc_close(me);
    xipc_close(l);
}

/* Our pipe:// socket lives in a 0700 folder: a stranger cannot reach it. */
static void test_pipe_private(void)
{
    char url[96], path[256];
    snprintf(url, sizeof(url), "pipe://xipc-perm-%d", (int)getpid());
    xipc_sock *l;
    XT_OK(xipc_listen(&l, url, NULL));
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    if (xdg != NULL && xdg[0] == '/')
        snprintf(path, sizeof(path), "unix://%s/xipc/pipe/xipc-perm-%d", xdg, (int)getpid());
    else
        snprintf(path, sizeof(path), "unix:///tmp/xipc-%u/pipe/xipc-perm-%d",
                 (unsigned)geteuid(), (int)getpid());
    struct stat st;
    XT_ASSERT(stat(path + 7, &st) == 0);
    XT_EQ(st.st_mode & 0777, 0600);
    XT_EQ(as_stranger(stranger_dial, path), XIPC_EPERM);
    /* by name the stranger looks in its own folder: nobody there */
    XT_EQ(as_stranger(stranger_dial, url), XIPC_ECONNREFUSED);
    xipc_close(l);
}

/* Child: what shm:// does at @p path (a message socket): connect and
 * offer a sealed segment; the answer is what the listener made of it. */
static int stranger_offer(const char *path)
{
    xipc_plat_sock fd;
    xipc_err rv = xipc_plat_msgsock_dial(path, 500, &fd);
    if (rv != XIPC_OK)
        return (int)rv;
    xipc_plat_shm seg;
    rv = xipc_plat_shm_anon(&seg, 4096 + 2 * 4096, 0);
    if (rv == XIPC_OK) {
        xipc_shm_offer o = {XIPC_OFFER_MAGIC, XIPC_SHM_VERSION, 64, 0, 4096};
        rv = xipc_plat_sock_send_handle(fd, &o, sizeof(o), seg.handle);
        xipc_plat_shm_unmap(&seg);
    }
    if (rv == XIPC_OK) /* refused: the listener hangs up on us */
        rv = xipc_plat_sock_wait(fd, 0, 3000) == XIPC_OK ? XIPC_ECLOSED : XIPC_ETIMEDOUT;
    xipc_plat_sock_close(fd);
    return (int)rv;
}

/*
 * shm:// keeps a listener as a socket in our 0700 folder: a stranger
 * cannot reach it, finds nobody under the name in its own folder, and
 * plants in /dev/shm in vain. Opened up on purpose, the listener still
 * refuses the stranger's offer: the kernel says who sent it.
 */
static void test_shm_private(void)
{
    char tmp[] = "/tmp/xipc-perm-XXXXXX", dir[256], path[320], url[96], name[96];
    XT_ASSERT(mkdtemp(tmp) != NULL);
    XT_ASSERT(chmod(tmp, 0711) == 0);
    XT_ASSERT(setenv("XDG_RUNTIME_DIR", tmp, 1) == 0); /* ours for this test */
    snprintf(url, sizeof(url), "shm://xipc-perm-%d", (int)getpid());
    xipc_sock *l, *s, *a;
    XT_OK(xipc_listen(&l, url, NULL));
    XT_OK(xipc_plat_rundir(dir, sizeof(dir), "shm"));
    snprintf(path, sizeof(path), "%s/xipc-perm-%d", dir, (int)getpid());
    struct stat st;
    XT_ASSERT(stat(path, &st) == 0);
    XT_EQ(st.st_mode & 0777, 0600);
    XT_EQ(st.st_uid, geteuid());
    XT_EQ(as_stranger(stranger_offer, path), XIPC_EPERM);
    XT_EQ(as_stranger(stranger_dial, url), XIPC_ECONNREFUSED);
    /* a segment planted in /dev/shm under our name: shm:// uses none */
    snprintf(name, sizeof(name), "/xipc.%u.xipc-perm-%d", (unsigned)geteuid(), (int)getpid());
    XT_EQ(as_stranger(stranger_plant_shm, name), 0);
    XT_OK(xipc_dial(&s, url, NULL, 1000));
    XT_OK(xipc_accept(l, &a, 1000));
    xipc_close(a);
    xipc_close(s);
    XT_ASSERT(shm_unlink(name) == 0);
    /* the folders and the socket opened to all: the offer is refused */
    char sub[300];
    snprintf(sub, sizeof(sub), "%s/xipc", tmp);
    XT_ASSERT(chmod(sub, 0711) == 0 && chmod(dir, 0711) == 0 && chmod(path, 0666) == 0);
    pid_t pid = fork();
    if (pid == 0)
        _exit(as_stranger(stranger_offer, path));
    XT_ERR(xipc_accept(l, &a, 1000), XIPC_ETIMEDOUT);
    int rc;
    XT_ASSERT(waitpid(pid, &rc, 0) == pid && WIFEXITED(rc));
    XT_EQ(WEXITSTATUS(rc), XIPC_ECLOSED);
    XT_ASSERT(chmod(sub, 0700) == 0 && chmod(dir, 0700) == 0);
    xipc_close(l);
    XT_ASSERT(rmdir(dir) == 0 && rmdir(sub) == 0 && rmdir(tmp) == 0);
    unsetenv("XDG_RUNTIME_DIR");
}

int main(void)
{
    if (geteuid() != 0) {
        printf("perm_test skipped: needs root to create a second user\n");
        return 77;
    }
    signal(SIGPIPE, SIG_IGN);
    stranger_setup();
    printf("second user %s: uid %u\n", STRANGER, (unsigned)stranger_uid);
    test_abstract_allow_list();
    test_pipe_private();
    test_shm_private();
    printf("perm_test ok\n");
    return 0;
}

/*
 * Permissions and identity with a second user: a stranger cannot connect
 * to our listeners unless allowed, cannot reach our private objects, and
 * cannot plant an object under a name our service will open.
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

#include "test.h"

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

/* A stranger plants a segment under the name our listener will use. */
static void test_planted_shm(void)
{
    char name[96], url[96];
    snprintf(name, sizeof(name), "/xipc.%u.xipc-perm-%d", (unsigned)geteuid(), (int)getpid());
    snprintf(url, sizeof(url), "shm://xipc-perm-%d", (int)getpid());
    XT_EQ(as_stranger(stranger_plant_shm, name), 0);
    xipc_sock *l, *s;
    XT_ERR(xipc_listen(&l, url, NULL), XIPC_EPERM); /* not used, not deleted */
    XT_ERR(xipc_dial(&s, url, NULL, 100), XIPC_EPERM);
    XT_ASSERT(shm_unlink(name) == 0);
    /* our own objects are 0600: the stranger cannot open them */
    XT_OK(xipc_listen(&l, url, NULL));
    struct stat st;
    char path[128];
    snprintf(path, sizeof(path), "/dev/shm%s", name);
    XT_ASSERT(stat(path, &st) == 0);
    XT_EQ(st.st_mode & 0777, 0600);
    XT_EQ(st.st_uid, geteuid());
    XT_ASSERT(as_stranger(stranger_plant_shm, name) != 0); /* exists, not theirs */
    xipc_close(l);
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
    test_planted_shm();
    printf("perm_test ok\n");
    return 0;
}

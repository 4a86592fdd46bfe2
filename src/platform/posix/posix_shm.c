/*
 * Shared memory for the POSIX port: named objects (shm_open + mmap) and
 * anonymous sealed ones (memfd_create + F_ADD_SEALS, Linux), whose handle
 * is passed over a Unix socket.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/platform.h"

static xipc_err shm_syserr(int code)
{
    xipc__set_syserr(code);
    switch (code) {
    case EEXIST:
        return XIPC_EADDRINUSE;
    case ENOENT:
        return XIPC_ENOENT;
    case EACCES:
    case EPERM:
        return XIPC_EPERM;
    case ENOMEM:
    case ENOSPC:
        return XIPC_ENOMEM;
    case ENAMETOOLONG:
    case EINVAL:
        return XIPC_EINVAL;
    default:
        return XIPC_ESYS;
    }
}

static xipc_err shm_map(xipc_plat_shm *m, int fd, size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    int e = errno;
    close(fd);
    if (p == MAP_FAILED)
        return shm_syserr(e);
    m->base = p;
    m->size = size;
    m->handle = -1;
    return XIPC_OK;
}

xipc_err xipc_plat_shm_create(xipc_plat_shm *m, const char *name, size_t size)
{
    int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return shm_syserr(errno);
    /* fchmod: the umask must not widen or narrow 0600 */
    if (fchmod(fd, 0600) != 0 || ftruncate(fd, (off_t)size) != 0) {
        int e = errno;
        close(fd);
        shm_unlink(name);
        return shm_syserr(e);
    }
    xipc_err rv = shm_map(m, fd, size);
    if (rv != XIPC_OK)
        shm_unlink(name);
    return rv;
}

xipc_err xipc_plat_shm_open(xipc_plat_shm *m, const char *name)
{
    int fd = shm_open(name, O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0);
    if (fd < 0)
        return shm_syserr(errno);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return shm_syserr(e);
    }
    if (st.st_uid != geteuid() || (st.st_mode & 077) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return XIPC_EPERM; /* planted by someone else, or readable by others */
    }
    if (st.st_size <= 0 || (unsigned long long)st.st_size > (size_t)-1 / 2) {
        close(fd);
        return XIPC_EPROTO;
    }
    return shm_map(m, fd, (size_t)st.st_size);
}

void xipc_plat_shm_unmap(xipc_plat_shm *m)
{
    if (m->base != NULL) {
        munmap(m->base, m->size);
        if (m->handle >= 0) /* set by every successful map */
            close((int)m->handle);
    }
    m->base = NULL;
    m->size = 0;
    m->handle = -1;
}

/* ---- anonymous sealed objects ------------------------------------------------ */

/* No resizing, ever, and no seal added or removed later. */
#define SHM_SEALS_FIXED (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

xipc_err xipc_plat_shm_anon(xipc_plat_shm *m, size_t size, int readonly_later)
{
    if (size == 0 || size > (size_t)INT64_MAX)
        return XIPC_EINVAL;
    int fd = memfd_create("xipc", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
        return shm_syserr(errno);
    void *p = MAP_FAILED;
    int seals = SHM_SEALS_FIXED | (readonly_later ? F_SEAL_FUTURE_WRITE : 0);
    /* the seals go on after our mapping: F_SEAL_FUTURE_WRITE spares it */
    if (ftruncate(fd, (off_t)size) != 0 ||
        (p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED ||
        fcntl(fd, F_ADD_SEALS, seals) != 0) {
        int e = errno;
        if (p != MAP_FAILED)
            munmap(p, size);
        close(fd);
        return shm_syserr(e);
    }
    m->base = p;
    m->size = size;
    m->handle = fd;
    return XIPC_OK;
}

xipc_err xipc_plat_shm_adopt(xipc_plat_shm *m, intptr_t h, size_t size, int writable)
{
    int fd = (int)h;
    struct stat st;
    int seals = fcntl(fd, F_GET_SEALS);
    /* a descriptor that is not a sealable object (a pipe, a plain file,
     * a memfd without seals) could be truncated under our mapping */
    if (seals < 0 || (seals & SHM_SEALS_FIXED) != SHM_SEALS_FIXED || fstat(fd, &st) != 0 ||
        !S_ISREG(st.st_mode) || st.st_size < 0 || (uint64_t)st.st_size != size ||
        size == 0) {
        close(fd);
        return XIPC_EPROTO;
    }
    int prot = PROT_READ | (writable ? PROT_WRITE : 0);
    void *p = mmap(NULL, size, prot, MAP_SHARED, fd, 0);
    int e = errno;
    close(fd);
    if (p == MAP_FAILED)
        return e == EPERM || e == EACCES ? XIPC_EPROTO : shm_syserr(e);
    m->base = p;
    m->size = size;
    m->handle = -1;
    return XIPC_OK;
}

void xipc_plat_shm_unlink(const char *name)
{
    shm_unlink(name);
}

xipc_err xipc_plat_shm_list(const char *prefix,
                            void (*fn)(const char *name, void *arg), void *arg)
{
    DIR *d = opendir("/dev/shm");
    if (d == NULL)
        return shm_syserr(errno);
    size_t plen = strlen(prefix);
    /* names are given with a leading '/', the directory lists them without */
    const char *p = prefix[0] == '/' ? prefix + 1 : prefix;
    if (prefix[0] == '/')
        plen--;
    char full[512];
    int err = 0;
    for (;;) {
        errno = 0; /* NULL is the end, or an error (EOVERFLOW, EIO...) */
        struct dirent *e = readdir(d);
        if (e == NULL) {
            err = errno;
            break;
        }
        if (strncmp(e->d_name, p, plen) != 0 || strlen(e->d_name) + 2 > sizeof(full))
            continue;
        full[0] = '/';
        strcpy(full + 1, e->d_name);
        fn(full, arg);
    }
    closedir(d);
    return err != 0 ? shm_syserr(err) : XIPC_OK;
}

xipc_err xipc_plat_shm_read_head(const char *name, void *buf, size_t cap,
                                 size_t *got, uint64_t *size)
{
    *got = 0;
    *size = 0;
    /* O_NONBLOCK: a FIFO planted under the name must not block the open */
    int fd = shm_open(name, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW, 0);
    if (fd < 0)
        return shm_syserr(errno);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return shm_syserr(e);
    }
    if (st.st_uid != geteuid() || (st.st_mode & 077) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return XIPC_EPERM;
    }
    size_t n = 0;
    while (n < cap) {
        ssize_t k = pread(fd, (char *)buf + n, cap - n, (off_t)n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break; /* the end, or an error: what was read is what we have */
        n += (size_t)k;
    }
    close(fd);
    *got = n;
    *size = st.st_size > 0 ? (uint64_t)st.st_size : 0;
    return XIPC_OK;
}

/* Remove "<name>~<pid>.<n>" objects of dead creators (see publish). */
static void shm_sweep_one(const char *obj, void *arg)
{
    size_t plen = strlen((const char *)arg);
    unsigned pid, n;
    char tail;
    if (sscanf(obj + plen, "%u.%u%c", &pid, &n, &tail) == 2 && !xipc_plat_pid_alive(pid))
        shm_unlink(obj);
}

xipc_err xipc_plat_shm_publish(xipc_plat_shm *m, const char *name, size_t size,
                               void (*init)(void *base, size_t size, void *arg),
                               void *arg)
{
    static _Atomic unsigned shm_tmp_seq;
    char tmp[300], from[320], to[320], prefix[260];
    int n = snprintf(prefix, sizeof(prefix), "%s~", name);
    if (n < 0 || (size_t)n >= sizeof(prefix))
        return XIPC_EINVAL;
    xipc_plat_shm_list(prefix, shm_sweep_one, prefix);
    snprintf(tmp, sizeof(tmp), "%s%u.%u", prefix, (unsigned)getpid(),
             atomic_fetch_add(&shm_tmp_seq, 1));
    xipc_err rv = xipc_plat_shm_create(m, tmp, size);
    if (rv != XIPC_OK)
        return rv;
    init(m->base, size, arg);
    /* shm_open(3) names are files in /dev/shm: link() publishes the
     * finished object under its name, or fails if the name exists */
    snprintf(from, sizeof(from), "/dev/shm%s", tmp);
    snprintf(to, sizeof(to), "/dev/shm%s", name);
    int rc = link(from, to);
    int e = errno;
    shm_unlink(tmp);
    if (rc != 0) {
        xipc_plat_shm_unmap(m);
        return shm_syserr(e);
    }
    return XIPC_OK;
}

/*
 * Shared memory for the POSIX port: anonymous objects sealed against
 * resizing (memfd_create + F_ADD_SEALS, Linux), whose handle is passed
 * over a Unix socket (xipc_plat_sock_send_handle).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "platform/posix/posix.h"

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
        return xipc__posix_err(errno);
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
        return xipc__posix_err(e);
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
     * a memfd without seals) could be truncated under our mapping; one we
     * only read must be writable by its creator alone */
    int want = SHM_SEALS_FIXED | (writable ? 0 : F_SEAL_FUTURE_WRITE);
    if (seals < 0 || (seals & want) != want || fstat(fd, &st) != 0 ||
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
        return e == EPERM || e == EACCES ? XIPC_EPROTO : xipc__posix_err(e);
    m->base = p;
    m->size = size;
    m->handle = -1;
    return XIPC_OK;
}

xipc_err xipc_plat_shm_from_peer(xipc_plat_shm *m, uint32_t pid, intptr_t h, size_t size,
                                 int writable)
{
    char path[64];
    if (pid == 0 || h < 0 || h > INT32_MAX)
        return XIPC_EINVAL;
    snprintf(path, sizeof(path), "/proc/%u/fd/%ld", (unsigned)pid, (long)h);
    int fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd < 0)
        return xipc__posix_err(errno); /* ENOENT, ESRCH: XIPC_ENOENT */
    return xipc_plat_shm_adopt(m, fd, size, writable);
}

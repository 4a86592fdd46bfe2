/* The poller of the POSIX port: epoll, one-shot, woken by an eventfd. */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "platform/posix/posix.h"

struct xipc_plat_poller {
    int ep;   /* the epoll instance */
    int wake; /* an eventfd, watched level-triggered with a NULL tag */
};

xipc_err xipc_plat_poller_alloc(xipc_plat_poller **out)
{
    xipc_plat_poller *p = malloc(sizeof(*p));
    if (p == NULL)
        return XIPC_ENOMEM;
    p->ep = epoll_create1(EPOLL_CLOEXEC);
    p->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (p->ep < 0 || p->wake < 0 || epoll_ctl(p->ep, EPOLL_CTL_ADD, p->wake, &ev) != 0) {
        xipc_err rv = xipc__posix_err(errno);
        if (p->ep >= 0)
            close(p->ep);
        if (p->wake >= 0)
            close(p->wake);
        free(p);
        return rv == XIPC_ENOMEM ? rv : XIPC_ESYS;
    }
    *out = p;
    return XIPC_OK;
}

void xipc_plat_poller_free(xipc_plat_poller *p)
{
    if (p == NULL)
        return;
    close(p->ep);
    close(p->wake);
    free(p);
}

static xipc_err poller_ctl(xipc_plat_poller *p, int op, xipc_plat_sock s, void *tag)
{
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT,
                             .data.ptr = tag};
    if (epoll_ctl(p->ep, op, (int)s, &ev) != 0)
        return xipc__posix_err(errno) == XIPC_ENOMEM ? XIPC_ENOMEM : XIPC_ESYS;
    return XIPC_OK;
}

xipc_err xipc_plat_poller_add(xipc_plat_poller *p, xipc_plat_sock s, void *tag)
{
    return poller_ctl(p, EPOLL_CTL_ADD, s, tag);
}

xipc_err xipc_plat_poller_arm(xipc_plat_poller *p, xipc_plat_sock s, void *tag)
{
    return poller_ctl(p, EPOLL_CTL_MOD, s, tag);
}

void xipc_plat_poller_del(xipc_plat_poller *p, xipc_plat_sock s)
{
    struct epoll_event ev = {0}; /* kernels before 2.6.9 want one */
    epoll_ctl(p->ep, EPOLL_CTL_DEL, (int)s, &ev);
}

xipc_err xipc_plat_poller_wait(xipc_plat_poller *p, void **tags, int cap,
                               int *n, int timeout_ms)
{
    struct epoll_event ev[64];
    *n = 0;
    if (cap > 64)
        cap = 64;
    int k = epoll_wait(p->ep, ev, cap, timeout_ms);
    if (k < 0)
        return errno == EINTR ? XIPC_OK : xipc__posix_err(errno);
    for (int i = 0; i < k; i++) {
        if (ev[i].data.ptr == NULL) { /* woken: reset the eventfd */
            uint64_t v;
            while (read(p->wake, &v, sizeof(v)) < 0 && errno == EINTR)
                ;
            continue;
        }
        tags[(*n)++] = ev[i].data.ptr;
    }
    return XIPC_OK;
}

void xipc_plat_poller_wake(xipc_plat_poller *p)
{
    uint64_t one = 1;
    /* a full counter (EAGAIN) is awake anyway */
    while (write(p->wake, &one, sizeof(one)) < 0 && errno == EINTR)
        ;
}

/* The README's example: two processes, one message over shm://. */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xipc/xipc.h>

int main(void)
{
    xipc_sock *l, *c = NULL, *s;
    char buf[256];
    size_t n;
    xipc_err rv = xipc_listen(&l, "shm://hello", NULL);
    if (rv != XIPC_OK)
        return fprintf(stderr, "xipc: shm://hello: %s\n", xipc_strerror(rv)), 1;
    if (fork() == 0) { /* the other process dials and sends */
        if (xipc_dial(&s, "shm://hello", NULL, 1000) == XIPC_OK)
            xipc_send(s, "hi", 2, 1000), xipc_close(s);
        _exit(0);
    }
    if ((rv = xipc_accept(l, &c, 5000)) == XIPC_OK &&
        (rv = xipc_recv(c, buf, sizeof(buf), &n, 5000)) == XIPC_OK)
        printf("got %.*s\n", (int)n, buf);
    else
        fprintf(stderr, "xipc: shm://hello: %s\n", xipc_strerror(rv));
    xipc_close(c);
    xipc_close(l);
    wait(NULL);
    return rv != XIPC_OK;
}

/*
 * A program of a user of the installed xipc (tests/install/install_test.sh):
 * built out of the source tree against the installed headers and library
 * only, through pkg-config or find_package(xipc). Every public header must
 * compile on its own; one real round trip over shm:// between two
 * processes, the request encoded with the library's MessagePack writer.
 * Prints "consumer: ok ..." and exits 0, or says what failed and exits 1.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xipc/inspect.h>
#include <xipc/msgpack.h>
#include <xipc/rpc.h>
#include <xipc/xipc.h>

#define WAIT_MS 5000

static int fail(const char *what, xipc_err rv)
{
    fprintf(stderr, "consumer: %s: %s (%s)\n", what, xipc_strerror(rv), xipc_err_name(rv));
    return 1;
}

/* The child: dial, send the request, expect "pong". @return exit code */
static int consumer_child(const char *url, const void *req, size_t req_len)
{
    xipc_sock *s;
    char buf[64];
    size_t n = 0;
    xipc_err rv = xipc_dial(&s, url, NULL, WAIT_MS);
    if (rv != XIPC_OK)
        return fail("child: dial", rv);
    if ((rv = xipc_send(s, req, req_len, WAIT_MS)) == XIPC_OK)
        rv = xipc_recv(s, buf, sizeof(buf), &n, WAIT_MS);
    xipc_close(s);
    if (rv != XIPC_OK)
        return fail("child: send or recv", rv);
    if (n != 4 || memcmp(buf, "pong", 4) != 0) {
        fprintf(stderr, "consumer: child: got %zu bytes, not \"pong\"\n", n);
        return 1;
    }
    return 0;
}

int main(void)
{
    /* the error table, as the header promises */
    if (strcmp(xipc_strerror(XIPC_ETIMEDOUT), "timed out") != 0 ||
        strcmp(xipc_err_name(XIPC_ECLOSED), "ECLOSED") != 0) {
        fprintf(stderr, "consumer: xipc_strerror/xipc_err_name: unexpected text\n");
        return 1;
    }
    /* the request: the MessagePack str "ping" (0xa4 "ping") */
    unsigned char req[16];
    xipc_mp_buf mp;
    xipc_mp_buf_init_fixed(&mp, req, sizeof(req));
    xipc_err rv = xipc_mp_write_cstr(&mp, "ping");
    if (rv != XIPC_OK || mp.len != 5 || req[0] != 0xa4)
        return fail("xipc_mp_write_cstr", rv);

    char url[64];
    snprintf(url, sizeof(url), "shm://install-test-%ld", (long)getpid());
    xipc_sock *l, *c = NULL;
    if ((rv = xipc_listen(&l, url, NULL)) != XIPC_OK)
        return fail(url, rv);
    pid_t pid = fork();
    if (pid < 0) {
        perror("consumer: fork");
        return 1;
    }
    if (pid == 0)
        _exit(consumer_child(url, req, mp.len));

    unsigned char buf[64];
    size_t n = 0;
    if ((rv = xipc_accept(l, &c, WAIT_MS)) == XIPC_OK &&
        (rv = xipc_recv(c, buf, sizeof(buf), &n, WAIT_MS)) == XIPC_OK) {
        if (n == mp.len && memcmp(buf, req, n) == 0)
            rv = xipc_send(c, "pong", 4, WAIT_MS);
        else
            rv = XIPC_EPROTO; /* not the request the child sent */
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid)
        status = -1;
    xipc_close(c);
    xipc_close(l);
    if (rv != XIPC_OK)
        return fail("parent: accept, recv or send", rv);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "consumer: the child failed (status %d)\n", status);
        return 1;
    }
    printf("consumer: ok: a round trip over %s (headers of xipc %d.%d.%d)\n", url,
           XIPC_VERSION_MAJOR, XIPC_VERSION_MINOR, XIPC_VERSION_PATCH);
    return 0;
}

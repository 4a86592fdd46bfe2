/* Small helpers the comparison drivers share. */
#define _DEFAULT_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

static char util_dir[64];
static long util_dir_pid;

int bench_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

void bench_nap_us(unsigned us)
{
    struct timespec ts = {(time_t)(us / 1000000u), (long)(us % 1000000u) * 1000L};
    nanosleep(&ts, NULL);
}

const char *bench_tmpdir(void)
{
    if (util_dir_pid == (long)getpid())
        return util_dir;
    snprintf(util_dir, sizeof(util_dir), "/tmp/xipc-bench.%ld", (long)getpid());
    if (mkdir(util_dir, 0700) != 0)
        return NULL;
    util_dir_pid = (long)getpid();
    return util_dir;
}

void bench_tmpdir_remove(void)
{
    if (util_dir_pid != (long)getpid())
        return;
    DIR *d = opendir(util_dir);
    if (d != NULL) {
        struct dirent *e;
        char path[512];
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(path, sizeof(path), "%s/%s", util_dir, e->d_name);
            unlink(path);
        }
        closedir(d);
    }
    rmdir(util_dir);
    util_dir_pid = 0;
}

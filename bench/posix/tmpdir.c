/* The temporary directory of a run on POSIX: /tmp/xipc-bench.PID, 0700. */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/util.h"

static char util_dir[64];
static long util_dir_pid;

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

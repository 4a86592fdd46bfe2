/*
 * The program examples/minidbg debugs (docs/minidbg.md): small, 64-bit,
 * built -O0 -g so that its locals live where its DWARF says.
 *
 *   target [N]     print the sum of the squares 1..N (default 7) through
 *                  square_sum(), and exit with that sum modulo 256
 *   target --spin  call square_sum(3) every 10 ms until killed (a process
 *                  to attach to)
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A global the front end may read by its symbol. */
long calls;

int square_sum(int n)
{
    int sum = 0;
    for (int i = 1; i <= n; i++)
        sum += i * i;
    calls++;
    return sum;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--spin") == 0) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        for (;;) {
            square_sum(3);
            nanosleep(&ts, NULL);
        }
    }
    int n = argc > 1 ? atoi(argv[1]) : 7;
    int sum = square_sum(n);
    printf("target: square_sum(%d) = %d\n", n, sum);
    return sum % 256;
}

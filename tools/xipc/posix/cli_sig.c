/*
 * Signals for the commands that block. recv, pub and sub, single-threaded:
 * SIGINT, SIGTERM and SIGHUP set a flag that their wait loops poll, so the
 * command closes its endpoint (removing its name) before it dies of the
 * signal. serve, whose RPC server runs threads: the signals are blocked in
 * every thread and taken with sigtimedwait(), so no handler runs at all.
 *
 * Why serve takes no handler: a handler that interrupts one thread of many
 * can only touch atomics, and emulation breaks even that. qemu-i386 (7.2)
 * keeps one GDT for all threads of a process and reloads %gs from it when
 * a handler returns: the interrupted thread takes on the TLS of the newest
 * thread. Its pthread_join of that thread then fails with EDEADLK, and a
 * 32-bit `xipc serve` under qemu freed its shm:// listener while the
 * listener thread still read it: SIGSEGV at SIGTERM (docs/testing.md).
 *
 * POSIX sigaction; Windows: win32/cli_sig.c.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static volatile sig_atomic_t cli_sig_caught;

static void cli_sig_on(int sig)
{
    cli_sig_caught = sig;
}

/*
 * Catch @p sig unless it was ignored when we started (as for `cmd &`). The
 * handler stays installed (no SA_RESETHAND): a second signal, as from
 * `timeout` which signals both the child and its group, must not kill us
 * before we clean up. No SA_RESTART: a blocked read or write returns early.
 */
static void cli_sig_catch(int sig)
{
    struct sigaction sa, old;
    if (sigaction(sig, NULL, &old) != 0 || old.sa_handler == SIG_IGN)
        return;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = cli_sig_on;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

/* The signals that end a blocking command */
static const int cli_sig_stop[] = {SIGINT, SIGTERM, SIGHUP};

static void cli_sig_ignore_pipe(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_IGN; /* a closed stdout is a write error */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGPIPE, &sa, NULL);
}

void cli_signals_init(void)
{
    for (size_t i = 0; i < sizeof(cli_sig_stop) / sizeof(cli_sig_stop[0]); i++)
        cli_sig_catch(cli_sig_stop[i]);
    cli_sig_ignore_pipe();
}

static sigset_t cli_sig_blocked;

void cli_signals_block(void)
{
    struct sigaction old;
    sigemptyset(&cli_sig_blocked);
    for (size_t i = 0; i < sizeof(cli_sig_stop) / sizeof(cli_sig_stop[0]); i++)
        if (sigaction(cli_sig_stop[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
            sigaddset(&cli_sig_blocked, cli_sig_stop[i]);
    pthread_sigmask(SIG_BLOCK, &cli_sig_blocked, NULL);
    cli_sig_ignore_pipe();
}

int cli_signal_wait_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    int sig = sigtimedwait(&cli_sig_blocked, NULL, &ts);
    if (sig > 0)
        cli_sig_caught = sig;
    return cli_sig_caught ? -1 : 0;
}

int cli_signal_caught(void)
{
    return (int)cli_sig_caught;
}

int cli_signal_exit(void)
{
    int sig = (int)cli_sig_caught;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
    raise(sig); /* die of it, so the parent sees the signal */
    return 128 + sig; /* the signal did not end us */
}

int cli_sleep_ms(long ms)
{
    while (ms > 0 && !cli_sig_caught) {
        long slice = ms < CLI_SLICE_MS ? ms : CLI_SLICE_MS;
        struct timespec ts = {slice / 1000, (slice % 1000) * 1000000L};
        nanosleep(&ts, NULL); /* a signal ends it early: checked above */
        ms -= slice;
    }
    return cli_sig_caught ? -1 : 0;
}

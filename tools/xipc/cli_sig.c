/*
 * Signals for the commands that block (recv, pub, sub): SIGINT, SIGTERM and
 * SIGHUP set a flag that their wait loops poll, so the command closes its
 * endpoint (removing its name) before it dies of the signal. POSIX
 * sigaction: a Windows build of the tool will need a port.
 */
#define _POSIX_C_SOURCE 200809L
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

void cli_signals_init(void)
{
    struct sigaction sa;
    cli_sig_catch(SIGINT);
    cli_sig_catch(SIGTERM);
    cli_sig_catch(SIGHUP);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_IGN; /* a closed stdout is a write error */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGPIPE, &sa, NULL);
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

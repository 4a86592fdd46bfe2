/*
 * The end of a blocking command on Windows: Ctrl+C, Ctrl+Break and the
 * console closing (the counterparts of SIGINT and SIGHUP; a process ended
 * with TerminateProcess gets no say, as with SIGKILL). The console runs
 * its control handler on a thread of its own: the handler only sets a
 * flag and an event, and the command's own thread closes its endpoint
 * (removing its name) and exits, as the POSIX version does after a
 * signal (posix/cli_sig.c).
 */
#include <stdio.h>

#include <windows.h>

#include "cli.h"

/* The "signal" numbers reported: those of the POSIX counterparts, so that
 * exit codes read the same (128 + 2 after Ctrl+C). */
#define CLI_SIGINT 2
#define CLI_SIGHUP 1

static volatile LONG cli_sig_caught;
static HANDLE cli_sig_event;

static BOOL WINAPI cli_sig_on(DWORD type)
{
    LONG sig;
    switch (type) {
    case CTRL_C_EVENT:
    case CTRL_BREAK_EVENT:
        sig = CLI_SIGINT;
        break;
    case CTRL_CLOSE_EVENT:
    case CTRL_LOGOFF_EVENT:
    case CTRL_SHUTDOWN_EVENT:
        sig = CLI_SIGHUP;
        break;
    default:
        return FALSE;
    }
    InterlockedExchange(&cli_sig_caught, sig);
    if (cli_sig_event != NULL)
        SetEvent(cli_sig_event);
    return TRUE; /* handled: the command's own thread ends the process */
}

void cli_signals_init(void)
{
    if (cli_sig_event == NULL)
        cli_sig_event = CreateEventW(NULL, TRUE, FALSE, NULL);
    SetConsoleCtrlHandler(cli_sig_on, TRUE);
}

void cli_signals_block(void)
{
    cli_signals_init(); /* no handler interrupts a thread here */
}

int cli_signal_wait_ms(long ms)
{
    if (cli_sig_event != NULL && !cli_sig_caught)
        WaitForSingleObject(cli_sig_event, ms < 0 ? INFINITE : (DWORD)ms);
    else if (!cli_sig_caught)
        Sleep(ms < 0 ? INFINITE : (DWORD)ms);
    return cli_sig_caught ? -1 : 0;
}

int cli_signal_caught(void)
{
    return (int)cli_sig_caught;
}

int cli_signal_exit(void)
{
    int code = 128 + (int)cli_sig_caught;
    fflush(NULL);
    ExitProcess((UINT)code);
    return code;
}

int cli_sleep_ms(long ms)
{
    return cli_signal_wait_ms(ms);
}

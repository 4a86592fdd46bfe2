/*
 * A thread of its own that runs a message loop (win32_loop.c).
 *
 * Window messages, and DDEML's transactions, are handled by the thread
 * that made the window or the DDEML instance, and only while that thread
 * sits in a message loop. A library's caller is busy elsewhere (blocked in
 * a receive, or not calling at all), so each object that needs a loop —
 * an mq:// receiver's window, a clipboard owner's window, a DDE instance —
 * gets one thread that does nothing else. It is the one such thread of
 * the port: its start, its end and its class registration live here.
 */
#ifndef XIPC_PLATFORM_WIN32_LOOP_H
#define XIPC_PLATFORM_WIN32_LOOP_H

#include <windows.h>

#include "core/platform.h"

typedef struct xipc__win32_loop {
    HANDLE thread;
    DWORD tid;
    HANDLE ready;               /* set once start has run */
    xipc_err err;               /* what start answered */
    xipc_err (*start)(void *arg); /* on the thread, before the loop */
    void (*stop)(void *arg);      /* on the thread, after it (may be NULL) */
    void *arg;
    void (*wake)(void *arg);      /* on the thread, for each xipc__win32_loop_wake */
} xipc__win32_loop;

/*
 * Start a thread that calls @p start(@p arg), then, when that answered
 * XIPC_OK, runs a message loop until xipc__win32_loop_stop, calling
 * @p wake(@p arg) (when not NULL) whenever xipc__win32_loop_wake asks and
 * after each message it dispatched, then @p stop(@p arg). Returns what start
 * answered (the thread is gone by then when that is an error).
 */
xipc_err xipc__win32_loop_start(xipc__win32_loop *l, xipc_err (*start)(void *arg),
                                void (*stop)(void *arg), void (*wake)(void *arg),
                                void *arg);

/* Ask the loop's thread to call wake soon; any thread. */
void xipc__win32_loop_wake(xipc__win32_loop *l);

/* End the loop, run stop on its thread, and wait for the thread. */
void xipc__win32_loop_stop(xipc__win32_loop *l);

/*
 * On a loop's thread: a message-only window (HWND_MESSAGE: no display, not
 * seen by EnumWindows or broadcasts) of class @p cls, registered with
 * @p proc on first use (once per process and class; another copy of the
 * library may have registered it first), named @p title (may be NULL),
 * with @p param as its lpCreateParams.
 */
xipc_err xipc__win32_msg_window(HWND *out, const wchar_t *cls, WNDPROC proc,
                                const wchar_t *title, void *param);

#endif

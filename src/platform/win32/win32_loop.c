/*
 * The message-loop thread of the Windows port (win32_loop.h).
 *
 * The loop ends on WM_QUIT posted to the thread. A thread message is never
 * lost for good: DDEML's synchronous transactions run a modal loop of
 * their own that may take a wake-up message and drop it, so the loop
 * calls wake after every message it gets, and wake's work must be to look
 * at what is queued, not to count wake-ups.
 */
#include <process.h>

#include "platform/win32/win32.h"
#include "platform/win32/win32_loop.h"

#define LOOP_WM_WAKE (WM_APP + 0x51)

static unsigned __stdcall loop_thread(void *arg)
{
    xipc__win32_loop *l = arg;
    MSG m;
    /* a thread has a message queue once it asks for one: make it now, so
     * that wake and stop can post to it from the first moment */
    PeekMessageW(&m, NULL, WM_USER, WM_USER, PM_NOREMOVE);
    l->err = l->start(l->arg);
    SetEvent(l->ready);
    if (l->err != XIPC_OK)
        return 0;
    while (GetMessageW(&m, NULL, 0, 0) > 0) {
        if (m.hwnd != NULL)
            DispatchMessageW(&m);
        if (l->wake != NULL)
            l->wake(l->arg);
    }
    if (l->stop != NULL)
        l->stop(l->arg);
    return 0;
}

xipc_err xipc__win32_loop_start(xipc__win32_loop *l, xipc_err (*start)(void *arg),
                                void (*stop)(void *arg), void (*wake)(void *arg),
                                void *arg)
{
    l->start = start;
    l->stop = stop;
    l->wake = wake;
    l->arg = arg;
    l->err = XIPC_OK;
    l->thread = NULL;
    l->ready = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (l->ready == NULL)
        return xipc__win32_err(GetLastError());
    unsigned tid = 0;
    l->thread = (HANDLE)_beginthreadex(NULL, 0, loop_thread, l, 0, &tid);
    if (l->thread == NULL) {
        CloseHandle(l->ready);
        l->ready = NULL;
        return XIPC_ENOMEM;
    }
    l->tid = tid;
    WaitForSingleObject(l->ready, INFINITE);
    CloseHandle(l->ready);
    l->ready = NULL;
    if (l->err != XIPC_OK) {
        WaitForSingleObject(l->thread, INFINITE);
        CloseHandle(l->thread);
        l->thread = NULL;
    }
    return l->err;
}

void xipc__win32_loop_wake(xipc__win32_loop *l)
{
    PostThreadMessageW(l->tid, LOOP_WM_WAKE, 0, 0);
}

void xipc__win32_loop_stop(xipc__win32_loop *l)
{
    if (l->thread == NULL)
        return;
    /* posting fails only when the queue is full (10000 messages): retry */
    while (!PostThreadMessageW(l->tid, WM_QUIT, 0, 0) &&
           WaitForSingleObject(l->thread, 1) == WAIT_TIMEOUT)
        ;
    WaitForSingleObject(l->thread, INFINITE);
    CloseHandle(l->thread);
    l->thread = NULL;
}

xipc_err xipc__win32_msg_window(HWND *out, const wchar_t *cls, WNDPROC proc,
                                const wchar_t *title, void *param)
{
    HINSTANCE inst = GetModuleHandleW(NULL);
    WNDCLASSEXW wc;
    if (!GetClassInfoExW(inst, cls, &wc)) {
        memset(&wc, 0, sizeof(wc));
        wc.cbSize = sizeof(wc);
        wc.lpfnWndProc = proc;
        wc.hInstance = inst;
        wc.lpszClassName = cls;
        if (RegisterClassExW(&wc) == 0 && GetLastError() != ERROR_CLASS_ALREADY_EXISTS)
            return xipc__win32_err(GetLastError());
    }
    *out = CreateWindowExW(0, cls, title, 0, 0, 0, 0, 0, HWND_MESSAGE, NULL, inst, param);
    return *out != NULL ? XIPC_OK : xipc__win32_err(GetLastError());
}

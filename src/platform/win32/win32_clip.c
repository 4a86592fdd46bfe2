/*
 * The "clipboard" group on Windows: the session's clipboard, one value
 * per registered format.
 *
 * A setter owns what it sets through a message-only window of its own,
 * on a thread of its own that answers the window's messages: the next
 * process to empty the clipboard sends the owner WM_DESTROYCLIPBOARD and
 * waits for the answer, which a window whose thread is busy elsewhere
 * would never give. Values are set directly (no delayed rendering), so
 * they stay on the clipboard when the setter closes or dies.
 *
 * OpenClipboard fails while another process has the clipboard open
 * (ERROR_ACCESS_DENIED, 5, under wine too): both calls retry until their
 * timeout, every millisecond.
 *
 * A receiver opens the clipboard with a window of its own too. Wine 8
 * lets a second OpenClipboard(NULL) through while another thread holds
 * the clipboard open with NULL (its server compares only the windows),
 * and the first holder's GetClipboardData then finds the clipboard not
 * open for it: a value there looked absent, and the receiver, having
 * noted the change count, never looked again (two processes each
 * receiving, as in a round trip, lost one value in a few dozen). Distinct
 * windows make every open exclusive there as on Windows.
 */
#include <stdlib.h>
#include <string.h>

#include <windows.h>

#include "core/deadline.h"
#include "platform/win32/win32.h"
#include "platform/win32/win32_loop.h"

#define CLIP_CLASS L"xipc-clip"
#define CLIP_RETRY_US 1000u

struct xipc_plat_clip {
    UINT fmt;
    HWND hwnd;             /* the window it opens the clipboard with (a
                              setter's owns what it sets) */
    xipc__win32_loop loop; /* the window's thread */
};

/* WM_DESTROYCLIPBOARD among the messages: nothing to free */
static LRESULT CALLBACK clip_wndproc(HWND hwnd, UINT msg, WPARAM wp, LPARAM lp)
{
    return DefWindowProcW(hwnd, msg, wp, lp);
}

static xipc_err clip_window_start(void *arg)
{
    xipc_plat_clip *c = arg;
    return xipc__win32_msg_window(&c->hwnd, CLIP_CLASS, clip_wndproc, NULL, NULL);
}

static void clip_window_stop(void *arg)
{
    DestroyWindow(((xipc_plat_clip *)arg)->hwnd);
}

void xipc_plat_clip_close(xipc_plat_clip *c)
{
    if (c == NULL)
        return;
    if (c->hwnd != NULL)
        xipc__win32_loop_stop(&c->loop);
    free(c);
}

xipc_err xipc_plat_clip_open(xipc_plat_clip **out, const char *format, int setter)
{
    *out = NULL;
    wchar_t *name;
    xipc_err rv = xipc__win32_wide(format, &name);
    if (rv != XIPC_OK)
        return rv;
    xipc_plat_clip *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        free(name);
        return XIPC_ENOMEM;
    }
    c->fmt = RegisterClipboardFormatW(name);
    rv = c->fmt != 0 ? XIPC_OK : xipc__win32_err(GetLastError());
    free(name);
    (void)setter; /* both need the window: see the top of the file */
    if (rv == XIPC_OK)
        rv = xipc__win32_loop_start(&c->loop, clip_window_start, clip_window_stop, NULL, c);
    if (rv != XIPC_OK) {
        c->hwnd = NULL; /* no thread left to stop */
        xipc_plat_clip_close(c);
        return rv;
    }
    *out = c;
    return XIPC_OK;
}

uint32_t xipc_plat_clip_seq(xipc_plat_clip *c)
{
    (void)c;
    return (uint32_t)GetClipboardSequenceNumber();
}

/* OpenClipboard, retried while another process has it open. */
static xipc_err clip_lock(HWND owner, int timeout_ms)
{
    xipc_deadline d = xipc__deadline(timeout_ms);
    for (;;) {
        if (OpenClipboard(owner))
            return XIPC_OK;
        DWORD e = GetLastError();
        uint32_t us;
        if (e != ERROR_ACCESS_DENIED)
            return xipc__win32_err(e);
        if (xipc__deadline_slice(&d, CLIP_RETRY_US, &us) != XIPC_OK)
            return XIPC_ETIMEDOUT;
        xipc_plat_sleep_us(us);
    }
}

xipc_err xipc_plat_clip_set(xipc_plat_clip *c, const void *buf, size_t len, int timeout_ms)
{
    if (c == NULL || c->hwnd == NULL)
        return XIPC_EINVAL;
    HGLOBAL g = GlobalAlloc(GMEM_MOVEABLE, len > 0 ? len : 1);
    if (g == NULL)
        return XIPC_ENOMEM;
    void *p = GlobalLock(g);
    if (p == NULL) {
        GlobalFree(g);
        return XIPC_ENOMEM;
    }
    if (len > 0)
        memcpy(p, buf, len);
    GlobalUnlock(g);
    xipc_err rv = clip_lock(c->hwnd, timeout_ms);
    if (rv != XIPC_OK) {
        GlobalFree(g);
        return rv;
    }
    if (!EmptyClipboard() || SetClipboardData(c->fmt, g) == NULL) {
        rv = xipc__win32_err(GetLastError());
        GlobalFree(g); /* not the system's: it was not taken */
    }
    CloseClipboard();
    return rv;
}

xipc_err xipc_plat_clip_get(xipc_plat_clip *c, size_t max, void **buf, size_t *len,
                            int timeout_ms)
{
    *buf = NULL;
    *len = 0;
    if (c == NULL)
        return XIPC_EINVAL;
    xipc_err rv = clip_lock(c->hwnd, timeout_ms);
    if (rv != XIPC_OK)
        return rv;
    HANDLE h = GetClipboardData(c->fmt);
    const void *p = h != NULL ? GlobalLock(h) : NULL;
    if (p == NULL) {
        CloseClipboard();
        return XIPC_ENOENT;
    }
    size_t n = GlobalSize(h); /* may be rounded up: the caller's header says */
    if (n > max) {
        rv = XIPC_EMSGSIZE;
    } else if ((*buf = malloc(n > 0 ? n : 1)) == NULL) {
        rv = XIPC_ENOMEM;
    } else {
        memcpy(*buf, p, n);
        *len = n;
    }
    GlobalUnlock(h);
    CloseClipboard();
    return rv;
}

"""What every wrapper of a C handle shares: closing it safely while other
threads use it, and timeouts in seconds.

A C handle is freed by its close function; a thread still inside a call
on it would then use freed memory. So every call holds the handle
(``acquire``/``release``, or ``with h.use()``), and ``close`` frees it
only when no call holds it: at once when idle, else when the last call
returns. Blocking calls whose timeout may be long wait in slices
(``wait``) and see a close from another thread at the end of the slice:
it ends them with ClosedError.

No lock: the calls in progress are entries of a list, and list.append,
list.pop and attribute stores are atomic and ordered under the GIL. A
call appends, then looks at ``_closing``; close sets ``_closing``, then
looks at the list: one of the two sees the other, so a handle is never
freed under a call. Whoever frees takes the pointer out of a one-element
list, so it is freed once.
"""
import atexit
import math
import time
import weakref

from . import errors

INT_MAX = 2 ** 31 - 1
SLICE_MS = 200  # longest single wait of a sliced call


def to_ms(timeout):
    """Seconds (None: forever) to the C convention: ms, -1 forever, 0 poll.
    A positive timeout waits at least 1 ms; longer than 24 days is -1."""
    if timeout is None:
        return -1
    t = float(timeout)
    if not t >= 0:
        raise errors.InvalidArgument("timeout %r: must be None or >= 0"
                                     % (timeout,), code=errors.EINVAL)
    ms = math.ceil(t * 1000)
    return ms if ms <= INT_MAX else -1


class Handle:
    """A C handle (``ptr``) with the calls using it."""

    def __init__(self, ptr, free, what):
        self.ptr = ptr
        self._box = [ptr]   # emptied by whoever frees it
        self._users = []    # an entry per call in progress
        self._closing = False
        self._free = free
        self._what = what

    @property
    def closed(self):
        return self._closing

    @property
    def freed(self):
        return not self._box

    def _closed_error(self, how):
        return errors.ClosedError("%s: %s" % (self._what, how),
                                  detail="closed", what=self._what)

    def acquire(self):
        """The pointer, counted as in use; ClosedError once closed."""
        self._users.append(None)
        if self._closing:
            self.release()
            raise self._closed_error("closed")
        return self.ptr

    def release(self):
        self._users.pop()
        if self._closing and not self._users:
            self._free_once()

    def _free_once(self):
        try:
            ptr = self._box.pop()
        except IndexError:
            return False
        self._free(ptr)
        return True

    def close(self):
        """Free the handle now, or when the last call using it returns.
        @return True when it was freed now."""
        if self._closing:
            return False
        self._closing = True
        return not self._users and self._free_once()

    def use(self):
        return _Use(self)

    def wait(self, call, ms, waited=0):
        """call(ms) for a blocking call that does nothing when it times
        out (receive, accept): waits longer than SLICE_MS, or forever
        (-1), go in slices, until it returns something other than
        XIPC_ETIMEDOUT or the time is up; ClosedError when the handle is
        closed meanwhile. @waited: ms the caller waited already."""
        if waited == 0:
            if 0 <= ms <= SLICE_MS:
                return call(ms)
            rv = call(SLICE_MS)
            if rv != errors.ETIMEDOUT:
                return rv
            waited = SLICE_MS
        deadline = None if ms < 0 else time.monotonic() + (ms - waited) / 1000.0
        while True:
            if self._closing:
                raise self._closed_error("closed by another thread")
            left = SLICE_MS
            if deadline is not None:
                left = min(SLICE_MS, max(0, math.ceil((deadline - time.monotonic()) * 1000)))
            rv = call(left)
            if rv != errors.ETIMEDOUT or left < SLICE_MS:
                return rv


class _Use:
    __slots__ = ("h",)

    def __init__(self, h):
        self.h = h

    def __enter__(self):
        return self.h.acquire()

    def __exit__(self, *exc):
        self.h.release()


class _Default:
    def __repr__(self):
        return "DEFAULT"


DEFAULT = _Default()  # "not given": the object's own default applies

# Objects whose C threads call back into Python (RPC clients and servers):
# closed before the interpreter finalises, when no callback can run.
_live = weakref.WeakSet()


def close_at_exit(obj):
    _live.add(obj)


@atexit.register
def _close_live():
    for obj in list(_live):
        try:
            obj.close()
        except Exception:
            pass


class Closable:
    """close() (through self._h), closed, with-blocks, close when collected."""

    def close(self):
        self._h.close()

    @property
    def closed(self):
        return self._h.closed

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # half-built, or the interpreter is ending
            pass

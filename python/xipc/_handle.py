"""What every wrapper of a C handle shares: closing it safely while other
threads use it, and timeouts in seconds.

A C handle is freed by its close function; a thread still inside a call
on it would then use freed memory. So every call holds the handle
(``use``), and ``close`` frees it only when no call holds it: at once
when idle, else when the last call returns. Blocking calls whose timeout
may be long wait in slices (``sliced``) and see a close from another
thread at the end of the slice: it ends them with ClosedError.
"""
import atexit
import math
import threading
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
    """A C handle with a count of the calls using it."""

    def __init__(self, ptr, free, what):
        self._ptr = ptr
        self._free = free
        self._what = what
        self._users = 0
        self._closing = False
        self._lock = threading.Lock()

    @property
    def closed(self):
        return self._ptr is None or self._closing

    @property
    def freed(self):
        return self._ptr is None

    def acquire(self):
        """The pointer, counted as in use; ClosedError once closed."""
        with self._lock:
            if self._ptr is None or self._closing:
                raise errors.ClosedError("%s: closed" % self._what,
                                         detail="closed", what=self._what)
            self._users += 1
            return self._ptr

    def release(self):
        with self._lock:
            self._users -= 1
            if not (self._closing and self._users == 0):
                return
            ptr, self._ptr = self._ptr, None
        self._free(ptr)

    def close(self):
        """Free the handle now, or when the last call using it returns.
        @return True when it was freed now."""
        with self._lock:
            if self._ptr is None or self._closing:
                return False
            self._closing = True
            if self._users:
                return False
            ptr, self._ptr = self._ptr, None
        self._free(ptr)
        return True

    def use(self):
        return _Use(self)

    def sliced(self, call, timeout):
        """Run call(ms) until it returns something other than
        XIPC_ETIMEDOUT or the timeout has passed, each wait at most
        SLICE_MS; stop with ClosedError when the handle is being closed.
        Only for calls that do nothing when they time out."""
        if timeout is not None:
            ms = to_ms(timeout)
            if ms <= SLICE_MS:
                return call(ms)
            deadline = time.monotonic() + ms / 1000.0
        while True:
            if timeout is None:
                ms = SLICE_MS
            else:
                ms = min(SLICE_MS, max(0, math.ceil((deadline - time.monotonic()) * 1000)))
            rv = call(ms)
            if rv != errors.ETIMEDOUT or (timeout is not None and ms < SLICE_MS):
                return rv
            if self._closing:
                raise errors.ClosedError("%s: closed by another thread"
                                         % self._what, detail="closed",
                                         what=self._what)


class _Use:
    __slots__ = ("h", "ptr")

    def __init__(self, h):
        self.h = h

    def __enter__(self):
        self.ptr = self.h.acquire()
        return self.ptr

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

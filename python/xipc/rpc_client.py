"""MessagePack-RPC client over the C client (xipc/rpc.h, docs/rpc.md).

Arguments are packed and results unpacked by python-msgpack; the C
client carries them over any channel scheme. Calls from many threads at
once are fine. Asynchronous calls complete concurrent.futures.Future
objects from the C client's receiving thread.
"""
import ctypes
import itertools
import threading
from concurrent.futures import Future
from ctypes import byref, c_void_p

from . import errors
from ._handle import DEFAULT, Closable, Handle, close_at_exit, to_ms
from ._lib import CallbackFn, lib
from ._mp import pack, unpack
from ._opts import SOCK_OPTIONS, encode, fill, u32
from ._structs import ClientOpts, NotifyFn, RpcResult
from .errors import check

_tls = threading.local()  # .client: the client whose callback runs here


class _InCallback:
    """Marks this thread as running a callback of @client."""

    def __init__(self, client):
        self.client = client

    def __enter__(self):
        self.prev = getattr(_tls, "client", None)
        _tls.client = self.client

    def __exit__(self, *exc):
        _tls.client = self.prev


def remote_error(res, what):
    """The RemoteError of an XIPC_EREMOTE result."""
    raw = ctypes.string_at(res.error, res.error_len)
    try:
        obj = unpack(raw)
    except Exception:
        obj = raw
    message = (res.message or b"").decode(errors="replace")
    return errors.RemoteError(
        message, rpc_code=res.code, error=obj, code=errors.EREMOTE,
        what=what, text="%s: remote error %d: %s" % (what, res.code, message))


def outcome(rv, res, what):
    """The value of a call that returned @rv with @res, or its exception."""
    if rv == errors.OK:
        if not res.value_len:
            return None
        return unpack(ctypes.string_at(res.value, res.value_len))
    if rv == errors.EREMOTE:
        raise remote_error(res, what)
    check(rv, what)


def _settle(fut, client, fn, *args):
    if fut.set_running_or_notify_cancel():  # not cancelled meanwhile
        with _InCallback(client):
            fn(*args)


_pending = {}         # userdata key -> (Future, what, client)
_keys = itertools.count(1)


def _async_done(f, key):
    fut, what, client = _pending.pop(key)
    res = RpcResult()
    lib.xipc_rpc_result_init(byref(res))
    try:
        value = outcome(lib.xipc_rpc_future_result(f, byref(res)), res, what)
    except Exception as e:
        _settle(fut, client, fut.set_exception, e)
    else:
        _settle(fut, client, fut.set_result, value)
    finally:
        lib.xipc_rpc_result_fini(byref(res))


_ASYNC_DONE = CallbackFn(_async_done)  # lives as long as the module


class RpcClient(Closable):
    """A connection to a MessagePack-RPC server at url.

    timeout: for the dial. call_timeout: the default of call() and
    notify() (None: wait forever). on_notify(method, params): the
    server's notifications, on the client's receiving thread.
    max_msg, max_depth: the largest and deepest response accepted.
    Other keywords: endpoint options as for xipc.dial (ring_capacity
    for shm://, which must exceed the largest message)."""

    def __init__(self, url, timeout=None, *, call_timeout=None,
                 on_notify=None, max_msg=None, max_depth=None, **options):
        o = ClientOpts()
        lib.xipc_rpc_client_opts_init(byref(o))
        if max_msg is not None:
            o.max_msg = u32("max_msg", max_msg)
        if max_depth is not None:
            o.max_depth = u32("max_depth", max_depth)
        self._call_ms = o.timeout_ms = to_ms(call_timeout)
        fill(o.sock, options, SOCK_OPTIONS)
        self._on_notify = on_notify
        self._notify_fn = None
        if on_notify is not None:
            self._notify_fn = o.on_notify = NotifyFn(self._notified)
        out = c_void_p()
        check(lib.xipc_rpc_client_dial(byref(out), encode(url), byref(o),
                                       to_ms(timeout)),
              "dial %s" % url, detail=True)
        self.url = url
        self._h = Handle(out.value, lib.xipc_rpc_client_close, url)
        close_at_exit(self)

    def _notified(self, c, method, params, n, ud):
        args = unpack(ctypes.string_at(params, n))
        with _InCallback(self):
            self._on_notify(method.decode(errors="replace"), args)

    def _not_in_callback(self, what):
        if getattr(_tls, "client", None) is self:
            raise errors.StateError(
                "%s %s: not from a callback of the same client (it would "
                "wait for itself): use call_async" % (what, self.url),
                code=errors.ESTATE)

    def _ms(self, timeout):
        return self._call_ms if timeout is DEFAULT else to_ms(timeout)

    def call(self, method, *args, timeout=DEFAULT):
        """Call method(*args) and return its result. Raises RemoteError
        when the server answers with an error object, TimeoutError after
        timeout seconds (a late answer is dropped), ClosedError..."""
        self._not_in_callback("call %s:" % method)
        params = pack(list(args))
        res = RpcResult()
        lib.xipc_rpc_result_init(byref(res))
        try:
            with self._h.use() as c:
                rv = lib.xipc_rpc_call(c, encode(method), params, len(params),
                                       byref(res), self._ms(timeout))
            return outcome(rv, res, "call %s" % method)
        finally:
            lib.xipc_rpc_result_fini(byref(res))

    def call_async(self, method, *args):
        """Send the call and return a concurrent.futures.Future of its
        result (or exception). Cancelling the future drops the answer.
        Done-callbacks run on the client's receiving thread: they must not
        make synchronous calls on this client (StateError)."""
        params = pack(list(args))
        fut = Future()
        key = next(_keys)
        _pending[key] = (fut, "call %s" % method, self)
        try:
            with self._h.use() as c:
                rv = lib.xipc_rpc_call_async(c, encode(method), params,
                                             len(params), _ASYNC_DONE, key,
                                             None)
        except BaseException:
            _pending.pop(key, None)
            raise
        if rv != errors.OK:
            _pending.pop(key, None)
            check(rv, "call %s" % method)
        return fut

    def notify(self, method, *args, timeout=DEFAULT):
        """Send a notification: no answer, no error from the server."""
        params = pack(list(args))
        with self._h.use() as c:
            check(lib.xipc_rpc_notify(c, encode(method), params, len(params),
                                      self._ms(timeout)),
                  "notify %s" % method)

    def close(self):
        """Close the connection; calls still waiting end with ClosedError
        (their futures too). Not from a callback of this client."""
        self._not_in_callback("close")
        super().close()

    def __repr__(self):
        return "<RpcClient %s>" % ("closed" if self.closed else self.url)

"""MessagePack-RPC server: Python functions as methods of the C server.

    srv = xipc.RpcServer()

    @srv.method("add")
    def add(a, b):
        return a + b

    srv.serve("shm://calc")      # returns the bound URL at once
    srv.serve_forever()          # or go on with other work

Each method is called through a ctypes callback on one of the C server's
worker threads, with the GIL (handlers of one process run one at a time
in Python). Arguments arrive decoded by msgpack; the return value is
packed as the result. Raising RemoteError answers [rpc_code, message];
arguments that do not fit the function's signature answer
[-32602, "invalid params: ..."]; any other exception answers
[-32603, "TypeName: text"].
"""
import ctypes
import inspect
import threading
import time
import weakref
from ctypes import byref, c_size_t, c_void_p

from . import errors
from ._handle import DEFAULT, Closable, Handle, close_at_exit, to_ms
from ._lib import lib
from ._mp import pack, unpack
from ._opts import SOCK_OPTIONS, encode, fill, u32
from ._structs import HandlerFn, ServerOpts, ServerStats
from .errors import check

EINVALID_PARAMS = -32602  # XIPC_RPC_EINVALID_PARAMS
EINTERNAL = -32603        # XIPC_RPC_EINTERNAL
URL_MAX = 1024
LINK_CLOSE_WAIT = 5.0     # how long close() waits for links in use

_tls = threading.local()  # .handler: this thread runs a handler


class Link(Closable):
    """A hold on a client's connection (Request.link()): send that client
    notifications later, from any thread, until it or the server goes
    (then ClosedError). Close it when done; the server closes the rest."""

    def __init__(self, ptr, server):
        self._h = Handle(ptr, lib.xipc_rpc_link_free, "link")
        server._links.add(self)

    def notify(self, method, *args, timeout=10.0):
        """Send the client the notification method(*args)."""
        params = pack(list(args))
        with self._h.use() as link:
            check(lib.xipc_rpc_link_notify(link, encode(method), params,
                                           len(params), to_ms(timeout)),
                  "link notify %s" % method)



class Request:
    """The call being handled, for methods registered with request=True
    (it comes first, before the arguments). Valid during the handler."""

    def __init__(self, req, server):
        self._req = req
        self._server = server
        self.method = lib.xipc_rpc_req_method(req).decode(errors="replace")
        self.is_notification = bool(lib.xipc_rpc_req_is_notification(req))
        self.peer_pid = lib.xipc_rpc_req_peer_pid(req)

    def link(self):
        """A Link to this request's client."""
        if self._req is None:
            raise errors.StateError("link: the request is over",
                                    code=errors.ESTATE)
        out = c_void_p()
        check(lib.xipc_rpc_req_link(self._req, byref(out)), "link")
        return Link(out.value, self._server)


def _answer_error(req, code, message):
    lib.xipc_rpc_req_error(req, int(code), message.encode(errors="replace"))
    return errors.OK


def _run(req, server, fn, sig, want_request):
    n = c_size_t()
    p = lib.xipc_rpc_req_params_raw(req, byref(n))
    try:
        args = unpack(ctypes.string_at(p, n.value))
    except Exception as e:
        return _answer_error(req, EINVALID_PARAMS, "invalid params: %s" % e)
    r = Request(req, server) if want_request else None
    if r is not None:
        args.insert(0, r)
    if sig is not None:
        try:
            sig.bind(*args)
        except TypeError as e:
            return _answer_error(req, EINVALID_PARAMS, "invalid params: %s" % e)
    try:
        result = fn(*args)
    except errors.RemoteError as e:
        return _answer_error(req, e.rpc_code, e.message)
    except BaseException as e:
        return _answer_error(req, EINTERNAL, "%s: %s" % (type(e).__name__, e))
    finally:
        if r is not None:
            r._req = None
    if lib.xipc_rpc_req_is_notification(req):
        return errors.OK
    try:
        out = pack(result)
    except Exception as e:
        return _answer_error(req, EINTERNAL, "the result is not MessagePack: "
                             "%s: %s" % (type(e).__name__, e))
    return lib.xipc_mp_write_raw(lib.xipc_rpc_req_result(req), out, len(out))


def _handler(server, fn, sig, want_request):
    def handler(req, ud):
        _tls.handler = True
        try:
            return _run(req, server, fn, sig, want_request)
        except BaseException as e:  # never out into C
            return _answer_error(req, EINTERNAL, "%s: %s" % (type(e).__name__, e))
        finally:
            _tls.handler = False
    return HandlerFn(handler)


_SERVER_U32 = ("workers", "max_msg", "max_depth", "max_inflight",
               "max_queued_bytes", "max_conns", "max_conns_per_peer")
_SERVER_MS = {"send_timeout": "send_timeout_ms",
              "first_request_timeout": "first_request_timeout_ms",
              "idle_timeout": "idle_timeout_ms"}


class RpcServer(Closable):
    """A MessagePack-RPC server (xipc_rpc_server). Keywords: workers,
    max_msg, max_depth, max_inflight, max_queued_bytes, max_conns,
    max_conns_per_peer (xipc_rpc_server_opts), send_timeout,
    first_request_timeout, idle_timeout in seconds (None: no limit),
    and endpoint options as for xipc.listen (allow_uid...)."""

    def __init__(self, **options):
        o = ServerOpts()
        lib.xipc_rpc_server_opts_init(byref(o))
        for k in _SERVER_U32:
            if options.get(k) is not None:
                setattr(o, k, u32(k, options.pop(k)))
        for k, field in _SERVER_MS.items():
            v = options.pop(k, DEFAULT)
            if v is not DEFAULT:
                setattr(o, field, to_ms(v))
        fill(o.sock, options, SOCK_OPTIONS)
        out = c_void_p()
        check(lib.xipc_rpc_server_alloc(byref(out), byref(o)), "RpcServer")
        self._methods = {}            # name -> the ctypes callback
        self._urls = []
        self._links = weakref.WeakSet()
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._h = Handle(out.value, self._free, "RpcServer")
        close_at_exit(self)

    # ---- methods
    def register(self, name, fn, *, signature=None, request=False):
        """Serve fn as method name. signature: the text xipc.methods
        reports (default: the function's Python signature). request=True:
        fn gets the Request first."""
        try:
            sig = inspect.signature(fn)
        except (TypeError, ValueError):
            sig = None
        if signature is not None:
            text = signature
        elif sig is None:
            text = ""
        elif request:  # without the Request, which the client does not pass
            params = list(sig.parameters.values())[1:]
            text = str(sig.replace(parameters=params))
        else:
            text = str(sig)
        cb = _handler(self, fn, sig, request)
        with self._h.use() as srv:
            check(lib.xipc_rpc_server_register(srv, encode(name), encode(text),
                                               cb, None),
                  "register %s" % name)
        self._methods[name] = cb
        return fn

    def method(self, name=None, *, signature=None, request=False):
        """Decorator: @srv.method, @srv.method("name"),
        @srv.method("name", request=True)."""
        if callable(name):
            return self.register(name.__name__, name)

        def decorate(fn):
            return self.register(name or fn.__name__, fn,
                                 signature=signature, request=request)
        return decorate

    # ---- serving
    def serve(self, url):
        """Listen at url and serve it from now on (returns at once);
        returns the URL bound (tcp://127.0.0.1:0: the port chosen)."""
        buf = ctypes.create_string_buffer(URL_MAX)
        with self._lock, self._h.use() as srv:
            check(lib.xipc_rpc_server_serve(srv, encode(url)),
                  "serve %s" % url, detail=True)
            check(lib.xipc_rpc_server_url(srv, len(self._urls), buf, URL_MAX),
                  "serve %s" % url)
            bound = buf.value.decode(errors="replace")
            self._urls.append(bound)
        return bound

    @property
    def urls(self):
        """The URLs served, as bound."""
        return list(self._urls)

    def serve_forever(self, *urls):
        """Serve urls (if any) and wait until stop() or close() from
        another thread (or a handler: stop_soon()), or Ctrl-C; then close."""
        try:
            for u in urls:
                self.serve(u)
            while not self._stopped.wait(0.2):
                pass
        finally:
            self.close()

    def stop_soon(self):
        """Make serve_forever return (from anywhere, a handler too)."""
        self._stopped.set()

    def stop(self):
        """Graceful stop: refuse new clients, answer every call received,
        then stop the workers (blocks until done). Not from a handler."""
        if getattr(_tls, "handler", False):
            raise errors.StateError("stop: not from a handler (it would wait "
                                    "for itself): use stop_soon()",
                                    code=errors.ESTATE)
        try:
            with self._h.use() as srv:
                check(lib.xipc_rpc_server_stop(srv), "stop")
        except errors.ClosedError:
            pass
        self._stopped.set()

    def _free(self, srv):
        lib.xipc_rpc_server_stop(srv)
        links = list(self._links)
        for link in links:
            link.close()
        end = time.monotonic() + LINK_CLOSE_WAIT
        while any(not l._h.freed for l in links) and time.monotonic() < end:
            time.sleep(0.001)
        lib.xipc_rpc_server_free(srv)
        self._stopped.set()

    def close(self):
        """stop() and free the server. Not from a handler."""
        if getattr(_tls, "handler", False):
            raise errors.StateError("close: not from a handler: use "
                                    "stop_soon()", code=errors.ESTATE)
        super().close()

    def stats(self):
        """The server's counters (xipc_rpc_server_stats) as a dict."""
        st = ServerStats()
        with self._h.use() as srv:
            check(lib.xipc_rpc_server_stats_get(srv, byref(st)), "stats")
        return {name: getattr(st, name) for name, _ in ServerStats._fields_}

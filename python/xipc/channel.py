"""Channels: listen, dial, accept, send, receive (xipc/xipc.h)."""
import collections
import ctypes
import threading
from ctypes import byref, c_char, c_size_t, c_uint32, c_void_p

from . import errors
from ._handle import SLICE_MS, Closable, Handle, to_ms
from ._lib import lib
from ._opts import encode, sock_opts
from ._structs import Stats as _CStats
from .errors import check

FIRST_BUF = 64 * 1024  # a connection's receive buffer to begin with
SEND_MORE = 1          # XIPC_SEND_MORE

Stats = collections.namedtuple("Stats", "sent received dropped lost refused")


def send_buffer(data):
    """(argument, length) for a C ``const void *`` from a bytes-like
    object: bytes as they are and writable contiguous buffers through
    from_buffer, both without a copy; anything else copied once."""
    if isinstance(data, bytes):
        return data, len(data)
    mv = data if isinstance(data, memoryview) else memoryview(data)
    n = mv.nbytes
    if not mv.readonly and mv.c_contiguous:
        return (c_char * n).from_buffer(mv), n
    return mv.tobytes(), n


class Sock(Closable):
    """A connection (from dial or accept), or any endpoint returned by
    listen. Use one thread to send and one to receive at a time; close()
    from any thread (a call blocked in another thread ends with
    ClosedError within 0.2 s, or when it returns)."""

    def __init__(self, *args, **kwargs):
        raise TypeError("use xipc.dial(), xipc.listen() or Listener.accept()")

    @classmethod
    def _wrap(cls, ptr, what):
        self = cls.__new__(cls)
        self._attach(ptr, what)
        return self

    def _attach(self, ptr, what):
        self._h = Handle(ptr, lib.xipc_close, what)
        self._what = what
        self._view = None
        self._n = c_size_t()  # the receiving thread's length
        self._nref = byref(self._n)
        self._grow(FIRST_BUF)

    # ---- lifetime
    def close(self):
        """Close the endpoint (xipc_close). Idempotent. A view of
        recv_view() still open is released first when this thread took
        it; one open in another thread keeps the endpoint until that
        thread releases it."""
        v = getattr(self, "_view", None)
        if v is not None and v._thread == threading.get_ident():
            try:
                v.release()
            except errors.Error:
                pass
        super().close()

    def __repr__(self):
        state = "closed" if self.closed else self._what
        return "<%s %s>" % (type(self).__name__, state)

    # ---- about the endpoint
    @property
    def url(self):
        """The URL as bound (tcp://HOST:0 listeners: the port chosen)."""
        buf = ctypes.create_string_buffer(512)
        with self._h.use() as s:
            check(lib.xipc_sock_url(s, buf, len(buf)), "url")
        return buf.value.decode(errors="replace")

    def stats(self):
        """The endpoint's counters (xipc_stats) as a Stats tuple."""
        st = _CStats()
        with self._h.use() as s:
            check(lib.xipc_stats_get(s, byref(st)), "stats")
        return Stats(st.sent, st.received, st.dropped, st.lost, st.refused)

    def _u32(self, fn, what):
        v = c_uint32()
        with self._h.use() as s:
            check(fn(s, byref(v)), what)
        return v.value

    @property
    def peer_pid(self):
        """The peer's process id (0 when unknown)."""
        return self._u32(lib.xipc_peer_pid, "peer_pid")

    @property
    def peer_uid(self):
        """The peer's user id; NotSupported where unknown (tcp://)."""
        return self._u32(lib.xipc_peer_uid, "peer_uid")

    def fileno(self):
        """A descriptor for select/poll (NotSupported: shm://, pubsub://)."""
        fd = ctypes.c_ssize_t()
        with self._h.use() as s:
            check(lib.xipc_sock_fd(s, byref(fd)), "fileno")
        return fd.value

    # ---- sending
    def send(self, data, timeout=None, *, more=False, priority=0):
        """Send one message: bytes, bytearray, memoryview or any buffer
        (read without a copy unless read-only or not contiguous).
        more=True: XIPC_SEND_MORE (the stream schemes may hold it until
        a send without it or flush()). priority: mq:// 0..31."""
        if type(data) is bytes:  # the common case, without a call
            p, n = data, len(data)
        else:
            p, n = send_buffer(data)
        ms = -1 if timeout is None else to_ms(timeout)
        h = self._h
        s = h.acquire()
        try:
            if priority:
                rv = lib.xipc_send_prio(s, p, n, priority, ms)
            elif more:
                rv = lib.xipc_send_ex(s, p, n, SEND_MORE, ms)
            else:
                rv = lib.xipc_send(s, p, n, ms)
        finally:
            h.release()
        if rv:
            check(rv, "send %s" % self._what)

    def flush(self, timeout=None):
        """Write out what send(..., more=True) held."""
        with self._h.use() as s:
            check(lib.xipc_flush(s, to_ms(timeout)), "flush %s" % self._what)

    # ---- receiving
    def _no_view(self):
        if self._view is not None:
            raise errors.StateError("%s: release the view of the last "
                                    "message first" % self._what,
                                    code=errors.ESTATE)

    def _failed(self, rv, n, what, cap=None):
        """The exception of a receive that returned @rv with length @n."""
        if rv == errors.EOVERRUN:
            return errors.make_error(rv, "%s %s: lost %d messages"
                                     % (what, self._what, n), lost=n)
        if rv == errors.EMSGSIZE:
            return errors.make_error(rv, "%s %s: a message of %d bytes, room "
                                     "for %d (it stays queued)"
                                     % (what, self._what, n, cap), size=n)
        return errors.make_error(rv, "%s %s" % (what, self._what))

    def recv(self, timeout=None, *, max=None):
        """Receive one message as bytes. max: the largest accepted (a
        larger one raises MessageTooLarge and stays queued); by default
        any size the transport carries (the buffer grows to it).
        pubsub:// subscriber behind the publisher: OverrunError (.lost)."""
        limit = max
        ms = -1 if timeout is None else to_ms(timeout)
        h = self._h
        s = h.acquire()
        try:
            if self._view is not None:
                self._no_view()
            buf, nref = self._buf, self._nref
            cap = self._cap if limit is None or limit > self._cap else limit
            # the first wait inline (the common case), the rest in h.wait
            rv = lib.xipc_recv(s, buf, cap, nref, ms if 0 <= ms <= SLICE_MS else SLICE_MS)
            if rv == errors.ETIMEDOUT and not 0 <= ms <= SLICE_MS:
                rv = h.wait(lambda t: lib.xipc_recv(s, buf, cap, nref, t), ms, SLICE_MS)
            n = self._n.value
            if rv == errors.EMSGSIZE and n > cap and (limit is None or n <= limit):
                self._grow(n)  # then the same message again (same timeout)
                buf, cap = self._buf, self._cap
                rv = h.wait(lambda t: lib.xipc_recv(s, buf, cap, nref, t), ms)
                n = self._n.value
            if rv:
                raise self._failed(rv, n, "recv", cap)
            return self._mv[:n].tobytes()
        finally:
            h.release()

    def _grow(self, need):
        cap = FIRST_BUF
        while cap < need:
            cap *= 2
        self._buf = ctypes.create_string_buffer(cap)
        self._mv = memoryview(self._buf).cast("B")
        self._cap = cap

    def recv_into(self, buffer, timeout=None):
        """Receive one message into a writable buffer (no copy); return
        its length. A message larger than the buffer raises
        MessageTooLarge (.size: its length) and stays queued."""
        mv = buffer if isinstance(buffer, memoryview) else memoryview(buffer)
        cap = mv.nbytes
        dst = (c_char * cap).from_buffer(mv)  # TypeError when read-only
        ms = to_ms(timeout)
        n = c_size_t()
        with self._h.use() as s:
            self._no_view()
            rv = self._h.wait(lambda t: lib.xipc_recv(s, dst, cap, byref(n), t), ms)
        if rv:
            raise self._failed(rv, n.value, "recv_into", cap)
        return n.value

    def recv_view(self, timeout=None):
        """Zero-copy receive (xipc_peek): the next message in place, as a
        Message whose ``view`` is a read-only memoryview, valid until
        Message.release() or the end of its with block: ``with
        s.recv_view() as mv: ...``. shm:// and pubsub://: the shared
        memory itself; pipe://, unix://, tcp://: the library's receive
        buffer; mailslot://, mq://: NotSupported. docs/python.md,
        "Zero-copy"."""
        p = c_void_p()
        n = c_size_t()
        ms = to_ms(timeout)
        s = self._h.acquire()  # released with the message
        try:
            self._no_view()
            rv = self._h.wait(lambda t: lib.xipc_peek(s, byref(p), byref(n), t), ms)
            if rv:
                raise self._failed(rv, n.value, "recv_view")
        except BaseException:
            self._h.release()
            raise
        self._view = Message(self, s, p.value, n.value)
        return self._view


class Message:
    """A message seen in place by Sock.recv_view(). ``view`` (a read-only
    memoryview) is valid until release(): the memory is the ring's, which
    the peer reuses afterwards; copy what you keep (bytes(view[a:b])) and
    keep no slice of it. pubsub://: release() raises OverrunError when
    the publisher overwrote the message meanwhile: throw away what was
    read."""
    __slots__ = ("_sock", "_ptr", "_thread", "view")

    def __init__(self, sock, ptr, addr, n):
        self._sock = sock
        self._ptr = ptr
        self._thread = threading.get_ident()
        arr = (c_char * n).from_address(addr) if n else bytearray()
        self.view = memoryview(arr).cast("B").toreadonly()

    def __len__(self):
        return self.view.nbytes if self._sock is not None else 0

    def release(self):
        """Give the message back (xipc_release). Idempotent."""
        sock, self._sock = self._sock, None
        if sock is None:
            return
        exported = False
        try:
            self.view.release()
        except BufferError:
            exported = True
        rv = lib.xipc_release(self._ptr)
        sock._view = None
        sock._h.release()
        if rv == errors.EOVERRUN:
            raise errors.make_error(rv, "recv_view %s: overwritten while it "
                                    "was read" % sock._what, lost=1)
        check(rv, "release %s" % sock._what)
        if exported:
            raise errors.StateError("recv_view %s: a buffer taken from the "
                                    "view outlived it" % sock._what,
                                    code=errors.ESTATE)

    def __enter__(self):
        return self.view

    def __exit__(self, *exc):
        self.release()

    def __del__(self):
        try:
            self.release()
        except Exception:
            pass


class Listener(Sock):
    """What listen() returns: accept() connections from it (shm://,
    pipe://, unix://, tcp://...); for mailslot:// and mq:// it is the
    receiving end itself: call recv() on it."""

    def accept(self, timeout=None):
        """The next connection, a Sock."""
        out = c_void_p()
        ms = to_ms(timeout)
        with self._h.use() as s:
            rv = self._h.wait(lambda t: lib.xipc_accept(s, byref(out), t), ms)
        # tls+tcp:// accepts clear and set the detail; the others leave it
        check(rv, "accept %s" % self._what, detail=self._what.startswith("tls+"))
        return Sock._wrap(out.value, "connection of %s" % self._what)


def listen(url, **options):
    """Listen at url. Returns a Listener, or a Publisher for pubsub://.
    Options (xipc_opts): ring_capacity, spin_us, max_msg, backlog,
    pub_slots, pub_slot_size, mq_depth, tls_verify, tls_cert, tls_key,
    tls_ca, tls_server_name, allow_uid (a list of user ids)."""
    if str(url).startswith("pubsub://"):
        from .pubsub import Publisher
        return Publisher(url, **options)
    o = sock_opts(**options)
    out = c_void_p()
    check(lib.xipc_listen(byref(out), encode(url), byref(o)),
          "listen %s" % url, detail=True)
    return Listener._wrap(out.value, url)


def dial(url, timeout=None, **options):
    """Connect to the listener at url (timeout: for it to accept, seconds,
    None forever). Returns a Sock, or a Subscriber for pubsub://.
    Options as for listen()."""
    if str(url).startswith("pubsub://"):
        from .pubsub import Subscriber
        return Subscriber(url, timeout, wait=False, **options)
    o = sock_opts(**options)
    out = c_void_p()
    check(lib.xipc_dial(byref(out), encode(url), byref(o), to_ms(timeout)),
          "dial %s" % url, detail=True)
    return Sock._wrap(out.value, url)

"""ctypes mirrors of the C structs this package passes, and their check.

Every mirror with an init function in the C library is checked when the
package is imported (check_layouts): the init function fills a buffer
larger than the mirror that is prefilled with a pattern, and
- the bytes past the mirror's size must be untouched (the C struct is not
  larger),
- the struct's own ``size`` field, where it has one, must equal the
  mirror's size (it is not smaller),
- fields at the end of the struct, behind nested structs and pointers,
  must hold the defaults the headers document (the offsets agree).
A mismatch raises LayoutError, so a package and a library that disagree
never pass a misread struct. xipc_stats and xipc_rpc_server_stats have no
init function: plain uint64_t fields, checked by the tests' counts.
"""
import ctypes
from ctypes import (CFUNCTYPE, Structure, c_char, c_char_p, c_int,
                    c_int64, c_size_t, c_uint32, c_uint64, c_void_p, sizeof)

OPTS_MAGIC = 0x7869706F      # XIPC_OPTS_MAGIC, "xipo"
RPC_OPTS_MAGIC = 0x78697072  # XIPC_RPC_OPTS_MAGIC, "xipr"


class LayoutError(ImportError):
    """A ctypes mirror disagrees with the C library's struct."""


class Opts(Structure):  # xipc_opts (xipc/xipc.h)
    _fields_ = [("magic", c_uint32), ("size", c_uint32),
                ("ring_capacity", c_uint32), ("spin_us", c_uint32),
                ("max_msg", c_uint32), ("backlog", c_uint32),
                ("pub_slots", c_uint32), ("pub_slot_size", c_uint32),
                ("mq_depth", c_uint32), ("tls_verify", c_uint32),
                ("tls_cert", c_char_p), ("tls_key", c_char_p),
                ("tls_ca", c_char_p), ("tls_server_name", c_char_p),
                ("allow_uid", c_uint32 * 8), ("allow_uid_count", c_uint32)]


class Stats(Structure):  # xipc_stats
    _fields_ = [(n, c_uint64) for n in
                ("sent", "received", "dropped", "lost", "refused")]


# xipc_rpc_handler, xipc_rpc_notify_fn
HandlerFn = CFUNCTYPE(c_int, c_void_p, c_void_p)
NotifyFn = CFUNCTYPE(None, c_void_p, c_char_p, c_void_p, c_size_t, c_void_p)


class ServerOpts(Structure):  # xipc_rpc_server_opts (xipc/rpc.h)
    _fields_ = [("magic", c_uint32), ("size", c_uint32),
                ("workers", c_uint32), ("max_msg", c_uint32),
                ("max_depth", c_uint32), ("max_inflight", c_uint32),
                ("max_queued_bytes", c_uint32), ("send_timeout_ms", c_int),
                ("sock", Opts), ("max_conns", c_uint32),
                ("max_conns_per_peer", c_uint32),
                ("first_request_timeout_ms", c_int),
                ("idle_timeout_ms", c_int)]


class ClientOpts(Structure):  # xipc_rpc_client_opts
    _fields_ = [("magic", c_uint32), ("size", c_uint32),
                ("max_msg", c_uint32), ("max_depth", c_uint32),
                ("timeout_ms", c_int), ("on_notify", NotifyFn),
                ("notify_userdata", c_void_p), ("sock", Opts)]


class RpcResult(Structure):  # xipc_rpc_result
    _fields_ = [("value", c_void_p), ("value_len", c_size_t),
                ("error", c_void_p), ("error_len", c_size_t),
                ("code", c_int64), ("message", c_char_p),
                ("priv_", c_void_p)]


class ServerStats(Structure):  # xipc_rpc_server_stats
    _fields_ = [(n, c_uint64) for n in
                ("conns", "accepted", "refused_conns", "refused_calls",
                 "too_large", "too_deep", "malformed", "calls",
                 "refused_peer", "first_request_timeouts", "idle_timeouts")]


_OPTS_DEFAULTS = {"magic": OPTS_MAGIC, "size": sizeof(Opts),
                  "ring_capacity": 1 << 20, "spin_us": 50, "backlog": 64,
                  "pub_slots": 4096, "pub_slot_size": 2048, "mq_depth": 10,
                  "tls_verify": 1, "tls_cert": None, "tls_server_name": None,
                  "allow_uid_count": 0}
_PAD = 64   # bytes past the mirror that must stay untouched
_FILL = 0xA5


def _field(obj, dotted):
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def check_layout(lib, path, cls, init, expect):
    """Run the C init function @init on a pattern-filled buffer and check
    that it wrote exactly the mirror @cls's bytes, with the values
    @expect ({"field" or "nested.field": value})."""
    n = sizeof(cls)
    raw = (c_char * (n + _PAD)).from_buffer(bytearray([_FILL]) * (n + _PAD))
    init(ctypes.cast(raw, init.argtypes[0]))
    what = "%s: %s" % (path, init.__name__)
    if raw.raw[n:] != bytes([_FILL]) * _PAD:
        raise LayoutError("xipc: %s wrote past %d bytes, the size of this "
                          "package's %s: the library's struct is larger"
                          % (what, n, cls.__name__), name="xipc")
    obj = cls.from_buffer(raw)
    for field, want in expect.items():
        got = _field(obj, field)
        if got != want:
            raise LayoutError("xipc: %s: %s is %r, expected %r: this "
                              "package's %s does not match the library's "
                              "struct" % (what, field, got, want,
                                          cls.__name__), name="xipc")


def check_layouts(lib, path):
    check_layout(lib, path, Opts, lib.xipc_opts_init, _OPTS_DEFAULTS)
    nested = {"sock." + k: v for k, v in _OPTS_DEFAULTS.items()}
    check_layout(lib, path, ServerOpts, lib.xipc_rpc_server_opts_init,
                 dict(nested, magic=RPC_OPTS_MAGIC, size=sizeof(ServerOpts),
                      max_depth=64, max_inflight=1024,
                      send_timeout_ms=10000, max_conns=4096,
                      max_conns_per_peer=1024,
                      first_request_timeout_ms=10000,
                      idle_timeout_ms=300000))
    check_layout(lib, path, ClientOpts, lib.xipc_rpc_client_opts_init,
                 dict(nested, magic=RPC_OPTS_MAGIC, size=sizeof(ClientOpts),
                      max_msg=16 << 20, max_depth=64, timeout_ms=-1,
                      notify_userdata=None))
    # xipc_rpc_result_init zeroes everything but message, which is "": a
    # message at another offset reads NULL, and leaves a non-zero field.
    check_layout(lib, path, RpcResult, lib.xipc_rpc_result_init,
                 {"value": None, "value_len": 0, "error": None,
                  "error_len": 0, "code": 0, "message": b"", "priv_": None})

"""Exceptions: one class per xipc_err code, all under xipc.Error.

Each carries ``code`` (the xipc_err number), ``name`` ("ETIMEDOUT"),
``strerror`` (the library's sentence) and ``detail`` (xipc_last_detail():
why a listen, dial or accept failed, "" when the library says nothing
more). Where a builtin exception means the same, the class derives from it
too: ``except TimeoutError`` catches xipc.TimeoutError.
"""
import builtins

from ._lib import lib

OK = 0
EINVAL, ENOMEM, ETIMEDOUT, ECLOSED, EMSGSIZE, EPROTO = 1, 2, 3, 4, 5, 6
EPERM, EADDRINUSE, ECONNREFUSED, ENOTSUP, ESTATE, ESYS = 7, 8, 9, 10, 11, 12
EBUSY, EOVERRUN, ENOENT, EINTR, EREMOTE, ETLS = 13, 14, 15, 16, 17, 18


def strerror(code):
    """The library's sentence for an xipc_err code ("timed out")."""
    return lib.xipc_strerror(int(code)).decode()


def err_name(code):
    """The code's name without prefix ("ETIMEDOUT"; "EUNKNOWN")."""
    return lib.xipc_err_name(int(code)).decode()


class Error(Exception):
    """An xipc call failed. str(e) is "WHAT: STRERROR[: DETAIL]"."""
    code = None

    def __init__(self, message="", *, code=None, detail="", what=""):
        super().__init__(message)
        if code is not None:
            self.code = code
        self.name = err_name(self.code) if self.code is not None else ""
        self.strerror = strerror(self.code) if self.code is not None else ""
        self.detail = detail
        self.what = what


class InvalidArgument(Error, ValueError):
    code = EINVAL


class OutOfMemory(Error):
    code = ENOMEM


class TimeoutError(Error, builtins.TimeoutError):
    code = ETIMEDOUT


class ClosedError(Error, builtins.ConnectionError):
    """The peer closed or died; also any use of an endpoint closed here."""
    code = ECLOSED


class MessageTooLarge(Error):
    code = EMSGSIZE


class ProtocolError(Error):
    code = EPROTO


class PermissionError(Error, builtins.PermissionError):
    code = EPERM


class AddressInUse(Error):
    code = EADDRINUSE


class ConnectionRefusedError(Error, builtins.ConnectionRefusedError):
    code = ECONNREFUSED


class NotSupported(Error):
    code = ENOTSUP


class StateError(Error):
    code = ESTATE


class SystemCallError(Error):
    """ESYS; ``errno`` is the system error behind it (xipc_last_syserr)."""
    code = ESYS


class Busy(Error):
    code = EBUSY


class OverrunError(Error):
    """A pubsub:// subscriber fell behind: ``lost`` messages were lost
    (or a zero-copy view was overwritten while it was read: lost is 1)."""
    code = EOVERRUN
    lost = 0


class NotFound(Error):
    code = ENOENT


class Interrupted(Error, builtins.InterruptedError):
    code = EINTR


class RemoteError(Error):
    """EREMOTE: the RPC server answered with an error object.

    ``rpc_code`` and ``message`` are the object's [code, message] (code 0
    and the text for a bare string from another implementation), ``error``
    the whole object decoded. A handler raises one to answer with its own
    [rpc_code, message]: ``raise xipc.RemoteError("no such user",
    rpc_code=404)``."""
    code = EREMOTE

    def __init__(self, message="", *, rpc_code=1, error=None, text=None,
                 **kw):
        self.message = message
        self.rpc_code = rpc_code
        self.error = error if error is not None else [rpc_code, message]
        super().__init__(message if text is None else text, **kw)


class TLSError(Error):
    code = ETLS


_BY_CODE = {c.code: c for c in (
    InvalidArgument, OutOfMemory, TimeoutError, ClosedError, MessageTooLarge,
    ProtocolError, PermissionError, AddressInUse, ConnectionRefusedError,
    NotSupported, StateError, SystemCallError, Busy, OverrunError, NotFound,
    Interrupted, RemoteError, TLSError)}


def error_class(code):
    """The exception class of an xipc_err code (Error for one this package
    does not know: a newer library)."""
    return _BY_CODE.get(code, Error)


def make_error(code, what="", detail="", **attrs):
    """The exception for @code after the call described by @what."""
    text = strerror(code)
    msg = "%s: %s" % (what, text) if what else text
    if detail:
        msg += ": " + detail
    if code == ESYS:
        attrs.setdefault("errno", lib.xipc_last_syserr())
        msg += " (errno %d)" % attrs["errno"]
    e = error_class(code)(msg, code=code, detail=detail, what=what)
    for k, v in attrs.items():
        setattr(e, k, v)
    return e


def check(rv, what="", detail=False, **attrs):
    """Raise the exception of @rv unless it is XIPC_OK. @detail: read
    xipc_last_detail() (listen, dial and a tls+tcp:// accept clear it when
    they start; other calls may leave an older text there)."""
    if rv != OK:
        d = lib.xipc_last_detail().decode(errors="replace") if detail or rv == ETLS else ""
        raise make_error(rv, what, d, **attrs)

"""Keyword options to the C option structs (xipc_opts and its neighbours)."""
import ctypes
import os

from . import errors
from ._lib import lib
from ._structs import Opts

_U32 = ("ring_capacity", "spin_us", "max_msg", "backlog", "pub_slots",
        "pub_slot_size", "mq_depth")
_STR = ("tls_cert", "tls_key", "tls_ca", "tls_server_name")
SOCK_OPTIONS = _U32 + _STR + ("tls_verify", "allow_uid")


def encode(text):
    """A URL, name or path as the C library takes it."""
    return os.fsencode(text) if not isinstance(text, bytes) else text


def u32(name, value):
    v = int(value)
    if not 0 <= v <= 0xFFFFFFFF:
        raise errors.InvalidArgument("option %s=%r: out of range" % (name, value),
                                     code=errors.EINVAL)
    return v


def fill(struct, options, names):
    """Set @options ({name: value}) on ctypes @struct; every name must be
    in @names (TypeError otherwise, as for an unknown keyword)."""
    for k, v in options.items():
        if k not in names:
            raise TypeError("unknown option %r (known: %s)"
                            % (k, ", ".join(sorted(names))))
        if k in _STR:
            setattr(struct, k, None if v is None else encode(v))
        elif k == "tls_verify":
            struct.tls_verify = 1 if v else 0
        elif k == "allow_uid":
            uids = [u32(k, u) for u in v]
            if len(uids) > len(struct.allow_uid):
                raise errors.InvalidArgument("allow_uid: at most %d users"
                                             % len(struct.allow_uid),
                                             code=errors.EINVAL)
            for i, u in enumerate(uids):
                struct.allow_uid[i] = u
            struct.allow_uid_count = len(uids)
        else:
            setattr(struct, k, u32(k, v))


def sock_opts(**options):
    """An xipc_opts filled by xipc_opts_init, then with @options."""
    o = Opts()
    lib.xipc_opts_init(ctypes.byref(o))
    fill(o, options, SOCK_OPTIONS)
    return o

"""Finding and loading libxipc, and the C functions this package calls.

The library is looked for, in order:

1. ``$XIPC_LIBRARY``, a path: when set, only that file is tried;
2. ``ctypes.util.find_library("xipc")``, then the standard names
   ``libxipc.so.0`` and ``libxipc.so`` (the dynamic loader's search:
   an installed library, ``LD_LIBRARY_PATH``);
3. the in-tree build, ``build/native/libxipc.so`` two folders above this
   package.

The ImportError raised when none loads lists every attempt and its reason.
"""
import ctypes
import ctypes.util
import os

from ._structs import (ClientOpts, HandlerFn, Opts, RpcResult,
                       ServerOpts, ServerStats, Stats, check_layouts)

IN_TREE = os.path.normpath(os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "native",
    "libxipc.so"))


def _candidates():
    """[(how, path or None when not found)] in the order tried."""
    env = os.environ.get("XIPC_LIBRARY")
    if env:
        return [("$XIPC_LIBRARY (set: nothing else is tried)", env)]
    return [("ctypes.util.find_library('xipc')", ctypes.util.find_library("xipc")),
            ("the standard name", "libxipc.so.0"),
            ("the standard name", "libxipc.so"),
            ("the in-tree build", IN_TREE)]


def _load():
    tried = []
    for how, path in _candidates():
        if path is None:
            tried.append("%s: not found" % how)
            continue
        try:
            return ctypes.CDLL(path), path
        except OSError as e:
            tried.append("%s: %s" % (how, e))
    raise ImportError(
        "xipc: cannot load the xipc C library (libxipc.so); tried:\n  "
        + "\n  ".join(tried)
        + "\nBuild it (cmake --build build/native) or set XIPC_LIBRARY to "
        "the path of libxipc.so.", name="xipc")


P = ctypes.c_void_p
PP = ctypes.POINTER(ctypes.c_void_p)
I = ctypes.c_int
U = ctypes.c_uint
SZ = ctypes.c_size_t
PSZ = ctypes.POINTER(ctypes.c_size_t)
S = ctypes.c_char_p
U32 = ctypes.c_uint32
PU32 = ctypes.POINTER(ctypes.c_uint32)
CallbackFn = ctypes.CFUNCTYPE(None, P, P)  # xipc_rpc_callback

# name: (result type, argument types); xipc_err is an int.
_PROTOS = {
    "xipc_strerror": (S, [I]),
    "xipc_err_name": (S, [I]),
    "xipc_last_syserr": (I, []),
    "xipc_last_detail": (S, []),
    "xipc_opts_init": (I, [ctypes.POINTER(Opts)]),
    "xipc_listen": (I, [PP, S, ctypes.POINTER(Opts)]),
    "xipc_dial": (I, [PP, S, ctypes.POINTER(Opts), I]),
    "xipc_accept": (I, [P, PP, I]),
    "xipc_send": (I, [P, P, SZ, I]),
    "xipc_send_ex": (I, [P, P, SZ, U, I]),
    "xipc_send_prio": (I, [P, P, SZ, U, I]),
    "xipc_flush": (I, [P, I]),
    "xipc_recv": (I, [P, P, SZ, PSZ, I]),
    "xipc_peek": (I, [P, PP, PSZ, I]),
    "xipc_release": (I, [P]),
    "xipc_stats_get": (I, [P, ctypes.POINTER(Stats)]),
    "xipc_sock_fd": (I, [P, ctypes.POINTER(ctypes.c_ssize_t)]),
    "xipc_sock_url": (I, [P, P, SZ]),
    "xipc_peer_uid": (I, [P, PU32]),
    "xipc_peer_pid": (I, [P, PU32]),
    "xipc_close": (None, [P]),
    # MessagePack-RPC (xipc/rpc.h)
    "xipc_rpc_server_opts_init": (I, [ctypes.POINTER(ServerOpts)]),
    "xipc_rpc_server_alloc": (I, [PP, ctypes.POINTER(ServerOpts)]),
    "xipc_rpc_server_register": (I, [P, S, S, HandlerFn, P]),
    "xipc_rpc_server_serve": (I, [P, S]),
    "xipc_rpc_server_url": (I, [P, U, P, SZ]),
    "xipc_rpc_server_stop": (I, [P]),
    "xipc_rpc_server_free": (None, [P]),
    "xipc_rpc_server_stats_get": (I, [P, ctypes.POINTER(ServerStats)]),
    "xipc_rpc_req_method": (S, [P]),
    "xipc_rpc_req_is_notification": (ctypes.c_bool, [P]),
    "xipc_rpc_req_peer_pid": (U32, [P]),
    "xipc_rpc_req_params_raw": (P, [P, PSZ]),
    "xipc_rpc_req_result": (P, [P]),
    "xipc_rpc_req_error": (I, [P, ctypes.c_int64, S]),
    "xipc_rpc_req_link": (I, [P, PP]),
    "xipc_rpc_link_notify": (I, [P, S, P, SZ, I]),
    "xipc_rpc_link_free": (None, [P]),
    "xipc_mp_write_raw": (I, [P, P, SZ]),
    "xipc_rpc_client_opts_init": (I, [ctypes.POINTER(ClientOpts)]),
    "xipc_rpc_client_dial": (I, [PP, S, ctypes.POINTER(ClientOpts), I]),
    "xipc_rpc_client_close": (None, [P]),
    "xipc_rpc_result_init": (None, [ctypes.POINTER(RpcResult)]),
    "xipc_rpc_result_fini": (None, [ctypes.POINTER(RpcResult)]),
    "xipc_rpc_call": (I, [P, S, P, SZ, ctypes.POINTER(RpcResult), I]),
    "xipc_rpc_call_async": (I, [P, S, P, SZ, CallbackFn, P, PP]),
    "xipc_rpc_future_result": (I, [P, ctypes.POINTER(RpcResult)]),
    "xipc_rpc_notify": (I, [P, S, P, SZ, I]),
}


def _declare(lib, path):
    missing = []
    for name, (res, args) in _PROTOS.items():
        try:
            fn = getattr(lib, name)
        except AttributeError:
            missing.append(name)
            continue
        fn.restype = res
        fn.argtypes = args
    if missing:
        raise ImportError("xipc: %s lacks %s: a library older than this package"
                          % (path, ", ".join(missing)), name="xipc")


lib, path = _load()
_declare(lib, path)
check_layouts(lib, path)

"""xipc for Python: ctypes over libxipc, no compiler needed.

    import xipc
    with xipc.listen("shm://demo") as l, xipc.dial("shm://demo", 1) as c:
        s = l.accept(1)
        c.send(b"hi")
        print(s.recv(1))                   # b'hi'

Channels (listen, dial, Listener, Sock), publish/subscribe (Publisher,
Subscriber), MessagePack-RPC (RpcClient, RpcServer; needs msgpack) and
the exceptions (Error and one subclass per xipc_err code). Timeouts are
in seconds, None waits forever. docs/python.md is the manual.
"""
from ._lib import path as library_path
from ._structs import LayoutError
from .channel import Listener, Message, Sock, Stats, dial, listen
from .errors import (AddressInUse, Busy, ClosedError, ConnectionRefusedError,
                     Error, Interrupted, InvalidArgument, MessageTooLarge,
                     NotFound, NotSupported, OutOfMemory, OverrunError,
                     PermissionError, ProtocolError, RemoteError, StateError,
                     SystemCallError, TimeoutError, TLSError, error_class,
                     strerror)
from .pubsub import Publisher, Subscriber
from .rpc_client import RpcClient
from .rpc_server import Link, Request, RpcServer

__version__ = "0.1.0"

__all__ = [
    "listen", "dial", "Listener", "Sock", "Message", "Stats",
    "Publisher", "Subscriber", "RpcClient", "RpcServer", "Request", "Link",
    "strerror", "error_class", "library_path", "LayoutError",
    "Error", "InvalidArgument", "OutOfMemory", "TimeoutError", "ClosedError",
    "MessageTooLarge", "ProtocolError", "PermissionError", "AddressInUse",
    "ConnectionRefusedError", "NotSupported", "StateError",
    "SystemCallError", "Busy", "OverrunError", "NotFound", "Interrupted",
    "RemoteError", "TLSError",
]

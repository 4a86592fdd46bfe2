"""Publish/subscribe over pubsub://NAME (docs/pubsub.md).

One Publisher per NAME, any number of Subscribers. The publisher never
waits; a subscriber that falls a whole ring behind loses the oldest
messages: recv() raises OverrunError with ``lost``, the next recv()
continues with the oldest message left, and ``Subscriber.lost`` counts
them all (xipc_stats' lost).
"""
import time
from ctypes import byref, c_void_p

from . import errors
from ._handle import to_ms
from ._lib import lib
from ._opts import encode, sock_opts
from .channel import Sock
from .errors import check

WAIT_NAP = 0.01  # between a waiting subscriber's attempts


def _pub_options(slots, slot_size, options):
    if slots is not None:
        options["pub_slots"] = slots
    if slot_size is not None:
        options["pub_slot_size"] = slot_size
    return options


class Publisher(Sock):
    """The publisher of pubsub://NAME: send() never waits (its timeout is
    ignored). slots: messages the ring holds (power of two, default
    4096); slot_size: bytes per slot including 16 of header (multiple of
    64, default 2048): the largest message is slot_size - 16."""

    def __init__(self, url, *, slots=None, slot_size=None, **options):
        o = sock_opts(**_pub_options(slots, slot_size, options))
        out = c_void_p()
        check(lib.xipc_listen(byref(out), encode(url), byref(o)),
              "publish at %s" % url, detail=True)
        self._attach(out.value, url)


class Subscriber(Sock):
    """A subscriber of pubsub://NAME; it sees the messages published after
    it attached. wait=True: wait up to timeout (None: forever) for the
    publisher to appear, as ``xipc sub`` does; wait=False: refused at once
    without one (xipc_dial). Iterating gives the messages until the
    publisher closes, skipping over losses (counted in ``lost``)."""

    def __init__(self, url, timeout=None, *, wait=True, **options):
        o = sock_opts(**options)
        out = c_void_p()
        deadline = None if timeout is None else time.monotonic() + to_ms(timeout) / 1000.0
        while True:
            rv = lib.xipc_dial(byref(out), encode(url), byref(o), to_ms(timeout))
            if rv != errors.ECONNREFUSED or not wait:
                break
            if deadline is not None and time.monotonic() >= deadline:
                rv = errors.ETIMEDOUT
                break
            time.sleep(WAIT_NAP)
        check(rv, "subscribe to %s" % url, detail=True)
        self._attach(out.value, url)

    @property
    def lost(self):
        """Messages lost so far (overwritten before this subscriber read
        them), xipc_stats' lost."""
        return self.stats().lost

    def __iter__(self):
        while True:
            try:
                yield self.recv()
            except errors.OverrunError:
                continue
            except errors.ClosedError:
                return


__all__ = ["Publisher", "Subscriber"]

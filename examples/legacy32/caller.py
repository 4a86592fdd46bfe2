#!/usr/bin/python3
"""A 64-bit Python program using the 32-bit libvendor through `xipc host`
(docs/host.md): the standard socket module and stock python3-msgpack,
MessagePack-RPC over unix:// (shm:// is xipc's own).

usage: caller.py unix:///PATH BITS      exit 0 when every answer is right
"""
import errno
import random
import socket
import sys

import msgpack

URL, BITS = sys.argv[1], int(sys.argv[2])
fails = 0


class Host:
    def __init__(self, url):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(120)
        self.s.connect(url[len("unix://"):].replace("@", "\0", 1))
        self.u = msgpack.Unpacker(raw=False)
        self.msgid = 0

    def call(self, method, *params):
        """(error, result) of one call"""
        self.msgid += 1
        self.s.sendall(msgpack.packb([0, self.msgid, method, list(params)]))
        while True:
            for msg in self.u:
                assert msg[0] == 1 and msg[1] == self.msgid, msg
                return msg[2], msg[3]
            data = self.s.recv(65536)
            if not data:
                raise EOFError("the host closed the connection")
            self.u.feed(data)


def check(what, got, want):
    global fails
    ok = got == want
    fails += not ok
    print("ok  " if ok else "FAIL", what, "->", got, "" if ok else "(want %r)" % (want,))


h = Host(URL)
check("vendor_bits()", h.call("vendor_bits"), (None, BITS))
check("vendor_add(2, 40)", h.call("vendor_add", 2, 40), (None, 42))
check("vendor_greet('python')", h.call("vendor_greet", "python"), (None, "hello, python"))
check("vendor_fill(4)", h.call("vendor_fill", 4), (None, [4, b"\x00\x01\x02\x03"]))
check("vendor_upper(b'xy')", h.call("vendor_upper", b"xy"), (None, [ord("X") + ord("Y"), b"XY"]))
check("vendor_mid", h.call("vendor_mid", {"x": -4, "y": 2}, {"y": 8, "x": 4}),
      (None, {"x": 0, "y": 5}))
check("vendor_info()", h.call("vendor_info"),
      (None, [None, {"major": 3, "serial": 1234567890123, "ratio": 0.5}]))
check("vendor_introduce", h.call("vendor_introduce", {"name": "Bob", "age": 7}),
      (None, "Bob is 7"))
check("vendor_introduce, name nil", h.call("vendor_introduce", {"age": 1, "name": None}),
      (None, "nobody is 1"))
check("vendor_boss()", h.call("vendor_boss"), (None, [None, {"name": "Ada", "age": 36}]))
err, _ = h.call("vendor_introduce", {"name": 5, "age": 1})
check("vendor_introduce with a number for a name refused", err[0] if err else None, -32602)
check("vendor_div(9, 3)", h.call("vendor_div", 9, 3), (None, [3, 0]))
check("vendor_div(9, 0)", h.call("vendor_div", 9, 0), (None, [0, errno.EDOM]))
check("vendor_len(None)", h.call("vendor_len", None), (None, -1))
check("vendor_len('four')", h.call("vendor_len", "four"), (None, 4))
# every wrong argument is refused by the host, which lives on
for params in [(1,), (1, 2, 3), ("1", 2), (2**31, 0), (1.5, 2), (None, 1)]:
    err, res = h.call("vendor_add", *params)
    check("vendor_add%r refused" % (params,), (err[0] if err else None, res), (-32602, None))
err, _ = h.call("vendor_greet", "a\0b")
check("vendor_greet('a\\0b') refused", err[0] if err else None, -32602)
err, _ = h.call("vendor_fill", 2**24 + 1)
check("vendor_fill(16 MiB + 1) refused", err[0] if err else None, -32602)
err, _ = h.call("vendor_upper", b"x" * 65536)
check("vendor_upper(64 KiB) refused: uint16 length", err[0] if err else None, -32602)
err, _ = h.call("vendor_mid", {"x": 1}, {"x": 1, "y": 2})
check("vendor_mid with a missing field refused", err[0] if err else None, -32602)
err, _ = h.call("vendor_mid", {"x": 1, "z": 2}, {"x": 1, "y": 2})
check("vendor_mid with an unknown field refused", err[0] if err else None, -32602)
# random arguments of random types to every function but vendor_crash:
# each is answered (a result or an invalid-params error), none kills the host
rnd = random.Random(14)
values = [None, True, 0, -1, 255, 65536, 2**31, -2**31 - 1, 2**63, -2**63, 2**64 - 1, 1.5,
          -1e300, float("inf"), "", "text", "a\0b", b"", b"bytes", [], [1, "x"], {},
          {"x": 1, "y": 2}, {"x": "1", "y": 2}, {"major": 1, "serial": 2, "ratio": 3},
          {1: 2, "x": 3}, {"x": [1], "y": {}}, {"name": "n", "age": 3}, {"name": None, "age": 0}]
methods = ["vendor_add", "vendor_bits", "vendor_greet", "vendor_fill", "vendor_upper",
           "vendor_mid", "vendor_info", "vendor_div", "vendor_len", "vendor_introduce",
           "vendor_boss"]
answered = 0
for i in range(400):
    m = rnd.choice(methods)
    params = [rnd.choice(values) for _ in range(rnd.randrange(4))]
    err, res = h.call(m, *params)
    answered += err is None or (isinstance(err, list) and err[0] == -32602)
check("400 random calls, each answered by a result or an invalid-params error", answered, 400)
check("after all that, vendor_add(1, 1)", h.call("vendor_add", 1, 1), (None, 2))
print("caller.py:", "FAILED" if fails else "all ok")
sys.exit(1 if fails else 0)

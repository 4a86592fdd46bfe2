#!/usr/bin/python3
"""MessagePack-RPC interoperability between xipc and a peer with no xipc
code: Python's standard socket module plus python3-msgpack.

1. A Python client calls an xipc server (tests/rpc_peer serve) over tcp://
   and unix://: single calls; 60 requests pipelined in one write before
   any response is read, one of them held until a notification opens its
   gate (so the others must be answered around it, by msgid); a request
   cut into one-byte writes; notifications; the error objects for an
   unknown method and wrong arguments; the built-in xipc.methods.
2. An xipc client (tests/rpc_peer call) calls a Python MessagePack-RPC
   server started here, over tcp:// and unix://: calls, every format
   letter, out-of-order responses, notifications both ways, string and
   [code, message] errors.

usage: rpc_py_test.py RUN32 RPC_PEER
RUN32 is scripts/run32, which starts RPC_PEER (32-bit in the m32 suite:
under qemu-i386 where the kernel cannot run 32-bit programs).
"""
import os
import socket
import subprocess
import sys
import tempfile
import threading

import msgpack

RUN32, PEER_EXE = sys.argv[1], sys.argv[2]
PEER = [RUN32, PEER_EXE]
failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", what, file=sys.stderr)


class Conn:
    """A MessagePack-RPC client connection: bare values on a socket."""

    def __init__(self, url):
        if url.startswith("tcp://"):
            host, port = url[6:].rsplit(":", 1)
            self.s = socket.create_connection((host, int(port)), timeout=60)
        else:
            self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.s.settimeout(60)
            self.s.connect(url[7:])
        self.u = msgpack.Unpacker(raw=False)

    def send(self, obj):
        self.s.sendall(msgpack.packb(obj))

    def read(self):
        while True:
            for msg in self.u:
                return msg
            data = self.s.recv(65536)
            if not data:
                raise EOFError("server closed")
            self.u.feed(data)

    def call(self, msgid, method, params):
        self.send([0, msgid, method, params])
        msg = self.read()
        check(msg[0] == 1 and msg[1] == msgid, "response envelope %r" % (msg,))
        return msg[2], msg[3]


def client_against_xipc(url, gate):
    c = Conn(url)
    # a call
    err, res = c.call(1, "add", [2, 3])
    check(err is None and res == 5, "add -> %r %r" % (err, res))
    err, res = c.call(2, "add", [2**62, 2**62 - 1])
    check(err is None and res == 2**63 - 1, "add big -> %r" % res)
    # every type through echo, unchanged
    vals = [None, True, False, -2**63, 2**64 - 1, 1.5, -0.0, "ünïcode", b"\x00\xff" * 100,
            [1, [2, [3]]], {"k": {"n": [None]}}, msgpack.ExtType(5, b"xyz")]
    err, res = c.call(3, "echo", vals)
    check(err is None and res == vals, "echo -> %r" % (res,))
    # errors: [code, message]
    err, res = c.call(4, "no_such", [])
    check(isinstance(err, list) and err[0] == -32601 and res is None,
          "unknown method -> %r" % (err,))
    check(err[1] == "method not found: no_such", "unknown method text %r" % (err,))
    err, res = c.call(5, "add", [1])
    check(isinstance(err, list) and err[0] == -32602, "wrong argc -> %r" % (err,))
    err, res = c.call(6, "add", ["x", 1])
    check(isinstance(err, list) and err[0] == -32602, "wrong type -> %r" % (err,))
    err, res = c.call(7, "fail", [])
    check(err == [7, "failed"], "handler error -> %r" % (err,))
    # reflection
    err, res = c.call(8, "xipc.methods", [])
    names = dict((m[0], m[1]) for m in res)
    check(names.get("add") == "(int a, int b) -> int", "xipc.methods -> %r" % (res,))
    check("xipc.methods" in names and "echo" in names, "xipc.methods lists all")

    # pipelining: 60 requests in one write before reading anything; the
    # first waits for a gate that only a later notification opens
    batch = msgpack.packb([0, 100, "wait_gate", [gate]])
    for i in range(1, 60):
        batch += msgpack.packb([0, 100 + i, "add", [i, 1000]])
    c.s.sendall(batch)
    got = {}
    for _ in range(59):
        msg = c.read()
        check(msg[0] == 1 and msg[2] is None, "pipelined response %r" % (msg,))
        got[msg[1]] = msg[3]
    check(100 not in got, "the gated call was not answered before its gate opened")
    check(all(got.get(100 + i) == i + 1000 for i in range(1, 60)),
          "pipelined results matched by msgid")
    c.send([2, "open_gate", [gate]])
    msg = c.read()
    check(msg == [1, 100, None, "opened"], "gated call -> %r" % (msg,))

    # a request cut into one-byte writes
    for b in msgpack.packb([0, 200, "add", [20, 22]]):
        c.s.sendall(bytes([b]))
    msg = c.read()
    check(msg == [1, 200, None, 42], "bytewise request -> %r" % (msg,))

    # notifications: no response; the handler sees them
    err, before = c.call(300, "notes", [])
    c.s.sendall(b"".join(msgpack.packb([2, "note", [i]]) for i in range(25)))
    after, msgid = before, 301
    while after < before + 25:  # the workers run them in parallel
        err, after = c.call(msgid, "notes", [])
        msgid += 1
    check(after == before + 25, "notifications counted %r -> %r" % (before, after))
    c.s.close()


class PyServer:
    """A MessagePack-RPC server: a thread per connection reads; each
    request runs on its own thread, so responses leave as they finish;
    notifications run inline, in order."""

    def __init__(self, family, addr):
        self.ls = socket.socket(family, socket.SOCK_STREAM)
        if family == socket.AF_INET:
            self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(addr)
        self.ls.listen(8)
        self.notes = 0
        self.gate = threading.Event()
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def accept_loop(self):
        while True:
            try:
                s, _ = self.ls.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(s,), daemon=True).start()

    def serve(self, s):
        lock = threading.Lock()
        u = msgpack.Unpacker(raw=False)

        def send(obj):
            with lock:
                s.sendall(msgpack.packb(obj))

        def run(msgid, method, params):
            err, res = None, None
            if method == "add":
                res = params[0] + params[1]
            elif method == "echo":
                res = params
            elif method == "wait_gate":
                res = "opened" if self.gate.wait(30) else "timeout"
            elif method == "notes":
                res = self.notes
            elif method == "notify_me":
                send([2, "event", [params[0]]])
                res = True
            elif method == "fail":
                err = "boom"
            elif method == "fail2":
                err = [42, "custom"]
            else:
                err = "method not found"
            send([1, msgid, err, res])

        while True:
            data = s.recv(65536)
            if not data:
                return
            u.feed(data)
            for msg in u:
                if msg[0] == 0:
                    if msg[2] == "notes":  # after the notifications before it
                        run(msg[1], msg[2], msg[3])
                    else:
                        threading.Thread(target=run, args=(msg[1], msg[2], msg[3]),
                                         daemon=True).start()
                elif msg[0] == 2:
                    if msg[1] == "note":
                        self.notes += 1
                    elif msg[1] == "open_gate":
                        self.gate.set()


def main():
    tmp = tempfile.mkdtemp(prefix="xipc-rpcpy-")
    sock_path = os.path.join(tmp, "srv.sock")

    # 1. Python client -> xipc server
    srv = subprocess.Popen(PEER + ["serve", "tcp://127.0.0.1:0", "unix://" + sock_path],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    urls = []
    for line in srv.stdout:
        line = line.strip()
        if line.startswith("url "):
            urls.append(line[4:])
        if line == "ready":
            break
    check(len(urls) == 2, "server urls %r" % urls)
    for gate, url in enumerate(urls):
        client_against_xipc(url, gate)
        print("python client -> xipc server over", url.split(":")[0], "done")
    srv.stdin.close()
    check(srv.wait(60) == 0, "xipc server exit status")

    # 2. xipc client -> Python server
    tcp = PyServer(socket.AF_INET, ("127.0.0.1", 0))
    py_sock = os.path.join(tmp, "py.sock")
    unx = PyServer(socket.AF_UNIX, py_sock)
    for url in ["tcp://127.0.0.1:%d" % tcp.ls.getsockname()[1], "unix://" + py_sock]:
        r = subprocess.run(PEER + ["call", url], timeout=120)
        check(r.returncode == 0, "xipc client against the Python server at " + url)
        print("xipc client -> python server over", url.split(":")[0], "done")
    tcp.ls.close()
    unx.ls.close()
    os.unlink(py_sock)
    os.rmdir(tmp)

    if failures:
        print("rpc_py_test: %d failures" % failures)
        sys.exit(1)
    print("rpc_py_test ok")


main()

"""MessagePack-RPC: a Python server and a Python client over the C ones."""
import threading
import time
import unittest
from concurrent.futures import CancelledError

from .util import Case, name, xipc

SCHEMES = ("shm://%s", "unix://@%s", "tcp://127.0.0.1:0", "pipe://%s")


class Calc:
    """The server the tests call."""

    def __init__(self, case):
        self.srv = case.keep(xipc.RpcServer(workers=4))
        self.noted = []
        self.noted_ev = threading.Event()
        self.release = threading.Event()
        srv = self.srv

        @srv.method("add")
        def add(a, b):
            return a + b

        @srv.method
        def div(a, b):
            return a / b

        @srv.method("echo", signature="(value) -> value")
        def echo(value):
            return value

        @srv.method("sleep")
        def sleep(seconds):
            time.sleep(seconds)
            return seconds

        @srv.method("fail")
        def fail(code, message):
            raise xipc.RemoteError(message, rpc_code=code)

        @srv.method("unpackable")
        def unpackable():
            return object()

        @srv.method("note")
        def note(*args):
            self.noted.append(args)
            self.noted_ev.set()

        @srv.method("ticks", request=True)
        def ticks(req, n):
            with req.link() as link:
                for i in range(n):
                    link.notify("tick", i, req.method)
            return n

        @srv.method("stop_here")
        def stop_here():
            try:
                srv.stop()
            except xipc.StateError as e:
                return str(e)
            return "stopped?"

    def serve(self, pattern):
        return self.srv.serve(pattern % name("rpc") if "%s" in pattern else pattern)


class RpcTest(Case):
    def setUp(self):
        self.calc = Calc(self)
        self.url = self.calc.serve("shm://%s")
        self.c = self.keep(xipc.RpcClient(self.url, 5, call_timeout=10))

    def test_calls_every_scheme(self):
        for pattern in SCHEMES:
            url = self.calc.serve(pattern)
            with self.subTest(url=url), xipc.RpcClient(url, 5) as c:
                self.assertEqual(c.call("add", 2, 3), 5)
                self.assertEqual(c.call("add", "con", "cat"), "concat")

    def test_values_round_trip(self):
        for v in (None, True, -1, 2 ** 63 - 1, 1.5, "text", "ünï", b"\x00bin",
                  [1, [2, {"k": None}]], {1: "int key"}, []):
            with self.subTest(value=v):
                self.assertEqual(self.c.call("echo", v), v)

    def test_remote_errors(self):
        with self.assertRaises(xipc.RemoteError) as cm:
            self.c.call("nope")
        self.assertEqual(cm.exception.rpc_code, -32601)
        self.assertIn("nope", cm.exception.message)
        with self.assertRaises(xipc.RemoteError) as cm:
            self.c.call("div", 1, 0)
        e = cm.exception
        self.assertEqual((e.rpc_code, e.message),
                         (-32603, "ZeroDivisionError: division by zero"))
        self.assertEqual(e.error, [-32603, "ZeroDivisionError: division by zero"])
        self.assertEqual((e.code, e.name), (17, "EREMOTE"))
        self.assertIn("division by zero", str(e))
        with self.assertRaises(xipc.RemoteError) as cm:
            self.c.call("fail", 404, "no such user")
        self.assertEqual((cm.exception.rpc_code, cm.exception.message), (404, "no such user"))
        with self.assertRaises(xipc.RemoteError) as cm:
            self.c.call("add", 1)
        self.assertEqual(cm.exception.rpc_code, -32602)
        self.assertIn("missing a required argument: 'b'", cm.exception.message)
        with self.assertRaises(xipc.RemoteError) as cm:
            self.c.call("unpackable")
        self.assertEqual(cm.exception.rpc_code, -32603)
        self.assertIn("not MessagePack", cm.exception.message)
        self.assertEqual(self.c.call("add", 1, 1), 2)  # the connection goes on

    def test_async_futures(self):
        slow = self.c.call_async("sleep", 0.3)
        quick = [self.c.call_async("add", i, i) for i in range(20)]
        self.assertEqual([f.result(5) for f in quick], [2 * i for i in range(20)])
        self.assertFalse(slow.done())  # answered out of order
        self.assertEqual(slow.result(5), 0.3)
        bad = self.c.call_async("div", 1, 0)
        self.assertIsInstance(bad.exception(5), xipc.RemoteError)

    def test_cancelled_future_drops_the_answer(self):
        f = self.c.call_async("sleep", 0.2)
        self.assertTrue(f.cancel())
        with self.assertRaises(CancelledError):
            f.result(1)
        time.sleep(0.3)  # the answer arrives and is dropped quietly
        self.assertEqual(self.c.call("add", 1, 2), 3)

    def test_notifications(self):
        self.c.notify("note", 1, "two")
        self.assertTrue(self.calc.noted_ev.wait(5))
        self.assertEqual(self.calc.noted, [(1, "two")])

    def test_on_notify_from_a_link(self):
        got, done = [], threading.Event()

        def on_notify(method, params):
            got.append((method, params))
            if len(got) == 5:
                done.set()
        with xipc.RpcClient(self.url, 5, on_notify=on_notify) as c:
            self.assertEqual(c.call("ticks", 5), 5)
            self.assertTrue(done.wait(5))
        self.assertEqual(got, [("tick", [i, "ticks"]) for i in range(5)])

    def test_no_sync_call_from_a_callback(self):
        seen, done = [], threading.Event()

        def on_notify(method, params):
            try:
                c.call("add", 1, 2)
            except xipc.Error as e:
                seen.append(e)
            done.set()
        c = self.keep(xipc.RpcClient(self.url, 5, on_notify=on_notify))
        c.call("ticks", 1)
        self.assertTrue(done.wait(5))
        self.assertIsInstance(seen[0], xipc.StateError)

    def test_call_timeout(self):
        t0 = time.monotonic()
        with self.assertRaises(xipc.TimeoutError):
            self.c.call("sleep", 1.0, timeout=0.2)
        self.assertLess(time.monotonic() - t0, 0.9)
        self.assertEqual(self.c.call("add", 2, 2), 4)  # the late answer is dropped

    def test_close_ends_pending_calls(self):
        c = xipc.RpcClient(self.url, 5)
        f = c.call_async("sleep", 0.5)
        c.close()
        self.assertIsInstance(f.exception(5), xipc.ClosedError)
        with self.assertRaises(xipc.ClosedError):
            c.call("add", 1, 2)
        with xipc.RpcClient(self.url, 5) as c2:
            pass
        self.assertTrue(c2.closed)

    def test_dial_errors(self):
        with self.assertRaises(xipc.ConnectionRefusedError):
            xipc.RpcClient("shm://%s" % name("none"), 1)
        with self.assertRaises(xipc.InvalidArgument):
            xipc.RpcClient("shm://bad name", 1)


class ServerTest(Case):
    def test_registration(self):
        calc = Calc(self)
        url = calc.serve("shm://%s")
        with xipc.RpcClient(url, 5) as c:
            methods = dict(c.call("xipc.methods"))
        self.assertEqual(methods["add"], "(a, b)")
        self.assertEqual(methods["div"], "(a, b)")  # @srv.method: its own name
        self.assertEqual(methods["echo"], "(value) -> value")
        self.assertEqual(methods["ticks"], "(n)")  # without the Request
        with self.assertRaises(xipc.AddressInUse):
            calc.srv.register("add", lambda: 0)
        with self.assertRaises(xipc.InvalidArgument):
            calc.srv.register("xipc.mine", lambda: 0)  # reserved

    def test_serve_urls_and_stats(self):
        calc = Calc(self)
        a = calc.serve("shm://%s")
        b = calc.serve("tcp://127.0.0.1:0")
        self.assertRegex(b, r"^tcp://127\.0\.0\.1:[1-9]")
        self.assertEqual(calc.srv.urls, [a, b])
        with xipc.RpcClient(b, 5) as c:
            for i in range(3):
                c.call("add", i, i)
        st = calc.srv.stats()
        self.assertEqual(st["accepted"], 1)
        self.assertGreaterEqual(st["calls"], 3)
        with self.assertRaises(xipc.AddressInUse):
            calc.srv.serve(a)

    def test_stop_in_a_handler_is_refused(self):
        calc = Calc(self)
        with xipc.RpcClient(calc.serve("shm://%s"), 5) as c:
            self.assertIn("not from a handler", c.call("stop_here"))

    def test_serve_forever_and_graceful_stop(self):
        srv = xipc.RpcServer()
        url = "shm://%s" % name("fe")

        @srv.method
        def quit():
            srv.stop_soon()
            return "bye"

        @srv.method
        def slow():
            time.sleep(0.3)
            return "finished"
        t = threading.Thread(target=srv.serve_forever, args=(url,))
        t.start()
        self.assertTrue(_wait_dial(url))
        c = self.keep(xipc.RpcClient(url, 5))
        pending = c.call_async("slow")
        time.sleep(0.05)
        self.assertEqual(c.call("quit"), "bye")
        t.join(10)
        self.assertFalse(t.is_alive())
        self.assertTrue(srv.closed)
        self.assertEqual(pending.result(5), "finished")  # answered before the stop

    def test_server_closes_its_links(self):
        srv = self.keep(xipc.RpcServer())
        links = []

        @srv.method(request=True)
        def watch(req):
            links.append(req.link())
        url = srv.serve("shm://%s" % name("lk"))
        with xipc.RpcClient(url, 5) as c:
            c.call("watch")
        srv.close()
        self.assertTrue(links[0].closed)


def _wait_dial(url, within=5.0):
    end = time.monotonic() + within
    while time.monotonic() < end:
        try:
            xipc.RpcClient(url, 1).close()
            return True
        except xipc.ConnectionRefusedError:
            time.sleep(0.01)
    return False


if __name__ == "__main__":
    unittest.main()

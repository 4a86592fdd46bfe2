"""Python and C programs both ways: the xipc CLI of the native build
(Cli64Test) and of the m32 build through scripts/run32 (Cli32Test: a
32-bit process, under qemu-i386 where the kernel cannot run one),
over channels, MessagePack-RPC and pubsub://."""
import json
import os
import signal
import unittest

from .util import M32_XIPC, RUN32, Case, Proc, cli, name, xipc


class CliPeer:
    """The tests, run against the xipc program self.argv() starts."""
    BITS = 64
    SCHEMES = ("shm",)  # where Python listens for a C sender

    def argv(self, *args):
        raise NotImplementedError

    def cproc(self, *args):
        p = Proc(*self.argv(*args))
        self.addCleanup(p.__exit__)
        return p

    def check_width(self, line):
        self.assertIn("pointer width %d bits" % self.BITS, line)

    def listen_url(self, scheme):
        return {"shm": "shm://%s", "pipe": "pipe://%s",
                "tcp": "tcp://127.0.0.1:0"}[scheme].replace("%s", name("io"))

    def test_python_sends_c_receives(self):
        url = "shm://%s" % name("io")
        p = self.cproc("recv", "-w", "-n", "3", "-t", "20000", url)
        self.check_width(p.stderr_line("recv: pid"))  # it is listening
        with xipc.dial(url, 10) as c:
            c.send(b"hello", 10)
            c.send(bytearray(b"from"), 10)
            c.send(memoryview(b"python!")[:6], 10)
            rc, out, err = p.finish()
        self.assertEqual((rc, out), (0, "hello\nfrom\npython\n"), err)

    def test_c_sends_python_receives(self):
        for scheme in self.SCHEMES:
            with self.subTest(scheme=scheme):
                lis = self.keep(xipc.listen(self.listen_url(scheme)))
                p = self.cproc("send", "-w", lis.url, "from C", "two")
                s = self.keep(lis.accept(20))
                self.assertEqual([s.recv(20), s.recv(20)], [b"from C", b"two"])
                with self.assertRaises(xipc.ClosedError):
                    s.recv(20)  # it closed when done
                rc, _, err = p.finish()
                self.assertEqual(rc, 0, err)
                self.check_width(err)

    def test_python_calls_c_service(self):
        url = "shm://%s" % name("io")
        p = self.cproc("serve", "-w", url)
        p.stderr_line("serve: listening at")
        self.check_width(p.stderr_line("serve: pid"))
        with xipc.RpcClient(url, 20, call_timeout=20) as c:
            self.assertEqual(c.call("add", 2, 3), 5)
            self.assertEqual(c.call("add", 0.5, 2), 2.5)
            self.assertEqual(c.call("echo", {"k": [b"\x00\xff", None]}),
                             {"k": [b"\x00\xff", None]})
            self.assertEqual(c.call("sysinfo")["pointer_width"], self.BITS)
            with self.assertRaises(xipc.RemoteError) as cm:
                c.call("add", 2 ** 62, 2 ** 62)
            self.assertEqual(cm.exception.rpc_code, 1)
            self.assertIn("integer overflow", cm.exception.message)
            slow = c.call_async("sleep", 300)
            quick = [c.call_async("add", i, 1) for i in range(10)]
            self.assertEqual([f.result(20) for f in quick], list(range(1, 11)))
            self.assertEqual(slow.result(20), 300)
        p.p.send_signal(signal.SIGTERM)
        rc, _, err = p.finish()
        self.assertEqual(rc, 0, err)

    def test_c_calls_python_service(self):
        srv = self.keep(xipc.RpcServer())

        @srv.method
        def add(a, b):
            return a + b

        @srv.method
        def div(a, b):
            return a / b
        url = srv.serve("shm://%s" % name("io"))
        rc, out, err = self.cproc("call", "-t", "20000", url, "add", "2", "3").finish()
        self.assertEqual((rc, out), (0, "5\n"), err)
        rc, out, err = self.cproc("call", "-t", "20000", url, "add",
                                  '{"a":[1]}', '{"b":null}').finish()
        self.assertEqual(rc, 1)  # dict + dict: a TypeError in the handler
        self.assertIn("TypeError: unsupported operand", err)
        rc, out, err = self.cproc("call", "-t", "20000", url, "div", "1", "0").finish()
        self.assertEqual(rc, 1)
        self.assertIn("ZeroDivisionError: division by zero", err)
        rc, out, err = self.cproc("call", "-t", "20000", url, "xipc.methods").finish()
        self.assertEqual(rc, 0, err)
        self.assertIn(["div", "(a, b)"], json.loads(out))

    def test_python_subscribes_to_c_publisher(self):
        url = "pubsub://%s" % name("io")
        # the publisher waits 4 s for us before publishing (a busy machine)
        p = self.cproc("pub", "-w", "--wait-subscribers", "4000", url, "m1", "m2", "m3")
        self.check_width(p.stderr_line("pub: pid"))  # the publisher exists
        with xipc.Subscriber(url, 20) as sub:
            self.assertEqual(list(sub), [b"m1", b"m2", b"m3"])
            self.assertEqual(sub.lost, 0)
        rc, _, err = p.finish()
        self.assertEqual(rc, 0, err)

    def test_c_subscribes_to_python_publisher(self):
        url = "pubsub://%s" % name("io")
        with xipc.Publisher(url) as pub:
            p = self.cproc("sub", "-w", "-n", "2", "-t", "20000", url)
            self.check_width(p.stderr_line("sub: pid"))  # it has attached
            pub.send(b"first")
            pub.send(bytearray(b"second"))
            rc, out, err = p.finish()
        self.assertEqual((rc, out), (0, "first\nsecond\n"), err)


class Cli64Test(CliPeer, Case):
    SCHEMES = ("shm", "pipe", "tcp")

    def argv(self, *args):
        return [cli()] + list(args)


class Cli32Test(CliPeer, Case):
    BITS = 32

    def setUp(self):
        if not M32_XIPC:
            self.skipTest("XIPC_M32_XIPC (the m32 build's xipc) is not set")
        if not os.access(M32_XIPC, os.X_OK):
            self.fail("XIPC_M32_XIPC=%s: no such program" % M32_XIPC)

    def argv(self, *args):
        return [RUN32, M32_XIPC] + list(args)


if __name__ == "__main__":
    unittest.main()

"""Channels: every call of Sock and Listener over shm://, pipe://, unix://,
tcp://, with the errors each can raise."""
import array
import ctypes
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
import unittest

from .util import PYDIR, Case, name, xipc
from xipc.channel import send_buffer

SCHEMES = ("shm", "pipe", "unix", "tcp")


class RoundTripTest(Case):
    def test_both_ways_every_scheme(self):
        for scheme in SCHEMES:
            with self.subTest(scheme=scheme):
                _, c, s = self.pair(scheme)
                c.send(b"ping", 5)
                self.assertEqual(s.recv(5), b"ping")
                s.send(b"pong", 5)
                self.assertEqual(c.recv(5), b"pong")
                c.send(b"", 5)  # an empty message is a message
                self.assertEqual(s.recv(5), b"")

    def test_bytes_like_objects(self):
        _, c, s = self.pair("shm")
        ints = array.array("i", [1, 2, 3])
        cases = [b"bytes", bytearray(b"bytearray"), memoryview(b"ro-view"),
                 memoryview(bytearray(b"rw-view"))[3:], memoryview(b"0a1b2c")[::2],
                 ints, bytearray()]
        for data in cases:
            with self.subTest(data=data):
                c.send(data, 5)
                self.assertEqual(s.recv(5), bytes(memoryview(data)))
        with self.assertRaises(TypeError):
            c.send("text is not bytes", 5)

    def test_writable_buffers_are_not_copied(self):
        ba = bytearray(b"abc")
        arg, n = send_buffer(ba)
        ba[0] = ord("X")  # the argument is the bytearray's own memory
        self.assertEqual((arg.raw, n), (b"Xbc", 3))
        mv = memoryview(bytearray(b"0123456789"))[2:6]
        arg, n = send_buffer(mv)
        mv[0] = ord("Y")
        self.assertEqual((arg.raw, n), (b"Y345", 4))
        b = b"immutable"
        self.assertIs(send_buffer(b)[0], b)
        arg, _ = send_buffer(memoryview(bytearray(b"abcdef"))[::2])
        self.assertEqual(arg, b"ace")  # not contiguous: a copy

    def test_large_messages_grow_the_buffer(self):
        _, c, s = self.pair("pipe")
        big = os.urandom(300 * 1024)  # more than the socket holds: a thread
        t = threading.Thread(target=c.send, args=(big, 5))
        t.start()
        self.assertEqual(s.recv(5), big)
        t.join()
        c.send(big[:1000], 5)
        with self.assertRaises(xipc.MessageTooLarge) as cm:
            s.recv(5, max=999)
        self.assertEqual(cm.exception.size, 1000)
        self.assertEqual(s.recv(5, max=1000), big[:1000])  # it stayed queued

    def test_recv_into(self):
        _, c, s = self.pair("shm")
        c.send(b"12345", 5)
        buf = bytearray(8)
        self.assertEqual(s.recv_into(buf, 5), 5)
        self.assertEqual(buf[:5], b"12345")
        c.send(b"too long for it", 5)
        with self.assertRaises(xipc.MessageTooLarge) as cm:
            s.recv_into(bytearray(4), 5)
        self.assertEqual(cm.exception.size, 15)
        self.assertEqual(s.recv(5), b"too long for it")
        with self.assertRaises(TypeError):
            s.recv_into(b"read-only", 0)

    def test_send_more_and_flush(self):
        _, c, s = self.pair("unix")
        c.send(b"a", 5, more=True)
        c.send(b"b", 5, more=True)
        with self.assertRaises(xipc.TimeoutError):
            s.recv(0.05)  # held by the sender
        c.flush(5)
        self.assertEqual([s.recv(5), s.recv(5)], [b"a", b"b"])

    def test_stats_count(self):
        _, c, s = self.pair("shm")
        for i in range(3):
            c.send(b"x", 5)
            s.recv(5)
        self.assertEqual(c.stats(), xipc.Stats(3, 0, 0, 0, 0))
        self.assertEqual(s.stats(), xipc.Stats(0, 3, 0, 0, 0))

    def test_endpoint_facts(self):
        lis, c, s = self.pair("tcp")
        self.assertRegex(lis.url, r"^tcp://127\.0\.0\.1:[1-9][0-9]*$")
        _, c, s = self.pair("pipe")
        self.assertEqual(s.peer_pid, os.getpid())
        self.assertEqual(s.peer_uid, os.getuid())
        self.assertGreaterEqual(s.fileno(), 0)
        _, c, s = self.pair("shm")
        with self.assertRaises(xipc.NotSupported):
            s.fileno()

    def test_mailslot_listener_receives(self):
        url = "mailslot://%s" % name("ms")
        srv = self.keep(xipc.listen(url))
        self.assertIsInstance(srv, xipc.Listener)
        w = self.keep(xipc.dial(url, 5))
        w.send(b"note", 5)
        self.assertEqual(srv.recv(5), b"note")


class TimeoutTest(Case):
    def test_timeouts_raise(self):
        lis, c, s = self.pair("shm")
        for t in (0, 0.05, 0.3):  # 0.3: beyond one 0.2 s slice
            t0 = time.monotonic()
            with self.assertRaises(xipc.TimeoutError) as cm:
                s.recv(t)
            took = time.monotonic() - t0
            self.assertGreaterEqual(took, t * 0.95)
            self.assertLess(took, t + 1.0)
            self.assertIsInstance(cm.exception, TimeoutError)
            self.assertEqual(cm.exception.code, 3)
        with self.assertRaises(xipc.TimeoutError):
            lis.accept(0.05)
        with self.assertRaises(xipc.InvalidArgument):
            s.recv(-1)


class CloseTest(Case):
    def test_peer_closed(self):
        for scheme in SCHEMES:
            with self.subTest(scheme=scheme):
                _, c, s = self.pair(scheme)
                c.send(b"last words", 5)
                c.close()
                self.assertEqual(s.recv(5), b"last words")  # still delivered
                with self.assertRaises(xipc.ClosedError) as cm:
                    s.recv(5)
                self.assertEqual(cm.exception.name, "ECLOSED")
                with self.assertRaises(xipc.ClosedError):
                    for _ in range(100):  # a stream may take one send to tell
                        s.send(b"anyone?", 5)

    def test_use_after_close(self):
        _, c, s = self.pair("shm")
        c.close()
        c.close()  # idempotent
        self.assertTrue(c.closed)
        for call in (lambda: c.send(b"x"), lambda: c.recv(0), c.stats):
            with self.assertRaisesRegex(xipc.ClosedError, "closed"):
                call()

    def test_context_managers_close(self):
        url = "shm://%s" % name("ctx")
        with xipc.listen(url) as lis:
            with xipc.dial(url, 5) as c:
                s = self.keep(lis.accept(5))
            self.assertTrue(c.closed)
            with self.assertRaises(xipc.ClosedError):
                s.recv(5)  # the peer saw the close
        self.assertTrue(lis.closed)
        with xipc.listen(url) as again:  # the name is free again
            self.assertFalse(again.closed)

    def test_close_from_another_thread_ends_a_blocked_recv(self):
        _, c, s = self.pair("shm")
        got = []

        def reader():
            try:
                s.recv()  # forever
            except xipc.Error as e:
                got.append(e)
        t = threading.Thread(target=reader)
        t.start()
        time.sleep(0.1)
        t0 = time.monotonic()
        s.close()
        t.join(5)
        self.assertFalse(t.is_alive())
        self.assertLess(time.monotonic() - t0, 1.0)
        self.assertIsInstance(got[0], xipc.ClosedError)
        self.assertIn("closed by another thread", str(got[0]))


    def test_close_while_both_directions_are_busy(self):
        for _ in range(20):  # close lands at a different point each time
            _, c, s = self.pair("shm", ring_capacity=4096)
            ends = []

            def loop(call):
                while True:
                    try:
                        call()
                    except xipc.TimeoutError:
                        continue  # a full ring: the next call sees the close
                    except xipc.ClosedError as e:
                        ends.append(e)
                        return
            threads = [threading.Thread(target=loop, args=(lambda: s.send(b"x" * 100, 0.1),)),
                       threading.Thread(target=loop, args=(lambda: s.recv(5),)),
                       threading.Thread(target=loop, args=(lambda: c.send(b"y", 0.1),))]
            for t in threads:
                t.start()
            time.sleep(0.01)
            s.close()  # under a sender and a receiver
            c.close()
            for t in threads:
                t.join(5)
                self.assertFalse(t.is_alive())
            self.assertEqual(len(ends), 3)
            self.assertTrue(s._h.freed and c._h.freed)


    def test_ctrl_c_ends_a_blocked_recv(self):
        code = ("import xipc; u = 'shm://%s'; l = xipc.listen(u); "
                "c = xipc.dial(u, 5); s = l.accept(5); print('ready', flush=True); "
                "s.recv()" % name("sigint"))
        p = subprocess.Popen([sys.executable, "-c", code], cwd=PYDIR, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup(p.kill)
        self.assertEqual(p.stdout.readline(), "ready\n")
        time.sleep(0.1)
        t0 = time.monotonic()
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=10)
        self.assertLess(time.monotonic() - t0, 1.0)  # a 0.2 s slice, start-up aside
        self.assertIn("KeyboardInterrupt", err)


class BadUrlTest(Case):
    def test_bad_urls(self):
        for url in ("shm://bad name", "shm://", "shm://.hidden", "pipe://" + "x" * 65):
            with self.subTest(url=url):
                with self.assertRaises(xipc.InvalidArgument) as cm:
                    xipc.listen(url)
                self.assertIn(url, str(cm.exception))
                self.assertEqual(cm.exception.name, "EINVAL")
        with self.assertRaises(xipc.NotSupported):
            xipc.dial("nope://x", 1)

    def test_details_from_the_library(self):
        with self.assertRaises(xipc.NotSupported) as cm:
            xipc.listen("clipboard://fmt")
        self.assertIn("Windows clipboard", cm.exception.detail)
        self.assertIn(cm.exception.detail, str(cm.exception))
        lis = self.keep(xipc.listen("shm://%s" % name("det")))
        with self.assertRaises(xipc.InvalidArgument) as cm:
            xipc.listen("tls+tcp://127.0.0.1:0", tls_cert="/nonexistent/cert.pem")
        self.assertIn("/nonexistent/cert.pem", cm.exception.detail)
        with self.assertRaises(xipc.TimeoutError) as cm:
            lis.accept(0)  # leaves the detail of the listen above
        self.assertEqual(cm.exception.detail, "")  # which is not its own

    def test_bad_options(self):
        url = "shm://%s" % name("opt")
        with self.assertRaises(xipc.InvalidArgument):
            xipc.listen(url, ring_capacity=1)  # below 4 KiB
        with self.assertRaises(xipc.InvalidArgument):
            xipc.listen(url, backlog=-1)
        with self.assertRaisesRegex(TypeError, "unknown option 'ring_size'"):
            xipc.listen(url, ring_size=4096)
        self.keep(xipc.listen(url, ring_capacity=4096, allow_uid=[os.getuid()]))


def _address(mv):
    """The address of a read-only memoryview's first byte."""
    return ctypes.addressof(mv.obj)  # the ctypes array over the C memory


class ZeroCopyTest(Case):
    def test_view_in_place(self):
        _, c, s = self.pair("shm")
        c.send(b"in place", 5)
        with s.recv_view(5) as mv:
            self.assertIsInstance(mv, memoryview)
            self.assertTrue(mv.readonly)
            self.assertEqual(bytes(mv), b"in place")
            with self.assertRaises(TypeError):
                mv[0] = 1
        with self.assertRaises(ValueError):
            bytes(mv)  # released at the end of the block
        c.send(b"", 5)
        m = s.recv_view(5)
        self.assertEqual(len(m), 0)
        m.release()
        m.release()  # idempotent

    def test_one_view_at_a_time(self):
        _, c, s = self.pair("shm")
        c.send(b"1", 5)
        c.send(b"2", 5)
        m = s.recv_view(5)
        with self.assertRaises(xipc.StateError):
            s.recv_view(5)
        with self.assertRaises(xipc.StateError):
            s.recv(5)
        m.release()
        self.assertEqual(s.recv(5), b"2")

    def test_view_is_the_ring_itself(self):
        # no copy: the view's address lies in the ring, and with a 4 KiB
        # ring the next messages come back around to the same place
        _, c, s = self.pair("shm", ring_capacity=4096)
        seen = set()
        for i in range(100):
            c.send(bytes([i]) * 1000, 5)
            with s.recv_view(5) as mv:
                self.assertEqual(bytes(mv), bytes([i]) * 1000)
                seen.add(_address(mv))
        self.assertLessEqual(len(seen), 5)  # 100 messages, a few places

    def test_exported_view_is_an_error(self):
        _, c, s = self.pair("shm")
        c.send(b"kept", 5)
        with self.assertRaises(xipc.StateError):
            with s.recv_view(5) as mv:
                kept = pickle.PickleBuffer(mv)  # a buffer export of the view
        del kept
        c.send(b"next", 5)
        self.assertEqual(s.recv(5), b"next")  # the message was released

    def test_streams_view_their_receive_buffer(self):
        _, c, s = self.pair("pipe")
        c.send(b"x", 5)
        with s.recv_view(5) as mv:
            self.assertEqual(bytes(mv), b"x")

    def test_not_on_datagrams(self):
        url = "mailslot://%s" % name("zc")
        srv = self.keep(xipc.listen(url))
        w = self.keep(xipc.dial(url, 5))
        w.send(b"x", 5)
        with self.assertRaises(xipc.NotSupported):
            srv.recv_view(5)
        self.assertEqual(srv.recv(5), b"x")

    def test_close_releases_an_open_view(self):
        _, c, s = self.pair("shm")
        c.send(b"x", 5)
        m = s.recv_view(5)
        s.close()
        self.assertTrue(s.closed)
        with self.assertRaises(ValueError):
            bytes(m.view)


if __name__ == "__main__":
    unittest.main()

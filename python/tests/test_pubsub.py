"""pubsub://: Publisher and Subscriber, losses counted both ways."""
import struct
import time
import unittest

from .util import Case, name, xipc


def url():
    return "pubsub://%s" % name("ps")


class PubSubTest(Case):
    def test_publish_subscribe_end(self):
        u = url()
        pub = self.keep(xipc.listen(u))
        self.assertIsInstance(pub, xipc.Publisher)
        sub = self.keep(xipc.dial(u, 5))
        self.assertIsInstance(sub, xipc.Subscriber)
        for m in (b"a", bytearray(b"b"), memoryview(b"c")):
            pub.send(m)
        pub.close()
        self.assertEqual(list(sub), [b"a", b"b", b"c"])  # then the end
        with self.assertRaises(xipc.ClosedError):
            sub.recv(1)

    def test_overrun_counts(self):
        u = url()
        pub = self.keep(xipc.Publisher(u, slots=8, slot_size=64))
        sub = self.keep(xipc.Subscriber(u, 5))
        total = 50
        for i in range(total):
            pub.send(struct.pack("<I", i))
        pub.close()
        got, gaps, expect = [], [], 0
        while True:
            try:
                seq = struct.unpack("<I", sub.recv(5))[0]
            except xipc.OverrunError as e:
                gaps.append(e.lost)
                expect += e.lost
                continue
            except xipc.ClosedError:
                break
            self.assertEqual(seq, expect)  # the gap told is the gap seen
            got.append(seq)
            expect += 1
        self.assertTrue(gaps)
        self.assertEqual(len(got) + sum(gaps), total)
        self.assertEqual(sub.lost, sum(gaps))
        self.assertEqual(sub.stats().received, len(got))

    def test_iteration_skips_losses(self):
        u = url()
        pub = self.keep(xipc.Publisher(u, slots=4, slot_size=64))
        sub = self.keep(xipc.Subscriber(u, 5))
        for i in range(20):
            pub.send(b"%d" % i)
        pub.close()
        got = list(sub)
        self.assertEqual(len(got) + sub.lost, 20)
        self.assertEqual(got[-1], b"19")

    def test_torn_view(self):
        u = url()
        pub = self.keep(xipc.Publisher(u, slots=4, slot_size=64))
        sub = self.keep(xipc.Subscriber(u, 5))
        pub.send(b"first")
        with self.assertRaises(xipc.OverrunError) as cm:
            with sub.recv_view(5) as mv:
                self.assertEqual(bytes(mv), b"first")
                for i in range(8):  # the publisher laps the reader
                    pub.send(b"over %d" % i)
        self.assertEqual(cm.exception.lost, 1)
        pub.send(b"last")
        pub.close()
        got = list(sub)  # what is left after the overruns
        self.assertEqual(got[-1], b"last")
        self.assertEqual(len(got) + sub.lost, 10)  # every one told

    def test_no_publisher(self):
        u = url()
        t0 = time.monotonic()
        with self.assertRaises(xipc.ConnectionRefusedError):
            xipc.dial(u, 5)  # at once, not after 5 s
        self.assertLess(time.monotonic() - t0, 2)
        t0 = time.monotonic()
        with self.assertRaises(xipc.TimeoutError):
            xipc.Subscriber(u, 0.3)  # waits for one, as xipc sub does
        self.assertGreaterEqual(time.monotonic() - t0, 0.3)

    def test_one_publisher_per_name(self):
        u = url()
        self.keep(xipc.Publisher(u))
        with self.assertRaises(xipc.AddressInUse):
            xipc.Publisher(u)

    def test_message_larger_than_a_slot(self):
        pub = self.keep(xipc.Publisher(url(), slot_size=64))
        pub.send(b"x" * 48)
        with self.assertRaises(xipc.MessageTooLarge):
            pub.send(b"x" * 49)
        with self.assertRaises(xipc.InvalidArgument):
            xipc.Publisher(url(), slots=3)  # not a power of two


if __name__ == "__main__":
    unittest.main()

#!/usr/bin/env python3
"""Write the seed corpora of the libFuzzer targets (docs/testing.md).

    tests/fuzz/make_corpus.py [OUTDIR]     (default: tests/fuzz/corpus)

Each target gets a few dozen small inputs in OUTDIR/<target>/: valid
messages and the edge cases around each check, in the input layout the
target's comment describes. Files named crash-* are inputs that once
crashed a target: this script never writes or removes them, they stay
committed as regression tests. Plain Python, no msgpack module needed.
"""
import os
import struct
import sys

# ---- a small MessagePack encoder (smallest forms, as the codec writes) ----


class Ext:
    def __init__(self, code, data):
        self.code, self.data = code, data


class Raw:
    """Bytes inserted as they are (hand-made encodings)."""

    def __init__(self, data):
        self.data = data


def pack(v):
    if isinstance(v, Raw):
        return v.data
    if v is None:
        return b"\xc0"
    if v is True:
        return b"\xc3"
    if v is False:
        return b"\xc2"
    if isinstance(v, int):
        if 0 <= v <= 0x7F:
            return bytes([v])
        if -32 <= v < 0:
            return struct.pack("b", v)
        if v >= 0:
            for tag, fmt, lim in ((0xCC, ">B", 1 << 8), (0xCD, ">H", 1 << 16),
                                  (0xCE, ">I", 1 << 32), (0xCF, ">Q", 1 << 64)):
                if v < lim:
                    return bytes([tag]) + struct.pack(fmt, v)
        for tag, fmt, lim in ((0xD0, ">b", 1 << 7), (0xD1, ">h", 1 << 15),
                              (0xD2, ">i", 1 << 31), (0xD3, ">q", 1 << 63)):
            if v >= -lim:
                return bytes([tag]) + struct.pack(fmt, v)
    if isinstance(v, float):
        return b"\xcb" + struct.pack(">d", v)
    if isinstance(v, str):
        b = v.encode()
        n = len(b)
        if n < 32:
            return bytes([0xA0 | n]) + b
        if n < 256:
            return b"\xd9" + bytes([n]) + b
        return b"\xda" + struct.pack(">H", n) + b
    if isinstance(v, (bytes, bytearray)):
        n = len(v)
        if n < 256:
            return b"\xc4" + bytes([n]) + bytes(v)
        return b"\xc5" + struct.pack(">H", n) + bytes(v)
    if isinstance(v, list):
        n = len(v)
        hdr = bytes([0x90 | n]) if n < 16 else b"\xdc" + struct.pack(">H", n)
        return hdr + b"".join(pack(x) for x in v)
    if isinstance(v, dict):
        n = len(v)
        hdr = bytes([0x80 | n]) if n < 16 else b"\xde" + struct.pack(">H", n)
        return hdr + b"".join(pack(k) + pack(x) for k, x in v.items())
    if isinstance(v, Ext):
        n = len(v.data)
        fix = {1: 0xD4, 2: 0xD5, 4: 0xD6, 8: 0xD7, 16: 0xD8}
        if n in fix:
            return bytes([fix[n]]) + struct.pack("b", v.code) + v.data
        return b"\xc7" + bytes([n]) + struct.pack("b", v.code) + v.data
    raise TypeError(v)


def u32le(n):
    return struct.pack("<I", n)


def u64le(n):
    return struct.pack("<Q", n)


def u16le(n):
    return struct.pack("<H", n)


# ---- the corpora ----------------------------------------------------------


def msgpack_seeds():
    ts32 = Ext(-1, struct.pack(">I", 1700000000))
    ts64 = Ext(-1, struct.pack(">Q", (999999999 << 34) | 5))
    ts96 = Ext(-1, struct.pack(">Iq", 1, -5))
    values = {
        "scalars": [None, True, False, 0, 127, -1, -32, -33, 255, 65535,
                    2**32 - 1, 2**64 - 1, -2**63, 1.5],
        "float32": Raw(b"\xca\x3f\xc0\x00\x00"),
        "strings": ["", "a", "x" * 31, "y" * 32, "z" * 300],
        "bin": [b"", b"\x00\x01", bytes(range(200))],
        "nested": {"a": [1, [2, [3, {"b": None}]]], "c": {}},
        "ext": [Ext(5, b"\x01"), Ext(7, b"abc"), Ext(127, b"x" * 16)],
        "timestamps": [ts32, ts64, ts96],
        "wide-forms": Raw(b"\xd0\x05\xd1\x00\x05\xcd\x00\x01\xd9\x01a"
                          b"\xdc\x00\x01\xc0\xde\x00\x00"),
        "rpc-request": [0, 7, "add", [1, 2]],
    }
    seeds = {}
    for name, v in values.items():
        seeds[name] = b"\x00" + pack(v)
    seeds["several-values"] = b"\x00" + pack(1) + pack("two") + pack([3])
    seeds["empty"] = b"\x00"
    # the edge of every check
    seeds["reserved-c1"] = b"\x00\x91\xc1"
    seeds["truncated-str"] = b"\x00\xa5abc"
    seeds["truncated-u64"] = b"\x00\xcf\x00\x00"
    seeds["array-count-lie"] = b"\x00\xdd\xff\xff\xff\xff\x01\x02"
    seeds["map-count-lie"] = b"\x00\xdf\x00\x00\x00\x08\x01\x02\x03\x04"
    seeds["str32-len-lie"] = b"\x00\xdb\x7f\xff\xff\xffabc"
    seeds["ts-bad-nsec"] = b"\x00" + pack(Ext(-1, struct.pack(">Iq", 1_000_000_000, 0)))
    seeds["ts-bad-len"] = b"\x00\xc7\x03\xff\x01\x02\x03"
    seeds["deep-64"] = b"\x00" + b"\x91" * 63 + b"\xc0"
    seeds["deep-65"] = b"\x00" + b"\x91" * 65 + b"\xc0"
    seeds["deep-200-stack"] = b"\x07" + b"\x91" * 199 + b"\xc0"
    seeds["depth-0"] = b"\x04\x90"
    seeds["depth-1"] = b"\x05\x91\x91\xc0"
    seeds["depth-3"] = b"\x06" + pack([[[1]], [2]])
    seeds["typed-mix"] = b"\x9a" + pack([None, True, -5, 5, 1.0, "s", b"b", {1: 2},
                                         Ext(1, b"e"), ts64])
    return seeds


def url_seeds():
    urls = [
        "shm://name", "SHM://Name", "pipe://a.b-c_d", "pubsub://feed",
        "mailslot://box", "mq://queue", "unix:///tmp/x.sock", "unix://@abstract",
        "unix://relative", "unix://@", "tcp://127.0.0.1:5555", "tcp://host:0",
        "tcp://[::1]:80", "tcp://[fe80::1%eth0]:65535", "tcp://host:65536",
        "tcp://:1", "tcp://[::1]", "tcp://a:b", "tls+tcp://host:1",
        "shm://", "://x", "shm:/x", "s" * 15 + "://x", "s" * 16 + "://x",
        "shm://.hidden", "shm://../etc", "shm://a/b", "shm://" + "n" * 64,
        "shm://" + "n" * 65, "shm://tab\there", "shm://del\x7f",
        "unix:///" + "p" * 106, "unix:///" + "p" * 107,
        "shm://" + "x" * 505, "shm://" + "x" * 506,
    ]
    return {"url-%02d" % i: u.encode() for i, u in enumerate(urls)}


def frames(*msgs):
    return b"".join(u32le(len(m)) + m for m in msgs)


def frame_seeds():
    # [ctl][seed][bytes]; ctl % 4: max_msg 16 MiB, 1, 64, 4096; ctl & 4: close
    s = {}
    s["one-open"] = b"\x00\x01" + frames(b"hello")
    s["one-closed"] = b"\x04\x02" + frames(b"hello")
    s["empty-frames"] = b"\x04\x03" + frames(b"", b"", b"x")
    s["many-small"] = b"\x03\x04" + frames(*[bytes([i]) * i for i in range(20)])
    s["over-max-1"] = b"\x01\x05" + frames(b"a", b"bc")
    s["at-max-64"] = b"\x06\x06" + frames(b"m" * 64, b"n" * 65)
    s["partial-header"] = b"\x04\x07" + frames(b"abc") + b"\x05\x00"
    s["partial-body-open"] = b"\x00\x08" + u32le(10) + b"12345"
    s["partial-body-closed"] = b"\x04\x09" + u32le(10) + b"12345"
    s["huge-length"] = b"\x00\x0a" + u32le(16 << 20) + b"x"
    s["over-default"] = b"\x04\x0b" + u32le((16 << 20) + 1)
    s["ff-length"] = b"\x03\x0c" + b"\xff\xff\xff\xff"
    s["large-4096"] = b"\x07\x0d" + frames(b"L" * 4000, b"s")
    return s


def ring_seeds():
    s = {}
    # SPSC (ctl even): ops 0/1 send(u16), 2/3 peek, 4 release, 5/6 recv(u16),
    # 7 head(u64), 8 tail(u64), 9 bytes(u16 off, 16 bytes), 10 signals(u32),
    # 11 fixed line(u64, u64, u32)
    send = lambda n: b"\x00" + u16le(n)
    recv = lambda n: b"\x05" + u16le(n)
    s["spsc-honest"] = b"\x00" + send(5) + send(0) + b"\x02\x02\x04" + recv(5) + recv(0) + recv(9)
    s["spsc-wrap"] = b"\x00" + (send(1000) + recv(1000)) * 6 + send(3000) + b"\x02\x04"
    s["spsc-full"] = b"\x00" + send(4080) + send(1) + recv(10) + recv(4080) + send(1) + recv(1)
    s["spsc-8k"] = b"\x02" + send(8176) + recv(8176) + send(8177)
    s["spsc-head-jump"] = b"\x00" + send(16) + b"\x87" + u64le(1 << 40) + b"\x02" + recv(100)
    s["spsc-head-near"] = b"\x00" + send(16) + b"\x07" + u64le(8) + b"\x02\x04" + recv(100)
    s["spsc-tail"] = b"\x00" + send(16) + b"\x88" + u64le(3) + send(16) + recv(16)
    s["spsc-bad-record"] = b"\x00" + send(16) + b"\x89" + u16le(0) + b"\xff\x0f\x00\x00" + b"\x00" * 12 + b"\x02"
    s["spsc-pad-lie"] = b"\x00" + send(16) + b"\x89" + u16le(0) + b"\x10\x00\x01" + b"\x00" * 13 + recv(64)
    s["spsc-closed"] = b"\x00" + send(8) + b"\x0a" + u32le(1) + recv(8) + recv(8)
    s["spsc-fixed-line"] = b"\x00" + send(8) + b"\x0b" + u64le(1 << 62) + u64le(7) + u32le(0) + recv(8) + send(8) + recv(8)
    # ctl & 4: 40 hostile bytes before the attach, on the fixed line
    # ((ctl >> 3) & 3 == 0), the head line (1) or the tail line (2, 3)
    s["spsc-attach-head"] = b"\x0c" + u64le(4096) + b"\x00" * 32 + send(8) + recv(8)
    s["spsc-attach-tail"] = b"\x14" + u64le(8) + b"\x00" * 32 + send(8) + recv(8)
    s["spsc-attach-geometry"] = (b"\x06" + u32le(0x676E6952) + u32le(1) + u64le(4096)
                                 + u64le(4352) + b"\x00" * 16 + send(8) + recv(8))
    # broadcast (ctl odd; (ctl >> 1) & 3: 2x64, 4x64, 8x128, 2x256 slots):
    # 0/1 publish(u16), 2/3 peek, 4 release, 5/6 recv(u16), 7 head(u64),
    # 8 stamp(u8 slot, u64), 9 len(u8 slot, u16|u32), 10 bytes(u16, 16 bytes),
    # 11 header words(u32 [, u32, u32, u64])
    pub = lambda n: b"\x00" + u16le(n)
    s["bcast-honest"] = b"\x03" + pub(10) + pub(0) + b"\x02\x02\x04" + recv(48) + recv(48)
    s["bcast-lapped"] = b"\x01" + pub(1) * 5 + recv(48) + recv(48) + recv(48)
    s["bcast-torn-peek"] = b"\x01" + pub(4) + b"\x02" + pub(4) * 2 + b"\x02\x04" + recv(48)
    s["bcast-emsgsize"] = b"\x05" + pub(100) + recv(10) + recv(112)
    s["bcast-big-slots"] = b"\x07" + pub(240) + pub(241) + recv(240)
    s["bcast-head-back"] = b"\x01" + pub(4) + recv(4) + b"\x87" + u64le(0) + recv(4)
    s["bcast-head-huge"] = b"\x01" + b"\x87" + u64le(1 << 63) + recv(4)
    s["bcast-stamp-newer"] = b"\x01" + pub(4) + b"\x08\x00" + u64le(0x102) + recv(4)
    s["bcast-stamp-future"] = b"\x01" + pub(4) + b"\x88\x00" + u64le(1000) + recv(4)
    s["bcast-len-lie"] = b"\x01" + pub(4) + b"\x89\x00" + u32le(0xFFFFFFFF) + recv(48)
    s["bcast-closed"] = b"\x01" + pub(4) + b"\x0b" + u32le(1) + recv(4) + recv(4)
    s["bcast-hostile-attach"] = b"\x19" + u32le(0x74736342) + u32le(1) + u64le(100) + u32le(3) + u32le(64) + u64le(256) + recv(4)
    return s


def rpc_seeds():
    # [ctl][x][y][bytes]; ctl & 3: 0/1 message, 2 scanner, 3 stream
    req = pack([0, 1, "add", [1, 2]])
    res = pack([1, 1, None, 3])
    err = pack([1, 2, [-32601, "no such method"], None])
    note = pack([2, "log", ["hello", 1.5]])
    s = {}
    s["request"] = b"\x00\x02\x11" + req
    s["request-fmt-ii"] = b"\x00\x02\x00" + pack([0, 9, "add", [40, 2]])
    s["request-fmt-all"] = b"\x00\x08\x37" + pack(
        [0, 3, "m", [None, True, -1, 2**40, 7, 2**63, 0.5, "s", b"b", {"k": [1]}]])
    s["response"] = b"\x00\x01\x00" + res
    s["response-error"] = b"\x00\x02\x05" + err
    s["notification"] = b"\x00\x02\x22" + note
    s["params-not-array"] = b"\x00\x01\x00" + pack([0, 1, "f", 5])
    s["bad-type"] = b"\x00\x00\x00" + pack([3, 1, "f", []])
    s["bad-arity"] = b"\x00\x00\x00" + pack([0, 1, "f"])
    s["msgid-too-big"] = b"\x00\x00\x00" + pack([0, 2**32, "f", []])
    s["method-not-str"] = b"\x00\x00\x00" + pack([0, 1, b"f", []])
    s["trailing-bytes"] = b"\x00\x00\x00" + req + b"\xc0"
    s["scan-request"] = b"\x02\x80\x80" + req
    s["scan-two"] = b"\x02\x85\x80" + req + note
    s["scan-deep"] = b"\x02\x03\x80" + b"\x91" * 5 + b"\xc0"
    s["scan-small-max"] = b"\x02\x80\x02" + pack("x" * 20)
    s["scan-count-lie"] = b"\x02\x80\x80" + b"\xdd\x00\x01\x00\x00\x01"
    s["scan-c1"] = b"\x02\x80\x80" + b"\x92\x01\xc1"
    s["stream-three"] = b"\x13\x00\x00" + req + res + note
    s["stream-partial"] = b"\x03\x00\x00" + req + req[:5]
    s["stream-partial-closed"] = b"\x13\x00\x00" + req + req[:5]
    s["stream-over-64"] = b"\x03\x00\x00" + pack([0, 1, "f", ["x" * 100]])
    s["stream-depth-2"] = b"\x03\x00\x00" + pack([0, 1, "f", [[1]]])
    s["stream-depth-16"] = b"\x07\x00\x00" + b"\x91" * 17 + b"\xc0"
    s["stream-big"] = b"\x0b\x00\x00" + pack([0, 1, "f", ["y" * 3000]])
    return s


def shm_seeds():
    """fuzz_shm: [ctl][lies][ops]; an op is [op][u16 len][args]."""
    def op(o, n=0, args=b""):
        return bytes([o]) + u16le(n) + args
    s = {}
    honest = b"\x00"
    s["honest-send-recv"] = honest + op(0, 10) + op(1, 100)
    s["honest-send-peek"] = honest + op(0, 200) + op(2)
    s["honest-small-buffer"] = honest + op(0, 50) + op(1, 10) + op(1, 60)
    s["honest-both-ways"] = honest + op(3, 30) + op(6, 40) + op(0, 5) + op(1, 5)
    s["honest-close"] = honest + op(0, 8) + op(7) + op(1, 8) + op(1, 8)
    s["hostile-head"] = honest + op(0, 8) + op(4, 0, u16le(256 + 64) + u64le(1 << 40)) + op(1, 8)
    s["hostile-tail"] = honest + op(3, 8) + op(4, 0, u16le(512 + 128) + u64le(12345)) + op(6, 8)
    s["hostile-record"] = honest + op(0, 8) + op(5, 0, b"\xff" * 8 + u16le(0)) + op(2)
    s["unsealed"] = b"\x01" + op(0, 8)
    s["short-segment"] = b"\x02" + u16le(4096) + op(0, 8)
    s["offer-lies"] = b"\x04\x01\x01" + u32le(7) + b"\x01" + u64le(8192)
    s["header-lies"] = b"\x08" + b"\x00" * 16 + u64le(8192) + b"\x00" * 40 + op(1, 8)
    return s


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus")
    sets = {"fuzz_msgpack": msgpack_seeds(), "fuzz_url": url_seeds(),
            "fuzz_frame": frame_seeds(), "fuzz_ring": ring_seeds(),
            "fuzz_rpc": rpc_seeds(), "fuzz_shm": shm_seeds()}
    for target, seeds in sets.items():
        d = os.path.join(out, target)
        os.makedirs(d, exist_ok=True)
        for f in os.listdir(d):  # regenerate the seeds, keep crash-* inputs
            if not f.startswith("crash-"):
                os.remove(os.path.join(d, f))
        for name, data in seeds.items():
            with open(os.path.join(d, name), "wb") as fh:
                fh.write(data)
        print("%s: %d seeds" % (target, len(seeds)))


if __name__ == "__main__":
    main()

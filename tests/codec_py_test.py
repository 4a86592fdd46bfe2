#!/usr/bin/python3
"""Differential test of xipc's MessagePack codec against python3-msgpack
(an oracle only), through tests/codec_tool (see its header for the text
form of values).

For N random value trees (seeded; nil, bool, ints at every boundary, float
64 and float 32, unicode str, bytes, ExtType, Timestamp, nested lists and
dicts):
  1. msgpack.packb(value) equals xipc's encoding byte for byte;
  2. xipc decodes python's bytes to the same value;
  3. python unpacks xipc's bytes to the same value.
Float 32: python writes float 32 only with use_single_float=True (for every
float), so one tree in ten is packed that way and given to xipc as F tokens.

usage: codec_py_test.py CODEC_TOOL [trees [seed]]
"""
import random
import struct
import subprocess
import sys

import msgpack

TOOL = sys.argv[1]
TREES = int(sys.argv[2]) if len(sys.argv) > 2 else 100000
SEED = int(sys.argv[3]) if len(sys.argv) > 3 else 1
rng = random.Random(SEED)

INT_EDGES = [0, 15, 16, 31, 32, 127, 128, 255, 256, 32767, 32768, 65535,
             65536, 2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**63 - 1, 2**63,
             2**64 - 1]
LEN_EDGES = [0, 1, 2, 4, 8, 16, 31, 32, 255, 256]
BIG_EDGES = [65535, 65536]
TS_SECS = [0, 1, 2**32 - 1, 2**32, 2**34 - 1, 2**34, -1, -2**63, 2**63 - 1]


def gen_int():
    r = rng.random()
    if r < 0.5:
        v = rng.choice(INT_EDGES) + rng.randint(-2, 2)
    elif r < 0.8:
        v = rng.getrandbits(rng.randint(1, 64))
    else:
        v = rng.getrandbits(64)
    if rng.random() < 0.5:
        v = -v
    return max(-2**63, min(2**64 - 1, v))


def gen_len():
    r = rng.random()
    if r < 0.8:
        return rng.randint(0, 20)
    if r < 0.998:
        e = rng.choice(LEN_EDGES)
        return max(0, e + rng.randint(-1, 1))
    return rng.choice(BIG_EDGES) + rng.randint(-1, 1)


def gen_float(single):
    if rng.random() < 0.2:
        v = rng.choice([0.0, -0.0, 1.0, -1.5, float("inf"), float("-inf"),
                        float("nan"), 5e-324, 1.7976931348623157e308])
    elif single:
        v = struct.unpack(">f", rng.getrandbits(32).to_bytes(4, "big"))[0]
    else:
        v = struct.unpack(">d", rng.getrandbits(64).to_bytes(8, "big"))[0]
    if single:
        if v != v:
            return float("nan")  # one NaN: float 32 payloads do not survive
        v = struct.unpack(">f", struct.pack(">f", v))[0] \
            if abs(v) <= 3.4028234663852886e38 or v in (float("inf"), float("-inf")) \
            else rng.choice([1.0, -2.0])
    return v


def gen_str():
    n = gen_len()
    r = rng.random()
    if n > 300 or r < 0.5:
        return "".join(chr(rng.randint(32, 126)) for _ in range(n)) \
            if n <= 300 else "x" * n
    # unicode: 1..4 UTF-8 bytes per character, no surrogates
    out = []
    for _ in range(n):
        c = rng.choice([rng.randint(0, 0x7f), rng.randint(0x80, 0x7ff),
                        rng.randint(0x800, 0xd7ff),
                        rng.randint(0xe000, 0xffff),
                        rng.randint(0x10000, 0x10ffff)])
        out.append(chr(c))
    return "".join(out)


def gen_bytes(n=None):
    if n is None:
        n = gen_len()
    return rng.getrandbits(8 * n).to_bytes(n, "big") if n else b""


def gen_ext():
    n = rng.choice([0, 1, 2, 3, 4, 8, 16, 17, gen_len()])
    return msgpack.ExtType(rng.randint(0, 127), gen_bytes(n))


def gen_ts():
    r = rng.random()
    if r < 0.3:
        sec = rng.choice(TS_SECS)
    elif r < 0.6:
        sec = rng.randint(0, 2**34 - 1)
    else:
        sec = rng.randint(-2**63, 2**63 - 1)
    nsec = rng.choice([0, 999999999, rng.randint(0, 999999999)])
    return msgpack.Timestamp(sec, nsec)


SCALARS = ["nil", "bool", "int", "float", "str", "bin", "ext", "ts"]
nodes = 0


def gen_scalar(kind, single):
    if kind == "nil":
        return None
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "int":
        return gen_int()
    if kind == "float":
        return gen_float(single)
    if kind == "str":
        return gen_str()
    if kind == "bin":
        return gen_bytes()
    if kind == "ext":
        return gen_ext()
    return gen_ts()


def gen_key():
    """A dict key python can hash and unpack: no float (1.0 == 1)."""
    kind = rng.choice(["nil", "bool", "int", "str", "bin", "ext", "ts"])
    return gen_scalar(kind, False)


def gen(depth, single):
    global nodes
    nodes += 1
    kinds = SCALARS + (["list", "dict"] if depth < 6 else [])
    kind = rng.choice(kinds)
    if kind == "list" or kind == "dict":
        r = rng.random()
        n = rng.randint(0, 4) if r < 0.9 else rng.randint(14, 17) \
            if r < 0.9995 else rng.choice([65535, 65536])
        big = n > 1000
        if kind == "list":
            if big:
                nodes += n
                return [rng.randint(-40, 200) for _ in range(n)]
            return [gen(depth + 1, single) for _ in range(n)]
        d = {}
        for _ in range(n):
            k = rng.randint(0, 10**12) if big else gen_key()
            if k in d:
                continue
            d[k] = None if big else gen(depth + 1, single)
            nodes += 2
        return d
    return gen_scalar(kind, single)


def render(v, single, out):
    """The text form codec_tool reads and writes."""
    if v is None:
        out.append("n")
    elif v is True:
        out.append("t")
    elif v is False:
        out.append("f")
    elif isinstance(v, int):
        out.append(("u%d" if v >= 0 else "i%d") % v)
    elif isinstance(v, float):
        if single:
            out.append("F" + struct.pack(">f", v).hex())
        else:
            out.append("D" + struct.pack(">d", v).hex())
    elif isinstance(v, str):
        out.append("S" + v.encode("utf-8").hex())
    elif isinstance(v, bytes):
        out.append("B" + v.hex())
    elif isinstance(v, msgpack.Timestamp):
        out.append("T%d:%d" % (v.seconds, v.nanoseconds))
    elif isinstance(v, msgpack.ExtType):
        out.append("E%d:%s" % (v.code, v.data.hex()))
    elif isinstance(v, list):
        out.append("A%d" % len(v))
        for x in v:
            render(x, single, out)
    elif isinstance(v, dict):
        out.append("M%d" % len(v))
        for k, x in v.items():
            render(k, single, out)
            render(x, single, out)
    else:
        raise TypeError(type(v))
    return out


def tool(mode, data):
    p = subprocess.run([TOOL, mode], input=data, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    if p.returncode != 0:
        sys.exit("codec_tool %s failed (%d): %s"
                 % (mode, p.returncode, p.stderr.decode(errors="replace")))
    return p.stdout


def first_diff(a, b):
    i = 0
    n = min(len(a), len(b))
    while i < n and a[i] == b[i]:
        i += 1
    return i


def main():
    values = [gen(0, i % 10 == 9) for i in range(TREES)]
    single = [i % 10 == 9 for i in range(TREES)]
    texts = [" ".join(render(v, s, [])) for v, s in zip(values, single)]

    packer = msgpack.Packer(use_bin_type=True)
    packer32 = msgpack.Packer(use_bin_type=True, use_single_float=True)
    packed = [(packer32 if s else packer).pack(v)
              for v, s in zip(values, single)]
    py_bytes = b"".join(packed)

    # 1. byte for byte
    xipc_bytes = tool("encode", ("\n".join(texts) + "\n").encode())
    if xipc_bytes != py_bytes:
        at = first_diff(xipc_bytes, py_bytes)
        off = 0
        for i, p in enumerate(packed):
            if off + len(p) > at:
                break
            off += len(p)
        sys.exit("value %d differs at byte %d of its encoding:\n  text   %s\n"
                 "  python %s\n  xipc   %s"
                 % (i, at - off, texts[i][:200], packed[i][:64].hex(),
                    xipc_bytes[off:off + 64].hex()))
    print("encode: %d trees (%d values, %d bytes) byte-identical to "
          "msgpack.packb" % (TREES, nodes, len(py_bytes)))

    # 2. xipc decodes python's bytes
    lines = tool("decode", py_bytes).decode().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) != TREES:
        sys.exit("xipc decoded %d values, want %d" % (len(lines), TREES))
    for i, (got, want) in enumerate(zip(lines, texts)):
        if got != want:
            at = first_diff(got, want)
            sys.exit("value %d: xipc decoded\n  %s\nwant\n  %s"
                     % (i, got[max(0, at - 40):at + 80],
                        want[max(0, at - 40):at + 80]))
    print("decode: xipc read python's %d trees back identically" % TREES)

    # 3. python decodes xipc's bytes
    un = msgpack.Unpacker(raw=False, strict_map_key=False, use_list=True,
                          timestamp=0, max_buffer_size=2**31 - 1)
    un.feed(xipc_bytes)
    count = 0
    for i, v in enumerate(un):
        got = " ".join(render(v, single[i], []))
        if got != texts[i]:
            sys.exit("value %d: python unpacked xipc's bytes to\n  %s\nwant\n"
                     "  %s" % (i, got[:200], texts[i][:200]))
        count += 1
    if count != TREES:
        sys.exit("python unpacked %d values, want %d" % (count, TREES))
    print("unpack: python read xipc's %d trees back identically" % TREES)

    # 4. the tool refuses garbage (the test can fail)
    p = subprocess.run([TOOL, "decode"], input=b"\x91\xc1",
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode == 0 or b"EPROTO" not in p.stderr:
        sys.exit("codec_tool decode accepted 0x91 0xc1")
    print("codec_py_test ok (msgpack %s, seed %d)"
          % (".".join(map(str, msgpack.version)), SEED))


main()

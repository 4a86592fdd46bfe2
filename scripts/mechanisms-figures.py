#!/usr/bin/python3
"""The figures of docs/MECHANISMS.md from the benchmark's own JSON.

    /usr/bin/python3 scripts/mechanisms-figures.py LINUX.json WINE.json

LINUX.json from `xipc bench all --quick --json LINUX.json`, WINE.json
from `xipc.exe bench all --quick --json WINE.json` under wine (inside
scripts/with-xvfb.sh, for dde://). Prints, per mechanism, one line:
the median 64 B round trip and the 64 B and 64 KiB throughput on each
OS, "-" where the OS has no such row.
"""
import json
import sys

# section of MECHANISMS.md -> the rows (JSON "transport") that measure it
ROWS = [
    ("file mapping", ["shm", "pubsub"]),
    ("named pipe", ["pipe"]),
    ("anonymous pipe", ["spawn"]),
    ("mailslot", ["mailslot"]),
    ("sockets", ["tcp", "unix"]),
    ("window messages", ["mq"]),
    ("clipboard", ["clipboard"]),
    ("rpc", ["rpc-shm", "rpc-shm-inline", "rpc-tcp"]),
    ("dde", ["dde"]),
]


def load(path):
    with open(path) as f:
        recs = json.load(f)
    out = {}
    for r in recs:
        if r.get("impl") != "xipc" or r.get("subs", 1) not in (None, 1):
            continue
        key = (r["transport"], r["test"], r["size"], r["unit"])
        out.setdefault(key, r["value"])
    return out


def si(v, unit):
    for div, pre in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if v >= div:
            return "%.3g %s%s" % (v / div, pre, unit)
    return "%.3g%s" % (v, unit if unit.startswith(" ") else " " + unit)


def rtt(v):
    if v >= 1e6:
        return "%.3g ms" % (v / 1e6)
    if v >= 1e3:
        return "%.3g µs" % (v / 1e3)
    return "%.0f ns" % v


def figures(d, t):
    r = d.get((t, "rtt", 64, "ns"))
    m = d.get((t, "throughput", 64, "msg/s"))
    b = d.get((t, "throughput", 65536, "B/s"))
    if r is None and m is None:
        return "-"
    parts = [rtt(r) if r is not None else "no round trip"]
    parts.append(si(m, " msg/s") if m is not None else "no stream")
    if b is not None:
        parts.append(si(b, "B/s") + " at 64 KiB")
    return ", ".join(parts)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    lin, win = load(sys.argv[1]), load(sys.argv[2])
    for section, rows in ROWS:
        for t in rows:
            print("%s / %s: Linux %s; wine %s" % (section, t, figures(lin, t), figures(win, t)))


main()

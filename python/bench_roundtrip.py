#!/usr/bin/python3
"""The Python binding's shm:// round trip against the C one, in one run.

    /usr/bin/python3 python/bench_roundtrip.py [--xipc PATH] [--reps N]
                                               [--seconds S] [--size B]

Three figures for a SIZE-byte message (default 64) sent and echoed back
over shm://, each the median of REPS repetitions (default 9) of about
SECONDS each (default 0.2), the repetitions of the Python cases
interleaved:

  C <-> C           `xipc bench shm --quick`, row "shm xipc rtt 64 B",
                    run once before and once after the Python cases
  Python <-> C      this process (Sock.send + Sock.recv) against the C
                    echo peer of the benchmark (`xipc bench --peer xchan`)
  Python <-> Python the same against a Python echo peer (this script
                    with --echo: Sock.recv + Sock.send)

The per-round-trip p50 and p99 come from timing every round trip
(perf_counter_ns, included in the figures). Then one-way messages per
second: Python sending to the C consumer of the benchmark (xchan thr)
against the row "shm xipc throughput 64 B" of the same two C runs. Last,
the CPU time of one Sock.send and one Sock.recv against bare ctypes
calls of xipc_send and xipc_recv, in one process: the binding's cost. A benchmark, not a test: the
numbers depend on the machine and on what else runs; the header says how
busy it was.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import xipc  # noqa: E402

DEFAULT_XIPC = os.path.join(os.path.dirname(HERE), "build", "native", "tools",
                            "xipc", "xipc")


def echo(url):
    """The Python echo peer: dial url, send back every message, stop at an
    empty one."""
    end = time.monotonic() + 10
    while True:
        try:
            s = xipc.dial(url, 5)
            break
        except xipc.ConnectionRefusedError:
            if time.monotonic() > end:
                raise
            time.sleep(0.001)
    with s:
        while True:
            m = s.recv(30)
            if not m:
                return
            s.send(m, 30)


class Peer:
    """A listener at a fresh shm:// name and the echo peer connected to it."""

    def __init__(self, label, tag, argv_for_url):
        self.label = label
        self.url = "shm://py-bench-%d-%s" % (os.getpid(), tag)
        self.lis = xipc.listen(self.url)
        self.proc = subprocess.Popen(argv_for_url(self.url))
        self.sock = self.lis.accept(20)
        self.means, self.samples = [], []

    def run(self, msg, seconds):
        """One repetition: round trips for about @seconds."""
        s, clock = self.sock, time.perf_counter_ns
        send, recv = s.send, s.recv
        times = []
        end = clock() + int(seconds * 1e9)
        t0 = clock()
        while True:
            t = clock()
            send(msg)
            recv()
            times.append(clock() - t)
            if t > end:
                break
        self.means.append((clock() - t0) / len(times))
        self.samples.extend(times)

    def stream(self, msg, seconds):
        """One repetition of one-way messages to a consuming peer, which
        acknowledges a 1-byte message: messages per second."""
        s, clock = self.sock, time.perf_counter_ns
        send, n = s.send, 0
        end = clock() + int(seconds * 1e9)
        t0 = clock()
        while clock() < end:
            for _ in range(1000):
                send(msg)
            n += 1000
        send(b"!")
        s.recv()
        self.means.append(n / ((clock() - t0) / 1e9))

    def close(self):
        self.sock.send(b"")
        self.proc.wait(30)
        self.sock.close()
        self.lis.close()


def call_costs(size, n=20000, reps=7):
    """CPU time per Sock.send and per Sock.recv in one process (the
    messages wait in a large ring, nothing waits), and per bare ctypes
    call of xipc_send and xipc_recv: the binding's own cost."""
    from xipc._lib import lib
    url = "shm://py-bench-%d-calls" % os.getpid()
    ring = 1 << 24
    with xipc.listen(url, ring_capacity=ring) as lis, \
            xipc.dial(url, 5, ring_capacity=ring) as c, lis.accept(5) as s:
        msg = os.urandom(size)
        hp, sp = c._h.ptr, s._h.ptr
        buf, cap, nref = s._buf, s._cap, s._nref

        def api_send():
            for _ in range(n):
                c.send(msg)

        def api_recv():
            for _ in range(n):
                s.recv()

        def raw_send():
            for _ in range(n):
                lib.xipc_send(hp, msg, size, -1)

        def raw_recv():
            for _ in range(n):
                lib.xipc_recv(sp, buf, cap, nref, -1)
        out = {}
        for label, fs, fr in (("Sock", api_send, api_recv), ("ctypes", raw_send, raw_recv)):
            ts, tr = [], []
            for _ in range(reps):
                t = time.process_time()
                fs()
                ts.append(time.process_time() - t)
                t = time.process_time()
                fr()
                tr.append(time.process_time() - t)
            out[label] = (statistics.median(ts) / n * 1e9, statistics.median(tr) / n * 1e9)
    return out


def c_bench(xipc_cli, size):
    """`xipc bench shm --quick`'s shm rows at @size: (round trip ns, its
    p50, its p99), one-way messages per second."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "shm.json")
        subprocess.run([xipc_cli, "bench", "shm", "--quick", "--json", out],
                       check=True, stdout=subprocess.DEVNULL)
        with open(out) as f:
            rows = {(r["transport"], r["test"], r["size"], r["unit"]): r
                    for r in json.load(f)}
    try:
        rtt = rows[("shm", "rtt", size, "ns")]
        thr = rows[("shm", "throughput", size, "msg/s")]
    except KeyError:
        raise SystemExit("bench_roundtrip: xipc bench shm has no shm %d B rows" % size)
    return (rtt["value"], rtt.get("p50"), rtt.get("p99")), thr["value"]


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100.0 * len(xs)))]


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "%s, %d CPUs, %s %s, Python %s" % (
        cpu, os.cpu_count(), platform.system(), platform.release(),
        platform.python_version())


def fmt(ns):
    return "%.2f us" % (ns / 1000.0) if ns >= 1000 else "%.0f ns" % ns


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--xipc", default=DEFAULT_XIPC, help="the xipc program (C side)")
    ap.add_argument("--reps", type=int, default=9)
    ap.add_argument("--seconds", type=float, default=0.2)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--echo", metavar="URL", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.echo:
        return echo(a.echo)
    if a.size != 64:
        raise SystemExit("bench_roundtrip: xipc bench shm measures its rtt at 64 B only")
    print("machine: %s" % machine())
    print("library: %s" % xipc.library_path)
    print("load average at the start: %.2f %.2f %.2f" % os.getloadavg())
    c_before = c_bench(a.xipc, a.size)
    peers = [Peer("Python <-> C", "c", lambda u: [a.xipc, "bench", "--peer",
                                                  "xchan", "-", u, "0", "rtt"]),
             Peer("Python <-> Python", "py", lambda u: [sys.executable, __file__, "--echo", u])]
    sink = Peer("Python -> C", "thr", lambda u: [a.xipc, "bench", "--peer", "xchan",
                                                 "-", u, "0", "thr"])
    msg = os.urandom(a.size)
    for p in peers:  # warm up
        p.run(msg, 0.05)
        p.means, p.samples = [], []
    for _ in range(a.reps):
        for p in peers:
            p.run(msg, a.seconds)
        sink.stream(msg, a.seconds)
    for p in peers + [sink]:
        p.close()
    c_after = c_bench(a.xipc, a.size)
    costs = call_costs(a.size)
    print("load average at the end:   %.2f %.2f %.2f" % os.getloadavg())
    report(a, c_before, c_after, peers, sink)
    print("\nCPU time per call in one process (%d B, median of 7 x 20000):" % a.size)
    for label, (snd, rcv) in costs.items():
        print("  %-8s send %s, recv %s" % (label, fmt(snd), fmt(rcv)))


def report(a, c_before, c_after, peers, sink):
    c_mid = statistics.median([c_before[0][0], c_after[0][0]])
    row = "%-30s %10s %10s %10s %7s"
    print("\nshm:// round trip, %d B: median of %d repetitions of ~%g s "
          "(C: of 9 of ~0.1 s)" % (a.size, a.reps, a.seconds))
    print(row % ("", "median", "p50", "p99", "/ C"))
    for label, (c, _) in (("C <-> C (xipc bench, before)", c_before),
                          ("C <-> C (xipc bench, after)", c_after)):
        print(row % (label, fmt(c[0]), fmt(c[1]), fmt(c[2]), "%.2f" % (c[0] / c_mid)))
    for p in peers:
        med = statistics.median(p.means)
        print(row % (p.label, fmt(med), fmt(pct(p.samples, 50)),
                     fmt(pct(p.samples, 99)), "%.2f" % (med / c_mid)))
    print("/ C: over the median of the two C runs, %s" % fmt(c_mid))
    c_thr = statistics.median([c_before[1], c_after[1]])
    py_thr = statistics.median(sink.means)
    print("\none-way %d B messages per second, medians:" % a.size)
    print("  C -> C (xipc bench, before / after)  %.3g / %.3g" % (c_before[1], c_after[1]))
    print("  Python -> C (Sock.send)              %.3g   (%.3f of C)" % (py_thr, py_thr / c_thr))


if __name__ == "__main__":
    main()

"""Shared by the tests: where things are, unique names, C programs."""
import itertools
import os
import subprocess
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
PYDIR = os.path.dirname(HERE)
ROOT = os.path.dirname(PYDIR)
if PYDIR not in sys.path:
    sys.path.insert(0, PYDIR)

import xipc  # noqa: E402  (after the path above)

# The C programs: ctest passes them; by hand, the in-tree builds.
XIPC_CLI = os.environ.get("XIPC_CLI") or os.path.join(
    ROOT, "build", "native", "tools", "xipc", "xipc")
RUN32 = os.environ.get("XIPC_RUN32") or os.path.join(ROOT, "scripts", "run32")
M32_XIPC = os.environ.get("XIPC_M32_XIPC")  # the m32 build's xipc, or unset

_seq = itertools.count()


def name(tag):
    """A NAME no other test, run or process uses at the same time."""
    return "py-%s-%d-%d" % (tag, os.getpid(), next(_seq))


def dial_retry(url, within=10.0, **kw):
    """Dial url until a listener (a C program starting) is there."""
    end = time.monotonic() + within
    while True:
        try:
            return xipc.dial(url, 5, **kw)
        except xipc.ConnectionRefusedError:
            if time.monotonic() > end:
                raise
            time.sleep(0.01)


class Proc:
    """A C program run for a test: killed if still running at the end."""

    def __init__(self, *argv, **kw):
        self.p = subprocess.Popen(list(argv), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, **kw)

    def stderr_line(self, prefix, within=10.0):
        """Read stderr up to a line starting with prefix (it is a
        pipe: lines before it are dropped)."""
        timer = threading.Timer(within, self.p.kill)  # a silent hang ends too
        timer.start()
        try:
            for line in self.p.stderr:
                if line.startswith(prefix):
                    return line.strip()
        finally:
            timer.cancel()
        raise AssertionError("%s: no stderr line %r within %g s"
                             % (self.p.args, prefix, within))

    def finish(self, within=20.0):
        """(exit status, stdout, stderr) once it has ended."""
        out, err = self.p.communicate(timeout=within)
        return self.p.returncode, out, err

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.p.poll() is None:
            self.p.kill()
        self.p.communicate()


def cli():
    """The xipc program (a missing one fails the test, not skips it)."""
    if not os.access(XIPC_CLI, os.X_OK):
        raise AssertionError("no xipc program at %s (set XIPC_CLI)" % XIPC_CLI)
    return XIPC_CLI


class Case(unittest.TestCase):
    """A TestCase whose endpoints are closed at the end of each test."""

    def keep(self, obj):
        self.addCleanup(obj.close)
        return obj

    def pair(self, scheme, **opts):
        """(listener, dialled connection, accepted connection)."""
        url = {"shm": "shm://%s", "pipe": "pipe://%s", "unix": "unix://@%s",
               "tcp": "tcp://127.0.0.1:0"}[scheme]
        url = url % name(scheme) if "%s" in url else url
        lis = self.keep(xipc.listen(url, **opts))
        c = self.keep(xipc.dial(lis.url, 5, **opts))
        s = self.keep(lis.accept(5))
        return lis, c, s

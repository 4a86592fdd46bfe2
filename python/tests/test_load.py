"""Loading the library, the struct mirrors' check, the error table."""
import ctypes
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from .util import PYDIR, xipc
from xipc import _structs, errors
from xipc._handle import to_ms
from xipc._lib import lib


def _import_in(pkg_parent, env):
    """Import xipc in a fresh interpreter: (exit status, stderr)."""
    p = subprocess.run([sys.executable, "-c", "import xipc"], cwd=pkg_parent,
                       env=env, capture_output=True, text=True, timeout=60)
    return p.returncode, p.stderr


class LoadTest(unittest.TestCase):
    def test_env_path_is_used(self):
        want = os.environ.get("XIPC_LIBRARY")
        if want:
            self.assertEqual(xipc.library_path, want)
        self.assertTrue(os.path.exists(xipc.library_path)
                        or not os.path.isabs(xipc.library_path))

    def test_env_path_missing_says_so(self):
        env = dict(os.environ, XIPC_LIBRARY="/nonexistent/libxipc.so")
        rc, err = _import_in(PYDIR, env)
        self.assertNotEqual(rc, 0)
        self.assertIn("ImportError", err)
        self.assertIn("/nonexistent/libxipc.so", err)
        self.assertIn("XIPC_LIBRARY", err)
        self.assertNotIn("standard name", err)  # nothing else tried

    def test_search_lists_every_attempt(self):
        if ctypes.util.find_library("xipc"):
            self.skipTest("an installed libxipc would be found first")
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp)
        shutil.copytree(os.path.join(PYDIR, "xipc"), os.path.join(tmp, "a", "b", "xipc"))
        env = {k: v for k, v in os.environ.items()
               if k not in ("XIPC_LIBRARY", "LD_LIBRARY_PATH")}
        rc, err = _import_in(os.path.join(tmp, "a", "b"), env)
        self.assertNotEqual(rc, 0)
        for part in ("find_library('xipc'): not found", "libxipc.so.0",
                     "libxipc.so:", os.path.join(tmp, "a", "build", "native", "libxipc.so")):
            self.assertIn(part, err)


class LayoutTest(unittest.TestCase):
    def check(self, cls, init, expect):
        _structs.check_layout(lib, "libxipc", cls, init, expect)

    def test_mirrors_match(self):
        _structs.check_layouts(lib, "libxipc")

    def test_short_mirror_is_caught(self):
        class Short(ctypes.Structure):
            _fields_ = _structs.Opts._fields_[:-1]  # no allow_uid_count
        with self.assertRaisesRegex(xipc.LayoutError, "wrote past"):
            self.check(Short, lib.xipc_opts_init, {})

    def test_long_mirror_is_caught(self):
        class Long(ctypes.Structure):
            _fields_ = _structs.Opts._fields_ + [("extra", ctypes.c_uint64)]
        with self.assertRaisesRegex(xipc.LayoutError, "size is"):
            self.check(Long, lib.xipc_opts_init, {"size": ctypes.sizeof(Long)})

    def test_swapped_fields_are_caught(self):
        f = list(_structs.Opts._fields_)
        f[2], f[3] = f[3], f[2]  # spin_us where ring_capacity is

        class Swapped(ctypes.Structure):
            _fields_ = f
        with self.assertRaisesRegex(xipc.LayoutError, "ring_capacity is 50, expected 1048576"):
            self.check(Swapped, lib.xipc_opts_init, _structs._OPTS_DEFAULTS)

    def test_result_message_offset_is_checked(self):
        f = list(_structs.RpcResult._fields_)
        f[4], f[5] = f[5], f[4]  # message before code

        class Moved(ctypes.Structure):
            _fields_ = f
        with self.assertRaises(xipc.LayoutError):
            self.check(Moved, lib.xipc_rpc_result_init,
                       {"code": 0, "message": b""})


class ErrorTableTest(unittest.TestCase):
    NAMES = {
        xipc.InvalidArgument: "EINVAL", xipc.OutOfMemory: "ENOMEM",
        xipc.TimeoutError: "ETIMEDOUT", xipc.ClosedError: "ECLOSED",
        xipc.MessageTooLarge: "EMSGSIZE", xipc.ProtocolError: "EPROTO",
        xipc.PermissionError: "EPERM", xipc.AddressInUse: "EADDRINUSE",
        xipc.ConnectionRefusedError: "ECONNREFUSED",
        xipc.NotSupported: "ENOTSUP", xipc.StateError: "ESTATE",
        xipc.SystemCallError: "ESYS", xipc.Busy: "EBUSY",
        xipc.OverrunError: "EOVERRUN", xipc.NotFound: "ENOENT",
        xipc.Interrupted: "EINTR", xipc.RemoteError: "EREMOTE",
        xipc.TLSError: "ETLS"}

    def test_codes_match_the_library(self):
        for cls, name in self.NAMES.items():
            self.assertEqual(errors.err_name(cls.code), name, cls)
            self.assertIs(xipc.error_class(cls.code), cls)
            self.assertTrue(issubclass(cls, xipc.Error))

    def test_every_library_code_has_a_class(self):
        code = 1
        while errors.err_name(code) != "EUNKNOWN":
            self.assertIsNot(xipc.error_class(code), xipc.Error, code)
            code += 1
        self.assertEqual(code, len(self.NAMES) + 1)

    def test_strerror(self):
        self.assertEqual(xipc.strerror(3), "timed out")
        self.assertEqual(xipc.strerror(999), "unknown error")
        self.assertIs(xipc.error_class(999), xipc.Error)

    def test_builtin_bases(self):
        self.assertTrue(issubclass(xipc.TimeoutError, TimeoutError))
        self.assertTrue(issubclass(xipc.ConnectionRefusedError, ConnectionRefusedError))
        self.assertTrue(issubclass(xipc.ClosedError, ConnectionError))
        self.assertTrue(issubclass(xipc.InvalidArgument, ValueError))
        self.assertTrue(issubclass(xipc.PermissionError, PermissionError))

    def test_error_fields(self):
        e = errors.make_error(errors.ETIMEDOUT, "recv shm://x", "why")
        self.assertIsInstance(e, xipc.TimeoutError)
        self.assertEqual((e.code, e.name, e.strerror, e.detail),
                         (3, "ETIMEDOUT", "timed out", "why"))
        self.assertEqual(str(e), "recv shm://x: timed out: why")


class TimeoutTest(unittest.TestCase):
    def test_seconds_to_ms(self):
        self.assertEqual(to_ms(None), -1)
        self.assertEqual(to_ms(0), 0)
        self.assertEqual(to_ms(0.0001), 1)  # a wait, not a poll
        self.assertEqual(to_ms(1.5), 1500)
        self.assertEqual(to_ms(10 ** 9), -1)  # beyond int: forever

    def test_bad_timeouts(self):
        for bad in (-1, -0.001, float("nan")):
            with self.assertRaises(xipc.InvalidArgument):
                to_ms(bad)
        with self.assertRaises((TypeError, ValueError)):
            to_ms("soon")


if __name__ == "__main__":
    unittest.main()

"""The README's Python example is python/examples/hello.py, which runs."""
import os
import re
import subprocess
import sys
import unittest

from .util import PYDIR, ROOT


class ReadmeTest(unittest.TestCase):
    def test_readme_shows_the_example_file(self):
        with open(os.path.join(ROOT, "README.md")) as f:
            blocks = re.findall(r"```python\n(.*?)```", f.read(), re.S)
        with open(os.path.join(PYDIR, "examples", "hello.py")) as f:
            self.assertIn(f.read(), blocks)

    def test_example_prints_what_it_says(self):
        env = dict(os.environ, PYTHONPATH=PYDIR)
        p = subprocess.run([sys.executable, os.path.join(PYDIR, "examples", "hello.py")],
                           env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual((p.returncode, p.stdout), (0, "b'hi'\n"), p.stderr)


if __name__ == "__main__":
    unittest.main()

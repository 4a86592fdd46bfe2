#!/bin/sh
# The m32 build's ctest suite, run from the native build's (m32_suite).
#   scripts/m32_suite.sh CTEST M32_BUILD
# It says first how its 32-bit programs run: on the CPU, or under
# qemu-i386 where the kernel cannot run them (scripts/run32, through which
# every one of them starts). Under emulation the whole suite runs all the
# same, two tests at a time: emulated tests wait on qemu more than they
# compute, and one at a time they took 11 minutes of a 2-core machine
# (docs/testing.md, "32-bit programs"). Neither possible: it fails with
# the reason, it never passes without having run.
set -eu
ctest=${1:?usage: m32_suite.sh CTEST M32_BUILD}
build=${2:?usage: m32_suite.sh CTEST M32_BUILD}
run32=$(dirname "$0")/run32
probe=$build/tests/layout_test
if [ ! -f "$probe" ]; then
    echo "m32_suite: $probe is not built" >&2
    exit 1
fi
how=$("$run32" --how "$probe")
if [ "$how" = native ]; then
    echo "m32_suite: the 32-bit programs run on the CPU, one test at a time"
    jobs=1
else
    echo "m32_suite: every 32-bit program of this suite runs under $how (scripts/run32), two tests at a time"
    jobs=2
fi
exec "$ctest" --output-on-failure -j"$jobs" --test-dir "$build"

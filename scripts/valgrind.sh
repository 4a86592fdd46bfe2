#!/bin/sh
# Valgrind memcheck over the native test binaries (docs/testing.md).
#
#   scripts/valgrind.sh [-j JOBS] BUILD [TEST...]
#
# BUILD is a native (gcc, unsanitized) build folder; each test of the list
# below (or those named) runs under memcheck with the arguments given here,
# JOBS at a time (default 1): the long runs get small counts, so the whole
# list stays within a few minutes (pubsub_test keeps 100000: its peers run
# without memcheck anyway, and its shorter runs shrink the ring below what its
# 32-bit publisher group needs). Any memcheck error, a definite or indirect
# leak, or a failing test fails the run. Children a test starts with exec
# (peers, spawned programs) run without memcheck (--trace-children=no),
# through scripts/run32 (a 32-bit peer under qemu-i386 where the kernel
# cannot run 32-bit programs); children it
# forks run under memcheck too, and their reports (they exit without
# tidying up) are not wanted: --child-silent-after-fork.
# Logs: BUILD/valgrind-logs/<test>.log.
set -eu

# name|arguments (TESTS: the tests folder of BUILD, SRC: the source tree),
# the longest first
LIST='tls_test|SRC/tests/tls_interop_test.sh
ring_test|
pubsub_test|"" 100000
rpc_test|
conform_test:unix|unix TESTS/conform_test
codec_test|
conform_test:tcp|tcp TESTS/conform_test
mailslot_test|
shm_test|
corrupt_test|120
codec_diff_test|2000
rpc_wire_test|
rpc_xbit_test|TESTS/rpc_peer 64
conform_test:shm|shm TESTS/conform_test
mq_test|
spawn_test|
ls_test|
inspect_test|TESTS/inspect_target TESTS/../tools/xipc/xipc
err_test|
url_test|
opts_test|
stream_more_test|20000
layout_test|'
# Not here: xbit_test (it wants the 32-bit peer of the m32 build; the
# asan_suite runs it under LeakSanitizer).

# --one BUILD NAME: run one test of the list, write BUILD/valgrind-logs/NAME.sum
if [ "${1:-}" = "--one" ]; then
    build=$2
    name=$3
    t=$build/tests
    src=$(cd "$(dirname "$0")/.." && pwd)
    args=$(echo "$LIST" | sed -n "s/^$name|//p" | sed "s|TESTS|$t|g; s|SRC|$src|g")
    base=$(echo "$name" | tr ':' '-')
    log=$build/valgrind-logs/$base.log
    sum=$build/valgrind-logs/$base.sum
    start=$(date +%s)
    rc=0
    eval "valgrind -q --tool=memcheck --error-exitcode=97 --leak-check=full \
        --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
        --trace-children=no --child-silent-after-fork=yes \
        \"$t/${name%%:*}\" $args" >"$log" 2>&1 || rc=$?
    secs=$(($(date +%s) - start))
    if [ "$rc" -eq 0 ]; then
        echo "$name: ok (${secs} s)" >"$sum"
        exit 0
    fi
    if [ "$rc" -eq 97 ]; then
        echo "$name: MEMCHECK ERRORS (${secs} s), log $log" >"$sum"
        grep -E '^==[0-9]+==' "$log" | head -n 40 >>"$sum"
    else
        echo "$name: FAILED, exit $rc (${secs} s), log $log" >"$sum"
        grep -v '^--' "$log" | tail -n 20 >>"$sum"
    fi
    exit 1
fi

jobs=1
case ${1:-} in
-j) jobs=$2; shift 2 ;;
-j*) jobs=${1#-j}; shift ;;
esac
if [ $# -lt 1 ]; then
    echo "usage: $0 [-j JOBS] BUILD [TEST...]" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
shift
command -v valgrind >/dev/null || { echo "valgrind: not installed" >&2; exit 1; }
# valgrind runs a 32-bit build's tests with its x86 tools, which are 32-bit
# programs themselves: qemu-i386 cannot stand in for the kernel there. The
# peers the tests start go through scripts/run32 (tests/run32.h) as always.
how=$("$(dirname "$0")/run32" --how "$build/tests/layout_test")
if [ "$how" != native ]; then
    echo "valgrind.sh: $build is a 32-bit build and valgrind's x86 tools would need $how: run it on a kernel that runs 32-bit programs" >&2
    exit 1
fi
logs=$build/valgrind-logs
mkdir -p "$logs"
rm -f "$logs"/*.sum

names=""
for name in $(echo "$LIST" | sed 's/|.*//'); do
    if [ $# -gt 0 ]; then
        case " $* " in *" $name "*) ;; *) continue ;; esac
    fi
    if [ ! -x "$build/tests/${name%%:*}" ]; then
        echo "$name: not built, skipped"
        continue
    fi
    names="$names $name"
done

[ -n "$names" ] || exit 0
rc=0
# shellcheck disable=SC2086
printf '%s\n' $names | xargs -P "$jobs" -I{} sh "$0" --one "$build" {} || rc=1
for name in $names; do
    cat "$logs/$(echo "$name" | tr ':' '-').sum" 2>/dev/null ||
        { echo "$name: no result"; rc=1; }
done
exit $rc

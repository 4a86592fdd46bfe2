#!/bin/sh
# Valgrind memcheck over the native test binaries (docs/testing.md).
#
#   scripts/valgrind.sh BUILD [TEST...]
#
# BUILD is a native (gcc, unsanitized) build folder; each test of the list
# below (or those named) runs under memcheck with the arguments given here:
# the long runs get small counts, so the whole list stays within a few
# minutes (pubsub_test keeps 100000: its peers run natively anyway, and
# its shorter runs shrink the ring below what its 32-bit publisher group
# needs). Any memcheck error, a definite or indirect leak, or a failing
# test fails the run. Children a test starts with exec (peers, spawned
# programs) run natively (--trace-children=no); children it forks run under
# memcheck too, and their reports (they exit without tidying up) are not
# wanted: --child-silent-after-fork. Logs: BUILD/valgrind-logs/<test>.log.
set -eu

if [ $# -lt 1 ]; then
    echo "usage: $0 BUILD [TEST...]" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
shift
t=$build/tests
src=$(cd "$(dirname "$0")/.." && pwd)

# name|arguments (TESTS: the tests folder of BUILD, SRC: the source tree)
LIST='err_test|
url_test|
opts_test|
layout_test|
codec_test|
codec_diff_test|2000
ring_test|
shm_test|
corrupt_test|120
mailslot_test|
mq_test|
spawn_test|
conform_test:shm|shm TESTS/conform_test
conform_test:unix|unix TESTS/conform_test
conform_test:tcp|tcp TESTS/conform_test
pubsub_test|"" 100000
rpc_wire_test|
rpc_test|
rpc_xbit_test|TESTS/rpc_peer 64
tls_test|SRC/tests/tls_interop_test.sh
ls_test|'
# Not here: xbit_test (it wants the 32-bit peer of the m32 build; the
# asan_suite runs it under LeakSanitizer).

command -v valgrind >/dev/null || { echo "valgrind: not installed" >&2; exit 1; }
logs=$build/valgrind-logs
mkdir -p "$logs"
rm -f "$logs/.failed" # the loop below runs in a subshell: it fails through this file
echo "$LIST" | while IFS='|' read -r name args; do
    if [ $# -gt 0 ]; then
        case " $* " in *" $name "*) ;; *) continue ;; esac
    fi
    exe=$t/${name%%:*}
    if [ ! -x "$exe" ]; then
        echo "$name: not built, skipped"
        continue
    fi
    log=$logs/$(echo "$name" | tr ':' '-').log
    args=$(echo "$args" | sed "s|TESTS|$t|g; s|SRC|$src|g")
    start=$(date +%s)
    rc=0
    # shellcheck disable=SC2086
    eval "valgrind -q --tool=memcheck --error-exitcode=97 --leak-check=full \
        --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
        --trace-children=no --child-silent-after-fork=yes --track-origins=no \
        \"$exe\" $args" >"$log" 2>&1 || rc=$?
    secs=$(($(date +%s) - start))
    if [ "$rc" -eq 0 ]; then
        echo "$name: ok (${secs} s)"
    elif [ "$rc" -eq 97 ]; then
        echo "$name: MEMCHECK ERRORS (${secs} s), log $log"
        grep -E '^==[0-9]+==' "$log" | head -n 40
        echo fail >>"$logs/.failed"
    else
        echo "$name: FAILED, exit $rc (${secs} s), log $log"
        tail -n 20 "$log"
        echo fail >>"$logs/.failed"
    fi
done
if [ -f "$logs/.failed" ]; then
    rm -f "$logs/.failed"
    exit 1
fi
exit 0

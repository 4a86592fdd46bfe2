#!/bin/sh
# `xipc bench all --smoke` on one OS: every row this OS has gives a number
# (the JSON records: a round trip of 64 B in ns, a stream of 64 B in
# msg/s, each above 0), every row it lacks prints as not available, and
# nothing fails. What the numbers are is not judged (no timing is
# asserted: the machine is shared).
#   sh bench_smoke_test.sh linux PATH/TO/xipc
#   sh bench_smoke_test.sh windows PATH/TO/xipc.exe WINEPREFIX
# windows: xipc.exe under wine (scripts/wine-run.sh) in WINEPREFIX, run
# inside a display of its own (scripts/with-xvfb.sh: dde:// needs one), this
# test's own: the clipboard is one per prefix, and another test's values
# would replace ours. Its wineserver is killed at the end with whatever
# still runs in it.
set -u

USAGE="usage: bench_smoke_test.sh linux PATH/TO/xipc | windows PATH/TO/xipc.exe WINEPREFIX"
OS=${1:?$USAGE}
EXE=${2:?$USAGE}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/xipc_bench_smoke.XXXXXX") || exit 1
FAILS=0

fail() {
    echo "FAIL: $*" >&2
    FAILS=$((FAILS + 1))
}

case $OS in
linux)
    # the m32 build's xipc too: scripts/run32 starts it (under qemu-i386
    # where the kernel cannot run 32-bit programs), a 64-bit one as it is
    RUN="$(cd "$(dirname "$0")/../scripts" && pwd)/run32"
    # transports with a round trip, with a 64 B stream, and rows that
    # must say they are not available here
    RTT="shm pubsub pipe unix tcp mailslot mq spawn rpc-shm rpc-shm-inline rpc-unix rpc-tcp
         raw-spin raw-pipe raw-unix raw-tcp"
    THR="shm pubsub pipe unix tcp unix-more tcp-more mailslot mq spawn rpc-shm rpc-shm-inline
         rpc-unix rpc-tcp raw-pipe raw-unix raw-tcp memcpy"
    NA="clipboard|dde"
    trap 'rm -rf "$TMP"' EXIT
    ;;
windows)
    PREFIX=${3:?$USAGE}
    mkdir -p "$PREFIX" || exit 1
    XIPC_WINEPREFIX=$(cd "$PREFIX" && pwd)
    export XIPC_WINEPREFIX
    RUN="sh $(cd "$(dirname "$0")/../scripts" && pwd)/wine-run.sh"
    # mq:// is WM_COPYDATA there, spawn the anonymous pipe of xipc_spawn
    RTT="shm pubsub pipe tcp mailslot mq clipboard dde spawn rpc-shm rpc-shm-inline rpc-tcp"
    THR="shm pubsub pipe tcp tcp-more mailslot mq dde spawn rpc-shm rpc-shm-inline rpc-tcp memcpy"
    # wine has no AF_UNIX; the raw baselines are POSIX only so far
    NA="unix|unix more|rpc unix|raw spin|raw pipe|raw unix|raw tcp"
    WINESERVER=/usr/lib/wine/wineserver
    [ -x "$WINESERVER" ] || WINESERVER=$(command -v wineserver || echo /nonexistent)
    trap 'WINEPREFIX=$XIPC_WINEPREFIX "$WINESERVER" -k 2>/dev/null; rm -rf "$TMP"' EXIT
    ;;
*)
    echo "$USAGE" >&2
    exit 2
    ;;
esac

# a path wine maps too (Z: is /)
$RUN "$EXE" bench all --smoke --json "$TMP/all.json" >"$TMP/out" 2>"$TMP/err"
RC=$?
cat "$TMP/out"
[ "$RC" -eq 0 ] || fail "exit $RC: $(cat "$TMP/err")"
if grep '^failed: ' "$TMP/out" >&2; then
    fail "a row failed (above)"
fi

# record TRANSPORT TEST UNIT: a record of 64 B with a value above 0
record() {
    grep -q "{\"transport\": \"$1\", \"impl\": \"[a-z]*\", \"test\": \"$2\", \"size\": 64, \"value\": [0-9.]*[1-9][0-9.]*, \"unit\": \"$3\"" "$TMP/all.json"
}
for t in $RTT; do
    record "$t" rtt ns || fail "$t: no round trip of 64 B in the JSON"
done
for t in $THR; do
    record "$t" throughput msg/s || fail "$t: no stream of 64 B in the JSON"
done
echo "$NA" | tr '|' '\n' | while read -r row; do
    grep -q "^skipped: $row: not available here" "$TMP/out" || {
        echo "FAIL: $row: not reported as not available here" >&2
        exit 1
    }
done || FAILS=$((FAILS + 1))

if [ "$FAILS" -ne 0 ]; then
    echo "bench_smoke_test $OS: $FAILS failed" >&2
    exit 1
fi
echo "bench_smoke_test $OS ok"

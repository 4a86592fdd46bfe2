#!/bin/sh
# make demo: a 32-bit receiver and a 64-bit sender over shm://, each
# printing its pointer width; an RPC call from a 64-bit client to a 32-bit
# server, each printing its pointer width; then the comparison benchmark
# (xipc bench all --quick) and its chart, build/bench.svg.
# The 32-bit programs start through scripts/run32: under qemu-i386 where
# the kernel cannot run 32-bit programs, and their lines say so.
# Then the Windows part (scripts/demo-windows.sh): the win64 build's
# xipc.exe under wine and this xipc exchange messages over tcp://, and
# the Windows table (xipc.exe bench all --quick); where wine64 or the
# win64 build is missing it says so, and the demo still succeeds.
set -eu
B=${1:-build}
X64=$B/native/tools/xipc/xipc
X32=$B/m32/tools/xipc/xipc
RUN32=$(dirname "$0")/run32
url="shm://xipc-demo-$$"

how=$("$RUN32" --how "$X32") # fails with the reason when nothing can run it
if [ "$how" != native ]; then
    echo "(the 32-bit programs below run under $how)"
fi
echo "== 1. a 32-bit process receives, a 64-bit process sends, over $url"
"$RUN32" "$X32" recv -w -n 3 --timeout 20000 "$url" &
rpid=$!
trap 'kill $rpid 2>/dev/null || true' EXIT INT TERM
# the receiver listens first; the sender retries until it is there
i=0
until "$X64" send -w --timeout 2000 "$url" "hello from a 64-bit process" \
      "messages keep their boundaries" "zero bytes of configuration" 2>/tmp/xipc-demo-send.$$; do
    i=$((i + 1))
    if [ $i -ge 100 ]; then
        cat /tmp/xipc-demo-send.$$ >&2
        exit 1
    fi
    sleep 0.05
done
grep -v "connection refused" /tmp/xipc-demo-send.$$ >&2 || true
rm -f /tmp/xipc-demo-send.$$
wait $rpid
trap - EXIT INT TERM

echo
echo "== 2. an RPC call: a 32-bit server (xipc serve), a 64-bit client (examples/rpc_sysinfo)"
rurl="shm://xipc-demo-rpc-$$"
"$RUN32" "$X32" serve -w "$rurl" &
spid=$!
trap 'kill $spid 2>/dev/null || true' EXIT INT TERM
"$B/native/examples/rpc_sysinfo" "$rurl"
kill -TERM $spid
wait $spid
trap - EXIT INT TERM

echo
echo "== 3. xipc bench all --quick: every mechanism against ZeroMQ, nng, D-Bus and the raw baselines"
"$X64" bench all --quick --plot "$B/bench.svg"
echo "chart: $B/bench.svg"

echo
# inside a display of its own where Xvfb is there: the DDE row needs one
if command -v Xvfb >/dev/null 2>&1; then
    sh "$(dirname "$0")/with-xvfb.sh" sh "$(dirname "$0")/demo-windows.sh" "$B"
else
    sh "$(dirname "$0")/demo-windows.sh" "$B"
fi

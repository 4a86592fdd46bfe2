#!/bin/sh
# The figures of docs/host.md ("Overhead"):
#   sh examples/legacy32/overhead.sh build/native build/m32 [N]
# For each of: the 64-bit host of the 64-bit libvendor_native, and the
# 32-bit host of the 32-bit libvendor (both ends started through
# scripts/run32: emulated where the kernel cannot run 32-bit programs),
# each over shm:// (workers, then --inline) and unix://: examples'
# overhead program of the same bitness times N direct calls of vendor_add
# and N through the host.
set -eu
NATIVE=$(cd "${1:?usage: overhead.sh NATIVE_BUILD M32_BUILD [N]}" && pwd)
M32=$(cd "${2:?usage: overhead.sh NATIVE_BUILD M32_BUILD [N]}" && pwd)
N=${3:-20000}
HERE=$(cd "$(dirname "$0")" && pwd)
RUN32=$HERE/../../scripts/run32
XIPC=$NATIVE/tools/xipc/xipc
TAG=ovh$$
ERR=$(mktemp)
trap 'rm -f "$ERR"' EXIT

# measure BITS LIB OVERHEAD_PROG [HOST OPTIONS...]
measure() {
    bits=$1 lib=$2 prog=$3
    shift 3
    for mode in workers inline; do
        opt=""
        [ $mode = inline ] && opt=--inline
        : >"$ERR"
        "$XIPC" host $opt "$@" "$lib" --sig "$HERE/vendor.sig" "shm://$TAG" "unix://@$TAG" \
            2>"$ERR" &
        pid=$!
        i=0
        until grep -q 'functions, pid' "$ERR"; do
            i=$((i + 1))
            [ $i -lt 3000 ] || { cat "$ERR" >&2; exit 1; }
            sleep 0.02
        done
        urls="shm://$TAG"
        [ $mode = workers ] && urls="$urls unix://@$TAG"
        for url in $urls; do
            echo "== $bits-bit host, $mode, $url"
            "$RUN32" "$prog" "$lib" "$url" "$N"
        done
        kill "$pid"
        wait "$pid" || true
    done
}

echo "overhead.sh: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
measure 64 "$NATIVE/examples/legacy32/libvendor_native.so" "$NATIVE/examples/legacy32/overhead"
echo "32-bit programs: $("$RUN32" --how "$M32/tools/xipc/xipc")"
measure 32 "$M32/examples/legacy32/libvendor.so" "$M32/examples/legacy32/overhead" \
    --host32 "$M32/tools/xipc/xipc" --run32 "$RUN32"

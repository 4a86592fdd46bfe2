#!/bin/sh
# Instructions per operation on the library's hot paths (docs/BENCHMARKS.md,
# "Instructions per operation"): bench/count.c's operations, each run for N
# and 2N operations; (count(2N) - count(N)) / N takes the setup out.
#
#   sh scripts/count.sh XIPC_COUNT                 print the table
#   sh scripts/count.sh --check FILE XIPC_COUNT    also compare with FILE
#
# The counter: valgrind --tool=callgrind (its "totals", every thread),
# except for a 32-bit program that scripts/run32 would start under
# qemu-i386 (valgrind's x86 tools are 32-bit programs themselves): there
# qemu-i386's own log of every instruction it executes (-singlestep -d
# exec). The two agree within about 1 % on a 64-bit build (the shm round
# trip: 928 and 917).
#
# Lines: BITS OP INSTRUCTIONS COUNTER. With --check, FILE holds such lines
# (the recorded figures; '#' starts a comment); an operation that grew by
# more than 10 % over its figure for the same BITS fails (exit 1), one
# that shrank by more than 10 % is noted (record it: it is a gain).
set -eu

CHECK=""
if [ "${1:-}" = "--check" ]; then
    CHECK=${2:?usage: count.sh [--check FILE] XIPC_COUNT}
    shift 2
fi
PROG=${1:?usage: count.sh [--check FILE] XIPC_COUNT}
HERE=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/xipc_count.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

case $(od -An -j4 -N1 -tu1 "$PROG" | tr -d ' ') in
1) BITS=32 ;;
2) BITS=64 ;;
*) echo "count.sh: $PROG: not an ELF program" >&2; exit 2 ;;
esac
COUNTER=callgrind
if [ "$BITS" = 32 ] && [ "$(sh "$HERE/run32" --how "$PROG" 2>/dev/null)" != native ]; then
    COUNTER=qemu
    command -v qemu-i386 >/dev/null || { echo "count.sh: no qemu-i386" >&2; exit 2; }
fi
if [ "$COUNTER" = callgrind ] && ! command -v valgrind >/dev/null; then
    echo "count.sh: no valgrind" >&2
    exit 2
fi

# instructions OP N: all the instructions of one run of PROG OP N
instructions() {
    if [ "$COUNTER" = qemu ]; then
        qemu-i386 -singlestep -d exec,nochain -D "$TMP/log" "$PROG" "$1" "$2" \
            >/dev/null 2>"$TMP/err" || return 1
        grep -c '^Trace' "$TMP/log"
        rm -f "$TMP/log"
    else
        valgrind --tool=callgrind --callgrind-out-file="$TMP/cg" "$PROG" "$1" "$2" \
            >/dev/null 2>"$TMP/err"
        sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$TMP/cg"
    fi
}

# median OP N RUNS: the median count of RUNS runs (1 or 3)
median() {
    for i in $(seq "$3"); do
        instructions "$1" "$2" || { echo "count.sh: $1: $(cat "$TMP/err")" >&2; exit 1; }
    done | sort -n | sed -n "$((($3 + 1) / 2))p"
}

# per_op OP N RUNS: (instructions(2N) - instructions(N)) / N, each the
# median of RUNS runs
per_op() {
    a=$(median "$1" "$2" "$3")
    b=$(median "$1" $(($2 * 2)) "$3")
    if [ -z "$a" ] || [ -z "$b" ] || [ "$b" -le "$a" ]; then
        echo "count.sh: $1: no count ($a, $b): $(cat "$TMP/err")" >&2
        exit 1
    fi
    echo $(((b - a) / $2))
}

FAILS=0
# check OP N: compare with the recorded figure
check() {
    [ -n "$CHECK" ] || return 0
    want=$(awk -v b="$BITS" -v o="$1" '$1 == b && $2 == o { print $3 }' "$CHECK")
    if [ -z "$want" ]; then
        echo "count.sh: $BITS-bit $1: no recorded figure in $CHECK" >&2
        FAILS=$((FAILS + 1))
    elif [ $(($2 * 100)) -gt $((want * 110)) ]; then
        echo "count.sh: $BITS-bit $1: $2 instructions, more than 10 % over the recorded $want" >&2
        FAILS=$((FAILS + 1))
    elif [ $(($2 * 100)) -lt $((want * 90)) ]; then
        echo "count.sh: $BITS-bit $1: $2 instructions, more than 10 % under the recorded $want: record the gain in $CHECK"
    fi
}

# OP:N. Not checked, but printed:
# - memcpy64k and copy64k: what memcpy executes depends on the CPU (glibc
#   picks rep movsb or a vector loop by its features; rep movsb counts one
#   instruction a byte): checked is copy64k-beyond, the instructions of a
#   64 KiB transfer beyond its two copies;
# - the RPC operations under qemu. They hand calls between threads, whose
#   turns change their counts: under callgrind (one thread at a time) by a
#   few per cent, so they take the median of three runs; under qemu, where
#   the threads run at once on the host's CPUs, by tens of per cent (up to
#   1.7x measured, even with the threads held on one CPU).
COPY=0
for spec in shm:200 copy64k:20 zc64k:200 memcpy64k:20 rpc-inline:50 rpc-worker:50; do
    op=${spec%%:*}
    runs=1
    mark=$COUNTER
    case $op in
    rpc-*) if [ "$COUNTER" = qemu ]; then mark="$COUNTER unchecked"; else runs=3; fi ;;
    copy64k | memcpy64k) mark="$COUNTER unchecked" ;;
    esac
    if [ -n "$CHECK" ] && [ "$mark" = "qemu unchecked" ] && [ "$op" != copy64k ]; then
        echo "$BITS $op - left out: unchecked under qemu"
        continue
    fi
    n=$(per_op "$op" "${spec#*:}" "$runs")
    echo "$BITS $op $n $mark"
    case $op in
    copy64k) COPY=$n ;;
    memcpy64k)
        echo "$BITS copy64k-beyond $((COPY - n)) $COUNTER"
        check copy64k-beyond $((COPY - n))
        ;;
    *) [ "$mark" = "$COUNTER" ] && check "$op" "$n" ;;
    esac
done
[ "$FAILS" -eq 0 ]

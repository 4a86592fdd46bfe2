#!/bin/sh
# The library of revision REV against this tree's, side by side: the same
# public-API round trip (bench/ab/pingpong.c) linked against each, run in
# turns ROUNDS times per URL; prints each pair, the medians and new/old.
# It tells a change of the library from one of the benchmark harness.
#
#   scripts/bench-ab.sh REV [ROUNDS [URL...]]      (default: 9 shm://ab)
set -eu
rev=${1:?usage: scripts/bench-ab.sh REV [ROUNDS [URL...]]}
rounds=${2:-9}
[ $# -ge 2 ] && shift 2 || shift $#
[ $# -eq 0 ] && set -- shm://ab
top=$(cd "$(dirname "$0")/.." && pwd)
work=$top/build/ab
rm -rf "$work/old"
mkdir -p "$work"
git -C "$top" worktree remove --force "$work/old-src" 2>/dev/null || true
git -C "$top" worktree add --detach "$work/old-src" "$rev" >/dev/null
build() { # SRC OUT: the static library of SRC
    cmake -S "$1" -B "$2" >/dev/null && cmake --build "$2" -j2 --target xipc_static >/dev/null
}
build "$work/old-src" "$work/old"
build "$top" "$work/new"
libs="-lssl -lcrypto -lpthread -lrt"
cc -O2 -o "$work/pp-old" "$top/bench/ab/pingpong.c" -I"$work/old-src/include" "$work/old/libxipc.a" $libs
cc -O2 -o "$work/pp-new" "$top/bench/ab/pingpong.c" -I"$top/include" "$work/new/libxipc.a" $libs
git -C "$top" worktree remove --force "$work/old-src"
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
for url in "$@"; do
    echo "$url: 64-byte round trip, ns (median of 21 batches of 20000), old $rev / new"
    : >"$work/old.txt"; : >"$work/new.txt"
    i=0
    while [ $i -lt "$rounds" ]; do
        o=$("$work/pp-old" "$url" 21 20000); n=$("$work/pp-new" "$url" 21 20000)
        echo "  $o $n"; echo "$o" >>"$work/old.txt"; echo "$n" >>"$work/new.txt"
        i=$((i + 1))
    done
    o=$(median <"$work/old.txt"); n=$(median <"$work/new.txt")
    echo "  median: old $o, new $n, new/old $(awk "BEGIN {printf \"%.3f\", $n / $o}")"
done

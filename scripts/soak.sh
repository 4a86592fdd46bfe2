#!/bin/sh
# Soak the crash tests: every fault_test transport with many kills.
#
#   scripts/soak.sh BUILD_DIR [KILLS] [SCHEME...]
#
# BUILD_DIR is a configured and built folder (the Makefile passes
# build/native); KILLS defaults to 5000 per transport; SCHEME defaults to
# all of them. Each transport prints its summary line (docs/fault.md); the
# first failure stops the soak and prints the seed that reproduces it.
# FAULT_STRICT=1 in the environment turns the known library bugs the
# tests count (docs/fault.md, "Bugs found") into failures. An m32 build's
# fault_test runs through scripts/run32 (under qemu-i386 where the kernel
# cannot run 32-bit programs), like everything it starts.
set -eu

build=${1:?usage: soak.sh BUILD_DIR [KILLS] [SCHEME...]}
kills=${2:-5000}
[ $# -ge 2 ] && shift 2 || shift $#
schemes=${*:-"shm pipe unix unix-abstract tcp spawn mailslot mq pubsub rpc"}
exe=$build/tests/fault_test
[ -x "$exe" ] || { echo "soak.sh: $exe not built" >&2; exit 2; }

run32=$(dirname "$0")/run32
how=$("$run32" --how "$exe")
[ "$how" = native ] || echo "soak: $exe: 32-bit ($how)"
start=$(date +%s)
for s in $schemes; do
    "$run32" "$exe" "$s" "$kills" || { echo "soak.sh: fault_test $s failed" >&2; exit 1; }
done
echo "soak: $kills kills per transport passed ($schemes) in $(( $(date +%s) - start )) s"

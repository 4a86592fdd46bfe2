#!/bin/sh
# examples/legacy32 end to end (docs/host.md):
#   sh legacy32_test.sh XIPC M32_XIPC LIBVENDOR CALLER [LIBVENDOR_NATIVE]
# XIPC is the 64-bit xipc, M32_XIPC the m32 build's, LIBVENDOR the 32-bit
# libvendor.so, CALLER the 64-bit caller; LIBVENDOR_NATIVE a 64-bit build
# of the same library. `xipc host` serves the 32-bit library from the
# 32-bit xipc (through scripts/run32: under qemu-i386 where the kernel
# cannot run 32-bit programs) over shm:// and unix://; the C caller uses
# shm://, caller.py (/usr/bin/python3, stock msgpack) unix://. Then the
# library crashes: the call fails with XIPC_ECLOSED, the supervisor says
# why and, with --restart, the next call works; without, it exits 1.
# Bad command lines and libraries are refused with their reason.
set -u

USAGE="usage: legacy32_test.sh XIPC M32_XIPC LIBVENDOR CALLER [LIBVENDOR_NATIVE]"
XIPC=${1:?$USAGE}
M32=${2:?$USAGE}
LIB32=${3:?$USAGE}
CALLER=${4:?$USAGE}
LIB64=${5:-}
HERE=$(cd "$(dirname "$0")" && pwd)
SIG=$HERE/vendor.sig
RUN32=$(cd "$HERE/../../scripts" && pwd)/run32
# shellcheck source=../../tools/xipc/cli_test_lib.sh
. "$HERE/../../tools/xipc/cli_test_lib.sh"
cli_setup legacy xipc_legacy
GUARD=$(cli_guard 120)
GUARD_BG=$(cli_guard 400)
cli_run32 "$M32" # fails the test when no way to run it
SHM=shm://legacy$TAG
UNIX=unix://@legacy$TAG

# host NAME ARGS...: `xipc host ARGS...` in the background, stderr in
# $TMP/NAME.err; BPID the pid to reap
host() {
    name=$1
    shift
    : >"$TMP/$name.err"
    $GUARD_BG "$XIPC" host "$@" </dev/null >"$TMP/$name.out" 2>"$TMP/$name.err" &
    BPID=$!
    BG="$BG $BPID"
}

# serving NAME COUNT: wait until the host in $TMP/NAME.err has said COUNT
# times that it serves (a restart says it again); HPID the newest host's pid
serving() {
    if ! wait_lines "$TMP/$1.err" '^host: .*functions, pid' "$2" 120; then
        fail "host $1 did not serve (#$2): $(cat "$TMP/$1.err")"
        return 1
    fi
    HPID=$(sed -n 's/^host: .*functions, pid \([0-9]*\),.*/\1/p' "$TMP/$1.err" | tail -n 1)
    return 0
}

# calls WHAT PROG ARGS...: PROG exits 0 (its checks passed)
calls() {
    what=$1
    shift
    if $GUARD "$@" >"$TMP/out" 2>"$TMP/err"; then ok; else
        fail "$what: $(cat "$TMP/out" "$TMP/err")"
    fi
    grep -v "^ok " "$TMP/out" | sed "s|^|$what: |"
}

# 1. the 32-bit library, served by the 32-bit xipc, called from 64 bits
host h --restart --host32 "$M32" --run32 "$RUN32" "$LIB32" --sig "$SIG" "$SHM" "$UNIX"
if serving h 1; then
    if grep -q "^host: $LIB32: 12 functions, pid [0-9]*, pointer width 32 bits" "$TMP/h.err"
    then ok; else fail "the host is not 32-bit: $(cat "$TMP/h.err")"; fi
    calls "C over shm://" "$CALLER" "$SHM" 32
    calls "Python over unix://" /usr/bin/python3 "$HERE/caller.py" "$UNIX" 32
    # 2. a crash in the library: the call fails, the host comes back
    calls "crash" "$CALLER" "$SHM" 32 crash
    if serving h 2; then
        if grep -q "^xipc: host: $LIB32: the host process [0-9]* died of signal 11 (Segmentation fault).*restarting" "$TMP/h.err"
        then ok; else fail "no clear report of the crash: $(cat "$TMP/h.err")"; fi
        calls "C after the restart" "$CALLER" "$SHM" 32
        calls "Python after the restart" /usr/bin/python3 "$HERE/caller.py" "$UNIX" 32
    fi
    # 3. a signal stops the supervisor and its host
    kill -TERM "$BPID"
    reap "$BPID"
    expect_rc "the supervisor stopped by SIGTERM" 0
    if kill -0 "$HPID" 2>/dev/null; then fail "host $HPID outlived its supervisor"; else ok; fi
fi

# 4. without --restart, a crash ends the supervisor: exit 1, and why
host n --host32 "$M32" --run32 "$RUN32" "$LIB32" --sig "$SIG" "$SHM"
if serving n 1; then
    calls "crash without --restart" "$CALLER" "$SHM" 32 crash
    reap "$BPID"
    expect_rc "the supervisor after the crash" 1
    if grep -q "died of signal 11" "$TMP/n.err" && ! grep -q restarting "$TMP/n.err"
    then ok; else fail "without --restart: $(cat "$TMP/n.err")"; fi
fi

# 5. a supervisor killed outright takes its host along (PR_SET_PDEATHSIG)
host k --restart --host32 "$M32" --run32 "$RUN32" "$LIB32" --sig "$SIG" "$SHM"
if serving k 1; then
    SPID=$(sed -n 's/^host: .*library, supervisor pid \([0-9]*\),.*/\1/p' "$TMP/k.err")
    kill -KILL "$SPID"
    reap "$BPID"
    i=0
    while kill -0 "$HPID" 2>/dev/null && [ $i -lt 1500 ]; do i=$((i + 1)); sleep 0.02; done
    if kill -0 "$HPID" 2>/dev/null; then fail "host $HPID outlived its killed supervisor"
    else ok; fi
fi

# 6. a host that dies as it starts is not restarted forever: a "run32"
# that dies of SIGSEGV at once stands for a library crashing as it loads
printf '#!/bin/sh\nkill -SEGV $$\n' >"$TMP/die"
chmod +x "$TMP/die"
run host --restart --host32 "$M32" --run32 "$TMP/die" "$LIB32" --sig "$SIG" "$SHM"
expect_rc "a host that dies at its start, with --restart" 1
if [ "$(grep -c 'died of signal 11' "$TMP/err")" -ge 5 ] &&
    grep -q "within a second of its start: not restarting it again" "$TMP/err"
then ok; else fail "quick deaths: $(cat "$TMP/err")"; fi

# 7. refused, with the reason
run host "$LIB32" --fn 'int32 vendor_add(int32,, int32)' "$SHM"
expect_rc "a bad signature" 2
if grep -q "at column 24: expected a parameter type" "$TMP/err"; then ok; else
    fail "bad signature: $(cat "$TMP/err")"; fi
XIPC_HOST32="" run host "$LIB32" --sig "$SIG" "$SHM"
expect_rc "a 32-bit library without --host32" 1
if grep -q "needs the 32-bit xipc" "$TMP/err"; then ok; else fail "no --host32: $(cat "$TMP/err")"; fi
run host "$SIG" --sig "$SIG" "$SHM"
expect_rc "not a library" 1
if grep -q "neither an ELF shared object nor a PE file" "$TMP/err"; then ok; else
    fail "not a library: $(cat "$TMP/err")"; fi
run host --host32 "$M32" --run32 "$RUN32" "$LIB32" --fn 'int32 vendor_nope(int32)' "$SHM"
expect_rc "a function the library lacks" 1
if grep -q "vendor_nope: no such function in the library" "$TMP/err"; then ok; else
    fail "missing function: $(cat "$TMP/err")"; fi

# 8. the same library built for 64 bits, served by this xipc itself
if [ -n "$LIB64" ]; then
    host s "$LIB64" --sig "$SIG" "$SHM"
    if serving s 1; then
        calls "C, 64-bit library" "$CALLER" "$SHM" 64
        kill -TERM "$BPID"
        reap "$BPID"
        expect_rc "the 64-bit host stopped" 0
    fi
fi
cli_finish legacy32_test

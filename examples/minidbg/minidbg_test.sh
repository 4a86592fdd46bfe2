#!/bin/sh
# examples/minidbg end to end (docs/minidbg.md):
#   sh minidbg_test.sh ENGINE FRONTEND TARGET [M32_BUILD]
# ENGINE is the 64-bit minidbg-engine, FRONTEND the 64-bit minidbg, TARGET
# the 64-bit program debugged; M32_BUILD the m32 build, whose minidbg is
# the 32-bit front end (through scripts/run32: under qemu-i386 where the
# kernel cannot run 32-bit programs; the engine stays native).
# 1. the 32-bit front end over shm:// launches the target, breaks in
#    square_sum, shows registers and locals, lists modules, steps, writes
#    a local and runs to the exit: the transcript is checked line by line;
# 2. the 64-bit front end over tcp:// (remote debugging);
# 3. attaching to a running process over tcp://, and detaching from it;
# 4. refusals with their reasons (an engine of another user attaching
#    too); the engine stopped by SIGTERM takes the process it launched
#    along.
set -u

USAGE="usage: minidbg_test.sh ENGINE FRONTEND TARGET [M32_BUILD]"
ENGINE=${1:?$USAGE}
FE64=${2:?$USAGE}
TARGET=${3:?$USAGE}
M32=${4:-}
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../../tools/xipc/cli_test_lib.sh
. "$HERE/../../tools/xipc/cli_test_lib.sh"
cli_setup mdbg xipc_minidbg
GUARD=$(cli_guard 120)
GUARD_BG=$(cli_guard 250)
FE32=$FE64
FE32_BITS=64
if [ -n "$M32" ]; then
    cli_run32 "$M32/examples/minidbg/minidbg" # fails the test when it cannot run
    FE32=$R32
    FE32_BITS=32
else
    echo "no m32 build given: the 64-bit front end takes the 32-bit one's place"
fi
HEX='0x[0-9a-f]\{16\}'

# engine NAME URL...: the engine in the background; ENGINE_PID, and TCP the
# tcp:// URL it bound (if it serves one)
engine() {
    name=$1
    shift
    : >"$TMP/$name.err"
    $GUARD_BG "$ENGINE" "$@" </dev/null >"$TMP/$name.out" 2>"$TMP/$name.err" &
    BPID=$!
    BG="$BG $BPID"
    ENGINE_BG=$BPID
    if ! wait_lines "$TMP/$name.err" "^minidbg-engine: serving " $# 30; then
        fail "the engine did not start: $(cat "$TMP/$name.err")"
        return 1
    fi
    TCP=$(sed -n 's/^minidbg-engine: serving \(tcp:[^,]*\),.*/\1/p' "$TMP/$name.err")
    ENGINE_PID=$(sed -n 's/^minidbg-engine: serving .*, pid \([0-9]*\),.*/\1/p' "$TMP/$name.err" |
        head -n 1)
    return 0
}

# session NAME FRONTEND ARGS... <SCRIPT: a front end's run, transcript in
# $TMP/NAME.out; RC its exit code
session() {
    name=$1
    shift
    $GUARD "$@" >"$TMP/$name.out" 2>"$TMP/$name.err"
    RC=$?
    cp "$TMP/$name.err" "$TMP/err"
}

# has NAME WHAT REGEX: the transcript NAME has a line matching REGEX (grep)
has() {
    if grep -q "$3" "$TMP/$1.out"; then ok; else
        fail "$1: $2: no line like '$3' in: $(cat "$TMP/$1.out" "$TMP/$1.err")"
    fi
}

# high ADDR: ADDR (0x + 16 hex digits) is above 4 GiB
high() {
    case $1 in
    0x00000000*) return 1 ;;
    0x*) return 0 ;;
    *) return 1 ;;
    esac
}

engine e "shm://mdbg$TAG" "tcp://127.0.0.1:0" || exit 1
SHM="shm://mdbg$TAG"

# 1. the 32-bit front end, a 64-bit target, over shm://
session s32 "$FE32" "$SHM" launch "$TARGET" <<'EOF_SCRIPT'
break square_sum
run
regs
print n
modules
step
print sum
set n 5
print i
continue
quit
EOF_SCRIPT
expect_rc "the 32-bit session" 0
has s32 "bitness" "^minidbg: front end pid [0-9]*, pointer width $FE32_BITS bits; engine pid $ENGINE_PID, pointer width 64 bits"
has s32 "launched" "^launched $TARGET: pid [0-9]*, stopped at $HEX\$"
has s32 "breakpoint" "^breakpoint at $HEX (square_sum+0x[0-9a-f]*)\$"
BP=$(sed -n 's/^breakpoint at \(0x[0-9a-f]*\) (square_sum.*/\1/p' "$TMP/s32.out")
has s32 "stopped at the breakpoint" "^stopped: breakpoint at $BP in square_sum+0x[0-9a-f]*\$"
has s32 "the pc among the registers" "^rip    $BP  rsp    $HEX  rbp    $HEX\$"
has s32 "eflags" "  r15    $HEX  eflags $HEX\$"
has s32 "a parameter" "^n = 7 (int at $HEX)\$"
N_AT=$(sed -n 's/^n = 7 (int at \(0x[0-9a-f]*\))$/\1/p' "$TMP/s32.out")
if high "${N_AT:-0}" && high "${BP:-0}"; then ok; else
    fail "the 32-bit front end should show 64-bit addresses above 4 GiB: n at '$N_AT', breakpoint '$BP'"
fi
has s32 "the target among the modules" "^$HEX  *[0-9]* 64-bit $TARGET\$"
has s32 "libc among the modules" "^$HEX  *[0-9]* 64-bit .*/libc\.so\.6\$"
MOD_AT=$(sed -n "s|^\(0x[0-9a-f]*\)  *[0-9]* 64-bit $TARGET\$|\1|p" "$TMP/s32.out")
if high "${MOD_AT:-0}"; then ok; else fail "the target's base '$MOD_AT' is not a 64-bit address"; fi
has s32 "one step" "^stopped: step at $HEX in square_sum+0x[0-9a-f]*\$"
STEP_AT=$(sed -n 's/^stopped: step at \(0x[0-9a-f]*\) in .*/\1/p' "$TMP/s32.out")
if [ -n "$STEP_AT" ] && [ "$STEP_AT" != "$BP" ]; then ok; else
    fail "the step did not move the pc: $BP -> '$STEP_AT'"
fi
has s32 "a local, set by the stepped instruction" "^sum = 0 (int at $HEX)\$"
has s32 "a local written" "^n = 5 (int at $N_AT)\$"
has s32 "a loop variable" "^i = [-0-9]* (int at $HEX)\$"
# the written n makes square_sum(7) return 1+4+9+16+25
has s32 "to the exit" "^exited with code 55\$"
if grep -q "^target: square_sum(7) = 55\$" "$TMP/e.out"; then ok; else
    fail "the target's own output: $(cat "$TMP/e.out")"
fi

# 2. remote debugging: the 64-bit front end over tcp://
session t64 "$FE64" "$TCP" launch "$TARGET" 3 <<'EOF_SCRIPT'
break square_sum
continue
print n
print calls
continue
EOF_SCRIPT
expect_rc "the tcp:// session" 0
has t64 "over tcp" "^minidbg: front end pid [0-9]*, pointer width 64 bits; engine pid $ENGINE_PID, .*, at tcp://"
has t64 "stopped" "^stopped: breakpoint at $HEX in square_sum+0x[0-9a-f]*\$"
has t64 "the argument of the target's command line" "^n = 3 (int at $HEX)\$"
has t64 "a global" "^calls = 0 (long[ a-z]* at $HEX)\$"
has t64 "exit" "^exited with code 14\$"

# 3. attach to a running process, break in it, detach: it runs on
"$TARGET" --spin </dev/null >/dev/null 2>&1 &
SPIN=$!
BG="$BG $SPIN"
session att "$FE32" "$TCP" attach "$SPIN" <<'EOF_SCRIPT'
break square_sum
continue
print n
print calls
quit
EOF_SCRIPT
expect_rc "the attach session" 0
has att "attached" "^attached to $SPIN: pid $SPIN, stopped at $HEX\$"
has att "stopped in the running process" "^stopped: breakpoint at $HEX in square_sum+0x[0-9a-f]*\$"
has att "its argument" "^n = 3 (int at $HEX)\$"
has att "its global, counting" "^calls = [1-9][0-9]* (long[ a-z]* at $HEX)\$"
has att "detached at the end" "^detached\$"
sleep 0.2
if kill -0 "$SPIN" 2>/dev/null && [ "$(cut -d' ' -f3 "/proc/$SPIN/stat")" != t ]; then ok; else
    fail "the detached process should run on: $(cat "/proc/$SPIN/stat" 2>&1)"
fi
# an engine of another user may not trace our process: the reason comes
# back to the front end (as root: an engine made uid 65534 by setpriv)
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1; then
    $GUARD_BG setpriv --reuid=65534 --regid=65534 --clear-groups "$ENGINE" \
        tcp://127.0.0.1:0 </dev/null >"$TMP/nobody.out" 2>"$TMP/nobody.err" &
    NOBODY=$!
    BG="$BG $NOBODY"
    BPID=$NOBODY
    if wait_lines "$TMP/nobody.err" "^minidbg-engine: serving " 1 30; then
        NTCP=$(sed -n 's/^minidbg-engine: serving \(tcp:[^,]*\),.*/\1/p' "$TMP/nobody.err")
        session perm "$FE64" "$NTCP" attach "$SPIN" </dev/null
        expect_rc "attaching from another user's engine" 1
        has perm "why" "^minidbg: attach: not allowed to trace pid $SPIN (another user's process, a process traced already, or kernel.yama.ptrace_scope): Operation not permitted\$"
    else
        fail "the uid 65534 engine did not start: $(cat "$TMP/nobody.err")"
    fi
    kill "$NOBODY"
    reap "$NOBODY"
else
    echo "not root: the test of another user's engine is left out"
fi
kill "$SPIN"
reap "$SPIN"

# 4. refusals, with the reason
session bad1 "$FE64" "$SHM" launch /nonexistent/program </dev/null
expect_rc "launching a program that is not there" 1
has bad1 "why" "^minidbg: launch: cannot run /nonexistent/program: No such file or directory\$"
session bad2 "$FE64" "shm://mdbg-nobody$TAG" launch "$TARGET" </dev/null
expect_rc "no engine" 1
if grep -q "^minidbg: shm://mdbg-nobody$TAG: " "$TMP/bad2.err"; then ok; else
    fail "no engine: $(cat "$TMP/bad2.err")"; fi
session bad3 "$FE64" "$SHM" attach notapid </dev/null
expect_rc "attach to a non-pid" 2
session bad4 "$FE64" "$SHM" launch "$TARGET" <<'EOF_SCRIPT'
regs
break nosuch
print nosuch
x zz 4
x 0x0 4
delete 0x1234
frobnicate
EOF_SCRIPT
expect_rc "bad commands" 0
has bad4 "no such function" "^minidbg: break: no function 'nosuch' in the process\$"
has bad4 "no such variable" "^minidbg: print: no variable 'nosuch' in scope at 0x[0-9a-f]*\$"
has bad4 "bad x" "^minidbg: x: usage: x ADDRESS LENGTH"
has bad4 "unmapped memory" "^minidbg: x: cannot read 4 bytes at 0x0: "
has bad4 "no breakpoint" "^minidbg: delete: no breakpoint at 0x1234\$"
has bad4 "unknown command" "^minidbg: frobnicate: no such command"
has bad4 "registers at the first instruction" "^rip    $HEX"
has bad4 "the launched process killed at the end" "^killed by signal 9\$"
session bad5 "$ENGINE" "bogus://x"
expect_rc "an engine with a bad URL" 1
if grep -q "^minidbg-engine: bogus://x: " "$TMP/bad5.err"; then ok; else
    fail "bad URL: $(cat "$TMP/bad5.err")"; fi

# 5. SIGTERM stops the engine, and the process it launched dies with it
mkfifo "$TMP/cmds"
$GUARD_BG "$FE64" "$SHM" launch "$TARGET" <"$TMP/cmds" >"$TMP/held.out" 2>&1 &
FE=$!
BG="$BG $FE"
exec 3>"$TMP/cmds"
printf 'break square_sum\nrun\n' >&3
BPID=$FE
if wait_lines "$TMP/held.out" "^stopped: breakpoint" 1 60; then
    TPID=$(sed -n 's/^launched .*: pid \([0-9]*\),.*/\1/p' "$TMP/held.out")
    kill -TERM "$ENGINE_PID"
    reap "$ENGINE_BG"
    expect_rc "the engine stopped by SIGTERM" 0
    i=0
    while kill -0 "$TPID" 2>/dev/null && [ $i -lt 250 ]; do i=$((i + 1)); sleep 0.02; done
    if kill -0 "$TPID" 2>/dev/null; then fail "pid $TPID outlived its engine"; else ok; fi
else
    fail "the held session did not stop: $(cat "$TMP/held.out")"
fi
exec 3>&-
reap "$FE"
cli_finish minidbg_test

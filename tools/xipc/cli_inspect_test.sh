#!/bin/sh
# End-to-end tests of `xipc ps`, `xipc modules` and `xipc peek`.
#   sh cli_inspect_test.sh PATH/TO/xipc [PATH/TO/m32/xipc|- [xipc.exe PREFIX]]
# The target is a 64-bit `sleep` started here; peek reads the ELF header
# of its libc (above 4 GiB) at the base `modules` reports. With the m32
# xipc (through scripts/run32), the same from a 32-bit caller: it reaches
# the address through the 64-bit helper, this xipc (XIPC_HELPER64). With
# xipc.exe, ps/modules/peek of a Windows x64 process under wine.
set -u

XIPC64=${1:?usage: cli_inspect_test.sh PATH/TO/xipc [m32 xipc [xipc.exe PREFIX]]}
XIPC32=${2:-}
[ "$XIPC32" = - ] && XIPC32=""
XEXE=${3:-}
# shellcheck source=cli_test_lib.sh
. "$(dirname "$0")/cli_test_lib.sh"
cli_setup cliins xipc_cli_inspect
GUARD=$(cli_guard 60)
XIPC_HELPER64=$(cd "$(dirname "$XIPC64")" && pwd)/$(basename "$XIPC64")
export XIPC_HELPER64

# expect_grep WHAT FILE REGEX: a line of FILE matches
expect_grep() {
    if grep -q -- "$3" "$2"; then ok; else
        fail "$1: no line matches '$3' in: $(head -c 600 "$2"); stderr: $(cat "$TMP/err")"
    fi
}

sleep 120 </dev/null >/dev/null 2>&1 &
TPID=$!
BG="$BG $TPID"

# check_xipc LABEL: the checks, with $XIPC the program to run
check_xipc() {
    run ps
    expect_rc "$1 ps" 0
    expect_grep "$1 ps header" "$TMP/out" '^ *PID *PPID *BITS *NAME$'
    expect_grep "$1 ps: the sleep, 64-bit" "$TMP/out" "^ *$TPID  *$$  *64  sleep\$"
    run modules "$TPID"
    expect_rc "$1 modules" 0
    expect_grep "$1 modules header" "$TMP/out" '^BASE  *SIZE  *BITS  *PATH$'
    expect_grep "$1 modules: libc, 64-bit, above 4 GiB" "$TMP/out" \
        '^0x0000[1-7][0-9a-f]\{11\}  *[0-9][0-9]*  *64  .*/libc\.so\.6$'
    cp "$TMP/out" "$TMP/modules.$1"
    base=$(sed -n 's|^\(0x[0-9a-f]*\) .*/libc\.so\.6$|\1|p' "$TMP/out")
    run peek --raw "$TPID" "$base" 4
    printf '\177ELF' >"$TMP/elf"
    expect_rc "$1 peek --raw libc" 0
    expect_file "$1 peek --raw: libc's ELF magic at $base" "$TMP/out" "$TMP/elf"
    run peek "$TPID" "$base" 20
    expect_rc "$1 peek dump" 0
    expect_grep "$1 peek dump: two rows, 64-bit class" "$TMP/out" \
        "^${base#0x}  7f 45 4c 46 02 01 01 "
    if [ "$(wc -l <"$TMP/out")" -eq 2 ]; then ok; else fail "$1 peek dump: $(cat "$TMP/out")"; fi
    run peek "$TPID" 0x10 4
    expect_rc "$1 peek at 0x10" 1
    expect_grep "$1 peek at 0x10: why" "$TMP/err" \
        "^xipc: $TPID: invalid argument: nothing readable is mapped at 0x10 in process $TPID\$"
    run modules 2147483647
    expect_rc "$1 modules of no process" 1
    expect_grep "$1 modules of no process: why" "$TMP/err" "^xipc: 2147483647: no such object: "
    run peek "$TPID" 0xzz 4
    expect_rc "$1 peek bad ADDR" 2
    expect_grep "$1 peek bad ADDR: why" "$TMP/err" "^xipc: ADDR: '0xzz' is not a 64-bit address\$"
    run peek "$TPID" 0x1000 0
    expect_rc "$1 peek LEN 0" 2
    run peek "$TPID" 0x1000
    expect_rc "$1 peek without LEN" 2
    expect_grep "$1 peek without LEN: why" "$TMP/err" '^xipc: LEN: missing$'
    run modules
    expect_rc "$1 modules without PID" 2
}

XIPC=$XIPC64
check_xipc 64
run help peek
expect_rc "help peek" 0
expect_grep "help peek" "$TMP/out" '^usage: xipc peek \[--raw\] PID ADDR LEN$'
# the hidden helper, typed by hand: no channel, says so
run inspect-helper
expect_rc "inspect-helper by hand" 1
expect_grep "inspect-helper by hand: why" "$TMP/err" \
    '^xipc: inspect-helper: the channel from the parent: no such object$'

# Another user's process: the sleep is ours (root's) and the reader runs as
# uid 65534 through setpriv; as another user than root, pid 1 is root's.
if [ "$(id -u)" -eq 0 ]; then
    $GUARD setpriv --reuid=65534 --regid=65534 --clear-groups "$XIPC64" peek "$TPID" 0x1000 4 \
        </dev/null >"$TMP/out" 2>"$TMP/err"
    RC=$?
    who=$TPID
else
    run peek 1 0x1000 4
    who=1
fi
expect_rc "peek another user's process" 1
expect_grep "peek another user's process: why" "$TMP/err" \
    "^xipc: $who: permission denied: process_vm_readv of process $who: permission denied: it belongs to uid "

if [ -n "$XIPC32" ]; then
    cli_run32 "$XIPC32"
    XIPC=$R32
    check_xipc 32
    # the 32-bit caller reports the same modules at the same 64-bit bases
    expect_file "modules, 32-bit caller = 64-bit caller" "$TMP/modules.32" "$TMP/modules.64"
    # and without a helper says why it cannot
    XIPC_HELPER64=/no/such/xipc run peek "$TPID" "$base" 4
    expect_rc "32-bit peek without a helper" 1
    expect_grep "32-bit peek without a helper: why" "$TMP/err" \
        "operation not supported by this transport: .*beyond the pointers of this 32-bit process.*XIPC_HELPER64=/no/such/xipc cannot be started"
fi

if [ -n "$XEXE" ]; then
    cli_wine "$XEXE" "${4:?the wine prefix}"
    XIPC=$XW
    run ps
    expect_rc "wine ps" 0
    expect_grep "wine ps: services.exe, 64-bit" "$TMP/out" "^ *[0-9][0-9]*  *[0-9][0-9]*  *64  services.exe$CR\$"
    wpid=$(sed -n "s/^ *\([0-9][0-9]*\)  *[0-9][0-9]*  *64  services.exe$CR\$/\1/p" "$TMP/out" | head -n 1)
    run modules "$wpid"
    expect_rc "wine modules" 0
    expect_grep "wine modules: ntdll.dll, 64-bit" "$TMP/out" "^0x0000[0-9a-f]\{12\}  *[0-9][0-9]*  *64  .*ntdll.dll$CR\$"
    expect_grep "wine modules: services.exe's image" "$TMP/out" "  64  .*services.exe$CR\$"
    nbase=$(sed -n "s/^\(0x[0-9a-f]*\) .*ntdll.dll$CR\$/\1/p" "$TMP/out")
    run peek --raw "$wpid" "$nbase" 2
    printf 'MZ' >"$TMP/mz"
    expect_file "wine peek --raw: ntdll's MZ at $nbase" "$TMP/out" "$TMP/mz"
    run peek "$wpid" 0x10 4
    expect_rc "wine peek at 0x10" 1
    expect_grep "wine peek at 0x10: why" "$TMP/err" "nothing readable is mapped at 0x10"
fi

cli_finish cli_inspect_test

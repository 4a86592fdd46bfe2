# shellcheck shell=sh
# Shared by the end-to-end tests of the xipc command-line tool
# (cli_test.sh, cli_ls_test.sh, cli_rpc_test.sh), which source it:
#   . "$(dirname "$0")/cli_test_lib.sh"
# then call cli_setup. Not a test of its own.

# cli_setup PREFIX TMPNAME: TAG is PREFIX and our pid (every endpoint name
# contains it, so parallel runs never meet); TMP a fresh folder
# $TMPDIR/TMPNAME.XXXXXX; no checks yet, no background processes; cleanup
# runs on exit.
cli_setup() {
    TAG="$1$$"
    TMP=$(mktemp -d "${TMPDIR:-/tmp}/$2.XXXXXX") || exit 1
    BG=""    # pids of background processes still to reap
    FAILS=0
    CHECKS=0
    trap cleanup EXIT
    trap 'exit 130' INT TERM
}

# cli_run32 PATH: R32 is a program in $TMP that starts PATH through
# scripts/run32 (directly, or under qemu-i386 where the kernel cannot run
# 32-bit programs; docs/testing.md); R32_TAIL is what the -w line of an
# xipc started so ends with: " bits", then " (qemu-i386: WHY)" when
# emulated, which is also said here; R32_HOW is "native" or that
# "qemu-i386: WHY". Neither the kernel nor qemu-i386 able to start PATH:
# the test fails with run32's reason.
cli_run32() {
    run32=$(cd "$(dirname "$0")/../../scripts" && pwd)/run32
    if ! how=$("$run32" --how "$1" 2>&1); then
        echo "FAIL: $how" >&2
        exit 1
    fi
    R32="$TMP/run32.$(basename "$1").$(printf '%s' "$1" | cksum | cut -d' ' -f1)"
    printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$run32" "$1" >"$R32"
    chmod +x "$R32"
    R32_HOW=$how
    R32_TAIL=" bits"
    if [ "$how" != native ]; then
        R32_TAIL=" bits ($how)"
        echo "$1: 32-bit ($how)"
    fi
}

# cli_guard SECONDS: "timeout SECONDS" where timeout(1) exists, else
# nothing. Bounding a run of xipc with it makes a hang fail the test (exit
# 124) well within the ctest TIMEOUT, so the traps still run and clean up.
cli_guard() {
    if command -v timeout >/dev/null 2>&1; then echo "timeout $1"; fi
}

# The per-user runtime folder ($XDG_RUNTIME_DIR/xipc, else /tmp/xipc-UID):
# shm:// and pipe:// listeners are sockets in its shm/ and pipe/; a
# pubsub:// publisher is a lock file and a note in pubsub/.
cli_rundir() {
    if [ -n "${XDG_RUNTIME_DIR:-}" ]; then
        echo "$XDG_RUNTIME_DIR/xipc"
    else
        echo "/tmp/xipc-$(id -u)"
    fi
}

# cli_wine EXE PREFIX: XW is a program in $TMP that runs EXE under wine
# (scripts/wine-run.sh) in the wine prefix PREFIX (made on first use,
# which takes seconds); its wineserver is started persistent here (so each
# later process starts in a fraction of a second) and killed, with every
# Windows process of the prefix, by cleanup. Without wine the test fails.
cli_wine() {
    wine_run=$(cd "$(dirname "$0")/../../scripts" && pwd)/wine-run.sh
    WINESERVER=/usr/lib/wine/wineserver
    [ -x "$WINESERVER" ] || WINESERVER=$(command -v wineserver || echo /nonexistent)
    if [ ! -f "$1" ] || [ ! -x "$WINESERVER" ]; then
        echo "FAIL: no $1 or no wineserver" >&2
        exit 1
    fi
    mkdir -p "$2" || exit 1
    export XIPC_WINEPREFIX
    XIPC_WINEPREFIX=$(cd "$2" && pwd)
    XW="$TMP/xw"
    printf '#!/bin/sh\nexec sh "%s" "%s" "$@"\n' "$wine_run" "$1" >"$XW"
    chmod +x "$XW"
    WINEPREFIX=$XIPC_WINEPREFIX "$WINESERVER" -p
    # The first process of a new prefix makes it, alone, before any other;
    # the first of a wineserver starts wine's services, which inherit its
    # output: a file, never a pipe someone waits to see closed.
    if ! timeout 300 "$XW" --version </dev/null >"$TMP/wine.out" 2>&1; then
        echo "FAIL: $1 --version under wine: $(cat "$TMP/wine.out")" >&2
        exit 1
    fi
}

# cli_wine_pid PID: the pid of the child of PID (the wine process that a
# `timeout` of PID started), 0 when there is none
cli_wine_pid() {
    parent=$1
    for st in /proc/[0-9]*/stat; do
        line=""
        read -r line <"$st" 2>/dev/null || continue
        # the fields after the ")" that ends the command name: state, ppid
        # shellcheck disable=SC2086 # split on purpose
        set -- ${line##*) }
        if [ "${2:-}" = "$parent" ]; then
            p=${st#/proc/}
            echo "${p%/stat}"
            return
        fi
    done
    echo 0
}

# ---- the CLI under wine (cli_wine_test.sh, cli_xos_test.sh) ----------------
# $XIPC is the program a check runs and $EOL what ends its lines before the
# newline: $CR for a Windows program (text mode writes CRLF), else "".
CR=$(printf '\r')
EOL=""

# want TEXT: $TMP/want is TEXT (printf format), $EOL before each newline
want() {
    # shellcheck disable=SC2059 # TEXT is a format
    printf -- "$1" | sed "s/\$/$EOL/" >"$TMP/want"
}

# expect_out WHAT CODE FILE TEXT: exit CODE and FILE is TEXT (as for want)
expect_out() {
    want "$4"
    if [ "$RC" -eq "$2" ] && cmp -s "$3" "$TMP/want"; then ok; else
        fail "$1: exit $RC (want $2), got '$(od -c "$3" | head -n 5)', want '$(cat "$TMP/want")'; stderr: $(cat "$TMP/err" 2>/dev/null)"
    fi
}

# wbg NAME CMD ARGS...: `$XIPC CMD -w ARGS...` in the background, bounded
# by $GUARD_BG, output in $TMP/NAME.out and .err; returns 0 once its -w
# line is there, with the pid it printed in XPID and the pid to reap in BPID.
wbg() {
    name=$1
    cmd=$2
    shift 2
    # emptied here, not by the child's redirection: wait_w must not find
    # the -w line of an earlier process of the same NAME (it did, and a
    # send then raced the new listener)
    : >"$TMP/$name.err"
    $GUARD_BG "$XIPC" "$cmd" -w "$@" </dev/null >"$TMP/$name.out" 2>"$TMP/$name.err" &
    BPID=$!
    BG="$BG $BPID"
    wait_w "$name" "$cmd"
}

# wait_lines FILE PATTERN COUNT [SECONDS]: wait until FILE has COUNT lines
# that match the grep PATTERN, while $BPID lives, for SECONDS at most (30);
# 1 when they did not come. Its variables are i and wl_n: the tests'
# loops count in n.
wait_lines() {
    i=0
    while wl_n=$(grep -c "$2" "$1" 2>/dev/null); [ "${wl_n:-0}" -lt "$3" ]; do
        i=$((i + 1))
        if [ $i -gt $((${4:-30} * 50)) ] || ! kill -0 "$BPID" 2>/dev/null; then
            return 1
        fi
        sleep 0.02
    done
    return 0
}

# wait_w NAME CMD: wait for the -w line of CMD in $TMP/NAME.err (a 64-bit
# program's, ending in $EOL) while $BPID lives; its pid in XPID
wait_w() {
    XPID=0
    if ! wait_lines "$TMP/$1.err" "^$2: pid [0-9]*, pointer width 64 bits$EOL\$" 1; then
        fail "$XIPC $2 ($1) did not start: $(cat "$TMP/$1.err")"
        return 1
    fi
    XPID=$(sed -n "s/^$2: pid \([0-9]*\), .*/\1/p" "$TMP/$1.err")
    return 0
}

# bound NAME: the address recv or serve bound for a URL ending in :0
bound() {
    sed -n "s/^\(recv\|serve\): listening at \(tcp:.*\)$EOL\$/\2/p" "$TMP/$1.err"
}

# wkill SIG PID: signal SIG to the process a `timeout` of PID runs (the
# wine process of a Windows program: killing it ends the Windows process)
wkill() {
    wpid=$(cli_wine_pid "$2")
    if [ "$wpid" -gt 0 ]; then kill -"$1" "$wpid"; else
        fail "no process under $2"; fi
}

# shellcheck disable=SC2317 # called by the trap
cleanup() {
    for p in $BG; do kill "$p" 2>/dev/null; done
    if [ -n "${WINESERVER:-}" ] && [ -n "${XIPC_WINEPREFIX:-}" ]; then
        WINEPREFIX=$XIPC_WINEPREFIX "$WINESERVER" -k 2>/dev/null
        WINEPREFIX=$XIPC_WINEPREFIX "$WINESERVER" -w 2>/dev/null
    fi
    for p in $BG; do wait "$p" 2>/dev/null; done
    rm -f /dev/shm/xipc.*"$TAG"* "$(cli_rundir)"/shm/*"$TAG"* \
        "$(cli_rundir)"/pubsub/*"$TAG"* 2>/dev/null
    rm -rf "$TMP"
}

fail() {
    FAILS=$((FAILS + 1))
    echo "FAIL: $*" >&2
}

ok() {
    CHECKS=$((CHECKS + 1))
}

# run ARGS...: run $XIPC with stdin from /dev/null, bounded by $GUARD;
# sets RC, $TMP/out, $TMP/err
run() {
    $GUARD "$XIPC" "$@" </dev/null >"$TMP/out" 2>"$TMP/err"
    RC=$?
}

# expect_rc WHAT CODE
expect_rc() {
    if [ "$RC" -eq "$2" ]; then ok; else
        fail "$1: exit $RC, want $2; stderr: $(cat "$TMP/err")"
    fi
}

# expect_file WHAT GOT WANT: the two files are byte for byte equal
expect_file() {
    if cmp -s "$2" "$3"; then ok; else
        fail "$1: output differs:"
        od -c "$2" | head -n 10 >&2
        echo "want:" >&2
        od -c "$3" | head -n 10 >&2
    fi
}

# reap PID: wait for a background process and drop it from BG; sets RC
reap() {
    wait "$1"
    RC=$?
    rest=""
    for p in $BG; do [ "$p" = "$1" ] || rest="$rest $p"; done
    BG=$rest
}

# shm_left TEXT: names of the shared-memory objects, shm:// socket files
# and pubsub:// lock files and notes containing TEXT
shm_left() {
    for f in /dev/shm/*"$1"* "$(cli_rundir)"/shm/*"$1"* "$(cli_rundir)"/pubsub/*"$1"*; do
        [ -e "$f" ] && printf '%s ' "${f##*/}"
    done
}

# cli_finish NAME: the summary line; exit 1 when a check failed, else 0
cli_finish() {
    if [ "$FAILS" -ne 0 ]; then
        echo "$1: $FAILS of $((CHECKS + FAILS)) checks failed" >&2
        exit 1
    fi
    echo "$1: all $CHECKS checks passed"
    exit 0
}

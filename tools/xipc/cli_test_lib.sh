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

# shellcheck disable=SC2317 # called by the trap
cleanup() {
    for p in $BG; do kill "$p" 2>/dev/null; done
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

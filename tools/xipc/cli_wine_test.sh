#!/bin/sh
# The Windows xipc (xipc.exe of the win64 build) under wine, every process
# a Windows one of one wine prefix: send/recv over shm, pipe, tcp (v4, v6),
# mailslot and mq (priorities: higher first), pub/sub, serve/call over
# shm, pipe and tcp, ls (live, killed, reclaimed), and bad input (unknown
# scheme, bad URL, unix://, which wine lacks, a missing method).
#   sh cli_wine_test.sh PATH/TO/xipc.exe WINEPREFIX
# WINEPREFIX is this test's own (made on first use): its wineserver is
# killed at the end with everything still running in it. Windows writes
# text with CRLF line ends, so every expected output has them.
set -u

USAGE="usage: cli_wine_test.sh PATH/TO/xipc.exe WINEPREFIX"
EXE=${1:?$USAGE}
PREFIX=${2:?$USAGE}
# shellcheck source=cli_test_lib.sh
. "$(dirname "$0")/cli_test_lib.sh"
cli_setup cliwine xipc_cli_wine
cli_wine "$EXE" "$PREFIX"
XIPC=$XW
GUARD=$(cli_guard 30)
GUARD_BG=$(cli_guard 60)
EOL=$CR
# gated_pub NAME URL K: `xipc.exe pub -w URL` in the background (output in
# $TMP/NAME.out and .err), its stdin a FIFO that gets the lines of
# $TMP/NAME.1 once $TMP/NAME.go1 exists, then of NAME.2 once NAME.go2
# exists, ... up to K, then its end; returns once the publisher exists,
# with the pid to reap of the writer in W and of pub in PB.
gated_pub() {
    mkfifo "$TMP/$1.in"
    (
        k=1
        while [ $k -le "$3" ]; do
            i=0
            while [ ! -e "$TMP/$1.go$k" ] && [ $i -lt 1500 ]; do
                sleep 0.02
                i=$((i + 1))
            done
            cat "$TMP/$1.$k"
            k=$((k + 1))
        done
    ) >"$TMP/$1.in" &
    W=$!
    : >"$TMP/$1.err" # as wbg: no -w line of an earlier process
    $GUARD_BG "$XIPC" pub -w "$2" <"$TMP/$1.in" >"$TMP/$1.out" 2>"$TMP/$1.err" &
    BPID=$!
    PB=$BPID
    BG="$BG $W $PB"
    wait_w "$1" pub
}

# ---- the program runs ----------------------------------------------------------

run --version
VERSION=$(sed -n "s/^xipc \([0-9.]*\)$CR\$/\1/p" "$TMP/out")
expect_out "xipc.exe --version" 0 "$TMP/out" "xipc $VERSION\n"

# `xipc host` is not offered on Windows yet (docs/host.md): it says so,
# after checking its command line as everywhere (xipc.exe is the library)
run host "$EXE" --fn 'int32 f(void)' tcp://127.0.0.1:0
expect_rc "host on Windows" 1
if grep -q "xipc host is not offered on Windows yet" "$TMP/err"; then ok; else
    fail "host on Windows: $(cat "$TMP/err")"; fi
run host "$EXE" --fn 'int32 f(,)' tcp://127.0.0.1:0
expect_rc "host on Windows, a bad signature" 2

# ---- send/recv over every channel scheme -------------------------------------

n=0
for url in "shm://$TAG.sr" "pipe://$TAG.sr" "tcp://127.0.0.1:0" "tcp://[::1]:0" \
    "mailslot://$TAG.sr" "mq://$TAG.sr"; do
    n=$((n + 1))
    wbg "r$n" recv -n 4 -t 30000 "$url" || continue
    to=$url
    case $url in
    tcp://*:0)
        to=$(bound "r$n")
        case $to in
        tcp://127.0.0.1:0 | "tcp://[::1]:0" | "") fail "recv $url: bound '$to'" ;;
        tcp://127.0.0.1:* | "tcp://[::1]:"*) ok ;;
        *) fail "recv $url: bound '$to'" ;;
        esac
        ;;
    esac
    run send "$to" "from windows" "with  two spaces" ""
    expect_out "send $to" 0 "$TMP/out" ""
    printf 'a line from stdin\n' |
        $GUARD "$XIPC" send "$to" >"$TMP/out" 2>"$TMP/err"
    RC=$?
    expect_out "send $to (stdin)" 0 "$TMP/out" ""
    reap "$BPID"
    expect_out "recv $url" 0 "$TMP/r$n.out" \
        "from windows\nwith  two spaces\n\na line from stdin\n"
done

# ---- clipboard://: a receiver gets the value a sender set -------------------

C="clipboard://$TAG.clip"
if wbg clip recv -n 1 -t 30000 "$C"; then
    run send "$C" "on the clipboard"
    expect_out "send $C" 0 "$TMP/out" ""
    reap "$BPID"
    expect_out "recv $C" 0 "$TMP/clip.out" "on the clipboard\n"
fi

# ---- mq:// priorities: higher first, in order within one -------------------

# recv's stdout is a FIFO that we hold open and do not read yet: it blocks
# in writing the ninth 8000-byte message of priority 31 (a pipe holds
# 64 KiB), so what is sent next waits queued and comes out by priority.
Q="mq://$TAG.prio"
mkfifo "$TMP/fifo"
exec 3<>"$TMP/fifo"
FILL=$(head -c 8000 /dev/zero | tr '\0' x)
i=0
while [ $i -lt 9 ]; do echo "$FILL"; i=$((i + 1)); done >"$TMP/fill"
$GUARD_BG "$XIPC" recv -w -n 14 -t 30000 "$Q" </dev/null >"$TMP/fifo" 2>"$TMP/q.err" &
BPID=$!
BG="$BG $BPID"
if wait_w q recv; then
    $GUARD "$XIPC" send -p 31 "$Q" <"$TMP/fill" >"$TMP/out" 2>"$TMP/err"
    RC=$?
    expect_out "send -p 31 (nine fillers)" 0 "$TMP/out" ""
    for m in "1 low" "5 high" "3 mid" "5 high2" "0 zero"; do
        run send -p "${m% *}" "$Q" "${m#* }"
        expect_out "send -p ${m% *} ${m#* }" 0 "$TMP/out" ""
    done
    $GUARD head -c $((9 * 8002 + 6 + 7 + 5 + 5 + 6)) <&3 >"$TMP/q.out"
    reap "$BPID"
    { cat "$TMP/fill"; printf 'high\nhigh2\nmid\nlow\nzero\n'; } | sed "s/\$/$CR/" >"$TMP/want"
    if [ "$RC" -eq 0 ] && cmp -s "$TMP/q.out" "$TMP/want"; then ok; else
        fail "mq priorities: recv exited $RC; the last lines: $(tail -c 40 "$TMP/q.out" | od -c)"
    fi
fi
exec 3<&-
run send -p 3 "pipe://$TAG.noprio" hi
expect_rc "send -p 3 pipe:// (no listener)" 1

# ---- pub/sub: a subscriber gets every message after it joined, in order ---

# The publisher exists; A subscribes; "one" is published; once A printed
# it, B subscribes; then 2..200 and the end of the stream. A message
# published before a subscriber attached is not its (xipc help pub), so
# each step waits for the -w line of the one before.
P="pubsub://$TAG.ps"
echo one >"$TMP/ps.1"
seq 2 200 >"$TMP/ps.2"
gated_pub ps "$P" 2
wbg subA sub -t 30000 "$P"
A=$BPID
: >"$TMP/ps.go1"
i=0
while [ "$(head -n 1 "$TMP/subA.out" 2>/dev/null)" != "one$CR" ] && [ $i -lt 1500 ]; do
    sleep 0.02
    i=$((i + 1))
done
wbg subB sub -t 30000 "$P"
B=$BPID
: >"$TMP/ps.go2"
reap "$W"
reap "$PB"
expect_rc "pub 200 lines" 0
reap "$A"
{ echo one; seq 2 200; } | sed "s/\$/$CR/" >"$TMP/want"
if [ "$RC" -eq 0 ] && cmp -s "$TMP/subA.out" "$TMP/want"; then ok; else
    fail "sub A: exit $RC, $(wc -l <"$TMP/subA.out") lines: $(head -c 100 "$TMP/subA.out") $(cat "$TMP/subA.err")"
fi
reap "$B"
seq 2 200 | sed "s/\$/$CR/" >"$TMP/want"
if [ "$RC" -eq 0 ] && cmp -s "$TMP/subB.out" "$TMP/want"; then ok; else
    fail "sub B: exit $RC, $(wc -l <"$TMP/subB.out") lines: $(head -c 100 "$TMP/subB.out") $(cat "$TMP/subB.err")"
fi

# ---- serve/call over shm, pipe and tcp -----------------------------------------

$GUARD_BG "$XIPC" serve -w "shm://$TAG.rpc" "pipe://$TAG.rpc" tcp://127.0.0.1:0 \
    </dev/null >"$TMP/srv.out" 2>"$TMP/srv.err" &
SB=$!
BPID=$SB
BG="$BG $SB"
if wait_w srv serve; then
    SPID=$XPID
    TCP=$(bound srv)
    case $TCP in
    tcp://127.0.0.1:0 | "") fail "serve: tcp port not bound: '$TCP'" ;;
    *) ok ;;
    esac
    for url in "shm://$TAG.rpc" "pipe://$TAG.rpc" "$TCP"; do
        run call -t 20000 "$url" add 2 3
        expect_out "call $url add 2 3" 0 "$TMP/out" "5\n"
        run call -t 20000 "$url" add 1.5 -4
        expect_out "call $url add 1.5 -4" 0 "$TMP/out" "-2.5\n"
        run call -t 20000 "$url" echo '{"a": [1, "two", null, true], "b": {}}'
        expect_out "call $url echo" 0 "$TMP/out" '{"a":[1,"two",null,true],"b":{}}\n'
        run call -t 20000 "$url" sysinfo
        expect_out "call $url sysinfo" 0 "$TMP/out" \
            "{\"pid\":$SPID,\"pointer_width\":64,\"os\":\"windows\",\"version\":\"$VERSION\",\"emulator\":null}\n"
        run call -t 20000 "$url" no.such.method
        expect_out "call $url no.such.method" 1 "$TMP/out" ""
        expect_out "call $url no.such.method (stderr)" 1 "$TMP/err" \
            "xipc: $url: no.such.method: method not found: no.such.method\n"
    done
    # wine ends a process on SIGTERM (no console event: not graceful)
    wkill TERM "$SB"
    reap "$SB"
    expect_rc "serve killed by SIGTERM" 143
    run ls
    tr -d '\r' <"$TMP/out" | grep "$TAG.rpc" >"$TMP/ls"
    printf 'pipe://%s.rpc pipe %s no\nshm://%s.rpc shm listener %s no\n' \
        "$TAG" "$SPID" "$TAG" "$SPID" >"$TMP/want"
    if tr -s ' ' <"$TMP/ls" | cmp -s - "$TMP/want"; then ok; else
        fail "ls after serve was killed: $(cat "$TMP/ls")"; fi
    run call -t 20000 "shm://$TAG.rpc" ping
    expect_out "call a killed server" 1 "$TMP/err" \
        "xipc: shm://$TAG.rpc: connection refused: no listener\n"
fi

# ---- ls: live endpoints, killed ones, reclaimed --------------------------------

# ls_ours: `xipc.exe ls`, our lines (CR dropped) in $TMP/ls
ls_ours() {
    run ls
    expect_rc "xipc.exe ls" 0
    tr -d '\r' <"$TMP/out" | grep "$TAG.ls" >"$TMP/ls"
}

# expect_ls WHAT URL KIND PID ALIVE: exactly one such line in $TMP/ls
expect_ls() {
    if [ "$(grep -Ec "^$2 +$3 +$4 +$5\$" "$TMP/ls")" -eq 1 ]; then ok; else
        fail "$1: want one line '$2 $3 $4 $5' in: $(cat "$TMP/ls")"
    fi
}

S="shm://$TAG.ls"
PI="pipe://$TAG.ls"
M="mailslot://$TAG.ls"
Q="mq://$TAG.ls"
PS="pubsub://$TAG.ls"
wbg lss recv "$S" && LS_S="$XPID $BPID"
wbg lsp recv "$PI" && LS_P="$XPID $BPID"
wbg lsm recv "$M" && LS_M="$XPID $BPID"
wbg lsq recv "$Q" && LS_Q="$XPID $BPID"
wbg lsb pub --wait-subscribers 60000 "$PS" never && LS_B="$XPID $BPID"
if [ "$FAILS" -ne 0 ]; then exit 1; fi
ls_ours
expect_ls "live shm" "$S" "shm listener" "${LS_S% *}" yes
expect_ls "live pipe" "$PI" "pipe" "${LS_P% *}" yes
expect_ls "live mailslot" "$M" "mailslot server" "${LS_M% *}" yes
expect_ls "live mq" "$Q" "mq" "${LS_Q% *}" yes
expect_ls "live pubsub" "$PS" "pubsub" "${LS_B% *}" yes
if [ "$(wc -l <"$TMP/ls")" -eq 5 ]; then ok; else fail "ls: not 5 lines: $(cat "$TMP/ls")"; fi

# SIGKILL to the wine process is the Windows process's end
for e in "$LS_S" "$LS_P" "$LS_M" "$LS_Q" "$LS_B"; do
    b=${e#* }
    wkill KILL "$b"
    reap "$b"
    expect_rc "killed $e" 137
done
ls_ours
expect_ls "killed shm" "$S" "shm listener" "${LS_S% *}" no
expect_ls "killed pipe" "$PI" "pipe" "${LS_P% *}" no
expect_ls "killed mailslot" "$M" "mailslot server" "${LS_M% *}" no
expect_ls "killed mq" "$Q" "mq" "${LS_Q% *}" no
expect_ls "killed pubsub" "$PS" "pubsub" "${LS_B% *}" no
if [ "$(wc -l <"$TMP/ls")" -eq 5 ]; then ok; else fail "ls: not 5 lines: $(cat "$TMP/ls")"; fi

# the next of each name takes it over, gets one message and closes
for u in "$S" "$PI" "$M" "$Q" "shm://$TAG.rpc" "pipe://$TAG.rpc"; do
    wbg again recv -n 1 -t 30000 "$u" || continue
    run send "$u" "again $u"
    expect_rc "send $u after a kill" 0
    reap "$BPID"
    expect_out "recv $u after a kill" 0 "$TMP/again.out" "again $u\n"
done
echo again >"$TMP/ps2.1"
gated_pub ps2 "$PS" 1
wbg again sub -t 30000 "$PS"
: >"$TMP/ps2.go1"
reap "$W"
reap "$PB"
expect_rc "pub $PS after a kill" 0
reap "$BPID"
expect_out "sub $PS after a kill" 0 "$TMP/again.out" "again\n"
run ls
if ! grep -q "$TAG" "$TMP/out"; then ok; else fail "ls: ours left: $(cat "$TMP/out")"; fi

# ---- bad input: exit 1 and one line "xipc: URL: WHY", never a hang ----------

for c in "send nope://x hi" "recv nope://x" "send shm://../x hi" "recv shm://a/b" \
    "send unix:///tmp/$TAG.sock hi" "recv unix://@$TAG" "call unix://@$TAG ping" \
    "serve unix://@$TAG" "send mq://$TAG.nobody hi" "send pipe://$TAG.nobody hi" \
    "call shm://$TAG.nobody ping"; do
    # shellcheck disable=SC2086 # split on purpose
    run $c
    url=$(echo "$c" | cut -d' ' -f2)
    case $c in
    *nope:*) why="operation not supported by this transport" ;;
    *unix:*) why="operation not supported by this transport" ;;
    *nobody*) why="connection refused: no listener" ;;
    *) why="invalid argument" ;;
    esac
    expect_out "xipc.exe $c" 1 "$TMP/err" "xipc: $url: $why\n"
done
run send -p x "shm://$TAG.x" hi
expect_rc "send -p x" 2
if head -n 1 "$TMP/err" | grep -q "^xipc: -p: 'x' is not a priority"; then ok; else
    fail "send -p x: $(cat "$TMP/err")"; fi

cli_finish cli_wine_test

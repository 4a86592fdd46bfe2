#!/bin/sh
# End-to-end tests of the xipc command-line tool.
#   sh cli_test.sh PATH/TO/xipc
# Every endpoint name contains "clitest<pid>" so parallel runs never meet;
# background listeners are killed on exit, and the test fails if any
# shared-memory object of ours is left in /dev/shm.
set -u

XIPC=${1:?usage: cli_test.sh PATH/TO/xipc}
# shellcheck source=cli_test_lib.sh
. "$(dirname "$0")/cli_test_lib.sh"
cli_setup clitest xipc_cli
cli_run32 "$XIPC"
XIPC=$R32
W_TAIL=$R32_TAIL
GUARD=$(cli_guard 10)

# expect_err WHAT TEXT: stderr is exactly TEXT (one line)
expect_err() {
    printf '%s\n' "$2" >"$TMP/want_err"
    if cmp -s "$TMP/err" "$TMP/want_err"; then ok; else
        fail "$1: stderr is '$(cat "$TMP/err")', want '$2'"
    fi
}

# expect_usage WHAT: stderr is "xipc: <what>: <why>" then a usage line
expect_usage() {
    if head -n 1 "$TMP/err" | grep -q '^xipc: .*: ' &&
        sed -n 2p "$TMP/err" | grep -q '^usage: xipc'; then ok; else
        fail "$1: bad usage message: $(cat "$TMP/err")"
    fi
}

# recv_bg OUT URL ARGS...: `xipc recv -w ARGS... URL` in the background,
# output in OUT.out and OUT.err; returns once it listens (with -w, recv
# prints its pid line after the listener exists).
recv_bg() {
    out=$1
    url=$2
    shift 2
    $GUARD "$XIPC" recv -w "$@" "$url" </dev/null >"$out.out" 2>"$out.err" &
    RPID=$!
    BG="$BG $RPID"
    wait_listening "$out.err" "$url"
}

# start_recv NAME ARGS...: recv at shm://NAME, output in $TMP/NAME.out
start_recv() {
    name=$1
    shift
    recv_bg "$TMP/$name" "shm://$name" "$@"
}

# wait_listening FILE URL: wait for recv's -w line in FILE
wait_listening() {
    i=0
    while ! grep -q "^recv: pid [0-9]*, pointer width [0-9]*$W_TAIL\$" \
        "$1" 2>/dev/null; do
        i=$((i + 1))
        if [ "$i" -gt 1000 ]; then
            fail "recv $2 did not start: $(cat "$1")"
            return 1
        fi
        sleep 0.01
    done
    return 0
}

# wait_recv WHAT: reap the last background recv; sets RC
wait_recv() {
    reap "$RPID"
}

# ---- help and version ---------------------------------------------------

for args in "--help" "-h" "help"; do
    run $args
    expect_rc "xipc $args" 0
    if grep -q '^usage: xipc ' "$TMP/out" && grep -q 'exit status' "$TMP/out"
    then ok; else fail "xipc $args: no help text on stdout"; fi
done
for cmd in send recv pub sub ls com-serve; do
    run help "$cmd"
    expect_rc "xipc help $cmd" 0
    if grep -q "^usage: xipc $cmd " "$TMP/out"; then ok; else
        fail "xipc help $cmd: no usage line"; fi
    run "$cmd" --help
    expect_rc "xipc $cmd --help" 0
done
run --help
for cmd in pub sub ls; do
    if grep -q "^  $cmd " "$TMP/out"; then ok; else
        fail "xipc --help: no line for $cmd"; fi
done
run --version
expect_rc "xipc --version" 0
if grep -Eq '^xipc [0-9]+\.[0-9]+\.[0-9]+$' "$TMP/out"; then ok; else
    fail "xipc --version printed '$(cat "$TMP/out")'"; fi

# `xipc bench` without a suite: the harness's usage error, or, in a build
# without bench/, a runtime error saying so
run bench
if { [ "$RC" -eq 2 ] && grep -q '^xipc: bench: ' "$TMP/err"; } ||
    { [ "$RC" -eq 1 ] && grep -q '^xipc: bench: not available' "$TMP/err"; }
then ok; else fail "xipc bench: exit $RC, stderr: $(cat "$TMP/err")"; fi

# ---- usage errors: exit 2, "xipc: WHAT: WHY" and a usage line -------------

U="shm://$TAG.unused"
PS="pubsub://$TAG.unused"
while IFS='|' read -r a b c d; do
    set --
    for w in "$a" "$b" "$c" "$d"; do [ -n "$w" ] && set -- "$@" "$w"; done
    run "$@"
    expect_rc "xipc $*" 2
    expect_usage "xipc $*"
done <<EOT
|||
frob|||
--frob|||
help|frob||
com-serve|||
com-serve|--clsid|{nope}|$U
com-serve|--progid|X|$U
recv|||
send|||
recv|-n|abc|$U
recv|-n|0|$U
recv|-n|-3|$U
recv|-n|12x|$U
recv|-n|99999999999999999999|$U
recv|--count=|$U|
recv|$U|-n||
recv|-t|-2|$U
recv|--timeout|2147483648|$U
recv|--frob|$U|
recv|$U|shm://second|
send|--timeout| 5|$U
send|-t|0x10|$U
send|--bogus|$U|
send|-n|3|$U
send|$PS|hi|
recv|$PS||
pub|||
pub|$U|hi|
pub|--wait-subscribers|-1|$PS
pub|--wait-subscribers=soon|$PS|
pub|--wait-subscribers|||
pub|-t|5|$PS
sub|||
sub|mq://$TAG.x||
sub|-n|0|$PS
sub|-t|-2|$PS
sub|$PS|pubsub://second|
ls|extra||
ls|--frob||
ls|-n|3|
EOT
run recv -n abc "$U"
expect_err "recv -n abc" "xipc: -n: 'abc' is not a count in 1..2147483647
usage: xipc recv [-w] [-n COUNT] [-t MS] URL  (xipc recv --help)"
run send --timeout=soon "$U" x
expect_err "send --timeout=soon" "xipc: --timeout: 'soon' is not a timeout in -1..2147483647 ms
usage: xipc send [-w] [-t MS] [-p PRIO] URL [MESSAGE...]  (xipc send --help)"
run send "$PS" hi
expect_err "send pubsub://" "xipc: $PS: send does not publish: use xipc pub URL
usage: xipc send [-w] [-t MS] [-p PRIO] URL [MESSAGE...]  (xipc send --help)"
run recv "$PS"
expect_err "recv pubsub://" "xipc: $PS: recv does not subscribe: use xipc sub URL
usage: xipc recv [-w] [-n COUNT] [-t MS] URL  (xipc recv --help)"
run pub "$U" hi
expect_err "pub shm://" "xipc: $U: pub takes a pubsub:// URL (other schemes: xipc send)
usage: xipc pub [-w] [--wait-subscribers MS] URL [MESSAGE...]  (xipc pub --help)"
run sub "$U"
expect_err "sub shm://" "xipc: $U: sub takes a pubsub:// URL (other schemes: xipc recv)
usage: xipc sub [-w] [-n COUNT] [-t MS] URL  (xipc sub --help)"
run recv
expect_err "recv without URL" "xipc: recv: missing URL
usage: xipc recv [-w] [-n COUNT] [-t MS] URL  (xipc recv --help)"

# ---- runtime errors: exit 1, "xipc: URL: <xipc_strerror text>" ------------

run send "shm://$TAG.nobody" hello
expect_rc "send to no listener" 1
expect_err "send to no listener" "xipc: shm://$TAG.nobody: connection refused: no listener"
run send "shm://$TAG.nobody" </dev/null
expect_rc "send stdin to no listener" 1

for url in "shm://../x" "shm://" "shm://a/b" "shm://.hidden" "nourl" \
    "shm://$(printf '%070d' 0)"; do
    for cmd in send recv; do
        run "$cmd" "$url"
        expect_rc "$cmd $url" 1
        expect_err "$cmd $url" "xipc: $url: invalid argument"
    done
done
run send "nope://x" hi
expect_rc "send nope://x" 1
expect_err "send nope://x" "xipc: nope://x: operation not supported by this transport"
run recv "nope://x"
expect_rc "recv nope://x" 1
run send "clipboard://x" hi
expect_rc "send clipboard://x" 1
expect_err "send clipboard://x" "xipc: clipboard://x: operation not supported by this transport: clipboard:// is the Windows clipboard; this OS has none (for a latest-value channel here, see pubsub://)"
run call "dde://svc/topic" item
expect_rc "call dde://svc/topic item" 1
expect_err "call dde://svc/topic item" "xipc: dde://svc/topic: operation not supported by this transport: dde:// is Windows' Dynamic Data Exchange; this OS has none (for request/reply here, see the RPC over unix:// or shm://)"

# COM: Windows only, said after the command line is read
run com-serve --clsid "{12345678-9ABC-DEF0-1234-56789ABCDEF0}" "$U"
expect_rc "com-serve" 1
expect_err "com-serve" "xipc: com-serve: operation not supported by this transport: COM is Windows only (use xipc.exe)"

run recv --timeout 200 "shm://$TAG.idle"
expect_rc "recv --timeout 200 with no sender" 1
expect_err "recv --timeout 200 with no sender" "xipc: shm://$TAG.idle: timed out"

# ---- messages from arguments: spaces, an empty one ----------------------

N="$TAG.args"
if start_recv "$N" -n 3; then
    run recv "shm://$N"
    expect_rc "second listener on a live name" 1
    expect_err "second listener on a live name" "xipc: shm://$N: address in use"
    run send -w "shm://$N" "hello" "with  two spaces" ""
    expect_rc "send 3 arguments" 0
    if grep -q "^send: pid [0-9]*, pointer width [0-9]*$W_TAIL\$" "$TMP/err"
    then ok; else fail "send -w: stderr '$(cat "$TMP/err")'"; fi
    wait_recv
    expect_rc "recv -n 3 (arguments)" 0
    printf 'hello\nwith  two spaces\n\n' >"$TMP/want"
    expect_file "recv -n 3 (arguments)" "$TMP/$N.out" "$TMP/want"
fi

# ---- messages from stdin lines: an empty line, no final newline ----------

N="$TAG.lines"
if start_recv "$N" -n 3 --timeout 5000; then
    printf 'alpha beta\n\nlast line, no newline' |
        $GUARD "$XIPC" send "shm://$N" >"$TMP/out" 2>"$TMP/err"
    RC=$?
    expect_rc "send 3 stdin lines" 0
    wait_recv
    expect_rc "recv -n 3 (stdin)" 0
    printf 'alpha beta\n\nlast line, no newline\n' >"$TMP/want"
    expect_file "recv -n 3 (stdin)" "$TMP/$N.out" "$TMP/want"
fi

# ---- "--", options after the URL, one connection after another, ---------
# ---- a line longer than the receive buffer, a line too long to send ------

N="$TAG.seq"
head -c 300000 /dev/zero | tr '\0' x >"$TMP/long"
if start_recv "$N" --count=5; then
    run send "shm://$N" -t 3000 -- -n --help
    expect_rc "send -- -n --help" 0
    { cat "$TMP/long"; echo; echo end; } |
        $GUARD "$XIPC" send "shm://$N" >"$TMP/out" 2>"$TMP/err"
    RC=$?
    expect_rc "send a 300000-byte line" 0
    head -c 2000000 /dev/zero | tr '\0' y |
        $GUARD "$XIPC" send "shm://$N" >"$TMP/out" 2>"$TMP/err"
    RC=$?
    expect_rc "send a 2 MB line" 1
    expect_err "send a 2 MB line" "xipc: shm://$N: message too large"
    run send "shm://$N" after
    wait_recv
    expect_rc "recv --count=5 over four connections" 0
    { printf -- '-n\n--help\n'; cat "$TMP/long"; printf '\nend\nafter\n'; } >"$TMP/want"
    expect_file "recv --count=5 over four connections" "$TMP/$N.out" "$TMP/want"
fi

# ---- other schemes: a stream (pipe://) and a receiver without ------------
# ---- connections (mq://: recv reads from the listener itself) ------------

for scheme in pipe mq; do
    N="$TAG.$scheme"
    if recv_bg "$TMP/$N" "$scheme://$N" -n 2 -t 5000; then
        run send "$scheme://$N" "via $scheme" ""
        expect_rc "send $scheme://" 0
        wait_recv
        expect_rc "recv $scheme://" 0
        printf 'via %s\n\n' "$scheme" >"$TMP/want"
        expect_file "recv $scheme://" "$TMP/$N.out" "$TMP/want"
    fi
done

# ---- a signal: recv removes its listener before it dies ------------------

N="$TAG.sig"
if start_recv "$N"; then
    kill -TERM "$RPID"
    wait_recv
    expect_rc "recv killed by SIGTERM" 143
    left=$(shm_left "$N")
    if [ -n "$left" ]; then fail "recv left $left after SIGTERM"; else ok; fi
    run send "shm://$N" hi
    expect_rc "send after the listener died" 1
fi

# ---- nothing of ours is left behind ----------------------------------------

left=$(shm_left "$TAG")
if [ -n "$left" ]; then fail "objects left in /dev/shm: $left"; else ok; fi
if [ -d /dev/mqueue ]; then
    left=$(for f in /dev/mqueue/*"$TAG"*; do [ -e "$f" ] && echo "$f"; done)
    if [ -n "$left" ]; then fail "queues left: $left"; else ok; fi
fi

cli_finish cli_test

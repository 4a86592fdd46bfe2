#!/bin/sh
# End-to-end tests of `xipc serve` and `xipc call` (docs/rpc.md, "From the
# shell"):
#   sh cli_rpc_test.sh PATH/TO/xipc BITS [PATH/TO/m32/xipc]
# BITS is the pointer width of that xipc (32 in the m32 build, else 64).
# One server on shm://, unix://@ and tcp://127.0.0.1:0 (the port read from
# its output); JSON round trips, add, sysinfo, errors and exit codes on each
# (a method named with bytes that are not UTF-8 and an ESC sequence comes
# back escaped in the error line, control characters escaped in results);
# a graceful stop that answers the call in flight. With the m32 xipc, a
# 32-bit server and client against the 64-bit ones.
set -u

USAGE="usage: cli_rpc_test.sh PATH/TO/xipc BITS [PATH/TO/m32/xipc]"
XIPC=${1:?$USAGE}
BITS=${2:?$USAGE}
M32=${3:-}
# shellcheck source=cli_test_lib.sh
. "$(dirname "$0")/cli_test_lib.sh"
cli_setup clirpc xipc_clirpc
GUARD=$(cli_guard 20)
cli_run32 "$XIPC"
XIPC=$R32
W_TAIL=$R32_TAIL
HOW=$R32_HOW
if [ -n "$M32" ]; then
    if [ ! -x "$M32" ]; then
        echo "FAIL: the m32 xipc $M32 is not there" >&2
        exit 1
    fi
    cli_run32 "$M32"
    M32=$R32
    HOW32=$R32_HOW
fi

# emu_json HOW: sysinfo's "emulator" for run32's HOW text
emu_json() {
    if [ "$1" = native ]; then echo null; else printf '"%s"' "$1"; fi
}

# call [BIN=...] ARGS...: xipc call; sets RC, $TMP/out, $TMP/err
call() {
    $GUARD "$CALLER" call "$@" </dev/null >"$TMP/out" 2>"$TMP/err"
    RC=$?
}

# expect WHAT CODE OUT: exit CODE and stdout exactly the line OUT
expect() {
    printf '%s\n' "$3" >"$TMP/want"
    if [ "$RC" -eq "$2" ] && cmp -s "$TMP/out" "$TMP/want"; then ok; else
        fail "$1: exit $RC (want $2), stdout '$(cat "$TMP/out")' (want '$3'), stderr '$(cat "$TMP/err")'"
    fi
}

# expect_fail WHAT CODE TEXT: exit CODE, nothing on stdout, and the first
# line of stderr exactly TEXT
expect_fail() {
    if [ "$RC" -eq "$2" ] && [ ! -s "$TMP/out" ] &&
        [ "$(head -n 1 "$TMP/err")" = "$3" ]; then ok; else
        fail "$1: exit $RC (want $2), stderr '$(cat "$TMP/err")' (want '$3')"
    fi
}

# start_server NAME BIN URL...: xipc serve -w in the background; waits for
# one "listening" line per URL; sets SPID and $TMP/NAME.err
start_server() {
    name=$1
    bin=$2
    shift 2
    "$bin" serve -w "$@" </dev/null >"$TMP/$name.out" 2>"$TMP/$name.err" &
    SPID=$!
    BG="$BG $SPID"
    tries=0
    while [ "$(grep -c '^serve: listening at ' "$TMP/$name.err")" -lt $# ] ||
        ! grep -q '^serve: pid ' "$TMP/$name.err"; do
        tries=$((tries + 1))
        if [ $tries -gt 200 ] || ! kill -0 "$SPID" 2>/dev/null; then
            fail "$name: serve did not start: $(cat "$TMP/$name.err")"
            return 1
        fi
        sleep 0.05
    done
    ok
}

# stop_server PID: SIGTERM, then it must exit 0
stop_server() {
    kill -TERM "$1"
    wait "$1"
    src=$?
    if [ $src -eq 0 ]; then ok; else fail "serve $1 exited $src after SIGTERM"; fi
}

# round URL IN OUT: echo IN comes back printed as OUT
round() {
    call "$1" echo "$2"
    expect "echo $2 at $1" 0 "$3"
}

UTF8=$(printf '"\303\251\342\202\254\360\237\230\200"')
HOSTILE=$(printf 'm\377\376\033[31mred')
HOSTILE_ESC='m\xff\xfe\u001b[31mred'

DEEP_IN=""
DEEP_OUT=""
i=0
while [ $i -lt 62 ]; do
    DEEP_IN="$DEEP_IN[ "
    DEEP_OUT="$DEEP_OUT["
    i=$((i + 1))
done
DEEP_IN="${DEEP_IN}1"
DEEP_OUT="${DEEP_OUT}1"
i=0
while [ $i -lt 62 ]; do
    DEEP_IN="$DEEP_IN ]"
    DEEP_OUT="$DEEP_OUT]"
    i=$((i + 1))
done

# The checks every server passes; $1 the URL, $2 its pid, $3 its width,
# $4 how run32 started it (native, or qemu-i386: WHY).
check_server() {
    url=$1
    call "$url" ping
    expect "ping at $url" 0 '"pong"'
    round "$url" 'null' 'null'
    round "$url" 'true' 'true'
    round "$url" ' false ' 'false'
    round "$url" '[]' '[]'
    round "$url" '{}' '{}'
    round "$url" '""' '""'
    round "$url" '{"a": [1, 2, {"b": null, "c": [true, false]}], "d": {"e": {}}}' \
        '{"a":[1,2,{"b":null,"c":[true,false]}],"d":{"e":{}}}'
    round "$url" '"\u00e9\u20ac\ud83d\ude00"' "$UTF8"
    round "$url" "$UTF8" "$UTF8"
    round "$url" '"tab\there \"quoted\" back\\slash\n\u0001"' \
        '"tab\there \"quoted\" back\\slash\n\u0001"'
    round "$url" '9223372036854775807' '9223372036854775807'
    round "$url" '-9223372036854775808' '-9223372036854775808'
    round "$url" '18446744073709551615' '18446744073709551615'
    round "$url" '18446744073709551616' '1.8446744073709552e+19'
    round "$url" '0.1' '0.1'
    round "$url" '-2.5e-3' '-0.0025'
    round "$url" '2.0' '2.0'
    round "$url" '-0.0' '-0.0'
    round "$url" '1e300' '1e+300'
    round "$url" "$DEEP_IN" "$DEEP_OUT"
    call "$url" add 2 3
    expect "add ints at $url" 0 '5'
    call "$url" add -5 3
    expect "add negative at $url" 0 '-2'
    call "$url" add 9223372036854775806 1
    expect "add to int64 max at $url" 0 '9223372036854775807'
    call "$url" add 1.5 2.25
    expect "add floats at $url" 0 '3.75'
    call "$url" add 1 0.5
    expect "add mixed at $url" 0 '1.5'
    call "$url" add 9223372036854775807 1
    expect_fail "add overflow at $url" 1 \
        "xipc: $url: add: integer overflow: 9223372036854775807 + 1 does not fit int64"
    call "$url" add -9223372036854775808 -1
    expect_fail "add underflow at $url" 1 \
        "xipc: $url: add: integer overflow: -9223372036854775808 + -1 does not fit int64"
    call "$url" add 1 '"x"'
    expect_fail "add str at $url" 1 \
        "xipc: $url: add: invalid params: argument 2: expected a number, got str"
    call "$url" add 1
    expect_fail "add one arg at $url" 1 \
        "xipc: $url: add: invalid params: expected 2 arguments, got 1"
    call "$url" ping 1
    expect_fail "ping with an arg at $url" 1 \
        "xipc: $url: ping: invalid params: expected 0 arguments, got 1"
    call "$url" no.such.method
    expect_fail "unknown method at $url" 1 \
        "xipc: $url: no.such.method: method not found: no.such.method"
    # a peer's text never drives the terminal: the server echoes the name
    # of an unknown method, bytes \377\376 and an ESC [ sequence included
    call "$url" "$HOSTILE"
    expect_fail "hostile method name at $url" 1 \
        "xipc: $url: $HOSTILE_ESC: method not found: $HOSTILE_ESC"
    if ! grep -q "$(printf '\033')" "$TMP/err"; then ok; else
        fail "raw ESC on stderr at $url: $(od -c "$TMP/err")"
    fi
    round "$url" '"\u001b[2J\u007f\u0085\u009b"' '"\u001b[2J\u007f\u0085\u009b"'
    round "$url" "$(printf '"\177\302\205\302\240"')" "$(printf '"\\u007f\\u0085\302\240"')"
    call "$url" sysinfo
    expect "sysinfo at $url" 0 \
        "{\"pid\":$2,\"pointer_width\":$3,\"os\":\"$OS\",\"version\":\"$VERSION\",\"emulator\":$(emu_json "$4")}"
    call "$url" xipc.methods
    if [ $RC -eq 0 ] && grep -q '\["ping","() -> str"\]' "$TMP/out" &&
        grep -q '\["sleep",' "$TMP/out"; then ok; else
        fail "xipc.methods at $url: $(cat "$TMP/out" "$TMP/err")"
    fi
    call --timeout 200 "$url" sleep 3000
    expect_fail "call timeout at $url" 1 "xipc: $url: sleep: timed out"
}

OS=$(uname -s | tr 'A-Z' 'a-z')
VERSION=$("$XIPC" --version | sed 's/^xipc //')
CALLER=$XIPC

# --- usage errors ------------------------------------------------------
call
expect_fail "call without URL" 2 "xipc: call: missing URL"
call shm://x
expect_fail "call without METHOD" 2 "xipc: call: missing METHOD"
call --timeout soon shm://x ping
expect_fail "call bad timeout" 2 "xipc: --timeout: 'soon' is not a timeout in -1..2147483647 ms"
call shm://x add 1 '[1,'
expect_fail "invalid JSON" 2 "xipc: call: argument 2: invalid JSON at offset 3: unexpected end of input"
call shm://x echo hello
expect_fail "bare word" 2 "xipc: call: argument 1: invalid JSON at offset 0: unexpected character"
call shm://x echo '"\ud800"'
expect_fail "lone surrogate" 2 "xipc: call: argument 1: invalid JSON at offset 1: lone high surrogate"
call shm://x echo '{"a":1,}'
expect_fail "trailing comma" 2 "xipc: call: argument 1: invalid JSON at offset 7: expected a string key"
call shm://x echo "[$DEEP_IN]"
expect_fail "too deep" 2 "xipc: call: argument 1: invalid JSON at offset 123: nested too deeply"
$GUARD "$XIPC" serve </dev/null >"$TMP/out" 2>"$TMP/err"
RC=$?
expect_fail "serve without URL" 2 "xipc: serve: missing URL"
$GUARD "$XIPC" serve bogus://x </dev/null >"$TMP/out" 2>"$TMP/err"
RC=$?
if [ $RC -eq 1 ] && grep -q '^xipc: bogus://x: ' "$TMP/err"; then ok; else
    fail "serve bad URL: exit $RC: $(cat "$TMP/err")"
fi

# --- no server ---------------------------------------------------------
call "shm://none$TAG" ping
expect_fail "no server (shm)" 1 "xipc: shm://none$TAG: connection refused: no listener"
call "unix://@none$TAG" ping
expect_fail "no server (unix)" 1 "xipc: unix://@none$TAG: connection refused: no listener"

# --- one 64-bit server on three channels -------------------------------
if start_server s64 "$XIPC" "shm://$TAG" "unix://@$TAG" tcp://127.0.0.1:0; then
    S64=$SPID
    WPID=$(sed -n "s/^serve: pid \\([0-9]*\\), pointer width $BITS$W_TAIL\$/\\1/p" "$TMP/s64.err")
    if [ "$WPID" = "$S64" ]; then ok; else fail "serve -w: pid '$WPID', want $S64"; fi
    TCP=$(sed -n 's/^serve: listening at \(tcp:.*\)$/\1/p' "$TMP/s64.err")
    case $TCP in
    tcp://127.0.0.1:0 | "") fail "tcp port not resolved: '$TCP'" ;;
    tcp://127.0.0.1:*) ok ;;
    *) fail "tcp URL '$TCP'" ;;
    esac
    for url in "shm://$TAG" "unix://@$TAG" "$TCP"; do
        check_server "$url" "$S64" "$BITS" "$HOW"
    done

    # --- with the m32 build: 32-bit server, and 32-bit client ----------
    if [ -n "$M32" ]; then
        if start_server s32 "$M32" "shm://${TAG}m32" "unix://@${TAG}m32"; then
            S32=$SPID
            for url in "shm://${TAG}m32" "unix://@${TAG}m32"; do
                check_server "$url" "$S32" 32 "$HOW32"
            done
            CALLER=$M32
            for url in "shm://$TAG" "unix://@$TAG"; do
                check_server "$url" "$S64" "$BITS" "$HOW"
            done
            CALLER=$XIPC
            stop_server "$S32"
        fi
    else
        echo "cli_rpc_test: no m32 xipc given: the 32-bit checks are left out"
    fi

    # --- graceful stop: the call in flight is answered -----------------
    $GUARD "$XIPC" call "$TCP" sleep 1500 >"$TMP/slow.out" 2>"$TMP/slow.err" &
    SLOW=$!
    BG="$BG $SLOW"
    sleep 0.5
    stop_server "$S64"
    wait "$SLOW"
    RC=$?
    cp "$TMP/slow.out" "$TMP/out"
    cp "$TMP/slow.err" "$TMP/err"
    expect "call in flight at stop" 0 "1500"
    call "shm://$TAG" ping
    expect_fail "stopped server" 1 "xipc: shm://$TAG: connection refused: no listener"
    call "$TCP" ping
    expect_fail "stopped server (tcp)" 1 "xipc: $TCP: connection refused: no listener"
fi

left=$(shm_left "$TAG")
if [ -n "$left" ]; then fail "left in /dev/shm: $left"; else ok; fi

echo "cli_rpc_test: $CHECKS checks passed, $FAILS failed"
[ "$FAILS" -eq 0 ]

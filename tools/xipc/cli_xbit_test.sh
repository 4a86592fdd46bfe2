#!/bin/sh
# 32-bit and 64-bit xipc against each other, both ways, over every channel
# scheme of `xipc send` and `xipc recv`: shm, pipe, unix (path and
# @abstract), tcp, mailslot and mq.
#   sh cli_xbit_test.sh PATH/TO/xipc PATH/TO/m32/xipc
# Both start through scripts/run32, so the 32-bit one runs under
# qemu-i386 where the kernel cannot run 32-bit programs (and says so in
# its -w line, which is checked). For each scheme and direction a receiver
# listens, the other bitness sends three messages (one with spaces, one
# empty), and the receiver must print exactly them, in order.
set -u

USAGE="usage: cli_xbit_test.sh PATH/TO/xipc PATH/TO/m32/xipc"
X64=${1:?$USAGE}
X32=${2:?$USAGE}
# shellcheck source=cli_test_lib.sh
. "$(dirname "$0")/cli_test_lib.sh"
cli_setup clixbit xipc_cli_xbit
# slow under emulation, but bounded: a hang fails within the ctest TIMEOUT
GUARD=$(cli_guard 60)

for f in "$X64" "$X32"; do
    if [ ! -x "$f" ]; then
        echo "FAIL: $f is not there" >&2
        exit 1
    fi
done
cli_run32 "$X64"
X64=$R32
TAIL64=$R32_TAIL
cli_run32 "$X32"
X32=$R32
TAIL32=$R32_TAIL

# xbit SCHEME URL RECEIVER RTAIL RBITS SENDER SBITS: one transfer
xbit() {
    what="$1 $7-bit -> $5-bit"
    $GUARD "$3" recv -w -n 3 --timeout 60000 "$2" </dev/null >"$TMP/r.out" 2>"$TMP/r.err" &
    RPID=$!
    BG="$BG $RPID"
    i=0
    while ! grep -q "^recv: pid [0-9]*, pointer width $5$4\$" "$TMP/r.err" 2>/dev/null; do
        i=$((i + 1))
        if [ $i -gt 3000 ] || ! kill -0 "$RPID" 2>/dev/null; then
            fail "$what: the receiver did not start: $(cat "$TMP/r.err")"
            reap "$RPID"
            return
        fi
        sleep 0.01
    done
    url=$2
    case $url in
    *:0) url=$(sed -n 's/^recv: listening at //p' "$TMP/r.err") ;; # the port bound
    esac
    $GUARD "$6" send --timeout 30000 "$url" "from $7 bits" "with  two spaces" "" \
        </dev/null >"$TMP/s.out" 2>"$TMP/s.err"
    SRC=$?
    reap "$RPID"
    if [ $SRC -ne 0 ]; then
        fail "$what: send exited $SRC: $(cat "$TMP/s.err")"
        return
    fi
    printf 'from %s bits\nwith  two spaces\n\n' "$7" >"$TMP/want"
    if [ "$RC" -eq 0 ] && cmp -s "$TMP/r.out" "$TMP/want"; then ok; else
        fail "$what: recv exited $RC, printed '$(cat "$TMP/r.out")', stderr '$(cat "$TMP/r.err")'"
    fi
}

n=0
for scheme in shm pipe unix unix-abstract tcp mailslot mq; do
    for dir in 64to32 32to64; do
        n=$((n + 1))
        case $scheme in
        unix) url="unix://$TMP/x$n.sock" ;;
        unix-abstract) url="unix://@$TAG.$n" ;;
        tcp) url="tcp://127.0.0.1:0" ;;
        *) url="$scheme://$TAG.$n" ;;
        esac
        if [ $dir = 64to32 ]; then
            xbit "$scheme" "$url" "$X32" "$TAIL32" 32 "$X64" 64
        else
            xbit "$scheme" "$url" "$X64" "$TAIL64" 64 "$X32" 32
        fi
    done
done

left=$(shm_left "$TAG")
if [ -z "$left" ]; then ok; else fail "left in /dev/shm: $left"; fi
cli_finish cli_xbit_test

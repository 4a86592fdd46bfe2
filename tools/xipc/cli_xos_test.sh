#!/bin/sh
# Across operating systems: the Linux xipc and the Windows one (xipc.exe of
# the win64 build, under wine) over tcp://, IPv4 and IPv6, both ways each:
# send/recv (Linux sends, Windows receives, and the other way) and
# serve/call (each serves, the other calls; sysinfo's "os" and "pid" say
# which side answered). Listeners bind port 0 and print the port taken.
#   sh cli_xos_test.sh PATH/TO/xipc PATH/TO/xipc.exe WINEPREFIX
# WINEPREFIX is this test's own (made on first use): its wineserver is
# killed at the end with everything still running in it.
set -u

USAGE="usage: cli_xos_test.sh PATH/TO/xipc PATH/TO/xipc.exe WINEPREFIX"
LX=${1:?$USAGE}
EXE=${2:?$USAGE}
PREFIX=${3:?$USAGE}
# shellcheck source=cli_test_lib.sh
. "$(dirname "$0")/cli_test_lib.sh"
cli_setup clixos xipc_cli_xos
cli_wine "$EXE" "$PREFIX"
GUARD=$(cli_guard 30)
GUARD_BG=$(cli_guard 60)
VERSION=$("$LX" --version | sed 's/^xipc //')

# side linux|windows: the program the next checks run, and its line ends
side() {
    if [ "$1" = linux ]; then XIPC=$LX EOL=""; else XIPC=$XW EOL=$CR; fi
}

# sendrecv RSIDE SSIDE HOST: RSIDE receives at tcp://HOST:0, SSIDE sends
sendrecv() {
    what="tcp://$3 $2 -> $1"
    side "$1"
    wbg r recv -n 4 -t 30000 "tcp://$3:0" || return
    R=$BPID
    to=$(bound r)
    case $to in
    "tcp://$3:0" | "") fail "$what: port not bound: '$to'" ;;
    "tcp://$3:"*) ok ;;
    *) fail "$what: bound '$to'" ;;
    esac
    side "$2"
    run send "$to" "from $2" "with  two spaces" ""
    expect_out "$what: send" 0 "$TMP/err" ""
    printf 'a line from stdin\n' | $GUARD "$XIPC" send "$to" >"$TMP/out" 2>"$TMP/err"
    RC=$?
    expect_out "$what: send (stdin)" 0 "$TMP/err" ""
    side "$1"
    reap "$R"
    expect_out "$what: recv" 0 "$TMP/r.out" \
        "from $2\nwith  two spaces\n\na line from stdin\n"
}

# serve_call SSIDE CSIDE OS HOST: SSIDE serves at tcp://HOST:0, CSIDE
# calls; sysinfo says OS and the server's pid
serve_call() {
    what="tcp://$4 $2 calls $1"
    side "$1"
    wbg s serve "tcp://$4:0" || return
    S=$BPID
    SPID=$XPID
    url=$(bound s)
    side "$2"
    run call -t 20000 "$url" add 2 3
    expect_out "$what: add 2 3" 0 "$TMP/out" "5\n"
    run call -t 20000 "$url" echo '[-1.5, "\u00e9", {"k": null}]'
    expect_out "$what: echo" 0 "$TMP/out" "[-1.5,\"$(printf '\303\251')\",{\"k\":null}]\n"
    run call -t 20000 "$url" sysinfo
    expect_out "$what: sysinfo" 0 "$TMP/out" \
        "{\"pid\":$SPID,\"pointer_width\":64,\"os\":\"$3\",\"version\":\"$VERSION\",\"emulator\":null}\n"
    run call -t 20000 "$url" no.such
    expect_out "$what: no.such" 1 "$TMP/err" "xipc: $url: no.such: method not found: no.such\n"
    # the Linux server stops gracefully on SIGTERM; wine ends a Windows
    # process on it
    wkill TERM "$S"
    reap "$S"
    if [ "$1" = linux ]; then
        expect_rc "$what: serve stopped by SIGTERM" 0
    else
        expect_rc "$what: serve killed by SIGTERM" 143
    fi
}

for host in 127.0.0.1 "[::1]"; do
    sendrecv windows linux "$host"
    sendrecv linux windows "$host"
    serve_call windows linux windows "$host"
    serve_call linux windows linux "$host"
done

cli_finish cli_xos_test

#!/bin/sh
# dde:// with the Windows xipc (xipc.exe of the win64 build) under wine, in
# a display of its own (run by scripts/with-xvfb.sh: wine's DDE needs one):
# `xipc.exe recv` serves and prints the pokes `xipc.exe send` makes,
# `xipc.exe call URL ITEM` requests an item's value; no such item, no
# server and bad use fail with clear messages (docs/dde.md).
#   sh with-xvfb.sh sh cli_dde_test.sh PATH/TO/xipc.exe WINEPREFIX
set -u

USAGE="usage: cli_dde_test.sh PATH/TO/xipc.exe WINEPREFIX"
EXE=${1:?$USAGE}
PREFIX=${2:?$USAGE}
# shellcheck source=cli_test_lib.sh
. "$(dirname "$0")/cli_test_lib.sh"
cli_setup clidde xipc_cli_dde
cli_wine "$EXE" "$PREFIX"
XIPC=$XW
GUARD=$(cli_guard 30)
GUARD_BG=$(cli_guard 60)
EOL=$CR

D="dde://$TAG.svc/topic"
if wbg dde recv -n 2 -t 30000 "$D"; then
    run send "$D" "first poke"
    expect_out "send $D" 0 "$TMP/out" ""
    run call "$D" xipc # the item of the server's channel: the last poke
    expect_out "call $D xipc" 0 "$TMP/out" "first poke\n"
    run call "$D" nothing
    expect_out "call $D nothing" 1 "$TMP/err" "xipc: $D: nothing: the server has no such item\n"
    run call "$D" xipc '"an argument"'
    expect_rc "call $D xipc ARG" 2
    run send "$D" "second"
    expect_out "send $D" 0 "$TMP/out" ""
    reap "$BPID"
    expect_out "recv $D" 0 "$TMP/dde.out" "first poke\nsecond\n"
fi
run call "dde://$TAG.none/topic" item
expect_out "call with no server" 1 "$TMP/err" \
    "xipc: dde://$TAG.none/topic: connection refused: no listener\n"
run send "dde://$TAG.svc" hi
expect_out "send dde://SERVICE" 1 "$TMP/err" "xipc: dde://$TAG.svc: invalid argument\n"

cli_finish cli_dde_test

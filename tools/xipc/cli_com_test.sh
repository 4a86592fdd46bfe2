#!/bin/sh
# xipc.exe com-serve from VBScript under wine: wine's cscript runs
# examples/com_client.vbs against `xipc.exe serve`, through a class
# registered with a ProgID (--all-users: wine 8 starts local servers from
# HKLM\Software\Classes only; docs/windows.md), then unregistered.
#   sh cli_com_test.sh PATH/TO/xipc.exe WINEPREFIX
# WINEPREFIX is this test's own: its wineserver is killed at the end.
set -u

USAGE="usage: cli_com_test.sh PATH/TO/xipc.exe WINEPREFIX"
EXE=${1:?$USAGE}
PREFIX=${2:?$USAGE}
# shellcheck source=cli_test_lib.sh
. "$(dirname "$0")/cli_test_lib.sh"
cli_setup clicom xipc_cli_com
cli_wine "$EXE" "$PREFIX"
# a wineserver session other than the one that made the prefix: in that
# one wine 8's COM can hang for good starting rpcss (docs/windows.md, "COM")
WINEPREFIX=$XIPC_WINEPREFIX "$WINESERVER" -k 2>/dev/null
WINEPREFIX=$XIPC_WINEPREFIX "$WINESERVER" -w
WINEPREFIX=$XIPC_WINEPREFIX "$WINESERVER" -p
XIPC=$XW
GUARD=$(cli_guard 60)
GUARD_BG=$(cli_guard 120)
EOL=$CR
VBS="Z:$(cd "$(dirname "$0")/../../examples" && pwd | tr / '\\')\\com_client.vbs"
URL="pipe://$TAG.rpc"
PROGID="XipcTest.Vbs$$"
# a class of its own: 32 random hex digits
HEX=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n' | tr a-f A-F)
CLSID=$(printf '%s' "$HEX" | sed 's/^\(.\{8\}\)\(.\{4\}\)\(.\{4\}\)\(.\{4\}\)\(.\{12\}\)$/{\1-\2-\3-\4-\5}/')

# cscript ARGS...: wine's cscript in this prefix; sets RC, $TMP/out, $TMP/err
cscript() {
    $GUARD sh "$wine_run" cscript //nologo "$@" </dev/null >"$TMP/out" 2>"$TMP/err"
    RC=$?
}

if wbg srv serve "$URL"; then
    run com-serve --register --all-users --progid "$PROGID" --clsid "$CLSID" "$URL"
    expect_rc "com-serve --register --all-users --progid" 0
    cscript "$VBS" "$PROGID"
    expect_out "com_client.vbs" 0 "$TMP/out" "ping: pong
add: 5
echo: hello
array: 0..3 1 two 2.5 True
null: True
error: 80040200 method not found: nosuch
"
    run com-serve --unregister --all-users --clsid "$CLSID"
    expect_out "com-serve --unregister" 0 "$TMP/out" "com-serve: unregistered $CLSID from HKLM\n"
    # the class is gone: CreateObject fails, the script stops there. wine's
    # cscript neither prints a script's error nor exits non-zero with it
    # (ActiveScriptSite_OnScriptError is a stub in wine 8; Windows prints
    # "ActiveX component can't create object" and exits 1)
    cscript "$VBS" "$PROGID"
    expect_out "com_client.vbs after --unregister (wine's cscript)" 0 "$TMP/out" ""
fi
cli_finish cli_com_test

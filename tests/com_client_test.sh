#!/bin/sh
# win64_com_client: com_client.exe (and the xipc.exe it starts) under
# wine, in a prefix of its own, in a wineserver session other than the one
# that made the prefix: in that first session wine 8's COM can hang for
# good starting rpcss (StartServiceW), so CoCreateInstance of a local
# server never returns (docs/windows.md, "COM").
#   sh com_client_test.sh PATH/TO/com_client.exe PATH/TO/xipc.exe PREFIX
set -u
USAGE="usage: com_client_test.sh PATH/TO/com_client.exe PATH/TO/xipc.exe PREFIX"
CLIENT=${1:?$USAGE}
XIPC=${2:?$USAGE}
export XIPC_WINEPREFIX="${3:?$USAGE}"
run=$(cd "$(dirname "$0")/../scripts" && pwd)/wine-run.sh
server=/usr/lib/wine/wineserver
[ -x "$server" ] || server=$(command -v wineserver) || exit 1
mkdir -p "$XIPC_WINEPREFIX" || exit 1
sh "$run" "$XIPC" --version >/dev/null 2>&1 || exit 1 # makes the prefix
WINEPREFIX=$XIPC_WINEPREFIX "$server" -k 2>/dev/null
WINEPREFIX=$XIPC_WINEPREFIX "$server" -w
sh "$run" "$CLIENT" "$XIPC"
rc=$?
WINEPREFIX=$XIPC_WINEPREFIX "$server" -k 2>/dev/null # nothing left behind
exit $rc

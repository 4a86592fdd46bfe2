#!/bin/sh
# Run a Windows test program under Debian's wine64 with a private prefix
# inside the build tree (XIPC_WINEPREFIX, when set, names another: a test
# whose processes must meet only each other); exit with the program's status.
set -eu
exe=$1; shift
dir=$(cd "$(dirname "$exe")" && pwd)
export WINEPREFIX="${XIPC_WINEPREFIX:-$dir/wineprefix}" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
wine=/usr/lib/wine/wine64
[ -x "$wine" ] || wine=$(command -v wine64 || command -v wine)
exec "$wine" "$exe" "$@"

#!/bin/sh
# Run a Windows program under Debian's wine64 with a private prefix in the
# program's folder (XIPC_WINEPREFIX, when set, names another: a test whose
# processes must meet only each other); exit with the program's status.
# Programs of one prefix share one wineserver: they see each other's
# pipes, mailslots, sections and windows. The first use of a prefix makes
# it (wineboot, ~10 s) under a lock, so that tests started together do
# not make it twice at once.
set -eu
exe=$1; shift
dir=$(cd "$(dirname "$exe")" && pwd)
export WINEPREFIX="${XIPC_WINEPREFIX:-$dir/wineprefix}" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
wine=/usr/lib/wine/wine64
[ -x "$wine" ] || wine=$(command -v wine64 || command -v wine)
if [ ! -f "$WINEPREFIX/.xipc-ready" ]; then
    (
        flock 9
        if [ ! -f "$WINEPREFIX/.xipc-ready" ]; then
            "$wine" wineboot -i >/dev/null 2>&1
            touch "$WINEPREFIX/.xipc-ready"
        fi
    ) 9>"$WINEPREFIX.lock"
fi
exec "$wine" "$exe" "$@"

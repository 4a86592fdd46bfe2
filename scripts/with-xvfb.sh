#!/bin/sh
# Run COMMAND... inside a display of its own: an Xvfb (Debian's xvfb,
# installed by scripts/deps.sh) on the first free display number from 90,
# stopped afterwards, and the wine prefix XIPC_WINEPREFIX (when set) with
# it; exit with COMMAND's status. Wine's DDE needs a
# display (DdeConnect fails with DMLERR_NO_CONV_ESTABLISHED, 0x400a,
# without one: docs/windows.md); nothing else here does.
set -eu
command -v Xvfb >/dev/null || { echo "with-xvfb.sh: no Xvfb (scripts/deps.sh installs xvfb)" >&2; exit 1; }
# A wine prefix (XIPC_WINEPREFIX) whose processes saw this display ends
# with it: its wineserver and programs would outlive the display, and
# wine programs that need one would fail in it later.
stop_wine() {
    [ -n "${XIPC_WINEPREFIX:-}" ] || return 0
    ws=/usr/lib/wine/wineserver64
    [ -x "$ws" ] || ws=$(command -v wineserver || echo true)
    WINEPREFIX="$XIPC_WINEPREFIX" "$ws" -k 2>/dev/null || true
}
n=90
while [ "$n" -lt 190 ]; do
    if [ ! -e "/tmp/.X$n-lock" ] && [ ! -e "/tmp/.X11-unix/X$n" ]; then
        Xvfb ":$n" -nolisten tcp -screen 0 640x480x16 >/dev/null 2>&1 &
        xpid=$!
        i=0
        # up when its socket is there; gone when another run took the number
        while [ ! -S "/tmp/.X11-unix/X$n" ] && kill -0 "$xpid" 2>/dev/null && [ "$i" -lt 100 ]; do
            sleep 0.1
            i=$((i + 1))
        done
        if [ -S "/tmp/.X11-unix/X$n" ] && kill -0 "$xpid" 2>/dev/null; then
            trap 'stop_wine; kill "$xpid" 2>/dev/null; wait "$xpid" 2>/dev/null || true' EXIT INT TERM
            rc=0
            DISPLAY=":$n" "$@" || rc=$?
            exit "$rc"
        fi
        kill "$xpid" 2>/dev/null || true
        wait "$xpid" 2>/dev/null || true
    fi
    n=$((n + 1))
done
echo "with-xvfb.sh: no free display number in 90..189" >&2
exit 1

#!/bin/sh
# The Windows part of make demo (scripts/demo.sh): xipc.exe of the win64
# build, under wine64, and this Linux xipc over tcp:// loopback (Windows
# receives what Linux sends, Linux what Windows sends, Linux calls the
# sysinfo of a Windows server), then the Windows table: xipc.exe bench
# all, every Windows mechanism side by side: --quick on a machine with a
# CPU to spare (68-77 s here at a load average of 4-5), --smoke (one
# short repetition of the 64 B tests, ~15 s) on a busier one, where
# --quick took 162 s (load average 10-11: every repetition starts wine
# processes) and the demo would pass 4 minutes.
# Where wine64 or xipc.exe is missing it says so plainly and exits 0.
#   sh scripts/demo-windows.sh BUILD
set -eu
B=${1:-build}
X64=$B/native/tools/xipc/xipc
XW=$B/win64/tools/xipc/xipc.exe
HERE=$(cd "$(dirname "$0")" && pwd)

echo "== 4. Windows: xipc.exe (the win64 build) under wine and this Linux xipc, over tcp://"
WINE=/usr/lib/wine/wine64
[ -x "$WINE" ] || WINE=$(command -v wine64 || true)
WINESERVER=/usr/lib/wine/wineserver
[ -x "$WINESERVER" ] || WINESERVER=$(command -v wineserver || true)
if [ -z "$WINE" ] || [ -z "$WINESERVER" ]; then
    echo "skipped: no wine64 here, so no Windows program can run (Debian: apt-get install"
    echo "wine64, as scripts/deps.sh does; docs/windows.md). Everything above ran."
    exit 0
fi
if [ ! -f "$XW" ]; then
    echo "skipped: no $XW (make win64 builds it; make demo does where wine64 is)."
    exit 0
fi

# A prefix of the demo's own, its wineserver kept up (each program then
# starts in a fraction of a second) and ended, with all it runs, at exit.
XIPC_WINEPREFIX=$(cd "$B/win64" && pwd)/wineprefix.demo
export XIPC_WINEPREFIX
mkdir -p "$XIPC_WINEPREFIX"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/xipc-demo-win.XXXXXX")
trap 'WINEPREFIX=$XIPC_WINEPREFIX "$WINESERVER" -k 2>/dev/null || true; rm -rf "$TMP"' EXIT INT TERM
if [ ! -f "$XIPC_WINEPREFIX/.xipc-ready" ]; then
    echo "(first run: making the wine prefix $XIPC_WINEPREFIX, ~20 s)"
fi
WINEPREFIX=$XIPC_WINEPREFIX "$WINESERVER" -p
xw() {
    timeout 300 sh "$HERE/wine-run.sh" "$XW" "$@"
}
xw --version >"$TMP/version" 2>&1 </dev/null || {
    cat "$TMP/version" >&2
    exit 1
}
echo "wine: $("$WINE" --version), $(tr -d '\r' <"$TMP/version")"

# listening NAME: the tcp:// address the background process NAME bound
# (its "...: listening at tcp://127.0.0.1:PORT" line), once it has
listening() {
    i=0
    while ! grep -q "listening at tcp://" "$TMP/$1.err" 2>/dev/null; do
        i=$((i + 1))
        if [ $i -gt 1500 ]; then
            echo "$1 did not start: $(cat "$TMP/$1.err")" >&2
            exit 1
        fi
        sleep 0.02
    done
    tr -d '\r' <"$TMP/$1.err" | sed -n 's/^.*listening at \(tcp:.*\)$/\1/p'
}

# Windows receives, Linux sends
xw recv -n 2 -t 60000 tcp://127.0.0.1:0 >"$TMP/wrecv.out" 2>"$TMP/wrecv.err" </dev/null &
rpid=$!
url=$(listening wrecv)
"$X64" send "$url" "hello from Linux (pid $$)" "to a Windows process under wine"
wait $rpid
tr -d '\r' <"$TMP/wrecv.out" | sed 's/^/  xipc.exe recv got: /'

# Linux receives, Windows sends
"$X64" recv -n 2 -t 60000 tcp://127.0.0.1:0 >"$TMP/lrecv.out" 2>"$TMP/lrecv.err" </dev/null &
rpid=$!
url=$(listening lrecv)
xw send "$url" "hello from Windows" "xipc.exe, a PE program run by wine" </dev/null
wait $rpid
sed 's/^/  xipc recv (Linux) got: /' "$TMP/lrecv.out"

# Linux calls a Windows server: sysinfo says which side answered
xw serve tcp://127.0.0.1:0 >"$TMP/wserve.out" 2>"$TMP/wserve.err" </dev/null &
spid=$!
url=$(listening wserve)
printf '  xipc call %s sysinfo: ' "$url"
"$X64" call -t 20000 "$url" sysinfo
kill $spid 2>/dev/null || true
wait $spid 2>/dev/null || true

echo
load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo 0)
ncpu=$(nproc 2>/dev/null || echo 1)
if awk -v l="$load" -v n="$ncpu" 'BEGIN { exit !(l < n) }'; then
    mode=--quick
    why=""
else
    mode=--smoke
    why=" (the machine is busy, load average $load on $ncpu CPUs: --quick would take minutes here)"
fi
echo "== 5. xipc.exe bench all $mode under wine: every Windows mechanism side by side$why"
echo "(the rows wine or the mingw build lack say so at the end)"
xw bench all $mode </dev/null | tr -d '\r'

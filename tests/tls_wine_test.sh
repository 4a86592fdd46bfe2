#!/bin/sh
# tls+tcp:// of the win64 build (Schannel) under wine against OpenSSL's
# s_server and the native build's xipc (docs/tls.md, "Windows").
#
#   tls_wine_test.sh TLS_TEST OPENSSL XIPC XIPC_EXE WINE_RUN TLS_WIN_TEST
#
# TLS_TEST: the native tls_test (its "port" command finds a free port, its
# "echo" serves TLS_WIN_TEST, the win64 tests/tls_win_test.c); XIPC: the
# native CLI; XIPC_EXE: the win64 CLI; both .exe run with WINE_RUN.
# Certificates with RSA keys: wine's Schannel takes no other (docs/tls.md).
# The Linux side has no wine listener to dial (wine's Schannel cannot
# accept): that direction is asserted as a refusal.
#
# Where wine differs from Windows the case asserts wine's behaviour: its
# Schannel has no AcceptSecurityContext (a tls+tcp listener is refused
# with XIPC_ENOTSUP) and negotiates TLS 1.2 at most.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
TLS_INTEROP_LIB=1 . "$here/tls_interop_test.sh"

T=$1 OPENSSL=$2 N=$3 X=$4 WINE_RUN=$5 TW=$6

fail() {
    echo "tls_wine_test: FAIL: $*" >&2
    for f in "$D"/*.err; do [ -s "$f" ] && { echo "--- $f" >&2; cat "$f" >&2; }; done
    exit 1
}

# xipc.exe send under wine: $rc, $D/s.out, $D/s.err
wine_send() {
    rc=0
    sh "$WINE_RUN" "$X" send -t 30000 "$@" >"$D/s.out" 2>"$D/s.err" || rc=$?
}

# The native `xipc recv -n 1` on a free port with options "$@": $rpid, $rurl
native_recv() {
    rm -f "$D/r.out" "$D/r.err"
    "$N" recv -n 1 -t 60000 "$@" tls+tcp://127.0.0.1:0 >"$D/r.out" 2>"$D/r.err" &
    rpid=$!
    for _ in $(seq 1 1000); do
        grep -q "listening at" "$D/r.err" 2>/dev/null && break
        sleep 0.01
    done
    rurl=$(sed -n 's/^recv: listening at //p' "$D/r.err")
    [ -n "$rurl" ] || fail "the native recv did not start"
}

# The native recv's exit status (killed when still waiting: 143).
recv_end() {
    kill "$rpid" 2>/dev/null || true
    rrc=0
    wait "$rpid" || rrc=$?
}

# wine client, native server: $1 label, $2 the text the client's error
# must contain ("" = must succeed); then "--" between recv and send options
case_native() {
    label=$1 want=$2
    shift 2
    ropts=""
    while [ "$1" != "--" ]; do ropts="$ropts $1"; shift; done
    shift
    # shellcheck disable=SC2086
    native_recv $ropts
    url=$rurl
    [ "${HOST:-}" = "" ] || url=$(echo "$rurl" | sed "s/127.0.0.1/$HOST/")
    wine_send "$@" "$url" "hello $label"
    if [ -z "$want" ]; then
        [ "$rc" = 0 ] || fail "$label: xipc.exe send exited $rc"
        for _ in $(seq 1 1000); do grep -q . "$D/r.out" && break; sleep 0.01; done
        recv_end
        [ "$(cat "$D/r.out")" = "hello $label" ] || fail "$label: recv printed '$(cat "$D/r.out")'"
        [ "$rrc" = 0 ] || fail "$label: recv exited $rrc"
        echo "  xipc.exe -> xipc ($label): delivered"
    else
        [ "$rc" = 1 ] || fail "$label: xipc.exe send exited $rc, want 1"
        grep -q "TLS handshake or certificate verification failed: .*$want" "$D/s.err" ||
            fail "$label: no ETLS '$want' in: $(cat "$D/s.err")"
        recv_end
        [ ! -s "$D/r.out" ] || fail "$label: recv got a message"
        echo "  xipc.exe -> xipc ($label): ETLS \"$want\""
    fi
}

D=$(mktemp -d "${TMPDIR:-/tmp}/xipc-tls-wine.XXXXXX")
trap 'rm -rf "$D"' EXIT
TLS_KEY=rsa certs "$D"
"$OPENSSL" genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$D/ec.key" 2>/dev/null
echo "tls_wine_test: $("$OPENSSL" version), $(sh "$WINE_RUN" "$X" --version 2>/dev/null || echo xipc.exe)"

# (a) xipc.exe -> openssl s_server: the frame arrives intact
to_wine_s_server() {
    label=$1
    shift
    sargs=""
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do sargs="$sargs $1"; shift; done
    [ $# -gt 0 ] && shift
    # shellcheck disable=SC2086
    s_server_start $sargs
    for _ in $(seq 1 500); do # xipc.exe dials once: wait for the port
        ss -ltn 2>/dev/null | grep -q "127.0.0.1:$port " && break
        sleep 0.01
    done
    wine_send --tls-ca "$D/ca.pem" "$@" "tls+tcp://127.0.0.1:$port" "hello $label"
    src=$rc
    if [ "$src" = 0 ]; then
        s_server_got "hello $label"
    else
        got="" want=""
        kill "$spid" 2>/dev/null || true
        wait "$spid" 2>/dev/null || true
        exec 3>&-
    fi
}
to_wine_s_server "TLS 1.2"
[ "$src" = 0 ] && [ "$got" = "$want" ] || fail "TLS 1.2: s_server printed '$got' (send exited $src)"
echo "  xipc.exe -> s_server (TLS 1.2): frame received intact"
to_wine_s_server "client certificate" -Verify 1 -CAfile "$D/ca.pem" -- \
    --tls-cert "$D/client.pem" --tls-key "$D/client.key"
[ "$src" = 0 ] && [ "$got" = "$want" ] || fail "client certificate: s_server printed '$got' (send exited $src)"
echo "  xipc.exe -> s_server (client certificate): frame received intact"
# wine: TLS 1.2 at most (Windows 11 with SCHANNEL_CRED too: docs/tls.md)
to_wine_s_server "TLS 1.3 only" -tls1_3
[ "$src" = 1 ] && grep -q "Schannel handshake failed" "$D/s.err" ||
    fail "TLS 1.3 only: send exited $src: $(cat "$D/s.err")"
echo "  xipc.exe -> s_server -tls1_3: ETLS (wine's Schannel speaks TLS 1.2 at most)"

# (a, b reversed) s_client or native xipc -> xipc.exe recv: wine's Schannel
# cannot accept; the listener is refused clearly
rc=0
sh "$WINE_RUN" "$X" recv --tls-cert "$D/server.pem" --tls-key "$D/server.key" \
    tls+tcp://127.0.0.1:0 >"$D/l.out" 2>"$D/l.err" || rc=$?
[ "$rc" = 1 ] && grep -q "operation not supported.*AcceptSecurityContext not implemented" "$D/l.err" ||
    fail "xipc.exe recv tls+tcp:// exited $rc: $(cat "$D/l.err")"
echo "  xipc.exe recv tls+tcp:// under wine: refused (ENOTSUP, no AcceptSecurityContext)"

# (b) xipc.exe -> native xipc recv
case_native "verified" "" --tls-cert "$D/server.pem" --tls-key "$D/server.key" -- \
    --tls-ca "$D/ca.pem"
HOST=localhost case_native "verified by host name" "" --tls-cert "$D/server.pem" \
    --tls-key "$D/server.key" -- --tls-ca "$D/ca.pem"
case_native "wrong CA" "certificate verify failed: unable to get local issuer certificate" \
    --tls-cert "$D/server.pem" --tls-key "$D/server.key" -- --tls-ca "$D/ca2.pem"
case_native "wrong host name" "certificate verify failed: hostname mismatch" \
    --tls-cert "$D/server.pem" --tls-key "$D/server.key" -- --tls-ca "$D/ca.pem" \
    --tls-server-name wrong.example
case_native "self-signed" "certificate verify failed: self-signed certificate" \
    --tls-cert "$D/rogue.pem" --tls-key "$D/rogue.key" -- --tls-ca "$D/ca.pem"
case_native "expired" "certificate verify failed: certificate has expired" \
    --tls-cert "$D/expired.pem" --tls-key "$D/expired.key" -- --tls-ca "$D/ca.pem"
case_native "tls_verify 0" "" --tls-cert "$D/rogue.pem" --tls-key "$D/rogue.key" -- \
    --tls-no-verify
case_native "mutual TLS" "" --tls-cert "$D/server.pem" --tls-key "$D/server.key" \
    --tls-ca "$D/ca.pem" -- --tls-ca "$D/ca.pem" --tls-cert "$D/client.pem" \
    --tls-key "$D/client.key"
# mutual TLS, no client certificate: both sides fail (wine words the
# server's alert as SEC_E_INTERNAL_ERROR; Windows: SEC_E_ILLEGAL_MESSAGE)
case_native "mutual TLS, no certificate" "Schannel handshake failed" \
    --tls-cert "$D/server.pem" --tls-key "$D/server.key" --tls-ca "$D/ca.pem" -- \
    --tls-ca "$D/ca.pem"
[ "$rrc" = 1 ] && grep -q "peer did not return a certificate" "$D/r.err" ||
    fail "mutual TLS, no certificate: recv exited $rrc: $(cat "$D/r.err")"
echo "  ... and the native listener: ETLS \"peer did not return a certificate\""
case_native "mutual TLS, other CA" "Schannel handshake failed" \
    --tls-cert "$D/server.pem" --tls-key "$D/server.key" --tls-ca "$D/ca.pem" -- \
    --tls-ca "$D/ca.pem" --tls-cert "$D/client2.pem" --tls-key "$D/client2.key"
# wine (GnuTLS) sends only a certificate whose issuer the server's request
# names: none here, so the listener sees no certificate at all
[ "$rrc" = 1 ] && grep -q "peer did not return a certificate" "$D/r.err" ||
    fail "mutual TLS, other CA: recv exited $rrc: $(cat "$D/r.err")"
echo "  ... and the native listener: ETLS \"peer did not return a certificate\" (wine sends none)"

# option errors, as the OpenSSL side words them where it can
wine_send --tls-ca "$D/missing.pem" tls+tcp://127.0.0.1:9 x
[ "$rc" = 1 ] && grep -q "invalid argument: cannot use tls_ca .*missing.pem: No such file" "$D/s.err" ||
    fail "missing tls_ca: $(cat "$D/s.err")"
wine_send --tls-cert "$D/client.pem" --tls-key "$D/ec.key" tls+tcp://127.0.0.1:9 x
[ "$rc" = 1 ] && grep -q "cannot use tls_key .*ec.key: not an RSA key" "$D/s.err" ||
    fail "EC key: $(cat "$D/s.err")"
wine_send --tls-cert "$D/client.pem" --tls-key "$D/server.key" tls+tcp://127.0.0.1:9 x
[ "$rc" = 1 ] && grep -q "tls_key .*server.key does not match tls_cert" "$D/s.err" ||
    fail "key of another certificate: $(cat "$D/s.err")"
echo "  option errors: missing tls_ca, an EC key, a key of another certificate: EINVAL"
# (c) the library under wine against the native echo (OpenSSL): sizes,
# threads, timeouts, verification texts, servers that are not TLS
"$T" echo "$D/echo.port" "$D/server.pem" "$D/server.key" >"$D/echo.err" 2>&1 &
epid=$!
for _ in $(seq 1 1000); do
    [ -s "$D/echo.port" ] && break
    sleep 0.01
done
[ -s "$D/echo.port" ] || fail "the native echo did not start"
rc=0
sh "$WINE_RUN" "$TW" "$D" "$(cat "$D/echo.port")" >"$D/tw.out" 2>"$D/tw.err" || rc=$?
kill "$epid" 2>/dev/null || true
wait "$epid" 2>/dev/null || true
sed 's/^/  /' "$D/tw.out"
[ "$rc" = 0 ] && grep -q "^tls_win_test ok" "$D/tw.out" || fail "tls_win_test exited $rc"
echo "tls_wine_test ok"

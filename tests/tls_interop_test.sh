#!/bin/sh
# tls+tcp:// against OpenSSL's own programs (docs/tls.md).
#
#   tls_interop_test.sh certs DIR             make the test certificates in DIR
#   tls_interop_test.sh run TLS_TEST [OPENSSL] the interop cases
#
# run: an xipc client sends a framed message to `openssl s_server`, whose
# output must be that frame (4-byte little-endian length, then the
# payload); `openssl s_client` sends a pre-framed message to an xipc server
# (TLS_TEST interop-serve), which checks it and replies, and s_client's
# output must be the reply's frame. Each with and without client
# certificates, and once over TLS 1.2.
set -eu

OPENSSL=openssl

# certs DIR: a CA, a second CA, a server certificate for localhost,
# 127.0.0.1 and ::1 signed by the CA, a client certificate signed by the CA
# and one signed by the second CA, a self-signed "rogue" server
# certificate, and an expired server certificate signed by the CA. EC keys
# (P-256): quick to make; TLS_KEY=rsa makes RSA 2048 keys instead (what
# Schannel under wine takes: docs/tls.md, "Windows").
certs() {
    d=$1
    mkdir -p "$d"
    ossl() { "$OPENSSL" "$@" >>"$d/openssl.log" 2>&1; }
    key() {
        if [ "${TLS_KEY:-ec}" = rsa ]; then
            ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$d/$1.key"
        else
            ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$d/$1.key"
        fi
    }
    ca() { # NAME CN
        key "$1"
        ossl req -x509 -new -key "$d/$1.key" -out "$d/$1.pem" -days 3650 -subj "/CN=$2" \
            -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign"
    }
    leaf() { # NAME CA CN DAYS EXTENSIONS
        key "$1"
        ossl req -new -key "$d/$1.key" -out "$d/$1.csr" -subj "/CN=$3"
        printf 'basicConstraints=CA:FALSE\n%s\n' "$5" >"$d/$1.ext"
        ossl x509 -req -in "$d/$1.csr" -CA "$d/$2.pem" -CAkey "$d/$2.key" \
            -CAcreateserial -CAserial "$d/$2.srl" -days "$4" -extfile "$d/$1.ext" \
            -out "$d/$1.pem"
    }
    san='subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1'
    ca ca "xipc test CA"
    ca ca2 "xipc other CA"
    leaf server ca localhost 3650 "$san
extendedKeyUsage=serverAuth"
    leaf client ca xipc-client 3650 "extendedKeyUsage=clientAuth"
    leaf client2 ca2 xipc-client 3650 "extendedKeyUsage=clientAuth"
    leaf expired ca localhost -1 "$san
extendedKeyUsage=serverAuth"
    key rogue
    ossl req -x509 -new -key "$d/rogue.key" -out "$d/rogue.pem" -days 3650 \
        -subj /CN=localhost -addext "$san"
    for f in ca ca2 server client client2 expired rogue; do
        [ -s "$d/$f.pem" ] || { cat "$d/openssl.log" >&2; echo "certs: $f.pem missing" >&2; exit 1; }
    done
}

fail() {
    echo "tls_interop_test: FAIL: $*" >&2
    exit 1
}

hex() { od -An -v -tx1 | tr -d ' \n'; }

# The frame of payload $1 in hex: little-endian u32 length, then the bytes.
frame_hex() {
    n=$(printf '%s' "$1" | wc -c)
    printf '%02x%02x%02x%02x' $((n & 255)) $((n >> 8 & 255)) $((n >> 16 & 255)) $((n >> 24 & 255))
    printf '%s' "$1" | hex
}

# The frame of payload $1 as bytes on stdout (payload under 256 bytes).
frame() {
    n=$(printf '%s' "$1" | wc -c)
    printf "\\$(printf '%03o' "$n")\\000\\000\\000%s" "$1"
}

# Start `openssl s_server` for one connection on a free port ($port, $spid)
# with extra arguments "$@"; its output goes to $D/s_server.out.
s_server_start() {
    port=$("$T" port)
    # s_server ends a connection when its standard input ends: give it one
    # that stays open (a FIFO we hold open for writing)
    rm -f "$D/in"
    mkfifo "$D/in"
    exec 3<>"$D/in"
    timeout 120 "$OPENSSL" s_server -accept "127.0.0.1:$port" -naccept 1 -quiet \
        -cert "$D/server.pem" -key "$D/server.key" "$@" \
        <&3 >"$D/s_server.out" 2>"$D/s_server.err" &
    spid=$!
}

# Wait until s_server printed the frame of payload $1 (at most 5 s; $got,
# $want), then stop it.
s_server_got() {
    want=$(frame_hex "$1")
    for _ in $(seq 1 500); do
        got=$(hex <"$D/s_server.out")
        [ "$got" = "$want" ] && break
        sleep 0.01
    done
    kill "$spid" 2>/dev/null || true
    wait "$spid" 2>/dev/null || true
    exec 3>&-
}

# xipc client -> openssl s_server. $1: label; the rest: extra s_server
# arguments, then "--", then extra interop-send arguments.
to_s_server() {
    label=$1
    shift
    sargs=""
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do sargs="$sargs $1"; shift; done
    [ $# -gt 0 ] && shift
    msg="hello from xipc ($label)"
    # shellcheck disable=SC2086
    s_server_start $sargs
    if ! timeout 60 "$T" interop-send "tls+tcp://127.0.0.1:$port" "$msg" "$D/ca.pem" "$@"; then
        kill "$spid" 2>/dev/null || true
        cat "$D/s_server.err" >&2
        fail "$label: the xipc client failed"
    fi
    s_server_got "$msg"
    [ "$got" = "$want" ] || { cat "$D/s_server.err" >&2; fail "$label: s_server printed $got, want $want"; }
    echo "  xipc -> s_server ($label): frame received intact"
}

# openssl s_client -> xipc server. $1: label; $2: the server's extra
# argument (a CA file: require client certificates, or ""); the rest:
# extra s_client arguments.
from_s_client() {
    label=$1
    sca=$2
    shift 2
    rm -f "$D/port"
    "$T" interop-serve "$D/port" "$D/server.pem" "$D/server.key" \
        "hello from s_client" "reply from xipc" $sca >"$D/serve.log" 2>&1 &
    spid=$!
    for _ in $(seq 1 500); do
        [ -s "$D/port" ] && break
        sleep 0.01
    done
    [ -s "$D/port" ] || fail "$label: the xipc server did not start"
    port=$(cat "$D/port")
    frame "hello from s_client" | timeout 60 "$OPENSSL" s_client -connect "127.0.0.1:$port" \
        -CAfile "$D/ca.pem" -verify_return_error -verify_ip 127.0.0.1 -quiet "$@" \
        >"$D/s_client.out" 2>"$D/s_client.err" || true
    rc=0
    wait "$spid" || rc=$?
    [ "$rc" = 0 ] || { cat "$D/serve.log" "$D/s_client.err" >&2; fail "$label: the xipc server exited $rc"; }
    got=$(hex <"$D/s_client.out")
    want=$(frame_hex "reply from xipc")
    [ "$got" = "$want" ] || { cat "$D/s_client.err" >&2; fail "$label: s_client printed $got, want $want"; }
    echo "  s_client -> xipc ($label): request checked, reply received intact"
}

run() {
    T=$1
    [ $# -gt 1 ] && OPENSSL=$2
    D=$(mktemp -d "${TMPDIR:-/tmp}/xipc-tls-interop.XXXXXX")
    trap 'rm -rf "$D"' EXIT
    certs "$D"
    echo "tls_interop_test: $("$OPENSSL" version)"
    to_s_server "TLS 1.3"
    to_s_server "TLS 1.2" -tls1_2
    to_s_server "client certificate" -Verify 1 -CAfile "$D/ca.pem" -- \
        "$D/client.pem" "$D/client.key"
    from_s_client "TLS 1.3" ""
    from_s_client "TLS 1.2" "" -tls1_2
    from_s_client "client certificate" "$D/ca.pem" -cert "$D/client.pem" -key "$D/client.key"
    # a server requiring client certificates refuses s_client without one
    "$T" interop-serve "$D/port2" "$D/server.pem" "$D/server.key" - - "$D/ca.pem" \
        >"$D/refuse.log" 2>&1 &
    spid=$!
    for _ in $(seq 1 500); do
        [ -s "$D/port2" ] && break
        sleep 0.01
    done
    frame "let me in" | timeout 60 "$OPENSSL" s_client -connect "127.0.0.1:$(cat "$D/port2")" \
        -CAfile "$D/ca.pem" -quiet >/dev/null 2>&1 || true
    rc=0
    wait "$spid" || rc=$?
    [ "$rc" = 0 ] || { cat "$D/refuse.log" >&2; fail "no client certificate: the xipc server exited $rc"; }
    grep -q "ETLS: peer did not return a certificate" "$D/refuse.log" ||
        { cat "$D/refuse.log" >&2; fail "no client certificate: not refused as expected"; }
    echo "  s_client without a certificate -> xipc requiring one: refused (ETLS)"
    echo "tls_interop_test ok"
}

# TLS_INTEROP_LIB=1: only define the functions (tls_wine_test.sh uses them)
[ "${TLS_INTEROP_LIB:-}" = 1 ] && return 0

case "${1:-}" in
certs) certs "$2" ;;
run)
    shift
    run "$@"
    ;;
*)
    echo "usage: $0 certs DIR | run TLS_TEST [OPENSSL]" >&2
    exit 2
    ;;
esac

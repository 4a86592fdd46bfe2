#!/bin/sh
# Install every Debian package the xipc build, tests and benchmarks need.
# Run as root on Debian. Does nothing when everything is already present.
set -eu

PKGS="build-essential cmake pkg-config gcc-multilib mingw-w64 wine64 \
valgrind clang libclang-rt-14-dev libmsgpack-dev python3-msgpack \
libnng-dev libzmq3-dev libsystemd-dev dbus gnuplot-nox libssl-dev openssl \
procps iproute2"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
    echo "deps.sh: missing packages:$missing (run as root to install them)" >&2
    exit 1
fi

echo "deps.sh: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null

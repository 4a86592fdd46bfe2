#!/bin/sh
# Install every Debian package the xipc build, tests and benchmarks need
# (python3: the man pages' scripts/man.py; groff-base: install_test renders them).
# Run as root on Debian. Does nothing when everything is already present.
# qemu-user (qemu-i386) only where the kernel cannot run 32-bit programs,
# or XIPC_EMULATE_32=1 asks for emulation: scripts/run32 decides, and this
# asks it.
set -eu

PKGS="build-essential cmake pkg-config gcc-multilib mingw-w64 wine64 \
valgrind clang libclang-rt-14-dev libmsgpack-dev python3-msgpack \
libnng-dev libzmq3-dev libsystemd-dev dbus gnuplot-nox libssl-dev openssl \
procps iproute2 xvfb libffi-dev libdw-dev python3 groff-base mosquitto \
libmosquitto-dev"

# install PACKAGE...: those of them not installed yet
install() {
    missing=""
    for p in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
            missing="$missing $p"
        fi
    done
    [ -z "$missing" ] && return 0
    if [ "$(id -u)" != 0 ]; then
        echo "deps.sh: missing packages:$missing (run as root to install them)" >&2
        exit 1
    fi
    echo "deps.sh: installing$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    # an index that fails to update (a mirror mid-sync, as the i386 one of
    # the security archive was once) need not stop the install: the
    # install says so itself when a package cannot be had
    apt-get update -qq || echo "deps.sh: apt-get update reported errors; installing anyway" >&2
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

# shellcheck disable=SC2086
install $PKGS
# The 32-bit loader (from gcc-multilib) is a 32-bit program: run32 --how
# fails on it when neither the kernel nor an installed qemu-i386 can run it.
if ! sh "$(dirname "$0")/run32" --how /lib/ld-linux.so.2 >/dev/null 2>&1; then
    install qemu-user
fi
# libffi for the 32-bit `xipc host` (docs/host.md): libffi-dev:i386, which
# needs the i386 architecture in dpkg (added once; install() updates the
# package lists when it has something to install).
if ! dpkg-query -W -f='${Status}' libffi-dev:i386 2>/dev/null | grep -q "install ok installed"; then
    if [ "$(id -u)" = 0 ] && ! dpkg --print-foreign-architectures | grep -qx i386; then
        dpkg --add-architecture i386
    fi
    install libffi-dev:i386
fi

#!/bin/sh
# What `cmake --install` puts in a prefix serves a user of the library
# (docs/install.md):
#   install_test.sh CMAKE BUILD CC VERSION BINDIR LIBDIR MANDIR
# installs BUILD into a temporary prefix, then checks the files and
# links, libxipc.so's SONAME and exports, the installed xipc, the man
# pages (they render without a warning; xipc(1) has a section for every
# command the CLI lists, naming every option its --help names; xipc(7)
# every error of xipc.h), and builds tests/install/consumer out of the
# tree three ways: pkg-config with libxipc.so, pkg-config --static with
# libxipc.a, and find_package(xipc) with xipc::xipc and xipc::xipc_static.
# Each program must run a round trip with the installed library.
set -eu
usage="usage: install_test.sh CMAKE BUILD CC VERSION BINDIR LIBDIR MANDIR"
[ $# -eq 7 ] || { echo "$usage" >&2; exit 2; }
cmake=$1 build=$2 cc=$3 version=$4 bindir=$5 libdir=$6 mandir=$7
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/xipc-install-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
p=$tmp/prefix
lib=$p/$libdir

fail() {
    echo "install_test: FAIL: $*" >&2
    exit 1
}
ok() { echo "install_test: ok: $*"; }
# run LOG CMD...: CMD's output to LOG, shown when it fails
run() {
    log=$1
    shift
    "$@" >"$log" 2>&1 || { cat "$log" >&2; fail "$*"; }
}

run "$tmp/install.log" "$cmake" --install "$build" --prefix "$p"
ok "cmake --install $build --prefix $p"

# --- the files and links
for f in "$bindir/xipc" include/xipc/xipc.h include/xipc/rpc.h \
    include/xipc/msgpack.h include/xipc/inspect.h "$libdir/libxipc.a" \
    "$libdir/libxipc.so.$version" "$libdir/pkgconfig/xipc.pc" \
    "$libdir/cmake/xipc/xipcConfig.cmake" "$libdir/cmake/xipc/xipcConfigVersion.cmake" \
    "$mandir/man1/xipc.1" "$mandir/man7/xipc.7"; do
    [ -f "$p/$f" ] || fail "$f is not installed"
done
[ "$(readlink "$lib/libxipc.so.0")" = "libxipc.so.$version" ] ||
    fail "libxipc.so.0 is not a link to libxipc.so.$version"
[ "$(readlink "$lib/libxipc.so")" = libxipc.so.0 ] ||
    fail "libxipc.so is not a link to libxipc.so.0"
ok "the files, libxipc.so -> libxipc.so.0 -> libxipc.so.$version"
soname=$(readelf -d "$lib/libxipc.so.$version" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = libxipc.so.0 ] || fail "SONAME of libxipc.so.$version is '$soname', not libxipc.so.0"
# only the public names leave the shared library (the rest is hidden)
others=$(nm -D --defined-only "$lib/libxipc.so.$version" | awk '$3 !~ /^xipc_/ { print $3 }')
[ -z "$others" ] || fail "libxipc.so exports names outside xipc_*: $others"
nm -D --defined-only "$lib/libxipc.so.$version" | grep -q ' T xipc_listen$' ||
    fail "libxipc.so does not export xipc_listen"
ok "SONAME libxipc.so.0; only xipc_* exported"

# --- the installed program
xipc=$p/$bindir/xipc
[ "$("$xipc" --version)" = "xipc $version" ] ||
    fail "'xipc --version' says '$("$xipc" --version)', not 'xipc $version'"
"$xipc" help >"$tmp/help.txt" || fail "'xipc help' exits $?"
ok "$xipc --version: xipc $version"

# --- the man pages: roff that groff reads without a warning
for page in man1/xipc.1 man7/xipc.7; do
    groff -man -Tutf8 -ww -z "$p/$mandir/$page" 2>"$tmp/groff.err" ||
        fail "groff fails on $page"
    [ ! -s "$tmp/groff.err" ] || { cat "$tmp/groff.err" >&2; fail "groff warns on $page"; }
    groff -man -Tascii -P-cbou "$p/$mandir/$page" | grep -q '^NAME$' ||
        fail "$page renders without a NAME section"
done
ok "xipc(1) and xipc(7) render without warnings"
# The pages' roff with escapes and font changes taken out: the text as written.
plain() { sed 's/\\-/-/g; s/\\f[BIRP]//g; s/\\&//g; s/\\e/\\/g' "$p/$mandir/$1"; }
plain man1/xipc.1 >"$tmp/xipc.1.txt"
plain man7/xipc.7 >"$tmp/xipc.7.txt"
# terms NAME: the terms (the line after .TP) of ".SS NAME", up to the
# next .SS or .SH; the line "section" first when the section exists
terms() {
    awk -v want=".SS $1" '$0 == want { on = 1; print "section"; next }
        /^\.S[SH]/ { on = 0 } on && /^\.TP/ { getline; print }' "$tmp/xipc.1.txt"
}
# named OPTION FILE: FILE has OPTION as a word of its own (-t, not in --tls)
named() { grep -qE "(^|[^A-Za-z0-9-])$1([^A-Za-z0-9-]|\$)" "$2"; }
# options FILE: the options a help text describes (on its lines that
# start with blanks and a dash: "  -t, --timeout MS  ..."), one a line
options() {
    grep -E '^ +-' "$1" | grep -oE '(^|[][ ,(|])--?[A-Za-z][A-Za-z0-9-]*' |
        sed 's/^[][ ,(|]//' | sort -u
}
# The commands as the CLI lists them: the usage line's <a|b|...> and the
# first words of "commands:".
cmds=$( (sed -n '1s/.*<\([^>]*\)>.*/\1/p' "$tmp/help.txt" | tr '|' '\n'
         sed -n '/^commands:/,/^$/s/^  \([a-z][a-z0-9-]*\).*/\1/p' "$tmp/help.txt") | sort -u)
[ "$(echo "$cmds" | wc -l)" -ge 10 ] || fail "found only these commands in 'xipc help': $cmds"
for c in $cmds; do
    terms "xipc $c" >"$tmp/sec.txt"
    [ -s "$tmp/sec.txt" ] || fail "xipc(1) has no section 'xipc $c' (a command 'xipc help' lists)"
    [ "$c" = help ] && continue # 'xipc help help' is no help text
    "$xipc" help "$c" >"$tmp/cmd-help.txt" || fail "'xipc help $c' exits $?"
    for o in $(options "$tmp/cmd-help.txt"); do
        named "$o" "$tmp/sec.txt" ||
            fail "xipc(1), section 'xipc $c', has no entry for $o ('xipc $c --help' has)"
    done
done
sed -n '/^options:/,/^$/p' "$tmp/help.txt" >"$tmp/main-opts.txt"
awk '/^\.SH "OPTIONS"/ { on = 1; next } /^\.S[SH]/ { on = 0 } on && /^\.TP/ { getline; print }' \
    "$tmp/xipc.1.txt" >"$tmp/sec.txt"
for o in $(options "$tmp/main-opts.txt"); do
    named "$o" "$tmp/sec.txt" || fail "xipc(1), OPTIONS, has no entry for $o ('xipc --help' has)"
done
ok "xipc(1) has every command of 'xipc help' ($(echo $cmds)) and its options"
errs=$(sed -n 's/^ *XX(\([A-Z]*\), *[0-9]*,.*/\1/p' "$p/include/xipc/xipc.h")
[ "$(echo "$errs" | wc -l)" -ge 10 ] || fail "found only these errors in xipc.h: $errs"
for e in $errs; do
    grep -q "^XIPC_$e (" "$tmp/xipc.7.txt" || fail "xipc(7) does not describe XIPC_$e"
done
ok "xipc(7) describes every error of xipc.h"

# --- pkg-config: libxipc.so, then libxipc.a
export PKG_CONFIG_PATH="$lib/pkgconfig"
[ "$(pkg-config --modversion xipc)" = "$version" ] ||
    fail "pkg-config --modversion xipc: '$(pkg-config --modversion xipc)', not $version"
# shellcheck disable=SC2046 # the flags are words
run "$tmp/cc.log" "$cc" -std=c11 -Wall -Wextra -Werror -o "$tmp/pc_shared" \
    "$here/consumer/main.c" $(pkg-config --cflags --libs xipc)
# the installed libxipc.so.0, found through LD_LIBRARY_PATH
LD_LIBRARY_PATH=$lib ldd "$tmp/pc_shared" | grep -q "libxipc.so.0 => $lib/libxipc.so.0" ||
    fail "pc_shared does not load $lib/libxipc.so.0: $(LD_LIBRARY_PATH=$lib ldd "$tmp/pc_shared")"
LD_LIBRARY_PATH=$lib "$tmp/pc_shared" || fail "pc_shared (pkg-config, libxipc.so) exits $?"
# --static gives Libs.private; -l:libxipc.a takes the archive even where
# libxipc.so lies beside it
static=$(pkg-config --libs --static xipc | sed 's/-lxipc\( \|$\)/-l:libxipc.a\1/')
# shellcheck disable=SC2046,SC2086
run "$tmp/cc.log" "$cc" -std=c11 -Wall -Wextra -Werror -o "$tmp/pc_static" \
    "$here/consumer/main.c" $(pkg-config --cflags xipc) $static
! readelf -d "$tmp/pc_static" | grep -q 'libxipc\.so' || fail "pc_static needs libxipc.so"
"$tmp/pc_static" || fail "pc_static (pkg-config --static, libxipc.a) exits $?"
ok "pkg-config: built and ran with libxipc.so and with libxipc.a ($static)"

# --- CMake: find_package(xipc) from the prefix, both targets
run "$tmp/cm.log" "$cmake" -S "$here/consumer" -B "$tmp/cm" -DCMAKE_PREFIX_PATH="$p" \
    -DCMAKE_C_COMPILER="$cc" -DXIPC_WANT="$version"
grep -q "xipc $version from $lib/cmake/xipc\$" "$tmp/cm.log" ||
    fail "find_package(xipc) found another xipc: $(grep 'xipc .* from' "$tmp/cm.log")"
run "$tmp/cm-build.log" "$cmake" --build "$tmp/cm"
ldd "$tmp/cm/consumer" | grep -q "libxipc.so.0 => $lib/libxipc.so.0" ||
    fail "consumer (xipc::xipc) does not load $lib/libxipc.so.0 (RPATH)"
"$tmp/cm/consumer" || fail "consumer (xipc::xipc) exits $?"
! readelf -d "$tmp/cm/consumer_static" | grep -q 'libxipc\.so' ||
    fail "consumer_static (xipc::xipc_static) needs libxipc.so"
"$tmp/cm/consumer_static" || fail "consumer_static (xipc::xipc_static) exits $?"
ok "find_package(xipc $version): built and ran with xipc::xipc and xipc::xipc_static"
# the version file: another major version is refused
major=${version%%.*}
if "$cmake" -S "$here/consumer" -B "$tmp/cm-next" -DCMAKE_PREFIX_PATH="$p" \
    -DCMAKE_C_COMPILER="$cc" -DXIPC_WANT=$((major + 1)).0 >"$tmp/cm-next.log" 2>&1; then
    fail "find_package(xipc $((major + 1)).0) accepted xipc $version"
fi
# CMake names each config it turned down, with its version
grep -q "$lib/cmake/xipc/xipcConfig.cmake, version: $version" "$tmp/cm-next.log" ||
    { cat "$tmp/cm-next.log" >&2; fail "find_package(xipc $((major + 1)).0) failed, but not on the version"; }
ok "find_package(xipc $((major + 1)).0) refuses xipc $version"
echo "install_test: all ok"

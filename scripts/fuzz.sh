#!/bin/sh
# Run the libFuzzer targets of tests/fuzz (docs/testing.md).
#
#   scripts/fuzz.sh [-b BUILD] [-j JOBS] SECONDS [TARGET...]
#
# Each target (all six when none is named) runs for SECONDS on a copy of
# its committed seed corpus tests/fuzz/corpus/<target>/, so that a run adds
# nothing to the repository; the seeds run first, so every crash input
# committed there is a regression test. BUILD is the XIPC_FUZZ build
# (default build/fuzz; `make fuzz-build` makes it); JOBS targets run at
# once (default 1). Fails when a target finds a crash, a leak, a sanitizer
# report or a hang: the input is kept in BUILD/fuzz-artifacts/<target>/,
# the log in BUILD/fuzz-logs/<target>.log. Set FUZZ_KEEP_CORPUS=DIR to keep
# the grown corpora in DIR/<target>/ (e.g. to pick new seeds from).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build/fuzz
jobs=1
while [ $# -gt 0 ]; do
    case $1 in
    -b) build=$2; shift 2 ;;
    -j) jobs=$2; shift 2 ;;
    -j*) jobs=${1#-j}; shift ;;
    *) break ;;
    esac
done
if [ $# -lt 1 ]; then
    echo "usage: $0 [-b BUILD] [-j JOBS] SECONDS [TARGET...]" >&2
    exit 2
fi
secs=$1
shift
targets=${*:-fuzz_msgpack fuzz_url fuzz_frame fuzz_ring fuzz_rpc fuzz_shm}

mkdir -p "$build/fuzz-logs"
work=$(mktemp -d "${TMPDIR:-/tmp}/xipc-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

# run_one TARGET: one fuzzing session; prints one summary line.
run_one() {
    t=$1
    exe=$build/tests/fuzz/$t
    seeds=$root/tests/fuzz/corpus/$t
    log=$build/fuzz-logs/$t.log
    art=$build/fuzz-artifacts/$t
    if [ ! -x "$exe" ]; then
        echo "$t: $exe not built (make fuzz-build)" >&2
        return 1
    fi
    mkdir -p "$work/$t" "$art"
    nseed=0
    if [ -d "$seeds" ]; then
        cp "$seeds"/* "$work/$t"/ 2>/dev/null || true
        nseed=$(ls "$seeds" | wc -l)
    fi
    # -timeout: an input that takes 10 s is a hang; -rss_limit_mb: 2 GiB
    rc=0
    "$exe" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -max_len=4096 -print_final_stats=1 -artifact_prefix="$art/" \
        "$work/$t" >"$log" 2>&1 || rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | sed 's/cov: //')
    ncorp=$(ls "$work/$t" | wc -l)
    if [ -n "${FUZZ_KEEP_CORPUS:-}" ]; then
        mkdir -p "$FUZZ_KEEP_CORPUS/$t"
        cp "$work/$t"/* "$FUZZ_KEEP_CORPUS/$t"/ 2>/dev/null || true
    fi
    if [ "$rc" -ne 0 ]; then
        echo "$t: FAILED (exit $rc) after ${runs:-?} runs; log $log, input in $art/"
        grep -E '^(==[0-9]+==|SUMMARY|.*check failed|.*runtime error)' "$log" | head -n 20
        return 1
    fi
    echo "$t: ok, ${runs:-?} runs in $secs s, coverage ${cov:-?} edges, corpus $nseed seeds -> $ncorp inputs"
}

fail=0
if [ "$jobs" -le 1 ]; then
    for t in $targets; do
        run_one "$t" || fail=1
    done
else
    # JOBS at a time; each job's summary goes to its own file
    set -- $targets
    while [ $# -gt 0 ]; do
        pids=""
        n=0
        while [ $# -gt 0 ] && [ "$n" -lt "$jobs" ]; do
            (run_one "$1" >"$work/$1.out" 2>&1) &
            pids="$pids $!:$1"
            n=$((n + 1))
            shift
        done
        for p in $pids; do
            wait "${p%%:*}" || fail=1
            cat "$work/${p#*:}.out"
        done
    done
fi
exit $fail

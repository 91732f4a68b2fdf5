#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# run-fuzz.sh [TARGET...]
#
# Runs libFuzzer targets of tests/fuzz (tests/fuzz/README.md) for a bounded time each. A target
# NAME is the program tests/fuzz/fuzz_NAME of the build with its seed corpus
# tests/fuzz/corpus/NAME and, when there is one, its dictionary tests/fuzz/NAME.dict. Without
# arguments every target runs: those in NP_FUZZ_TARGETS (make check sets it to the FUZZ_TARGETS
# of tests/fuzz/Makemodule.am), else every NAME that has a seed corpus.
#
# For each target: first every input of the seed corpus once (valid files, tricky ones and the
# regression inputs of fixed bugs: each must pass on its own), then mutations of them for
# NP_FUZZ_SECONDS seconds (default 2; 0: the seeds only), with
# ASan, UBSan and leak checks, a per-input timeout and memory limits. A target fails on any
# crash, sanitizer report, leak, timeout or violated invariant, and the input that caused it is
# printed. The seed corpus is only read: new inputs go to a temporary directory, or, when
# NP_FUZZ_CORPUS is set, to NP_FUZZ_CORPUS/NAME (kept, for a long run to be minimized into the
# seed corpus later). Skips (exit 77) with the reason when the targets were not built (no clang
# that links libFuzzer at configure time), or with NP_FUZZ_ELSEWHERE's text when it is set
# (scripts/test sets it in its pass without sanitizers: the sanitizer pass builds and runs the
# very same programs).
# Runs as a plain program or through tests/sandbox/sandbox-run (make check does the latter).
set -u
name=$(basename "$0")
src=${NP_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${NP_TOP_BUILDDIR:-$(pwd)}
seconds=${NP_FUZZ_SECONDS:-2}

skip() { echo "SKIP: $name: $*"; exit 77; }
fail() { echo "FAIL: $name: $*" >&2; exit 1; }

if [ $# -gt 0 ]; then
    targets=("$@")
elif [ -n "${NP_FUZZ_TARGETS:-}" ]; then
    read -r -a targets <<< "$NP_FUZZ_TARGETS"
else
    targets=()
    for d in "$src"/tests/fuzz/corpus/*/; do
        targets+=("$(basename "$d")")
    done
fi
[ ${#targets[@]} -gt 0 ] || fail "no targets: $src/tests/fuzz/corpus has no seed corpus"
[[ "$seconds" =~ ^[0-9]+$ ]] || fail "NP_FUZZ_SECONDS=$seconds is not a number of seconds (0: the seeds only)"

[ -z "${NP_FUZZ_ELSEWHERE:-}" ] || skip "$NP_FUZZ_ELSEWHERE"
built=0
for t in "${targets[@]}"; do
    [ -x "$build/tests/fuzz/fuzz_$t" ] && built=$((built + 1))
done
if [ "$built" = 0 ]; then
    command -v clang >/dev/null 2>&1 || skip "needs clang (Debian packages clang, libclang-rt-14-dev) to build the fuzz targets; re-run configure after installing"
    skip "the fuzz targets were not built: configure found no clang that links -fsanitize=fuzzer (Debian package libclang-rt-14-dev); re-run configure"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/run-fuzz.XXXXXX") || fail "cannot create a temporary directory"
# The targets that read files by name write them in a scratch directory: tmpfs when there is one
# (each input is written, read and for nfs.conf and fstab replaced with fsync), else the work dir.
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
    scratch=$(mktemp -d /dev/shm/run-fuzz.XXXXXX) || fail "cannot create a directory in /dev/shm"
else
    scratch=$work/scratch
    mkdir "$scratch"
fi
trap 'rm -rf "$work" "$scratch"' EXIT

# The error-message checks of fuzz_api_body are on: errno exactly EINVAL and a one-line UTF-8
# message (its seeds create-size-text-overflow, create-client-invalid-utf8 and
# create-client-newline keep them honest).
export FUZZ_API_BODY_STRICT=${FUZZ_API_BODY_STRICT:-1}
# Later options win: whatever the environment sets, leaks are checked, every sanitizer report
# stops the run, and only the known bugs listed in tests/fuzz/ubsan.supp are let through.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1:abort_on_error=1:symbolize=1"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:halt_on_error=1:suppressions=$src/tests/fuzz/ubsan.supp"

report() { # LOG ARTIFACTS
    local f
    tail -n 60 "$1" >&2
    for f in "$2"/*; do
        [ -e "$f" ] || continue
        echo "input that failed ($f, base64): $(base64 -w0 < "$f")" >&2
        echo "as text: $(head -c 400 "$f" | cat -v)" >&2
    done
}

# run_target NAME: 0 when it passed, 1 when it failed (with the reason on stderr)
run_target() {
    local t=$1 target seeds dict corpus art log rc runs cov n_seeds
    target=$build/tests/fuzz/fuzz_$t
    seeds=$src/tests/fuzz/corpus/$t
    dict=$src/tests/fuzz/$t.dict
    art=$work/$t/artifacts
    log=$work/$t/log
    mkdir -p "$art" "$work/$t/tmp"
    if [ -n "${NP_FUZZ_CORPUS:-}" ]; then
        corpus=$NP_FUZZ_CORPUS/$t
        mkdir -p "$corpus" || { echo "FAIL: $name: $t: cannot create $corpus" >&2; return 1; }
    else
        corpus=$work/$t/corpus
        mkdir "$corpus"
    fi
    [ -x "$target" ] || { echo "FAIL: $name: $t: $target was not built (the other targets were)" >&2; return 1; }
    [ -d "$seeds" ] && [ -n "$(ls -A "$seeds")" ] ||
        { echo "FAIL: $name: $t: the seed corpus $seeds is missing or empty" >&2; return 1; }
    local opts=(-rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=10 -artifact_prefix="$art/")
    [ -f "$dict" ] && opts+=(-dict="$dict")
    case $t in api_body|qcow2) opts+=(-max_len=8192) ;; esac

    # 1. Every seed once: each must pass on its own (a failure here names the seed file).
    if ! TMPDIR=$scratch "$target" -runs=0 "${opts[@]}" "$seeds" > "$log" 2>&1; then
        report "$log" "$art"
        echo "FAIL: $name: $t: a seed input of $seeds fails" >&2
        return 1
    fi
    n_seeds=$(ls -1 "$seeds" | wc -l)
    if [ "$seconds" = 0 ]; then
        echo "PASS: $name: $t: $n_seeds seeds, no failure (no mutations: NP_FUZZ_SECONDS=0)"
        return 0
    fi

    # 2. Mutations for a bounded time.
    TMPDIR=$scratch "$target" -max_total_time="$seconds" -print_final_stats=1 "${opts[@]}" "$corpus" "$seeds" \
        > "$log" 2>&1
    rc=$?
    if [ "$rc" != 0 ]; then
        report "$log" "$art"
        echo "FAIL: $name: $t failed (exit $rc) within $seconds s" >&2
        return 1
    fi
    if ls "$art"/* >/dev/null 2>&1; then
        report "$log" "$art"
        echo "FAIL: $name: $t left a crash input" >&2
        return 1
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    if ! [ -n "$runs" ] || ! [ "$runs" -gt 0 ]; then
        report "$log" "$art"
        echo "FAIL: $name: $t ran no inputs" >&2
        return 1
    fi
    cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1)
    echo "PASS: $name: $t: $n_seeds seeds and $runs inputs in $seconds s ($cov), no failure"
    return 0
}

failed=()
for t in "${targets[@]}"; do
    run_target "$t" || failed+=("$t")
done
[ ${#failed[@]} = 0 ] || fail "failed: ${failed[*]}"
echo "PASS: $name: ${#targets[@]} targets (${targets[*]})"

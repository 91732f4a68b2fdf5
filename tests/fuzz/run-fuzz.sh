#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs the libFuzzer target fuzz_api_body (tests/fuzz/fuzz_api_body.c) for a bounded time:
# first every input of the seed corpus once (tests/fuzz/corpus/api_body: valid and tricky JSON
# bodies), then mutations of it for NP_FUZZ_SECONDS (default 30) seconds, with ASan, UBSan and
# leak checks, a per-input timeout and a memory limit. Fails on any crash, sanitizer report,
# leak, timeout or violated invariant, and prints the input that caused it. The seed corpus is
# only read; new inputs go to a temporary directory. Skips (exit 77) with the reason when the
# target was not built (no clang that links libFuzzer at configure time).
# Runs as a plain program or through tests/sandbox/sandbox-run (make check does the latter).
set -u
name=$(basename "$0")
src=${NP_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${NP_TOP_BUILDDIR:-$(pwd)}
target=$build/tests/fuzz/fuzz_api_body
seeds=$src/tests/fuzz/corpus/api_body
dict=$src/tests/fuzz/api_body.dict
seconds=${NP_FUZZ_SECONDS:-30}

skip() { echo "SKIP: $name: $*"; exit 77; }
fail() { echo "FAIL: $name: $*" >&2; exit 1; }

if [ ! -x "$target" ]; then
    command -v clang >/dev/null 2>&1 || skip "needs clang (Debian packages clang, libclang-rt-14-dev) to build $target; re-run configure after installing"
    skip "$target was not built: configure found no clang that links -fsanitize=fuzzer (Debian package libclang-rt-14-dev); re-run configure"
fi
[ -d "$seeds" ] && [ -n "$(ls -A "$seeds")" ] || fail "the seed corpus $seeds is missing or empty"

work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz_api_body.XXXXXX") || fail "cannot create a temporary directory"
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus" "$work/artifacts"

# The error-message checks are on: errno exactly EINVAL and a one-line UTF-8 message (the seeds
# create-size-text-overflow, create-client-invalid-utf8 and create-client-newline keep them honest).
export FUZZ_API_BODY_STRICT=${FUZZ_API_BODY_STRICT:-1}
# Later options win: whatever the environment sets, leaks are checked, every sanitizer report
# stops the run, and only the known bugs listed in tests/fuzz/ubsan.supp are let through.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1:abort_on_error=1:symbolize=1"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:halt_on_error=1:suppressions=$src/tests/fuzz/ubsan.supp"

report() {
    local f
    tail -n 60 "$work/log" >&2
    for f in "$work"/artifacts/*; do
        [ -e "$f" ] || continue
        echo "input that failed ($f, base64): $(base64 -w0 < "$f")" >&2
        echo "as text: $(head -c 400 "$f" | cat -v)" >&2
    done
}

# 1. Every seed once: each must pass on its own (a failure here names the seed file).
"$target" -runs=0 -rss_limit_mb=2048 -timeout=10 -artifact_prefix="$work/artifacts/" "$seeds" > "$work/log" 2>&1 ||
    { report; fail "a seed input of $seeds fails"; }
n_seeds=$(ls -1 "$seeds" | wc -l)

# 2. Mutations for a bounded time.
"$target" -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=10 -max_len=8192 \
    -dict="$dict" -print_final_stats=1 -artifact_prefix="$work/artifacts/" "$work/corpus" "$seeds" > "$work/log" 2>&1
rc=$?
[ "$rc" = 0 ] || { report; fail "fuzz_api_body failed (exit $rc) within $seconds s"; }
ls "$work"/artifacts/* >/dev/null 2>&1 && { report; fail "fuzz_api_body left a crash input"; }
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
[ -n "$runs" ] && [ "$runs" -gt 0 ] || { report; fail "fuzz_api_body ran no inputs"; }
cov=$(grep -o 'cov: [0-9]*' "$work/log" | tail -1)
echo "PASS: $name: $n_seeds seeds and $runs inputs in $seconds s, each parsed as create and resize ($cov), no failure"

# fuzz_qcow2 (tests/fuzz/fuzz_qcow2.c): the qcow2 header reader and check (server/qcow2.c) on
# arbitrary files, seeded with headers made by qemu-img (cut to their first 4 KiB) and tricky
# ones (tests/fuzz/corpus/qcow2), the same way for NP_FUZZ_QCOW2_SECONDS (default 8) seconds.
q_target=$build/tests/fuzz/fuzz_qcow2
q_seeds=$src/tests/fuzz/corpus/qcow2
q_seconds=${NP_FUZZ_QCOW2_SECONDS:-8}
[ -x "$q_target" ] || fail "$q_target was not built (it is built with fuzz_api_body)"
[ -d "$q_seeds" ] && [ -n "$(ls -A "$q_seeds")" ] || fail "the seed corpus $q_seeds is missing or empty"
mkdir "$work/qcow2-corpus"
"$q_target" -runs=0 -rss_limit_mb=2048 -timeout=10 -artifact_prefix="$work/artifacts/" "$q_seeds" > "$work/log" 2>&1 ||
    { report; fail "a seed input of $q_seeds fails"; }
"$q_target" -max_total_time="$q_seconds" -rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=10 -max_len=8192 \
    -dict="$src/tests/fuzz/qcow2.dict" -print_final_stats=1 -artifact_prefix="$work/artifacts/" \
    "$work/qcow2-corpus" "$q_seeds" > "$work/log" 2>&1
rc=$?
[ "$rc" = 0 ] || { report; fail "fuzz_qcow2 failed (exit $rc) within $q_seconds s"; }
ls "$work"/artifacts/* >/dev/null 2>&1 && { report; fail "fuzz_qcow2 left a crash input"; }
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
[ -n "$runs" ] && [ "$runs" -gt 0 ] || { report; fail "fuzz_qcow2 ran no inputs"; }
cov=$(grep -o 'cov: [0-9]*' "$work/log" | tail -1)
echo "PASS: $name: fuzz_qcow2: $(ls -1 "$q_seeds" | wc -l) seeds and $runs inputs in $q_seconds s, each read as a file and checked ($cov), no failure"

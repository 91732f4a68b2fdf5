# SPDX-License-Identifier: LGPL-2.1-or-later
# Helpers for integration tests; sourced by a test that tests/sandbox/sandbox-run started.
# shellcheck shell=bash

[ -n "${NP_SANDBOX:-}" ] || { echo "FAIL: run this test through tests/sandbox/sandbox-run" >&2; exit 99; }

TEST_NAME=$(basename "$0")
NP_BUILD=${NP_TOP_BUILDDIR:-$(pwd)}
NP_SRC=${NP_TOP_SRCDIR:-$NP_BUILD}

# A test runs whole or is skipped whole: once an assert_* ran, skipping is a failure (check what
# the test needs first: sb_require_cmd and probes at the top).
SB_CHECKED=
sb_skip() {
    [ -z "$SB_CHECKED" ] || sb_fail "skips after its checks ran (a test is skipped whole or not at all): $*"
    echo "SKIP: $TEST_NAME: $*"; exit 77
}
# A library may define sb_on_fail to print what explains a failure (a daemon's log).
SB_FAILING=
sb_fail() {
    echo "FAIL: $TEST_NAME: $*" >&2
    if [ -z "$SB_FAILING" ] && declare -F sb_on_fail > /dev/null; then SB_FAILING=1; sb_on_fail >&2; fi
    exit 1
}
sb_pass() { echo "PASS: $TEST_NAME${1:+: $*}"; exit 0; }

# sb_require_cmd CMD PACKAGE: skip the test (with the reason) when CMD is missing.
sb_require_cmd() {
    command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ] ||
        sb_skip "needs $1 (Debian package $2)"
}

# sb_losetup IMAGE: attach IMAGE (a file in the sandbox: $NP_SCRATCH/...) to the first free loop
# device (losetup -f) and print the device. The sandbox detaches every loop device backed by a
# file in the sandbox at exit; the list in state/loops is kept for diagnostics.
sb_losetup() {
    local dev
    case "$(realpath "$1")" in "$NP_SANDBOX"/*) ;; *) sb_fail "sb_losetup: $1 is outside the sandbox";; esac
    dev=$(losetup -f --show "$1") || return 1
    echo "$dev" >> "$NP_SANDBOX/state/loops"
    echo "$dev"
}

# sb_track_pid PID: the sandbox stops PID (SIGTERM, then SIGKILL after 5 s) at exit.
sb_track_pid() { echo "$1" >> "$NP_SANDBOX/state/pids"; }

# assertions that print what a user would see
assert_eq() { SB_CHECKED=1; [ "$1" = "$2" ] || sb_fail "${3:-values differ}: expected [$2], got [$1]"; }
assert_contains() { SB_CHECKED=1; case "$1" in *"$2"*) ;; *) sb_fail "${3:-text}: [$1] does not contain [$2]";; esac; }
assert_not_contains() { SB_CHECKED=1; case "$1" in *"$2"*) sb_fail "${3:-text}: [$1] contains [$2]";; esac; }

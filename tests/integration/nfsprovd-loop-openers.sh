#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Anything that probes block devices (libblkid scans, udev, a parallel test's blkid) holds a
# loop device open for a moment; the kernel then finishes a detach only at that opener's last
# close. Delete waits for a passing opener (here one that holds the share's loop device for 2 s
# while the delete runs; the old 1 s wait failed with "loop still attached"), and names one that
# stays; the share is then left "deleting" and reconcile finishes it once the holder is gone.
. "$NP_TOP_SRCDIR/tests/integration/nfsprovd-lib.sh"
write_config
start_daemon

# hold DEV open (read-only) from a `sleep SECONDS` of ours (its pid in $pid), and wait until
# it holds it
hold() {
    local dev=$1 seconds=$2 i
    sleep "$seconds" 3< "$dev" > /dev/null &
    pid=$!
    sb_track_pid "$pid"
    for i in $(seq 500); do
        [ "$(readlink "/proc/$pid/fd/3" 2>/dev/null)" = "$dev" ] && return 0
        sleep 0.01
    done
    sb_fail "the opener of $dev did not start"
}

echo "== a passing opener during delete"
np create Passing --size 32M > /dev/null || sb_fail "create Passing failed"
dev=$(share_field Passing device)
[ -b "$dev" ] || sb_fail "Passing has no loop device: [$dev]"
hold "$dev" 2
out=$(np delete Passing 2>&1) || { cat "$S/nfsprovd.log"; sb_fail "delete with a passing opener failed: $out"; }
[ -e "/proc/$pid/fd/3" ] && sb_fail "the delete finished while the opener still held $dev: it did not wait for the detach"
assert_share_gone Passing

echo "== an opener that stays"
np create Held --size 32M > /dev/null || sb_fail "create Held failed"
dev=$(share_field Held device)
hold "$dev" 600
err=$(np delete Held 2>&1); rc=$?
echo "$err"
assert_eq "$rc" 1 "delete with an opener that stays: exit status"
assert_contains "$err" "$dev: still attached 5 s after LOOP_CLR_FD: held open by pid $pid (sleep)"
assert_eq "$(share_field Held status)" deleting "Held after the failed delete"
kill "$pid"; wait "$pid" 2>/dev/null
out=$(np reconcile) || sb_fail "reconcile after the holder went failed: $out"
assert_contains "$out" "Held: finished a delete"
assert_share_gone Held
stop_daemon
sb_pass

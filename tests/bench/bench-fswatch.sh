#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Benchmark (on demand, not CI): detection latency of the live watch (server/fswatch.h) on a
# real ext4 on a loop device. fswatch-probe --bench forks a process that creates N files one at a
# time; each latency runs from just before that process's open(O_CREAT) to the callback naming
# the file in the watching process (CLOCK_MONOTONIC). Three passes:
#   isolated      coalesce window W, a pause of 2W+10 ms after each callback, so every create is
#                 the first event of a quiet window (the guard's case: a foreign file appears)
#   back-to-back  window W, the next create right after the callback: the create falls in the
#                 window its predecessor opened, so it waits for the window's end (bounded by W)
#   no window     window 0, back to back: fanotify and the thread alone
# Run: tests/sandbox/sandbox-run tests/bench/bench-fswatch.sh [N] [W]   (from a build: NP_TOP_SRCDIR,
# NP_TOP_BUILDDIR set); defaults N=1000, W=50.
. "$NP_TOP_SRCDIR/tests/sandbox/lib.sh"
sb_require_cmd mkfs.ext4 e2fsprogs
N=${1:-1000}
W=${2:-50}
probe=$NP_TOP_BUILDDIR/tests/integration/fswatch-probe
[ -x "$probe" ] || sb_fail "$probe is not built"
S=$NP_SCRATCH

truncate -s 1G "$S/share.img"
dev=$(sb_losetup "$S/share.img") || sb_fail "losetup -f failed"
mkfs.ext4 -q -F -E lazy_itable_init=1,lazy_journal_init=1 "$dev" || sb_fail "mkfs.ext4 failed"
M=$S/NFS/share
mkdir -p "$M"
mount "$dev" "$M" || sb_fail "mount failed"
mkdir "$M/isolated" "$M/back-to-back" "$M/no-window"

echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) CPUs; kernel $(uname -r); load:$(uptime | sed 's/.*load average://')"
echo "N=$N creates per pass, window W=$W ms"
run() { # LABEL DIR WINDOW PAUSE
    local out
    out=$("$probe" --bench "$N" "$M/$2" "$3" "$4") || sb_fail "$1: fswatch-probe --bench failed"
    printf '%-13s window %3s ms, pause %3s ms: %s\n' "$1" "$3" "$4" "$out"
}
run isolated isolated "$W" $((2 * W + 10))
run back-to-back back-to-back "$W" 0
run "no window" no-window 0 0
echo "load after:$(uptime | sed 's/.*load average://')"

umount "$M" || sb_fail "umount failed"
losetup -d "$dev"
sed -i "\|^$dev\$|d" "$NP_SANDBOX/state/loops"
sb_pass

#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The live watch (server/fswatch.h, through fswatch-probe) on two real ext4 filesystems on loop
# devices, A and B, mounted like shares: each has its own fsid; a second key on A's filesystem is
# refused; create, write+close, chmod, rename, delete, mkdir/rmdir, at the root and nested, in A
# are delivered for A with their names and never for B (and B's for B only); a storm of 10,000
# creates is coalesced (callbacks spaced by the window: at most span/window + 2 of them) with
# n_events summing to 10,000; a queue overflow (the callback held while more events than
# max_queued_events arrive) is told to every key (FSWATCH_LOST); after remove nothing more comes
# for the key; a watched filesystem can be unmounted (the watch keeps nothing open), the unmount
# and the mount again are told (FSWATCH_MOUNT) and the key is watched again without being added
# again, while another filesystem mounted there is not watched; fswatch_free joins cleanly.
# No time bound is asserted (the waits below only give up after 30 s); latency is in
# tests/bench/bench-fswatch.sh.
. "$NP_TOP_SRCDIR/tests/sandbox/lib.sh"
sb_require_cmd mkfs.ext4 e2fsprogs
sb_require_cmd mkfifo coreutils
[ -r /proc/sys/fs/fanotify/max_queued_events ] || sb_skip "needs fanotify (no /proc/sys/fs/fanotify here)"
maxq=$(cat /proc/sys/fs/fanotify/max_queued_events)
[ "$maxq" -le 100000 ] || sb_skip "fs.fanotify.max_queued_events is $maxq; the overflow check wants at most 100000"
probe=$NP_TOP_BUILDDIR/tests/integration/fswatch-probe
[ -x "$probe" ] || sb_fail "$probe is not built"

S=$NP_SCRATCH
W=200   # coalesce window, ms
OUT=$S/probe.out

release_loop() {
    losetup -d "$1" || sb_fail "cannot detach $1"
    sed -i "\|^$1\$|d" "$NP_SANDBOX/state/loops"
}
# make_fs NAME INODES: a 256M sparse image, ext4 (fifos take no blocks, so the storms need inodes
# only), mounted on $S/NFS/NAME; prints the device
make_fs() {
    local dev
    truncate -s 256M "$S/$1.img"
    dev=$(sb_losetup "$S/$1.img") || sb_fail "losetup -f failed"
    mkfs.ext4 -q -F -N "$2" -E lazy_itable_init=1,lazy_journal_init=1 "$dev" || sb_fail "mkfs.ext4 $dev failed"
    mkdir -p "$S/NFS/$1"
    mount "$dev" "$S/NFS/$1" || sb_fail "mount $dev failed"
    echo "$dev"
}

# the probe reads commands from a fifo; its lines go to $OUT
cmd() { echo "$*" >&7; }
lines() { wc -l < "$OUT"; }
# wait_for AWK_CONDITION [FROM_LINE]: wait (30 s at most) for a line of $OUT after FROM_LINE matching
wait_for() { wait_awk "NR > from && ($1) {found = 1} END {exit !found}" "${2:-0}"; }
# wait_awk PROGRAM FROM: wait (30 s at most) until the awk PROGRAM (given -v from=FROM) exits 0 on $OUT
wait_awk() {
    local i
    for i in $(seq 1500); do
        awk -v from="$2" "$1" "$OUT" && return 0
        sleep 0.02
    done
    sb_fail "waited 30 s for [$1] after line $2 of the probe's output; it has: $(tail -n 20 "$OUT")"
}
# has_name KEY NAME: a line of an event for KEY whose names hold NAME (awk condition)
has_name() { echo "\$1 == \"event\" && \$3 == \"$1\" && index(\"/\" \$5 \"/\", \"/$2/\")"; }
# two_windows: sleep 2 coalesce windows, so that whatever was pending has been delivered
two_windows() { sleep "$(awk -v w="$W" 'BEGIN {print 2 * w / 1000}')"; }
# op KEY NAME COMMAND...: run COMMAND, then wait for an event for KEY naming NAME
op() {
    local key=$1 name=$2 from
    shift 2
    from=$(lines)
    "$@" || sb_fail "$* failed"
    wait_for "$(has_name "$key" "$name")" "$from"
}

devA=$(make_fs A $((maxq + 20000)))
devB=$(make_fs B 4096)
A=$S/NFS/A
B=$S/NFS/B
fsidA=$(stat -f -c %i "$A")
fsidB=$(stat -f -c %i "$B")
echo "FACT: fsid of A $fsidA, of B $fsidB (stat -f), max_queued_events $maxq"
assert_eq "$([ "$fsidA" != "$fsidB" ] && [ "$fsidA" != 0 ] && [ "$fsidB" != 0 ] && echo distinct)" distinct \
    "two ext4 filesystems give distinct non-zero fsids"

mkfifo "$S/cmd"
"$probe" "$W" < "$S/cmd" > "$OUT" 2> "$S/probe.err" &
pid=$!
sb_track_pid "$pid"
exec 7> "$S/cmd"
wait_for '$1 == "ready"'

# --- add; one filesystem, one key ---------------------------------------------------------------
mkdir "$A/sub"
cmd add A "$A"
cmd add B "$B"
cmd add C "$A/"
cmd add D "$A/sub"
wait_for '$1 == "error" && $3 == "D"'
assert_eq "$(grep -c '^ok add [AB]$' "$OUT")" 2 "adding A and B"
assert_contains "$(grep '^error add C ' "$OUT")" "error add C EEXIST cannot watch $A for C: that filesystem is already watched for A"
assert_contains "$(grep '^error add D ' "$OUT")" "error add D EEXIST cannot watch $A/sub for D: that filesystem is already watched for A"

# --- each kind of change in A, delivered for A with its name --------------------------------------
op A a-file       touch "$A/a-file"
op A a-file       chmod 600 "$A/a-file"
op A a-file       sh -c "echo data >> '$A/a-file'"
op A a-renamed    mv "$A/a-file" "$A/a-renamed"
op A a-renamed    rm "$A/a-renamed"
op A a-dir        mkdir "$A/a-dir"
op A a-d2         mkdir -p "$A/a-dir/a-d1/a-d2"
op A a-nested     touch "$A/a-dir/a-d1/a-d2/a-nested"
op A a-nested     sh -c "echo data > '$A/a-dir/a-d1/a-d2/a-nested'"
op A a-nested2    mv "$A/a-dir/a-d1/a-d2/a-nested" "$A/a-dir/a-nested2"
op A a-d2         rm -r "$A/a-dir/a-d1/a-d2"
op A .            chmod 700 "$A/a-dir/a-d1"   # an event on a directory itself is named "."
op B b-file       touch "$B/b-file"
op B b-file       rm "$B/b-file"
# names seen for each key: A's only a-* and ".", B's only b-* ("sub", made before the watch, is absent)
assert_eq "$(awk '$1 == "event" && $3 == "A" {print $5}' "$OUT" | tr '/' '\n' | grep -v -e '^a-' -e '^\.$' | sort -u | tr '\n' ' ')" "" \
    "names delivered for A that are not A's"
assert_eq "$(awk '$1 == "event" && $3 == "B" {print $5}' "$OUT" | tr '/' '\n' | grep -v '^b-' | sort -u | tr '\n' ' ')" "" \
    "names delivered for B that are not B's"
assert_eq "$(awk '$1 == "event" && $6 != "-"' "$OUT")" "" "no flags so far"

# --- a storm: 10,000 creates (mkfifo: one FAN_CREATE each, none merged) ------------------------------
N=10000
cmd echo storm-begin
wait_for '$1 == "storm-begin"'
from=$(lines)
(cd "$A" && mkfifo s{1..10000}) || sb_fail "mkfifo storm failed"
wait_awk 'NR > from && $1 == "event" && $3 == "A" {sum += $4; if ($6 ~ /lost/) lost = 1} END {exit !(sum >= '$N' || lost)}' "$from"
op B b-after-storm touch "$B/b-after-storm"
two_windows   # let a pending window of A end before the count
cmd echo storm-end
wait_for '$1 == "storm-end"'
read -r cbs sum lost span <<< "$(awk -v from="$from" '
    NR > from && $1 == "storm-end" {exit}
    NR > from && $1 == "event" && $3 == "A" {n++; sum += $4; if ($6 ~ /lost/) lost = 1; if (!t0) t0 = $2; t1 = $2}
    END {printf "%d %d %d %d\n", n, sum, lost, t1 - t0}' "$OUT")"
echo "FACT: $N creates delivered in $cbs callbacks over $span ms (window $W ms), n_events summing to $sum (lost: $lost)"
if [ "$lost" = 1 ]; then
    echo "FACT: the queue overflowed during the storm (reported as lost)"
else
    assert_eq "$sum" "$N" "n_events summed over the storm's callbacks"
fi
[ "$cbs" -ge 1 ] && [ "$cbs" -le $((span / W + 2)) ] ||
    sb_fail "$cbs callbacks for the storm over $span ms: not coalesced by the $W ms window"

# --- overflow: hold the callback while more than max_queued_events events come --------------------
cmd stall
from=$(lines)
touch "$A/trigger"
wait_for '$1 == "stalled"' "$from"
(cd "$A" && seq -f "o%g" $((maxq + 1000)) | xargs mkfifo) || sb_fail "mkfifo overflow storm failed"
cmd resume
wait_for '$1 == "event" && $3 == "A" && $6 == "lost"' "$from"
wait_for '$1 == "event" && $3 == "B" && $6 == "lost"' "$from"
echo "FACT: overflow told to A and B: $(awk -v from="$from" 'NR > from && $1 == "event" && $6 == "lost"' "$OUT" | tr '\n' ';')"

# --- remove: nothing more for the key ----------------------------------------------------------------
cmd remove A
wait_for '$0 == "ok remove A"'
touch "$A/a-after-remove"
op B b-after-remove touch "$B/b-after-remove"
two_windows
cmd echo remove-end
wait_for '$1 == "remove-end"'
assert_eq "$(awk '$0 == "ok remove A" {on = 1; next} on && $1 == "event" && $3 == "A"' "$OUT")" "" \
    "events for A after its remove"
cmd remove A
wait_for '$1 == "error" && $2 == "remove"'
assert_eq "$(grep '^error remove' "$OUT")" "error remove A ENOENT A is not watched"
cmd add A "$A"
wait_for '$0 == "ok add A"' "$(grep -n '^error remove' "$OUT" | cut -d: -f1)"
op A a-again touch "$A/a-again"

# --- unmount and mount again: the watch keeps nothing busy and follows the mount -------------------
from=$(lines)
umount "$B" || sb_fail "cannot unmount the watched $B"
wait_for '$1 == "event" && $3 == "B" && $6 == "mount"' "$from"
touch "$B/b-underneath"                      # in the directory under the mount point: not B's filesystem
from=$(lines)
mount "$devB" "$B" || sb_fail "cannot mount $devB again"
wait_for '$1 == "event" && $3 == "B" && $6 == "mount"' "$from"
op B b-remounted touch "$B/b-remounted"      # watched again, not added again
# another filesystem mounted over B's: told, and not watched
truncate -s 64M "$S/C.img"
devC=$(sb_losetup "$S/C.img") || sb_fail "losetup -f failed"
mkfs.ext4 -q -F "$devC" || sb_fail "mkfs.ext4 $devC failed"
from=$(lines)
mount "$devC" "$B" || sb_fail "cannot mount $devC over $B"
wait_for '$1 == "event" && $3 == "B" && $6 == "mount"' "$from"
touch "$B/c-file"
op A a-mark touch "$A/a-mark"
from=$(lines)
umount "$B" || sb_fail "cannot unmount $devC from $B"
wait_for '$1 == "event" && $3 == "B" && $6 == "mount"' "$from"
release_loop "$devC"
op B b-uncovered touch "$B/b-uncovered"
two_windows
cmd echo mounts-end
wait_for '$1 == "mounts-end"'
assert_eq "$(grep -c -e b-underneath -e c-file "$OUT")" 0 "events from what is not B's filesystem"
echo "FACT: mount changes told: $(awk '$1 == "event" && $6 == "mount"' "$OUT" | tr '\n' ';')"

# --- free: the thread is joined, the probe ends cleanly (ASan: no leak) -------------------------------
exec 7>&-
wait "$pid"
rc=$?
assert_eq "$rc" 0 "probe exit status (stderr: $(cat "$S/probe.err"))"
assert_eq "$(tail -n 1 "$OUT")" freed "the probe's last line"
assert_eq "$(cat "$S/probe.err")" "" "the probe's stderr"
echo "FACT: $(grep -c '^event ' "$OUT") callbacks in all"

umount "$A" || sb_fail "umount $A"
umount "$B" || sb_fail "umount $B"
release_loop "$devA"
release_loop "$devB"
sb_pass

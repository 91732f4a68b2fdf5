#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Device names change across reboots; a share's disk is its filesystem (UUID), never a name.
# The inventory is two symlinks standing for /dev/disk names (diskA, diskB). S1 is made on diskA,
# S2 on diskB; after a "reboot" that swaps what the names point to, and with S2 unmounted for
# maintenance, `delete S1 --force` wipes S1's own disk and leaves S2's disk and files alone
# (before the fix it wiped S2's disk: the one now called diskA). A disk whose name points to
# something that is not the share's filesystem is never wiped: delete refuses and changes nothing.
. "$NP_TOP_SRCDIR/tests/integration/nfsprovd-lib.sh"
for n in 1 2 3 4; do
    truncate -s 64M "$S/disk$n.img"
    eval "d$n=\$(sb_losetup \"\$S/disk$n.img\")" || sb_fail "losetup -f failed"
done
# The names live under /dev as the configuration requires: a tmpfs over /dev/shm that only this
# test's mount namespace sees.
mount -t tmpfs -o size=1m,mode=0755 nfsprov-test-names /dev/shm || sb_fail "cannot mount a tmpfs on /dev/shm"
N=/dev/shm
# shellcheck disable=SC2154
{ ln -s "$d1" "$N/diskA"; ln -s "$d2" "$N/diskB"; ln -s "$d3" "$N/diskC"; }
# Writes data into its shares behind nfsprov's back (stand-ins for what VMs write): the guard is off.
GUARD=off
BACKEND=disk DISKS="$N/diskA $N/diskB $N/diskC" write_config
start_daemon
np create S1 --disk "$N/diskA" > /dev/null || sb_fail "create S1 failed"
np create S2 --disk "$N/diskB" > /dev/null || sb_fail "create S2 failed"
assert_share_ready S1
assert_share_ready S2
uuid1=$(share_field S1 fs_uuid) uuid2=$(share_field S2 fs_uuid)
assert_eq "$(blkid -p -o value -s UUID "$d1")" "$uuid1" "S1's filesystem on $d1"
assert_eq "$(blkid -p -o value -s UUID "$d2")" "$uuid2" "S2's filesystem on $d2"
echo "S2's data" > "$BASE/S2/data"
stop_daemon

echo "== the reboot: both unmounted, the names swapped"
umount "$BASE/S1" && umount "$BASE/S2" || sb_fail "umount failed"
ln -sfn "$d2" "$N/diskA"; ln -sfn "$d1" "$N/diskB"
: > "$S/nfsprovd.log"
start_daemon
cat "$S/nfsprovd.log"
assert_share_ready S1
assert_share_ready S2
assert_eq "$(findmnt -n -o SOURCE --mountpoint "$BASE/S1")" "$d1" "S1 mounted from its own disk"
assert_eq "$(findmnt -n -o SOURCE --mountpoint "$BASE/S2")" "$d2" "S2 mounted from its own disk"

echo "== S2 unmounted for maintenance; delete S1 --force"
umount "$BASE/S2" || sb_fail "umount S2 failed"
out=$(np delete S1 --force 2>&1) || { cat "$S/nfsprovd.log"; sb_fail "delete S1 failed: $out"; }
assert_share_gone S1
out=$(blkid -p "$d1" 2>&1); rc=$?
assert_eq "$rc" 2 "S1's own disk $d1 is blank after the delete (blkid -p: $out)"
assert_eq "$(blkid -p -o value -s UUID "$d2")" "$uuid2" "S2's disk $d2 still carries S2's filesystem"
mkdir -p "$S/check" && mount -o ro "$d2" "$S/check" || sb_fail "mount of S2's disk failed"
assert_eq "$(cat "$S/check/data")" "S2's data" "S2's files after deleting S1"
umount "$S/check"
out=$(np reconcile) || sb_fail "reconcile failed: $out"
assert_share_ready S2
assert_contains "$(cat "$S/nfsprovd.log")" "S1: its filesystem (UUID=$uuid1) is on $N/diskB now, recorded as $N/diskA"


echo "== a name that points to a disk that is not the share's: delete refuses, nothing changes"
np create S3 --disk "$N/diskC" > /dev/null || sb_fail "create S3 failed"
echo keep > "$BASE/S3/data"
mkfs.ext4 -q -L stranger "$d4" || sb_fail "mkfs.ext4 $d4 failed"
stranger=$(blkid -p -o value -s UUID "$d4")
ln -sfn "$d4" "$N/diskC"   # S3's disk ($d3) is now under no name of the inventory
before=$(snapshot)
err=$(np delete S3 --force 2>&1); rc=$?
echo "$err"
assert_eq "$rc" 1 "delete of a share whose disk name points elsewhere: exit status"
assert_contains "$err" "$N/diskC carries a ext4 filesystem (UUID=$stranger, LABEL=stranger), not share S3's filesystem"
assert_contains "$err" "nothing changed"
assert_eq "$(snapshot)" "$before" "a refused delete changes nothing"
assert_eq "$(blkid -p -o value -s UUID "$d4")" "$stranger" "the stranger disk is intact"
assert_eq "$(cat "$BASE/S3/data")" keep "S3's files after the refused delete"
ln -sfn "$d3" "$N/diskC"
np delete S3 --force > /dev/null || sb_fail "delete S3 with its name restored failed"
assert_share_gone S3
out=$(blkid -p "$d3" 2>&1); rc=$?
assert_eq "$rc" 2 "S3's disk is blank after the delete (blkid -p: $out)"
stop_daemon
umount /dev/shm
sb_pass

#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Disk backend with loop devices as the inventory: a blank one is used; one carrying an ext4
# signature and one that is mounted are refused with a clear message; two shares never share a
# disk; delete leaves the disk blank again.
. "$NP_TOP_SRCDIR/tests/integration/nfsprovd-lib.sh"
for d in ext4 mounted blank1 blank2; do
    truncate -s 64M "$S/$d.img"
    eval "dev_$d=\$(sb_losetup \"\$S/$d.img\")" || sb_fail "losetup -f failed"
done
mkfs.ext4 -q -F "$dev_ext4"
mkfs.ext4 -q -F "$dev_mounted"
mkdir -p "$S/elsewhere" && mount "$dev_mounted" "$S/elsewhere"

BACKEND=disk DISKS="$dev_ext4 $dev_mounted $dev_blank1 $dev_blank2" write_config
start_daemon

before=$(snapshot)
err=$(np create WithExt4 --disk "$dev_ext4" 2>&1); rc=$?
assert_eq "$rc" 2 "a disk with an ext4 signature: exit status"
assert_contains "$err" "ext4"
assert_contains "$err" "$dev_ext4"
err=$(np create OnMounted --disk "$dev_mounted" 2>&1); rc=$?
assert_eq "$rc" 2 "a mounted disk: exit status"
assert_contains "$err" "mounted on $S/elsewhere"
err=$(np create OnMounted --disk "$dev_mounted" --force 2>&1); rc=$?
assert_eq "$rc" 2 "--force never takes a mounted disk"
err=$(np create Stranger --disk /dev/null 2>&1); rc=$?
assert_eq "$rc" 2 "a disk outside the inventory"
assert_eq "$(snapshot)" "$before" "refused disks change nothing"

# no --disk: the first blank, free one of the inventory
out=$(np create First) || { cat "$S/nfsprovd.log"; sb_fail "create First failed"; }
assert_eq "$(share_field First source)" "$dev_blank1" "First got the first blank disk"
# no --size: the share's size is its disk's (it showed 0 B)
assert_contains "$out" "created First: 64 MiB"
assert_eq "$(share_field First size)" $((64 << 20)) "First's size"
np list | grep -E "^First[[:space:]]" | grep -q "64 MiB" || sb_fail "list does not show First's 64 MiB: $(np list)"
assert_share_ready First
err=$(np create Second --disk "$dev_blank1" 2>&1); rc=$?
assert_eq "$rc" 2 "a disk already in use"
assert_contains "$err" "is already the disk of another share; one disk per shared directory"
np create Second > /dev/null || sb_fail "create Second failed"
assert_eq "$(share_field Second source)" "$dev_blank2" "Second got the other blank disk"
err=$(np create Third 2>&1); rc=$?
[ "$rc" -ne 0 ] || sb_fail "a third share found a disk"
echo "$err"
assert_share_gone Third

# --force takes a disk with a signature (and formats it)
np create Forced --disk "$dev_ext4" --force > /dev/null || sb_fail "create --force failed"
assert_share_ready Forced

# delete wipes the disk: blank again, usable again
np delete First > /dev/null || sb_fail "delete First failed"
assert_share_gone First
[ -z "$(blkid -p -o value -s TYPE "$dev_blank1")" ] || sb_fail "$dev_blank1 still carries a signature"
np create Again > /dev/null || sb_fail "create Again failed"
assert_eq "$(share_field Again source)" "$dev_blank1" "the wiped disk is used again"
stop_daemon
umount "$S/elsewhere"
sb_pass

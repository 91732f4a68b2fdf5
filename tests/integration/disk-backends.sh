#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The disk backends on real loop devices.
# image: allocate makes a sparse NAME.img attached (no autoclear) to a loop device that the kernel
# says is backed by it; attach is idempotent and re-attaches after a detach; grow makes the file
# and the loop device bigger; release detaches and removes the file, refuses while mounted, and is
# idempotent; parallel attaches get distinct devices (and one device for one image).
# disk: a blank device is taken; a device with an ext4 filesystem, a partition table, a swap
# signature, or mounted is refused with a message naming what is there; force takes signatures
# but never a mounted device; in-use devices are skipped or refused; an exhausted inventory says
# why each disk was not taken; release wipes every signature so the device is blank again.
. "$NP_TOP_SRCDIR/tests/sandbox/lib.sh"
sb_require_cmd mkfs.ext4 e2fsprogs
sb_require_cmd blockdev util-linux
sb_require_cmd blkid util-linux
sb_require_cmd mkswap util-linux
tool=$NP_TOP_BUILDDIR/tests/integration/disk-tool
[ -x "$tool" ] || sb_fail "$tool is not built"

S=$NP_SCRATCH
IMG=$S/images
M=$((1024 * 1024))

# expect_fail WANT CMD...: CMD must exit 1 with one line on stderr containing WANT; prints it
expect_fail() {
    local want=$1 err rc
    shift
    err=$("$@" 2>&1 >/dev/null); rc=$?
    [ "$rc" = 1 ] || sb_fail "[$*] exited $rc, expected 1 (output: $err)"
    assert_eq "$(printf '%s\n' "$err" | wc -l)" 1 "[$*] error is one line: $err"
    assert_contains "$err" "$want" "[$*] error"
    echo "  refused as expected: $err"
    LAST_ERR=$err
}
back_file() { losetup -n -O BACK-FILE "$1" | sed 's/[[:space:]]*$//'; }
loops_of() { losetup -n -O NAME -j "$1" | sort; } # the loop devices backed by a file
size_of() { stat -c %s "$1"; }
used_kib() { du -k "$1" | cut -f1; }

echo "== image: allocate"
out=$("$tool" allocate image "$IMG" vol_01 64M) || sb_fail "image allocate failed"
IFS=$'\t' read -r src dev ino <<< "$out"
assert_eq "$src" "$IMG/vol_01.img" "image path"
assert_eq "$ino" "$(stat -c %i "$src")" "the inode allocate reports"
[ -b "$dev" ] || sb_fail "allocate returned [$dev], not a block device"
assert_eq "$(size_of "$src")" $((64 * M)) "image file size"
[ "$(used_kib "$src")" -le 64 ] || sb_fail "image is not sparse: du says $(used_kib "$src") KiB"
assert_eq "$(back_file "$dev")" "$src" "losetup's backing file of $dev"
assert_eq "$(losetup -n -O AUTOCLEAR "$dev" | tr -d ' ')" 0 "autoclear of $dev"
assert_eq "$(blockdev --getsize64 "$dev")" $((64 * M)) "loop device size"
assert_eq "$("$tool" loop-find "$src")" "$dev" "loop-find"
assert_eq "$("$tool" loop-backing "$dev")" "$src" "loop-backing"
assert_eq "$("$tool" size image "$IMG" "$src")" $((64 * M)) "backend size"
assert_eq "$(stat -c %a "$src")" 600 "image mode"

expect_fail "image $src already exists" "$tool" allocate image "$IMG" vol_01 64M
assert_eq "$(size_of "$src")" $((64 * M)) "a refused allocate left the image alone"
assert_eq "$(loops_of "$src")" "$dev" "a refused allocate attached nothing"
expect_fail 'invalid share name "bad name"' "$tool" allocate image "$IMG" "bad name" 64M
expect_fail "must be a positive multiple of 512 bytes" "$tool" allocate image "$IMG" vol_x 1000
expect_fail "takes no device" "$tool" allocate image "$IMG" vol_x 64M /dev/null
[ -e "$IMG/vol_x.img" ] && sb_fail "a refused allocate created vol_x.img"

echo "== image: attach"
assert_eq "$("$tool" attach image "$IMG" "$src")" "$dev" "attach of an attached image"
assert_eq "$("$tool" attach image "$IMG" "$src")" "$dev" "second attach"
assert_eq "$(loops_of "$src")" "$dev" "attach twice still one loop device"
losetup -d "$dev" || sb_fail "losetup -d $dev failed"
expect_fail "no loop device is backed by $src" "$tool" loop-find "$src"
dev=$("$tool" attach image "$IMG" "$src") || sb_fail "attach after detach failed"
[ -b "$dev" ] || sb_fail "attach returned [$dev]"
assert_eq "$(back_file "$dev")" "$src" "backing file after re-attach"
assert_eq "$(loops_of "$src")" "$dev" "one loop device after re-attach"
expect_fail "image $IMG/nope.img does not exist" "$tool" attach image "$IMG" "$IMG/nope.img"

echo "== loop lookups in one process (loopdev.h: the answer of the last pass over all devices,"
echo "   checked on its device): a device detached, or reused for another file, is not named"
truncate -s 8M "$S/la.img" "$S/lb.img"
steps=$("$tool" loop-steps "attach=$S/la.img" "find=$S/la.img" "detach=$S/la.img" "attach=$S/lb.img" \
    "find=$S/la.img" "find=$S/lb.img" "find=$S/lb.img" "attach=$S/la.img" "find=$S/la.img" \
    "detach=$S/la.img" "detach=$S/lb.img") || sb_fail "loop-steps failed: $steps"
mapfile -t l <<< "$steps"
assert_eq "${#l[@]}" 11 "loop-steps lines: $steps"
assert_eq "${l[1]}" "${l[0]}" "la.img found on the device it was attached to"
assert_eq "${l[4]}" "none" "la.img after its device was detached (device ${l[0]}, lb.img now on ${l[3]})"
assert_eq "${l[5]} ${l[6]}" "${l[3]} ${l[3]}" "lb.img found, twice"
assert_eq "${l[8]}" "${l[7]}" "la.img found on its new device"
assert_eq "${l[9]} ${l[10]}" "detached detached" "detaches"
[ "${l[3]}" = "${l[0]}" ] && echo "(lb.img took la.img's old device ${l[0]}: the stale answer was checked and dropped)"
assert_eq "$(loops_of "$S/la.img")$(loops_of "$S/lb.img")" "" "loop devices left by loop-steps"

echo "== image: grow"
mkfs.ext4 -q -E lazy_itable_init=1,lazy_journal_init=1 "$dev" || sb_fail "mkfs.ext4 on $dev failed"
"$tool" grow image "$IMG" "$src" "$dev" 128M > /dev/null || sb_fail "grow failed"
assert_eq "$(size_of "$src")" $((128 * M)) "image size after grow"
assert_eq "$(blockdev --getsize64 "$dev")" $((128 * M)) "loop device size after grow"
[ "$(used_kib "$src")" -le 16384 ] || sb_fail "grow filled the image: du says $(used_kib "$src") KiB"
"$tool" grow image "$IMG" "$src" - 128M > /dev/null || sb_fail "grow to the same size failed"
expect_fail "cannot shrink it" "$tool" grow image "$IMG" "$src" - 64M
other=$S/other.img; truncate -s 16M "$other"
odev=$(sb_losetup "$other") || sb_fail "sb_losetup failed"
expect_fail "is attached to $dev, not to $odev" "$tool" grow image "$IMG" "$src" "$odev" 256M
assert_eq "$(size_of "$src")" $((128 * M)) "a refused grow left the image alone"
blkid -p "$dev" | grep -q 'TYPE="ext4"' || sb_fail "the filesystem is gone after grow"

echo "== image: release"
mkdir -p "$S/mnt"
mount "$dev" "$S/mnt" || sb_fail "mount $dev failed"
expect_fail "$dev is mounted on $S/mnt" "$tool" release image "$IMG" "$src"
[ -f "$src" ] || sb_fail "a refused release removed the image"
assert_eq "$(back_file "$dev")" "$src" "a refused release detached the loop device"
umount "$S/mnt" || sb_fail "umount failed"
# the file at the share's path must be the one nfsprov made (its inode), never a symlink
expect_fail "image $src is not the file nfsprov made for share share (inode $ino, recorded $((ino + 1)))" \
    "$tool" release image "$IMG" "$src" --ino $((ino + 1))
expect_fail "is not the file nfsprov made" "$tool" attach image "$IMG" "$src" --ino $((ino + 1))
expect_fail "is not the file nfsprov made" "$tool" grow image "$IMG" "$src" - 256M --ino $((ino + 1))
[ -f "$src" ] || sb_fail "a refused release removed the image"
assert_eq "$(size_of "$src")" $((128 * M)) "a refused grow left the image as it was"
assert_eq "$(back_file "$dev")" "$src" "a refused release detached the loop device"
mv "$src" "$IMG/moved.img" && ln -s "$IMG/moved.img" "$src"
expect_fail "image $src of share share is a symbolic link" "$tool" release image "$IMG" "$src"
expect_fail "is a symbolic link" "$tool" attach image "$IMG" "$src"
[ -f "$IMG/moved.img" ] || sb_fail "a refused release removed the symlink's target"
assert_eq "$(back_file "$dev")" "$IMG/moved.img" "a refused release detached the symlink target's loop device"
rm "$src" && mv "$IMG/moved.img" "$src"
"$tool" release image "$IMG" "$src" --ino "$ino" > /dev/null || sb_fail "release failed"
[ -e "$src" ] && sb_fail "release left $src"
assert_eq "$(loops_of "$src")" "" "loop devices of a released image"
losetup "$dev" > /dev/null 2>&1 && assert_not_contains "$(back_file "$dev")" "$src" "$dev after release"
"$tool" release image "$IMG" "$src" > /dev/null || sb_fail "release of a released image failed (not idempotent)"
expect_fail "not a *.img file in the image directory" "$tool" release image "$IMG" "$other"
[ -f "$other" ] || sb_fail "release removed a file outside the image directory"
# an image removed behind our back while its loop device stays: release still detaches it
out=$("$tool" allocate image "$IMG" vol_02 32M) || sb_fail "allocate vol_02 failed"
IFS=$'\t' read -r src2 dev2 _ <<< "$out"
rm "$src2"
assert_eq "$("$tool" loop-find "$src2")" "$dev2" "loop-find of a deleted image"
"$tool" release image "$IMG" "$src2" > /dev/null || sb_fail "release of a deleted image failed"
losetup "$dev2" > /dev/null 2>&1 && assert_not_contains "$(back_file "$dev2")" "$src2" "$dev2 after release"

echo "== loop devices: detach"
ld=$(sb_losetup "$other") || sb_fail "sb_losetup failed"
mkfs.ext4 -q "$ld" && mount "$ld" "$S/mnt" || sb_fail "mkfs/mount on $ld failed"
expect_fail "$ld: cannot detach: the device is in use" "$tool" loop-detach "$ld"
assert_eq "$(losetup -n -O AUTOCLEAR "$ld" | tr -d ' ')" 0 "autoclear after a refused detach of a mounted device"
umount "$S/mnt" || sb_fail "umount failed"
exec 7< "$ld" # another opener: the kernel can only detach at its last close
# after a bounded wait for passing openers, the error names the holders: this shell (and the
# subshell of expect_fail's $(...), which inherits fd 7; their order follows the pids)
expect_fail "$ld: still attached 5 s after LOOP_CLR_FD: held open by pid " "$tool" loop-detach "$ld" 7<&-
assert_contains "$LAST_ERR" "pid $$ (disk-backends" "the holders named"
exec 7<&-
# (a parallel test may attach its own file to the freed device at once: compare the backing file)
losetup "$ld" > /dev/null 2>&1 && assert_not_contains "$(back_file "$ld")" "$other" "$ld after its last opener closed it"
# detach_again DEV: a detach of the detached DEV succeeds (idempotent) -- only while DEV is free:
# a freed device is handed to the next parallel attach at once (seen in CI: another test's
# device, mounted, was asked to detach here), and this test must never detach someone else's
IDEMPOTENT=0
detach_again() {
    if losetup "$1" > /dev/null 2>&1; then
        echo "($1 was taken by another attach at once: not detached again)"
        return
    fi
    "$tool" loop-detach "$1" > /dev/null || sb_fail "detach of the detached $1 failed (not idempotent)"
    IDEMPOTENT=$((IDEMPOTENT + 1))
}
detach_again "$ld"
expect_fail "$other: not a loop device" "$tool" loop-detach "$other"
for _ in 1 2 3; do
    ld=$(sb_losetup "$other") || sb_fail "sb_losetup failed"
    assert_eq "$("$tool" loop-detach "$ld")" detached "loop-detach"
    losetup "$ld" > /dev/null 2>&1 && assert_not_contains "$(back_file "$ld")" "$other" "$ld after loop-detach"
    detach_again "$ld"
done
[ "$IDEMPOTENT" -gt 0 ] || sb_fail "every freed device was taken by another attach at once: idempotence never checked"

echo "== image: parallel attaches"
for i in 1 2 3 4 5; do truncate -s 32M "$IMG/par_$i.img"; done
pids=""
for i in 1 2 3 4 5; do
    "$tool" attach image "$IMG" "$IMG/par_$i.img" > "$S/par_$i.out" 2>&1 &
    sb_track_pid $!; pids="$pids $!"
done
for p in $pids; do wait "$p" || sb_fail "a parallel attach failed: $(cat "$S"/par_*.out)"; done
for i in 1 2 3 4 5; do
    d=$(cat "$S/par_$i.out")
    [ -b "$d" ] || sb_fail "parallel attach $i printed [$d]"
    assert_eq "$(back_file "$d")" "$IMG/par_$i.img" "backing file of $d (parallel attach $i)"
done
devs=$(cat "$S"/par_*.out | sort -u | wc -l)
assert_eq "$devs" 5 "distinct devices from 5 parallel attaches ($(cat "$S"/par_*.out | tr '\n' ' '))"
# the same image from 5 processes at once: one device for all
truncate -s 32M "$IMG/same.img"
pids=""
for i in 1 2 3 4 5; do
    "$tool" attach image "$IMG" "$IMG/same.img" > "$S/same_$i.out" 2>&1 &
    sb_track_pid $!; pids="$pids $!"
done
for p in $pids; do wait "$p" || sb_fail "a parallel attach of one image failed: $(cat "$S"/same_*.out)"; done
assert_eq "$(cat "$S"/same_*.out | sort -u | wc -l)" 1 "devices from 5 parallel attaches of one image"
assert_eq "$(loops_of "$IMG/same.img" | wc -l)" 1 "loop devices backed by one image"
for f in "$IMG"/par_*.img "$IMG/same.img"; do
    "$tool" release image "$IMG" "$f" > /dev/null || sb_fail "release $f failed"
done
assert_eq "$(losetup -n -O BACK-FILE -l | grep -c "$IMG/")" 0 "loop devices left on images"
assert_eq "$(ls -A "$IMG")" "" "files left in the image directory"

echo "== disk: checks"
for n in 1 2 3 4 5; do
    truncate -s 32M "$S/disk$n.img"
    eval "d$n=\$(sb_losetup \"\$S/disk$n.img\")" || sb_fail "sb_losetup failed"
done
# shellcheck disable=SC2154
echo "  disks: $d1 $d2 $d3 $d4 $d5"
assert_eq "$("$tool" check "$d1")" blank "check of a blank device"
out=$("$tool" allocate disk "$d1" share_01 0 "$d1") || sb_fail "a blank requested disk was refused"
assert_eq "$out" "$d1	$d1	0" "allocate of a blank requested disk"
out=$("$tool" allocate disk "$d1 $d2" share_01 16M) || sb_fail "a blank disk was refused"
assert_eq "$out" "$d1	$d1	0" "allocate picks the first blank disk"
assert_eq "$("$tool" attach disk "$d1" "$d1")" "$d1" "disk attach"
expect_fail "disk $S/nodisk of share share is missing and no disk of the inventory carries its filesystem" "$tool" attach disk "$d1" "$S/nodisk"
assert_eq "$("$tool" size disk "$d1" "$d1")" $((32 * M)) "disk size"
"$tool" grow disk "$d1" "$d1" - 32M > /dev/null || sb_fail "disk grow within its size failed"
expect_fail "grow the disk first" "$tool" grow disk "$d1" "$d1" - 64M
expect_fail "less than the 67108864 requested" "$tool" allocate disk "$d1" share_01 64M "$d1"

# ext4
mkfs.ext4 -q -L lbl_02 "$d2" || sb_fail "mkfs.ext4 $d2 failed"
uuid2=$(blkid -p -s UUID -o value "$d2")
expect_fail "$d2 carries a ext4 filesystem (UUID=$uuid2, LABEL=lbl_02)" "$tool" check "$d2"
expect_fail "cannot take $d2: $d2 carries a ext4 filesystem" "$tool" allocate disk "$d1 $d2" share_02 0 "$d2"
out=$("$tool" allocate disk "$d1 $d2" share_02 0 "$d2" --force) || sb_fail "--force did not take $d2"
assert_eq "$out" "$d2	$d2	0" "allocate --force"
expect_fail "force needs a named disk" "$tool" allocate disk "$d2" share_02 0 --force

# mounted: refused, even with force
mkdir -p "$S/mnt2"
mount "$d2" "$S/mnt2" || sb_fail "mount $d2 failed"
expect_fail "$d2 is mounted on $S/mnt2" "$tool" check "$d2"
expect_fail "$d2 is mounted on $S/mnt2" "$tool" allocate disk "$d2" share_02 0 "$d2" --force
expect_fail "$d2 is mounted on $S/mnt2" "$tool" release disk "$d2" "$d2" --fs-uuid "$uuid2"
expect_fail "$d2 is in use" "$tool" wipe "$d2" "$uuid2"
umount "$S/mnt2" || sb_fail "umount failed"

# a partition table
if command -v sfdisk > /dev/null 2>&1; then
    echo 'start=2048, type=83' | sfdisk -q "$d3" > /dev/null 2>&1 # re-reading partitions fails on loop
elif command -v parted > /dev/null 2>&1; then
    parted -s "$d3" mklabel msdos mkpart primary 1MiB 100% > /dev/null 2>&1
else # an MBR by hand: one Linux partition from sector 2048, 30720 sectors, and the 55AA mark
    printf '\x00\x20\x21\x00\x83\x00\x00\x00\x00\x08\x00\x00\x00\x78\x00\x00' |
        dd of="$d3" bs=1 seek=446 conv=notrunc status=none || sb_fail "writing the partition entry failed"
    printf '\x55\xaa' | dd of="$d3" bs=1 seek=510 conv=notrunc status=none || sb_fail "writing the MBR mark failed"
fi
blkid -p "$d3" | grep -q 'PTTYPE="dos"' || sb_fail "blkid does not see a dos partition table on $d3: $(blkid -p "$d3")"
expect_fail "$d3 has partitions (a dos partition table)" "$tool" check "$d3"
expect_fail "$d3 has partitions" "$tool" allocate disk "$d3" share_03 0 "$d3"

# swap signature (never enabled: swap is global)
mkswap -q "$d5" > /dev/null || sb_fail "mkswap $d5 failed"
expect_fail "$d5 carries a swap signature" "$tool" check "$d5"

echo "== disk: inventory"
out=$("$tool" allocate disk "$d1 $d4" share_04 0 --in-use "$d1") || sb_fail "the in-use disk was not skipped"
assert_eq "$out" "$d4	$d4	0" "allocate skips the disk in use"
expect_fail "$d1 is already the disk of another share" "$tool" allocate disk "$d1 $d4" share_04 0 "$d1" --in-use "$d1"
expect_fail "is not in the disk inventory ([shares] disks = $d1 $d4)" "$tool" allocate disk "$d1 $d4" share_04 0 "$d3"
err=$("$tool" allocate disk "$d1 $d2 $d3 $d5" share_05 0 --in-use "$d1 $d4" 2>&1) && sb_fail "an exhausted inventory gave a disk: $err"
echo "  refused as expected: $err"
assert_contains "$err" "share share_05: no usable disk left in the inventory: "
assert_contains "$err" "$d1 is already the disk of another share; "
assert_contains "$err" "$d2 carries a ext4 filesystem"
assert_contains "$err" "$d3 has partitions (a dos partition table)"
assert_contains "$err" "$d5 carries a swap signature"
expect_fail "the disk inventory is empty" "$tool" allocate disk "" share_05 0

echo "== disk: release wipes only the share's own filesystem"
# Device names change across reboots: a release acts only on the filesystem it recorded.
other_uuid=$(cat /proc/sys/kernel/random/uuid)
expect_fail "$d2 carries a ext4 filesystem (UUID=$uuid2, LABEL=lbl_02), not share share's filesystem (UUID=$other_uuid)" \
    "$tool" release disk "$d2" "$d2" --fs-uuid "$other_uuid"
expect_fail "$d2 carries a ext4 filesystem (UUID=$uuid2, LABEL=lbl_02), not share share's filesystem (UUID=none)" \
    "$tool" release disk "$d2" "$d2"
expect_fail "refusing to wipe it" "$tool" wipe "$d2" "$other_uuid"
assert_eq "$(blkid -p -s UUID -o value "$d2")" "$uuid2" "the filesystem on $d2 after the refused releases"
for d in "$d3" "$d5"; do
    expect_fail "not share share's filesystem" "$tool" release disk "$d" "$d" --fs-uuid "$uuid2"
    blkid -p "$d" > /dev/null 2>&1 || sb_fail "a refused release wiped $d"
    wipefs -q -a "$d" || sb_fail "wipefs $d failed"
done
"$tool" release disk "$d2 $d3 $d5" "$d2" --fs-uuid "$uuid2" > /dev/null || sb_fail "release of $d2 failed"
for d in "$d2" "$d3" "$d5"; do
    assert_eq "$("$tool" check "$d")" blank "check after release of $d"
    out=$(blkid -p "$d" 2>&1); rc=$?
    assert_eq "$rc" 2 "blkid -p $d after release (output: $out)"
done
"$tool" release disk "$d2" "$d2" --fs-uuid "$uuid2" > /dev/null || sb_fail "release of a blank disk failed (not idempotent)"

echo "== disk: names swapped (a reboot): the share's disk is found by its filesystem"
mkfs.ext4 -q -U "$other_uuid" "$d4" || sb_fail "mkfs.ext4 $d4 failed"
uuid1=$(cat /proc/sys/kernel/random/uuid)
mkfs.ext4 -q -U "$uuid1" "$d1" || sb_fail "mkfs.ext4 $d1 failed"
ln -s "$d1" "$S/diskA"; ln -s "$d4" "$S/diskB"
assert_eq "$("$tool" attach disk "$S/diskA $S/diskB" "$S/diskA" --fs-uuid "$uuid1")" "$d1" "attach before the swap"
ln -sfn "$d4" "$S/diskA"; ln -sfn "$d1" "$S/diskB"
assert_eq "$("$tool" attach disk "$S/diskA $S/diskB" "$S/diskA" --fs-uuid "$uuid1")" "$d1	$S/diskB" "attach after the swap"
assert_eq "$("$tool" size disk "$S/diskA $S/diskB" "$S/diskA" --fs-uuid "$uuid1")" $((32 * M)) "size after the swap"
# the share's filesystem on no disk of the inventory: refused, naming what the name now carries
expect_fail "disk $S/diskA carries a ext4 filesystem (UUID=$other_uuid), not share share's filesystem (UUID=$uuid1), and no disk of the inventory carries it" \
    "$tool" release disk "$S/diskA" "$S/diskA" --fs-uuid "$uuid1"
assert_eq "$(blkid -p -s UUID -o value "$d4")" "$other_uuid" "the disk under the swapped name after a refused release"
# with the inventory, release finds and wipes the share's own disk, never the other
"$tool" release disk "$S/diskA $S/diskB" "$S/diskA" --fs-uuid "$uuid1" > /dev/null || sb_fail "release after the swap failed"
assert_eq "$("$tool" check "$d1")" blank "the share's own disk after release"
assert_eq "$(blkid -p -s UUID -o value "$d4")" "$other_uuid" "the other disk after release"
wipefs -q -a "$d4" || sb_fail "wipefs $d4 failed"
out=$("$tool" allocate disk "$d2 $d3" share_06 0) || sb_fail "a wiped disk was refused"
assert_eq "$out" "$d2	$d2	0" "a released disk can be taken again"
# a device that is not a block device
expect_fail "$S/disk1.img is not a block device" "$tool" check "$S/disk1.img"

echo "== cleanup"
for n in 1 2 3 4 5; do eval "losetup -d \"\$d$n\""; done
losetup -d "$odev"
assert_eq "$(losetup -n -O BACK-FILE -l | grep -c "$S/")" 0 "loop devices left on the scratch directory"
sb_pass

#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A share's filesystem on a real loop device, through server/fs.h (fs-tool): mkfs.ext4 gives the
# label and uuid asked for (blkid -p shows them) and a sparse image stays small; the filesystem is
# found by uuid right after its image is detached and re-attached under another loop name; it
# mounts by UUID= (findmnt shows ext4), a second mount is a no-op, another filesystem is refused
# there; a busy unmount is refused, unmount is idempotent; growing it online is tried (and refused
# here: EPERM), growing it offline (umount, e2fsck, grow the image, losetup -c, resize2fs, mount)
# gives the bigger size with the data intact; usage numbers are those of df -B1; the fstab line
# fstab.h writes passes findmnt --verify and mount -a mounts the share from it.
# Prints "FACT:" lines with what it measured.
. "$NP_TOP_SRCDIR/tests/sandbox/lib.sh"
sb_require_cmd mkfs.ext4 e2fsprogs
sb_require_cmd e2fsck e2fsprogs
sb_require_cmd resize2fs e2fsprogs
sb_require_cmd dumpe2fs e2fsprogs
sb_require_cmd blkid util-linux
sb_require_cmd findmnt util-linux
sb_require_cmd blockdev util-linux
tool=$NP_TOP_BUILDDIR/tests/integration/fs-tool
[ -x "$tool" ] || sb_fail "$tool is not built"

S=$NP_SCRATCH
MiB=$((1024 * 1024))

# expect_fail ENAME TEXT ARGS...: fs-tool ARGS fails with errno ENAME and a message holding TEXT
expect_fail() {
    local ename=$1 text=$2 out
    shift 2
    out=$("$tool" "$@" 2>&1) && sb_fail "fs-tool $* succeeded; expected $ename ($text)"
    echo "refused as expected: $out"
    assert_contains "$out" "fs-tool: $ename: " "fs-tool $*"
    assert_contains "$out" "$text" "fs-tool $*"
    assert_eq "$(echo "$out" | wc -l)" 1 "fs-tool $*: one error line"
}
# release_loop DEV: detach a device this test attached, and take it off the sandbox's list of
# devices to detach at exit: that list holds names, and once detached the name can go to another
# test's image, which the sandbox would then detach.
release_loop() {
    losetup -d "$1" || sb_fail "cannot detach $1"
    sed -i "\|^$1\$|d" "$NP_SANDBOX/state/loops"
}
blkid_value() { blkid -p -s "$2" -o value "$1"; }  # low-level probe: no blkid cache involved
fs_bytes() { # DEVICE: the filesystem's size (block count * block size) as dumpe2fs reports it
    dumpe2fs -h "$1" 2>/dev/null | awk -F: '/^Block count:/ {c=$2} /^Block size:/ {s=$2} END {print c * s}'
}
mounts_on() { awk -v m="$1" '$5 == m' /proc/self/mountinfo | wc -l; }
usage_matches_df() { # PATH: fs-tool usage prints exactly df -B1's size, used and available
    local ours theirs
    sync
    ours=$("$tool" usage "$1") || sb_fail "fs-tool usage $1 failed"
    theirs=$(df -B1 --output=size,used,avail "$1" | tail -n 1 | tr -s ' ' | sed 's/^ //')
    assert_eq "$ours" "$theirs" "usage of $1 (capacity used available) against df -B1"
    echo "$ours"
}

# --- mkfs on a 256M sparse image ------------------------------------------------------------
truncate -s 256M "$S/share.img"
dev=$(sb_losetup "$S/share.img") || sb_fail "losetup -f failed"
uuid=$(cat /proc/sys/kernel/random/uuid)
name=NFSStorage_01_with_a_long_name
t0=$(date +%s%N)
"$tool" mkfs "$dev" "$name" "$uuid" || sb_fail "mkfs failed"
t1=$(date +%s%N)
du_after=$(du -B1 "$S/share.img" | cut -f1)
echo "FACT: mkfs.ext4 of a 256M sparse image took $(((t1 - t0) / 1000000)) ms (fs-tool included);" \
     "the image uses $du_after bytes on disk after mkfs"
[ "$du_after" -lt $((8 * MiB)) ] || sb_fail "the image uses $du_after bytes after mkfs; lazy init should keep it small"
assert_eq "$(blkid_value "$dev" TYPE)" ext4 "blkid TYPE"
assert_eq "$(blkid_value "$dev" UUID)" "$uuid" "blkid UUID"
assert_eq "$(blkid_value "$dev" LABEL)" "${name:0:16}" "blkid LABEL (cut to 16 bytes)"
assert_eq "$(dumpe2fs -h "$dev" 2>/dev/null | awk -F': *' '/^Reserved block count:/ {print $2}')" 0 \
    "reserved blocks (-m 0)"
assert_eq "$(fs_bytes "$dev")" $((256 * MiB)) "filesystem size after mkfs"
assert_eq "$("$tool" probe "$dev")" "$(printf 'ext4\t%s\t%s' "$uuid" "${name:0:16}")" "fs-tool probe"

expect_fail EINVAL 'invalid filesystem uuid "not-a-uuid"' mkfs "$dev" x not-a-uuid
expect_fail EIO "mkfs.ext4 on $S/none failed (exit status 1): The file $S/none does not exist" \
    mkfs "$S/none" x "$uuid"

truncate -s 64M "$S/other.img"
other=$(sb_losetup "$S/other.img") || sb_fail "losetup -f failed"
expect_fail ENODATA "$other: no filesystem found" probe "$other"
expect_fail ENOENT "$S/none: cannot open" probe "$S/none"

# --- found by uuid, also after a detach and re-attach under another name ----------------------
assert_eq "$("$tool" find-uuid "$uuid")" "$dev" "find-uuid"
assert_eq "$("$tool" find-uuid "${uuid^^}")" "$dev" "find-uuid with the uuid in upper case"
expect_fail ENOENT "no block device holds a filesystem with UUID=" find-uuid "$(cat /proc/sys/kernel/random/uuid)"
expect_fail EINVAL "invalid filesystem uuid" find-uuid nonsense

release_loop "$dev"
truncate -s 16M "$S/filler.img"
filler=$(sb_losetup "$S/filler.img") || sb_fail "losetup -f failed"  # likely takes $dev's name
dev2=$(sb_losetup "$S/share.img") || sb_fail "losetup -f failed"
echo "re-attached: $dev -> $dev2 ($filler took the first free name)"
[ "$dev2" != "$dev" ] || echo "note: the image got its old name back; the find is still checked"
assert_eq "$("$tool" find-uuid "$uuid")" "$dev2" "find-uuid right after re-attaching"

# the same image attached twice: two devices carry the uuid, and that is an error
twice=$(sb_losetup "$S/share.img") || sb_fail "losetup -f failed"
expect_fail ENOTUNIQ "more than one block device holds a filesystem with UUID=$uuid" find-uuid "$uuid"
release_loop "$twice"
assert_eq "$("$tool" find-uuid "$uuid")" "$dev2" "find-uuid after the second attachment went away"

# --- mount by UUID, idempotent, refuses another filesystem ------------------------------------
mnt=$S/NFS/NFSStorage_01
mkdir -p "$mnt" "$S/NFS/empty"
"$tool" mount "UUID=$uuid" "$mnt" || sb_fail "mount UUID=$uuid failed"
assert_eq "$(findmnt -rn -o FSTYPE --mountpoint "$mnt")" ext4 "findmnt FSTYPE"
assert_eq "$(findmnt -rn -o SOURCE --mountpoint "$mnt")" "$dev2" "findmnt SOURCE"
assert_eq "$("$tool" source "$mnt")" "$dev2" "fs-tool source"
assert_eq "$("$tool" source "$mnt/")" "$dev2" "fs-tool source with a trailing slash"
"$tool" mount "UUID=$uuid" "$mnt" || sb_fail "mounting the same filesystem again failed"
"$tool" mount "$dev2" "$mnt/" || sb_fail "mounting the same device again (by path) failed"
assert_eq "$(mounts_on "$mnt")" 1 "mounts on $mnt after mounting three times"

uuid2=$(cat /proc/sys/kernel/random/uuid)
"$tool" mkfs "$other" other "$uuid2" || sb_fail "mkfs of the other image failed"
expect_fail EBUSY "cannot mount $other on $mnt: $dev2 (ext4) is already mounted there" mount "$other" "$mnt"
expect_fail EBUSY "$dev2 (ext4) is already mounted there" mount "UUID=$uuid2" "$mnt"
assert_eq "$(mounts_on "$mnt")" 1 "mounts on $mnt after the refused mounts"
expect_fail ENOENT "cannot resolve the mount point" mount "UUID=$uuid" "$S/NFS/missing"
expect_fail ENOENT "can't find UUID=" mount "UUID=$(cat /proc/sys/kernel/random/uuid)" "$S/NFS/empty"
expect_fail EINVAL "wrong fs type" mount "$filler" "$S/NFS/empty"
expect_fail ENOENT "No such file or directory" source "$S/NFS/empty"

# --- data and usage ---------------------------------------------------------------------------
dd if=/dev/urandom of="$mnt/data.bin" bs=1M count=20 status=none || sb_fail "cannot write into the share"
sum=$(sha256sum < "$mnt/data.bin")
read -r cap1 _ _ <<< "$(usage_matches_df "$mnt")"
{ [ "$cap1" -gt $((200 * MiB)) ] && [ "$cap1" -le $((256 * MiB)) ]; } || sb_fail "capacity $cap1 of a 256M filesystem"

# --- a busy filesystem is not unmounted; mkfs and e2fsck refuse a mounted one ------------------
(cd "$mnt" && exec sleep 60) &
busy=$!
sb_track_pid "$busy"
for _ in $(seq 100); do [ "$(readlink "/proc/$busy/cwd")" = "$mnt" ] && break; sleep 0.02; done
expect_fail EBUSY "cannot unmount $mnt: target is busy" umount "$mnt"
kill "$busy"; wait "$busy" 2>/dev/null
assert_eq "$("$tool" source "$mnt")" "$dev2" "still mounted after the refused unmount"
expect_fail EIO "is mounted; will not make a filesystem here" mkfs "$dev2" x "$uuid"
expect_fail EIO "e2fsck -f -y $dev2 failed (exit status 8: operational error): e2fsck: Cannot continue, aborting. ($dev2 is mounted.)" \
    e2fsck "$dev2"

# --- grow online: try it and report ------------------------------------------------------------
truncate -s 384M "$S/share.img"
losetup -c "$dev2" || sb_fail "losetup -c $dev2 failed"
assert_eq "$(blockdev --getsize64 "$dev2")" $((384 * MiB)) "loop device size after losetup -c"
expect_fail EINVAL "$dev2 is mounted on $mnt, not $other" resize-online "$other" "$mnt"
expect_fail EINVAL "nothing is mounted on $S/NFS/empty" resize-online "$dev2" "$S/NFS/empty"
if out=$("$tool" resize-online "$dev2" "$mnt" 2>&1); then
    echo "FACT: online resize2fs worked here"
    assert_eq "$(fs_bytes "$dev2")" $((384 * MiB)) "filesystem size after the online resize"
else
    echo "FACT: online resize refused here: $out"
    assert_contains "$out" "fs-tool: EPERM: online resize of $dev2 on $mnt refused by the kernel"
    assert_contains "$out" "Permission denied to resize filesystem"
    assert_eq "$(fs_bytes "$dev2")" $((256 * MiB)) "filesystem size after the refused online resize"
fi
assert_eq "$(sha256sum < "$mnt/data.bin")" "$sum" "data after the online resize attempt"

# --- umount, idempotent ------------------------------------------------------------------------
"$tool" umount "$mnt" || sb_fail "umount failed"
assert_eq "$(mounts_on "$mnt")" 0 "mounts on $mnt after umount"
findmnt --mountpoint "$mnt" > /dev/null && sb_fail "findmnt still shows $mnt"
"$tool" umount "$mnt" || sb_fail "a second umount failed"
"$tool" umount "$S/NFS/missing" || sb_fail "umount of a missing directory failed"
expect_fail ENOENT "No such file or directory" source "$mnt"

# --- grow offline: e2fsck, grow the image, losetup -c, resize2fs, mount -----------------------
truncate -s 512M "$S/share.img"
losetup -c "$dev2" || sb_fail "losetup -c $dev2 failed"
"$tool" e2fsck "$dev2" || sb_fail "e2fsck failed"
"$tool" resize "$dev2" $((448 * MiB)) || sb_fail "resize to 448M failed"
assert_eq "$(fs_bytes "$dev2")" $((448 * MiB)) "filesystem size after resize2fs to 448M"
expect_fail EIO "The containing partition (or device) is only" resize "$dev2" $((1024 * MiB))
"$tool" resize "$dev2" || sb_fail "resize to fill the device failed"
assert_eq "$(fs_bytes "$dev2")" $((512 * MiB)) "filesystem size after resize2fs filling the device"
"$tool" e2fsck "$dev2" || sb_fail "e2fsck after the resize failed"
"$tool" mount "UUID=$uuid" "$mnt" || sb_fail "mount after the offline resize failed"
assert_eq "$(sha256sum < "$mnt/data.bin")" "$sum" "data after the offline resize"
read -r cap2 _ _ <<< "$(usage_matches_df "$mnt")"
[ "$cap2" -gt $((cap1 + 200 * MiB)) ] || sb_fail "capacity $cap2 after growing to 512M (was $cap1)"
echo "FACT: capacity $cap1 -> $cap2 bytes (256M -> 512M image, offline resize)"

# --- fstab: the line nfsprov writes is one util-linux accepts and mounts ----------------------
"$tool" umount "$mnt" || sb_fail "umount before the fstab checks failed"
admin="# the admin's own fstab, kept byte for byte
tmpfs	$S/NFS/empty   tmpfs   noauto,size=1m   0 0   # mount -a skips it
"
printf '%s' "$admin" > /etc/fstab
"$tool" fstab-set /etc/fstab "$uuid" "$mnt" || sb_fail "fstab-set failed"
"$tool" fstab-set /etc/fstab "$uuid" "$mnt/" || sb_fail "fstab-set a second time failed"
printf '%sUUID=%s %s ext4 defaults,nofail 0 2\n' "$admin" "$uuid" "$mnt" > "$S/fstab.expected"
cmp -s /etc/fstab "$S/fstab.expected" || { diff "$S/fstab.expected" /etc/fstab; sb_fail "/etc/fstab after fstab-set"; }
cmp -s /etc/fstab "$NP_SANDBOX/etc/fstab" || sb_fail "/etc/fstab and the sandbox's file behind it differ"
assert_eq "$("$tool" fstab-find /etc/fstab "$mnt")" "UUID=$uuid" "fstab-find"
out=$(findmnt --verify --tab-file /etc/fstab 2>&1) || sb_fail "findmnt --verify rejects /etc/fstab: $out"
mount -a || sb_fail "mount -a failed"
assert_eq "$(findmnt -rn -o SOURCE,FSTYPE --mountpoint "$mnt")" "$dev2 ext4" "what mount -a mounted from fstab"
findmnt --mountpoint "$S/NFS/empty" > /dev/null && sb_fail "mount -a mounted the admin's noauto entry"
assert_eq "$(sha256sum < "$mnt/data.bin")" "$sum" "data mounted through fstab"
"$tool" mount "UUID=$uuid" "$mnt" || sb_fail "mount after mount -a failed"
assert_eq "$(mounts_on "$mnt")" 1 "mounts on $mnt after mount -a and fs-tool mount"
expect_fail EEXIST "/etc/fstab:3: $mnt already has an entry, for UUID=$uuid" fstab-set /etc/fstab "$uuid2" "$mnt"
"$tool" fstab-remove /etc/fstab "$uuid2" "$mnt" || sb_fail "fstab-remove of another filesystem's entry failed"
assert_eq "$("$tool" fstab-find /etc/fstab "$mnt")" "UUID=$uuid" "fstab-remove left the entry of another filesystem"
"$tool" fstab-remove /etc/fstab "$uuid" "$mnt" || sb_fail "fstab-remove failed"
"$tool" fstab-remove /etc/fstab "$uuid" "$mnt" || sb_fail "fstab-remove a second time failed"
printf '%s' "$admin" > "$S/fstab.expected"
cmp -s /etc/fstab "$S/fstab.expected" || sb_fail "/etc/fstab after fstab-remove is not the admin's file"
expect_fail ENOENT "/etc/fstab: no entry for $mnt" fstab-find /etc/fstab "$mnt"

# --- release what the test made -----------------------------------------------------------------
"$tool" umount "$mnt" || sb_fail "final umount failed"
for d in "$dev2" "$other" "$filler"; do release_loop "$d"; done
sb_pass

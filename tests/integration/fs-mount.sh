#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A share's filesystem and mount point on a real loop device, through what the engine uses
# (the host's ShareFs, server/fs.h, server/fstab.h; fs-tool): mkfs.ext4 gives the label and uuid
# asked for (blkid -p shows them) and a sparse image stays small; a share's disk is formatted only
# when blank, already its own, or forced; BASE/NAME is made (its inode reported) or an admin's
# empty directory used, never a symbolic link; the share's filesystem mounts there (findmnt shows
# ext4 from the device), a second mount is a no-op, another filesystem is refused there, a device
# that does not carry the share's UUID is never mounted; a busy unmount is refused, unmount is
# idempotent and never unmounts another filesystem; growing it online is tried (and refused here:
# EPERM from the ioctl), growing it offline (umount, e2fsck, grow the image, losetup -c,
# resize2fs, mount) gives the bigger size with the data intact; usage numbers are those of df
# -B1; the fstab line fstab.h writes passes findmnt --verify and mount -a mounts the share from
# it; rmdir removes only the directory made.
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
usage_matches_df() { # NAME: fs-tool usage of $B/NAME prints exactly df -B1's size, used and available
    local ours theirs
    sync
    ours=$("$tool" usage "$B" "$1") || sb_fail "fs-tool usage $B $1 failed"
    theirs=$(df -B1 --output=size,used,avail "$B/$1" | tail -n 1 | tr -s ' ' | sed 's/^ //')
    assert_eq "$ours" "$theirs" "usage of $B/$1 (capacity used available) against df -B1"
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
assert_eq "$("$tool" probe "$dev")" "$(printf '%s\ta ext4 filesystem (UUID=%s, LABEL=%s)' "$uuid" "$uuid" "${name:0:16}")" "fs-tool probe"

expect_fail EINVAL 'invalid filesystem uuid "not-a-uuid"' mkfs "$dev" x not-a-uuid
expect_fail EIO "mkfs.ext4 on $S/none failed (exit status 1): The file $S/none does not exist" \
    mkfs "$S/none" x "$uuid"

truncate -s 64M "$S/other.img"
other=$(sb_losetup "$S/other.img") || sb_fail "losetup -f failed"
assert_eq "$("$tool" probe "$other")" "$(printf -- '-\t-')" "fs-tool probe of a blank device"
expect_fail ENOENT "$S/none: cannot open it to probe" probe "$S/none"

# --- format: only a blank disk, one carrying the share's own UUID, or a forced one -------------
uuid2=$(cat /proc/sys/kernel/random/uuid)
"$tool" format "$other" other "$uuid2" || sb_fail "format of a blank device failed"
"$tool" format "$other" other "$uuid2" || sb_fail "format again (the share's own filesystem) failed"
uuid3=$(cat /proc/sys/kernel/random/uuid)
expect_fail EEXIST "$other carries a ext4 filesystem (UUID=$uuid2, LABEL=other), not share x's filesystem (UUID=$uuid3); refusing to format it" \
    format "$other" x "$uuid3"
assert_eq "$(blkid_value "$other" UUID)" "$uuid2" "the refused format left the filesystem"
"$tool" format "$other" x "$uuid3" --force || sb_fail "a forced format failed"
assert_eq "$(blkid_value "$other" UUID)" "$uuid3" "the forced format"
"$tool" format "$other" other "$uuid2" --force || sb_fail "format back failed"

# --- the mount point: made, or the admin's empty directory; never a link ----------------------
B=$S/NFS
name=NFSStorage_01
mnt=$B/$name
"$tool" check-dir "$B" "$name" || sb_fail "check-dir before BASE exists failed"
ino=$("$tool" mkdir "$B" "$name") || sb_fail "mkdir failed"
assert_eq "$ino" "$(stat -c %i "$mnt")" "the inode mkdir made"
assert_eq "$("$tool" mkdir "$B" "$name")" 0 "mkdir of the existing empty directory"
mkdir "$B/admins"
assert_eq "$("$tool" mkdir "$B" admins)" 0 "mkdir of an admin's empty directory"
touch "$B/admins/file"
expect_fail ENOTEMPTY "$B/admins exists and is not empty" mkdir "$B" admins
mkdir -p "$S/elsewhere"; ln -s "$S/elsewhere" "$B/link"
expect_fail EINVAL "$B/link is a symbolic link (to $S/elsewhere)" check-dir "$B" link
expect_fail ELOOP "$B/link is a symbolic link (to $S/elsewhere)" mkdir "$B" link
expect_fail ELOOP "$B/link is a symbolic link (to $S/elsewhere)" mount "$B" link "$dev" "$uuid"
findmnt --mountpoint "$S/elsewhere" > /dev/null && sb_fail "something was mounted through the link"

# --- mount: the share's own filesystem, idempotent; never another ----------------------------
expect_fail ESTALE "$other carries a ext4 filesystem (UUID=$uuid2, LABEL=other), not share $name's filesystem (UUID=$uuid); not mounting it" \
    mount "$B" "$name" "$other" "$uuid"
"$tool" mount "$B" "$name" "$dev" "$uuid" || sb_fail "mount failed"
assert_eq "$(findmnt -rn -o FSTYPE --mountpoint "$mnt")" ext4 "findmnt FSTYPE"
assert_eq "$(findmnt -rn -o SOURCE --mountpoint "$mnt")" "$dev" "findmnt SOURCE"
assert_eq "$("$tool" mounted "$B" "$name" "$dev")" yes "mounted"
assert_eq "$("$tool" mounted "$B" "$name" "$other")" no "mounted from the other device"
"$tool" mount "$B" "$name" "$dev" "$uuid" || sb_fail "mounting the same filesystem again failed"
assert_eq "$(mounts_on "$mnt")" 1 "mounts on $mnt after mounting twice"
expect_fail EBUSY "cannot mount $other on $mnt: another filesystem" mount "$B" "$name" "$other" "$uuid2"
assert_eq "$(mounts_on "$mnt")" 1 "mounts on $mnt after the refused mount"
assert_eq "$("$tool" check-dir "$B" "$name" 2>&1)" "fs-tool: EBUSY: something is already mounted on $mnt" "check-dir on a mounted share"
assert_eq "$("$tool" mkdir "$B" "$name")" 0 "mkdir of the mounted share's directory"
expect_fail ENOENT "$B/missing: No such file or directory" mount "$B" missing "$dev" "$uuid"

# --- data and usage ---------------------------------------------------------------------------
dd if=/dev/urandom of="$mnt/data.bin" bs=1M count=20 status=none || sb_fail "cannot write into the share"
sum=$(sha256sum < "$mnt/data.bin")
read -r cap1 _ _ <<< "$(usage_matches_df "$name")"
{ [ "$cap1" -gt $((200 * MiB)) ] && [ "$cap1" -le $((256 * MiB)) ]; } || sb_fail "capacity $cap1 of a 256M filesystem"

# --- a busy filesystem is not unmounted; mkfs and e2fsck refuse a mounted one ------------------
(cd "$mnt" && exec sleep 60) &
busy=$!
sb_track_pid "$busy"
for _ in $(seq 100); do [ "$(readlink "/proc/$busy/cwd")" = "$mnt" ] && break; sleep 0.02; done
expect_fail EBUSY "cannot unmount $mnt: target is busy" umount "$B" "$name" "$dev"
kill "$busy"; wait "$busy" 2>/dev/null
assert_eq "$("$tool" mounted "$B" "$name" "$dev")" yes "still mounted after the refused unmount"
# never another filesystem: with the other device's name, or no device known, nothing is unmounted
expect_fail EBUSY "$mnt has another filesystem mounted" umount "$B" "$name" "$other"
expect_fail EBUSY "$mnt has a filesystem mounted" umount "$B" "$name" -
assert_eq "$(mounts_on "$mnt")" 1 "mounts on $mnt after the refused unmounts"
expect_fail EIO "is mounted; will not make a filesystem here" mkfs "$dev" x "$uuid"
expect_fail EIO "e2fsck -f -y $dev failed (exit status 8: operational error): e2fsck: Cannot continue, aborting. ($dev is mounted.)" \
    e2fsck "$dev"

# --- grow online: try it and report ------------------------------------------------------------
truncate -s 384M "$S/share.img"
losetup -c "$dev" || sb_fail "losetup -c $dev failed"
assert_eq "$(blockdev --getsize64 "$dev")" $((384 * MiB)) "loop device size after losetup -c"
expect_fail EINVAL "online resize of $other: it is not what is mounted on $mnt" grow-online "$B" "$name" "$other"
mkdir -p "$B/empty"
expect_fail ENOENT "$B/empty: the share is not mounted" grow-online "$B" empty "$dev"
if out=$("$tool" grow-online "$B" "$name" "$dev" 2>&1); then
    echo "FACT: the online resize (EXT4_IOC_RESIZE_FS) worked here"
    assert_eq "$(fs_bytes "$dev")" $((384 * MiB)) "filesystem size after the online resize"
else
    echo "FACT: online resize refused here: $out"
    assert_contains "$out" "fs-tool: EPERM: online resize of $mnt refused by the kernel (EXT4_IOC_RESIZE_FS: Operation not permitted)"
    assert_eq "$(fs_bytes "$dev")" $((256 * MiB)) "filesystem size after the refused online resize"
fi
assert_eq "$(sha256sum < "$mnt/data.bin")" "$sum" "data after the online resize attempt"

# --- umount, idempotent ------------------------------------------------------------------------
"$tool" umount "$B" "$name" "$dev" || sb_fail "umount failed"
assert_eq "$(mounts_on "$mnt")" 0 "mounts on $mnt after umount"
findmnt --mountpoint "$mnt" > /dev/null && sb_fail "findmnt still shows $mnt"
"$tool" umount "$B" "$name" "$dev" || sb_fail "a second umount failed"
"$tool" umount "$B" missing "$dev" || sb_fail "umount of a missing directory failed"
assert_eq "$("$tool" mounted "$B" "$name" "$dev")" no "mounted after umount"

# --- grow offline: e2fsck, grow the image, losetup -c, resize2fs, mount -----------------------
truncate -s 512M "$S/share.img"
losetup -c "$dev" || sb_fail "losetup -c $dev failed"
"$tool" e2fsck "$dev" || sb_fail "e2fsck failed"
"$tool" resize "$dev" $((448 * MiB)) || sb_fail "resize to 448M failed"
assert_eq "$(fs_bytes "$dev")" $((448 * MiB)) "filesystem size after resize2fs to 448M"
expect_fail EIO "The containing partition (or device) is only" resize "$dev" $((1024 * MiB))
"$tool" resize "$dev" || sb_fail "resize to fill the device failed"
assert_eq "$(fs_bytes "$dev")" $((512 * MiB)) "filesystem size after resize2fs filling the device"
"$tool" e2fsck "$dev" || sb_fail "e2fsck after the resize failed"
"$tool" mount "$B" "$name" "$dev" "$uuid" || sb_fail "mount after the offline resize failed"
assert_eq "$(sha256sum < "$mnt/data.bin")" "$sum" "data after the offline resize"
read -r cap2 _ _ <<< "$(usage_matches_df "$name")"
[ "$cap2" -gt $((cap1 + 200 * MiB)) ] || sb_fail "capacity $cap2 after growing to 512M (was $cap1)"
echo "FACT: capacity $cap1 -> $cap2 bytes (256M -> 512M image, offline resize)"

# --- fstab: the line nfsprov writes is one util-linux accepts and mounts ----------------------
"$tool" umount "$B" "$name" "$dev" || sb_fail "umount before the fstab checks failed"
admin="# the admin's own fstab, kept byte for byte
tmpfs	$S/NFS/tmpfs-noauto   tmpfs   noauto,size=1m   0 0   # mount -a skips it
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
assert_eq "$(findmnt -rn -o SOURCE,FSTYPE --mountpoint "$mnt")" "$dev ext4" "what mount -a mounted from fstab"
findmnt --mountpoint "$S/NFS/tmpfs-noauto" > /dev/null && sb_fail "mount -a mounted the admin's noauto entry"
assert_eq "$(sha256sum < "$mnt/data.bin")" "$sum" "data mounted through fstab"
"$tool" mount "$B" "$name" "$dev" "$uuid" || sb_fail "mount after mount -a failed"
assert_eq "$(mounts_on "$mnt")" 1 "mounts on $mnt after mount -a and fs-tool mount"
expect_fail EEXIST "/etc/fstab:3: $mnt already has an entry, for UUID=$uuid" fstab-set /etc/fstab "$uuid2" "$mnt"
"$tool" fstab-remove /etc/fstab "$uuid2" "$mnt" || sb_fail "fstab-remove of another filesystem's entry failed"
assert_eq "$("$tool" fstab-find /etc/fstab "$mnt")" "UUID=$uuid" "fstab-remove left the entry of another filesystem"
"$tool" fstab-remove /etc/fstab "$uuid" "$mnt" || sb_fail "fstab-remove failed"
"$tool" fstab-remove /etc/fstab "$uuid" "$mnt" || sb_fail "fstab-remove a second time failed"
printf '%s' "$admin" > "$S/fstab.expected"
cmp -s /etc/fstab "$S/fstab.expected" || sb_fail "/etc/fstab after fstab-remove is not the admin's file"
expect_fail ENOENT "/etc/fstab: no entry for $mnt" fstab-find /etc/fstab "$mnt"

# --- rmdir removes only the directory it made ---------------------------------------------------
"$tool" umount "$B" "$name" "$dev" || sb_fail "final umount failed"
"$tool" rmdir "$B" "$name" $((ino + 1)) || sb_fail "rmdir with another inode failed"
[ -d "$mnt" ] || sb_fail "rmdir removed a directory it did not make"
"$tool" rmdir "$B" admins 0 || sb_fail "rmdir of the admin's directory failed"
[ -d "$B/admins" ] || sb_fail "rmdir removed the admin's directory"
"$tool" rmdir "$B" "$name" "$ino" || sb_fail "rmdir failed"
[ -e "$mnt" ] && sb_fail "rmdir left the directory it made"
"$tool" rmdir "$B" "$name" "$ino" || sb_fail "rmdir a second time failed"
for d in "$dev" "$other"; do release_loop "$d"; done
sb_pass

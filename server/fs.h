/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A share's filesystem: make it (mkfs.ext4), mount and unmount it through descriptors (the
 * new mount API; no path is looked up twice), check and grow it (e2fsck, resize2fs, ext4's
 * online resize ioctl) and measure it (statvfs).
 *
 * Contract:
 *  - every function returns 0 or a negative errno and, where it takes a GError, one line that
 *    says what failed, at which step and why (the program's or the library's own words);
 *  - ret_ parameters are set only on success; any of them may be NULL;
 *  - programs run from argv arrays (common/run.h), never through a shell;
 *  - nothing is created or removed here: the caller makes mount points and decides whether a
 *    device may be formatted (fs_mkfs_ext4() overwrites whatever the device holds) and whether a
 *    filesystem is grown online or offline.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <glib.h>

/* ext4 labels hold at most this many bytes. */
#define FS_LABEL_MAX 16

/* mkfs.ext4 -q -F -L LABEL -U UUID -E lazy_itable_init=1,lazy_journal_init=1 -m 0 DEVICE.
 * label is typically the share name; a longer one is cut to its first FS_LABEL_MAX bytes (at a
 * UTF-8 character boundary), so two shares whose names share their first 16 bytes get the same
 * label: shares are found by uuid, never by label. uuid must be a UUID in the 8-4-4-4-12 hex form.
 * -EINVAL for a bad uuid or an empty device/label; a failing mkfs.ext4 gives -EIO with its first
 * error line ("/dev/loop0 is mounted; will not make a filesystem here!"). */
int fs_mkfs_ext4(const char *device, const char *label, const char *uuid, GError **error);






/* resize2fs DEVICE [SIZE] on an unmounted filesystem (the caller runs fs_e2fsck() first, as
 * resize2fs requires). new_size in bytes, rounded down to whole KiB (resize2fs then rounds to
 * whole filesystem blocks); 0 = fill the device. -EIO with resize2fs's message on failure. */
int fs_resize2fs(const char *device, uint64_t new_size, GError **error);
/* fs_resize2fs(device, 0): fill the device. */
int fs_resize2fs_fill(const char *device, GError **error);

/* e2fsck -f -y DEVICE on an unmounted filesystem. Exit status 0 (clean) and 1 (errors
 * corrected) are success; 2 and 4 (errors that need a reboot / left uncorrected) give
 * -EUCLEAN, 32 (cancelled) -ECANCELED, 8, 16 and 128 (operational, usage, library error) -EIO,
 * each with the meaning of the status and e2fsck's own message. */
int fs_e2fsck(const char *device, GError **error);



/* ---- mounts through descriptors (no path is looked up twice; no symbolic link is followed) ---- */

/* Whether the directory open as fd is the root of a mount, and the device number of the
 * filesystem it is in (statx: STATX_ATTR_MOUNT_ROOT, stx_dev). -EOPNOTSUPP on kernels that do
 * not report mount roots (before 5.8). */
int fs_mount_root(int fd, bool *ret_root, dev_t *ret_devno, GError **error);

/* The device number of the filesystem mounted on the directory `name` under dirfd (reached
 * without following a symbolic link; `dir` names dirfd in messages). -ENOENT, without a
 * message, when name is a plain directory (nothing mounted there); -ELOOP when it is a
 * symbolic link; other errors with a message. */
int fs_mounted_at(int dirfd, const char *dir, const char *name, dev_t *ret_devno, GError **error);

/* Mount the ext4 filesystem on device onto the directory open as target_fd (O_PATH is enough)
 * with the new mount API (fsopen, fsconfig, fsmount, move_mount): the kernel mounts on exactly
 * that directory, whatever its path has become meanwhile. where names it in messages. Errors
 * carry the kernel's own message ("ext4: Can't find ext4 filesystem"). The caller checks that
 * nothing is mounted there yet (fs_mounted_at). */
int fs_mount_fd(const char *device, int target_fd, const char *where, GError **error);

/* Unmount what is mounted on the directory `name` under dirfd, only when it is the filesystem
 * of device number `expected`: 0 when nothing is mounted there (or there is no such directory),
 * -EBUSY naming the device when something else is mounted there, -EBUSY when it is in use.
 * umount2(2) goes through dirfd (/proc/self/fd/N/NAME, UMOUNT_NOFOLLOW), so the path is not
 * looked up again from /. */
int fs_umount_at(int dirfd, const char *dir, const char *name, dev_t expected, GError **error);

/* Grow the mounted ext4 filesystem whose root is open as root_fd to new_size bytes (rounded
 * down to whole blocks) with ext4's online resize (EXT4_IOC_RESIZE_FS, what resize2fs does on a
 * mounted filesystem). -EPERM when the kernel refuses (no CAP_SYS_RESOURCE): the caller then
 * resizes offline. The decision is made on the ioctl's errno, never on a program's text. */
int fs_grow_mounted(int root_fd, const char *where, uint64_t new_size, GError **error);

/* Sizes in bytes of the filesystem fd is in, from fstatvfs(): capacity = f_blocks*f_frsize,
 * used = (f_blocks - f_bfree)*f_frsize, available (to unprivileged users) = f_bavail*f_frsize —
 * the numbers `df -B1` prints. */
int fs_usage_fd(int fd, uint64_t *ret_capacity, uint64_t *ret_used, uint64_t *ret_available, GError **error);

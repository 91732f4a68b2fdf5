/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A share's filesystem: make it (mkfs.ext4), find it (libblkid), mount and unmount it
 * (libmount), check and grow it (e2fsck, resize2fs) and measure it (statvfs).
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

/* The filesystem on device, by libblkid's superblock probe: type ("ext4"), uuid and label
 * (*ret_uuid / *ret_label are set to NULL when the filesystem has none).
 * -ENODATA when the device holds no filesystem signature (it may still hold a partition table
 * or another non-filesystem signature: only superblocks are probed), -ENOTUNIQ when it holds
 * several that contradict each other, -ENOENT/-EACCES/... when it cannot be opened. */
int fs_probe(const char *device, char **ret_type, char **ret_uuid, char **ret_label, GError **error);

/* The block device whose filesystem carries uuid. Every call scans all block devices afresh
 * (libblkid with a private, empty cache), so a device attached a moment ago is found and a
 * device that went away is not reported from a stale cache.
 * uuid may be in upper or lower case. -ENOENT when no device carries it, -ENOTUNIQ (naming them)
 * when more than one does (e.g. an image attached to two loop devices). */
int fs_find_by_uuid(const char *uuid, char **ret_device, GError **error);

/* Mount source ("UUID=<uuid>" or a device path) on target (an existing directory) as ext4 with
 * options (NULL = "defaults"), through libmount; /etc/fstab is not consulted.
 * Idempotent: when the same filesystem (same device, root of the filesystem) is already the top
 * mount on target, returns 0 without mounting again. When something else is mounted there:
 * -EBUSY naming it. Otherwise libmount's error (mnt_context_get_excode's message) with the
 * failed system call's errno (-ENOENT for a missing target or an unknown UUID, -EINVAL for a
 * device without ext4, ...). */
int fs_mount(const char *source, const char *target, const char *options, GError **error);

/* Unmount the filesystem mounted on target (the top mount), through libmount.
 * Idempotent: nothing mounted on target is 0. -EBUSY when it is in use. */
int fs_umount(const char *target, GError **error);

/* Whether target is a mount point (exactly: a mount whose target is this path, after resolving
 * symlinks when the path exists) in this mount namespace, and which device is mounted there
 * (the top mount's source, e.g. "/dev/loop3"). -ENOENT when nothing is mounted on target. */
int fs_mount_source(const char *target, char **ret_source_device);

/* resize2fs DEVICE [SIZE] on an unmounted filesystem (the caller runs fs_e2fsck() first, as
 * resize2fs requires). new_size in bytes, rounded down to whole KiB (resize2fs then rounds to
 * whole filesystem blocks); 0 = fill the device. -EIO with resize2fs's message on failure. */
int fs_resize2fs(const char *device, uint64_t new_size, GError **error);

/* e2fsck -f -y DEVICE on an unmounted filesystem. Exit status 0 (clean) and 1 (errors
 * corrected) are success; 2 and 4 (errors that need a reboot / left uncorrected) give
 * -EUCLEAN, 32 (cancelled) -ECANCELED, 8, 16 and 128 (operational, usage, library error) -EIO,
 * each with the meaning of the status and e2fsck's own message. */
int fs_e2fsck(const char *device, GError **error);

/* Grow the filesystem on device, mounted on mountpoint, to fill the device while it stays
 * mounted (resize2fs DEVICE). -EINVAL when device is not what is mounted on mountpoint (so an
 * unmounted filesystem is never resized here by accident); -EPERM when the kernel refuses the
 * online resize ("Permission denied to resize filesystem", e.g. without CAP_SYS_RESOURCE):
 * the caller may then resize offline (fs_umount, fs_e2fsck, fs_resize2fs, fs_mount). */
int fs_resize_online(const char *device, const char *mountpoint, GError **error);

/* Sizes in bytes of the filesystem holding path, from statvfs(): capacity = f_blocks*f_frsize,
 * used = (f_blocks - f_bfree)*f_frsize, available (to unprivileged users) = f_bavail*f_frsize —
 * the numbers `df -B1` prints. */
int fs_usage(const char *path, uint64_t *ret_capacity, uint64_t *ret_used, uint64_t *ret_available,
             GError **error);

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

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The disks behind shares. Every share owns one disk, given by a backend (a table of functions,
 * as libvirt's virStorageBackend):
 *
 *   image  a sparse file IMAGE_DIR/NAME.img attached to a loop device (server/disk_image.c).
 *          The source is the image path; the block device is its loop device, which may change
 *          across reboots (attach finds or re-attaches it).
 *   disk   a whole block device from the configured inventory (server/disk_block.c). The source
 *          is the device path as the inventory spells it (a /dev/disk/by-id/ name stays stable);
 *          the block device is the node it resolves to. A disk is taken only when blank: no
 *          signature of any kind (filesystem, partition table, RAID, LVM, swap), not mounted, no
 *          partitions, no holders -- unless the admin forces a device that carries signatures
 *          (force never overrides "in use": mounted, swap, holders).
 *
 * Every operation is idempotent where the share lifecycle needs it (attach, release), so that
 * reconcile can repeat it. Functions return 0 or a negative errno and set error to one line
 * that says what failed, at which step and why; ret_ parameters are set only on success.
 * Errors: -EINVAL bad input, -EEXIST image exists / device carries signatures, -EBUSY device
 * in use, -ENOSPC no disk left or too small, -ENOENT source missing.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

typedef struct DiskContext {
        const char *image_dir; /* image backend: where NAME.img files live */
        char **inventory;      /* disk backend: the devices nfsprov may use (NULL-terminated) */
        char **in_use;         /* sources already used by other shares (NULL-terminated, may be NULL) */
} DiskContext;

typedef struct DiskBackend {
        const char *name; /* "image" | "disk" */
        /* Make a new disk for share `name` (a valid share name).
         * image: create the sparse file IMAGE_DIR/NAME.img of `size` bytes (a positive multiple
         * of 512; IMAGE_DIR is created if missing; refused with -EEXIST when the file exists)
         * and attach it. `requested` must be NULL; `force` means nothing here.
         * disk: take `requested` (which must be in the inventory) or, when NULL, the first
         * usable device of the inventory; usable = not in `in_use`, blank (unless `force`, which
         * needs `requested`), and at least `size` bytes when size > 0.
         * Returns the source (image path / device path) and the block device. */
        int (*allocate)(const DiskContext *ctx, const char *name, uint64_t size, const char *requested, bool force,
                        char **ret_source, char **ret_device, GError **error);
        /* Make the source available as a block device again (image: its loop device, attached
         * when there is none; disk: the device must exist). Idempotent: attaching twice
         * returns the same device. */
        int (*attach)(const DiskContext *ctx, const char *source, char **ret_device, GError **error);
        /* Grow to new_size bytes; never shrinks (-EINVAL). image: grow the file and, when
         * attached, the loop device (`device` may be NULL: found from the source). disk: check
         * the device already holds at least new_size bytes (disks are grown outside; -ENOSPC). */
        int (*grow)(const DiskContext *ctx, const char *source, const char *device, uint64_t new_size,
                    GError **error);
        /* Give the disk back. image: detach its loop device(s) and remove the file; a missing
         * image or loop device is fine; a loop device still mounted or held is refused (-EBUSY).
         * disk: wipe every signature so the device is blank again (refused while in use). */
        int (*release)(const DiskContext *ctx, const char *source, GError **error);
        /* Size in bytes of the source (image file size / device size). */
        int (*size)(const DiskContext *ctx, const char *source, uint64_t *ret_size, GError **error);
} DiskBackend;

extern const DiskBackend disk_backend_image, disk_backend_disk;

/* The backend called `name` ("image" or "disk"), or NULL. */
const DiskBackend *disk_backend_by_name(const char *name);

/* 0 when `device` is a block device that is blank and free. Otherwise -EBUSY (in use) or
 * -EEXIST (carries something), -ENOTBLK (not a block device), -ENOENT, with one line, e.g.:
 *   /dev/sdb is mounted on /srv/x
 *   /dev/sdb has partition sdb1 mounted on /srv/x
 *   /dev/sdb is used as swap
 *   /dev/sdb has holders (dm-0)
 *   /dev/sdb has partitions (sdb1, sdb2)
 *   /dev/sdb has partitions (a dos partition table)
 *   /dev/sdb carries a ext4 filesystem (UUID=..., LABEL=...)
 *   /dev/sdb carries a LVM2_member RAID/volume-manager signature (UUID=...)
 * Uses libmount (mountinfo, /proc/swaps), sysfs (holders, partitions), libblkid (signatures). */
int disk_check_blank(const char *device, GError **error);

/* Only the "in use" part of disk_check_blank(): mounted (the device or one of its partitions),
 * swap, holders. 0 or -EBUSY with the same messages. */
int disk_check_unused(const char *device, GError **error);

/* Erase every signature libblkid finds (filesystems, partition tables, RAID, LVM, swap): the
 * blkid_do_probe/blkid_do_wipe loop of `wipefs -a`. The device is opened exclusively, so a
 * mounted or held device is refused (-EBUSY). Wiping a blank device does nothing. */
int disk_wipe(const char *device, GError **error);

/* Size in bytes of a block device (BLKGETSIZE64) or a regular file. */
int disk_device_size(const char *path, uint64_t *ret_size, GError **error);

/* Do a and b name the same thing: the same block device (st_rdev), the same file
 * (st_dev/st_ino), or, when either cannot be examined, the same string? */
bool disk_same_source(const char *a, const char *b);

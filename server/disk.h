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
 * in use, -ENOSPC no disk left or too small, -ENOENT source missing, -ESTALE the source is no
 * longer the share's disk (another file, another filesystem): nothing was changed.
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

/* What the state records of an existing share's disk: every backend operation on it checks
 * that the source still is this share's disk before it acts. */
typedef struct DiskRef {
        const char *share;   /* the share's name */
        const char *source;  /* image file path / the inventory's name of the device */
        const char *fs_uuid; /* the share's filesystem UUID; NULL until it was chosen (before mkfs) */
        uint64_t ino;        /* image: the inode of the file nfsprov made; 0 = not recorded */
} DiskRef;

/* A new share's disk, as the admin asked for it. */
typedef struct DiskRequest {
        const char *share;  /* a valid share name */
        uint64_t size;      /* bytes; 0 = the backend decides (a disk: all of it) */
        const char *device; /* a named device of the inventory (DISK_TAKES_DEVICE), or NULL */
        bool force;         /* take the named device even though it carries signatures */
} DiskRequest;

/* What a backend can do, for the engine to ask instead of comparing names. */
enum {
        DISK_NEEDS_SIZE = 1 << 0,   /* a new share must give a size (image) */
        DISK_TAKES_DEVICE = 1 << 1, /* a request may name one of its devices, and force it (disk) */
        DISK_GROWS = 1 << 2,        /* grow makes the disk bigger itself; otherwise the admin grows
                                     * it outside nfsprov and grow only checks it was */
};

typedef struct DiskBackend {
        const char *name; /* "image" | "disk" */
        unsigned flags;   /* DISK_* */
        /* Check a create request before anything is recorded; nothing changes. One line without
         * the share's name (the engine adds "create NAME: ") on -EINVAL (what this backend does
         * not take: a device, no size; a device outside the inventory, in use by another share,
         * not blank without force), -EEXIST (the image file exists). *ret_source: what the
         * share is recorded with before allocate runs, so that a crash in allocate leaves
         * nothing reconcile cannot find (image: IMAGE_DIR/NAME.img; disk: the named device, or
         * NULL when allocate picks one). */
        int (*validate)(const DiskContext *ctx, const DiskRequest *req, char **ret_source, GError **error);
        /* Make the new share's disk.
         * image: create the sparse file IMAGE_DIR/NAME.img of req->size bytes (a positive
         * multiple of 512; IMAGE_DIR is created if missing; -EEXIST when the file exists) and
         * attach it.
         * disk: take req->device (which must be in the inventory) or, when NULL, the first usable
         * device of the inventory; usable = not in `in_use`, blank (unless force, which needs a
         * named device), and at least req->size bytes when size > 0.
         * Returns the source (image path / device path), its identity for DiskRef.ino (image:
         * the file's inode; disk: 0) and the block device. */
        int (*allocate)(const DiskContext *ctx, const DiskRequest *req, char **ret_source, uint64_t *ret_ino,
                        char **ret_device, GError **error);
        /* Make the share's disk available as a block device again and return it, with the
         * source it is found under now (ret_source; may differ from d->source: see below).
         * Idempotent: attaching twice returns the same device.
         * image: its loop device, attached when there is none; the file must be the one
         * nfsprov made (d->ino), else -ESTALE.
         * disk: the device at d->source when it carries d->fs_uuid (or d->fs_uuid is NULL, or
         * the device is blank: not formatted yet). Device names change across reboots: when the
         * device at d->source carries something else, the inventory device that carries
         * d->fs_uuid is returned with its inventory name as the new source; -ESTALE naming
         * what d->source carries when no inventory device carries it. */
        int (*attach)(const DiskContext *ctx, const DiskRef *d, char **ret_device, char **ret_source, GError **error);
        /* The share's block device now, changing nothing (cheap enough for every listing):
         * image: the loop device of the file nfsprov made (-ENXIO when not attached); disk: as
         * attach finds it. */
        int (*device_now)(const DiskContext *ctx, const DiskRef *d, char **ret_device, GError **error);
        /* Grow to new_size bytes; never shrinks (-EINVAL). image: grow the file and, when
         * attached, the loop device (`device` may be NULL: found from the source). disk: check
         * the device already holds at least new_size bytes (disks are grown outside; -ENOSPC). */
        int (*grow)(const DiskContext *ctx, const DiskRef *d, const char *device, uint64_t new_size, GError **error);
        /* Give the disk back, after checking it is the share's: -ESTALE (nothing changed) when
         * it is not. image: detach its loop device(s) and remove the file (which must be the
         * inode nfsprov made); a missing image or loop device is fine; a loop device still
         * mounted or held is refused (-EBUSY). disk: with wipe, erase every signature so the
         * device is blank again, only when it carries d->fs_uuid (a blank device is fine);
         * refused while in use. Without wipe (a disk nfsprov never formatted: the undo of a
         * create that stopped before mkfs), the disk is left as it is. */
        int (*release)(const DiskContext *ctx, const DiskRef *d, bool wipe, GError **error);
        /* Size in bytes of the source (image file size / device size). */
        int (*size)(const DiskContext *ctx, const DiskRef *d, uint64_t *ret_size, GError **error);
} DiskBackend;

extern const DiskBackend disk_backend_image, disk_backend_disk;

/* The backend called `name` ("image" or "disk"), or NULL: the one place that compares names. */
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

/* Erase every signature libblkid finds (filesystems, partition tables, RAID, LVM, swap: the
 * blkid_do_probe/blkid_do_wipe loop of `wipefs -a`), only when the device carries share's
 * filesystem (UUID fs_uuid) or nothing; otherwise -ESTALE with one line naming what it carries.
 * The device is opened exclusively, so a mounted or held device is refused (-EBUSY), and the
 * check and the wipe go through that one descriptor: what was checked is what is wiped. */
int disk_wipe_share(const char *device, const char *share, const char *fs_uuid, GError **error);

/* Before mkfs: 0 when the device is not in use (exclusive open) and is blank, carries share's
 * filesystem (fs_uuid: an earlier attempt), or anything at all when force; -EEXIST naming what
 * it carries otherwise, -EBUSY when in use. */
int disk_check_formattable(const char *device, const char *share, const char *fs_uuid, bool force, GError **error);

/* Probe the device: the UUID of the filesystem it carries (NULL when none; lower case) and a
 * description of what it carries ("a ext4 filesystem (UUID=..., LABEL=...)"; NULL when the
 * device is blank). */
int disk_fs_uuid(const char *device, char **ret_uuid, char **ret_desc, GError **error);

/* Size in bytes of a block device (BLKGETSIZE64) or a regular file. */
int disk_device_size(const char *path, uint64_t *ret_size, GError **error);

/* Do a and b name the same thing: the same block device (st_rdev), the same file
 * (st_dev/st_ino), or, when either cannot be examined, the same string? */
bool disk_same_source(const char *a, const char *b);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the engine does to this host for a share, besides its disk (server/disk.h) and its
 * export (server/export_server.h): the filesystem on the disk, the mount point BASE/NAME, the
 * mount, the share root's owner, the fstab entry, growing the filesystem. A table, so the
 * engine's unit tests can run it without root against a fake (tests/unit/test_engine.c); the
 * host's implementation is share_fs_host (server/share_fs.c, on server/fs.h, server/fstab.h and
 * server/safepath.h: no path under BASE is reached through a symbolic link).
 *
 * NAME is a valid share name; BASE, the fstab and the owner come from the Config. Functions
 * return 0 or a negative errno with one line in error; ret_ parameters are set only on success.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "settings.h"

typedef struct ShareUsage {
        uint64_t capacity, used, available; /* bytes, as df -B1 shows them */
} ShareUsage;

typedef struct ShareFs {
        /* mkfs.ext4 (label NAME, the given UUID) on device, after checking it may be formatted:
         * blank, carrying that UUID already (an earlier attempt), or anything when force;
         * -EEXIST naming what it carries otherwise, -EBUSY when it is in use. */
        int (*format)(const char *device, const char *name, const char *uuid, bool force, GError **error);
        /* Before create, nothing changes: -EINVAL when BASE/NAME (or a component of BASE) is a
         * symbolic link, -EBUSY when something is mounted on BASE/NAME. */
        int (*check_dir)(const Config *c, const char *name, GError **error);
        /* Make BASE (0755) and BASE/NAME (0755) the mount point. *ret_made_ino: the inode of
         * BASE/NAME when made here, 0 when an empty directory (the admin's) or the share's
         * mounted filesystem was there already. -ENOTEMPTY, -ENOTDIR, -ELOOP otherwise. */
        int (*make_dir)(const Config *c, const char *name, uint64_t *ret_made_ino, GError **error);
        /* Remove BASE/NAME only when it is the directory made (inode made_ino) and empty; a
         * made_ino of 0 (not made by nfsprov) or another inode there: left as it is, 0. */
        int (*remove_dir)(const Config *c, const char *name, uint64_t made_ino, GError **error);
        /* Is the filesystem on device the mount on BASE/NAME? */
        bool (*mounted)(const Config *c, const char *name, const char *device);
        /* Mount the filesystem on device, which must carry uuid (-ESTALE otherwise), on
         * BASE/NAME. Already mounted there: 0; another filesystem there: -EBUSY. */
        int (*mount)(const Config *c, const char *name, const char *device, const char *uuid, GError **error);
        /* Unmount BASE/NAME when the filesystem of device is what is mounted there; nothing
         * mounted: 0; another filesystem (or device NULL and something mounted): -EBUSY. */
        int (*umount)(const Config *c, const char *name, const char *device, GError **error);
        /* Owner, group and mode of the mounted share root ([shares] owner, group, mode). */
        int (*set_owner)(const Config *c, const char *name, GError **error);
        /* The mounted share root, opened O_RDONLY|O_DIRECTORY without following a symbolic link:
         * where volumes are made (-ENOENT when the share is not mounted). */
        int (*open_root)(const Config *c, const char *name, int *ret_fd, GError **error);
        /* The guard (server/guard_mode.h): set (on) or clear the immutable attribute of the mounted
         * share root (server/immutable.h); *ret_changed (may be NULL): it changed now. -ENOENT
         * when the share is not mounted, -EPERM / -EOPNOTSUPP when this host cannot set it. */
        int (*protect)(const Config *c, const char *name, bool on, bool *ret_changed, GError **error);
        /* Whether the mounted share root carries the immutable attribute now. */
        int (*is_protected)(const Config *c, const char *name, bool *ret, GError **error);
        /* The names at the mounted share root besides lost+found, at most max of them (for
         * delete's "the share holds files"); ret_more: there were more. */
        int (*list)(const Config *c, const char *name, unsigned max, GPtrArray **ret_names, bool *ret_more,
                    GError **error);
        /* Usage of the mounted share. */
        int (*usage)(const Config *c, const char *name, ShareUsage *ret, GError **error);
        /* The fstab entry UUID=uuid BASE/NAME; *ret_changed: it was written now. */
        int (*fstab_set)(const Config *c, const char *name, const char *uuid, bool *ret_changed, GError **error);
        /* Does the fstab hold the share's entry (UUID=uuid for BASE/NAME)? */
        bool (*fstab_has)(const Config *c, const char *name, const char *uuid);
        /* Remove the share's own fstab entry (UUID=uuid for BASE/NAME); others stay. */
        int (*fstab_remove)(const Config *c, const char *name, const char *uuid, GError **error);
        /* Grow the mounted filesystem to fill device, online. -EPERM when the kernel refuses
         * (without CAP_SYS_RESOURCE): the caller grows it offline. */
        int (*grow_online)(const Config *c, const char *name, const char *device, GError **error);
        /* e2fsck -f -y on the unmounted device. */
        int (*check)(const char *device, GError **error);
        /* resize2fs on the unmounted device: fill it. */
        int (*grow_offline)(const char *device, GError **error);
} ShareFs;

extern const ShareFs share_fs_host;

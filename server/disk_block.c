/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The disk backend: whole block devices from the configured inventory (seed 000: one disk per
 * shared directory). The source is the inventory's spelling of the device.
 */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "disk.h"
#include "error.h"
#include "macro.h"
#include "name.h"

/* The inventory's entry for `device` (compared as devices, so /dev/disk/by-id names match). */
static const char *inventory_entry(const DiskContext *ctx, const char *device) {
        for (char **i = ctx->inventory; i && *i; i++)
                if (disk_same_source(*i, device))
                        return *i;
        return NULL;
}

static bool is_in_use(const DiskContext *ctx, const char *device) {
        for (char **i = ctx->in_use; i && *i; i++)
                if (disk_same_source(*i, device))
                        return true;
        return false;
}

/* Can `device` become a share's disk? force: accept signatures, never "in use". */
static int check_usable(const DiskContext *ctx, const char *device, uint64_t size, bool force, GError **error) {
        if (is_in_use(ctx, device))
                return np_fail(error, EBUSY, "%s is already the disk of another share; one disk per shared directory",
                               device);
        int r = force ? disk_check_unused(device, error) : disk_check_blank(device, error);
        if (r < 0)
                return r;
        if (size > 0) {
                uint64_t have;
                r = disk_device_size(device, &have, error);
                if (r < 0)
                        return r;
                if (have < size)
                        return np_fail(error, ENOSPC, "%s holds %" PRIu64 " bytes, less than the %" PRIu64 " requested",
                                       device, have, size);
        }
        return 0;
}

/* A device the admin named: in the inventory, not another share's, blank (with force: at least
 * not in use) and big enough. */
static int check_requested(const DiskContext *ctx, const char *device, uint64_t size, bool force, GError **error) {
        if (!inventory_entry(ctx, device)) {
                g_autofree char *inv = ctx->inventory ? g_strjoinv(" ", ctx->inventory) : g_strdup("");
                return np_fail(error, EINVAL, "%s is not in the disk inventory ([shares] disks = %s)", device, inv);
        }
        g_autoptr(GError) e = NULL;
        int r = check_usable(ctx, device, size, force, &e);
        if (r == -EEXIST)
                return np_fail(error, EEXIST, "%s; wipe it or use --force", e->message);
        if (r < 0)
                g_propagate_error(error, g_steal_pointer(&e));
        return r;
}

static int resolve_device(const char *source, char **ret_device, GError **error) {
        char *canon = realpath(source, NULL);
        if (!canon)
                return np_fail(error, errno, "disk %s: cannot resolve it: %s", source, g_strerror(errno));
        *ret_device = g_strdup(canon);
        free(canon);
        return 0;
}

static int block_validate(const DiskContext *ctx, const DiskRequest *req, char **ret_source, GError **error) {
        if (req->force && !req->device)
                return np_fail(error, EINVAL, "--force needs --disk: nfsprov never picks a disk that is not blank by itself");
        if (!req->device) {
                *ret_source = NULL; /* allocate picks one */
                return 0;
        }
        g_autoptr(GError) e = NULL;
        int r = check_requested(ctx, req->device, req->size, req->force, &e);
        if (r < 0) /* refused before anything is recorded: bad input, nothing changed */
                return np_fail(error, EINVAL, "%s", e->message);
        *ret_source = g_strdup(req->device);
        return 0;
}

static int block_allocate(const DiskContext *ctx, const DiskRequest *req, char **ret_source, uint64_t *ret_ino,
                          char **ret_device, GError **error) {
        const char *name = req->share, *requested = req->device;
        uint64_t size = req->size;
        bool force = req->force;
        int r = name_validate_share(name, error);
        if (r < 0)
                return r;
        if (!ctx || !ctx->inventory || !*ctx->inventory)
                return np_fail(error, ENOSPC, "share %s: the disk inventory is empty: list the disks nfsprov may use in the configuration",
                               name);

        const char *source = NULL;
        if (requested) {
                g_autoptr(GError) e = NULL;
                r = check_requested(ctx, requested, size, force, &e);
                if (r < 0)
                        return np_fail_prefix(error, g_steal_pointer(&e), "share %s: cannot take %s", name, requested);
                source = inventory_entry(ctx, requested);
        } else {
                if (force)
                        return np_fail(error, EINVAL, "share %s: force needs a named disk; it never applies to a disk picked from the inventory",
                                       name);
                g_autoptr(GPtrArray) reasons = g_ptr_array_new_with_free_func(g_free);
                for (char **i = ctx->inventory; *i; i++) {
                        g_autoptr(GError) e = NULL;
                        if (check_usable(ctx, *i, size, false, &e) == 0) {
                                source = *i;
                                break;
                        }
                        g_ptr_array_add(reasons, g_strdup(e ? e->message : *i));
                }
                if (!source) {
                        g_ptr_array_add(reasons, NULL);
                        g_autofree char *why = g_strjoinv("; ", (char **) reasons->pdata);
                        return np_fail(error, ENOSPC, "share %s: no usable disk left in the inventory: %s", name, why);
                }
        }

        g_autofree char *device = NULL;
        r = resolve_device(source, &device, error);
        if (r < 0)
                return r;
        *ret_source = g_strdup(source);
        *ret_ino = 0;
        *ret_device = TAKE_PTR(device);
        return 0;
}

/* The block device at source: its canonical node. -ENOENT when missing. */
static int device_at(const char *source, char **ret_device, GError **error) {
        struct stat st;
        if (stat(source, &st) < 0) {
                if (errno == ENOENT)
                        return np_fail(error, ENOENT, "disk %s is missing", source);
                return np_fail(error, errno, "disk %s: cannot stat: %s", source, g_strerror(errno));
        }
        if (!S_ISBLK(st.st_mode))
                return np_fail(error, ENOTBLK, "disk %s is not a block device", source);
        return resolve_device(source, ret_device, error);
}

/* The inventory entry (other than `except`) whose device carries the filesystem fs_uuid. */
static const char *inventory_holding(const DiskContext *ctx, const char *fs_uuid, const char *except) {
        for (char **i = ctx->inventory; i && *i; i++) {
                if (disk_same_source(*i, except))
                        continue;
                g_autofree char *uuid = NULL;
                if (disk_fs_uuid(*i, &uuid, NULL, NULL) >= 0 && uuid && g_ascii_strcasecmp(uuid, fs_uuid) == 0)
                        return *i;
        }
        return NULL;
}

/* Where the share's disk is now: the device at d->source when it carries the share's
 * filesystem (or nothing is recorded to check yet), else the inventory device that carries it.
 * -ENOENT: no device at d->source and none carries it; -ESTALE: d->source carries something
 * else and no inventory device carries the share's filesystem. */
static int locate(const DiskContext *ctx, const DiskRef *d, char **ret_device, const char **ret_source,
                  GError **error) {
        g_autofree char *device = NULL;
        g_autoptr(GError) missing = NULL;
        int r = device_at(d->source, &device, &missing);
        if (r < 0 && r != -ENOENT)
                return np_fail_prefix(error, g_steal_pointer(&missing), "share %s", d->share);
        g_autofree char *uuid = NULL, *desc = NULL;
        if (r >= 0) {
                if (!d->fs_uuid) {
                        *ret_device = TAKE_PTR(device);
                        *ret_source = d->source;
                        return 0;
                }
                r = disk_fs_uuid(device, &uuid, &desc, error);
                if (r < 0)
                        return r;
                if (uuid && g_ascii_strcasecmp(uuid, d->fs_uuid) == 0) {
                        *ret_device = TAKE_PTR(device);
                        *ret_source = d->source;
                        return 0;
                }
        }
        const char *moved = d->fs_uuid ? inventory_holding(ctx, d->fs_uuid, d->source) : NULL;
        if (moved) {
                r = resolve_device(moved, ret_device, error);
                if (r < 0)
                        return r;
                *ret_source = moved;
                return 0;
        }
        if (device && !desc) {
                /* blank, and no other disk carries the filesystem: not formatted yet */
                *ret_device = TAKE_PTR(device);
                *ret_source = d->source;
                return 0;
        }
        if (!device)
                return np_fail(error, ENOENT, "disk %s of share %s is missing and no disk of the inventory carries its filesystem (UUID=%s)",
                               d->source, d->share, d->fs_uuid ? d->fs_uuid : "none");
        return np_fail(error, ESTALE, "disk %s carries %s, not share %s's filesystem (UUID=%s), and no disk of the inventory carries it (device names can change across reboots)",
                       d->source, desc, d->share, d->fs_uuid);
}

static int block_attach(const DiskContext *ctx, const DiskRef *d, char **ret_device, char **ret_source,
                        GError **error) {
        g_autofree char *device = NULL;
        const char *source = NULL;
        int r = locate(ctx, d, &device, &source, error);
        if (r < 0)
                return r;
        if (ret_source)
                *ret_source = g_strdup(source);
        *ret_device = TAKE_PTR(device);
        return 0;
}

static int block_grow(const DiskContext *ctx, const DiskRef *d, const char *device, uint64_t new_size,
                      GError **error) {
        g_autofree char *found = NULL;
        const char *source = NULL;
        int r = 0;
        if (!device) {
                r = locate(ctx, d, &found, &source, error);
                if (r < 0)
                        return r;
                device = found;
        }
        uint64_t have;
        r = disk_device_size(device, &have, error);
        if (r < 0)
                return r;
        if (have < new_size)
                return np_fail(error, ENOSPC, "disk %s holds %" PRIu64 " bytes, less than %" PRIu64 ": grow the disk first (outside nfsprov)",
                               d->source, have, new_size);
        return 0;
}

static int block_release(const DiskContext *ctx, const DiskRef *d, bool wipe, GError **error) {
        if (!wipe)
                return 0; /* never formatted by nfsprov: nothing of the share's is on it */
        g_autofree char *device = NULL;
        const char *source = NULL;
        g_autoptr(GError) e = NULL;
        int r = locate(ctx, d, &device, &source, &e);
        if (r == -ENOENT)
                return 0; /* the disk is gone: nothing left to wipe */
        if (r < 0)
                return np_fail_prefix(error, g_steal_pointer(&e), "cannot release the disk of share %s", d->share);
        r = disk_check_unused(device, &e);
        if (r >= 0)
                r = disk_wipe_share(device, d->share, d->fs_uuid, &e);
        if (r < 0)
                return np_fail_prefix(error, g_steal_pointer(&e), "disk %s: cannot release it", source);
        return 0;
}

static int block_size(const DiskContext *ctx, const DiskRef *d, uint64_t *ret_size, GError **error) {
        g_autofree char *device = NULL;
        const char *source = NULL;
        int r = locate(ctx, d, &device, &source, error);
        if (r < 0)
                return r;
        return disk_device_size(device, ret_size, error);
}

static int block_device_now(const DiskContext *ctx, const DiskRef *d, char **ret_device, GError **error) {
        const char *source = NULL;
        return locate(ctx, d, ret_device, &source, error);
}

const DiskBackend disk_backend_disk = {
        .name = "disk",
        .flags = DISK_TAKES_DEVICE,
        .validate = block_validate,
        .allocate = block_allocate,
        .attach = block_attach,
        .grow = block_grow,
        .release = block_release,
        .size = block_size,
        .device_now = block_device_now,
};

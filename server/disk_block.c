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
                return np_fail(error, EBUSY, "%s is already the disk of another share", device);
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

static int resolve_device(const char *source, char **ret_device, GError **error) {
        char *canon = realpath(source, NULL);
        if (!canon)
                return np_fail(error, errno, "disk %s: cannot resolve it: %s", source, g_strerror(errno));
        *ret_device = g_strdup(canon);
        free(canon);
        return 0;
}

static char *inventory_text(const DiskContext *ctx) {
        if (!ctx->inventory || !*ctx->inventory)
                return g_strdup("empty");
        return g_strjoinv(", ", ctx->inventory);
}

static int block_allocate(const DiskContext *ctx, const char *name, uint64_t size, const char *requested, bool force,
                          char **ret_source, char **ret_device, GError **error) {
        int r = name_validate_share(name, error);
        if (r < 0)
                return r;
        if (!ctx || !ctx->inventory || !*ctx->inventory)
                return np_fail(error, ENOSPC, "share %s: the disk inventory is empty: list the disks nfsprov may use in the configuration",
                               name);

        const char *source = NULL;
        if (requested) {
                source = inventory_entry(ctx, requested);
                if (!source) {
                        g_autofree char *inv = inventory_text(ctx);
                        return np_fail(error, EINVAL, "share %s: %s is not in the disk inventory (%s); only those disks may be used",
                                       name, requested, inv);
                }
                g_autoptr(GError) e = NULL;
                r = check_usable(ctx, requested, size, force, &e);
                if (r == -EEXIST)
                        return np_fail(error, EEXIST, "share %s: cannot take %s: %s (force overwrites it)", name,
                                       requested, e->message);
                if (r < 0)
                        return np_fail_prefix(error, g_steal_pointer(&e), "share %s: cannot take %s", name, requested);
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
        *ret_device = TAKE_PTR(device);
        return 0;
}

static int block_attach(const DiskContext *ctx, const char *source, char **ret_device, GError **error) {
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

static int block_grow(const DiskContext *ctx, const char *source, const char *device, uint64_t new_size,
                      GError **error) {
        uint64_t have;
        int r = disk_device_size(device ? device : source, &have, error);
        if (r < 0)
                return r;
        if (have < new_size)
                return np_fail(error, ENOSPC, "disk %s holds %" PRIu64 " bytes, less than %" PRIu64 ": grow the disk first (outside nfsprov)",
                               source, have, new_size);
        return 0;
}

static int block_release(const DiskContext *ctx, const char *source, GError **error) {
        g_autoptr(GError) e = NULL;
        int r = disk_check_unused(source, &e);
        if (r < 0)
                return np_fail_prefix(error, g_steal_pointer(&e), "disk %s: cannot release it", source);
        r = disk_wipe(source, &e);
        if (r < 0)
                return np_fail_prefix(error, g_steal_pointer(&e), "disk %s: cannot release it", source);
        return 0;
}

static int block_size(const DiskContext *ctx, const char *source, uint64_t *ret_size, GError **error) {
        struct stat st;
        if (stat(source, &st) < 0)
                return np_fail(error, errno, "disk %s: cannot stat: %s", source, g_strerror(errno));
        if (!S_ISBLK(st.st_mode))
                return np_fail(error, ENOTBLK, "disk %s is not a block device", source);
        return disk_device_size(source, ret_size, error);
}

const DiskBackend disk_backend_disk = {
        .name = "disk",
        .allocate = block_allocate,
        .attach = block_attach,
        .grow = block_grow,
        .release = block_release,
        .size = block_size,
};

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <libmount.h>

#include "error.h"
#include "macro.h"
#include "target_mount.h"

static void mnt_table_unref(struct libmnt_table *t) {
        mnt_unref_table(t);
}
typedef struct libmnt_table MntTable;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MntTable, mnt_table_unref)

char *target_mount_source(const PoolDef *def) {
        g_return_val_if_fail(def && def->host && def->source_dir, NULL);
        if (strchr(def->host, ':'))
                return g_strdup_printf("[%s]:%s", def->host, def->source_dir);
        return g_strdup_printf("%s:%s", def->host, def->source_dir);
}

int target_mount_lookup(const char *mountinfo, const PoolDef *def, bool *ret_mounted, char **ret_source,
                        GError **error) {
        g_return_val_if_fail(def && def->target_path && ret_mounted && ret_source, -EINVAL);
        const char *path = mountinfo ? mountinfo : "/proc/self/mountinfo";

        g_autoptr(MntTable) tb = mnt_new_table();
        if (!tb)
                return np_fail(error, ENOMEM, "cannot allocate a mount table");
        int r = mnt_table_parse_file(tb, path);
        if (r < 0)
                return np_fail(error, -r, "cannot read the mount table %s: %s", path, g_strerror(-r));

        /* Exact path first (cheap); the canonical form covers a target given with "//" or "/./". */
        struct libmnt_fs *fs = mnt_table_find_target(tb, def->target_path, MNT_ITER_BACKWARD);
        if (!fs) {
                g_autofree char *canon = g_canonicalize_filename(def->target_path, "/");
                fs = mnt_table_find_target(tb, canon, MNT_ITER_BACKWARD);
        }
        if (!fs) {
                *ret_mounted = false;
                *ret_source = NULL;
                return 0;
        }
        *ret_mounted = true;
        *ret_source = g_strdup(mnt_fs_get_source(fs) ?: "");
        return 0;
}

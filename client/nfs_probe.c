/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <nfsc/libnfs.h>
#include <nfsc/libnfs-raw-nfs.h> /* NFS_V3 */

#include "error.h"
#include "macro.h"
#include "nfs_probe.h"

static void nfs_context_unref(struct nfs_context *n) {
        if (n)
                nfs_destroy_context(n);
}
typedef struct nfs_context NfsContext;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NfsContext, nfs_context_unref)

int nfs_probe(const PoolDef *def, int timeout_ms, GError **error) {
        g_return_val_if_fail(def && def->host && def->source_dir, -EINVAL);

        g_autoptr(NfsContext) nfs = nfs_init_context();
        if (!nfs)
                return np_fail(error, ENOMEM, "NFSv3 preflight: cannot create a libnfs context");
        nfs_set_version(nfs, NFS_V3);
        nfs_set_timeout(nfs, timeout_ms > 0 ? timeout_ms : 10000);
        nfs_set_uid(nfs, 0);
        nfs_set_gid(nfs, 0);

        int r = nfs_mount(nfs, def->host, def->source_dir);
        if (r < 0) {
                const char *why = nfs_get_error(nfs);
                return np_fail(error, r == -ENOENT || r == -EACCES ? -r : EHOSTUNREACH,
                               "NFSv3 preflight: %s:%s cannot be mounted over NFSv3 from this host: %s", def->host,
                               def->source_dir, why && *why ? why : g_strerror(-r));
        }
        int mask = nfs_access2(nfs, "/");
        int errnum = 0;
        g_autofree char *msg = NULL;
        if (mask < 0) {
                errnum = -mask;
                msg = g_strdup_printf("NFSv3 preflight: %s:%s: ACCESS failed: %s", def->host, def->source_dir,
                                      nfs_get_error(nfs) ?: g_strerror(-mask));
        } else if ((mask & (R_OK | W_OK | X_OK)) != (R_OK | W_OK | X_OK)) {
                errnum = EACCES;
                msg = g_strdup_printf("NFSv3 preflight: %s:%s is mounted over NFSv3, but root on this host has %s%s%s "
                                      "access to it, not read-write (is it exported read-only or with root_squash? "
                                      "nfsprov exports rw,no_root_squash)",
                                      def->host, def->source_dir, mask & R_OK ? "r" : "-", mask & W_OK ? "w" : "-",
                                      mask & X_OK ? "x" : "-");
        }
        (void) nfs_umount(nfs);
        if (errnum)
                return np_fail(error, errnum, "%s", msg);
        return 0;
}

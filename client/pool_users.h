/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Which running domain uses a pool: the check behind the promise that `sync --fix` never
 * restarts (unmounts) a pool a running domain depends on.
 *
 * A running domain uses the pool when its live XML (libvirt fills in each disk's backing chain
 * there) has
 *   - a volume of the pool by reference: <source pool='NAME' .../>;
 *   - a path in or under the pool's target path: the file, dir, dev or path attribute of any
 *     <source> element in <devices> (each disk, every <backingStore> of its chain, <filesystem>
 *     devices (9p, virtiofs), serial/console/channel log files, ...), and <os>'s kernel, initrd,
 *     loader, nvram and dtb;
 *   - a directory source (<filesystem>, a dir disk) that holds the target: sharing a parent of
 *     the target passes the pool's mount into the guest.
 * Paths are compared as written after lexical normalisation (path_normalize), then after
 * resolving symbolic links component by component, outside the pool's target only: the walk stops
 * where it reaches the target (as written, or its real location: its parent directory resolved),
 * so the pool's own mount is never touched. That resolution runs in a worker thread bounded by a
 * timeout, because any other dead NFS mount on the way can block lstat() for ever: a path not
 * resolved in time counts as a use ("cannot tell"), so that not knowing never leads to a restart.
 * The thread of a timed-out walk is left behind (it ends when its lstat() returns, or with the
 * process).
 */
#pragma once

#include <stdbool.h>

#include <glib.h>

#include "host_pools.h"

#define POOL_USERS_TIMEOUT_MS 5000

typedef struct PoolUse {
        char *domain;  /* the running domain's name */
        char *what;    /* one phrase: "disk /t/P/vm.qcow2", "backing file /t/P/base.qcow2",
                        * "filesystem /t/P", "volume P/vm.qcow2", or, when unsure, "a path that could
                        * not be resolved within 5000 ms: /x/y" */
        bool unsure;   /* the walk timed out: it may or may not use the pool */
} PoolUse;

void pool_use_free(PoolUse *u);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PoolUse, pool_use_free)

/* Whether a running domain on this connection uses pool `p` (its persistent and its running
 * target path both count). *ret_use: the first use found (definite ones before unsure ones), or
 * NULL when no running domain uses the pool. When the connection has no domains to ask (a
 * storage-only daemon), *ret_known is false and *ret_use NULL: the caller then relies on libvirt
 * and the kernel refusing to stop a busy pool. timeout_ms bounds the symbolic link walk (0:
 * POOL_USERS_TIMEOUT_MS). -errno with libvirt's text when the domains cannot be listed or read. */
int pool_users_find(Host *h, const HostPool *p, int timeout_ms, bool *ret_known, PoolUse **ret_use,
                    GError **error);

/* The lexical normal form of an absolute path: "//" and "/./" collapsed, "DIR/.." removed (".."
 * at the root stays at the root), no trailing "/". No file system access. NULL when `path` is
 * not absolute. */
char *path_normalize(const char *path);

/* For tests only: replace the walk that resolves one path (stops: NULL-terminated, the pool's
 * target paths, where the walk must stop) with `fn`, e.g. one that blocks to simulate a dead
 * mount. NULL restores the real walk. */
typedef char *(*PathResolver)(const char *path, const char *const *stops);
void pool_users_set_resolver(PathResolver fn);

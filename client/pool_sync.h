/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Make one server-defined pool exist on this host as the server defines it.
 *
 * Per pool (see pool_check.h for the checks):
 *   conflict                  -> nothing is done; reported.
 *   not defined               -> define (persistent), autostart, build (target dir), start.
 *   definition differs (drift) -> without fix: reported, nothing done; with fix: redefine from
 *                                the server's definition, then restart it if it is active.
 *   transient                 -> define (makes it persistent).
 *   autostart off             -> autostart.
 *   inactive                  -> start (build first when the target directory is missing).
 *   active, target not mounted from HOST:DIR -> without fix: reported; with fix: restart.
 * A restart (stop + start) happens only with fix, and only when no running domain uses the pool
 * (pool_users_find: disks and their backing chains, filesystems, ... however their paths are
 * spelled; a domain that may use it counts); libvirt and the kernel also refuse to stop a busy
 * pool, and that refusal is reported as the failure. After acting, the pool is read back and checked again: a
 * start that libvirt reports done but whose target is not mounted is a failure.
 * A pool whose start fails stays defined and autostarted (libvirtd and the next sync retry it).
 * With nfs_check, a pool that would be defined, started or restarted is first probed over NFSv3
 * from this host (nfs_probe): when the export is not served rw to root, nothing is done to the
 * pool and it is a failure with the probe's line (also under dry_run).
 * Last, a pool that is active and mounted from HOST:DIR (and not a conflict or a failure) is
 * refreshed (virStoragePoolRefresh), so libvirt's volume list is what the share holds now; that
 * is not an action (a pool whose only change is a refresh is in sync), and a refresh that libvirt
 * refuses is a failure ("refresh: libvirt's text").
 * With unchanged (the servers' definitions are the ones of the last sync, ETag and 304), a pool
 * that needs no action is not refreshed: nothing on the server changed its volumes; the checks
 * and any action a failed check needs are the same as without.
 * Under dry_run nothing is changed and the planned actions are returned.
 */
#pragma once

#include <stdbool.h>

#include <glib.h>

#include "host_pools.h"
#include "pool_check.h"
#include "server_pools.h"

typedef struct SyncOptions {
        bool dry_run;
        bool fix;
        const char *mountinfo; /* NULL: /proc/self/mountinfo */
        bool nfs_check;        /* NFSv3 preflight (nfs_probe) before a pool is defined or (re)started */
        int users_timeout_ms;  /* bound of pool_users_find's path walk; 0: POOL_USERS_TIMEOUT_MS */
        bool unchanged;        /* the definitions are those of the last sync (the servers answered 304):
                                * a pool that passes every check is not refreshed either */
} SyncOptions;

typedef enum SyncStatus {
        SYNC_IN_SYNC,      /* nothing to do */
        SYNC_CHANGED,      /* actions done, the pool now passes every check */
        SYNC_WOULD_CHANGE, /* dry run: actions planned */
        SYNC_DRIFT,        /* problems left (drift without fix, a busy pool that needs a restart) */
        SYNC_CONFLICT,
        SYNC_FAILED,       /* an action failed, or the pool fails a check after the actions */
} SyncStatus;

/* "in-sync", "changed", "would-change", "drift", "conflict", "failed" */
const char *sync_status_to_string(SyncStatus s);

typedef struct SyncResult {
        char *name;
        char *uuid;
        char *server;
        SyncStatus status;
        GPtrArray *actions;   /* const char*: "define", "autostart", "build", "start", "redefine", "restart" */
        PoolStatus *checks;   /* the checks after the actions (before them, under dry run) */
        char *note;           /* why a needed action was not taken (restart of a busy pool), or NULL */
        char *error;          /* SYNC_FAILED: "ACTION: libvirt's text" or why the check failed */
        bool refreshed;       /* the pool was refreshed at the end */
} SyncResult;

void sync_result_free(SyncResult *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SyncResult, sync_result_free)

/* Sync `w` on host `h`. `host_pools` (GPtrArray of HostPool*) is this host's pool list; it is
 * updated in place with the pool as read back after the actions, so the next pool's conflict
 * checks see it. Returns -errno only when the host cannot be read at all (lost connection,
 * unreadable mount table); a pool's own failure is a SyncResult with SYNC_FAILED. */
int pool_sync(Host *h, const WantedPool *w, GPtrArray *host_pools, const SyncOptions *opts, SyncResult **ret,
              GError **error);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The share lifecycle: create, delete, resize, reconcile (design: "The share lifecycle").
 *
 * Every operation is a sequence of idempotent steps, each recorded in the state DB before it
 * runs (state_step_begin) and after it finished (state_step_done), so a crash at any point leaves
 * a state reconcile can finish or undo:
 *   create: validate -> row(status=creating) -> allocate -> mkfs -> mkdir -> mount -> chown ->
 *           fstab -> export -> apply -> status=ready. A failure undoes the finished steps in
 *           reverse; a crashed create is undone by reconcile.
 *   delete: status=deleting -> check-empty -> unexport -> apply -> umount -> fstab -> release ->
 *           rmdir -> row gone. A crashed delete is finished by reconcile.
 *   resize: status=resizing -> grow -> (online resize2fs, or offline: unexport -> apply -> umount
 *           -> e2fsck -> resize2fs -> mount -> export -> apply) -> status=ready. A crashed resize
 *           is finished by reconcile.
 *   reconcile: for every share: disk attached, filesystem found by UUID, mounted, then exported;
 *           the exports block and fstab entries derived from the state.
 *
 * Fault injection (tests): NFSPROV_FAULT=STEP makes the process abort() right after recording
 * the start of step STEP; NFSPROV_FAULT=STEP:after right after the step ran, before recording
 * that it finished. STEP is "OPERATION:STEP", e.g. "create:mkfs" or "delete:umount:after".
 *
 * All engine functions are serialized by the caller (one at a time); they are not thread-safe.
 * Errors: -EINVAL bad input (nothing changed), -ENOENT no such share, -EEXIST a share of that
 * name with another spec / a disk in use, -ENOTEMPTY delete of a share holding files, -EBUSY
 * another operation is in progress on the share; anything else: the operation failed (and was
 * undone). Messages are one line: "create NAME: step mkfs failed: ...; undone".
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "pooldef.h"
#include "settings.h" /* Config (server/settings.h: nfsprov.conf) */
#include "state.h"

typedef struct Engine Engine;

/* Check [server] address against the local addresses (libnl) and open the state under
 * config->state_dir. Does not reconcile. On success the engine owns config; on failure the
 * caller still does. */
int engine_new(Config *config, Engine **ret, GError **error);
void engine_free(Engine *e);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Engine, engine_free)

/* Called (in the engine's thread) each time a step of an operation starts, right after it was
 * recorded: op "create"/"delete"/"resize", step e.g. "mkfs". NULL turns it off. */
typedef void (*EngineProgress)(const char *op, const char *step, void *userdata);
void engine_set_progress(Engine *e, EngineProgress cb, void *userdata);

/* Replace the configuration (SIGHUP). Keys that cannot change while shares exist (base,
 * state_dir, backend, image_dir, exports file, fstab) are refused with -EINVAL. */
int engine_set_config(Engine *e, Config *config, GError **error);
const Config *engine_config(const Engine *e);

typedef struct ShareSpec {
        const char *name;
        uint64_t size;          /* bytes; required for backend image, optional for disk */
        const char *disk;       /* backend disk: the device to use; NULL = pick a blank one */
        char **clients;         /* NULL = the configured clients */
        bool force;             /* use a disk that is not blank */
} ShareSpec;

/* A share as the API and the CLI show it: the recorded row plus what is true now. */
typedef struct ShareInfo {
        Share *share;
        char **clients;         /* the share's export clients, parsed */
        char *export_path;      /* BASE/NAME */
        char *device;           /* block device now, NULL when not attached */
        bool mounted;
        bool exported;          /* in nfsprov's exports block */
        bool has_usage;         /* statvfs numbers below are valid (mounted) */
        uint64_t capacity, used, available;
} ShareInfo;
void share_info_free(ShareInfo *i);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ShareInfo, share_info_free)

/* Create a share. *ret_created = false when a share of that name with the same spec exists
 * (nothing changed). */
int engine_create(Engine *e, const ShareSpec *spec, ShareInfo **ret, bool *ret_created, GError **error);
/* Delete a share; refused with -ENOTEMPTY when it holds anything but lost+found, unless force. */
int engine_delete(Engine *e, const char *name, bool force, GError **error);
/* Grow a share to new_size bytes (-EINVAL when not larger). *ret_offline says whether the
 * filesystem had to be unmounted (the kernel refused an online resize). */
int engine_resize(Engine *e, const char *name, uint64_t new_size, ShareInfo **ret, bool *ret_offline,
                  GError **error);
int engine_get(Engine *e, const char *name, ShareInfo **ret, GError **error);
/* All shares, ordered by name (ShareInfo*). */
int engine_list(Engine *e, GPtrArray **ret, GError **error);

/* The libvirt pool definition of a share, with live sizes. host: the configured address, or
 * host_hint (the local address a client reached us on) when none is configured. */
int engine_pooldef(Engine *e, const char *name, const char *host_hint, PoolDef **ret, GError **error);
/* The same from a ShareInfo already read (engine_list), without reading the share again. */
int engine_pooldef_of(Engine *e, const ShareInfo *info, const char *host_hint, PoolDef **ret, GError **error);

typedef struct ReconcileReport {
        GPtrArray *changes;   /* char*: "NFSStorage_01: attached /var/lib/nfsprov/images/NFSStorage_01.img on /dev/loop3" */
        GPtrArray *problems;  /* char*: what could not be fixed, one line each */
        int64_t finished_at;  /* unix seconds */
} ReconcileReport;
void reconcile_report_free(ReconcileReport *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ReconcileReport, reconcile_report_free)

/* Make reality match the state (see above). Returns 0 even when problems remain (they are in
 * the report); < 0 only when the state cannot be read. */
int engine_reconcile(Engine *e, ReconcileReport **ret, GError **error);

/* Whether the NFS server configuration serves NFSv3 (and not v4): nfs-config. */
typedef struct EngineNfsConfig {
        char *file;                 /* the nfs.conf checked */
        bool vers3, vers4, ok;
        bool changed;               /* apply changed the file */
        char *problem;              /* what is wrong, NULL when ok */
        char *proc_versions;        /* what the running kernel server reports; NULL when none runs */
        bool has_sysconfig;         /* the older distributions' /etc/sysconfig/nfs exists */
        bool sysconfig_v4_disabled; /* ... and turns NFSv4 off (RPCNFSDARGS="-N 4") */
} EngineNfsConfig;
void engine_nfs_config_clear(EngineNfsConfig *c);

/* With apply, set [nfsd] vers3=y vers4=n in the configured nfs_conf first. */
int engine_nfs_config(Engine *e, bool apply, EngineNfsConfig *ret, GError **error);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The share lifecycle: create, delete, resize, reconcile (design: "The share lifecycle").
 *
 * Every operation is a table of idempotent steps run by the one step runner (server/steps.h),
 * which records each step in the state DB before it runs and after it finished, so a crash at
 * any point leaves a state reconcile can finish or undo (`nfsprovd --steps` lists the tables):
 *   create: validate (nothing recorded) -> row(status=creating) -> allocate -> mkfs -> mkdir ->
 *           mount -> chown -> fstab -> export -> apply -> guard -> status=ready. A failure undoes the
 *           steps that began, in reverse; a crashed create is undone by reconcile.
 *   delete: checks (mounted and empty unless forced; the disk is the share's) -> status=deleting
 *           -> unexport -> umount -> fstab -> release -> rmdir -> row gone. A crashed delete is
 *           finished by reconcile.
 *   resize: status=resizing -> grow -> resize-online, or, when the kernel refuses it (or the
 *           share is not mounted): unexport -> umount -> e2fsck -> resize2fs -> mount -> export
 *           -> status=ready. A crashed resize is finished by reconcile.
 *   reconcile: for every share: attach, mkdir, mount, fstab, guard, each run (and recorded in
 *           the share's journal) only when needed; then every export derived from the state.
 *   guard:  the share's mode recorded -> guard (the root's immutable attribute set for enforce,
 *           cleared otherwise; server/engine_guard.c). A crash between the two is finished by
 *           reconcile's guard repair.
 *
 * What the engine acts on is three tables (EngineSystem): the disk backend (server/disk.h),
 * the export server (server/export_server.h) and the host's filesystem operations
 * (server/share_fs.h). The engine never compares a backend's or a server's name.
 *
 * Fault injection (tests): NFSPROV_FAULT=OP:STEP kills the process right after recording the
 * start of a step; OP:STEP:after right after the step ran, before recording that it finished.
 * NFSPROV_FAULT_FILE=PATH: the same for the point named by PATH's first line (server/steps.h).
 *
 * All engine functions are serialized by the caller (one at a time); they are not thread-safe.
 * Errors: -EINVAL bad input (nothing changed), -ENOENT no such share, -EEXIST a share of that
 * name with another spec / a disk in use, -ENOTEMPTY delete of a share holding files, -EBUSY
 * another operation is in progress on the share, -ESTALE the share's disk is not where it was
 * recorded (nothing changed); anything else: the operation failed (and was undone, or is
 * finished by reconcile). Messages are one line: "create NAME: step mkfs failed: ...; undone".
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "disk.h"
#include "export_server.h"
#include "findings.h"
#include "guard_mode.h"
#include "pooldef.h"
#include "settings.h" /* Config (server/settings.h: nfsprov.conf) */
#include "share_fs.h"
#include "state.h"

typedef struct Engine Engine;

/* What the engine acts on. */
typedef struct EngineSystem {
        const DiskBackend *(*disk_backend)(const char *name); /* the backend a share was made with */
        const ExportServer *exports;
        const ShareFs *fs;
} EngineSystem;

/* This host: disk_backend_by_name, export_server_kernel, share_fs_host. engine_new() uses it with
 * the export server [exports] server names (export_server_by_name). */
extern const EngineSystem engine_system_host;

/* Check [server] address against the local addresses (libnl) and open the state under
 * config->state_dir. Does not reconcile. On success the engine owns config; on failure the
 * caller still does. engine_new() acts on this host; engine_new_with() on sys (tests). */
int engine_new(Config *config, Engine **ret, GError **error);
int engine_new_with(Config *config, const EngineSystem *sys, Engine **ret, GError **error);
void engine_free(Engine *e);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Engine, engine_free)

/* Called (in the engine's thread) each time a step of an operation starts, right after it was
 * recorded: op "create"/"delete"/"resize", step e.g. "mkfs", its number from 1 and the number
 * of steps the operation takes (from its table; a resize that has to go offline raises it).
 * NULL turns it off. */
typedef void (*EngineProgress)(const char *op, const char *step, unsigned index, unsigned total, void *userdata);
void engine_set_progress(Engine *e, EngineProgress cb, void *userdata);

/* Replace the configuration (SIGHUP). Keys that cannot change while shares exist (base,
 * state_dir, backend, image_dir, the export server, its file, fstab) are refused with -EINVAL. */
int engine_set_config(Engine *e, Config *config, GError **error);
const Config *engine_config(const Engine *e);

typedef struct ShareSpec {
        const char *name;
        uint64_t size;          /* bytes; required for backend image, optional for disk */
        const char *disk;       /* backend disk: the device to use; NULL = pick a blank one */
        char **clients;         /* NULL = the configured clients */
        bool force;             /* use a disk that is not blank */
        const char *guard;      /* the guard's mode (server/guard_mode.h); NULL = [shares] guard */
} ShareSpec;

/* A share as the API and the CLI show it: the recorded row plus what is true now. */
typedef struct ShareInfo {
        Share *share;
        char **clients;         /* the share's export clients, parsed */
        char *export_path;      /* BASE/NAME */
        char *device;           /* block device now, NULL when not attached */
        bool mounted;
        bool exported;          /* in nfsprov's exports block (the export server's file) */
        bool served;            /* served by the export server now (kernel: exportfs's table;
                                 * ganesha: ShowExports; false when Ganesha is not running) */
        bool has_usage;         /* statvfs numbers below are valid (mounted) */
        uint64_t capacity, used, available;
        GPtrArray *volumes;     /* Volume*: the manifest of the share, by name (NULL: unreadable) */
        uint64_t provisioned;   /* the sum of their virtual sizes */
        GuardMode guard;        /* its mode (its own, else [shares] guard) */
        GuardMode guard_active; /* what runs: detect when enforce cannot set the attribute here */
        char *guard_note;       /* why enforce runs as detect; NULL */
        bool guard_protected;   /* the mounted root carries the immutable attribute now */
        Findings *findings;     /* its last audit (a reference); NULL: not audited (or guard off) */
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
/* Set the share's guard mode (a name of server/guard_mode.h; -EINVAL otherwise) and bring its
 * root's attribute to it. The share must be ready (-EBUSY otherwise). */
int engine_set_guard(Engine *e, const char *name, const char *mode, ShareInfo **ret, GError **error);
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
/* The exports alone (the last part of reconcile): every ready, mounted share set with the export
 * server, every other path nfsprov listed removed, applied; the report says what the server
 * serves now that it did not before, and the reverse. For an export server that came (back):
 * server/export_watch.h. Never fails: problems are in the report. */
ReconcileReport *engine_reconcile_exports(Engine *e);

/* The export server's configuration (nfs-config): does it serve NFSv3 (and not v4)? With
 * apply, make it so first. */
int engine_nfs_config(Engine *e, bool apply, ExportServerConfig *ret, GError **error);
/* What serves the shares (for show, nfs-config and metrics). */
const ExportServer *engine_export_server(const Engine *e);

/* The step tables, one line each: "create: allocate mkfs ...", the volumes' too. */
void engine_steps(GPtrArray **ret_lines);
/* How many steps an operation ("create", "delete", "resize") runs; for resize, the online
 * path's (the offline path raises the total as it is taken). */
unsigned engine_op_total(const char *op);

/* ---- the guard's audit (server/engine_audit.c) ----
 * A share's mounted tree compared with its manifest (server/audit.h); the findings are kept per
 * share (server/findings.h) until the next audit, and shown with the share (ShareInfo.findings:
 * a ready share with findings is "tainted" to the API and the CLI). */

/* Audit share (NULL: every share) now. A share in mode off, or not ready, has no findings; one
 * that cannot be read keeps its last findings with the error. One log line per new and per
 * resolved finding (at most 10 of each per share and audit, then a count). *ret_changed (may
 * be NULL): some share's findings changed. < 0 only when the state cannot be read. */
int engine_audit(Engine *e, const char *share, bool *ret_changed, GError **error);
/* Remove the foreign entry PATH (relative to the share's root, as the audit names it) with all it
 * holds, at any depth (issue 12, "Resolution"; server/engine_guard.c), journaled (step table
 * guard-remove, the entry's identity in its entries' note, so that reconcile finishes a removal
 * that stopped), then audit the share. Never a volume (by name, or a file by its inode),
 * lost+found or nfsprov's own temporary file; no symbolic link is followed and no other
 * filesystem or mount entered: -EINVAL before anything changes, also for an entry of another
 * kind than the last audit found at PATH; -EBUSY when a volume's hard link or a mount point
 * inside stops the removal. Gone already: 0. */
int engine_remove_foreign(Engine *e, const char *share, const char *path, GError **error);
/* Quarantine the foreign entry PATH (a regular file or a symbolic link, never followed; a
 * directory is refused with -EINVAL) of the share (issue 12, "Resolution"; server/
 * engine_quarantine.c): copied to STATE_DIR/quarantine/SHARE/NAME (root, 0600, fsynced), then the
 * original removed when it is still the inode, size and mtime recorded before the copy
 * (otherwise -ESTALE: the copy stays as the item, the original in place, and the message says
 * so); then the share is audited. Refusals as engine_remove_foreign's, and -EINVAL for no such
 * entry. *ret: the item (may be NULL). Step table quarantine: copy, remove. */
int engine_quarantine(Engine *e, const char *share, const char *path, QuarantineItem **ret, GError **error);
/* Put the quarantined item NAME back at its path, with its owner, mode and mtime (it is foreign
 * again). -EINVAL for an unknown NAME or when the path's directory no longer exists, -EEXIST when
 * something is at the path. Step table restore: copy, place, remove. *ret: the item as it was. */
int engine_restore(Engine *e, const char *share, const char *name, QuarantineItem **ret, GError **error);
/* The quarantined items (QuarantineItem*), of one share or (NULL) all, by share and name. Items
 * outlive their share. */
int engine_quarantine_list(Engine *e, const char *share, GPtrArray **ret, GError **error);
/* STATE_DIR/quarantine/SHARE/NAME (newly allocated). */
char *engine_quarantine_file(Engine *e, const QuarantineItem *q);

/* The share's findings (a new reference); NULL when it has none recorded. */
Findings *engine_findings(Engine *e, const char *share);
/* The share's mounted root, opened O_DIRECTORY (for the live watch); -ENOENT when not mounted. */
int engine_share_root(Engine *e, const char *share, int *ret_fd, GError **error);

/* ---- volumes (server/engine_volumes.c) ----
 *
 * A volume is a qcow2 file (version 3, thin) at the root of a share, made only by these
 * operations and recorded in the manifest. Each is a step table with fault points (`nfsprovd
 * --steps`); the file is made under a temporary name and renamed into place once checked. The
 * share must be ready and mounted. Errors as for shares, and -EDQUOT when the share would pass
 * [volumes] max_overcommit (the numbers in the message). */

typedef struct VolumeSpec {
        const char *share, *name;
        uint64_t capacity;   /* bytes, a multiple of 512, <= [volumes] max_capacity; 0 with a backing: its capacity */
        const char *backing; /* a ready volume of the same share (a linked volume), or NULL */
} VolumeSpec;

typedef struct VolumeInfo {
        Volume *volume;      /* the manifest's row */
        bool present;        /* the file is there (the inode recorded) */
        uint64_t allocation; /* bytes it takes on the filesystem */
        uint64_t size;       /* bytes of the file */
} VolumeInfo;
void volume_info_free(VolumeInfo *i);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VolumeInfo, volume_info_free)

int engine_volume_create(Engine *e, const VolumeSpec *spec, VolumeInfo **ret, GError **error);
/* A full thin copy (qemu-img convert), or with linked, a new volume whose backing is source. */
/* Adopt the foreign file NAME at the share's root as a volume (issue 12, "Resolution"): a
 * regular file with one link that passes the checks of an upload (qcow2 header, capacity, a
 * backing that is a ready volume of the share, qemu-img check, the over-commit limit) is recorded
 * with what its header says and takes [volumes] owner, group and mode. -EEXIST when NAME is a
 * volume already; -EINVAL (nothing changed) when the file does not pass. Step table vol-adopt. */
int engine_volume_adopt(Engine *e, const char *share, const char *name, VolumeInfo **ret, GError **error);
int engine_volume_clone(Engine *e, const char *share, const char *source, const char *name, bool linked,
                        VolumeInfo **ret, GError **error);
/* Grow; shrinking needs shrink (and qemu-img may refuse it). */
int engine_volume_resize(Engine *e, const char *share, const char *name, uint64_t capacity, bool shrink,
                         VolumeInfo **ret, GError **error);
/* Refused (-EBUSY, naming them) while another volume has it as its backing. */
int engine_volume_delete(Engine *e, const char *share, const char *name, GError **error);
/* Afterwards a valid empty qcow2 of the same capacity (no backing) that reads as zeros; the old
 * data was overwritten with zeros and punched out before the replacement took its name. */
int engine_volume_wipe(Engine *e, const char *share, const char *name, VolumeInfo **ret, GError **error);
int engine_volume_get(Engine *e, const char *share, const char *name, VolumeInfo **ret, GError **error);
/* VolumeInfo*, by name. */
int engine_volume_list(Engine *e, const char *share, GPtrArray **ret, GError **error);

/* Upload: begin records the volume (creating) and makes its temporary file; the body goes in
 * with write (no engine call: may run while other operations do) and must be exactly `length`
 * bytes; finish checks it (a qcow2 nfsprov accepts: see server/qcow2.h) and puts it in place, or,
 * when incomplete or refused, removes everything (nothing is kept). free releases the handle. */
typedef struct VolumeUpload VolumeUpload;
int engine_volume_upload_begin(Engine *e, const char *share, const char *name, uint64_t length, VolumeUpload **ret,
                               GError **error);
int engine_volume_upload_write(VolumeUpload *u, const void *data, size_t len, GError **error);
int engine_volume_upload_finish(Engine *e, VolumeUpload *u, bool complete, VolumeInfo **ret, GError **error);
void volume_upload_free(VolumeUpload *u);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VolumeUpload, volume_upload_free)

/* Download: the volume's file, opened read-only (the recorded inode), and its size. */
int engine_volume_open(Engine *e, const char *share, const char *name, int *ret_fd, uint64_t *ret_size,
                       GError **error);

/* How many steps a volume operation ("vol-create", ...) runs. */
unsigned engine_volume_op_total(const char *op);

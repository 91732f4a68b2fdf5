/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the engine's files share with one another (engine.c: shares; engine_volumes.c: volumes)
 * and nothing else includes.
 */
#pragma once

#include "engine.h"

struct Engine {
        Config *config;
        State *state;
        EngineSystem sys;
        EngineProgress progress;
        void *progress_userdata;
        GHashTable *guard_notes; /* share -> why its guard enforce runs as detect (engine_guard.c) */
        GHashTable *findings;    /* share -> Findings*: its last audit (engine_audit.c) */
        GHashTable *audit_caches; /* share -> AuditCache*: the headers its audits checked */
};

/* The share called name. -ENOENT: "OP NAME: no such share"; a database error is passed on as
 * it is (an error of the server, never "not found"). op may be NULL. */
int engine_get_share(Engine *e, const char *op, const char *name, Share **ret, GError **error);
/* The share called name (validated), which must be ready: what every operation on an existing
 * share starts from. -EBUSY: "OP NAME: the share is STATUS (operation X at step Y); run `nfsprov
 * reconcile` and retry". */
int engine_get_ready_share(Engine *e, const char *op, const char *name, Share **ret, GError **error);

/* The StepRunner progress callback that forwards to engine_set_progress()'s (userdata: Engine). */
void engine_runner_progress(const char *op, const char *step, unsigned index, unsigned total, void *userdata);

/* engine_guard.c: the immutable attribute of share roots */

/* The share's guard mode: its own, else [shares] guard. */
GuardMode engine_guard_mode(const Engine *e, const Share *s);
/* Why the share's enforce runs as detect (the attribute cannot be set here); NULL: it does not. */
const char *engine_guard_note(const Engine *e, const char *share);
void engine_guard_forget(Engine *e, const char *share);
/* Whether the mounted share root's attribute differs from its mode (reconcile's repair). */
bool engine_guard_needed(Engine *e, const Share *s);
/* Bring the mounted root's attribute to the mode: set for enforce, cleared otherwise. Not
 * mounted: 0, nothing done. When enforce cannot set it (-EPERM, -EOPNOTSUPP) the reason is
 * noted and 0 returned: the share runs in detect mode. */
int engine_guard_apply(Engine *e, const Share *s, bool *ret_changed, GError **error);
/* Around one change of the root's entries by nfsprovd: lift the attribute of root (the share's
 * open root directory) if set (*ret_lifted), and put it back if it was lifted. */
int engine_guard_lift(Engine *e, const char *share, int root, bool *ret_lifted, GError **error);
int engine_guard_restore(Engine *e, const char *share, int root, bool lifted, GError **error);
/* engine_guard_restore at the end of a change that returned r: r, or restore's error when r
 * is 0 (restore's error is logged when r is an error already). */
int engine_guard_end_lift(Engine *e, const char *share, int root, bool lifted, int r, GError **error);
/* A TreeUnlinkFn (tree.h) for a removal whose top is an entry of the share's root: the attribute
 * lifted for the instant of that unlinkat. userdata: an EngineRoot. */
typedef struct EngineRoot {
        Engine *e;
        const char *share;
        int root; /* the share's open root directory */
} EngineRoot;
int engine_guard_unlink_lifted(void *userdata, int dir_fd, const char *name, int flags, GError **error);
/* guard-remove (nfsprov audit --remove; the design in engine_guard.c): what it removes is the
 * entry PATH had when the request was accepted, told by its inode and birth time (0.0: the
 * filesystem does not keep one). */
typedef struct GuardTarget {
        uint64_t ino;
        int64_t btime_sec;
        uint32_t btime_nsec;
} GuardTarget;
/* The entry PATH (relative to root, the share's open root; valid components, checked by the
 * caller) as a removal's target: 1 with *ret; 0 when it is not there. -EINVAL (one line, nothing
 * changed): a symbolic link or a mount point on the way or at PATH, a volume of the manifest (by
 * its inode), an entry of another kind than the share's last audit found at PATH. */
int engine_guard_target(Engine *e, const char *share, int root, const char *path, GuardTarget *ret, GError **error);
/* The note recorded with guard-remove's journal entries ("ino=N btime=S.NS path=PATH"), and back:
 * -EINVAL for a note that is not one; *ret_path points into note. */
char *engine_guard_target_note(const GuardTarget *t, const char *path);
int engine_guard_target_parse(const char *note, GuardTarget *ret, const char **ret_path);
/* Remove PATH with all it holds when it is still the entry expect (else -ESTALE, left in place),
 * iteratively, following no symbolic link, entering no other mount and never removing a volume's
 * file; the root's attribute is lifted only to unlink PATH when it is at the root. Gone already: 0. */
int engine_guard_remove_path(Engine *e, const char *share, int root, const char *path, const GuardTarget *expect,
                             GError **error);

/* The share NAME (ready) and PATH a foreign entry of it that the guard's resolution may act on:
 * a path as the audit names it, never a volume, lost+found or nfsprov's own temporary file
 * (-EINVAL, messages "WHAT NAME/PATH: ..."). */
int engine_foreign_target(Engine *e, const char *what, const char *name, const char *path, Share **ret,
                          GError **error);

/* engine_quarantine.c: the quarantine's step tables (appended to lines), how many steps
 * "quarantine" and "restore" take (0 for another op), and reconcile of the share's items left in
 * the middle of an operation (a copy that stopped undone, a removal or placing finished). */
void engine_quarantine_steps(GPtrArray *lines);
unsigned engine_quarantine_op_total(const char *op);
void engine_quarantine_reconcile(Engine *e, const Share *share, GPtrArray *changes, GPtrArray *problems);

/* engine_volumes.c, for the share operations: */

/* The volumes' step tables, one line each, appended to lines. */
void engine_volume_steps(GPtrArray *lines);
/* The share's volumes: the sum of their virtual sizes and their names. */
int engine_volumes_of(Engine *e, const char *share, uint64_t *ret_provisioned, GPtrArray **ret_names, GError **error);
/* Finish or undo the volume operations of the share that stopped (reconcile). */
void engine_volumes_reconcile(Engine *e, const Share *share, GPtrArray *changes, GPtrArray *problems);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nfsprovd's recorded state: the shares it owns and the journal of the steps it ran, kept in
 * SQLite at STATE_DIR/nfsprov.db.
 *
 * Contract:
 * - Every write is one transaction that is durable when the call returns (WAL, synchronous=FULL),
 *   unless the call runs inside state_transaction(): then it becomes durable with that
 *   transaction's COMMIT, or is rolled back with it.
 * - The engine records each step of an operation before it runs it (state_step_begin: step_done =
 *   false) and after it finished (state_step_done: step_done = true), so after a crash the row
 *   says exactly which step may be half done; reconcile rolls forward or back from there.
 * - A share's `source` (image file or disk device) is held by at most one share; so are its
 *   pool_uuid and fs_uuid. A duplicate is refused with -EEXIST naming the share that holds it.
 * - Functions return 0 or a negative errno with one line in error (NP_ERROR, code = errno):
 *   -ENOENT for a share that does not exist, -EEXIST for a duplicate, -EINVAL for a bad field,
 *   -EBADMSG for a corrupt or foreign database file, -ENOTSUP for a database written by a newer
 *   nfsprovd, -EBUSY when another process held the database lock for more than 5 s.
 * - A State is one SQLite connection: use it from one thread at a time.
 * - SQL is only ever run as fixed statements with bound parameters.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#define STATE_DB_NAME "nfsprov.db"
/* The schema version this code writes (PRAGMA user_version). */
#define STATE_SCHEMA_VERSION 6

typedef enum ShareStatus {
        SHARE_CREATING,
        SHARE_READY,
        SHARE_RESIZING,
        SHARE_DELETING,
        SHARE_FAILED,
        _SHARE_STATUS_MAX,
} ShareStatus;

/* "creating", "ready", "resizing", "deleting", "failed"; NULL for a value out of range. */
const char *share_status_to_string(ShareStatus status);
/* 0, or -EINVAL for a string that is not one of the above. */
int share_status_from_string(const char *s, ShareStatus *ret);

typedef struct Share {
        char *name;        /* primary key */
        char *pool_uuid;   /* generated at create, never changed */
        char *fs_uuid;     /* ext4 UUID, chosen before mkfs; NULL until chosen */
        char *backend;     /* "image" | "disk" */
        char *source;      /* image file path or disk device path; NULL until allocated */
        uint64_t size;     /* bytes requested (grown by resize) */
        char *clients;     /* export client specs, space separated (may be NULL) */
        char *options;     /* export options (may be NULL) */
        ShareStatus status;
        char *operation;   /* "create" | "delete" | "resize" | NULL when idle */
        char *step;        /* the step of `operation` in progress or last finished */
        bool step_done;    /* false = recorded before the step ran, true = after it finished */
        uint64_t target_size; /* resize: the size being grown to */
        char *error;       /* last failure message, NULL if none */
        int64_t created_at, updated_at; /* unix seconds (set by the state, not by the caller) */
        uint64_t source_ino;  /* image backend: the inode of the file nfsprov made (0 = unknown) */
        uint64_t dir_ino;     /* the inode of BASE/NAME when nfsprov made it (0 = it did not) */
        char *guard;          /* the guard's mode chosen for it ("enforce", "detect", "off"); NULL:
                               * [shares] guard of the configuration */
        unsigned export_id;   /* NFS-Ganesha's Export_Id, STATE_EXPORT_ID_FIRST-65535: allocated by
                               * state_share_insert (which ignores the caller's), never changed by
                               * state_share_update, never shared with another share; 0 until
                               * the row is read back */
} Share;

/* The first Export_Id nfsprov gives a share (an administrator's own Ganesha exports keep the
 * ids below it). */
#define STATE_EXPORT_ID_FIRST 1000

void share_free(Share *share);
Share *share_copy(const Share *share);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Share, share_free)

/* A volume of a share: a qcow2 file at the share's root that nfsprov made (the manifest). */
typedef enum VolumeStatus {
        VOLUME_CREATING,
        VOLUME_READY,
        VOLUME_DELETING,
        _VOLUME_STATUS_MAX,
} VolumeStatus;

/* "creating", "ready", "deleting"; NULL out of range. */
const char *volume_status_to_string(VolumeStatus status);

typedef struct Volume {
        char *share;          /* the share it lives in (primary key with name) */
        char *name;           /* its file name at the share's root */
        uint64_t capacity;    /* virtual size, bytes */
        char *format;         /* "qcow2" */
        char *backing;        /* the backing volume's name (a linked clone), NULL when none */
        uint64_t ino;         /* the file's inode once it is in place; 0 before */
        VolumeStatus status;
        char *operation;      /* "vol-create", "vol-clone", ... NULL when idle */
        char *step;
        bool step_done;
        char *error;
        int64_t created_at, updated_at;
} Volume;

void volume_free(Volume *v);
Volume *volume_copy(const Volume *v);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Volume, volume_free)

/* One line of the step journal. phase is "begin", "done", "undo" or "fail". */
typedef struct JournalEntry {
        int64_t id;        /* increasing: the order in which entries were written */
        char *share;
        char *volume;      /* a volume's step; NULL for the share's own */
        char *operation;
        char *step;
        char *phase;
        char *message;     /* NULL unless given (fail) */
        int64_t at;        /* unix seconds */
} JournalEntry;

void journal_entry_free(JournalEntry *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(JournalEntry, journal_entry_free)

typedef struct State State;

/* Create state_dir (mode 0700, with parents) if missing, open or create state_dir/nfsprov.db
 * (mode 0600; its -wal/-shm files get the same mode), set journal_mode=WAL, synchronous=FULL,
 * foreign_keys=ON, busy timeout 5000 ms, check the file's integrity (quick_check) and migrate
 * the schema to STATE_SCHEMA_VERSION. */
int state_open(const char *state_dir, State **ret, GError **error);
void state_close(State *state);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(State, state_close)

/* The path of the database file. */
const char *state_path(const State *state);

/* The connection's effective settings, as SQLite reports them (for diagnostics). */
typedef struct StateInfo {
        char *journal_mode;    /* "wal" */
        int synchronous;       /* 2 = FULL */
        bool foreign_keys;
        int busy_timeout_ms;
        int schema_version;    /* PRAGMA user_version */
} StateInfo;
void state_info_clear(StateInfo *info);
int state_info(State *state, StateInfo *ret, GError **error);

/* Insert a new share. created_at and updated_at are set to now. -EEXIST when the name, or the
 * source, pool_uuid or fs_uuid of another share, is already recorded. */
int state_share_insert(State *state, const Share *share, GError **error);
/* -ENOENT when there is no share of that name. */
int state_share_get(State *state, const char *name, Share **ret, GError **error);
/* All shares ordered by name: a GPtrArray of Share* that frees them. */
int state_share_list(State *state, GPtrArray **ret, GError **error);
/* Replace the whole row of share->name (all fields but name and created_at; updated_at = now).
 * -ENOENT when it does not exist, -EEXIST for a source/uuid another share holds. */
int state_share_update(State *state, const Share *share, GError **error);
/* Remove the row and its journal. -ENOENT when it does not exist. */
int state_share_delete(State *state, const char *name, GError **error);

/* Record that `step` of `operation` ("create", "delete", "resize") is about to run: sets the
 * row's operation, step, step_done = false, updated_at, and appends a "begin" journal entry,
 * in one durable transaction. -ENOENT for an unknown share. */
int state_step_begin(State *state, const char *name, const char *operation, const char *step, GError **error);
/* Record that `step` finished: step_done = true and a "done" entry. The row must show this
 * operation and step (begun before); otherwise -EINVAL, and nothing changes. */
int state_step_done(State *state, const char *name, const char *operation, const char *step, GError **error);
/* Record that a finished step's effect was undone (rolling back): step = `step`,
 * step_done = false and an "undo" entry. */
int state_step_undo(State *state, const char *name, const char *operation, const char *step, GError **error);
/* Record that `step` failed with `message`: the row's error = message (step_done stays as it
 * is) and a "fail" entry carrying the message. */
int state_step_fail(State *state, const char *name, const char *operation, const char *step,
                    const char *message, GError **error);

/* The step runner's record, in one durable transaction: the whole row as `share` holds it
 * (operation, step and step_done included: the caller sets them), then a "done" journal entry
 * for done_step of `operation` (when not NULL) and a "begin" entry for begin_step (when not
 * NULL). One commit where state_step_done + state_step_begin + state_share_update took three.
 * -EINVAL when `operation` is not an operation. */
int state_step_advance(State *state, const Share *share, const char *operation, const char *done_step,
                       const char *begin_step, GError **error);

/* Append one journal entry without touching the row (reconcile's repairs of a ready share are
 * recorded this way: the row keeps saying it is ready). volume: a volume's step, or NULL.
 * phase: "begin", "done", "undo", "fail". -ENOENT for an unknown share. */
int state_journal_add(State *state, const char *name, const char *volume, const char *operation, const char *step,
                      const char *phase, const char *message, GError **error);

/* The manifest. Insert: -EEXIST for a volume of that name in the share, -ENOENT for an unknown
 * share; a row that names an operation and a step not done also journals that step's "begin",
 * in the same commit (the first step of a new volume's operation, see StepRunner.begun). Get/update/delete: -ENOENT for an unknown volume. List: ordered by name; share NULL:
 * every share's (ordered by share, name). A share's volumes go with its row. */
int state_volume_insert(State *state, const Volume *v, GError **error);
int state_volume_get(State *state, const char *share, const char *name, Volume **ret, GError **error);
int state_volume_list(State *state, const char *share, GPtrArray **ret, GError **error);
int state_volume_update(State *state, const Volume *v, GError **error);
int state_volume_delete(State *state, const char *share, const char *name, GError **error);
/* The step runner's record for a volume's operation (as state_step_advance for a share). */
int state_volume_advance(State *state, const Volume *v, const char *operation, const char *done_step,
                         const char *begin_step, GError **error);

/* The guard's quarantine: a foreign entry of a share moved to STATE_DIR/quarantine/SHARE/NAME
 * (server/engine_quarantine.c). Not tied to the share's row: an item outlives its share. */
typedef enum QuarantineStatus {
        QUARANTINE_COPYING,   /* being copied out of the share (then its original removed) */
        QUARANTINE_READY,     /* in the quarantine */
        QUARANTINE_RESTORING, /* being put back */
        _QUARANTINE_STATUS_MAX,
} QuarantineStatus;

/* "copying", "ready", "restoring"; NULL out of range. */
const char *quarantine_status_to_string(QuarantineStatus status);

typedef struct QuarantineItem {
        int64_t id;             /* set by state_quarantine_insert */
        char *share;
        char *path;             /* where it was, relative to the share's root (as the audit names it) */
        char *name;             /* its name in STATE_DIR/quarantine/SHARE/ (unique per share) */
        char *kind;             /* "file", "symlink", "directory" */
        uint64_t size;          /* of the original, bytes */
        uint32_t uid, gid, mode; /* of the original (mode: permission bits and file type) */
        int64_t mtime, mtime_nsec; /* of the original */
        uint64_t ino;           /* of the original: what the removal checks it acts on */
        int64_t quarantined_at; /* unix seconds */
        QuarantineStatus status;
        char *operation;        /* "quarantine" | "restore" | NULL */
        char *step;
        bool step_done;
        char *error;            /* why the last operation stopped short (e.g. the original changed) */
        int64_t updated_at;
} QuarantineItem;

void quarantine_item_free(QuarantineItem *q);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QuarantineItem, quarantine_item_free)

/* Insert (q->id is set): -EEXIST for a name the share's quarantine holds. Get: -ENOENT for an
 * unknown name. List: ordered by name; share NULL: every share's (by share, name). Update,
 * delete: by id, -ENOENT when gone. Advance: the step runner's record, with the share's journal
 * entries (the item's name as their message) while the share exists. */
int state_quarantine_insert(State *state, QuarantineItem *q, GError **error);
int state_quarantine_get(State *state, const char *share, const char *name, QuarantineItem **ret, GError **error);
int state_quarantine_list(State *state, const char *share, GPtrArray **ret, GError **error);
int state_quarantine_update(State *state, const QuarantineItem *q, GError **error);
int state_quarantine_delete(State *state, int64_t id, GError **error);
int state_quarantine_advance(State *state, const QuarantineItem *q, const char *operation, const char *done_step,
                             const char *begin_step, GError **error);

/* The journal of one share, oldest first: a GPtrArray of JournalEntry* that frees them.
 * An unknown share has an empty journal. */
int state_journal_list(State *state, const char *name, GPtrArray **ret, GError **error);

/* Run fn inside one transaction (BEGIN IMMEDIATE ... COMMIT). When fn returns a negative errno,
 * everything it wrote is rolled back and that value is returned; error then gets a generic
 * line unless it was already set (to keep fn's own message, let fn fill the same GError** passed
 * through data). Nested calls use a SAVEPOINT and roll back only their own part. */
int state_transaction(State *state, int (*fn)(State *state, void *data), void *data, GError **error);

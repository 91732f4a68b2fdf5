/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "error.h"
#include "guard_mode.h"
#include "macro.h"
#include "safepath.h"
#include "state.h"

/* 'NFSP': marks the file as nfsprov's (PRAGMA application_id; SQLite reads the value in decimal). */
#define STATE_APPLICATION_ID 1313231696
#define STATE_SET_APPLICATION_ID "PRAGMA application_id = 1313231696"
G_STATIC_ASSERT(STATE_APPLICATION_ID == 0x4e465350);

struct State {
        sqlite3 *db;
        char *path;
        GHashTable *stmts; /* SQL text -> its prepared statement (prepare(), exec_cached()) */
};

/* A statement of prepare(): the State's own, prepared once per SQL text and kept (the parse was
 * 15 % of nfsprovd's CPU in a run of volume creates); releasing it resets it and clears its
 * bindings for the next use. */
typedef sqlite3_stmt CachedStmt;
static void cached_stmt_release(CachedStmt *stmt) {
        sqlite3_reset(stmt);
        sqlite3_clear_bindings(stmt);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CachedStmt, cached_stmt_release)

/* ---- the schema and its migrations ----
 *
 * Each migration brings the schema from version - 1 to version and sets user_version itself
 * (a pragma value cannot be a bound parameter, so it is part of the fixed text). Migrations run
 * in order inside one IMMEDIATE transaction; add new ones at the end, never edit old ones. */
typedef struct Migration {
        int version;
        const char *sql;
} Migration;

static const Migration migrations[] = {
        { 1,
          "CREATE TABLE shares ("
          "  name        TEXT PRIMARY KEY NOT NULL CHECK (name <> ''),"
          "  pool_uuid   TEXT NOT NULL CHECK (pool_uuid <> ''),"
          "  fs_uuid     TEXT,"
          "  backend     TEXT NOT NULL CHECK (backend IN ('image', 'disk')),"
          "  source      TEXT,"
          "  size        INTEGER NOT NULL CHECK (size >= 0),"
          "  clients     TEXT,"
          "  options     TEXT,"
          "  status      TEXT NOT NULL"
          "              CHECK (status IN ('creating', 'ready', 'resizing', 'deleting', 'failed')),"
          "  operation   TEXT CHECK (operation IS NULL OR operation IN ('create', 'delete', 'resize')),"
          "  step        TEXT,"
          "  step_done   INTEGER NOT NULL DEFAULT 0 CHECK (step_done IN (0, 1)),"
          "  target_size INTEGER NOT NULL DEFAULT 0 CHECK (target_size >= 0),"
          "  error       TEXT,"
          "  created_at  INTEGER NOT NULL,"
          "  updated_at  INTEGER NOT NULL"
          ");"
          /* A disk (or image file) is never used twice; neither is a uuid. */
          "CREATE UNIQUE INDEX shares_source ON shares (source) WHERE source IS NOT NULL;"
          "CREATE UNIQUE INDEX shares_pool_uuid ON shares (pool_uuid);"
          "CREATE UNIQUE INDEX shares_fs_uuid ON shares (fs_uuid) WHERE fs_uuid IS NOT NULL;"
          "CREATE TABLE journal ("
          "  id        INTEGER PRIMARY KEY AUTOINCREMENT,"
          "  share     TEXT NOT NULL REFERENCES shares (name) ON DELETE CASCADE ON UPDATE CASCADE,"
          "  operation TEXT NOT NULL,"
          "  step      TEXT NOT NULL,"
          "  phase     TEXT NOT NULL CHECK (phase IN ('begin', 'done', 'undo', 'fail')),"
          "  message   TEXT,"
          "  at        INTEGER NOT NULL"
          ");"
          "CREATE INDEX journal_share ON journal (share, id);"
          "PRAGMA user_version = 1;" },
        { 2,
          /* What a destructive step checks before it acts: the inode of the image file nfsprov
           * made, and of the mount point directory it made (0: not made by nfsprov / unknown). */
          "ALTER TABLE shares ADD COLUMN source_ino INTEGER NOT NULL DEFAULT 0 CHECK (source_ino >= 0);"
          "ALTER TABLE shares ADD COLUMN dir_ino INTEGER NOT NULL DEFAULT 0 CHECK (dir_ino >= 0);"
          "PRAGMA user_version = 2;" },
        { 3,
          /* The manifest: every volume (a qcow2 file at a share's root) nfsprov made. */
          "CREATE TABLE volumes ("
          "  share      TEXT NOT NULL REFERENCES shares (name) ON DELETE CASCADE ON UPDATE CASCADE,"
          "  name       TEXT NOT NULL CHECK (name <> ''),"
          "  capacity   INTEGER NOT NULL CHECK (capacity >= 0),"
          "  format     TEXT NOT NULL CHECK (format IN ('qcow2')),"
          "  backing    TEXT,"
          "  ino        INTEGER NOT NULL DEFAULT 0 CHECK (ino >= 0),"
          "  status     TEXT NOT NULL CHECK (status IN ('creating', 'ready', 'deleting')),"
          "  operation  TEXT,"
          "  step       TEXT,"
          "  step_done  INTEGER NOT NULL DEFAULT 0 CHECK (step_done IN (0, 1)),"
          "  error      TEXT,"
          "  created_at INTEGER NOT NULL,"
          "  updated_at INTEGER NOT NULL,"
          "  PRIMARY KEY (share, name)"
          ");"
          "ALTER TABLE journal ADD COLUMN volume TEXT;"
          "PRAGMA user_version = 3;" },
        { 4,
          /* The guard's mode chosen for the share (NULL: [shares] guard of the configuration). */
          "ALTER TABLE shares ADD COLUMN guard TEXT CHECK (guard IS NULL OR guard IN ('enforce', 'detect', 'off'));"
          "PRAGMA user_version = 4;" },
        { 5,
          /* The guard's quarantine (issue 12, "Resolution"): foreign entries moved out of a share into
           * STATE_DIR/quarantine/SHARE/NAME. No reference to shares: an item outlives its share. */
          "CREATE TABLE quarantine ("
          "  id             INTEGER PRIMARY KEY AUTOINCREMENT,"
          "  share          TEXT NOT NULL CHECK (share <> ''),"
          "  path           TEXT NOT NULL CHECK (path <> ''),"
          "  name           TEXT NOT NULL CHECK (name <> ''),"
          "  kind           TEXT NOT NULL CHECK (kind IN ('file', 'symlink', 'directory')),"
          "  size           INTEGER NOT NULL DEFAULT 0 CHECK (size >= 0),"
          "  uid            INTEGER NOT NULL DEFAULT 0 CHECK (uid >= 0),"
          "  gid            INTEGER NOT NULL DEFAULT 0 CHECK (gid >= 0),"
          "  mode           INTEGER NOT NULL DEFAULT 0 CHECK (mode >= 0),"
          "  mtime          INTEGER NOT NULL DEFAULT 0,"
          "  mtime_nsec     INTEGER NOT NULL DEFAULT 0 CHECK (mtime_nsec >= 0),"
          "  ino            INTEGER NOT NULL DEFAULT 0 CHECK (ino >= 0),"
          "  quarantined_at INTEGER NOT NULL,"
          "  status         TEXT NOT NULL CHECK (status IN ('copying', 'ready', 'restoring')),"
          "  operation      TEXT,"
          "  step           TEXT,"
          "  step_done      INTEGER NOT NULL DEFAULT 0 CHECK (step_done IN (0, 1)),"
          "  error          TEXT,"
          "  updated_at     INTEGER NOT NULL,"
          "  UNIQUE (share, name)"
          ");"
          "PRAGMA user_version = 5;" },
        { 6,
          /* NFS-Ganesha's Export_Id of the share (issue 13): allocated once at insert from
           * STATE_EXPORT_ID_FIRST up, never changed, unique among the shares. Shares recorded
           * before get theirs here, in name order. */
          "ALTER TABLE shares ADD COLUMN export_id INTEGER"
          "  CHECK (export_id IS NULL OR export_id BETWEEN 1 AND 65535);"
          "UPDATE shares SET export_id = 999 + (SELECT COUNT(*) FROM shares AS o WHERE o.name <= shares.name);"
          "CREATE UNIQUE INDEX shares_export_id ON shares (export_id) WHERE export_id IS NOT NULL;"
          "PRAGMA user_version = 6;" },
};
G_STATIC_ASSERT(STATE_EXPORT_ID_FIRST == 1000); /* migration 6 numbers the existing shares from it */

G_STATIC_ASSERT(G_N_ELEMENTS(migrations) > 0);

/* ---- errors ---- */

static int sqlite_errno(sqlite3 *db, int rc) {
        int sys = db ? sqlite3_system_errno(db) : 0;

        switch (rc & 0xff) {
        case SQLITE_OK:
        case SQLITE_ROW:
        case SQLITE_DONE:
                return 0;
        case SQLITE_NOMEM:
                return -ENOMEM;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
                return -EBUSY;
        case SQLITE_READONLY:
                return -EROFS;
        case SQLITE_PERM:
        case SQLITE_AUTH:
                return -EACCES;
        case SQLITE_FULL:
                return -ENOSPC;
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
                return -EBADMSG;
        case SQLITE_CONSTRAINT:
                return (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) ? -EEXIST
                                                                                              : -EINVAL;
        case SQLITE_CANTOPEN:
        case SQLITE_IOERR:
                /* never -ENOENT: that is "no such share" in this module's contract */
                return sys > 0 && sys != ENOENT ? -sys : -EIO;
        default:
                return -EIO;
        }
}

/* "state database PATH: WHAT: SQLITE MESSAGE" */
static int _printf_(4, 5) sql_fail(State *s, GError **error, int rc, const char *fmt, ...) {
        int r = sqlite_errno(s->db, rc);
        if (r == 0)
                r = -EIO;
        if (error && !*error) {
                va_list ap;
                va_start(ap, fmt);
                g_autofree char *what = g_strdup_vprintf(fmt, ap);
                va_end(ap);
                const char *hint = "";
                if (r == -EBADMSG)
                        hint = " (the file is damaged or not nfsprov's: move it away and restore a backup)";
                np_fail(error, -r, "state database %s: %s: %s%s", s->path, what,
                        s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc), hint);
        }
        return r;
}

/* ---- statement helpers ---- */

static void stmt_finalize(gpointer stmt) {
        sqlite3_finalize(stmt);
}

/* The kept statement of sql (one statement), prepared on first use. A statement is used by one
 * caller at a time: one still running (stepped, not reset) is a bug of its caller (-EBUSY).
 * what: the step, for the error message ("cannot read share \"x\""). */
static int prepare(State *s, const char *sql, const char *what, CachedStmt **ret, GError **error) {
        if (!s->stmts)
                s->stmts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, stmt_finalize);
        sqlite3_stmt *stmt = g_hash_table_lookup(s->stmts, sql);
        if (stmt && sqlite3_stmt_busy(stmt))
                return np_fail(error, EBUSY, "%s: the statement is in use (%s)", what, sql);
        if (!stmt) {
                int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
                if (rc != SQLITE_OK) {
                        sqlite3_finalize(stmt);
                        return sql_fail(s, error, rc, "%s", what);
                }
                g_hash_table_insert(s->stmts, g_strdup(sql), stmt);
        }
        *ret = stmt;
        return 0;
}

static int bind_text(sqlite3_stmt *stmt, int i, const char *v) {
        return v ? sqlite3_bind_text(stmt, i, v, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(stmt, i);
}

static char *column_strdup(sqlite3_stmt *stmt, int i) {
        if (sqlite3_column_type(stmt, i) == SQLITE_NULL)
                return NULL;
        return g_strdup((const char *) sqlite3_column_text(stmt, i));
}

/* Run a statement that returns no rows. */
static int exec_stmt(State *s, sqlite3_stmt *stmt, GError **error, const char *what) {
        int rc = sqlite3_step(stmt);
        if (rc != SQLITE_DONE)
                return sql_fail(s, error, rc, "%s", what);
        return 0;
}

/* Run one fixed statement that returns no rows (BEGIN, COMMIT, ...) from the kept ones. */
static int exec_cached(State *s, const char *sql, GError **error, const char *what) {
        g_autoptr(CachedStmt) stmt = NULL;
        int r = prepare(s, sql, what, &stmt, error);
        return r < 0 ? r : exec_stmt(s, stmt, error, what);
}

/* Fixed statements without parameters (transaction control, pragmas, migrations). */
static int exec_fixed(State *s, const char *sql, GError **error, const char *what) {
        int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
        if (rc != SQLITE_OK)
                return sql_fail(s, error, rc, "%s", what);
        return 0;
}

/* A fixed single-value query (e.g. a pragma): the first column of the first row. */
static int query_int(State *s, const char *sql, int64_t *ret, GError **error) {
        g_autoptr(CachedStmt) stmt = NULL;
        g_autofree char *what = g_strdup_printf("cannot run %s", sql);
        int r = prepare(s, sql, what, &stmt, error);
        if (r < 0)
                return r;
        int rc = sqlite3_step(stmt);
        if (rc != SQLITE_ROW)
                return sql_fail(s, error, rc == SQLITE_DONE ? SQLITE_ERROR : rc, "%s", what);
        *ret = sqlite3_column_int64(stmt, 0);
        return 0;
}

static int query_text(State *s, const char *sql, char **ret, GError **error) {
        g_autoptr(CachedStmt) stmt = NULL;
        g_autofree char *what = g_strdup_printf("cannot run %s", sql);
        int r = prepare(s, sql, what, &stmt, error);
        if (r < 0)
                return r;
        int rc = sqlite3_step(stmt);
        if (rc != SQLITE_ROW)
                return sql_fail(s, error, rc == SQLITE_DONE ? SQLITE_ERROR : rc, "%s", what);
        *ret = column_strdup(stmt, 0);
        return 0;
}

static int64_t now_seconds(void) {
        return g_get_real_time() / G_USEC_PER_SEC;
}

/* ---- transactions ---- */

typedef int (*TxFunc)(State *s, void *data, GError **error);

/* Run fn in a transaction: BEGIN IMMEDIATE at the outermost level (the write lock is taken
 * at once, so a busy database fails before anything ran), a SAVEPOINT when nested. */
static int in_transaction(State *s, TxFunc fn, void *data, GError **error) {
        bool nested = !sqlite3_get_autocommit(s->db);
        int r = exec_cached(s, nested ? "SAVEPOINT np_tx" : "BEGIN IMMEDIATE", error, "cannot begin a transaction");
        if (r < 0)
                return r;

        r = fn(s, data, error);
        if (r >= 0) {
                r = exec_cached(s, nested ? "RELEASE np_tx" : "COMMIT", error, "cannot commit");
                if (r >= 0)
                        return 0;
        }

        /* Some errors (I/O, full disk) already rolled back the whole transaction. */
        if (!sqlite3_get_autocommit(s->db)) {
                if (nested)
                        (void) sqlite3_exec(s->db, "ROLLBACK TO np_tx; RELEASE np_tx", NULL, NULL, NULL);
                else
                        (void) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        }
        return r;
}

/* ---- status ---- */

static const char *const status_names[_SHARE_STATUS_MAX] = {
        [SHARE_CREATING] = "creating",
        [SHARE_READY] = "ready",
        [SHARE_RESIZING] = "resizing",
        [SHARE_DELETING] = "deleting",
        [SHARE_FAILED] = "failed",
};

const char *share_status_to_string(ShareStatus status) {
        if ((unsigned) status >= _SHARE_STATUS_MAX)
                return NULL;
        return status_names[status];
}

int share_status_from_string(const char *s, ShareStatus *ret) {
        if (!s)
                return -EINVAL;
        for (unsigned i = 0; i < _SHARE_STATUS_MAX; i++)
                if (strcmp(s, status_names[i]) == 0) {
                        *ret = (ShareStatus) i;
                        return 0;
                }
        return -EINVAL;
}

/* ---- Share and JournalEntry ---- */

void share_free(Share *share) {
        if (!share)
                return;
        g_free(share->name);
        g_free(share->pool_uuid);
        g_free(share->fs_uuid);
        g_free(share->backend);
        g_free(share->source);
        g_free(share->clients);
        g_free(share->options);
        g_free(share->operation);
        g_free(share->step);
        g_free(share->error);
        g_free(share->guard);
        g_free(share);
}

Share *share_copy(const Share *share) {
        if (!share)
                return NULL;
        Share *c = g_new(Share, 1);
        *c = *share;
        c->name = g_strdup(share->name);
        c->pool_uuid = g_strdup(share->pool_uuid);
        c->fs_uuid = g_strdup(share->fs_uuid);
        c->backend = g_strdup(share->backend);
        c->source = g_strdup(share->source);
        c->clients = g_strdup(share->clients);
        c->options = g_strdup(share->options);
        c->operation = g_strdup(share->operation);
        c->step = g_strdup(share->step);
        c->error = g_strdup(share->error);
        c->guard = g_strdup(share->guard);
        return c;
}

void journal_entry_free(JournalEntry *entry) {
        if (!entry)
                return;
        g_free(entry->share);
        g_free(entry->volume);
        g_free(entry->operation);
        g_free(entry->step);
        g_free(entry->phase);
        g_free(entry->message);
        g_free(entry);
}

/* ---- validation ---- */

static bool is_operation(const char *op) {
        return op && (strcmp(op, "create") == 0 || strcmp(op, "delete") == 0 || strcmp(op, "resize") == 0);
}

static int validate_share(const Share *share, GError **error) {
        if (!share || !share->name || !*share->name)
                return np_fail(error, EINVAL, "cannot record a share without a name");
        if (!share->pool_uuid || !*share->pool_uuid)
                return np_fail(error, EINVAL, "share \"%s\": pool_uuid is missing", share->name);
        if (share->fs_uuid && !*share->fs_uuid)
                return np_fail(error, EINVAL, "share \"%s\": fs_uuid is empty (use NULL until chosen)",
                               share->name);
        if (!share->backend || (strcmp(share->backend, "image") != 0 && strcmp(share->backend, "disk") != 0))
                return np_fail(error, EINVAL, "share \"%s\": backend \"%s\" is not \"image\" or \"disk\"",
                               share->name, share->backend ?: "(null)");
        if (share->source && !*share->source)
                return np_fail(error, EINVAL, "share \"%s\": source is empty (use NULL until allocated)",
                               share->name);
        if (share->size > INT64_MAX || share->target_size > INT64_MAX || share->source_ino > INT64_MAX ||
            share->dir_ino > INT64_MAX)
                return np_fail(error, ERANGE, "share \"%s\": size out of range (at most %" PRId64 " bytes)",
                               share->name, INT64_MAX);
        GuardMode mode;
        if (share->guard && guard_mode_parse(share->guard, &mode, NULL) < 0)
                return np_fail(error, EINVAL, "share \"%s\": guard \"%s\" is not " GUARD_MODES_ALLOWED, share->name,
                               share->guard);
        if (!share_status_to_string(share->status))
                return np_fail(error, EINVAL, "share \"%s\": invalid status %d", share->name, (int) share->status);
        if (share->operation && !is_operation(share->operation))
                return np_fail(error, EINVAL,
                               "share \"%s\": operation \"%s\" is not \"create\", \"delete\", \"resize\" or none",
                               share->name, share->operation);
        return 0;
}

/* ---- reading rows ---- */

#define SHARE_COLUMNS                                                                                 \
        "name, pool_uuid, fs_uuid, backend, source, size, clients, options, status, operation, step, " \
        "step_done, target_size, error, created_at, updated_at, source_ino, dir_ino, guard, export_id"

static int share_from_row(State *s, sqlite3_stmt *stmt, Share **ret, GError **error) {
        g_autoptr(Share) sh = g_new0(Share, 1);
        sh->name = column_strdup(stmt, 0);
        sh->pool_uuid = column_strdup(stmt, 1);
        sh->fs_uuid = column_strdup(stmt, 2);
        sh->backend = column_strdup(stmt, 3);
        sh->source = column_strdup(stmt, 4);
        sh->size = (uint64_t) sqlite3_column_int64(stmt, 5);
        sh->clients = column_strdup(stmt, 6);
        sh->options = column_strdup(stmt, 7);
        if (share_status_from_string((const char *) sqlite3_column_text(stmt, 8), &sh->status) < 0)
                return np_fail(error, EBADMSG, "state database %s: share \"%s\" has an unknown status \"%s\"",
                               s->path, sh->name, (const char *) sqlite3_column_text(stmt, 8));
        sh->operation = column_strdup(stmt, 9);
        sh->step = column_strdup(stmt, 10);
        sh->step_done = sqlite3_column_int(stmt, 11) != 0;
        sh->target_size = (uint64_t) sqlite3_column_int64(stmt, 12);
        sh->error = column_strdup(stmt, 13);
        sh->created_at = sqlite3_column_int64(stmt, 14);
        sh->updated_at = sqlite3_column_int64(stmt, 15);
        sh->source_ino = (uint64_t) sqlite3_column_int64(stmt, 16);
        sh->dir_ino = (uint64_t) sqlite3_column_int64(stmt, 17);
        sh->guard = column_strdup(stmt, 18);
        sh->export_id = (unsigned) sqlite3_column_int(stmt, 19);
        *ret = TAKE_PTR(sh);
        return 0;
}

static int share_get_raw(State *s, const char *name, Share **ret, GError **error) {
        g_autoptr(CachedStmt) stmt = NULL;
        int r = prepare(s, "SELECT " SHARE_COLUMNS " FROM shares WHERE name = ?1", "cannot read a share", &stmt, error);
        if (r < 0)
                return r;
        bind_text(stmt, 1, name);
        int rc = sqlite3_step(stmt);
        if (rc == SQLITE_DONE)
                return np_fail(error, ENOENT, "share \"%s\" does not exist", name);
        if (rc != SQLITE_ROW)
                return sql_fail(s, error, rc, "cannot read share \"%s\"", name);
        return share_from_row(s, stmt, ret, error);
}

/* The name of another share (not `self`) whose column equals value; NULL when none.
 * sql: a fixed "SELECT name FROM shares WHERE <column> = ?1 AND name <> ?2". */
static int find_holder(State *s, const char *sql, const char *value, const char *self, char **ret,
                       GError **error) {
        g_autoptr(CachedStmt) stmt = NULL;
        int r = prepare(s, sql, "cannot look up which share holds a value", &stmt, error);
        if (r < 0)
                return r;
        bind_text(stmt, 1, value);
        bind_text(stmt, 2, self);
        int rc = sqlite3_step(stmt);
        if (rc == SQLITE_DONE) {
                *ret = NULL;
                return 0;
        }
        if (rc != SQLITE_ROW)
                return sql_fail(s, error, rc, "cannot look up which share holds \"%s\"", value);
        *ret = column_strdup(stmt, 0);
        return 0;
}

static int check_unique_fields(State *s, const Share *sh, GError **error) {
        static const struct {
                const char *what;
                const char *sql;
                size_t offset;
        } fields[] = {
                { "source", "SELECT name FROM shares WHERE source = ?1 AND name <> ?2", offsetof(Share, source) },
                { "pool uuid", "SELECT name FROM shares WHERE pool_uuid = ?1 AND name <> ?2",
                  offsetof(Share, pool_uuid) },
                { "filesystem uuid", "SELECT name FROM shares WHERE fs_uuid = ?1 AND name <> ?2",
                  offsetof(Share, fs_uuid) },
        };

        for (size_t i = 0; i < G_N_ELEMENTS(fields); i++) {
                const char *value = *(char *const *) ((const char *) sh + fields[i].offset);
                if (!value)
                        continue;
                g_autofree char *holder = NULL;
                int r = find_holder(s, fields[i].sql, value, sh->name, &holder, error);
                if (r < 0)
                        return r;
                if (holder)
                        return np_fail(error, EEXIST, "share \"%s\": %s %s is already used by share \"%s\"",
                                       sh->name, fields[i].what, value, holder);
        }
        return 0;
}

static void bind_share_fields(sqlite3_stmt *stmt, const Share *sh, int64_t now) {
        /* ?1 name ... ?14 error, ?15 created_at, ?16 updated_at, ?17 source_ino, ?18 dir_ino, ?19 guard:
         * the order of SHARE_COLUMNS. */
        bind_text(stmt, 1, sh->name);
        bind_text(stmt, 2, sh->pool_uuid);
        bind_text(stmt, 3, sh->fs_uuid);
        bind_text(stmt, 4, sh->backend);
        bind_text(stmt, 5, sh->source);
        sqlite3_bind_int64(stmt, 6, (sqlite3_int64) sh->size);
        bind_text(stmt, 7, sh->clients);
        bind_text(stmt, 8, sh->options);
        bind_text(stmt, 9, share_status_to_string(sh->status));
        bind_text(stmt, 10, sh->operation);
        bind_text(stmt, 11, sh->step);
        sqlite3_bind_int(stmt, 12, sh->step_done ? 1 : 0);
        sqlite3_bind_int64(stmt, 13, (sqlite3_int64) sh->target_size);
        bind_text(stmt, 14, sh->error);
        sqlite3_bind_int64(stmt, 15, now);
        sqlite3_bind_int64(stmt, 16, now);
        sqlite3_bind_int64(stmt, 17, (sqlite3_int64) sh->source_ino);
        sqlite3_bind_int64(stmt, 18, (sqlite3_int64) sh->dir_ino);
        bind_text(stmt, 19, sh->guard);
}

/* ---- share CRUD ---- */

static int share_exists(State *s, const char *name, bool *ret, GError **error) {
        g_autoptr(CachedStmt) stmt = NULL;
        int r = prepare(s, "SELECT 1 FROM shares WHERE name = ?1", "cannot read a share", &stmt, error);
        if (r < 0)
                return r;
        bind_text(stmt, 1, name);
        int rc = sqlite3_step(stmt);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
                return sql_fail(s, error, rc, "cannot read share \"%s\"", name);
        *ret = rc == SQLITE_ROW;
        return 0;
}

/* The Export_Id of a new share: one above the highest in use, or, when that would pass 65535, the
 * lowest free one from STATE_EXPORT_ID_FIRST up. */
static int allocate_export_id(State *s, unsigned *ret, GError **error) {
        int64_t id = 0;
        int r = query_int(s, "SELECT COALESCE(MAX(export_id), 999) + 1 FROM shares", &id, error);
        if (r < 0)
                return r;
        if (id > 65535) {
                r = query_int(s,
                              "SELECT COALESCE(MIN(e.id + 1), 0) FROM (SELECT 999 AS id UNION ALL "
                              "SELECT export_id FROM shares WHERE export_id >= 1000) AS e "
                              "WHERE e.id < 65535 AND NOT EXISTS (SELECT 1 FROM shares WHERE export_id = e.id + 1)",
                              &id, error);
                if (r < 0)
                        return r;
                if (id == 0)
                        return np_fail(error, ENOSPC, "no free NFS-Ganesha Export_Id: %d to 65535 are all in use",
                                       STATE_EXPORT_ID_FIRST);
        }
        *ret = (unsigned) id;
        return 0;
}

static int do_insert(State *s, void *data, GError **error) {
        const Share *sh = data;
        bool exists;
        int r = share_exists(s, sh->name, &exists, error);
        if (r < 0)
                return r;
        if (exists)
                return np_fail(error, EEXIST, "share \"%s\" already exists", sh->name);
        r = check_unique_fields(s, sh, error);
        if (r < 0)
                return r;

        unsigned export_id = 0;
        r = allocate_export_id(s, &export_id, error);
        if (r < 0)
                return r;

        g_autoptr(CachedStmt) stmt = NULL;
        r = prepare(s,
                    "INSERT INTO shares (" SHARE_COLUMNS ") VALUES "
                    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)",
                    "cannot insert a share", &stmt, error);
        if (r < 0)
                return r;
        bind_share_fields(stmt, sh, now_seconds());
        sqlite3_bind_int64(stmt, 20, export_id);
        int rc = sqlite3_step(stmt);
        if (rc != SQLITE_DONE)
                return sql_fail(s, error, rc, "cannot insert share \"%s\"", sh->name);
        return 0;
}

int state_share_insert(State *s, const Share *share, GError **error) {
        int r = validate_share(share, error);
        if (r < 0)
                return r;
        return in_transaction(s, do_insert, (void *) share, error);
}

int state_share_get(State *s, const char *name, Share **ret, GError **error) {
        if (!name)
                return np_fail(error, EINVAL, "no share name given");
        return share_get_raw(s, name, ret, error);
}

/* Step stmt to its end, reading each row with `read` into a list that frees with free_fn. */
typedef int (*RowReader)(State *s, sqlite3_stmt *stmt, gpointer *ret, GError **error);

static int collect_rows(State *s, sqlite3_stmt *stmt, RowReader read, GDestroyNotify free_fn, const char *what,
                        GPtrArray **ret, GError **error) {
        g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func(free_fn);
        for (;;) {
                int rc = sqlite3_step(stmt);
                if (rc == SQLITE_DONE)
                        break;
                if (rc != SQLITE_ROW)
                        return sql_fail(s, error, rc, "%s", what);
                gpointer row;
                int r = read(s, stmt, &row, error);
                if (r < 0)
                        return r;
                g_ptr_array_add(list, row);
        }
        *ret = TAKE_PTR(list);
        return 0;
}

static int share_row(State *s, sqlite3_stmt *stmt, gpointer *ret, GError **error) {
        Share *row = NULL;
        int r = share_from_row(s, stmt, &row, error);
        if (r >= 0)
                *ret = row;
        return r;
}

int state_share_list(State *s, GPtrArray **ret, GError **error) {
        g_autoptr(CachedStmt) stmt = NULL;
        int r = prepare(s, "SELECT " SHARE_COLUMNS " FROM shares ORDER BY name", "cannot list shares", &stmt, error);
        if (r < 0)
                return r;
        return collect_rows(s, stmt, share_row, (GDestroyNotify) share_free, "cannot list shares", ret, error);
}

static int do_update(State *s, void *data, GError **error) {
        const Share *sh = data;
        bool exists;
        int r = share_exists(s, sh->name, &exists, error);
        if (r < 0)
                return r;
        if (!exists)
                return np_fail(error, ENOENT, "share \"%s\" does not exist", sh->name);
        r = check_unique_fields(s, sh, error);
        if (r < 0)
                return r;

        g_autoptr(CachedStmt) stmt = NULL;
        r = prepare(s,
                    "UPDATE shares SET pool_uuid = ?2, fs_uuid = ?3, backend = ?4, source = ?5, size = ?6, "
                    "clients = ?7, options = ?8, status = ?9, operation = ?10, step = ?11, step_done = ?12, "
                    "target_size = ?13, error = ?14, updated_at = ?16, source_ino = ?17, dir_ino = ?18, guard = ?19 WHERE name = ?1",
                    "cannot update a share", &stmt, error);
        if (r < 0)
                return r;
        bind_share_fields(stmt, sh, now_seconds());
        int rc = sqlite3_step(stmt);
        if (rc != SQLITE_DONE)
                return sql_fail(s, error, rc, "cannot update share \"%s\"", sh->name);
        return 0;
}

int state_share_update(State *s, const Share *share, GError **error) {
        int r = validate_share(share, error);
        if (r < 0)
                return r;
        return in_transaction(s, do_update, (void *) share, error);
}

static int do_delete(State *s, void *data, GError **error) {
        const char *name = data;
        g_autoptr(CachedStmt) stmt = NULL;
        int r = prepare(s, "DELETE FROM shares WHERE name = ?1", "cannot delete a share", &stmt, error);
        if (r < 0)
                return r;
        bind_text(stmt, 1, name);
        g_autofree char *what = g_strdup_printf("cannot delete share \"%s\"", name);
        r = exec_stmt(s, stmt, error, what);
        if (r < 0)
                return r;
        if (sqlite3_changes(s->db) == 0)
                return np_fail(error, ENOENT, "share \"%s\" does not exist", name);
        return 0;
}

int state_share_delete(State *s, const char *name, GError **error) {
        if (!name)
                return np_fail(error, EINVAL, "no share name given");
        /* The journal rows go with it (ON DELETE CASCADE). */
        return in_transaction(s, do_delete, (void *) name, error);
}

/* ---- steps and the journal ---- */

typedef struct StepArgs {
        const char *name;
        const char *operation;
        const char *step;
        const char *phase;
        const char *message;
        const char *volume; /* a volume's step; NULL for the share's own */
} StepArgs;

static int journal_append(State *s, const StepArgs *a, int64_t now, GError **error) {
        g_autoptr(CachedStmt) stmt = NULL;
        int r = prepare(s,
                        "INSERT INTO journal (share, operation, step, phase, message, at, volume) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                        "cannot append to the journal", &stmt, error);
        if (r < 0)
                return r;
        bind_text(stmt, 1, a->name);
        bind_text(stmt, 2, a->operation);
        bind_text(stmt, 3, a->step);
        bind_text(stmt, 4, a->phase);
        bind_text(stmt, 5, a->message);
        sqlite3_bind_int64(stmt, 6, now);
        bind_text(stmt, 7, a->volume);
        g_autofree char *what = g_strdup_printf("cannot append to the journal of share \"%s\"", a->name);
        return exec_stmt(s, stmt, error, what);
}

static int do_step(State *s, void *data, GError **error) {
        const StepArgs *a = data;
        g_autoptr(Share) cur = NULL;
        int r = share_get_raw(s, a->name, &cur, error);
        if (r < 0)
                return r;

        if (strcmp(a->phase, "done") == 0 &&
            (g_strcmp0(cur->operation, a->operation) != 0 || g_strcmp0(cur->step, a->step) != 0))
                return np_fail(error, EINVAL,
                               "share \"%s\": cannot record step \"%s\" of %s as done: the step begun is \"%s\" of %s",
                               a->name, a->step, a->operation, cur->step ?: "(none)", cur->operation ?: "(none)");

        int64_t now = now_seconds();
        g_autoptr(CachedStmt) stmt = NULL;
        if (strcmp(a->phase, "fail") == 0) {
                r = prepare(s, "UPDATE shares SET operation = ?2, step = ?3, error = ?4, updated_at = ?5 WHERE name = ?1",
                            "cannot record a failed step", &stmt, error);
                if (r < 0)
                        return r;
                bind_text(stmt, 4, a->message);
        } else {
                r = prepare(s,
                            "UPDATE shares SET operation = ?2, step = ?3, step_done = ?4, updated_at = ?5 "
                            "WHERE name = ?1",
                            "cannot record a step", &stmt, error);
                if (r < 0)
                        return r;
                sqlite3_bind_int(stmt, 4, strcmp(a->phase, "done") == 0 ? 1 : 0);
        }
        bind_text(stmt, 1, a->name);
        bind_text(stmt, 2, a->operation);
        bind_text(stmt, 3, a->step);
        sqlite3_bind_int64(stmt, 5, now);
        g_autofree char *what = g_strdup_printf("cannot record step \"%s\" of share \"%s\"", a->step, a->name);
        r = exec_stmt(s, stmt, error, what);
        if (r < 0)
                return r;

        return journal_append(s, a, now, error);
}

static int record_step(State *s, const char *name, const char *operation, const char *step, const char *phase,
                       const char *message, GError **error) {
        if (!name || !*name)
                return np_fail(error, EINVAL, "no share name given");
        if (!is_operation(operation))
                return np_fail(error, EINVAL,
                               "share \"%s\": operation \"%s\" is not \"create\", \"delete\" or \"resize\"", name,
                               operation ?: "(null)");
        if (!step || !*step)
                return np_fail(error, EINVAL, "share \"%s\": no step name given for %s", name, operation);
        StepArgs a = { name, operation, step, phase, message, NULL };
        return in_transaction(s, do_step, &a, error);
}

typedef struct AdvanceArgs {
        const Share *share;
        const char *operation, *done_step, *begin_step;
} AdvanceArgs;

static int do_advance(State *s, void *data, GError **error) {
        const AdvanceArgs *a = data;
        int r = do_update(s, (void *) a->share, error);
        if (r < 0)
                return r;
        int64_t now = now_seconds();
        if (a->done_step) {
                StepArgs j = { a->share->name, a->operation, a->done_step, "done", NULL, NULL };
                r = journal_append(s, &j, now, error);
                if (r < 0)
                        return r;
        }
        if (a->begin_step) {
                StepArgs j = { a->share->name, a->operation, a->begin_step, "begin", NULL, NULL };
                r = journal_append(s, &j, now, error);
        }
        return r;
}

int state_step_advance(State *s, const Share *share, const char *operation, const char *done_step,
                       const char *begin_step, GError **error) {
        int r = validate_share(share, error);
        if (r < 0)
                return r;
        if (!is_operation(operation))
                return np_fail(error, EINVAL,
                               "share \"%s\": operation \"%s\" is not \"create\", \"delete\" or \"resize\"", share->name,
                               operation ?: "(null)");
        AdvanceArgs a = { share, operation, done_step, begin_step };
        return in_transaction(s, do_advance, &a, error);
}

static int do_journal(State *s, void *data, GError **error) {
        const StepArgs *a = data;
        bool exists;
        int r = share_exists(s, a->name, &exists, error);
        if (r < 0)
                return r;
        if (!exists)
                return np_fail(error, ENOENT, "share \"%s\" does not exist", a->name);
        return journal_append(s, a, now_seconds(), error);
}

int state_journal_add(State *s, const char *name, const char *volume, const char *operation, const char *step,
                      const char *phase, const char *message, GError **error) {
        if (!name || !operation || !step || !phase)
                return np_fail(error, EINVAL, "journal entry without a share, operation, step or phase");
        if (strcmp(phase, "begin") != 0 && strcmp(phase, "done") != 0 && strcmp(phase, "undo") != 0 &&
            strcmp(phase, "fail") != 0)
                return np_fail(error, EINVAL, "journal phase \"%s\" is not begin, done, undo or fail", phase);
        StepArgs a = { name, operation, step, phase, message, volume };
        return in_transaction(s, do_journal, &a, error);
}

int state_step_begin(State *s, const char *name, const char *operation, const char *step, GError **error) {
        return record_step(s, name, operation, step, "begin", NULL, error);
}

int state_step_done(State *s, const char *name, const char *operation, const char *step, GError **error) {
        return record_step(s, name, operation, step, "done", NULL, error);
}

int state_step_undo(State *s, const char *name, const char *operation, const char *step, GError **error) {
        return record_step(s, name, operation, step, "undo", NULL, error);
}

int state_step_fail(State *s, const char *name, const char *operation, const char *step, const char *message,
                    GError **error) {
        if (!message || !*message)
                return np_fail(error, EINVAL, "share \"%s\": a failed step needs a message", name ?: "(null)");
        return record_step(s, name, operation, step, "fail", message, error);
}

int state_journal_list(State *s, const char *name, GPtrArray **ret, GError **error) {
        if (!name)
                return np_fail(error, EINVAL, "no share name given");
        g_autoptr(CachedStmt) stmt = NULL;
        int r = prepare(s,
                        "SELECT id, share, operation, step, phase, message, at, volume FROM journal "
                        "WHERE share = ?1 ORDER BY id",
                        "cannot read the journal", &stmt, error);
        if (r < 0)
                return r;
        bind_text(stmt, 1, name);
        g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func((GDestroyNotify) journal_entry_free);
        for (;;) {
                int rc = sqlite3_step(stmt);
                if (rc == SQLITE_DONE)
                        break;
                if (rc != SQLITE_ROW)
                        return sql_fail(s, error, rc, "cannot read the journal of share \"%s\"", name);
                JournalEntry *e = g_new0(JournalEntry, 1);
                e->id = sqlite3_column_int64(stmt, 0);
                e->share = column_strdup(stmt, 1);
                e->operation = column_strdup(stmt, 2);
                e->step = column_strdup(stmt, 3);
                e->phase = column_strdup(stmt, 4);
                e->message = column_strdup(stmt, 5);
                e->at = sqlite3_column_int64(stmt, 6);
                e->volume = column_strdup(stmt, 7);
                g_ptr_array_add(list, e);
        }
        *ret = TAKE_PTR(list);
        return 0;
}

/* ---- volumes: the manifest ---- */

static const char *const volume_status_names[_VOLUME_STATUS_MAX] = {
        [VOLUME_CREATING] = "creating",
        [VOLUME_READY] = "ready",
        [VOLUME_DELETING] = "deleting",
};

const char *volume_status_to_string(VolumeStatus status) {
        return (unsigned) status < _VOLUME_STATUS_MAX ? volume_status_names[status] : NULL;
}

static int volume_status_from_string(const char *text, VolumeStatus *ret) {
        for (unsigned i = 0; text && i < _VOLUME_STATUS_MAX; i++)
                if (strcmp(text, volume_status_names[i]) == 0) {
                        *ret = (VolumeStatus) i;
                        return 0;
                }
        return -EINVAL;
}

void volume_free(Volume *v) {
        if (!v)
                return;
        g_free(v->share);
        g_free(v->name);
        g_free(v->format);
        g_free(v->backing);
        g_free(v->operation);
        g_free(v->step);
        g_free(v->error);
        g_free(v);
}

Volume *volume_copy(const Volume *v) {
        if (!v)
                return NULL;
        Volume *c = g_new(Volume, 1);
        *c = *v;
        c->share = g_strdup(v->share);
        c->name = g_strdup(v->name);
        c->format = g_strdup(v->format);
        c->backing = g_strdup(v->backing);
        c->operation = g_strdup(v->operation);
        c->step = g_strdup(v->step);
        c->error = g_strdup(v->error);
        return c;
}

#define VOLUME_COLUMNS                                                                                           \
        "share, name, capacity, format, backing, ino, status, operation, step, step_done, error, created_at, " \
        "updated_at"

static int volume_from_row(State *s, sqlite3_stmt *stmt, Volume **ret, GError **error) {
        g_autoptr(Volume) v = g_new0(Volume, 1);
        v->share = column_strdup(stmt, 0);
        v->name = column_strdup(stmt, 1);
        v->capacity = (uint64_t) sqlite3_column_int64(stmt, 2);
        v->format = column_strdup(stmt, 3);
        v->backing = column_strdup(stmt, 4);
        v->ino = (uint64_t) sqlite3_column_int64(stmt, 5);
        if (volume_status_from_string((const char *) sqlite3_column_text(stmt, 6), &v->status) < 0)
                return np_fail(error, EBADMSG, "state database %s: volume \"%s\" of share \"%s\" has an unknown status",
                               s->path, v->name, v->share);
        v->operation = column_strdup(stmt, 7);
        v->step = column_strdup(stmt, 8);
        v->step_done = sqlite3_column_int(stmt, 9) != 0;
        v->error = column_strdup(stmt, 10);
        v->created_at = sqlite3_column_int64(stmt, 11);
        v->updated_at = sqlite3_column_int64(stmt, 12);
        *ret = TAKE_PTR(v);
        return 0;
}

static int validate_volume(const Volume *v, GError **error) {
        if (!v || !v->share || !*v->share || !v->name || !*v->name)
                return np_fail(error, EINVAL, "cannot record a volume without a share and a name");
        if (g_strcmp0(v->format, "qcow2") != 0)
                return np_fail(error, EINVAL, "volume \"%s\": format \"%s\" is not qcow2", v->name,
                               v->format ? v->format : "(null)");
        if (v->capacity > INT64_MAX || v->ino > INT64_MAX)
                return np_fail(error, ERANGE, "volume \"%s\": capacity or inode out of range", v->name);
        if (!volume_status_to_string(v->status))
                return np_fail(error, EINVAL, "volume \"%s\": invalid status %d", v->name, (int) v->status);
        return 0;
}

static void bind_volume(sqlite3_stmt *stmt, const Volume *v, int64_t now) {
        /* the order of VOLUME_COLUMNS */
        bind_text(stmt, 1, v->share);
        bind_text(stmt, 2, v->name);
        sqlite3_bind_int64(stmt, 3, (sqlite3_int64) v->capacity);
        bind_text(stmt, 4, v->format);
        bind_text(stmt, 5, v->backing);
        sqlite3_bind_int64(stmt, 6, (sqlite3_int64) v->ino);
        bind_text(stmt, 7, volume_status_to_string(v->status));
        bind_text(stmt, 8, v->operation);
        bind_text(stmt, 9, v->step);
        sqlite3_bind_int(stmt, 10, v->step_done ? 1 : 0);
        bind_text(stmt, 11, v->error);
        sqlite3_bind_int64(stmt, 12, now);
        sqlite3_bind_int64(stmt, 13, now);
}

static int do_volume_insert(State *s, void *data, GError **error) {
        const Volume *v = data;
        bool exists;
        int r = share_exists(s, v->share, &exists, error);
        if (r < 0)
                return r;
        if (!exists)
                return np_fail(error, ENOENT, "share \"%s\" does not exist", v->share);
        g_autoptr(CachedStmt) stmt = NULL;
        r = prepare(s, "INSERT INTO volumes (" VOLUME_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                    "cannot insert a volume", &stmt, error);
        if (r < 0)
                return r;
        bind_volume(stmt, v, now_seconds());
        int rc = sqlite3_step(stmt);
        if ((rc & 0xff) == SQLITE_CONSTRAINT)
                return np_fail(error, EEXIST, "volume \"%s\" of share \"%s\" exists", v->name, v->share);
        if (rc != SQLITE_DONE)
                return sql_fail(s, error, rc, "cannot insert volume \"%s\"", v->name);
        if (v->operation && v->step && !v->step_done) {
                StepArgs j = { v->share, v->operation, v->step, "begin", NULL, v->name };
                return journal_append(s, &j, now_seconds(), error);
        }
        return 0;
}

int state_volume_insert(State *s, const Volume *v, GError **error) {
        int r = validate_volume(v, error);
        if (r < 0)
                return r;
        return in_transaction(s, do_volume_insert, (void *) v, error);
}

int state_volume_get(State *s, const char *share, const char *name, Volume **ret, GError **error) {
        g_autoptr(CachedStmt) stmt = NULL;
        int r = prepare(s, "SELECT " VOLUME_COLUMNS " FROM volumes WHERE share = ?1 AND name = ?2", "cannot read a volume",
                        &stmt, error);
        if (r < 0)
                return r;
        bind_text(stmt, 1, share);
        bind_text(stmt, 2, name);
        int rc = sqlite3_step(stmt);
        if (rc == SQLITE_DONE)
                return np_fail(error, ENOENT, "volume \"%s\" of share \"%s\" does not exist", name, share);
        if (rc != SQLITE_ROW)
                return sql_fail(s, error, rc, "cannot read volume \"%s\"", name);
        return volume_from_row(s, stmt, ret, error);
}

static int volume_row(State *s, sqlite3_stmt *stmt, gpointer *ret, GError **error) {
        Volume *row = NULL;
        int r = volume_from_row(s, stmt, &row, error);
        if (r >= 0)
                *ret = row;
        return r;
}

int state_volume_list(State *s, const char *share, GPtrArray **ret, GError **error) {
        g_autoptr(CachedStmt) stmt = NULL;
        int r = prepare(s,
                        share ? "SELECT " VOLUME_COLUMNS " FROM volumes WHERE share = ?1 ORDER BY name"
                              : "SELECT " VOLUME_COLUMNS " FROM volumes ORDER BY share, name",
                        "cannot list volumes", &stmt, error);
        if (r < 0)
                return r;
        if (share)
                bind_text(stmt, 1, share);
        return collect_rows(s, stmt, volume_row, (GDestroyNotify) volume_free, "cannot list volumes", ret, error);
}

static int do_volume_update(State *s, void *data, GError **error) {
        const Volume *v = data;
        g_autoptr(CachedStmt) stmt = NULL;
        int r = prepare(s,
                        "UPDATE volumes SET capacity = ?3, format = ?4, backing = ?5, ino = ?6, status = ?7, "
                        "operation = ?8, step = ?9, step_done = ?10, error = ?11, updated_at = ?13 "
                        "WHERE share = ?1 AND name = ?2",
                        "cannot update a volume", &stmt, error);
        if (r < 0)
                return r;
        bind_volume(stmt, v, now_seconds());
        r = exec_stmt(s, stmt, error, "cannot update a volume");
        if (r < 0)
                return r;
        if (sqlite3_changes(s->db) == 0)
                return np_fail(error, ENOENT, "volume \"%s\" of share \"%s\" does not exist", v->name, v->share);
        return 0;
}

int state_volume_update(State *s, const Volume *v, GError **error) {
        int r = validate_volume(v, error);
        if (r < 0)
                return r;
        return in_transaction(s, do_volume_update, (void *) v, error);
}

typedef struct VolumeKey {
        const char *share, *name;
} VolumeKey;

static int do_volume_delete(State *s, void *data, GError **error) {
        const VolumeKey *k = data;
        g_autoptr(CachedStmt) stmt = NULL;
        int r = prepare(s, "DELETE FROM volumes WHERE share = ?1 AND name = ?2", "cannot delete a volume", &stmt, error);
        if (r < 0)
                return r;
        bind_text(stmt, 1, k->share);
        bind_text(stmt, 2, k->name);
        r = exec_stmt(s, stmt, error, "cannot delete a volume");
        if (r < 0)
                return r;
        if (sqlite3_changes(s->db) == 0)
                return np_fail(error, ENOENT, "volume \"%s\" of share \"%s\" does not exist", k->name, k->share);
        return 0;
}

int state_volume_delete(State *s, const char *share, const char *name, GError **error) {
        VolumeKey k = { share, name };
        return in_transaction(s, do_volume_delete, &k, error);
}

typedef struct VolumeAdvance {
        const Volume *v;
        const char *operation, *done_step, *begin_step;
} VolumeAdvance;

static int do_volume_advance(State *s, void *data, GError **error) {
        const VolumeAdvance *a = data;
        int r = do_volume_update(s, (void *) a->v, error);
        if (r < 0)
                return r;
        int64_t now = now_seconds();
        if (a->done_step) {
                StepArgs j = { a->v->share, a->operation, a->done_step, "done", NULL, a->v->name };
                r = journal_append(s, &j, now, error);
                if (r < 0)
                        return r;
        }
        if (a->begin_step) {
                StepArgs j = { a->v->share, a->operation, a->begin_step, "begin", NULL, a->v->name };
                r = journal_append(s, &j, now, error);
        }
        return r;
}

int state_volume_advance(State *s, const Volume *v, const char *operation, const char *done_step,
                         const char *begin_step, GError **error) {
        int r = validate_volume(v, error);
        if (r < 0)
                return r;
        VolumeAdvance a = { v, operation, done_step, begin_step };
        return in_transaction(s, do_volume_advance, &a, error);
}

/* ---- the guard's quarantine ---- */

static const char *const quarantine_status_names[_QUARANTINE_STATUS_MAX] = {
        [QUARANTINE_COPYING] = "copying",
        [QUARANTINE_READY] = "ready",
        [QUARANTINE_RESTORING] = "restoring",
};

const char *quarantine_status_to_string(QuarantineStatus status) {
        return (unsigned) status < _QUARANTINE_STATUS_MAX ? quarantine_status_names[status] : NULL;
}

static int quarantine_status_from_string(const char *text, QuarantineStatus *ret) {
        for (unsigned i = 0; text && i < _QUARANTINE_STATUS_MAX; i++)
                if (strcmp(text, quarantine_status_names[i]) == 0) {
                        *ret = (QuarantineStatus) i;
                        return 0;
                }
        return -EINVAL;
}

void quarantine_item_free(QuarantineItem *q) {
        if (!q)
                return;
        g_free(q->share);
        g_free(q->path);
        g_free(q->name);
        g_free(q->kind);
        g_free(q->operation);
        g_free(q->step);
        g_free(q->error);
        g_free(q);
}

#define QUARANTINE_COLUMNS                                                                                       \
        "id, share, path, name, kind, size, uid, gid, mode, mtime, mtime_nsec, ino, quarantined_at, status, "   \
        "operation, step, step_done, error, updated_at"

static int quarantine_from_row(State *s, sqlite3_stmt *stmt, QuarantineItem **ret, GError **error) {
        g_autoptr(QuarantineItem) q = g_new0(QuarantineItem, 1);
        q->id = sqlite3_column_int64(stmt, 0);
        q->share = column_strdup(stmt, 1);
        q->path = column_strdup(stmt, 2);
        q->name = column_strdup(stmt, 3);
        q->kind = column_strdup(stmt, 4);
        q->size = (uint64_t) sqlite3_column_int64(stmt, 5);
        q->uid = (uint32_t) sqlite3_column_int64(stmt, 6);
        q->gid = (uint32_t) sqlite3_column_int64(stmt, 7);
        q->mode = (uint32_t) sqlite3_column_int64(stmt, 8);
        q->mtime = sqlite3_column_int64(stmt, 9);
        q->mtime_nsec = sqlite3_column_int64(stmt, 10);
        q->ino = (uint64_t) sqlite3_column_int64(stmt, 11);
        q->quarantined_at = sqlite3_column_int64(stmt, 12);
        if (quarantine_status_from_string((const char *) sqlite3_column_text(stmt, 13), &q->status) < 0)
                return np_fail(error, EBADMSG, "state database %s: quarantined item \"%s\" of share \"%s\" has an "
                                               "unknown status", s->path, q->name, q->share);
        q->operation = column_strdup(stmt, 14);
        q->step = column_strdup(stmt, 15);
        q->step_done = sqlite3_column_int(stmt, 16) != 0;
        q->error = column_strdup(stmt, 17);
        q->updated_at = sqlite3_column_int64(stmt, 18);
        *ret = TAKE_PTR(q);
        return 0;
}

static int validate_quarantine(const QuarantineItem *q, GError **error) {
        if (!q || !q->share || !*q->share || !q->path || !*q->path || !q->name || !*q->name)
                return np_fail(error, EINVAL, "cannot record a quarantined item without a share, a path and a name");
        if (g_strcmp0(q->kind, "file") != 0 && g_strcmp0(q->kind, "symlink") != 0 &&
            g_strcmp0(q->kind, "directory") != 0)
                return np_fail(error, EINVAL, "quarantined item \"%s\": kind \"%s\" is not file, symlink or directory",
                               q->name, q->kind ? q->kind : "(null)");
        if (q->size > INT64_MAX || q->ino > INT64_MAX || q->mtime_nsec < 0)
                return np_fail(error, ERANGE, "quarantined item \"%s\": size or inode out of range", q->name);
        if (!quarantine_status_to_string(q->status))
                return np_fail(error, EINVAL, "quarantined item \"%s\": invalid status %d", q->name, (int) q->status);
        return 0;
}

static void bind_quarantine(sqlite3_stmt *stmt, const QuarantineItem *q, int64_t now) {
        /* the order of QUARANTINE_COLUMNS; id (1) bound by the caller */
        bind_text(stmt, 2, q->share);
        bind_text(stmt, 3, q->path);
        bind_text(stmt, 4, q->name);
        bind_text(stmt, 5, q->kind);
        sqlite3_bind_int64(stmt, 6, (sqlite3_int64) q->size);
        sqlite3_bind_int64(stmt, 7, q->uid);
        sqlite3_bind_int64(stmt, 8, q->gid);
        sqlite3_bind_int64(stmt, 9, q->mode);
        sqlite3_bind_int64(stmt, 10, q->mtime);
        sqlite3_bind_int64(stmt, 11, q->mtime_nsec);
        sqlite3_bind_int64(stmt, 12, (sqlite3_int64) q->ino);
        sqlite3_bind_int64(stmt, 13, q->quarantined_at);
        bind_text(stmt, 14, quarantine_status_to_string(q->status));
        bind_text(stmt, 15, q->operation);
        bind_text(stmt, 16, q->step);
        sqlite3_bind_int(stmt, 17, q->step_done ? 1 : 0);
        bind_text(stmt, 18, q->error);
        sqlite3_bind_int64(stmt, 19, now);
}

static int do_quarantine_insert(State *s, void *data, GError **error) {
        QuarantineItem *q = data;
        g_autoptr(CachedStmt) stmt = NULL;
        int r = prepare(s,
                        "INSERT INTO quarantine (" QUARANTINE_COLUMNS ") VALUES (NULL, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
                        "?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
                        "cannot insert a quarantined item", &stmt, error);
        if (r < 0)
                return r;
        bind_quarantine(stmt, q, now_seconds());
        int rc = sqlite3_step(stmt);
        if ((rc & 0xff) == SQLITE_CONSTRAINT)
                return np_fail(error, EEXIST, "quarantined item \"%s\" of share \"%s\" exists", q->name, q->share);
        if (rc != SQLITE_DONE)
                return sql_fail(s, error, rc, "cannot insert quarantined item \"%s\"", q->name);
        q->id = sqlite3_last_insert_rowid(s->db);
        return 0;
}

int state_quarantine_insert(State *s, QuarantineItem *q, GError **error) {
        int r = validate_quarantine(q, error);
        if (r < 0)
                return r;
        return in_transaction(s, do_quarantine_insert, q, error);
}

int state_quarantine_get(State *s, const char *share, const char *name, QuarantineItem **ret, GError **error) {
        g_autoptr(CachedStmt) stmt = NULL;
        int r = prepare(s, "SELECT " QUARANTINE_COLUMNS " FROM quarantine WHERE share = ?1 AND name = ?2",
                        "cannot read a quarantined item", &stmt, error);
        if (r < 0)
                return r;
        bind_text(stmt, 1, share);
        bind_text(stmt, 2, name);
        int rc = sqlite3_step(stmt);
        if (rc == SQLITE_DONE)
                return np_fail(error, ENOENT, "share \"%s\" has no quarantined item \"%s\"", share, name);
        if (rc != SQLITE_ROW)
                return sql_fail(s, error, rc, "cannot read quarantined item \"%s\"", name);
        return quarantine_from_row(s, stmt, ret, error);
}

static int quarantine_row(State *s, sqlite3_stmt *stmt, gpointer *ret, GError **error) {
        QuarantineItem *row = NULL;
        int r = quarantine_from_row(s, stmt, &row, error);
        if (r >= 0)
                *ret = row;
        return r;
}

int state_quarantine_list(State *s, const char *share, GPtrArray **ret, GError **error) {
        g_autoptr(CachedStmt) stmt = NULL;
        int r = prepare(s,
                        share ? "SELECT " QUARANTINE_COLUMNS " FROM quarantine WHERE share = ?1 ORDER BY name"
                              : "SELECT " QUARANTINE_COLUMNS " FROM quarantine ORDER BY share, name",
                        "cannot list the quarantine", &stmt, error);
        if (r < 0)
                return r;
        if (share)
                bind_text(stmt, 1, share);
        return collect_rows(s, stmt, quarantine_row, (GDestroyNotify) quarantine_item_free, "cannot list the quarantine",
                            ret, error);
}

static int do_quarantine_update(State *s, void *data, GError **error) {
        const QuarantineItem *q = data;
        g_autoptr(CachedStmt) stmt = NULL;
        int r = prepare(s,
                        "UPDATE quarantine SET share = ?2, path = ?3, name = ?4, kind = ?5, size = ?6, uid = ?7, "
                        "gid = ?8, mode = ?9, mtime = ?10, mtime_nsec = ?11, ino = ?12, quarantined_at = ?13, "
                        "status = ?14, operation = ?15, step = ?16, step_done = ?17, error = ?18, updated_at = ?19 "
                        "WHERE id = ?1",
                        "cannot update a quarantined item", &stmt, error);
        if (r < 0)
                return r;
        sqlite3_bind_int64(stmt, 1, q->id);
        bind_quarantine(stmt, q, now_seconds());
        r = exec_stmt(s, stmt, error, "cannot update a quarantined item");
        if (r < 0)
                return r;
        if (sqlite3_changes(s->db) == 0)
                return np_fail(error, ENOENT, "quarantined item \"%s\" of share \"%s\" does not exist", q->name,
                               q->share);
        return 0;
}

int state_quarantine_update(State *s, const QuarantineItem *q, GError **error) {
        int r = validate_quarantine(q, error);
        if (r < 0)
                return r;
        return in_transaction(s, do_quarantine_update, (void *) q, error);
}

static int do_quarantine_delete(State *s, void *data, GError **error) {
        const int64_t *id = data;
        g_autoptr(CachedStmt) stmt = NULL;
        int r = prepare(s, "DELETE FROM quarantine WHERE id = ?1", "cannot delete a quarantined item", &stmt, error);
        if (r < 0)
                return r;
        sqlite3_bind_int64(stmt, 1, *id);
        r = exec_stmt(s, stmt, error, "cannot delete a quarantined item");
        if (r < 0)
                return r;
        if (sqlite3_changes(s->db) == 0)
                return np_fail(error, ENOENT, "quarantined item %" G_GINT64_FORMAT " does not exist", *id);
        return 0;
}

int state_quarantine_delete(State *s, int64_t id, GError **error) {
        return in_transaction(s, do_quarantine_delete, &id, error);
}

typedef struct QuarantineAdvance {
        const QuarantineItem *q;
        const char *operation, *done_step, *begin_step;
} QuarantineAdvance;

static int do_quarantine_advance(State *s, void *data, GError **error) {
        const QuarantineAdvance *a = data;
        int r = do_quarantine_update(s, (void *) a->q, error);
        if (r < 0)
                return r;
        /* the share's journal too, while the share exists (an item outlives its share) */
        bool exists;
        r = share_exists(s, a->q->share, &exists, error);
        if (r < 0 || !exists)
                return r;
        int64_t now = now_seconds();
        if (a->done_step) {
                StepArgs j = { a->q->share, a->operation, a->done_step, "done", a->q->name, NULL };
                r = journal_append(s, &j, now, error);
                if (r < 0)
                        return r;
        }
        if (a->begin_step) {
                StepArgs j = { a->q->share, a->operation, a->begin_step, "begin", a->q->name, NULL };
                r = journal_append(s, &j, now, error);
        }
        return r;
}

int state_quarantine_advance(State *s, const QuarantineItem *q, const char *operation, const char *done_step,
                             const char *begin_step, GError **error) {
        int r = validate_quarantine(q, error);
        if (r < 0)
                return r;
        QuarantineAdvance a = { q, operation, done_step, begin_step };
        return in_transaction(s, do_quarantine_advance, &a, error);
}

/* ---- caller transactions ---- */

typedef struct UserTx {
        int (*fn)(State *s, void *data);
        void *data;
} UserTx;

static int run_user_tx(State *s, void *data, GError **error) {
        UserTx *u = data;
        int r = u->fn(s, u->data);
        if (r < 0)
                return np_fail(error, -r, "state database %s: transaction rolled back: %s", s->path,
                               g_strerror(-r));
        return 0;
}

int state_transaction(State *s, int (*fn)(State *s, void *data), void *data, GError **error) {
        UserTx u = { fn, data };
        return in_transaction(s, run_user_tx, &u, error);
}

/* ---- opening ---- */

static int do_migrate(State *s, void *data, GError **error) {
        int64_t version, app_id, tables;
        int r;

        r = query_int(s, "PRAGMA user_version", &version, error);
        if (r < 0)
                return r;
        r = query_int(s, "PRAGMA application_id", &app_id, error);
        if (r < 0)
                return r;
        r = query_int(s, "SELECT count(*) FROM sqlite_master", &tables, error);
        if (r < 0)
                return r;

        if (app_id != 0 && app_id != STATE_APPLICATION_ID)
                return np_fail(error, EBADMSG,
                               "state database %s: not an nfsprov state database (application_id %#" PRIx64
                               "); move it away or choose another state_dir",
                               s->path, app_id);
        if (version == 0 && tables > 0)
                return np_fail(error, EBADMSG,
                               "state database %s: holds tables but no nfsprov schema version; "
                               "move it away or choose another state_dir",
                               s->path);
        const int latest = migrations[G_N_ELEMENTS(migrations) - 1].version;
        if (version > latest)
                return np_fail(error, ENOTSUP,
                               "state database %s: schema version %" PRId64 " was written by a newer nfsprovd "
                               "(this one knows up to version %d)",
                               s->path, version, latest);

        if (app_id == 0) {
                /* A new file (checked above: no tables). */
                r = exec_fixed(s, STATE_SET_APPLICATION_ID, error, "cannot mark the file as nfsprov's");
                if (r < 0)
                        return r;
        }

        for (size_t i = 0; i < G_N_ELEMENTS(migrations); i++) {
                if (migrations[i].version <= version)
                        continue;
                g_assert(migrations[i].version == version + 1);
                g_autofree char *what = g_strdup_printf("cannot migrate the schema to version %d",
                                                        migrations[i].version);
                r = exec_fixed(s, migrations[i].sql, error, what);
                if (r < 0)
                        return r;
                r = query_int(s, "PRAGMA user_version", &version, error);
                if (r < 0)
                        return r;
                g_assert(version == migrations[i].version);
        }
        return 0;
}

/* Create the file with mode 0600 before SQLite does (it would use 0644 & ~umask); SQLite gives
 * the -wal and -shm files the mode of the database file. */
static int prepare_db_file(const char *path, GError **error) {
        _cleanup_close_ int fd = -1;
        g_autoptr(GError) e = NULL;
        int r = safepath_open(path, O_RDWR | O_CREAT, 0600, &fd, &e);
        if (r < 0)
                return np_fail_prefix(error, g_steal_pointer(&e), "state database");
        struct stat st;
        if (fstat(fd, &st) < 0)
                return np_fail(error, errno, "state database %s: cannot stat: %s", path, g_strerror(errno));
        if (!S_ISREG(st.st_mode))
                return np_fail(error, EINVAL, "state database %s: not a regular file", path);
        if ((st.st_mode & 07777) != 0600 && fchmod(fd, 0600) < 0)
                return np_fail(error, errno, "state database %s: cannot set mode 0600: %s", path,
                               g_strerror(errno));
        return 0;
}

int state_open(const char *state_dir, State **ret, GError **error) {
        int r;

        if (!state_dir || !*state_dir)
                return np_fail(error, EINVAL, "no state directory given");
        _cleanup_close_ int dirfd = -1;
        g_autoptr(GError) e = NULL;
        r = safepath_mkdir_p(state_dir, 0700, &dirfd, &e);
        if (r < 0)
                return np_fail_prefix(error, g_steal_pointer(&e), "state directory %s", state_dir);

        g_autofree char *path = g_build_filename(state_dir, STATE_DB_NAME, NULL);
        r = prepare_db_file(path, error);
        if (r < 0)
                return r;

        g_autoptr(State) s = g_new0(State, 1);
        s->path = TAKE_PTR(path);
        int rc = sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_NOFOLLOW,
                                 NULL);
        if (rc != SQLITE_OK)
                return sql_fail(s, error, rc, "cannot open");
        sqlite3_extended_result_codes(s->db, 1);
        rc = sqlite3_busy_timeout(s->db, 5000);
        if (rc != SQLITE_OK)
                return sql_fail(s, error, rc, "cannot set the busy timeout");

        /* journal_mode answers with the mode in effect: anything else than "wal" means the
         * file system cannot do WAL (e.g. no shared memory); refuse rather than run less safely. */
        g_autofree char *mode = NULL;
        r = query_text(s, "PRAGMA journal_mode = WAL", &mode, error);
        if (r < 0)
                return r;
        if (g_ascii_strcasecmp(mode ?: "", "wal") != 0)
                return np_fail(error, EIO, "state database %s: cannot switch to WAL journal mode (mode is %s)",
                               s->path, mode ?: "unknown");
        r = exec_fixed(s, "PRAGMA synchronous = FULL", error, "cannot set synchronous=FULL");
        if (r < 0)
                return r;
        r = exec_fixed(s, "PRAGMA foreign_keys = ON", error, "cannot enable foreign keys");
        if (r < 0)
                return r;

        g_autofree char *check = NULL;
        r = query_text(s, "PRAGMA quick_check", &check, error);
        if (r < 0)
                return r;
        if (g_strcmp0(check, "ok") != 0) {
                /* One line: SQLite prefixes "*** in database main ***\n" and may list several pages. */
                const char *what = check ?: "no answer";
                if (g_str_has_prefix(what, "*** in database main ***"))
                        what += strlen("*** in database main ***");
                g_autofree char *line = g_strstrip(g_strdelimit(g_strdup(what), "\r\n", ' '));
                return np_fail(error, EBADMSG,
                               "state database %s: integrity check failed: %s (move it away and restore a backup)",
                               s->path, line);
        }

        r = in_transaction(s, do_migrate, NULL, error);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(s);
        return 0;
}

void state_close(State *s) {
        if (!s)
                return;
        if (s->stmts)
                g_hash_table_unref(s->stmts); /* finalized before the close */
        if (s->db)
                sqlite3_close_v2(s->db);
        g_free(s->path);
        g_free(s);
}

const char *state_path(const State *s) {
        return s->path;
}

void state_info_clear(StateInfo *info) {
        if (info)
                g_clear_pointer(&info->journal_mode, g_free);
}

int state_info(State *s, StateInfo *ret, GError **error) {
        StateInfo info = {};
        int64_t v;
        int r;

        r = query_text(s, "PRAGMA journal_mode", &info.journal_mode, error);
        if (r < 0)
                goto fail;
        r = query_int(s, "PRAGMA synchronous", &v, error);
        if (r < 0)
                goto fail;
        info.synchronous = (int) v;
        r = query_int(s, "PRAGMA foreign_keys", &v, error);
        if (r < 0)
                goto fail;
        info.foreign_keys = v != 0;
        r = query_int(s, "PRAGMA busy_timeout", &v, error);
        if (r < 0)
                goto fail;
        info.busy_timeout_ms = (int) v;
        r = query_int(s, "PRAGMA user_version", &v, error);
        if (r < 0)
                goto fail;
        info.schema_version = (int) v;
        *ret = info;
        return 0;
fail:
        state_info_clear(&info);
        return r;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "error.h"
#include "state.h"
#include "steps.h"
#include "unit.h"

static char *root; /* removed at the end */
static char *dir;  /* the state dir: root or below it */

static void setup(void) {
        root = unit_mkdtemp();
        dir = g_strdup(root);
}

static void teardown(void) {
        unit_rm_rf(root);
        g_clear_pointer(&root, g_free);
        g_clear_pointer(&dir, g_free);
}

static char *db_path(void) {
        return g_build_filename(dir, STATE_DB_NAME, NULL);
}

static State *open_ok(void) {
        State *s = NULL;
        g_autoptr(GError) e = NULL;
        int r = state_open(dir, &s, &e);
        ck_assert_msg(r == 0, "state_open: %d %s", r, e ? e->message : "");
        return s;
}

/* A share as the engine records it at the start of create. */
static Share *sample(const char *name, const char *source) {
        Share *sh = g_new0(Share, 1);
        sh->name = g_strdup(name);
        sh->pool_uuid = g_strdup_printf("pool-uuid-of-%s", name);
        sh->fs_uuid = g_strdup_printf("fs-uuid-of-%s", name);
        sh->backend = g_strdup("image");
        sh->source = g_strdup(source);
        sh->size = UINT64_C(10) << 30;
        sh->clients = g_strdup("192.168.1.0/24 10.0.0.5");
        sh->options = g_strdup("rw,no_root_squash,sync,no_subtree_check");
        sh->status = SHARE_CREATING;
        sh->operation = g_strdup("create");
        sh->step = g_strdup("validate");
        sh->step_done = true;
        sh->target_size = 0;
        sh->error = NULL;
        sh->source_ino = 131074;
        sh->dir_ino = 0;
        return sh;
}

static void assert_same_share(const Share *a, const Share *b) {
        ck_assert_str_eq(a->name, b->name);
        ck_assert_str_eq(a->pool_uuid, b->pool_uuid);
        ck_assert_pstr_eq(a->fs_uuid, b->fs_uuid);
        ck_assert_str_eq(a->backend, b->backend);
        ck_assert_pstr_eq(a->source, b->source);
        ck_assert_uint_eq(a->size, b->size);
        ck_assert_pstr_eq(a->clients, b->clients);
        ck_assert_pstr_eq(a->options, b->options);
        ck_assert_int_eq(a->status, b->status);
        ck_assert_pstr_eq(a->operation, b->operation);
        ck_assert_pstr_eq(a->step, b->step);
        ck_assert_int_eq(a->step_done, b->step_done);
        ck_assert_uint_eq(a->target_size, b->target_size);
        ck_assert_pstr_eq(a->error, b->error);
        ck_assert_uint_eq(a->source_ino, b->source_ino);
        ck_assert_uint_eq(a->dir_ino, b->dir_ino);
}

/* A second, independent connection: what another process (or nfsprovd after a restart) sees. */
static sqlite3 *raw_open(void) {
        g_autofree char *p = db_path();
        sqlite3 *db = NULL;
        ck_assert_int_eq(sqlite3_open_v2(p, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
        return db;
}

static char *raw_text(sqlite3 *db, const char *sql) {
        sqlite3_stmt *stmt = NULL;
        ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
        char *v = NULL;
        if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_type(stmt, 0) != SQLITE_NULL)
                v = g_strdup((const char *) sqlite3_column_text(stmt, 0));
        sqlite3_finalize(stmt);
        return v;
}

START_TEST(test_status_strings) {
        for (ShareStatus st = 0; st < _SHARE_STATUS_MAX; st++) {
                ShareStatus back;
                ck_assert_int_eq(share_status_from_string(share_status_to_string(st), &back), 0);
                ck_assert_int_eq(back, st);
        }
        ck_assert_str_eq(share_status_to_string(SHARE_READY), "ready");
        ShareStatus x = SHARE_READY;
        ck_assert_int_eq(share_status_from_string("Ready", &x), -EINVAL);
        ck_assert_int_eq(share_status_from_string("", &x), -EINVAL);
        ck_assert_int_eq(x, SHARE_READY);
        ck_assert_ptr_null(share_status_to_string(_SHARE_STATUS_MAX));
}
END_TEST

START_TEST(test_schema_created_with_modes_and_pragmas) {
        /* The state dir is created with parents, mode 0700; the file 0600 whatever the umask. */
        g_free(dir);
        dir = g_build_filename(root, "var", "lib", "nfsprov", NULL);
        umask(0);

        g_autoptr(State) s = open_ok();
        struct stat st;
        ck_assert_int_eq(stat(dir, &st), 0);
        ck_assert_uint_eq(st.st_mode & 07777, 0700);
        g_autofree char *p = db_path();
        ck_assert_str_eq(state_path(s), p);
        ck_assert_int_eq(stat(p, &st), 0);
        ck_assert_uint_eq(st.st_mode & 07777, 0600);

        /* The connection's settings as SQLite reports them. */
        StateInfo info;
        ck_assert_int_eq(state_info(s, &info, NULL), 0);
        ck_assert_str_eq(info.journal_mode, "wal");
        ck_assert_int_eq(info.synchronous, 2); /* FULL */
        ck_assert(info.foreign_keys);
        ck_assert_int_eq(info.busy_timeout_ms, 5000);
        ck_assert_int_eq(info.schema_version, STATE_SCHEMA_VERSION);
        state_info_clear(&info);

        /* A write goes to the WAL file, which has the database file's mode. */
        g_autoptr(Share) a = sample("A", "/img/A.img");
        ck_assert_int_eq(state_share_insert(s, a, NULL), 0);
        g_autofree char *wal = g_strconcat(p, "-wal", NULL);
        ck_assert_int_eq(stat(wal, &st), 0);
        ck_assert_uint_eq(st.st_mode & 07777, 0600);
        ck_assert_int_gt(st.st_size, 0);

        /* An independent connection sees the schema, the persistent WAL mode and the marks. */
        sqlite3 *db = raw_open();
        g_autofree char *mode = raw_text(db, "PRAGMA journal_mode");
        ck_assert_str_eq(mode, "wal");
        g_autofree char *version = raw_text(db, "PRAGMA user_version");
        g_autofree char *want = g_strdup_printf("%d", STATE_SCHEMA_VERSION);
        ck_assert_str_eq(version, want);
        g_autofree char *app = raw_text(db, "PRAGMA application_id");
        ck_assert_str_eq(app, "1313231696");
        g_autofree char *tables = raw_text(db, "SELECT group_concat(name, ',') FROM "
                                               "(SELECT name FROM sqlite_master WHERE type = 'table' "
                                               "AND name NOT LIKE 'sqlite_%' ORDER BY name)");
        ck_assert_str_eq(tables, "journal,quarantine,shares,volumes");
        g_autofree char *indexes = raw_text(db, "SELECT group_concat(name, ',') FROM "
                                                "(SELECT name FROM sqlite_master WHERE type = 'index' "
                                                "AND name LIKE 'shares_%' ORDER BY name)");
        ck_assert_str_eq(indexes, "shares_export_id,shares_fs_uuid,shares_pool_uuid,shares_source");
        sqlite3_close(db);
}
END_TEST

START_TEST(test_reopen_keeps_data) {
        g_autoptr(Share) a = sample("NFSStorage_01", "/home/NFS/.images/NFSStorage_01.img");
        a->status = SHARE_READY;
        g_free(a->operation);
        a->operation = NULL;
        a->error = g_strdup("previous failure: mkfs.ext4 exit status 1");
        a->size = UINT64_C(9223372036854775807); /* the largest size SQLite can hold */
        a->dir_ino = UINT64_C(9223372036854775807);
        {
                g_autoptr(State) s = open_ok();
                ck_assert_int_eq(state_share_insert(s, a, NULL), 0);
        }
        g_autoptr(State) s = open_ok();
        g_autoptr(Share) got = NULL;
        ck_assert_int_eq(state_share_get(s, "NFSStorage_01", &got, NULL), 0);
        assert_same_share(got, a);
        int64_t now = g_get_real_time() / G_USEC_PER_SEC;
        ck_assert_int_le(got->created_at, now);
        ck_assert_int_ge(got->created_at, now - 60);
        ck_assert_int_eq(got->updated_at, got->created_at);

        StateInfo info;
        ck_assert_int_eq(state_info(s, &info, NULL), 0);
        ck_assert_int_eq(info.schema_version, STATE_SCHEMA_VERSION);
        state_info_clear(&info);
}
END_TEST

/* A database written by the first nfsprovd (schema 1) is migrated: its rows stay, the inodes
 * it never recorded read as 0 (unknown), and they can be recorded from then on. */
START_TEST(test_migrate_from_schema_1) {
        {
                g_autofree char *p = db_path();
                sqlite3 *db = NULL;
                ck_assert_int_eq(sqlite3_open_v2(p, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL), SQLITE_OK);
                ck_assert_int_eq(
                        sqlite3_exec(db,
                                     "PRAGMA application_id = 1313231696;"
                                     "CREATE TABLE shares (name TEXT PRIMARY KEY NOT NULL CHECK (name <> ''),"
                                     " pool_uuid TEXT NOT NULL, fs_uuid TEXT, backend TEXT NOT NULL, source TEXT,"
                                     " size INTEGER NOT NULL, clients TEXT, options TEXT, status TEXT NOT NULL,"
                                     " operation TEXT, step TEXT, step_done INTEGER NOT NULL DEFAULT 0,"
                                     " target_size INTEGER NOT NULL DEFAULT 0, error TEXT,"
                                     " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
                                     "CREATE UNIQUE INDEX shares_source ON shares (source) WHERE source IS NOT NULL;"
                                     "CREATE UNIQUE INDEX shares_pool_uuid ON shares (pool_uuid);"
                                     "CREATE UNIQUE INDEX shares_fs_uuid ON shares (fs_uuid) WHERE fs_uuid IS NOT NULL;"
                                     "CREATE TABLE journal (id INTEGER PRIMARY KEY AUTOINCREMENT,"
                                     " share TEXT NOT NULL REFERENCES shares (name) ON DELETE CASCADE ON UPDATE CASCADE,"
                                     " operation TEXT NOT NULL, step TEXT NOT NULL, phase TEXT NOT NULL,"
                                     " message TEXT, at INTEGER NOT NULL);"
                                     "CREATE INDEX journal_share ON journal (share, id);"
                                     "INSERT INTO shares VALUES ('Old', 'pu', 'fu', 'image', '/i/Old.img', 65536,"
                                     " '*', 'rw', 'ready', NULL, 'apply', 1, 0, NULL, 1, 2);"
                                     "PRAGMA user_version = 1;",
                                     NULL, NULL, NULL),
                        SQLITE_OK);
                sqlite3_close(db);
        }
        g_autoptr(State) s = open_ok();
        StateInfo info;
        ck_assert_int_eq(state_info(s, &info, NULL), 0);
        ck_assert_int_eq(info.schema_version, STATE_SCHEMA_VERSION);
        state_info_clear(&info);
        g_autoptr(Share) old = NULL;
        ck_assert_int_eq(state_share_get(s, "Old", &old, NULL), 0);
        ck_assert_str_eq(old->source, "/i/Old.img");
        ck_assert_int_eq(old->status, SHARE_READY);
        ck_assert_uint_eq(old->source_ino, 0);
        ck_assert_uint_eq(old->dir_ino, 0);
        ck_assert_uint_eq(old->export_id, STATE_EXPORT_ID_FIRST); /* migration 6 numbered it */
        old->source_ino = 12;
        old->dir_ino = 34;
        ck_assert_int_eq(state_share_update(s, old, NULL), 0);
        g_autoptr(Share) back = NULL;
        ck_assert_int_eq(state_share_get(s, "Old", &back, NULL), 0);
        assert_same_share(back, old);
}
END_TEST

/* Each share gets its own NFS-Ganesha Export_Id at insert; an update (whatever the caller's
 * Share says) never changes it, and the id of a share that exists is never given to another. */
START_TEST(test_export_ids) {
        g_autoptr(State) s = open_ok();
        g_autoptr(Share) a = sample("A", "/img/A.img");
        g_autoptr(Share) b = sample("B", "/img/B.img");
        g_autoptr(Share) c = sample("C", "/img/C.img");
        a->export_id = 7; /* ignored */
        ck_assert_int_eq(state_share_insert(s, a, NULL), 0);
        ck_assert_int_eq(state_share_insert(s, b, NULL), 0);
        g_autoptr(Share) ga = NULL, gb = NULL;
        ck_assert_int_eq(state_share_get(s, "A", &ga, NULL), 0);
        ck_assert_int_eq(state_share_get(s, "B", &gb, NULL), 0);
        ck_assert_uint_eq(ga->export_id, STATE_EXPORT_ID_FIRST);
        ck_assert_uint_eq(gb->export_id, STATE_EXPORT_ID_FIRST + 1);

        ga->export_id = 4242;
        ga->status = SHARE_READY;
        ck_assert_int_eq(state_share_update(s, ga, NULL), 0);
        g_autoptr(Share) again = NULL;
        ck_assert_int_eq(state_share_get(s, "A", &again, NULL), 0);
        ck_assert_uint_eq(again->export_id, STATE_EXPORT_ID_FIRST);

        /* A is gone: C gets the next id, never B's */
        ck_assert_int_eq(state_share_delete(s, "A", NULL), 0);
        ck_assert_int_eq(state_share_insert(s, c, NULL), 0);
        g_autoptr(Share) gc = NULL;
        ck_assert_int_eq(state_share_get(s, "C", &gc, NULL), 0);
        ck_assert_uint_eq(gc->export_id, STATE_EXPORT_ID_FIRST + 2);

        /* at the top of the range, the lowest free id is taken */
        sqlite3 *db = raw_open();
        ck_assert_int_eq(sqlite3_exec(db, "UPDATE shares SET export_id = 65535 WHERE name = 'C'", NULL, NULL, NULL),
                         SQLITE_OK);
        sqlite3_close(db);
        g_autoptr(Share) d = sample("D", "/img/D.img");
        ck_assert_int_eq(state_share_insert(s, d, NULL), 0);
        g_autoptr(Share) gd = NULL;
        ck_assert_int_eq(state_share_get(s, "D", &gd, NULL), 0);
        ck_assert_uint_eq(gd->export_id, STATE_EXPORT_ID_FIRST);
}
END_TEST

START_TEST(test_crud) {
        g_autoptr(State) s = open_ok();
        g_autoptr(Share) b = sample("b_share", NULL);
        g_autoptr(Share) a = sample("a-share", "/dev/sdb");
        g_free(a->backend);
        a->backend = g_strdup("disk");
        ck_assert_int_eq(state_share_insert(s, b, NULL), 0);
        ck_assert_int_eq(state_share_insert(s, a, NULL), 0);

        g_autoptr(GPtrArray) list = NULL;
        ck_assert_int_eq(state_share_list(s, &list, NULL), 0);
        ck_assert_uint_eq(list->len, 2);
        assert_same_share(g_ptr_array_index(list, 0), a); /* ordered by name */
        assert_same_share(g_ptr_array_index(list, 1), b);

        /* Update the whole row. */
        g_autoptr(Share) got = NULL;
        ck_assert_int_eq(state_share_get(s, "b_share", &got, NULL), 0);
        int64_t created = got->created_at;
        g_autoptr(Share) nb = share_copy(got);
        assert_same_share(nb, got);
        g_free(nb->source);
        nb->source = g_strdup("/img/b.img");
        nb->size *= 2;
        nb->target_size = nb->size;
        nb->status = SHARE_RESIZING;
        g_free(nb->operation);
        nb->operation = g_strdup("resize");
        g_free(nb->step);
        nb->step = g_strdup("grow-disk");
        nb->step_done = false;
        g_free(nb->clients);
        nb->clients = NULL;
        nb->error = g_strdup("x");
        nb->created_at = 42; /* not the caller's to change */
        ck_assert_int_eq(state_share_update(s, nb, NULL), 0);
        g_clear_pointer(&got, share_free);
        ck_assert_int_eq(state_share_get(s, "b_share", &got, NULL), 0);
        assert_same_share(got, nb);
        ck_assert_int_eq(got->created_at, created);
        ck_assert_int_ge(got->updated_at, created);

        /* Delete. */
        ck_assert_int_eq(state_share_delete(s, "a-share", NULL), 0);
        g_autoptr(GError) e = NULL;
        g_autoptr(Share) none = NULL;
        ck_assert_int_eq(state_share_get(s, "a-share", &none, &e), -ENOENT);
        ck_assert_ptr_null(none);
        ck_assert_str_eq(e->message, "share \"a-share\" does not exist");
        ck_assert_int_eq(e->code, ENOENT);
        ck_assert_int_eq(state_share_delete(s, "a-share", NULL), -ENOENT);
        g_autoptr(Share) ghost = sample("ghost", NULL);
        ck_assert_int_eq(state_share_update(s, ghost, NULL), -ENOENT);

        g_clear_pointer(&list, g_ptr_array_unref);
        ck_assert_int_eq(state_share_list(s, &list, NULL), 0);
        ck_assert_uint_eq(list->len, 1);
        ck_assert_str_eq(((Share *) g_ptr_array_index(list, 0))->name, "b_share");
}
END_TEST

/* The entries of share's journal for volume vol, "PHASE STEP" joined with ", ". */
static char *volume_journal(State *s, const char *share, const char *vol) {
        g_autoptr(GPtrArray) journal = NULL;
        ck_assert_int_eq(state_journal_list(s, share, &journal, NULL), 0);
        g_autoptr(GString) out = g_string_new(NULL);
        for (guint i = 0; i < journal->len; i++) {
                JournalEntry *j = g_ptr_array_index(journal, i);
                if (g_strcmp0(j->volume, vol) != 0)
                        continue;
                g_string_append_printf(out, "%s%s %s", out->len ? ", " : "", j->phase, j->step);
        }
        return g_string_free(g_steal_pointer(&out), FALSE);
}

static int step_ok(void *op, GError **error) {
        (*(int *) op)++;
        return 0;
}

/* A new volume's row recorded with its first step begun (one commit), and the runner told so
 * (begun): the journal holds each begin and done once, in order, as for a row inserted first. */
START_TEST(test_volume_insert_begins_first_step) {
        g_autoptr(State) s = open_ok();
        g_autoptr(Share) web = sample("web", NULL);
        ck_assert_int_eq(state_share_insert(s, web, NULL), 0);
        Volume v = { .share = (char *) "web", .name = (char *) "vm1", .capacity = 1 << 20, .format = (char *) "qcow2",
                     .status = VOLUME_CREATING, .operation = (char *) "vol-create", .step = (char *) "make" };
        ck_assert_int_eq(state_volume_insert(s, &v, NULL), 0);
        g_autofree char *first = volume_journal(s, "web", "vm1");
        ck_assert_str_eq(first, "begin make");
        g_autoptr(Volume) row = NULL;
        ck_assert_int_eq(state_volume_get(s, "web", "vm1", &row, NULL), 0);
        ck_assert_str_eq(row->step, "make");
        ck_assert(!row->step_done);

        /* a row without a step (or with its step done) journals nothing */
        Volume plain = v;
        plain.name = (char *) "vm2";
        plain.operation = NULL;
        plain.step = NULL;
        ck_assert_int_eq(state_volume_insert(s, &plain, NULL), 0);
        g_autofree char *none = volume_journal(s, "web", "vm2");
        ck_assert_str_eq(none, "");

        static const Step two[] = { { "make", step_ok, NULL, NULL }, { "place", step_ok, NULL, NULL } };
        static const StepTable t = { "vol-create", two, 2 };
        int ran = 0;
        StepRunner run = { .state = s, .vol = row, .op = &ran, .total = 2, .begun = true };
        ck_assert_int_eq(steps_run(&run, &t, 0, 2, NULL, NULL), 0);
        ck_assert_int_eq(ran, 2);
        ck_assert_int_eq(steps_finish(&run, "vol-create", NULL), 0);
        g_autofree char *all = volume_journal(s, "web", "vm1");
        ck_assert_str_eq(all, "begin make, done make, begin place, done place");
}
END_TEST

/* The manifest: a share's volumes by name, their fields kept, one name once per share, gone
 * with their share; a volume's steps go to the journal under its name. */
START_TEST(test_volumes) {
        g_autoptr(State) s = open_ok();
        g_autoptr(Share) web = sample("web", NULL);
        g_autoptr(Share) db = sample("db", "/dev/sdc");
        ck_assert_int_eq(state_share_insert(s, web, NULL), 0);
        ck_assert_int_eq(state_share_insert(s, db, NULL), 0);

        Volume v = { .share = (char *) "web", .name = (char *) "vm2", .capacity = 21474836480ULL,
                     .format = (char *) "qcow2", .status = VOLUME_CREATING, .created_at = 5, .updated_at = 6 };
        ck_assert_int_eq(state_volume_insert(s, &v, NULL), 0);
        Volume linked = v;
        linked.name = (char *) "vm1";
        linked.backing = (char *) "vm2";
        linked.ino = 77;
        linked.status = VOLUME_READY;
        ck_assert_int_eq(state_volume_insert(s, &linked, NULL), 0);
        Volume other = v;
        other.share = (char *) "db";
        ck_assert_int_eq(state_volume_insert(s, &other, NULL), 0); /* the same name in another share */

        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(state_volume_insert(s, &v, &e), -EEXIST);
        ck_assert_ptr_nonnull(e);
        g_clear_error(&e);
        Volume orphan = v;
        orphan.share = (char *) "nosuch";
        ck_assert_int_eq(state_volume_insert(s, &orphan, &e), -ENOENT);
        g_clear_error(&e);

        g_autoptr(Volume) got = NULL;
        ck_assert_int_eq(state_volume_get(s, "web", "vm1", &got, NULL), 0);
        ck_assert_str_eq(got->backing, "vm2");
        ck_assert_uint_eq(got->ino, 77);
        ck_assert_uint_eq(got->capacity, 21474836480ULL);
        ck_assert_str_eq(got->format, "qcow2");
        ck_assert_int_eq(got->status, VOLUME_READY);
        ck_assert_int_gt(got->created_at, 1700000000); /* set by the insert */

        g_autoptr(GPtrArray) list = NULL;
        ck_assert_int_eq(state_volume_list(s, "web", &list, NULL), 0);
        ck_assert_uint_eq(list->len, 2);
        ck_assert_str_eq(((Volume *) g_ptr_array_index(list, 0))->name, "vm1");
        ck_assert_str_eq(((Volume *) g_ptr_array_index(list, 1))->name, "vm2");
        g_autoptr(GPtrArray) all = NULL;
        ck_assert_int_eq(state_volume_list(s, NULL, &all, NULL), 0);
        ck_assert_uint_eq(all->len, 3);
        ck_assert_str_eq(((Volume *) g_ptr_array_index(all, 0))->share, "db");

        /* the runner's record (the row as given, and the journal), then the update of the row */
        v.operation = (char *) "vol-create";
        v.step = (char *) "make";
        ck_assert_int_eq(state_volume_advance(s, &v, "vol-create", NULL, "make", NULL), 0);
        g_autoptr(Volume) mid = NULL;
        ck_assert_int_eq(state_volume_get(s, "web", "vm2", &mid, NULL), 0);
        ck_assert_str_eq(mid->operation, "vol-create");
        ck_assert_str_eq(mid->step, "make");
        ck_assert(!mid->step_done);
        mid->status = VOLUME_READY;
        mid->ino = 99;
        ck_assert_int_eq(state_volume_update(s, mid, NULL), 0);
        g_autoptr(Volume) after = NULL;
        ck_assert_int_eq(state_volume_get(s, "web", "vm2", &after, NULL), 0);
        ck_assert_int_eq(after->status, VOLUME_READY);
        ck_assert_uint_eq(after->ino, 99);
        g_autoptr(GPtrArray) journal = NULL;
        ck_assert_int_eq(state_journal_list(s, "web", &journal, NULL), 0);
        gboolean seen = false;
        for (guint i = 0; i < journal->len; i++) {
                JournalEntry *j = g_ptr_array_index(journal, i);
                if (g_strcmp0(j->volume, "vm2") == 0 && g_strcmp0(j->step, "make") == 0)
                        seen = true;
        }
        ck_assert(seen);

        ck_assert_int_eq(state_volume_delete(s, "web", "vm2", NULL), 0);
        ck_assert_int_eq(state_volume_delete(s, "web", "vm2", &e), -ENOENT);
        g_clear_error(&e);
        g_autoptr(Volume) gone = NULL;
        ck_assert_int_eq(state_volume_get(s, "web", "vm2", &gone, &e), -ENOENT);
        g_clear_error(&e);

        /* a share's volumes go with its row */
        ck_assert_int_eq(state_share_delete(s, "web", NULL), 0);
        g_autoptr(GPtrArray) left = NULL;
        ck_assert_int_eq(state_volume_list(s, NULL, &left, NULL), 0);
        ck_assert_uint_eq(left->len, 1);
        ck_assert_str_eq(((Volume *) g_ptr_array_index(left, 0))->share, "db");
}
END_TEST

/* The quarantine: items by share and name, their fields kept, one name once per share, steps
 * recorded in the row (and the share's journal while it exists), kept when the share is deleted. */
START_TEST(test_quarantine) {
        g_autoptr(State) s = open_ok();
        g_autoptr(Share) web = sample("web", NULL);
        ck_assert_int_eq(state_share_insert(s, web, NULL), 0);
        QuarantineItem q = { .share = (char *) "web", .path = (char *) "dir/notes.txt", .name = (char *) "notes.txt",
                             .kind = (char *) "file", .size = 100, .uid = 1234, .gid = 5678, .mode = 0100640,
                             .mtime = 7, .mtime_nsec = 8, .ino = 99, .quarantined_at = 10,
                             .status = QUARANTINE_COPYING };
        ck_assert_int_eq(state_quarantine_insert(s, &q, NULL), 0);
        ck_assert_int_gt(q.id, 0);
        g_autoptr(GError) e = NULL;
        QuarantineItem dup = q;
        ck_assert_int_eq(state_quarantine_insert(s, &dup, &e), -EEXIST);
        g_clear_error(&e);
        QuarantineItem bad = q;
        bad.kind = (char *) "fifo";
        bad.name = (char *) "other";
        ck_assert_int_eq(state_quarantine_insert(s, &bad, &e), -EINVAL);
        g_clear_error(&e);

        q.operation = g_strdup("quarantine");
        q.step = g_strdup("copy");
        ck_assert_int_eq(state_quarantine_advance(s, &q, "quarantine", NULL, "copy", NULL), 0);
        g_autoptr(QuarantineItem) got = NULL;
        ck_assert_int_eq(state_quarantine_get(s, "web", "notes.txt", &got, NULL), 0);
        ck_assert_str_eq(got->path, "dir/notes.txt");
        ck_assert_str_eq(got->kind, "file");
        ck_assert_uint_eq(got->size, 100);
        ck_assert_uint_eq(got->uid, 1234);
        ck_assert_uint_eq(got->gid, 5678);
        ck_assert_uint_eq(got->mode, 0100640);
        ck_assert_int_eq(got->mtime, 7);
        ck_assert_int_eq(got->mtime_nsec, 8);
        ck_assert_uint_eq(got->ino, 99);
        ck_assert_int_eq(got->status, QUARANTINE_COPYING);
        ck_assert_str_eq(got->step, "copy");
        ck_assert(!got->step_done);
        g_autoptr(GPtrArray) journal = NULL;
        ck_assert_int_eq(state_journal_list(s, "web", &journal, NULL), 0);
        ck_assert_uint_eq(journal->len, 1);
        JournalEntry *j = g_ptr_array_index(journal, 0);
        ck_assert_str_eq(j->operation, "quarantine");
        ck_assert_str_eq(j->message, "notes.txt");
        g_free(q.operation);
        g_free(q.step);

        /* kept when the share goes; the journal (the share's) does not matter then */
        ck_assert_int_eq(state_share_delete(s, "web", NULL), 0);
        got->status = QUARANTINE_READY;
        ck_assert_int_eq(state_quarantine_advance(s, got, "quarantine", "copy", NULL, NULL), 0);
        g_autoptr(GPtrArray) all = NULL;
        ck_assert_int_eq(state_quarantine_list(s, NULL, &all, NULL), 0);
        ck_assert_uint_eq(all->len, 1);
        ck_assert_int_eq(((QuarantineItem *) g_ptr_array_index(all, 0))->status, QUARANTINE_READY);
        ck_assert_int_eq(state_quarantine_delete(s, got->id, NULL), 0);
        ck_assert_int_eq(state_quarantine_delete(s, got->id, &e), -ENOENT);
        g_clear_error(&e);
        g_autoptr(GPtrArray) none = NULL;
        ck_assert_int_eq(state_quarantine_list(s, "web", &none, NULL), 0);
        ck_assert_uint_eq(none->len, 0);
}
END_TEST

START_TEST(test_duplicates) {
        g_autoptr(State) s = open_ok();
        g_autoptr(Share) a = sample("A", "/dev/loop-disk-1");
        ck_assert_int_eq(state_share_insert(s, a, NULL), 0);

        g_autoptr(GError) e = NULL;
        g_autoptr(Share) a2 = sample("A", "/dev/other");
        g_free(a2->pool_uuid);
        a2->pool_uuid = g_strdup("another-uuid");
        ck_assert_int_eq(state_share_insert(s, a2, &e), -EEXIST);
        ck_assert_str_eq(e->message, "share \"A\" already exists");

        /* The same disk for another share: refused, naming the share that holds it. */
        g_clear_error(&e);
        g_autoptr(Share) b = sample("B", "/dev/loop-disk-1");
        ck_assert_int_eq(state_share_insert(s, b, &e), -EEXIST);
        ck_assert_int_eq(e->code, EEXIST);
        ck_assert_str_eq(e->message, "share \"B\": source /dev/loop-disk-1 is already used by share \"A\"");
        g_autoptr(Share) none = NULL;
        ck_assert_int_eq(state_share_get(s, "B", &none, NULL), -ENOENT);

        /* Any number of shares without a source yet. */
        g_free(b->source);
        b->source = NULL;
        ck_assert_int_eq(state_share_insert(s, b, NULL), 0);
        g_autoptr(Share) c = sample("C", NULL);
        ck_assert_int_eq(state_share_insert(s, c, NULL), 0);

        /* Taking A's disk by update is refused too; the row stays as it was. */
        g_clear_error(&e);
        b->source = g_strdup("/dev/loop-disk-1");
        ck_assert_int_eq(state_share_update(s, b, &e), -EEXIST);
        ck_assert_str_eq(e->message, "share \"B\": source /dev/loop-disk-1 is already used by share \"A\"");
        g_autoptr(Share) got = NULL;
        ck_assert_int_eq(state_share_get(s, "B", &got, NULL), 0);
        ck_assert_ptr_null(got->source);

        /* Updating A with its own source is fine. */
        a->size += 1;
        ck_assert_int_eq(state_share_update(s, a, NULL), 0);

        /* Pool uuid and filesystem uuid are unique as well. */
        g_clear_error(&e);
        g_autoptr(Share) d = sample("D", NULL);
        g_free(d->pool_uuid);
        d->pool_uuid = g_strdup(a->pool_uuid);
        ck_assert_int_eq(state_share_insert(s, d, &e), -EEXIST);
        ck_assert_str_eq(e->message, "share \"D\": pool uuid pool-uuid-of-A is already used by share \"A\"");
        g_clear_error(&e);
        g_free(d->pool_uuid);
        d->pool_uuid = g_strdup("pool-uuid-of-D");
        g_free(d->fs_uuid);
        d->fs_uuid = g_strdup(a->fs_uuid);
        ck_assert_int_eq(state_share_insert(s, d, &e), -EEXIST);
        ck_assert_str_eq(e->message, "share \"D\": filesystem uuid fs-uuid-of-A is already used by share \"A\"");

        /* Once A is gone its disk can be used again. */
        ck_assert_int_eq(state_share_delete(s, "A", NULL), 0);
        ck_assert_int_eq(state_share_update(s, b, NULL), 0);
        g_clear_pointer(&got, share_free);
        ck_assert_int_eq(state_share_get(s, "B", &got, NULL), 0);
        ck_assert_str_eq(got->source, "/dev/loop-disk-1");
}
END_TEST

START_TEST(test_invalid_fields) {
        g_autoptr(State) s = open_ok();
        g_autoptr(GError) e = NULL;
        g_autoptr(Share) a = sample("A", NULL);
        g_free(a->backend);
        a->backend = g_strdup("lvm");
        ck_assert_int_eq(state_share_insert(s, a, &e), -EINVAL);
        ck_assert_str_eq(e->message, "share \"A\": backend \"lvm\" is not \"image\" or \"disk\"");

        g_clear_error(&e);
        g_free(a->backend);
        a->backend = g_strdup("image");
        g_free(a->operation);
        a->operation = g_strdup("shrink");
        ck_assert_int_eq(state_share_insert(s, a, &e), -EINVAL);
        ck_assert_ptr_nonnull(strstr(e->message, "operation \"shrink\""));

        g_clear_error(&e);
        g_clear_pointer(&a->operation, g_free);
        a->size = UINT64_MAX;
        ck_assert_int_eq(state_share_insert(s, a, &e), -ERANGE);

        g_clear_error(&e);
        a->size = 1;
        g_clear_pointer(&a->pool_uuid, g_free);
        ck_assert_int_eq(state_share_insert(s, a, &e), -EINVAL);
        ck_assert_str_eq(e->message, "share \"A\": pool_uuid is missing");

        g_autoptr(GPtrArray) list = NULL;
        ck_assert_int_eq(state_share_list(s, &list, NULL), 0);
        ck_assert_uint_eq(list->len, 0);
}
END_TEST

START_TEST(test_steps_durable) {
        {
                g_autoptr(State) s = open_ok();
                g_autoptr(Share) a = sample("A", NULL);
                ck_assert_int_eq(state_share_insert(s, a, NULL), 0);
                ck_assert_int_eq(state_step_begin(s, "A", "create", "mkfs", NULL), 0);

                /* Committed when the call returns: another connection sees it now. */
                sqlite3 *db = raw_open();
                g_autofree char *row = raw_text(db, "SELECT operation || '/' || step || '/' || step_done "
                                                    "FROM shares WHERE name = 'A'");
                ck_assert_str_eq(row, "create/mkfs/0");
                sqlite3_close(db);
        }
        {
                g_autoptr(State) s = open_ok();
                g_autoptr(Share) a = NULL;
                ck_assert_int_eq(state_share_get(s, "A", &a, NULL), 0);
                ck_assert_str_eq(a->operation, "create");
                ck_assert_str_eq(a->step, "mkfs");
                ck_assert(!a->step_done);
                ck_assert_int_eq(state_step_done(s, "A", "create", "mkfs", NULL), 0);
        }
        g_autoptr(State) s = open_ok();
        g_autoptr(Share) a = NULL;
        ck_assert_int_eq(state_share_get(s, "A", &a, NULL), 0);
        ck_assert_str_eq(a->step, "mkfs");
        ck_assert(a->step_done);

        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(state_step_begin(s, "nope", "create", "mkfs", &e), -ENOENT);
        ck_assert_str_eq(e->message, "share \"nope\" does not exist");
        g_clear_error(&e);
        ck_assert_int_eq(state_step_begin(s, "A", "grow", "mkfs", &e), -EINVAL);
        g_clear_error(&e);
        ck_assert_int_eq(state_step_begin(s, "A", "create", "", &e), -EINVAL);
}
END_TEST

/* A process that dies right after state_step_begin() returned (no close, no checkpoint): the
 * record is there when the state is opened again. */
START_TEST(test_step_survives_crash) {
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                State *s = NULL;
                if (state_open(dir, &s, NULL) < 0)
                        _exit(10);
                g_autoptr(Share) a = sample("A", "/img/A.img");
                if (state_share_insert(s, a, NULL) < 0)
                        _exit(11);
                if (state_step_begin(s, "A", "create", "allocate", NULL) < 0)
                        _exit(12);
                if (state_step_done(s, "A", "create", "allocate", NULL) < 0)
                        _exit(13);
                if (state_step_begin(s, "A", "create", "mkfs", NULL) < 0)
                        _exit(14);
                _exit(0);
        }
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert(WIFEXITED(status));
        ck_assert_int_eq(WEXITSTATUS(status), 0);

        g_autofree char *p = db_path();
        g_autofree char *wal = g_strconcat(p, "-wal", NULL);
        ck_assert(g_file_test(wal, G_FILE_TEST_EXISTS)); /* not checkpointed: recovered from the WAL */

        g_autoptr(State) s = open_ok();
        g_autoptr(Share) a = NULL;
        ck_assert_int_eq(state_share_get(s, "A", &a, NULL), 0);
        ck_assert_str_eq(a->step, "mkfs");
        ck_assert(!a->step_done);
        g_autoptr(GPtrArray) j = NULL;
        ck_assert_int_eq(state_journal_list(s, "A", &j, NULL), 0);
        ck_assert_uint_eq(j->len, 3);
}
END_TEST

static void assert_entry(GPtrArray *j, guint i, const char *op, const char *step, const char *phase,
                         const char *message) {
        const JournalEntry *e = g_ptr_array_index(j, i);
        ck_assert_str_eq(e->share, "A");
        ck_assert_str_eq(e->operation, op);
        ck_assert_str_eq(e->step, step);
        ck_assert_str_eq(e->phase, phase);
        ck_assert_pstr_eq(e->message, message);
        ck_assert_int_gt(e->at, 0);
        if (i > 0)
                ck_assert_int_gt(e->id, ((const JournalEntry *) g_ptr_array_index(j, i - 1))->id);
}

START_TEST(test_journal_order) {
        g_autoptr(State) s = open_ok();
        g_autoptr(Share) a = sample("A", NULL);
        g_autoptr(Share) b = sample("B", NULL);
        ck_assert_int_eq(state_share_insert(s, a, NULL), 0);
        ck_assert_int_eq(state_share_insert(s, b, NULL), 0);

        ck_assert_int_eq(state_step_begin(s, "A", "create", "allocate", NULL), 0);
        ck_assert_int_eq(state_step_done(s, "A", "create", "allocate", NULL), 0);
        ck_assert_int_eq(state_step_begin(s, "B", "create", "allocate", NULL), 0);
        ck_assert_int_eq(state_step_begin(s, "A", "create", "mkfs", NULL), 0);

        /* Marking another step done than the one begun is refused and changes nothing. */
        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(state_step_done(s, "A", "create", "mount", &e), -EINVAL);
        ck_assert_str_eq(e->message, "share \"A\": cannot record step \"mount\" of create as done: "
                                     "the step begun is \"mkfs\" of create");

        ck_assert_int_eq(state_step_fail(s, "A", "create", "mkfs", "mkfs.ext4: exit status 1", NULL), 0);
        ck_assert_int_eq(state_step_undo(s, "A", "create", "allocate", NULL), 0);

        g_autoptr(GPtrArray) j = NULL;
        ck_assert_int_eq(state_journal_list(s, "A", &j, NULL), 0);
        ck_assert_uint_eq(j->len, 5);
        assert_entry(j, 0, "create", "allocate", "begin", NULL);
        assert_entry(j, 1, "create", "allocate", "done", NULL);
        assert_entry(j, 2, "create", "mkfs", "begin", NULL);
        assert_entry(j, 3, "create", "mkfs", "fail", "mkfs.ext4: exit status 1");
        assert_entry(j, 4, "create", "allocate", "undo", NULL);

        g_autoptr(Share) got = NULL;
        ck_assert_int_eq(state_share_get(s, "A", &got, NULL), 0);
        ck_assert_str_eq(got->error, "mkfs.ext4: exit status 1");
        ck_assert_str_eq(got->step, "allocate");
        ck_assert(!got->step_done);

        g_autoptr(GPtrArray) jb = NULL;
        ck_assert_int_eq(state_journal_list(s, "B", &jb, NULL), 0);
        ck_assert_uint_eq(jb->len, 1);

        /* The journal goes with its share. */
        ck_assert_int_eq(state_share_delete(s, "A", NULL), 0);
        g_clear_pointer(&j, g_ptr_array_unref);
        ck_assert_int_eq(state_journal_list(s, "A", &j, NULL), 0);
        ck_assert_uint_eq(j->len, 0);
}
END_TEST

typedef struct TxData {
        const char *second_source;
        int fail_with;
        GError **error;
} TxData;

static int insert_two(State *s, void *data) {
        TxData *d = data;
        g_autoptr(Share) x = sample("X", "/img/x");
        int r = state_share_insert(s, x, d->error);
        if (r < 0)
                return r;
        r = state_step_begin(s, "X", "create", "allocate", d->error);
        if (r < 0)
                return r;
        g_autoptr(Share) y = sample("Y", d->second_source);
        r = state_share_insert(s, y, d->error);
        if (r < 0)
                return r;
        return d->fail_with;
}

static unsigned count_shares(State *s) {
        g_autoptr(GPtrArray) list = NULL;
        ck_assert_int_eq(state_share_list(s, &list, NULL), 0);
        return list->len;
}

START_TEST(test_transaction) {
        g_autoptr(State) s = open_ok();
        g_autoptr(GError) e = NULL;

        /* fn fails: everything it wrote is rolled back, its error returned. */
        TxData d = { "/img/y", -EIO, NULL };
        ck_assert_int_eq(state_transaction(s, insert_two, &d, &e), -EIO);
        ck_assert_int_eq(e->code, EIO);
        ck_assert_ptr_nonnull(strstr(e->message, "transaction rolled back"));
        ck_assert_uint_eq(count_shares(s), 0);

        /* A failing call inside: its message reaches the caller through data. */
        g_clear_error(&e);
        TxData dup = { "/img/x", 0, &e };
        ck_assert_int_eq(state_transaction(s, insert_two, &dup, &e), -EEXIST);
        ck_assert_str_eq(e->message, "share \"Y\": source /img/x is already used by share \"X\"");
        ck_assert_uint_eq(count_shares(s), 0);
        g_autoptr(GPtrArray) j = NULL;
        ck_assert_int_eq(state_journal_list(s, "X", &j, NULL), 0);
        ck_assert_uint_eq(j->len, 0);

        /* Success commits all of it; the connection is usable afterwards. */
        TxData ok = { "/img/y", 0, NULL };
        ck_assert_int_eq(state_transaction(s, insert_two, &ok, NULL), 0);
        ck_assert_uint_eq(count_shares(s), 2);
        g_clear_pointer(&j, g_ptr_array_unref);
        ck_assert_int_eq(state_journal_list(s, "X", &j, NULL), 0);
        ck_assert_uint_eq(j->len, 1);
        sqlite3 *db = raw_open();
        g_autofree char *n = raw_text(db, "SELECT count(*) FROM shares");
        ck_assert_str_eq(n, "2");
        sqlite3_close(db);
}
END_TEST

static int nested_inner_fails(State *s, void *data) {
        g_autoptr(Share) in = sample("inner", NULL);
        ck_assert_int_eq(state_share_insert(s, in, NULL), 0);
        return -ECANCELED;
}

static int nested_outer(State *s, void *data) {
        g_autoptr(Share) out = sample("outer", NULL);
        int r = state_share_insert(s, out, NULL);
        if (r < 0)
                return r;
        ck_assert_int_eq(state_transaction(s, nested_inner_fails, NULL, NULL), -ECANCELED);
        return 0;
}

START_TEST(test_nested_transaction) {
        g_autoptr(State) s = open_ok();
        ck_assert_int_eq(state_transaction(s, nested_outer, NULL, NULL), 0);
        g_autoptr(GPtrArray) list = NULL;
        ck_assert_int_eq(state_share_list(s, &list, NULL), 0);
        ck_assert_uint_eq(list->len, 1);
        ck_assert_str_eq(((Share *) g_ptr_array_index(list, 0))->name, "outer");
}
END_TEST

/* Another process holding the write lock makes a write wait (busy timeout), not fail. */
START_TEST(test_waits_for_lock) {
        g_autoptr(State) s = open_ok();
        int pfd[2];
        ck_assert_int_eq(pipe(pfd), 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                close(pfd[0]);
                sqlite3 *db = raw_open();
                if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
                        _exit(10);
                if (write(pfd[1], "x", 1) != 1)
                        _exit(11);
                g_usleep(400 * 1000);
                if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
                        _exit(12);
                sqlite3_close(db);
                _exit(0);
        }
        close(pfd[1]);
        char c;
        ck_assert_int_eq(read(pfd[0], &c, 1), 1);
        close(pfd[0]);

        int64_t t0 = g_get_monotonic_time();
        g_autoptr(Share) a = sample("A", NULL);
        g_autoptr(GError) e = NULL;
        int r = state_share_insert(s, a, &e);
        int64_t waited = g_get_monotonic_time() - t0;
        ck_assert_msg(r == 0, "%d %s", r, e ? e->message : "");
        ck_assert_int_ge(waited, 200 * 1000);

        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
END_TEST

START_TEST(test_corrupt_file) {
        g_autofree char *p = db_path();
        const char junk[] = "this is not an SQLite database, whatever its name says\n";
        g_autofree char *data = g_strnfill(8192, 'x');
        memcpy(data, junk, sizeof(junk) - 1);
        ck_assert(g_file_set_contents(p, data, 8192, NULL));

        State *s = NULL;
        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(state_open(dir, &s, &e), -EBADMSG);
        ck_assert_ptr_null(s);
        ck_assert_ptr_nonnull(strstr(e->message, p));
        ck_assert_ptr_nonnull(strstr(e->message, "file is not a database"));
        ck_assert_ptr_null(strchr(e->message, '\n'));
}
END_TEST

START_TEST(test_damaged_page) {
        g_autofree char *p = db_path();
        {
                g_autoptr(State) s = open_ok();
                for (int i = 0; i < 50; i++) {
                        g_autofree char *name = g_strdup_printf("S%02d", i);
                        g_autoptr(Share) sh = sample(name, NULL);
                        ck_assert_int_eq(state_share_insert(s, sh, NULL), 0);
                }
        } /* the last close checkpoints the WAL into the file */
        struct stat st;
        ck_assert_int_eq(stat(p, &st), 0);
        ck_assert_int_gt(st.st_size, 3 * 4096);
        /* Overwrite everything after the first page (the header and schema survive). */
        int fd = open(p, O_WRONLY);
        ck_assert_int_ge(fd, 0);
        g_autofree char *junk = g_strnfill((gsize) st.st_size - 4096, '\x5a');
        ck_assert_int_eq(pwrite(fd, junk, (size_t) st.st_size - 4096, 4096), st.st_size - 4096);
        close(fd);

        State *s = NULL;
        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(state_open(dir, &s, &e), -EBADMSG);
        ck_assert_ptr_nonnull(strstr(e->message, p));
        ck_assert_ptr_nonnull(strstr(e->message, "integrity check failed: Page "));
        ck_assert_ptr_nonnull(strstr(e->message, "restore a backup"));
        ck_assert_ptr_null(strchr(e->message, '\n'));
}
END_TEST

START_TEST(test_newer_or_foreign_database) {
        g_autofree char *p = db_path();
        {
                g_autoptr(State) s = open_ok();
                ck_assert_ptr_nonnull(s);
        }
        sqlite3 *db = raw_open();
        ck_assert_int_eq(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);
        State *s = NULL;
        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(state_open(dir, &s, &e), -ENOTSUP);
        ck_assert_ptr_nonnull(strstr(e->message, "schema version 99 was written by a newer nfsprovd"));

        /* Another program's database is not taken over. */
        ck_assert_int_eq(unlink(p), 0);
        db = NULL;
        ck_assert_int_eq(sqlite3_open(p, &db), SQLITE_OK);
        ck_assert_int_eq(sqlite3_exec(db, "CREATE TABLE t (x)", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);
        g_clear_error(&e);
        ck_assert_int_eq(state_open(dir, &s, &e), -EBADMSG);
        ck_assert_ptr_nonnull(strstr(e->message, "no nfsprov schema version"));
        db = NULL;
        ck_assert_int_eq(sqlite3_open(p, &db), SQLITE_OK);
        g_autofree char *tables = raw_text(db, "SELECT group_concat(name) FROM sqlite_master");
        ck_assert_str_eq(tables, "t");
        sqlite3_close(db);
}
END_TEST

START_TEST(test_state_dir_is_a_file) {
        g_autofree char *f = g_build_filename(dir, "file", NULL);
        ck_assert(g_file_set_contents(f, "", 0, NULL));
        State *s = NULL;
        g_autoptr(GError) e = NULL;
        ck_assert_int_lt(state_open(f, &s, &e), 0);
        ck_assert_ptr_null(s);
        ck_assert_ptr_nonnull(strstr(e->message, f));
}
END_TEST

/* Neither the state directory nor the database file is reached through a symbolic link. */
START_TEST(test_symlinks_refused) {
        g_autofree char *real = g_build_filename(dir, "real", NULL);
        g_autofree char *link = g_build_filename(dir, "link", NULL);
        ck_assert_int_eq(mkdir(real, 0700), 0);
        ck_assert_int_eq(symlink(real, link), 0);
        g_autofree char *under = g_build_filename(link, "state", NULL);
        State *s = NULL;
        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(state_open(under, &s, &e), -ELOOP);
        ck_assert_ptr_null(s);
        g_autofree char *want = g_strdup_printf("%s is a symbolic link (to %s)", link, real);
        ck_assert_msg(strstr(e->message, want), "message: %s", e->message);
        g_autofree char *made = g_build_filename(real, "state", NULL);
        ck_assert(!g_file_test(made, G_FILE_TEST_EXISTS));

        /* the database file itself a symbolic link to another file */
        g_autofree char *other = g_build_filename(dir, "other.db", NULL);
        ck_assert(g_file_set_contents(other, "", 0, NULL));
        g_autofree char *db = db_path();
        ck_assert_int_eq(symlink(other, db), 0);
        g_clear_error(&e);
        ck_assert_int_eq(state_open(dir, &s, &e), -ELOOP);
        ck_assert_ptr_nonnull(strstr(e->message, "is a symbolic link"));
        struct stat st;
        ck_assert_int_eq(stat(other, &st), 0);
        ck_assert_int_eq(st.st_size, 0);
}
END_TEST

Suite *unit_suite(void) {
        Suite *s = suite_create("state");
        TCase *tc = tcase_create("state");
        tcase_set_timeout(tc, 30);
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_status_strings);
        tcase_add_test(tc, test_schema_created_with_modes_and_pragmas);
        tcase_add_test(tc, test_migrate_from_schema_1);
        tcase_add_test(tc, test_reopen_keeps_data);
        tcase_add_test(tc, test_crud);
        tcase_add_test(tc, test_export_ids);
        tcase_add_test(tc, test_volumes);
        tcase_add_test(tc, test_duplicates);
        tcase_add_test(tc, test_invalid_fields);
        tcase_add_test(tc, test_steps_durable);
        tcase_add_test(tc, test_step_survives_crash);
        tcase_add_test(tc, test_journal_order);
        tcase_add_test(tc, test_transaction);
        tcase_add_test(tc, test_nested_transaction);
        tcase_add_test(tc, test_waits_for_lock);
        tcase_add_test(tc, test_corrupt_file);
        tcase_add_test(tc, test_damaged_page);
        tcase_add_test(tc, test_newer_or_foreign_database);
        tcase_add_test(tc, test_state_dir_is_a_file);
        tcase_add_test(tc, test_symlinks_refused);
        tcase_add_test(tc, test_quarantine);
        tcase_add_test(tc, test_volume_insert_begins_first_step);
        suite_add_tcase(s, tc);
        return s;
}

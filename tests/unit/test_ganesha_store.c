/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ganesha_store.c: nfsprovd's NFS-Ganesha exports, one file per share below CONFIG.d, and
 * CONFIG's %dir lines. (A real Ganesha reading them: tests/integration/ganesha-many.sh and the
 * Ganesha integration tests.) */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "ganesha_file.h"
#include "ganesha_store.h"
#include "unit.h"

UNIT_ONE_PROCESS;

static char *dir, *config;

static void setup(void) {
        dir = unit_mkdtemp();
        config = g_build_filename(dir, "nfsprov.conf", NULL);
}

static void teardown(void) {
        unit_rm_rf(dir);
        g_clear_pointer(&dir, g_free);
        g_clear_pointer(&config, g_free);
}

static char *slurp(const char *p) {
        char *d = NULL;
        ck_assert_msg(g_file_get_contents(p, &d, NULL, NULL), "cannot read %s", p);
        return d;
}

static char *block_for(unsigned id, const char *path) {
        char *clients[] = { "*", NULL };
        ExportSpec spec = { .path = path, .export_id = id, .clients = clients };
        char *b = NULL;
        ck_assert_int_eq(ganesha_export_block(&spec, false, &b, NULL), 0);
        return b;
}

static GaneshaFile *one(unsigned id, const char *path) {
        GaneshaFile *f = ganesha_file_new();
        ck_assert_int_eq(ganesha_file_set(f, id, path, block_for(id, path), NULL, NULL), 0);
        return f;
}

static char *file_of(const char *path) {
        char *file = NULL;
        g_autoptr(GError) e = NULL;
        ck_assert_msg(ganesha_store_file(config, path, &file, &e) == 0, "%s", e ? e->message : "");
        return file;
}

/* The file name: readable, one per path, never a dot file, never too long. */
START_TEST(test_names) {
        g_autofree char *d = ganesha_store_dir(config);
        g_autofree char *want_dir = g_build_filename(dir, "nfsprov.d", NULL);
        ck_assert_str_eq(d, want_dir);
        g_autofree char *other = ganesha_store_dir("/etc/ganesha/exports");
        ck_assert_str_eq(other, "/etc/ganesha/exports.d");

        static const struct {
                const char *path, *name;
        } cases[] = {
                { "/srv/nfs/NFSStorage_01", "srv-nfs-NFSStorage_01.conf" },
                { "/a-b", "a%2Db.conf" },  /* not "a-b": that is /a/b */
                { "/a/b", "a-b.conf" },
                { "/.x/.y", "%2Ex-.y.conf" }, /* a leading dot would hide it from Ganesha's %dir */
                { "/n\xc3\xa9 w", "n%C3%A9%20w.conf" },
        };
        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *f = file_of(cases[i].path);
                g_autofree char *base = g_path_get_basename(f);
                g_autofree char *parent = g_path_get_dirname(f);
                g_autofree char *sub = g_path_get_basename(parent);
                g_autofree char *grand = g_path_get_dirname(parent);
                ck_assert_str_eq(base, cases[i].name);
                ck_assert_str_eq(grand, want_dir);
                ck_assert_uint_eq(strlen(sub), 2);
                ck_assert(g_ascii_isxdigit(sub[0]) && g_ascii_isxdigit(sub[1]));
        }
        /* the subdirectory follows the path, and paths spread over them */
        g_autoptr(GHashTable) subs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        for (int i = 0; i < 64; i++) {
                g_autofree char *p = g_strdup_printf("/srv/nfs/S%04d", i);
                g_autofree char *f = file_of(p);
                g_autofree char *again = file_of(p);
                ck_assert_str_eq(f, again);
                g_autofree char *parent = g_path_get_dirname(f);
                g_hash_table_add(subs, g_path_get_basename(parent));
        }
        ck_assert_uint_ge(g_hash_table_size(subs), 40);

        g_autofree char *long_path = g_strnfill(NAME_MAX, 'x');
        long_path[0] = '/';
        char *f = NULL;
        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(ganesha_store_file(config, long_path, &f, &e), -ENAMETOOLONG);
        ck_assert_ptr_null(f);
        ck_assert_ptr_nonnull(strstr(e->message, "more than 255"));
}
END_TEST

/* setup: the 256 directories, then CONFIG of their %dir lines; again: nothing written. */
START_TEST(test_setup) {
        g_autoptr(GError) e = NULL;
        ck_assert_msg(ganesha_store_setup(config, &e) == 0, "%s", e ? e->message : "");
        g_autofree char *text = slurp(config);
        g_autofree char *d = ganesha_store_dir(config);
        g_autofree char *first = g_strdup_printf("\n%%dir \"%s/00/*.conf\"\n", d);
        g_autofree char *last = g_strdup_printf("\n%%dir \"%s/ff/*.conf\"\n", d);
        ck_assert_ptr_nonnull(strstr(text, first));
        ck_assert(g_str_has_suffix(text, last + 1));
        unsigned lines = 0;
        for (const char *p = text; (p = strstr(p, "\n%dir ")); p++)
                lines++;
        ck_assert_uint_eq(lines, 256);
        for (unsigned i = 0; i < 256; i++) {
                g_autofree char *sub = g_strdup_printf("%s/%02x", d, i);
                struct stat st;
                ck_assert_int_eq(stat(sub, &st), 0);
                ck_assert(S_ISDIR(st.st_mode));
                ck_assert_uint_eq(st.st_mode & 07777, 0755);
        }
        struct stat before, after;
        ck_assert_int_eq(stat(config, &before), 0);
        ck_assert_uint_eq(before.st_mode & 07777, 0644);
        ck_assert_int_eq(ganesha_store_setup(config, NULL), 0);
        ck_assert_int_eq(stat(config, &after), 0);
        ck_assert_uint_eq(before.st_ino, after.st_ino);

        /* CONFIG changed behind nfsprovd's back (an admin's line): refused, not rewritten */
        ck_assert(g_file_set_contents(config, "EXPORT_DEFAULTS { Squash = None; }\n", -1, NULL));
        g_clear_error(&e);
        ck_assert_int_eq(ganesha_store_setup(config, &e), -EBADMSG);
        g_autofree char *kept = slurp(config);
        ck_assert_str_eq(kept, "EXPORT_DEFAULTS { Squash = None; }\n");
}
END_TEST

/* write_one, read_one, read, remove. */
START_TEST(test_write_read) {
        ck_assert_int_eq(ganesha_store_setup(config, NULL), 0);
        g_autoptr(GaneshaFile) a = one(1000, "/srv/nfs/A");
        g_autoptr(GaneshaFile) b = one(1001, "/srv/nfs/B");
        bool changed = false;
        ck_assert_int_eq(ganesha_store_write_one(config, "/srv/nfs/A", a, &changed, NULL), 0);
        ck_assert(changed);
        ck_assert_int_eq(ganesha_store_write_one(config, "/srv/nfs/A", a, &changed, NULL), 0);
        ck_assert(!changed);
        ck_assert_int_eq(ganesha_store_write_one(config, "/srv/nfs/B", b, NULL, NULL), 0);
        g_autofree char *fa = file_of("/srv/nfs/A");
        g_autofree char *text = slurp(fa);
        ck_assert_ptr_nonnull(strstr(text, "\tExport_Id = 1000;\n\tPath = \"/srv/nfs/A\";\n"));
        ck_assert_ptr_null(strstr(text, "/srv/nfs/B"));
        struct stat st;
        ck_assert_int_eq(stat(fa, &st), 0);
        ck_assert_uint_eq(st.st_mode & 07777, 0644);

        /* a changed block of the same id: the note is in that file alone */
        g_autoptr(GaneshaFile) a2 = NULL;
        ck_assert_int_eq(ganesha_store_read_one(config, "/srv/nfs/A", &a2, NULL), 0);
        ck_assert_uint_eq(a2->exports->len, 1);
        char *clients[] = { "10.0.0.0/8", NULL };
        ExportSpec spec = { .path = "/srv/nfs/A", .export_id = 1000, .clients = clients };
        char *blk = NULL;
        ck_assert_int_eq(ganesha_export_block(&spec, false, &blk, NULL), 0);
        ck_assert_int_eq(ganesha_file_set(a2, 1000, "/srv/nfs/A", blk, &changed, NULL), 0);
        ck_assert(changed);
        ck_assert_int_eq(ganesha_store_write_one(config, "/srv/nfs/A", a2, NULL, NULL), 0);
        g_autofree char *noted = slurp(fa);
        ck_assert_ptr_nonnull(strstr(noted, "\n# nfsprov: update pending 1000\n"));

        g_autoptr(GaneshaFile) all = NULL;
        g_autoptr(GError) e = NULL;
        ck_assert_msg(ganesha_store_read(config, &all, NULL, &e) == 0, "%s", e ? e->message : "");
        ck_assert_uint_eq(all->exports->len, 2);
        ck_assert_uint_eq(ganesha_file_find(all, "/srv/nfs/A")->id, 1000);
        ck_assert_uint_eq(ganesha_file_find(all, "/srv/nfs/B")->id, 1001);
        ck_assert(ganesha_file_pending(all, 1000));
        ck_assert(!ganesha_file_pending(all, 1001));

        /* what Ganesha's %dir leaves out, read() leaves out too */
        g_autofree char *sub = g_path_get_dirname(fa);
        g_autofree char *tmp = g_strdup_printf("%s/.A.conf.nfsprov-abcdef", sub);
        g_autofree char *other = g_strdup_printf("%s/notes.txt", sub);
        ck_assert(g_file_set_contents(tmp, "EXPORT { half", -1, NULL));
        ck_assert(g_file_set_contents(other, "anything", -1, NULL));
        g_autoptr(GaneshaFile) all2 = NULL;
        ck_assert_int_eq(ganesha_store_read(config, &all2, NULL, NULL), 0);
        ck_assert_uint_eq(all2->exports->len, 2);

        /* an empty GaneshaFile removes the file; removing again is no change */
        g_autoptr(GaneshaFile) none = ganesha_file_new();
        ck_assert_int_eq(ganesha_store_write_one(config, "/srv/nfs/A", none, &changed, NULL), 0);
        ck_assert(changed);
        ck_assert_int_eq(access(fa, F_OK), -1);
        ck_assert_int_eq(ganesha_store_write_one(config, "/srv/nfs/A", none, &changed, NULL), 0);
        ck_assert(!changed);
        g_autoptr(GaneshaFile) gone = NULL;
        ck_assert_int_eq(ganesha_store_read_one(config, "/srv/nfs/A", &gone, NULL), 0);
        ck_assert_uint_eq(gone->exports->len, 0);
}
END_TEST

/* A removal: NAME.removed holds the id until apply_path clears it; the path is no longer listed. */
START_TEST(test_removed) {
        ck_assert_int_eq(ganesha_store_setup(config, NULL), 0);
        g_autoptr(GaneshaFile) a = one(1000, "/srv/nfs/A");
        g_autoptr(GaneshaFile) b = one(1001, "/srv/nfs/B");
        ck_assert_int_eq(ganesha_store_write_one(config, "/srv/nfs/A", a, NULL, NULL), 0);
        ck_assert_int_eq(ganesha_store_write_one(config, "/srv/nfs/B", b, NULL, NULL), 0);
        g_autofree char *fa = file_of("/srv/nfs/A");
        g_autofree char *ra = g_strdup_printf("%.*s.removed", (int) (strlen(fa) - strlen(".conf")), fa);

        g_autoptr(GaneshaFile) f = NULL;
        ck_assert_int_eq(ganesha_store_read_one(config, "/srv/nfs/A", &f, NULL), 0);
        ck_assert(ganesha_file_remove(f, "/srv/nfs/A"));
        bool changed = false;
        ck_assert_int_eq(ganesha_store_write_one(config, "/srv/nfs/A", f, &changed, NULL), 0);
        ck_assert(changed);
        ck_assert_int_eq(access(fa, F_OK), -1);
        g_autofree char *note = slurp(ra);
        ck_assert_ptr_nonnull(strstr(note, "\n# nfsprov: removed 1000\n"));
        ck_assert_ptr_null(strstr(note, "EXPORT"));

        g_autoptr(GaneshaFile) again = NULL;
        ck_assert_int_eq(ganesha_store_read_one(config, "/srv/nfs/A", &again, NULL), 0);
        ck_assert_uint_eq(again->exports->len, 0);
        ck_assert_uint_eq(again->removed->len, 1);
        g_autoptr(GPtrArray) listed = NULL;
        ck_assert_int_eq(ganesha_store_paths(config, &listed, NULL), 0);
        ck_assert_uint_eq(listed->len, 1);
        ck_assert_str_eq(g_ptr_array_index(listed, 0), "/srv/nfs/B");
        g_autoptr(GaneshaFile) all = NULL;
        g_autoptr(GPtrArray) noted = NULL;
        ck_assert_int_eq(ganesha_store_read(config, &all, &noted, NULL), 0);
        ck_assert_uint_eq(all->exports->len, 1);
        ck_assert_uint_eq(noted->len, 1);
        ck_assert_str_eq(g_ptr_array_index(noted, 0), "/srv/nfs/A");

        /* A made again under the same id before the removal was applied: an update */
        g_autoptr(GaneshaFile) back = NULL;
        ck_assert_int_eq(ganesha_store_read_one(config, "/srv/nfs/A", &back, NULL), 0);
        ck_assert_int_eq(ganesha_file_set(back, 1000, "/srv/nfs/A", block_for(1000, "/srv/nfs/A"), NULL, NULL), 0);
        ck_assert_int_eq(ganesha_store_write_one(config, "/srv/nfs/A", back, NULL, NULL), 0);
        ck_assert_int_eq(access(ra, F_OK), -1);
        g_autoptr(GaneshaFile) now = NULL;
        ck_assert_int_eq(ganesha_store_read_one(config, "/srv/nfs/A", &now, NULL), 0);
        ck_assert_uint_eq(now->exports->len, 1);
        ck_assert(ganesha_file_pending(now, 1000));

        /* the notes cleared: both files as plain as at first */
        ganesha_file_clear_notes(now);
        ck_assert_int_eq(ganesha_store_write_one(config, "/srv/nfs/A", now, NULL, NULL), 0);
        g_autofree char *plain = slurp(fa);
        ck_assert_ptr_null(strstr(plain, "# nfsprov:"));
        ck_assert_int_eq(access(ra, F_OK), -1);
}
END_TEST

/* Files that are not as nfsprovd writes them are refused, naming the file. */
START_TEST(test_read_refuses) {
        ck_assert_int_eq(ganesha_store_setup(config, NULL), 0);
        g_autoptr(GaneshaFile) a = one(1000, "/srv/nfs/A");
        ck_assert_int_eq(ganesha_store_write_one(config, "/srv/nfs/A", a, NULL, NULL), 0);
        g_autofree char *fa = file_of("/srv/nfs/A");
        g_autofree char *fb = file_of("/srv/nfs/B");
        g_autofree char *text = slurp(fa);

        /* B's file holding A's export: read_one of B and read() refuse it */
        ck_assert(g_file_set_contents(fb, text, -1, NULL));
        g_autoptr(GaneshaFile) f = NULL;
        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(ganesha_store_read_one(config, "/srv/nfs/B", &f, &e), -EBADMSG);
        ck_assert_ptr_nonnull(strstr(e->message, "holds another export than /srv/nfs/B's"));
        g_clear_error(&e);
        ck_assert_int_eq(ganesha_store_read(config, &f, NULL, &e), -EBADMSG);
        ck_assert_ptr_null(f);
        ck_assert_msg(strstr(e->message, "belongs in") || strstr(e->message, "a second export"), "%s", e->message);
        ck_assert(unlink(fb) == 0);

        /* two paths with one Export_Id */
        g_autoptr(GaneshaFile) b = one(1000, "/srv/nfs/B");
        ck_assert_int_eq(ganesha_store_write_one(config, "/srv/nfs/B", b, NULL, NULL), 0);
        g_clear_error(&e);
        ck_assert_int_eq(ganesha_store_read(config, &f, NULL, &e), -EBADMSG);
        ck_assert_ptr_nonnull(strstr(e->message, "Export_Id 1000"));
}
END_TEST

/* An older nfsprovd's CONFIG with every block: setup moves each block (and its pending note) to
 * its own file, then rewrites CONFIG; read sees the same exports before and after. */
START_TEST(test_move_older_config) {
        g_autoptr(GaneshaFile) old = ganesha_file_new();
        ck_assert_int_eq(ganesha_file_set(old, 1000, "/srv/nfs/A", block_for(1000, "/srv/nfs/A"), NULL, NULL), 0);
        ck_assert_int_eq(ganesha_file_set(old, 1001, "/srv/nfs/B", block_for(1001, "/srv/nfs/B"), NULL, NULL), 0);
        char *clients[] = { "10.0.0.0/8", NULL };
        ExportSpec spec = { .path = "/srv/nfs/A", .export_id = 1000, .clients = clients };
        char *blk = NULL;
        ck_assert_int_eq(ganesha_export_block(&spec, false, &blk, NULL), 0);
        ck_assert_int_eq(ganesha_file_set(old, 1000, "/srv/nfs/A", blk, NULL, NULL), 0); /* pending */
        ck_assert_int_eq(ganesha_file_write(config, old, NULL, NULL), 0);

        g_autoptr(GaneshaFile) before = NULL;
        ck_assert_int_eq(ganesha_store_read(config, &before, NULL, NULL), 0); /* not moved yet: read from CONFIG */
        ck_assert_uint_eq(before->exports->len, 2);
        ck_assert(ganesha_file_pending(before, 1000));

        /* a crash after A's file was written, before CONFIG: both say the same; read takes one */
        g_autoptr(GaneshaFile) a = ganesha_file_new();
        ck_assert_int_eq(ganesha_file_set(a, 1000, "/srv/nfs/A", g_strdup(ganesha_file_find(old, "/srv/nfs/A")->block), NULL,
                                          NULL),
                         0);
        g_array_append_val(a->pending, (unsigned){ 1000 });
        ck_assert_int_eq(ganesha_store_write_one(config, "/srv/nfs/A", a, NULL, NULL), 0);
        g_autoptr(GaneshaFile) half = NULL;
        g_autoptr(GError) e = NULL;
        ck_assert_msg(ganesha_store_read(config, &half, NULL, &e) == 0, "%s", e ? e->message : "");
        ck_assert_uint_eq(half->exports->len, 2);

        ck_assert_msg(ganesha_store_setup(config, &e) == 0, "%s", e ? e->message : "");
        g_autofree char *text = slurp(config);
        ck_assert_ptr_null(strstr(text, "EXPORT"));
        ck_assert_ptr_nonnull(strstr(text, "%dir \""));
        g_autofree char *fa = file_of("/srv/nfs/A");
        g_autofree char *fb = file_of("/srv/nfs/B");
        g_autofree char *ta = slurp(fa);
        g_autofree char *tb = slurp(fb);
        ck_assert_ptr_nonnull(strstr(ta, "# nfsprov: update pending 1000\n"));
        ck_assert_ptr_nonnull(strstr(ta, "Clients = 10.0.0.0/8;"));
        ck_assert_ptr_null(strstr(tb, "update pending"));
        ck_assert_ptr_nonnull(strstr(tb, "Export_Id = 1001;"));

        g_autoptr(GaneshaFile) after = NULL;
        ck_assert_int_eq(ganesha_store_read(config, &after, NULL, NULL), 0);
        g_autofree char *r1 = ganesha_file_render(before);
        g_autofree char *r2 = ganesha_file_render(after);
        ck_assert_str_eq(r1, r2);
}
END_TEST

Suite *unit_suite(void) {
        Suite *s = suite_create("ganesha_store");
        TCase *tc = tcase_create("ganesha_store");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_names);
        tcase_add_test(tc, test_setup);
        tcase_add_test(tc, test_write_read);
        tcase_add_test(tc, test_removed);
        tcase_add_test(tc, test_read_refuses);
        tcase_add_test(tc, test_move_older_config);
        suite_add_tcase(s, tc);
        return s;
}

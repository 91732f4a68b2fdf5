/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "exports_entry.h"
#include "exports_file.h"
#include "unit.h"

static char *dir;

static void setup(void) {
        dir = unit_mkdtemp();
}

static void teardown(void) {
        unit_rm_rf(dir);
        g_clear_pointer(&dir, g_free);
}

static GPtrArray *entries_for(const char *const *paths) {
        GPtrArray *a = g_ptr_array_new_with_free_func((GDestroyNotify) exports_entry_free);
        for (; *paths; paths++) {
                ExportsEntry *e = exports_entry_new(*paths);
                exports_entry_add_client(e, "*", "rw,no_root_squash,sync,no_subtree_check");
                g_ptr_array_add(a, e);
        }
        return a;
}

static char *slurp(const char *p) {
        char *d = NULL;
        ck_assert(g_file_get_contents(p, &d, NULL, NULL));
        return d;
}

START_TEST(test_mode_for_path) {
        ck_assert_int_eq(exports_mode_for_path("/etc/exports"), EXPORTS_MODE_BLOCK);
        ck_assert_int_eq(exports_mode_for_path("/etc/exports.d/nfsprov.exports"), EXPORTS_MODE_FILE);
        ck_assert_int_eq(exports_mode_for_path("/tmp/x/exports.d/a.exports"), EXPORTS_MODE_FILE);
        ck_assert_int_eq(exports_mode_for_path("/etc/nfsprov.exports"), EXPORTS_MODE_BLOCK);
}
END_TEST

START_TEST(test_block_mode_create_update_unchanged) {
        g_autofree char *p = g_build_filename(dir, "exports", NULL);
        const char *admin = "# the admin's line\n/srv/keep 10.0.0.0/8(ro)\n";
        ck_assert(g_file_set_contents(p, admin, -1, NULL));
        ck_assert_int_eq(chmod(p, 0640), 0);

        const char *const paths[] = { "/home/NFS/A", "/home/NFS/B", NULL };
        g_autoptr(GPtrArray) a = entries_for(paths);
        bool changed = false;
        ck_assert_int_eq(exports_file_write(p, EXPORTS_MODE_BLOCK, a, &changed, NULL), 0);
        ck_assert(changed);
        g_autofree char *text = slurp(p);
        ck_assert(g_str_has_prefix(text, admin));
        ck_assert_ptr_nonnull(strstr(text, "/home/NFS/B *(rw,no_root_squash,sync,no_subtree_check)\n"));
        struct stat st1;
        ck_assert_int_eq(stat(p, &st1), 0);
        ck_assert_uint_eq(st1.st_mode & 07777, 0640);

        /* Same entries again: nothing is written (same inode). */
        ck_assert_int_eq(exports_file_write(p, EXPORTS_MODE_BLOCK, a, &changed, NULL), 0);
        ck_assert(!changed);
        struct stat st2;
        ck_assert_int_eq(stat(p, &st2), 0);
        ck_assert_uint_eq(st1.st_ino, st2.st_ino);

        g_autoptr(GPtrArray) back = NULL;
        ck_assert_int_eq(exports_file_read(p, &back, NULL), 0);
        ck_assert_uint_eq(back->len, 2);
        ck_assert_str_eq(((ExportsEntry *) g_ptr_array_index(back, 1))->path, "/home/NFS/B");
}
END_TEST

START_TEST(test_block_mode_conflict_leaves_file) {
        g_autofree char *p = g_build_filename(dir, "exports", NULL);
        const char *admin = "/home/NFS/A *(ro)\n";
        ck_assert(g_file_set_contents(p, admin, -1, NULL));
        const char *const paths[] = { "/home/NFS/A", NULL };
        g_autoptr(GPtrArray) a = entries_for(paths);
        g_autoptr(GError) e = NULL;
        bool changed = true;
        ck_assert_int_eq(exports_file_write(p, EXPORTS_MODE_BLOCK, a, &changed, &e), -EEXIST);
        ck_assert(changed); /* untouched on failure */
        ck_assert(g_str_has_prefix(e->message, p));
        g_autofree char *text = slurp(p);
        ck_assert_str_eq(text, admin);
}
END_TEST

START_TEST(test_block_mode_sees_dropins) {
        g_autofree char *p = g_build_filename(dir, "exports", NULL);
        g_autofree char *d = g_build_filename(dir, "exports.d", NULL);
        ck_assert_int_eq(mkdir(d, 0755), 0);
        g_autofree char *other = g_build_filename(d, "admin.exports", NULL);
        ck_assert(g_file_set_contents(other, "\n/home/NFS/A host(rw)\n", -1, NULL));
        g_autofree char *ignored = g_build_filename(d, "notes.txt", NULL);
        ck_assert(g_file_set_contents(ignored, "/home/NFS/B host(rw)\n", -1, NULL));

        const char *const paths[] = { "/home/NFS/B", NULL };
        g_autoptr(GPtrArray) ok = entries_for(paths);
        ck_assert_int_eq(exports_file_write(p, EXPORTS_MODE_BLOCK, ok, NULL, NULL), 0);

        const char *const paths2[] = { "/home/NFS/B", "/home/NFS/A", NULL };
        g_autoptr(GPtrArray) bad = entries_for(paths2);
        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(exports_file_write(p, EXPORTS_MODE_BLOCK, bad, NULL, &e), -EEXIST);
        g_autofree char *expect = g_strdup_printf("%s:2: ", other);
        ck_assert_msg(g_str_has_prefix(e->message, expect), "%s", e->message);
}
END_TEST

START_TEST(test_file_mode) {
        g_autofree char *d = g_build_filename(dir, "exports.d", NULL);
        ck_assert_int_eq(mkdir(d, 0755), 0);
        g_autofree char *main_file = g_build_filename(dir, "exports", NULL);
        ck_assert(g_file_set_contents(main_file, "/srv/admin *(ro)\n", -1, NULL));
        g_autofree char *p = g_build_filename(d, "nfsprov.exports", NULL);

        const char *const paths[] = { "/home/NFS/A", NULL };
        g_autoptr(GPtrArray) a = entries_for(paths);
        ck_assert_int_eq(exports_file_write(p, EXPORTS_MODE_FILE, a, NULL, NULL), 0);
        g_autofree char *text = slurp(p);
        ck_assert(g_str_has_prefix(text, "# BEGIN nfsprov managed block\n"));
        ck_assert(g_str_has_suffix(text, "/home/NFS/A *(rw,no_root_squash,sync,no_subtree_check)\n"
                                         "# END nfsprov managed block\n"));
        struct stat st;
        ck_assert_int_eq(stat(p, &st), 0);
        ck_assert_uint_eq(st.st_mode & 07777, 0644);
        /* the admin's file is not touched */
        g_autofree char *m = slurp(main_file);
        ck_assert_str_eq(m, "/srv/admin *(ro)\n");

        /* the whole file is nfsprov's: stray lines an admin added are replaced */
        ck_assert(g_file_set_contents(p, "/srv/stray *(rw)\n", -1, NULL));
        ck_assert_int_eq(exports_file_write(p, EXPORTS_MODE_FILE, a, NULL, NULL), 0);
        g_autofree char *t2 = slurp(p);
        ck_assert_str_eq(t2, text);

        /* a path the admin exports in /etc/exports is refused */
        const char *const clash[] = { "/srv/admin", NULL };
        g_autoptr(GPtrArray) c = entries_for(clash);
        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(exports_file_write(p, EXPORTS_MODE_FILE, c, NULL, &e), -EEXIST);
        g_autofree char *expect = g_strdup_printf("%s:1: ", main_file);
        ck_assert_msg(g_str_has_prefix(e->message, expect), "%s", e->message);
}
END_TEST

START_TEST(test_read_absent) {
        g_autofree char *p = g_build_filename(dir, "exports", NULL);
        g_autoptr(GPtrArray) back = NULL;
        ck_assert_int_eq(exports_file_read(p, &back, NULL), 0);
        ck_assert_uint_eq(back->len, 0);
}
END_TEST

Suite *unit_suite(void) {
        Suite *s = suite_create("exports_file");
        TCase *tc = tcase_create("exports_file");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_mode_for_path);
        tcase_add_test(tc, test_block_mode_create_update_unchanged);
        tcase_add_test(tc, test_block_mode_conflict_leaves_file);
        tcase_add_test(tc, test_block_mode_sees_dropins);
        tcase_add_test(tc, test_file_mode);
        tcase_add_test(tc, test_read_absent);
        suite_add_tcase(s, tc);
        return s;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "error.h"
#include "unit.h"

static char *dir;

static void setup(void) {
        dir = unit_mkdtemp();
}

static void teardown(void) {
        unit_rm_rf(dir);
        g_clear_pointer(&dir, g_free);
}

static unsigned count_entries(const char *d) {
        g_autoptr(GDir) gd = g_dir_open(d, 0, NULL);
        unsigned n = 0;
        while (g_dir_read_name(gd))
                n++;
        return n;
}

START_TEST(test_create_new_file_with_mode) {
        g_autofree char *p = g_build_filename(dir, "exports", NULL);
        ck_assert_int_eq(atomic_file_replace(p, "abc\n", 4, 0640, NULL), 0);
        g_autofree char *data = NULL;
        size_t len;
        ck_assert_int_eq(atomic_file_read(p, &data, &len, NULL), 0);
        ck_assert_uint_eq(len, 4);
        ck_assert_str_eq(data, "abc\n");
        struct stat st;
        ck_assert_int_eq(stat(p, &st), 0);
        ck_assert_uint_eq(st.st_mode & 07777, 0640);
        ck_assert_uint_eq(count_entries(dir), 1); /* no temporary file left */
}
END_TEST

START_TEST(test_replace_keeps_mode) {
        g_autofree char *p = g_build_filename(dir, "exports", NULL);
        ck_assert(g_file_set_contents(p, "old content\n", -1, NULL));
        ck_assert_int_eq(chmod(p, 0604), 0);
        struct stat before;
        ck_assert_int_eq(stat(p, &before), 0);

        ck_assert_int_eq(atomic_file_replace(p, "new\n", 4, 0600, NULL), 0);

        struct stat after;
        ck_assert_int_eq(stat(p, &after), 0);
        ck_assert_uint_eq(after.st_mode & 07777, 0604);
        ck_assert_uint_ne(after.st_ino, before.st_ino); /* replaced by rename, not rewritten */
        g_autofree char *data = NULL;
        ck_assert(g_file_get_contents(p, &data, NULL, NULL));
        ck_assert_str_eq(data, "new\n");
        ck_assert_uint_eq(count_entries(dir), 1);
}
END_TEST

/* The replacement belongs to the file's owner, not to the process that replaced it. */
START_TEST(test_replace_keeps_owner) {
        if (geteuid() != 0)
                unit_skip("needs root: the file must belong to another user (1234:4321) than the one replacing it");
        g_autofree char *p = g_build_filename(dir, "exports", NULL);
        ck_assert(g_file_set_contents(p, "old content\n", -1, NULL));
        ck_assert_int_eq(chown(p, 1234, 4321), 0);

        ck_assert_int_eq(atomic_file_replace(p, "new\n", 4, 0600, NULL), 0);

        struct stat after;
        ck_assert_int_eq(stat(p, &after), 0);
        ck_assert_uint_eq(after.st_uid, 1234);
        ck_assert_uint_eq(after.st_gid, 4321);
        g_autofree char *data = NULL;
        ck_assert(g_file_get_contents(p, &data, NULL, NULL));
        ck_assert_str_eq(data, "new\n");
        ck_assert_uint_eq(count_entries(dir), 1);
}
END_TEST

/* Permission checks, run as an unprivileged user (as root: in a child as nobody), on files that
 * user owns: a file it may not read, and a file in a directory it may not write. */
static void permission_checks(void *data) {
        const char *d = data;
        g_autofree char *secret = g_build_filename(d, "secret", NULL);
        g_autofree char *ro = g_build_filename(d, "ro", NULL);
        g_autofree char *kept = g_build_filename(ro, "exports", NULL);
        struct stat st;
        /* The files are reachable: EACCES below comes from their own modes. */
        ck_assert_msg(stat(secret, &st) == 0 && stat(kept, &st) == 0, "%s not reachable as uid %u: %s", d,
                      (unsigned) geteuid(), g_strerror(errno));

        g_autofree char *got = NULL;
        size_t len = 77;
        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(atomic_file_read(secret, &got, &len, &e), -EACCES);
        ck_assert_int_eq(e->code, EACCES);
        ck_assert_msg(strstr(e->message, secret) && strstr(e->message, "Permission denied"), "%s", e->message);
        ck_assert_ptr_null(got);
        ck_assert_uint_eq(len, 77);

        g_clear_error(&e);
        ck_assert_int_eq(atomic_file_replace(kept, "new\n", 4, 0644, &e), -EACCES);
        ck_assert_int_eq(e->code, EACCES);
        g_autofree char *want = g_strdup_printf("%s: cannot create a temporary file in %s: Permission denied", kept, ro);
        ck_assert_str_eq(e->message, want);
        g_autofree char *content = NULL;
        ck_assert(g_file_get_contents(kept, &content, NULL, NULL));
        ck_assert_str_eq(content, "old\n");
        ck_assert_uint_eq(count_entries(ro), 1);
}

START_TEST(test_permission_denied) {
        g_autofree char *secret = g_build_filename(dir, "secret", NULL);
        ck_assert(g_file_set_contents(secret, "x\n", -1, NULL));
        ck_assert_int_eq(chmod(secret, 0), 0);
        g_autofree char *ro = g_build_filename(dir, "ro", NULL);
        ck_assert_int_eq(mkdir(ro, 0755), 0);
        g_autofree char *kept = g_build_filename(ro, "exports", NULL);
        ck_assert(g_file_set_contents(kept, "old\n", -1, NULL));
        ck_assert_int_eq(chmod(kept, 0644), 0);
        ck_assert_int_eq(chmod(ro, 0555), 0);
        unit_give_to_unprivileged(dir);
        unit_give_to_unprivileged(secret);
        unit_give_to_unprivileged(ro);
        unit_give_to_unprivileged(kept);

        unit_run_unprivileged(permission_checks, dir);
}
END_TEST

START_TEST(test_refuses_non_regular) {
        g_autofree char *p = g_build_filename(dir, "sub", NULL);
        ck_assert_int_eq(mkdir(p, 0755), 0);
        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(atomic_file_replace(p, "x", 1, 0644, &e), -EINVAL);
        ck_assert_ptr_nonnull(strstr(e->message, "not a regular file"));

        g_autofree char *link = g_build_filename(dir, "link", NULL);
        ck_assert_int_eq(symlink("/etc/passwd", link), 0);
        g_clear_error(&e);
        ck_assert_int_eq(atomic_file_replace(link, "x", 1, 0644, &e), -EINVAL);
}
END_TEST

START_TEST(test_missing_directory) {
        g_autofree char *p = g_build_filename(dir, "no", "such", "exports", NULL);
        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(atomic_file_replace(p, "x", 1, 0644, &e), -ENOENT);
        ck_assert_ptr_nonnull(strstr(e->message, p));
}
END_TEST

START_TEST(test_read_missing) {
        g_autofree char *p = g_build_filename(dir, "nope", NULL);
        g_autofree char *data = NULL;
        size_t len = 77;
        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(atomic_file_read(p, &data, &len, &e), -ENOENT);
        ck_assert_ptr_null(data);
        ck_assert_uint_eq(len, 77); /* outputs untouched on failure */
}
END_TEST

/* A file that may be missing: missing reads as "" and says so; present reads whole; any other
 * failure (here a directory in its place) is an error with the outputs untouched. */
START_TEST(test_read_optional) {
        g_autofree char *p = g_build_filename(dir, "conf", NULL);
        g_autofree char *data = NULL;
        size_t len = 77;
        bool exists = true;
        ck_assert_int_eq(atomic_file_read_optional(p, &data, &len, &exists, NULL), 0);
        ck_assert_str_eq(data, "");
        ck_assert_uint_eq(len, 0);
        ck_assert(!exists);
        g_clear_pointer(&data, g_free);
        ck_assert_int_eq(atomic_file_replace(p, "a = 1\n", 6, 0644, NULL), 0);
        ck_assert_int_eq(atomic_file_read_optional(p, &data, &len, &exists, NULL), 0);
        ck_assert_str_eq(data, "a = 1\n");
        ck_assert_uint_eq(len, 6);
        ck_assert(exists);
        g_clear_pointer(&data, g_free);
        ck_assert_int_eq(atomic_file_read_optional(p, &data, NULL, NULL, NULL), 0); /* outputs optional */
        g_clear_pointer(&data, g_free);

        g_autofree char *d = g_build_filename(dir, "adir", NULL);
        ck_assert_int_eq(mkdir(d, 0755), 0);
        g_autoptr(GError) e = NULL;
        len = 77;
        exists = false;
        ck_assert_int_lt(atomic_file_read_optional(d, &data, &len, &exists, &e), 0);
        ck_assert_ptr_nonnull(e);
        ck_assert_ptr_null(data);
        ck_assert_uint_eq(len, 77);
        ck_assert(!exists);
}
END_TEST

START_TEST(test_binary_and_empty_content) {
        g_autofree char *p = g_build_filename(dir, "f", NULL);
        const char bin[] = { 'a', 0, 'b', '\n' };
        ck_assert_int_eq(atomic_file_replace(p, bin, sizeof bin, 0644, NULL), 0);
        g_autofree char *data = NULL;
        size_t len;
        ck_assert_int_eq(atomic_file_read(p, &data, &len, NULL), 0);
        ck_assert_uint_eq(len, sizeof bin);
        ck_assert_int_eq(memcmp(data, bin, sizeof bin), 0);
        ck_assert_int_eq(atomic_file_replace(p, "", 0, 0644, NULL), 0);
        g_clear_pointer(&data, g_free);
        ck_assert_int_eq(atomic_file_read(p, &data, &len, NULL), 0);
        ck_assert_uint_eq(len, 0);
}
END_TEST

Suite *unit_suite(void) {
        Suite *s = suite_create("atomic_file");
        TCase *tc = tcase_create("atomic_file");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_create_new_file_with_mode);
        tcase_add_test(tc, test_replace_keeps_mode);
        tcase_add_test(tc, test_replace_keeps_owner);
        tcase_add_test(tc, test_permission_denied);
        tcase_add_test(tc, test_refuses_non_regular);
        tcase_add_test(tc, test_missing_directory);
        tcase_add_test(tc, test_read_missing);
        tcase_add_test(tc, test_read_optional);
        tcase_add_test(tc, test_binary_and_empty_content);
        suite_add_tcase(s, tc);
        return s;
}

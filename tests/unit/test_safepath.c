/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "macro.h"
#include "safepath.h"
#include "unit.h"

static char *root;

static void setup(void) {
        root = unit_mkdtemp();
}

static void teardown(void) {
        unit_rm_rf(root);
        g_clear_pointer(&root, g_free);
}

static bool is_dir_fd(int fd, const char *path) {
        struct stat a, b;
        return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino && S_ISDIR(a.st_mode);
}

START_TEST(test_mkdir_p) {
        g_autofree char *deep = g_build_filename(root, "a", "b", "c", NULL);
        _cleanup_close_ int fd = -1;
        ck_assert_int_eq(safepath_mkdir_p(deep, 0750, &fd, NULL), 0);
        ck_assert(is_dir_fd(fd, deep));
        struct stat st;
        ck_assert_int_eq(stat(deep, &st), 0);
        ck_assert_uint_eq(st.st_mode & 0777, 0750 & ~umask(022));
        umask(022);
        /* again: the same directory, nothing changed */
        _cleanup_close_ int fd2 = -1;
        ck_assert_int_eq(safepath_mkdir_p(deep, 0700, &fd2, NULL), 0);
        ck_assert(is_dir_fd(fd2, deep));
}
END_TEST

START_TEST(test_mkdir_p_refuses_links_and_files) {
        g_autofree char *real = g_build_filename(root, "real", NULL);
        g_autofree char *link = g_build_filename(root, "link", NULL);
        ck_assert_int_eq(mkdir(real, 0755), 0);
        ck_assert_int_eq(symlink(real, link), 0);
        g_autofree char *under = g_build_filename(link, "x", NULL);
        int fd = -1;
        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(safepath_mkdir_p(under, 0755, &fd, &e), -ELOOP);
        ck_assert_int_eq(fd, -1);
        g_autofree char *want = g_strdup_printf("%s is a symbolic link (to %s)", link, real);
        ck_assert_msg(strstr(e->message, want), "message: %s", e->message);
        g_autofree char *made = g_build_filename(real, "x", NULL);
        ck_assert(!g_file_test(made, G_FILE_TEST_EXISTS));

        g_autofree char *file = g_build_filename(root, "file", NULL);
        ck_assert(g_file_set_contents(file, "", 0, NULL));
        g_autofree char *below = g_build_filename(file, "x", NULL);
        g_clear_error(&e);
        ck_assert_int_eq(safepath_mkdir_p(below, 0755, &fd, &e), -ENOTDIR);
        g_clear_error(&e);
        g_autofree char *dots = g_strdup_printf("%s/real/../x", root);
        ck_assert_int_eq(safepath_mkdir_p(dots, 0755, &fd, &e), -EINVAL);
        g_clear_error(&e);
        ck_assert_int_eq(safepath_mkdir_p("relative/x", 0755, &fd, &e), -EINVAL);
}
END_TEST

START_TEST(test_open_and_openat) {
        g_autofree char *dir = g_build_filename(root, "dir", NULL);
        g_autofree char *target = g_build_filename(root, "target", NULL);
        ck_assert_int_eq(mkdir(dir, 0755), 0);
        ck_assert_int_eq(mkdir(target, 0755), 0);
        g_autofree char *evil = g_build_filename(dir, "evil", NULL);
        ck_assert_int_eq(symlink(target, evil), 0);
        g_autofree char *good = g_build_filename(dir, "good", NULL);
        ck_assert_int_eq(mkdir(good, 0755), 0);

        _cleanup_close_ int dfd = -1;
        ck_assert_int_eq(safepath_open(dir, O_PATH | O_DIRECTORY, 0, &dfd, NULL), 0);
        int fd = -1;
        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(safepath_openat(dfd, dir, "evil", O_PATH | O_DIRECTORY, 0, &fd, &e), -ELOOP);
        g_autofree char *want = g_strdup_printf("%s/evil is a symbolic link (to %s)", dir, target);
        ck_assert_msg(strstr(e->message, want), "message: %s", e->message);
        g_clear_error(&e);
        ck_assert_int_eq(safepath_open(evil, O_PATH, 0, &fd, &e), -ELOOP);
        ck_assert_msg(strstr(e->message, want), "message: %s", e->message);
        g_clear_error(&e);
        /* O_CREAT|O_EXCL at a planted link: refused, nothing made at its target */
        g_autofree char *planted = g_build_filename(dir, "img", NULL);
        g_autofree char *nowhere = g_build_filename(root, "nowhere", NULL);
        ck_assert_int_eq(symlink(nowhere, planted), 0);
        ck_assert_int_lt(safepath_openat(dfd, dir, "img", O_RDWR | O_CREAT | O_EXCL, 0600, &fd, &e), 0);
        ck_assert(!g_file_test(nowhere, G_FILE_TEST_EXISTS));
        g_clear_error(&e);
        ck_assert_int_eq(safepath_openat(dfd, dir, "a/b", O_PATH, 0, &fd, &e), -EINVAL);
        g_clear_error(&e);
        ck_assert_int_eq(safepath_openat(dfd, dir, "..", O_PATH, 0, &fd, &e), -EINVAL);

        _cleanup_close_ int gfd = -1;
        ck_assert_int_eq(safepath_openat(dfd, dir, "good", O_PATH | O_DIRECTORY, 0, &gfd, NULL), 0);
        ck_assert(is_dir_fd(gfd, good));
}
END_TEST

Suite *unit_suite(void) {
        Suite *s = suite_create("safepath");
        TCase *tc = tcase_create("safepath");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_mkdir_p);
        tcase_add_test(tc, test_mkdir_p_refuses_links_and_files);
        tcase_add_test(tc, test_open_and_openat);
        suite_add_tcase(s, tc);
        return s;
}

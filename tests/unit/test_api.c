/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* api.c's pieces that need no engine: the token file. (The routes run against the real daemon
 * in tests/integration/nfsprovd-api.sh.) */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "api.h"
#include "token_file.h"
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

static char *token_file(const char *text, unsigned mode) {
        char *p = g_build_filename(dir, "token", NULL);
        ck_assert(g_file_set_contents(p, text, -1, NULL));
        ck_assert_int_eq(chmod(p, mode), 0);
        return p;
}

START_TEST(test_token_ok) {
        g_autofree char *p = token_file("  0123456789abcdef-XYZ\n", 0600);
        g_autofree char *t = NULL;
        ck_assert_int_eq(token_file_read(p, &t, NULL), 0);
        ck_assert_str_eq(t, "0123456789abcdef-XYZ");
        g_autofree char *q = token_file("0123456789abcdefgh", 0400);
        g_autofree char *u = NULL;
        ck_assert_int_eq(token_file_read(q, &u, NULL), 0);
}
END_TEST

typedef struct Bad {
        const char *text;
        unsigned mode;
        int r;
        const char *want;
} Bad;

static const Bad bad[] = {
        { "0123456789abcdef\n", 0640, -EPERM, "must not be accessible by group or others" },
        { "0123456789abcdef\n", 0604, -EPERM, "mode 0604" },
        { "0123456789abcdef\n", 0620, -EPERM, "chmod 0600" },
        { "", 0600, -EINVAL, "empty" },
        { "short\n", 0600, -EINVAL, "at least 16 characters" },
        { "0123456789 abcdef\n", 0600, -EINVAL, "printable ASCII without blank space" },
        { "0123456789abcdef\nsecond line\n", 0600, -EINVAL, "one line" },
};

START_TEST(test_token_bad) {
        const Bad *b = &bad[_i];
        g_autofree char *p = token_file(b->text, b->mode);
        g_autofree char *t = NULL;
        g_autoptr(GError) error = NULL;
        ck_assert_int_eq(token_file_read(p, &t, &error), b->r);
        ck_assert_ptr_null(t);
        ck_assert_msg(!strchr(error->message, '\n'), "not one line: %s", error->message);
        ck_assert_msg(strstr(error->message, p), "message lacks the path: %s", error->message);
        ck_assert_msg(strstr(error->message, b->want), "\"%s\" lacks \"%s\"", error->message, b->want);
}
END_TEST

START_TEST(test_token_missing_and_not_regular) {
        g_autofree char *p = g_build_filename(dir, "none", NULL);
        g_autofree char *t = NULL;
        g_autoptr(GError) error = NULL;
        ck_assert_int_eq(token_file_read(p, &t, &error), -ENOENT);
        g_autoptr(GError) e2 = NULL;
        ck_assert_int_lt(token_file_read(dir, &t, &e2), 0);
        ck_assert_ptr_null(t);
        /* a symlink is not followed */
        g_autofree char *real = token_file("0123456789abcdef", 0600);
        g_autofree char *link = g_build_filename(dir, "link", NULL);
        ck_assert_int_eq(symlink(real, link), 0);
        g_autoptr(GError) e3 = NULL;
        ck_assert_int_eq(token_file_read(link, &t, &e3), -ELOOP);
}
END_TEST

Suite *unit_suite(void) {
        Suite *s = suite_create("api");
        TCase *tc = tcase_create("api");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_token_ok);
        tcase_add_loop_test(tc, test_token_bad, 0, G_N_ELEMENTS(bad));
        tcase_add_test(tc, test_token_missing_and_not_regular);
        suite_add_tcase(s, tc);
        return s;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <signal.h>
#include <string.h>

#include "error.h"
#include "run.h"
#include "unit.h"

START_TEST(test_captures_stdout_stderr_status) {
        const char *argv[] = { "sh", "-c", "echo out; echo 'line one' >&2; echo two >&2; exit 3", NULL };
        g_autoptr(RunResult) r = NULL;
        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(run_argv(argv, &r, &e), 0);
        ck_assert_int_eq(r->exit_status, 3);
        ck_assert_str_eq(r->out, "out\n");
        ck_assert_str_eq(r->err, "line one\ntwo\n");
        g_autofree char *first = run_first_line(r->err);
        ck_assert_str_eq(first, "line one");
        g_autofree char *how = run_describe_status(r);
        ck_assert_str_eq(how, "exit status 3");
}
END_TEST

START_TEST(test_arguments_are_not_shell_words) {
        /* Metacharacters reach the program verbatim: no shell sits in between. */
        const char *argv[] = { "printf", "%s|", "a b", "$(id)", ";rm", NULL };
        g_autoptr(RunResult) r = NULL;
        ck_assert_int_eq(run_argv(argv, &r, NULL), 0);
        ck_assert_int_eq(r->exit_status, 0);
        ck_assert_str_eq(r->out, "a b|$(id)|;rm|");
}
END_TEST

START_TEST(test_missing_program) {
        const char *argv[] = { "nfsprov-no-such-program", NULL };
        g_autoptr(RunResult) r = NULL;
        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(run_argv(argv, &r, &e), -ENOENT);
        ck_assert_ptr_null(r);
        ck_assert_ptr_nonnull(strstr(e->message, "nfsprov-no-such-program"));
        ck_assert_int_eq(np_error_errno(e), -ENOENT);
}
END_TEST

START_TEST(test_killed_by_signal) {
        const char *argv[] = { "sh", "-c", "kill -TERM $$", NULL };
        g_autoptr(RunResult) r = NULL;
        ck_assert_int_eq(run_argv(argv, &r, NULL), 0);
        ck_assert_int_eq(r->exit_status, -1);
        ck_assert_int_eq(r->term_signal, SIGTERM);
        g_autofree char *how = run_describe_status(r);
        ck_assert_str_eq(how, "killed by SIGTERM");
}
END_TEST

START_TEST(test_first_line_skips_blank) {
        g_autofree char *a = run_first_line("\n  \n  mkfs.ext4: bad  \nmore\n");
        ck_assert_str_eq(a, "mkfs.ext4: bad");
        g_autofree char *b = run_first_line("");
        ck_assert_str_eq(b, "");
}
END_TEST

Suite *unit_suite(void) {
        Suite *s = suite_create("run");
        TCase *tc = tcase_create("run");
        tcase_add_test(tc, test_captures_stdout_stderr_status);
        tcase_add_test(tc, test_arguments_are_not_shell_words);
        tcase_add_test(tc, test_missing_program);
        tcase_add_test(tc, test_killed_by_signal);
        tcase_add_test(tc, test_first_line_skips_blank);
        suite_add_tcase(s, tc);
        return s;
}

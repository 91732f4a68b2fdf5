/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <unistd.h>
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

/* Which of the descriptors 3..max are open in the child: a shell tests its own /proc/PID/fd
 * entries (test -e opens nothing). */
static char *child_fds(const RunOptions *o, int max) {
        g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
        g_ptr_array_add(argv, g_strdup("sh"));
        g_ptr_array_add(argv, g_strdup("-c"));
        g_ptr_array_add(argv, g_strdup("for n; do [ -e /proc/$$/fd/$n ] && printf '%s ' $n; done; true"));
        g_ptr_array_add(argv, g_strdup("sh"));
        for (int fd = 3; fd <= max; fd++)
                g_ptr_array_add(argv, g_strdup_printf("%d", fd));
        g_ptr_array_add(argv, NULL);
        g_autoptr(RunResult) r = NULL;
        g_autoptr(GError) e = NULL;
        ck_assert_msg(run_argv_opts((const char *const *) argv->pdata, o, &r, &e) == 0, "%s", e ? e->message : "");
        ck_assert_int_eq(r->exit_status, 0);
        return g_strdup(g_strstrip(r->out));
}

START_TEST(test_descriptors) {
        int plain = open("/dev/null", O_RDONLY);             /* not close-on-exec: must not leak */
        int named = open("/dev/null", O_RDONLY | O_CLOEXEC); /* close-on-exec, but handed over */
        int above = open("/dev/null", O_RDONLY);              /* above the one handed over */
        ck_assert_int_ge(plain, 3);
        ck_assert_int_gt(named, plain);
        ck_assert_int_gt(above, named);

        RunOptions none = { 0 };
        g_autofree char *seen = child_fds(&none, above + 8);
        ck_assert_str_eq(seen, "");

        RunOptions one = { .fds = &named, .n_fds = 1 };
        g_autofree char *seen_one = child_fds(&one, above + 8);
        g_autofree char *want = g_strdup_printf("%d", named);
        ck_assert_str_eq(seen_one, want);

        /* the handed-over descriptor keeps its close-on-exec in the caller */
        ck_assert_int_eq(fcntl(named, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
        close(plain);
        close(named);
        close(above);
}
END_TEST

START_TEST(test_signals_reset) {
        /* a caller that blocks SIGTERM (as a daemon does for signalfd) and ignores SIGPIPE: the
         * program gets neither */
        sigset_t block, old;
        sigemptyset(&block);
        sigaddset(&block, SIGTERM);
        ck_assert_int_eq(sigprocmask(SIG_BLOCK, &block, &old), 0);
        struct sigaction ign = { .sa_handler = SIG_IGN }, old_pipe;
        ck_assert_int_eq(sigaction(SIGPIPE, &ign, &old_pipe), 0);

        const char *argv[] = { "grep", "-E", "^Sig(Blk|Ign):", "/proc/self/status", NULL };
        g_autoptr(RunResult) r = NULL;
        int rc = run_argv(argv, &r, NULL);
        sigprocmask(SIG_SETMASK, &old, NULL);
        sigaction(SIGPIPE, &old_pipe, NULL);
        ck_assert_int_eq(rc, 0);
        const char *blk = strstr(r->out, "SigBlk:\t"), *ignl = strstr(r->out, "SigIgn:\t");
        ck_assert_msg(blk && ignl, "%s", r->out);
        /* bit N-1 stands for signal N (glibc's own real-time signals 32 and 33 may show as ignored) */
        uint64_t blocked = g_ascii_strtoull(blk + 8, NULL, 16), ignored = g_ascii_strtoull(ignl + 8, NULL, 16);
        ck_assert_msg(!(blocked & (UINT64_C(1) << (SIGTERM - 1))), "SIGTERM blocked in the program: %s", r->out);
        ck_assert_msg(!(ignored & (UINT64_C(1) << (SIGPIPE - 1))), "SIGPIPE ignored in the program: %s", r->out);
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
        tcase_add_test(tc, test_descriptors);
        tcase_add_test(tc, test_signals_reset);
        tcase_add_test(tc, test_first_line_skips_blank);
        suite_add_tcase(s, tc);
        return s;
}

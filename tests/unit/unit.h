/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Each tests/unit/test_*.c defines unit_suite(): the Check suite for its module. */
#pragma once

#include <check.h>
#include <glib.h>
#include <stdbool.h>
#include <sys/types.h>

Suite *unit_suite(void);

/* UNIT_ONE_PROCESS, once at file scope: this program's tests may share one process (Check's
 * CK_NOFORK) unless the environment sets CK_FORK. For a program whose tests leave no process
 * state behind, expect no signal or exit, and do not call unit_run_unprivileged. A fork per test
 * costs ~20 ms of CPU under ASan (LeakSanitizer checks each child at its exit): 400 loop
 * iterations took 8 s where one process takes 0.1 s. Leaks are still found, at the program's
 * exit; a failed check still fails its test (the suite goes on); tcase_set_timeout is not
 * enforced. */
#define UNIT_ONE_PROCESS const int unit_one_process = 1
extern const int unit_one_process __attribute__((weak));
/* Set by main() before the suite runs: whether each test runs in a process of its own (Check's
 * fork mode, as UNIT_ONE_PROCESS and CK_FORK decided). */
extern bool unit_forks;

/* A fresh temporary directory for one test (removed by unit_rm_rf). */
char *unit_mkdtemp(void);
void unit_rm_rf(const char *path);

/* ---- skipping ----
 * A test that cannot run its checks here (it needs root, IPv6, ...) calls unit_skip() with the
 * reason before its first check; unit_skip() returns from the test. The program still runs its
 * other tests, then prints "SKIP: PROGRAM: TEST: reason" for each skipped test and exits 77
 * (automake: skipped) — or 1 when a test failed. A program with a skipped test never passes.
 * Only in a START_TEST body (it returns from the calling function). */
#define unit_skip(...)                                          \
        do {                                                    \
                unit_skip_record(__func__, __VA_ARGS__);        \
                return;                                         \
        } while (0)
void unit_skip_record(const char *test_fn, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* For unit_main.c: the file the skips are recorded in (shared by Check's forked test processes):
 * open it before the suite runs (0 or -errno); read it afterwards (NULL on failure). */
int unit_skips_open(void);
char *unit_skips_read(void);

/* ---- permission checks as an unprivileged user ----
 * Root passes every permission check, and CI runs as root: an EACCES check must drop root to run.
 * unit_run_unprivileged(fn, data) runs fn(data) as UNIT_UNPRIVILEGED_UID:GID (nobody:nogroup)
 * with no supplementary groups and no capabilities, in a forked child, when running as root; a
 * failed check in fn fails the calling test. Not root: fn(data) runs directly (already
 * unprivileged). Needs Check's fork mode (the default; not CK_FORK=no).
 * The files fn uses must be reachable by that user: unit_give_to_unprivileged(path) makes path
 * (a directory from unit_mkdtemp() is 0700) that user's own, as a user's files are his. */
#define UNIT_UNPRIVILEGED_UID ((uid_t) 65534)
#define UNIT_UNPRIVILEGED_GID ((gid_t) 65534)
void unit_run_unprivileged(void (*fn)(void *data), void *data);
void unit_give_to_unprivileged(const char *path);

/* UNIT_NEED_PROGRAM(program, package) skips the test (unit_skip) when program is not in PATH;
 * package: the Debian package that has it (listed in scripts/packages.txt). */
#define UNIT_NEED_PROGRAM(program, package)                                                              \
        do {                                                                                             \
                g_autofree char *_p = g_find_program_in_path(program);                                   \
                if (!_p)                                                                                 \
                        unit_skip("%s is not installed (Debian package %s, listed in "                   \
                                  "scripts/packages.txt; scripts/install-deps installs it)",             \
                                  program, package);                                                     \
        } while (0)

/* ---- qemu-img ----
 * UNIT_NEED_QEMU_IMG skips the test (unit_skip) when qemu-img is not installed.
 * unit_qemu_img(dir, args) runs qemu-img with args (NULL-terminated) in dir, from an argv (no
 * shell), and returns its stdout; a failure to run it or a non-zero exit fails the test. */
#define UNIT_NEED_QEMU_IMG UNIT_NEED_PROGRAM("qemu-img", "qemu-utils")
char *unit_qemu_img(const char *dir, const char *const *args);

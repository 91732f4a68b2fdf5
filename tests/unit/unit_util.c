/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"

char *unit_mkdtemp(void) {
        char *d = g_strdup_printf("%s/nfsprov-unit-XXXXXX", g_get_tmp_dir());
        ck_assert_ptr_nonnull(g_mkdtemp(d));
        return d;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path);
}

void unit_rm_rf(const char *path) {
        if (path)
                nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- skipping ---- */

/* An unlinked temporary file opened O_APPEND: Check runs each test in a forked process, which
 * appends one line "TEST: reason" per skip; main() reads it after the suite ran. */
static int skips_fd = -1;

int unit_skips_open(void) {
        g_autofree char *path = g_build_filename(g_get_tmp_dir(), "nfsprov-unit-skips-XXXXXX", NULL);
        int fd = g_mkstemp_full(path, O_RDWR | O_APPEND | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        (void) unlink(path);
        skips_fd = fd;
        return 0;
}

char *unit_skips_read(void) {
        GString *s = g_string_new(NULL);
        char buf[4096];
        ssize_t n;
        if (skips_fd < 0 || lseek(skips_fd, 0, SEEK_SET) < 0) {
                g_string_free(s, true);
                return NULL;
        }
        while ((n = read(skips_fd, buf, sizeof buf)) > 0)
                g_string_append_len(s, buf, n);
        if (n < 0) {
                g_string_free(s, true);
                return NULL;
        }
        return g_string_free(s, false);
}

void unit_skip_record(const char *test_fn, const char *fmt, ...) {
        ck_assert_msg(skips_fd >= 0, "unit_skip: the skip file is not open (main() of unit_main.c opens it)");
        va_list ap;
        va_start(ap, fmt);
        g_autofree char *reason = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        /* START_TEST(name) defines name_fn(): report the test by its name */
        g_autofree char *name = g_str_has_suffix(test_fn, "_fn") ? g_strndup(test_fn, strlen(test_fn) - 3)
                                                                : g_strdup(test_fn);
        g_strdelimit(reason, "\n", ' ');
        g_autofree char *line = g_strdup_printf("%s: %s\n", name, reason);
        ck_assert_msg(write(skips_fd, line, strlen(line)) == (ssize_t) strlen(line), "unit_skip: cannot record: %s",
                      g_strerror(errno));
}

/* ---- permission checks as an unprivileged user ---- */

bool unit_forks = true;

void unit_give_to_unprivileged(const char *path) {
        if (geteuid() != 0)
                return;
        ck_assert_msg(lchown(path, UNIT_UNPRIVILEGED_UID, UNIT_UNPRIVILEGED_GID) == 0, "chown %s: %s", path,
                      g_strerror(errno));
}

void unit_run_unprivileged(void (*fn)(void *data), void *data) {
        if (geteuid() != 0) {
                fn(data);
                return;
        }
        /* Without fork mode, a failed check in the child would jump back into the suite there. */
        ck_assert_msg(unit_forks, "unit_run_unprivileged needs Check's fork mode; unset CK_FORK=no, drop UNIT_ONE_PROCESS");
        fflush(NULL);
        pid_t pid = fork();
        ck_assert_msg(pid >= 0, "fork: %s", g_strerror(errno));
        if (pid == 0) {
                /* A failed check here ends this process with status 1 (fork mode), and its message
                 * goes to Check like any other. */
                ck_assert_msg(setgroups(0, NULL) == 0, "setgroups: %s", g_strerror(errno));
                ck_assert_msg(setresgid(UNIT_UNPRIVILEGED_GID, UNIT_UNPRIVILEGED_GID, UNIT_UNPRIVILEGED_GID) == 0,
                              "setresgid: %s", g_strerror(errno));
                ck_assert_msg(setresuid(UNIT_UNPRIVILEGED_UID, UNIT_UNPRIVILEGED_UID, UNIT_UNPRIVILEGED_UID) == 0,
                              "setresuid: %s", g_strerror(errno));
                uid_t r, e, s;
                ck_assert_int_eq(getresuid(&r, &e, &s), 0);
                ck_assert(r == UNIT_UNPRIVILEGED_UID && e == UNIT_UNPRIVILEGED_UID && s == UNIT_UNPRIVILEGED_UID);
                ck_assert_int_eq(getgroups(0, NULL), 0);
                /* root is gone for good: no way back, and no capability left to bypass permissions */
                ck_assert_msg(setuid(0) < 0 && errno == EPERM, "uid 65534 could become root again");
                fn(data);
                fflush(NULL);
                _exit(0);
        }
        int status;
        pid_t w;
        while ((w = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
                ;
        ck_assert_int_eq(w, pid);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                      "the checks run as uid %u failed (exit status %d, signal %d)", (unsigned) UNIT_UNPRIVILEGED_UID,
                      WIFEXITED(status) ? WEXITSTATUS(status) : -1, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

char *unit_qemu_img(const char *dir, const char *const *args) {
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        g_ptr_array_add(argv, (char *) "qemu-img");
        for (const char *const *a = args; *a; a++)
                g_ptr_array_add(argv, (char *) *a);
        g_ptr_array_add(argv, NULL);
        g_autofree char *out = NULL, *err = NULL;
        g_autoptr(GError) error = NULL;
        int status = 0;
        gboolean ok = g_spawn_sync(dir, (char **) argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                                   &status, &error);
        ck_assert_msg(ok, "cannot run qemu-img: %s", error ? error->message : "?");
        ck_assert_msg(g_spawn_check_wait_status(status, &error), "qemu-img %s failed: %s: %s", args[0],
                      error->message, err);
        return g_steal_pointer(&out);
}

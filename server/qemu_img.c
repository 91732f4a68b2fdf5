/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <inttypes.h>

#include <json-c/json.h>

#include "error.h"
#include "json_autoptr.h"
#include "qemu_img.h"
#include "run.h"

/* /proc/self/fd/DIRFD/NAME: NAME under exactly that directory (the descriptor is inherited). */
static char *at(int dirfd, const char *name) {
        return g_strdup_printf("/proc/self/fd/%d/%s", dirfd, name);
}

/* Run qemu-img with dirfd inherited; `what` names the operation in messages. */
static int run(const char *const *argv, int dirfd, const char *what, GError **error) {
        g_autoptr(RunResult) res = NULL;
        int r = run_argv_fds(argv, &dirfd, 1, &res, error);
        if (r < 0)
                return r;
        if (res->exit_status == 0)
                return 0;
        g_autofree char *how = run_describe_status(res);
        g_autofree char *line = run_first_line(*res->err ? res->err : res->out);
        /* qemu-img names the files by the path it was given; say the volume's name instead */
        g_autofree char *prefix = g_strdup_printf("/proc/self/fd/%d/", dirfd);
        g_auto(GStrv) parts = g_strsplit(line, prefix, -1);
        g_autofree char *clean = g_strjoinv("", parts);
        return np_fail(error, EIO, "%s failed (%s): %s", what, how, *clean ? clean : "(no message)");
}

int qemu_img_create(int dirfd, const char *name, uint64_t capacity, const char *backing, GError **error) {
        g_autofree char *path = at(dirfd, name);
        g_autofree char *size = g_strdup_printf("%" PRIu64, capacity);
        g_autofree char *what = g_strdup_printf("qemu-img create of %s", name);
        if (backing) {
                const char *const argv[] = { "qemu-img", "create", "-q", "-f", "qcow2", "-o", "compat=1.1", "-b",
                                             backing, "-F", "qcow2", "-u", path, size, NULL };
                return run(argv, dirfd, what, error);
        }
        const char *const argv[] = { "qemu-img", "create", "-q", "-f", "qcow2", "-o", "compat=1.1", path, size, NULL };
        return run(argv, dirfd, what, error);
}

int qemu_img_convert(int dirfd, const char *src, const char *dst, GError **error) {
        g_autofree char *from = at(dirfd, src), *to = at(dirfd, dst);
        g_autofree char *what = g_strdup_printf("qemu-img convert of %s", src);
        const char *const argv[] = { "qemu-img", "convert", "-q", "-f", "qcow2", "-O", "qcow2", "-o", "compat=1.1",
                                     from, to, NULL };
        return run(argv, dirfd, what, error);
}

int qemu_img_resize(int dirfd, const char *name, uint64_t capacity, bool shrink, GError **error) {
        g_autofree char *path = at(dirfd, name);
        g_autofree char *size = g_strdup_printf("%" PRIu64, capacity);
        g_autofree char *what = g_strdup_printf("qemu-img resize of %s", name);
        if (shrink) {
                const char *const argv[] = { "qemu-img", "resize", "-q", "-f", "qcow2", "--shrink", path, size, NULL };
                return run(argv, dirfd, what, error);
        }
        const char *const argv[] = { "qemu-img", "resize", "-q", "-f", "qcow2", path, size, NULL };
        return run(argv, dirfd, what, error);
}

int qemu_img_check(int dirfd, const char *name, GError **error) {
        g_autofree char *path = at(dirfd, name);
        const char *const argv[] = { "qemu-img", "check", "-f", "qcow2", "--output=json", path, NULL };
        RunOptions o = { .fds = &dirfd, .n_fds = 1, .max_memory = QEMU_IMG_CHECK_MAX_MEMORY, .discard_stderr = true };
        g_autoptr(RunResult) res = NULL;
        int r = run_argv_opts(argv, &o, &res, error);
        if (r < 0)
                return r;
        if (res->exit_status == 0 || res->exit_status == 3)
                return 0;
        g_autofree char *how = run_describe_status(res);
        if (res->exit_status == 2) {
                g_autoptr(json_object) j = json_tokener_parse(res->out);
                json_object *c = NULL;
                int64_t n = j && json_object_object_get_ex(j, "corruptions", &c) ? json_object_get_int64(c) : -1;
                if (n >= 0)
                        return np_fail(error, EBADMSG,
                                       "qemu-img check of %s found %" PRId64 " corrupt cluster%s (a file cut short "
                                       "or damaged); it is not a usable qcow2",
                                       name, n, n == 1 ? "" : "s");
                return np_fail(error, EBADMSG, "qemu-img check of %s found corruptions; it is not a usable qcow2", name);
        }
        return np_fail(error, EIO, "qemu-img check of %s could not complete (%s)", name, how);
}

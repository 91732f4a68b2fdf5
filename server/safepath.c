/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "error.h"
#include "macro.h"
#include "safepath.h"

static int openat2_nofollow(int dirfd, const char *path, int flags, mode_t mode, uint64_t resolve) {
        struct open_how how = {
                .flags = (uint64_t) (flags | O_CLOEXEC),
                .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
                .resolve = RESOLVE_NO_SYMLINKS | resolve,
        };
        for (;;) {
                long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
                if (fd >= 0)
                        return (int) fd;
                if (errno != EAGAIN && errno != EINTR)
                        return -errno;
                /* EAGAIN: a rename raced the lookup (RESOLVE_* lookups never retry by themselves) */
        }
}

char *safepath_describe_link(const char *path) {
        /* Walk the components with lstat to name the first symbolic link. */
        g_autoptr(GString) prefix = g_string_new(NULL);
        g_auto(GStrv) parts = g_strsplit(path, "/", -1);
        for (char **p = parts; *p; p++) {
                if (!**p)
                        continue;
                g_string_append_c(prefix, '/');
                g_string_append(prefix, *p);
                struct stat st;
                if (lstat(prefix->str, &st) < 0)
                        break;
                if (S_ISLNK(st.st_mode)) {
                        g_autofree char *target = g_file_read_link(prefix->str, NULL);
                        return g_strdup_printf("%s is a symbolic link (to %s); nfsprov never follows one here", prefix->str,
                                               target ? target : "?");
                }
        }
        return g_strdup_printf("%s: a component was a symbolic link; nfsprov never follows one here", path);
}

int safepath_open(const char *path, int flags, mode_t mode, int *ret_fd, GError **error) {
        if (!path || path[0] != '/')
                return np_fail(error, EINVAL, "%s: not an absolute path", path ? path : "(null)");
        int fd = openat2_nofollow(AT_FDCWD, path, flags, mode, 0);
        if (fd == -ELOOP) {
                g_autofree char *why = safepath_describe_link(path);
                return np_fail(error, ELOOP, "%s", why);
        }
        if (fd < 0)
                return np_fail(error, -fd, "%s: %s", path, g_strerror(-fd));
        *ret_fd = fd;
        return 0;
}

int safepath_openat(int dirfd, const char *dir, const char *name, int flags, mode_t mode, int *ret_fd,
                    GError **error) {
        if (!name || !*name || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                return np_fail(error, EINVAL, "%s/%s: not a single entry name", dir, name ? name : "(null)");
        int fd = openat2_nofollow(dirfd, name, flags, mode, RESOLVE_BENEATH);
        if (fd == -ELOOP) {
                g_autofree char *target = NULL;
                char buf[4096];
                ssize_t n = readlinkat(dirfd, name, buf, sizeof buf - 1);
                if (n >= 0)
                        target = g_strndup(buf, (gsize) n);
                return np_fail(error, ELOOP, "%s/%s is a symbolic link (to %s); nfsprov never follows one here", dir,
                               name, target ? target : "?");
        }
        if (fd < 0)
                return np_fail(error, -fd, "%s/%s: %s", dir, name, g_strerror(-fd));
        *ret_fd = fd;
        return 0;
}

int safepath_mkdir_p(const char *path, mode_t mode, int *ret_fd, GError **error) {
        if (!path || path[0] != '/')
                return np_fail(error, EINVAL, "%s: not an absolute path", path ? path : "(null)");
        _cleanup_close_ int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return np_fail(error, errno, "cannot open /: %s", g_strerror(errno));
        g_autoptr(GString) done = g_string_new(NULL);
        g_auto(GStrv) parts = g_strsplit(path, "/", -1);
        for (char **p = parts; *p; p++) {
                if (!**p || strcmp(*p, ".") == 0)
                        continue;
                if (strcmp(*p, "..") == 0)
                        return np_fail(error, EINVAL, "%s: \"..\" is not allowed in this path", path);
                const char *parent = done->len ? done->str : "";
                if (mkdirat(fd, *p, mode) < 0 && errno != EEXIST)
                        return np_fail(error, errno, "cannot create %s/%s: %s", parent, *p, g_strerror(errno));
                int next = -1;
                int r = safepath_openat(fd, done->len ? done->str : "", *p, O_PATH | O_DIRECTORY, 0, &next, error);
                if (r < 0)
                        return r;
                close(fd);
                fd = next;
                g_string_append_c(done, '/');
                g_string_append(done, *p);
        }
        *ret_fd = TAKE_FD(fd);
        return 0;
}

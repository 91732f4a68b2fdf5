/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "error.h"
#include "fdio.h"
#include "macro.h"

static int fsync_dir_of(const char *path) {
        g_autofree char *dir = g_path_get_dirname(path);
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fsync(fd) < 0)
                return -errno;
        return 0;
}

/* The file at path is a mount point when it sits on another device than its directory or
 * when /proc/self/mountinfo lists it; rename() onto it fails with EBUSY. */
static int overwrite_in_place(const char *path, const char *data, size_t len, GError **error) {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return np_fail(error, errno, "%s: cannot open for rewriting: %s", path, g_strerror(errno));
        int r = fd_write_all(fd, data, len);
        if (r < 0)
                return np_fail(error, -r, "%s: write failed: %s", path, g_strerror(-r));
        if (ftruncate(fd, (off_t) len) < 0)
                return np_fail(error, errno, "%s: truncate failed: %s", path, g_strerror(errno));
        if (fsync(fd) < 0)
                return np_fail(error, errno, "%s: fsync failed: %s", path, g_strerror(errno));
        return 0;
}

int atomic_file_replace(const char *path, const char *data, size_t len, mode_t new_mode, GError **error) {
        struct stat st;
        bool exists = true;

        if (lstat(path, &st) < 0) {
                if (errno != ENOENT)
                        return np_fail(error, errno, "%s: cannot stat: %s", path, g_strerror(errno));
                exists = false;
        } else if (!S_ISREG(st.st_mode))
                return np_fail(error, EINVAL, "%s: not a regular file; refusing to replace it", path);

        g_autofree char *dir = g_path_get_dirname(path);
        g_autofree char *base = g_path_get_basename(path);
        g_autofree char *tmp = g_strdup_printf("%s/.%s.nfsprov-XXXXXX", dir, base);

        _cleanup_close_ int fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, 0600);
        if (fd < 0)
                return np_fail(error, errno, "%s: cannot create a temporary file in %s: %s", path, dir,
                               g_strerror(errno));

        int r = fd_write_all(fd, data, len);
        if (r < 0) {
                np_fail(error, -r, "%s: cannot write %s: %s", path, tmp, g_strerror(-r));
                goto fail;
        }
        if (exists) {
                if (fchmod(fd, st.st_mode & 07777) < 0 || fchown(fd, st.st_uid, st.st_gid) < 0) {
                        r = np_fail(error, errno, "%s: cannot copy mode and owner to %s: %s", path, tmp,
                                    g_strerror(errno));
                        goto fail;
                }
        } else if (fchmod(fd, new_mode & 07777) < 0) {
                r = np_fail(error, errno, "%s: cannot set mode of %s: %s", path, tmp, g_strerror(errno));
                goto fail;
        }
        if (fsync(fd) < 0) {
                r = np_fail(error, errno, "%s: fsync of %s failed: %s", path, tmp, g_strerror(errno));
                goto fail;
        }

        if (rename(tmp, path) < 0) {
                if (errno != EBUSY) {
                        r = np_fail(error, errno, "%s: cannot rename %s over it: %s", path, tmp,
                                    g_strerror(errno));
                        goto fail;
                }
                /* A mount point: the temporary copy is durable; now rewrite the file in place. */
                r = overwrite_in_place(path, data, len, error);
                if (r < 0)
                        return r; /* keep tmp: it holds the complete new content */
                (void) unlink(tmp);
        }

        r = fsync_dir_of(path);
        if (r < 0)
                return np_fail(error, -r, "%s: fsync of directory %s failed: %s", path, dir, g_strerror(-r));
        return 0;

fail:
        (void) unlink(tmp);
        return r;
}

int atomic_file_read(const char *path, char **ret_data, size_t *ret_len, GError **error) {
        g_autoptr(GError) e = NULL;
        char *data = NULL;
        gsize len = 0;

        if (!g_file_get_contents(path, &data, &len, &e)) {
                int errnum = e->domain == G_FILE_ERROR && e->code == G_FILE_ERROR_NOENT ? ENOENT : EIO;
                if (e->domain == G_FILE_ERROR && e->code == G_FILE_ERROR_ACCES)
                        errnum = EACCES;
                return np_fail(error, errnum, "%s", e->message);
        }
        *ret_data = data;
        if (ret_len)
                *ret_len = len;
        return 0;
}

int atomic_file_read_optional(const char *path, char **ret_data, size_t *ret_len, bool *ret_exists,
                              GError **error) {
        g_autoptr(GError) e = NULL;
        char *data = NULL;
        size_t len = 0;
        bool exists = true;
        int r = atomic_file_read(path, &data, &len, &e);
        if (r == -ENOENT) {
                data = g_strdup("");
                exists = false;
        } else if (r < 0) {
                g_propagate_error(error, TAKE_PTR(e));
                return r;
        }
        *ret_data = data;
        if (ret_len)
                *ret_len = len;
        if (ret_exists)
                *ret_exists = exists;
        return 0;
}

int atomic_file_remove(const char *path, bool *ret_removed, GError **error) {
        bool removed = true;
        if (unlink(path) < 0) {
                if (errno != ENOENT)
                        return np_fail(error, errno, "%s: cannot remove: %s", path, g_strerror(errno));
                removed = false;
        }
        if (removed) {
                int r = fsync_dir_of(path);
                if (r < 0)
                        return np_fail(error, -r, "%s: fsync of its directory failed: %s", path, g_strerror(-r));
        }
        if (ret_removed)
                *ret_removed = removed;
        return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "macro.h"
#include "token_file.h"

int token_file_read(const char *path, char **ret, GError **error) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0)
                return np_fail(error, errno, "cannot open the token file %s: %s", path, g_strerror(errno));
        struct stat st;
        if (fstat(fd, &st) < 0)
                return np_fail(error, errno, "cannot stat the token file %s: %s", path, g_strerror(errno));
        if (!S_ISREG(st.st_mode))
                return np_fail(error, EINVAL, "the token file %s is not a regular file", path);
        if (st.st_uid != 0 && st.st_uid != geteuid())
                return np_fail(error, EPERM, "the token file %s is owned by uid %u; it must be owned by root", path,
                               (unsigned) st.st_uid);
        if (st.st_mode & 077)
                return np_fail(error, EPERM,
                               "the token file %s has mode %04o; it must not be accessible by group or others "
                               "(chmod 0600)",
                               path, (unsigned) (st.st_mode & 07777));
        if (st.st_size > 4096)
                return np_fail(error, EINVAL, "the token file %s is larger than 4096 bytes", path);
        char buf[4097];
        ssize_t n = read(fd, buf, sizeof buf - 1);
        if (n < 0)
                return np_fail(error, errno, "cannot read the token file %s: %s", path, g_strerror(errno));
        buf[n] = 0;
        g_strstrip(buf);
        size_t len = strlen(buf);
        if (len < 16)
                return np_fail(error, EINVAL, "the token in %s is %s; it must have at least 16 characters", path,
                               len ? "too short" : "empty");
        for (size_t i = 0; i < len; i++)
                if (buf[i] <= ' ' || buf[i] > '~')
                        return np_fail(error, EINVAL,
                                       "the token in %s must be one line of printable ASCII without blank space", path);
        *ret = g_strdup(buf);
        explicit_bzero(buf, sizeof buf);
        return 0;
}

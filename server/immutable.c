/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <linux/fs.h>
#include <sys/ioctl.h>

#include "error.h"
#include "immutable.h"

static int flags_error(const char *what, const char *doing, int err, GError **error) {
        if (err == ENOTTY || err == EOPNOTSUPP || err == EINVAL)
                return np_fail(error, EOPNOTSUPP, "%s: the filesystem has no immutable attribute (%s: %s)", what, doing,
                               g_strerror(err));
        if (err == EPERM)
                return np_fail(error, EPERM,
                               "%s: not permitted to change the immutable attribute (needs CAP_LINUX_IMMUTABLE)", what);
        return np_fail(error, err, "%s: %s failed: %s", what, doing, g_strerror(err));
}

static int get_flags(int fd, const char *what, int *ret, GError **error) {
        int flags = 0;
        if (ioctl(fd, FS_IOC_GETFLAGS, &flags) < 0)
                return flags_error(what, "FS_IOC_GETFLAGS", errno, error);
        *ret = flags;
        return 0;
}

int immutable_get(int fd, const char *what, bool *ret, GError **error) {
        int flags = 0;
        int r = get_flags(fd, what, &flags, error);
        if (r < 0)
                return r;
        *ret = (flags & FS_IMMUTABLE_FL) != 0;
        return 0;
}

int immutable_set(int fd, const char *what, bool on, bool *ret_changed, GError **error) {
        int flags = 0;
        int r = get_flags(fd, what, &flags, error);
        if (r < 0)
                return r;
        bool changed = ((flags & FS_IMMUTABLE_FL) != 0) != on;
        if (changed) {
                flags = on ? flags | FS_IMMUTABLE_FL : flags & ~FS_IMMUTABLE_FL;
                if (ioctl(fd, FS_IOC_SETFLAGS, &flags) < 0)
                        return flags_error(what, "FS_IOC_SETFLAGS", errno, error);
        }
        if (ret_changed)
                *ret_changed = changed;
        return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/ioctl.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <linux/magic.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "error.h"
#include "fs.h"
#include "macro.h"
#include "run.h"
#include "safepath.h"

/* The first non-empty line of text that is not an e2fsprogs version banner
 * ("resize2fs 1.47.0 (5-Feb-2023)", "mke2fs 1.47.0 ..."), with a leading "/usr/sbin/PROG: "
 * shortened to "PROG: " (run_argv() starts programs by their full path, and resize2fs names
 * itself by argv[0]); NULL when there is none. */
static char *first_message_line(const char *text, const char *prog, const char *banner) {
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
        size_t n = strlen(banner);
        g_autofree char *own_prefix = g_strdup_printf("/%s: ", prog);
        for (char **l = lines; *l; l++) {
                char *line = g_strstrip(*l);
                if (!*line)
                        continue;
                if (strncmp(line, banner, n) == 0 && line[n] == ' ' && g_ascii_isdigit(line[n + 1]))
                        continue; /* version banner */
                const char *own = strstr(line, own_prefix);
                if (line[0] == '/' && own && !memchr(line, ' ', (size_t) (own - line)))
                        return g_strdup(own + 1);
                return g_strdup(line);
        }
        return NULL;
}

/* The last non-empty line of text, trimmed; NULL when there is none. */
static char *last_line(const char *text) {
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
        for (guint i = g_strv_length(lines); i > 0; i--) {
                char *line = g_strstrip(lines[i - 1]);
                if (*line)
                        return g_strdup(line);
        }
        return NULL;
}

/* The line of a program's output that says what went wrong: its first error line on stderr,
 * else the first line on stdout, else a note that it printed nothing. */
static char *program_message(const RunResult *res, const char *prog, const char *banner) {
        char *m = first_message_line(res->err, prog, banner);
        if (!m)
                m = first_message_line(res->out, prog, banner);
        return m ? m : g_strdup("(no message)");
}

static bool uuid_valid(const char *uuid) {
        return uuid && g_uuid_string_is_valid(uuid);
}

/* label cut to FS_LABEL_MAX bytes, never in the middle of a UTF-8 character. */
static char *label_truncate(const char *label) {
        size_t len = strlen(label);
        if (len <= FS_LABEL_MAX)
                return g_strdup(label);
        const char *end = label + FS_LABEL_MAX;
        if (g_utf8_validate(label, (gssize) len, NULL))
                while (end > label && ((unsigned char) *end & 0xC0) == 0x80)
                        end--;
        return g_strndup(label, (gsize) (end - label));
}

int fs_mkfs_ext4(const char *device, const char *label, const char *uuid, GError **error) {
        if (!device || !*device)
                return np_fail(error, EINVAL, "mkfs.ext4: no device given");
        if (!label || !*label)
                return np_fail(error, EINVAL, "mkfs.ext4 on %s: empty label; give the share name", device);
        if (!uuid_valid(uuid))
                return np_fail(error, EINVAL,
                               "mkfs.ext4 on %s: invalid filesystem uuid \"%s\"; use the 8-4-4-4-12 hex form "
                               "(e.g. 0b3c7d4e-1f2a-4c5b-9d6e-7f8091a2b3c4)",
                               device, uuid ? uuid : "");

        g_autofree char *lbl = label_truncate(label);
        const char *const argv[] = {
                "mkfs.ext4", "-q", "-F", "-L", lbl, "-U", uuid,
                "-E", "lazy_itable_init=1,lazy_journal_init=1", "-m", "0", device, NULL,
        };
        g_autoptr(RunResult) res = NULL;
        int r = run_argv(argv, &res, error);
        if (r < 0)
                return r;
        if (res->exit_status != 0) {
                g_autofree char *how = run_describe_status(res);
                g_autofree char *msg = program_message(res, "mkfs.ext4", "mke2fs");
                return np_fail(error, EIO, "mkfs.ext4 on %s failed (%s): %s", device, how, msg);
        }
        return 0;
}

int fs_resize2fs(const char *device, uint64_t new_size, GError **error) {
        if (!device || !*device)
                return np_fail(error, EINVAL, "resize2fs: no device given");

        g_autofree char *size = NULL;
        if (new_size > 0) {
                if (new_size < 1024)
                        return np_fail(error, EINVAL, "resize2fs %s: new size %" PRIu64 " bytes is below 1 KiB",
                                       device, new_size);
                size = g_strdup_printf("%" PRIu64 "K", new_size / 1024);
        }
        const char *const argv[] = { "resize2fs", device, size, NULL };
        g_autoptr(RunResult) res = NULL;
        int r = run_argv(argv, &res, error);
        if (r < 0)
                return r;
        if (res->exit_status != 0) {
                g_autofree char *how = run_describe_status(res);
                g_autofree char *msg = program_message(res, "resize2fs", "resize2fs");
                return np_fail(error, EIO, "resize2fs %s%s%s failed (%s): %s", device, size ? " " : "",
                               size ? size : "", how, msg);
        }
        return 0;
}

static const struct {
        int bit;
        int errnum;
        const char *meaning;
} e2fsck_bits[] = {
        { 2, EUCLEAN, "errors corrected, the system should be rebooted" },
        { 4, EUCLEAN, "errors left uncorrected" },
        { 8, EIO, "operational error" },
        { 16, EIO, "usage or syntax error" },
        { 32, ECANCELED, "cancelled by the user" },
        { 128, EIO, "shared library error" },
};

int fs_e2fsck(const char *device, GError **error) {
        if (!device || !*device)
                return np_fail(error, EINVAL, "e2fsck: no device given");

        const char *const argv[] = { "e2fsck", "-f", "-y", device, NULL };
        g_autoptr(RunResult) res = NULL;
        int r = run_argv(argv, &res, error);
        if (r < 0)
                return r;
        if (res->exit_status == 0 || res->exit_status == 1)
                return 0;

        /* e2fsck says why it stopped on stderr ("e2fsck: Cannot continue, aborting.") and what it
         * found on stdout, last ("/dev/loop0 is mounted.", "... RUN fsck MANUALLY."): give both. */
        g_autofree char *err = first_message_line(res->err, "e2fsck", "e2fsck");
        g_autofree char *out = last_line(res->out);
        g_autofree char *msg = err && out ? g_strdup_printf("%s (%s)", err, out)
                                          : g_strdup(err ? err : out ? out : "(no message)");
        if (res->exit_status < 0) {
                g_autofree char *how = run_describe_status(res);
                return np_fail(error, EIO, "e2fsck -f -y %s failed (%s): %s", device, how, msg);
        }
        g_autoptr(GStrvBuilder) b = g_strv_builder_new();
        int errnum = 0;
        for (size_t i = 0; i < ELEMENTSOF(e2fsck_bits); i++)
                if (res->exit_status & e2fsck_bits[i].bit) {
                        g_strv_builder_add(b, e2fsck_bits[i].meaning);
                        if (!errnum || errnum == EUCLEAN)
                                errnum = e2fsck_bits[i].errnum;
                }
        g_auto(GStrv) meanings = g_strv_builder_end(b);
        g_autofree char *meaning = g_strjoinv(", ", meanings);
        return np_fail(error, errnum ? errnum : EIO, "e2fsck -f -y %s failed (exit status %d: %s): %s", device,
                       res->exit_status, *meaning ? meaning : "unknown status", msg);
}

/* ---- mounts through descriptors ---- */

int fs_mount_root(int fd, bool *ret_root, dev_t *ret_devno, GError **error) {
        struct statx stx;
        if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_SYNC_AS_STAT, STATX_TYPE, &stx) < 0)
                return np_fail(error, errno, "cannot examine a mount point (statx): %s", g_strerror(errno));
        if (!(stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT))
                return np_fail(error, EOPNOTSUPP, "the kernel does not tell mount roots apart (statx without STATX_ATTR_MOUNT_ROOT; Linux 5.8 or later needed)");
        if (ret_root)
                *ret_root = (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
        if (ret_devno)
                *ret_devno = makedev(stx.stx_dev_major, stx.stx_dev_minor);
        return 0;
}

int fs_mounted_at(int dirfd, const char *dir, const char *name, dev_t *ret_devno, GError **error) {
        _cleanup_close_ int fd = -1;
        int r = safepath_openat(dirfd, dir, name, O_PATH | O_DIRECTORY, 0, &fd, error);
        if (r < 0)
                return r;
        bool root = false;
        dev_t devno = 0;
        r = fs_mount_root(fd, &root, &devno, error);
        if (r < 0)
                return r;
        if (!root)
                return -ENOENT;
        if (ret_devno)
                *ret_devno = devno;
        return 0;
}

/* The kernel's own words for a failed fsconfig/fsmount: the "e ..." lines it queued on the
 * filesystem context ("e ext4: Can't find ext4 filesystem" -> "ext4: Can't find ext4 filesystem"). */
static char *context_messages(int fsfd) {
        g_autoptr(GString) all = g_string_new(NULL);
        char buf[512];
        ssize_t n;
        while ((n = read(fsfd, buf, sizeof buf - 1)) > 0) {
                buf[n] = '\0';
                g_strchomp(buf);
                const char *m = (n > 2 && buf[1] == ' ') ? buf + 2 : buf; /* drop the "e " / "w " prefix */
                g_string_append_printf(all, "%s%s", all->len ? "; " : "", m);
        }
        return all->len ? g_string_free(g_steal_pointer(&all), FALSE) : NULL;
}

int fs_mount_fd(const char *device, int target_fd, const char *where, GError **error) {
        _cleanup_close_ int fsfd = fsopen("ext4", FSOPEN_CLOEXEC);
        if (fsfd < 0)
                return np_fail(error, errno, "cannot mount %s on %s: fsopen(ext4): %s", device, where, g_strerror(errno));
        if (fsconfig(fsfd, FSCONFIG_SET_STRING, "source", device, 0) < 0 ||
            fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
                int e = errno;
                g_autofree char *why = context_messages(fsfd);
                return np_fail(error, e, "cannot mount %s on %s: %s", device, where, why ? why : g_strerror(e));
        }
        _cleanup_close_ int mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, 0);
        if (mfd < 0) {
                int e = errno;
                g_autofree char *why = context_messages(fsfd);
                return np_fail(error, e, "cannot mount %s on %s: %s", device, where, why ? why : g_strerror(e));
        }
        /* Onto exactly the directory open as target_fd, whatever its path has become. */
        if (move_mount(mfd, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return np_fail(error, errno, "cannot mount %s on %s: move_mount: %s", device, where, g_strerror(errno));
        return 0;
}

int fs_umount_at(int dirfd, const char *dir, const char *name, dev_t expected, GError **error) {
        dev_t devno = 0;
        g_autoptr(GError) e = NULL;
        int r = fs_mounted_at(dirfd, dir, name, &devno, &e);
        if (r == -ENOENT)
                return 0; /* no directory, or nothing mounted there */
        if (r < 0) {
                g_propagate_error(error, g_steal_pointer(&e));
                return r;
        }
        if (devno != expected)
                return np_fail(error, EBUSY, "%s/%s has another filesystem mounted (device %u:%u), not the share's (%u:%u); not unmounting it",
                               dir, name, major(devno), minor(devno), major(expected), minor(expected));
        /* The directory through its descriptor (the magic link is exactly dirfd's directory), the
         * entry without following it: a symbolic link put there meanwhile is no mount point
         * (EINVAL). A descriptor of the mount root itself cannot be used: it keeps the mount
         * busy. */
        char path[64 + NAME_MAX];
        snprintf(path, sizeof path, "/proc/self/fd/%d/%s", dirfd, name);
        if (umount2(path, UMOUNT_NOFOLLOW) < 0) {
                int err = errno;
                if (err == EBUSY)
                        return np_fail(error, EBUSY,
                                       "cannot unmount %s/%s: target is busy (a process has a file open there or "
                                       "its working directory inside it)",
                                       dir, name);
                return np_fail(error, err, "cannot unmount %s/%s: %s", dir, name, g_strerror(err));
        }
        return 0;
}

int fs_resize2fs_fill(const char *device, GError **error) {
        return fs_resize2fs(device, 0, error);
}

/* ext4's online resize, the ioctl resize2fs itself makes on a mounted filesystem (the kernel
 * headers do not export it; e2fsprogs defines it the same way). */
#ifndef EXT4_IOC_RESIZE_FS
#define EXT4_IOC_RESIZE_FS _IOW('f', 16, uint64_t)
#endif

int fs_grow_mounted(int root_fd, const char *where, uint64_t new_size, GError **error) {
        struct statfs sf;
        if (fstatfs(root_fd, &sf) < 0)
                return np_fail(error, errno, "online resize of %s: statfs: %s", where, g_strerror(errno));
        if (sf.f_type != EXT4_SUPER_MAGIC)
                return np_fail(error, EINVAL, "online resize of %s: not an ext4 filesystem", where);
        if (sf.f_bsize <= 0)
                return np_fail(error, EIO, "online resize of %s: block size %ld", where, (long) sf.f_bsize);
        uint64_t blocks = new_size / (uint64_t) sf.f_bsize;
        if (ioctl(root_fd, EXT4_IOC_RESIZE_FS, &blocks) < 0) {
                int e = errno;
                if (e == EPERM)
                        return np_fail(error, EPERM,
                                       "online resize of %s refused by the kernel (EXT4_IOC_RESIZE_FS: %s); resize it "
                                       "offline (unmount, e2fsck, resize2fs, mount)",
                                       where, g_strerror(e));
                return np_fail(error, e, "online resize of %s to %" PRIu64 " blocks failed (EXT4_IOC_RESIZE_FS): %s",
                               where, blocks, g_strerror(e));
        }
        return 0;
}

int fs_usage_fd(int fd, uint64_t *ret_capacity, uint64_t *ret_used, uint64_t *ret_available, GError **error) {
        struct statvfs sv;
        if (fstatvfs(fd, &sv) < 0)
                return np_fail(error, errno, "cannot read filesystem usage (statvfs): %s", g_strerror(errno));
        uint64_t frsize = sv.f_frsize ? sv.f_frsize : sv.f_bsize;
        if (ret_capacity)
                *ret_capacity = (uint64_t) sv.f_blocks * frsize;
        if (ret_used)
                *ret_used = (uint64_t) (sv.f_blocks - sv.f_bfree) * frsize;
        if (ret_available)
                *ret_available = (uint64_t) sv.f_bavail * frsize;
        return 0;
}

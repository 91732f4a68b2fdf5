/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <blkid.h>
#include <inttypes.h>
#include <libmount.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "error.h"
#include "fs.h"
#include "macro.h"
#include "run.h"
#include "safepath.h"

static void blkid_free_probep(blkid_probe *p) {
        if (*p)
                blkid_free_probe(*p);
}

static void blkid_put_cachep(blkid_cache *c) {
        if (*c)
                blkid_put_cache(*c);
}

static void mnt_free_contextp(struct libmnt_context **c) {
        mnt_free_context(*c);
}

static void mnt_unref_tablep(struct libmnt_table **t) {
        mnt_unref_table(*t);
}

static void mnt_unref_cachep(struct libmnt_cache **c) {
        mnt_unref_cache(*c);
}

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

int fs_probe(const char *device, char **ret_type, char **ret_uuid, char **ret_label, GError **error) {
        if (!device || !*device)
                return np_fail(error, EINVAL, "probe: no device given");

        errno = 0;
        _cleanup_(blkid_free_probep) blkid_probe pr = blkid_new_probe_from_filename(device);
        if (!pr) {
                int e = errno > 0 ? errno : EIO;
                return np_fail(error, e, "%s: cannot open to probe for a filesystem: %s", device, g_strerror(e));
        }
        if (blkid_probe_enable_superblocks(pr, 1) < 0 ||
            blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_UUID | BLKID_SUBLKS_LABEL) < 0)
                return np_fail(error, EIO, "%s: cannot set up the libblkid probe", device);

        int r = blkid_do_safeprobe(pr);
        if (r == 1)
                return np_fail(error, ENODATA, "%s: no filesystem found", device);
        if (r == -2)
                return np_fail(error, ENOTUNIQ,
                               "%s: more than one filesystem signature found; libblkid cannot tell which is valid",
                               device);
        if (r < 0) {
                int e = r < -2 ? -r : (errno > 0 ? errno : EIO);
                return np_fail(error, e, "%s: probing for a filesystem failed: %s", device, g_strerror(e));
        }

        const char *type = NULL, *uuid = NULL, *label = NULL;
        if (blkid_probe_lookup_value(pr, "TYPE", &type, NULL) < 0 || !type)
                return np_fail(error, ENODATA, "%s: a signature was found but it is not a filesystem", device);
        (void) blkid_probe_lookup_value(pr, "UUID", &uuid, NULL);
        (void) blkid_probe_lookup_value(pr, "LABEL", &label, NULL);

        if (ret_type)
                *ret_type = g_strdup(type);
        if (ret_uuid)
                *ret_uuid = g_strdup(uuid);
        if (ret_label)
                *ret_label = g_strdup(label);
        return 0;
}

int fs_find_by_uuid(const char *uuid, char **ret_device, GError **error) {
        if (!uuid_valid(uuid))
                return np_fail(error, EINVAL, "invalid filesystem uuid \"%s\"; use the 8-4-4-4-12 hex form",
                               uuid ? uuid : "");

        /* A private cache read from /dev/null starts empty and is never saved anywhere useful, so
         * every call probes the block devices as they are now (the system cache in /run/blkid can
         * name a loop device that was detached and re-attached under another name). */
        _cleanup_(blkid_put_cachep) blkid_cache cache = NULL;
        if (blkid_get_cache(&cache, "/dev/null") < 0)
                return np_fail(error, ENOMEM, "cannot set up a libblkid cache to look for UUID=%s", uuid);
        int r = blkid_probe_all(cache);
        if (r < 0)
                return np_fail(error, EIO, "cannot scan the block devices for UUID=%s (libblkid error %d)", uuid, r);

        g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func(g_free);
        blkid_dev_iterate it = blkid_dev_iterate_begin(cache);
        if (!it)
                return np_fail(error, ENOMEM, "cannot iterate the block devices for UUID=%s", uuid);
        g_autofree char *want = g_ascii_strdown(uuid, -1); /* libblkid reports ext4 uuids in lower case */
        (void) blkid_dev_set_search(it, "UUID", want);
        blkid_dev dev;
        while (blkid_dev_next(it, &dev) == 0) {
                dev = blkid_verify(cache, dev);
                if (dev && blkid_dev_has_tag(dev, "UUID", want))
                        g_ptr_array_add(found, g_strdup(blkid_dev_devname(dev)));
        }
        blkid_dev_iterate_end(it);

        if (found->len == 0)
                return np_fail(error, ENOENT, "no block device holds a filesystem with UUID=%s", uuid);
        if (found->len > 1) {
                g_ptr_array_add(found, NULL);
                g_autofree char *names = g_strjoinv(", ", (char **) found->pdata);
                return np_fail(error, ENOTUNIQ,
                               "more than one block device holds a filesystem with UUID=%s: %s "
                               "(is an image attached twice?)",
                               uuid, names);
        }
        if (ret_device)
                *ret_device = g_strdup(g_ptr_array_index(found, 0));
        return 0;
}

/* The negative errno behind a failed libmount context operation. */
static int context_errno(struct libmnt_context *cxt, int rc) {
        if (mnt_context_syscall_called(cxt)) {
                int e = mnt_context_get_syscall_errno(cxt);
                if (e > 0)
                        return -e;
        }
        if (rc < 0 && rc > -MNT_ERR_NOFSTAB)
                return rc;
        switch (-rc) {
        case MNT_ERR_NOSOURCE:
                return -ENOENT;
        case MNT_ERR_NOFSTYPE:
        case MNT_ERR_MOUNTOPT:
        case MNT_ERR_AMBIFS:
                return -EINVAL;
        default:
                return -EIO;
        }
}

/* The mount table of this mount namespace (/proc/self/mountinfo). */
static int mount_table(struct libmnt_table **ret, GError **error) {
        _cleanup_(mnt_unref_tablep) struct libmnt_table *tb = mnt_new_table();
        if (!tb)
                return np_fail(error, ENOMEM, "cannot allocate a mount table");
        int r = mnt_table_parse_mtab(tb, NULL);
        if (r < 0)
                return np_fail(error, -r, "cannot read the mount table (/proc/self/mountinfo): %s", g_strerror(-r));
        *ret = TAKE_PTR(tb);
        return 0;
}

/* path with symlinks resolved when it exists, else path as given. */
static char *canonical_or_same(const char *path) {
        char buf[PATH_MAX];
        if (realpath(path, buf))
                return g_strdup(buf);
        return g_strdup(path);
}

int fs_mount_source(const char *target, char **ret_source_device) {
        if (!target || !*target)
                return -EINVAL;
        g_autofree char *canon = canonical_or_same(target);
        _cleanup_(mnt_unref_tablep) struct libmnt_table *tb = NULL;
        int r = mount_table(&tb, NULL);
        if (r < 0)
                return r;
        /* No cache: only the exact target matches (no canonicalizing of other entries). Backward:
         * the last mount on a path is the one on top. */
        struct libmnt_fs *fs = mnt_table_find_target(tb, canon, MNT_ITER_BACKWARD);
        if (!fs)
                return -ENOENT;
        const char *src = mnt_fs_get_srcpath(fs);
        if (!src)
                src = mnt_fs_get_source(fs);
        if (ret_source_device)
                *ret_source_device = g_strdup(src ? src : "");
        return 0;
}

/* Whether fs (a mountinfo entry) is the whole filesystem that source names. */
static bool same_filesystem(struct libmnt_fs *fs, const char *source, struct libmnt_cache *cache) {
        const char *root = mnt_fs_get_root(fs);
        if (root && strcmp(root, "/") != 0)
                return false; /* a bind mount of a directory inside it */
        if (mnt_fs_match_source(fs, source, cache))
                return true;
        /* a device path: compare device numbers (covers other names for the same device) */
        struct stat st;
        if (source[0] == '/' && stat(source, &st) == 0 && S_ISBLK(st.st_mode))
                return st.st_rdev == mnt_fs_get_devno(fs);
        return false;
}

int fs_mount(const char *source, const char *target, const char *options, GError **error) {
        if (!source || !*source)
                return np_fail(error, EINVAL, "mount: no source given (use UUID=<uuid> or a device path)");
        if (!target || !*target)
                return np_fail(error, EINVAL, "mount %s: no target directory given", source);
        if (!options || !*options)
                options = "defaults";

        char canon[PATH_MAX];
        if (!realpath(target, canon)) {
                int e = errno;
                return np_fail(error, e, "cannot mount %s on %s: cannot resolve the mount point: %s", source,
                               target, g_strerror(e));
        }

        _cleanup_(mnt_unref_tablep) struct libmnt_table *tb = NULL;
        int r = mount_table(&tb, error);
        if (r < 0)
                return r;
        struct libmnt_fs *cur = mnt_table_find_target(tb, canon, MNT_ITER_BACKWARD);
        if (cur) {
                _cleanup_(mnt_unref_cachep) struct libmnt_cache *cache = mnt_new_cache();
                if (same_filesystem(cur, source, cache))
                        return 0;
                /* name it as findmnt does: SOURCE, or SOURCE[/dir] for a bind mount of a directory */
                const char *what = mnt_fs_get_source(cur);
                const char *type = mnt_fs_get_fstype(cur);
                const char *root = mnt_fs_get_root(cur);
                bool sub = root && strcmp(root, "/") != 0;
                return np_fail(error, EBUSY, "cannot mount %s on %s: %s%s%s%s (%s) is already mounted there", source,
                               target, what ? what : "another filesystem", sub ? "[" : "", sub ? root : "",
                               sub ? "]" : "", type ? type : "unknown type");
        }

        _cleanup_(mnt_free_contextp) struct libmnt_context *cxt = mnt_new_context();
        if (!cxt)
                return np_fail(error, ENOMEM, "cannot mount %s on %s: cannot allocate a libmount context", source,
                               target);
        /* Mount exactly what was asked: never fill in or merge anything from /etc/fstab. */
        if (mnt_context_set_optsmode(cxt, MNT_OMODE_NOTAB) < 0 || mnt_context_set_source(cxt, source) < 0 ||
            mnt_context_set_target(cxt, canon) < 0 || mnt_context_set_fstype(cxt, "ext4") < 0 ||
            mnt_context_set_options(cxt, options) < 0)
                return np_fail(error, ENOMEM, "cannot mount %s on %s: cannot set up the libmount context", source,
                               target);

        int rc = mnt_context_mount(cxt);
        char buf[BUFSIZ] = "";
        int ex = mnt_context_get_excode(cxt, rc, buf, sizeof buf);
        if (ex != MNT_EX_SUCCESS) {
                int e = context_errno(cxt, rc);
                return np_fail(error, -e, "cannot mount %s on %s: %s", source, target,
                               *buf ? buf : g_strerror(-e));
        }
        return 0;
}

int fs_umount(const char *target, GError **error) {
        if (!target || !*target)
                return np_fail(error, EINVAL, "umount: no target given");

        char canon[PATH_MAX];
        if (!realpath(target, canon)) {
                int e = errno;
                if (e == ENOENT)
                        return 0; /* no directory: nothing can be mounted there */
                return np_fail(error, e, "cannot unmount %s: %s", target, g_strerror(e));
        }

        _cleanup_(mnt_unref_tablep) struct libmnt_table *tb = NULL;
        int r = mount_table(&tb, error);
        if (r < 0)
                return r;
        if (!mnt_table_find_target(tb, canon, MNT_ITER_BACKWARD))
                return 0;

        _cleanup_(mnt_free_contextp) struct libmnt_context *cxt = mnt_new_context();
        if (!cxt || mnt_context_set_target(cxt, canon) < 0)
                return np_fail(error, ENOMEM, "cannot unmount %s: cannot set up the libmount context", target);

        int rc = mnt_context_umount(cxt);
        char buf[BUFSIZ] = "";
        int ex = mnt_context_get_excode(cxt, rc, buf, sizeof buf);
        if (ex != MNT_EX_SUCCESS) {
                int e = context_errno(cxt, rc);
                if (e == -EBUSY)
                        return np_fail(error, EBUSY,
                                       "cannot unmount %s: target is busy (a process has a file open there or "
                                       "its working directory inside it)",
                                       target);
                return np_fail(error, -e, "cannot unmount %s: %s", target, *buf ? buf : g_strerror(-e));
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

int fs_resize_online(const char *device, const char *mountpoint, GError **error) {
        if (!device || !*device || !mountpoint || !*mountpoint)
                return np_fail(error, EINVAL, "online resize: give a device and its mount point");

        g_autofree char *mounted = NULL;
        int r = fs_mount_source(mountpoint, &mounted);
        if (r == -ENOENT)
                return np_fail(error, EINVAL, "online resize of %s: nothing is mounted on %s", device, mountpoint);
        if (r < 0)
                return np_fail(error, -r, "online resize of %s: cannot tell what is mounted on %s: %s", device,
                               mountpoint, g_strerror(-r));
        struct stat a, b;
        if (stat(device, &a) < 0) {
                int e = errno;
                return np_fail(error, e, "online resize of %s: %s", device, g_strerror(e));
        }
        if (!S_ISBLK(a.st_mode) || stat(mounted, &b) < 0 || !S_ISBLK(b.st_mode) || a.st_rdev != b.st_rdev)
                return np_fail(error, EINVAL, "online resize of %s: %s is mounted on %s, not %s", device, mounted,
                               mountpoint, device);

        const char *const argv[] = { "resize2fs", device, NULL };
        g_autoptr(RunResult) res = NULL;
        r = run_argv(argv, &res, error);
        if (r < 0)
                return r;
        if (res->exit_status == 0)
                return 0;

        g_autofree char *how = run_describe_status(res);
        g_autofree char *msg = program_message(res, "resize2fs", "resize2fs");
        if (strstr(res->err, "Permission denied to resize filesystem") ||
            strstr(res->out, "Permission denied to resize filesystem"))
                return np_fail(error, EPERM,
                               "online resize of %s on %s refused by the kernel (%s): %s; resize it offline "
                               "(unmount, e2fsck, resize2fs, mount)",
                               device, mountpoint, how, msg);
        return np_fail(error, EIO, "online resize of %s on %s failed (%s): %s", device, mountpoint, how, msg);
}

int fs_usage(const char *path, uint64_t *ret_capacity, uint64_t *ret_used, uint64_t *ret_available,
             GError **error) {
        if (!path || !*path)
                return np_fail(error, EINVAL, "usage: no path given");
        struct statvfs sv;
        if (statvfs(path, &sv) < 0) {
                int e = errno;
                return np_fail(error, e, "%s: cannot read filesystem usage (statvfs): %s", path, g_strerror(e));
        }
        uint64_t frsize = sv.f_frsize ? sv.f_frsize : sv.f_bsize;
        if (ret_capacity)
                *ret_capacity = (uint64_t) sv.f_blocks * frsize;
        if (ret_used)
                *ret_used = (uint64_t) (sv.f_blocks - sv.f_bfree) * frsize;
        if (ret_available)
                *ret_available = (uint64_t) sv.f_bavail * frsize;
        return 0;
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

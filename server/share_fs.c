/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The host's ShareFs: BASE/NAME reached through descriptors, never through a symbolic link. */
#include "config.h"

#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "disk.h"
#include "error.h"
#include "fs.h"
#include "fstab.h"
#include "immutable.h"
#include "idmap.h"
#include "log.h"
#include "macro.h"
#include "safepath.h"
#include "share_fs.h"

/* BASE, opened without following any symbolic link; create: make it (0755) when missing. */
static int open_base(const Config *c, bool create, int *ret_fd, GError **error) {
        if (create)
                return safepath_mkdir_p(c->base, 0755, ret_fd, error);
        return safepath_open(c->base, O_PATH | O_DIRECTORY, 0, ret_fd, error);
}

/* BASE when it exists: 1 and the descriptor, 0 when there is no BASE (nothing made yet). */
static int open_base_if_any(const Config *c, int *ret_fd, GError **error) {
        g_autoptr(GError) err = NULL;
        int r = open_base(c, false, ret_fd, &err);
        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                g_propagate_error(error, g_steal_pointer(&err));
                return r;
        }
        return 1;
}

/* The mounted share root BASE/NAME, opened O_RDONLY; -ENOENT when nothing is mounted there. */
static int open_root(const Config *c, const char *name, int *ret_fd, GError **error) {
        _cleanup_close_ int base = -1, root = -1;
        int r = open_base(c, false, &base, error);
        if (r < 0)
                return r;
        r = safepath_openat(base, c->base, name, O_RDONLY | O_DIRECTORY, 0, &root, error);
        if (r < 0)
                return r;
        bool is_root = false;
        r = fs_mount_root(root, &is_root, NULL, error);
        if (r < 0)
                return r;
        if (!is_root)
                return np_fail(error, ENOENT, "%s/%s: the share is not mounted", c->base, name);
        *ret_fd = TAKE_FD(root);
        return 0;
}

static int host_protect(const Config *c, const char *name, bool on, bool *ret_changed, GError **error) {
        _cleanup_close_ int root = -1;
        int r = open_root(c, name, &root, error);
        if (r < 0)
                return r;
        g_autofree char *what = g_strdup_printf("%s/%s", c->base, name);
        return immutable_set(root, what, on, ret_changed, error);
}

static int host_is_protected(const Config *c, const char *name, bool *ret, GError **error) {
        _cleanup_close_ int root = -1;
        int r = open_root(c, name, &root, error);
        if (r < 0)
                return r;
        g_autofree char *what = g_strdup_printf("%s/%s", c->base, name);
        return immutable_get(root, what, ret, error);
}

static int host_format(const char *device, const char *name, const char *uuid, bool force, GError **error) {
        int r = disk_check_formattable(device, name, uuid, force, error);
        if (r < 0)
                return r;
        return fs_mkfs_ext4(device, name, uuid, error);
}

static int host_check_dir(const Config *c, const char *name, GError **error) {
        g_autofree char *path = config_share_path(c, name);
        _cleanup_close_ int base = -1;
        g_autoptr(GError) err = NULL;
        int r = open_base(c, false, &base, &err);
        if (r == -ENOENT)
                return 0; /* made at create */
        if (r < 0)
                return np_fail(error, r == -ELOOP ? EINVAL : -r, "[shares] base: %s", err->message);
        struct stat st;
        if (fstatat(base, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : np_fail(error, errno, "cannot stat %s: %s", path, g_strerror(errno));
        if (S_ISLNK(st.st_mode)) {
                g_autofree char *why = safepath_describe_link(path);
                return np_fail(error, EINVAL, "%s; remove it: nfsprov mounts a share only on a real directory", why);
        }
        if (fs_mounted_at(base, c->base, name, NULL, NULL) >= 0)
                return np_fail(error, EBUSY, "something is already mounted on %s", path);
        return 0;
}

static int host_make_dir(const Config *c, const char *name, uint64_t *ret_made_ino, GError **error) {
        _cleanup_close_ int base = -1;
        int r = open_base(c, true, &base, error);
        if (r < 0)
                return r;
        if (mkdirat(base, name, 0755) == 0) {
                struct stat st;
                if (fstatat(base, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return np_fail(error, errno, "cannot stat %s/%s: %s", c->base, name, g_strerror(errno));
                *ret_made_ino = (uint64_t) st.st_ino;
                return 0;
        }
        if (errno != EEXIST)
                return np_fail(error, errno, "cannot create %s/%s: %s", c->base, name, g_strerror(errno));
        _cleanup_close_ int dir = -1;
        r = safepath_openat(base, c->base, name, O_RDONLY | O_DIRECTORY, 0, &dir, error);
        if (r == -ENOTDIR)
                return np_fail(error, ENOTDIR, "%s/%s exists and is not a directory", c->base, name);
        if (r < 0)
                return r;
        bool is_root = false;
        r = fs_mount_root(dir, &is_root, NULL, error);
        if (r < 0)
                return r;
        if (!is_root) {
                _cleanup_closedir_ DIR *listing = fdopendir(TAKE_FD(dir));
                if (!listing)
                        return np_fail(error, errno, "cannot list %s/%s: %s", c->base, name, g_strerror(errno));
                struct dirent *de;
                while ((de = readdir(listing)))
                        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                                return np_fail(error, ENOTEMPTY, "%s/%s exists and is not empty; nfsprov mounts the share there",
                                               c->base, name);
        }
        *ret_made_ino = 0;
        return 0;
}

static int host_remove_dir(const Config *c, const char *name, uint64_t made_ino, GError **error) {
        if (!made_ino)
                return 0;
        _cleanup_close_ int base = -1;
        int r = open_base_if_any(c, &base, error);
        if (r <= 0)
                return r;
        struct stat st;
        if (fstatat(base, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno == ENOENT)
                        return 0;
                return np_fail(error, errno, "cannot stat %s/%s: %s", c->base, name, g_strerror(errno));
        }
        if (!S_ISDIR(st.st_mode) || (uint64_t) st.st_ino != made_ino) {
                log_warning("%s/%s is not the directory nfsprov made (inode %ju, made %" PRIu64 "); leaving it", c->base,
                            name, (uintmax_t) st.st_ino, made_ino);
                return 0;
        }
        if (unlinkat(base, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return np_fail(error, errno, "cannot remove %s/%s: %s", c->base, name, g_strerror(errno));
        return 0;
}

/* The device number of a block device node; false when it is none. */
static bool rdev_of(const char *device, dev_t *ret) {
        struct stat st;
        if (!device || stat(device, &st) < 0 || !S_ISBLK(st.st_mode))
                return false;
        *ret = st.st_rdev;
        return true;
}

static bool host_mounted(const Config *c, const char *name, const char *device) {
        dev_t want, mounted;
        _cleanup_close_ int base = -1;
        return rdev_of(device, &want) && open_base(c, false, &base, NULL) >= 0 &&
               fs_mounted_at(base, c->base, name, &mounted, NULL) >= 0 && mounted == want;
}

static int host_mount(const Config *c, const char *name, const char *device, const char *uuid, GError **error) {
        g_autofree char *path = config_share_path(c, name);
        /* Mount only the share's own filesystem: probe the one device (no scan of all). */
        g_autofree char *found = NULL, *desc = NULL;
        int r = disk_fs_uuid(device, &found, &desc, error);
        if (r < 0)
                return r;
        if (!found || g_ascii_strcasecmp(found, uuid) != 0)
                return np_fail(error, ESTALE, "%s carries %s, not share %s's filesystem (UUID=%s); not mounting it", device,
                               desc ? desc : "nothing", name, uuid);
        _cleanup_close_ int base = -1;
        r = open_base(c, false, &base, error);
        if (r < 0)
                return r;
        dev_t mounted, want = 0;
        g_autoptr(GError) err = NULL;
        r = fs_mounted_at(base, c->base, name, &mounted, &err);
        if (r >= 0) {
                if (rdev_of(device, &want) && want == mounted)
                        return 0; /* already */
                return np_fail(error, EBUSY, "cannot mount %s on %s: another filesystem (device %u:%u) is mounted there",
                               device, path, major(mounted), minor(mounted));
        }
        if (r != -ENOENT) {
                g_propagate_error(error, g_steal_pointer(&err));
                return r;
        }
        _cleanup_close_ int dir = -1;
        r = safepath_openat(base, c->base, name, O_PATH | O_DIRECTORY, 0, &dir, error);
        if (r < 0)
                return r;
        return fs_mount_fd(device, dir, path, error);
}

static int host_umount(const Config *c, const char *name, const char *device, GError **error) {
        _cleanup_close_ int base = -1;
        int r = open_base_if_any(c, &base, error);
        if (r <= 0)
                return r;
        g_autoptr(GError) err = NULL;
        dev_t mounted, want;
        r = fs_mounted_at(base, c->base, name, &mounted, &err);
        if (r == -ENOENT)
                return 0; /* nothing mounted (or no directory) */
        if (r < 0) {
                g_propagate_error(error, g_steal_pointer(&err));
                return r;
        }
        if (!rdev_of(device, &want))
                return np_fail(error, EBUSY, "%s/%s has a filesystem mounted (device %u:%u), but the share's disk is not attached: it is not the share's; not unmounting it",
                               c->base, name, major(mounted), minor(mounted));
        return fs_umount_at(base, c->base, name, want, error);
}

static int host_set_owner(const Config *c, const char *name, GError **error) {
        uid_t uid;
        gid_t gid;
        int r = idmap_user_to_uid(c->owner, &uid, error);
        if (r < 0)
                return r;
        r = idmap_group_to_gid(c->group, &gid, error);
        if (r < 0)
                return r;
        _cleanup_close_ int root = -1;
        r = open_root(c, name, &root, error);
        if (r < 0)
                return r;
        if (fchown(root, uid, gid) < 0)
                return np_fail(error, errno, "cannot chown %s/%s: %s", c->base, name, g_strerror(errno));
        if (fchmod(root, c->mode) < 0)
                return np_fail(error, errno, "cannot chmod %s/%s: %s", c->base, name, g_strerror(errno));
        return 0;
}

static int host_list(const Config *c, const char *name, unsigned max, GPtrArray **ret_names, bool *ret_more,
                     GError **error) {
        _cleanup_close_ int root = -1;
        int r = open_root(c, name, &root, error);
        if (r < 0)
                return r;
        _cleanup_closedir_ DIR *d = fdopendir(TAKE_FD(root));
        if (!d)
                return np_fail(error, errno, "cannot list %s/%s: %s", c->base, name, g_strerror(errno));
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        bool more = false;
        struct dirent *de;
        while ((de = readdir(d))) {
                const char *n = de->d_name;
                if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0 || strcmp(n, "lost+found") == 0)
                        continue;
                if (names->len == max) {
                        more = true;
                        break;
                }
                g_ptr_array_add(names, g_strdup(n));
        }
        *ret_names = TAKE_PTR(names);
        if (ret_more)
                *ret_more = more;
        return 0;
}

static int host_usage(const Config *c, const char *name, ShareUsage *ret, GError **error) {
        _cleanup_close_ int root = -1;
        int r = open_root(c, name, &root, error);
        if (r < 0)
                return r;
        ShareUsage u = { 0 };
        r = fs_usage_fd(root, &u.capacity, &u.used, &u.available, error);
        if (r < 0)
                return r;
        *ret = u;
        return 0;
}

static int host_fstab_set(const Config *c, const char *name, const char *uuid, bool *ret_changed, GError **error) {
        g_autofree char *path = config_share_path(c, name);
        g_autofree char *source = NULL;
        bool had = fstab_find(c->fstab, path, &source, NULL) >= 0;
        int r = fstab_set(c->fstab, uuid, path, error);
        if (r < 0)
                return r;
        if (ret_changed)
                *ret_changed = !had;
        return 0;
}

static bool host_fstab_has(const Config *c, const char *name, const char *uuid) {
        g_autofree char *path = config_share_path(c, name);
        g_autofree char *source = NULL;
        if (fstab_find(c->fstab, path, &source, NULL) < 0 || !g_str_has_prefix(source, "UUID="))
                return false;
        g_autofree char *found = g_strdup(source + 5);
        g_strstrip(found);
        /* UUID="..." is an accepted spelling too */
        if (found[0] == '"' && strlen(found) > 1) {
                memmove(found, found + 1, strlen(found));
                found[strlen(found) - 1] = '\0';
        }
        return g_ascii_strcasecmp(found, uuid) == 0;
}

static int host_fstab_remove(const Config *c, const char *name, const char *uuid, GError **error) {
        g_autofree char *path = config_share_path(c, name);
        return fstab_remove(c->fstab, uuid, path, error);
}

static int host_grow_online(const Config *c, const char *name, const char *device, GError **error) {
        uint64_t size;
        int r = disk_device_size(device, &size, error);
        if (r < 0)
                return r;
        _cleanup_close_ int root = -1;
        r = open_root(c, name, &root, error);
        if (r < 0)
                return r;
        dev_t want, mounted;
        bool is_root;
        r = fs_mount_root(root, &is_root, &mounted, error);
        if (r < 0)
                return r;
        if (!rdev_of(device, &want) || want != mounted)
                return np_fail(error, EINVAL, "online resize of %s: it is not what is mounted on %s/%s", device, c->base,
                               name);
        g_autofree char *where = config_share_path(c, name);
        return fs_grow_mounted(root, where, size, error);
}

const ShareFs share_fs_host = {
        .format = host_format,
        .check_dir = host_check_dir,
        .make_dir = host_make_dir,
        .remove_dir = host_remove_dir,
        .mounted = host_mounted,
        .mount = host_mount,
        .umount = host_umount,
        .set_owner = host_set_owner,
        .open_root = open_root,
        .protect = host_protect,
        .is_protected = host_is_protected,
        .list = host_list,
        .usage = host_usage,
        .fstab_set = host_fstab_set,
        .fstab_has = host_fstab_has,
        .fstab_remove = host_fstab_remove,
        .grow_online = host_grow_online,
        .check = fs_e2fsck,
        .grow_offline = fs_resize2fs_fill,
};

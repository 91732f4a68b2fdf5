/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The image backend: a sparse file IMAGE_DIR/NAME.img on a loop device.
 * Every operation on an image holds an exclusive flock on the image file, so two processes
 * attaching (or attaching and releasing) the same image never attach it twice.
 */
#include "config.h"

#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "disk.h"
#include "error.h"
#include "loopdev.h"
#include "macro.h"
#include "name.h"

#define IMAGE_SUFFIX ".img"
#define SECTOR 512u
/* A release detaches at most this many loop devices of one image (they can pile up only
 * when something outside nfsprov attached the image too). */
#define RELEASE_MAX_LOOPS 64

static int fsync_dir_of(const char *path) {
        g_autofree char *dir = g_path_get_dirname(path);
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || fsync(fd) < 0)
                return -errno;
        return 0;
}

/* Open the image and take its lock. */
static int open_locked(const char *path, int flags, int *ret_fd, GError **error) {
        _cleanup_close_ int fd = open(path, flags | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                if (errno == ENOENT)
                        return np_fail(error, ENOENT, "image %s does not exist", path);
                return np_fail(error, errno, "image %s: cannot open: %s", path, g_strerror(errno));
        }
        struct stat st;
        if (fstat(fd, &st) < 0)
                return np_fail(error, errno, "image %s: cannot stat: %s", path, g_strerror(errno));
        if (!S_ISREG(st.st_mode))
                return np_fail(error, EINVAL, "image %s is not a regular file", path);
        while (flock(fd, LOCK_EX) < 0)
                if (errno != EINTR)
                        return np_fail(error, errno, "image %s: cannot lock: %s", path, g_strerror(errno));
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* The image's loop device, attached when there is none. The caller holds the lock. */
static int find_or_attach(const char *path, char **ret_device, GError **error) {
        char *device = NULL;
        int r = loopdev_find(path, &device);
        if (r == 0) {
                *ret_device = device;
                return 0;
        }
        if (r != -ENOENT)
                return np_fail(error, -r, "image %s: cannot look for its loop device: %s", path, g_strerror(-r));
        return loopdev_attach(path, ret_device, error);
}

static int check_size(uint64_t size, GError **error) {
        if (size == 0 || size % SECTOR != 0)
                return np_fail(error, EINVAL, "invalid image size %" PRIu64 " bytes: must be a positive multiple of %u bytes",
                               size, SECTOR);
        if (size > (uint64_t) INT64_MAX)
                return np_fail(error, ERANGE, "invalid image size %" PRIu64 " bytes: too large", size);
        return 0;
}

static int image_allocate(const DiskContext *ctx, const char *name, uint64_t size, const char *requested, bool force,
                          char **ret_source, char **ret_device, GError **error) {
        if (!ctx || !ctx->image_dir || !*ctx->image_dir)
                return np_fail(error, EINVAL, "the image backend needs an image directory (image_dir)");
        int r = name_validate_share(name, error);
        if (r < 0)
                return r;
        if (requested)
                return np_fail(error, EINVAL, "the image backend takes no device (asked for %s): it creates %s/%s%s",
                               requested, ctx->image_dir, name, IMAGE_SUFFIX);
        r = check_size(size, error);
        if (r < 0)
                return r;

        if (g_mkdir_with_parents(ctx->image_dir, 0700) < 0)
                return np_fail(error, errno, "cannot create the image directory %s: %s", ctx->image_dir,
                               g_strerror(errno));
        g_autofree char *path = g_strdup_printf("%s/%s%s", ctx->image_dir, name, IMAGE_SUFFIX);

        _cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
        if (fd < 0) {
                if (errno == EEXIST)
                        return np_fail(error, EEXIST, "image %s already exists; refusing to reuse it for share %s",
                                       path, name);
                return np_fail(error, errno, "image %s: cannot create: %s", path, g_strerror(errno));
        }
        if (flock(fd, LOCK_EX) < 0) {
                r = np_fail(error, errno, "image %s: cannot lock: %s", path, g_strerror(errno));
                goto fail;
        }
        if (ftruncate(fd, (off_t) size) < 0) {
                r = np_fail(error, errno, "image %s: cannot make it %" PRIu64 " bytes: %s", path, size,
                            g_strerror(errno));
                goto fail;
        }
        if (fsync(fd) < 0) {
                r = np_fail(error, errno, "image %s: fsync failed: %s", path, g_strerror(errno));
                goto fail;
        }
        r = fsync_dir_of(path);
        if (r < 0) {
                np_fail(error, -r, "image %s: fsync of %s failed: %s", path, ctx->image_dir, g_strerror(-r));
                goto fail;
        }
        g_autofree char *device = NULL;
        r = loopdev_attach(path, &device, error);
        if (r < 0)
                goto fail;

        *ret_source = TAKE_PTR(path);
        *ret_device = TAKE_PTR(device);
        return 0;

fail:
        (void) unlink(path);
        (void) fsync_dir_of(path);
        return r;
}

static int image_attach(const DiskContext *ctx, const char *source, char **ret_device, GError **error) {
        _cleanup_close_ int fd = -1;
        int r = open_locked(source, O_RDONLY, &fd, error);
        if (r < 0)
                return r;
        return find_or_attach(source, ret_device, error);
}

static int image_grow(const DiskContext *ctx, const char *source, const char *device, uint64_t new_size,
                      GError **error) {
        int r = check_size(new_size, error);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = -1;
        r = open_locked(source, O_RDWR, &fd, error);
        if (r < 0)
                return r;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return np_fail(error, errno, "image %s: cannot stat: %s", source, g_strerror(errno));
        if (new_size < (uint64_t) st.st_size)
                return np_fail(error, EINVAL, "image %s holds %jd bytes; cannot shrink it to %" PRIu64 " (only growing is supported)",
                               source, (intmax_t) st.st_size, new_size);

        g_autofree char *loop = NULL;
        r = loopdev_find(source, &loop);
        if (r < 0 && r != -ENOENT)
                return np_fail(error, -r, "image %s: cannot look for its loop device: %s", source, g_strerror(-r));
        if (device && loop && !disk_same_source(device, loop))
                return np_fail(error, EINVAL, "image %s is attached to %s, not to %s; not growing it", source, loop,
                               device);

        if (new_size > (uint64_t) st.st_size) {
                if (ftruncate(fd, (off_t) new_size) < 0)
                        return np_fail(error, errno, "image %s: cannot grow it to %" PRIu64 " bytes: %s", source,
                                       new_size, g_strerror(errno));
                if (fsync(fd) < 0)
                        return np_fail(error, errno, "image %s: fsync after growing failed: %s", source,
                                       g_strerror(errno));
        }

        if (!loop) {
                if (device)
                        return np_fail(error, ENXIO, "image %s grew to %" PRIu64 " bytes, but it is not attached to %s (or any loop device)",
                                       source, new_size, device);
                return 0; /* the next attach sees the new size */
        }
        r = loopdev_set_capacity(loop, error);
        if (r < 0)
                return r;
        uint64_t dev_size;
        r = disk_device_size(loop, &dev_size, error);
        if (r < 0)
                return r;
        if (dev_size != new_size)
                return np_fail(error, EIO, "image %s grew to %" PRIu64 " bytes, but its loop device %s still holds %" PRIu64 " bytes",
                               source, new_size, loop, dev_size);
        return 0;
}

/* Is path a NAME.img directly in the image directory? Release removes only such files. */
static bool in_image_dir(const DiskContext *ctx, const char *path) {
        if (!ctx || !ctx->image_dir || !g_str_has_suffix(path, IMAGE_SUFFIX))
                return false;
        g_autofree char *dir = g_path_get_dirname(path);
        g_autofree char *a = g_canonicalize_filename(dir, NULL);
        g_autofree char *b = g_canonicalize_filename(ctx->image_dir, NULL);
        if (strcmp(a, b) == 0)
                return true;
        struct stat sa, sb;
        return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static int image_release(const DiskContext *ctx, const char *source, GError **error) {
        if (!in_image_dir(ctx, source))
                return np_fail(error, EINVAL, "refusing to release %s: not a *%s file in the image directory %s", source,
                               IMAGE_SUFFIX, ctx && ctx->image_dir ? ctx->image_dir : "(none)");

        _cleanup_close_ int fd = -1;
        g_autoptr(GError) e = NULL;
        int r = open_locked(source, O_RDONLY, &fd, &e);
        if (r < 0 && r != -ENOENT)
                return np_fail_prefix(error, g_steal_pointer(&e), "cannot release it");
        /* Even without the file: a loop device may still hold the deleted image. */

        for (int n = 0;; n++) {
                g_autofree char *loop = NULL;
                r = loopdev_find(source, &loop);
                if (r == -ENOENT)
                        break;
                if (r < 0)
                        return np_fail(error, -r, "image %s: cannot release it: cannot look for its loop device: %s",
                                       source, g_strerror(-r));
                if (n >= RELEASE_MAX_LOOPS)
                        return np_fail(error, EBUSY, "image %s: cannot release it: still attached to %s after detaching %d loop devices",
                                       source, loop, n);
                g_autoptr(GError) busy = NULL;
                r = disk_check_unused(loop, &busy);
                if (r < 0)
                        return np_fail_prefix(error, g_steal_pointer(&busy), "image %s: cannot release it", source);
                r = loopdev_detach(loop, error);
                if (r < 0)
                        return r;
        }

        if (fd >= 0) {
                if (unlink(source) < 0 && errno != ENOENT)
                        return np_fail(error, errno, "image %s: detached, but cannot remove it: %s", source,
                                       g_strerror(errno));
                r = fsync_dir_of(source);
                if (r < 0)
                        return np_fail(error, -r, "image %s: removed, but fsync of its directory failed: %s", source,
                                       g_strerror(-r));
        }
        return 0;
}

static int image_size(const DiskContext *ctx, const char *source, uint64_t *ret_size, GError **error) {
        struct stat st;
        if (stat(source, &st) < 0) {
                if (errno == ENOENT)
                        return np_fail(error, ENOENT, "image %s does not exist", source);
                return np_fail(error, errno, "image %s: cannot stat: %s", source, g_strerror(errno));
        }
        if (!S_ISREG(st.st_mode))
                return np_fail(error, EINVAL, "image %s is not a regular file", source);
        *ret_size = (uint64_t) st.st_size;
        return 0;
}

const DiskBackend disk_backend_image = {
        .name = "image",
        .allocate = image_allocate,
        .attach = image_attach,
        .grow = image_grow,
        .release = image_release,
        .size = image_size,
};

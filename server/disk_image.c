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
#include "safepath.h"

#define IMAGE_SUFFIX ".img"
#define SECTOR 512u
/* A release detaches at most this many loop devices of one image (they can pile up only
 * when something outside nfsprov attached the image too). */
#define RELEASE_MAX_LOOPS 64

/* The image directory and the entry name of a share's image: source must be exactly
 * IMAGE_DIR/NAME.img (spelled as the configuration spells IMAGE_DIR). The directory is opened
 * without following any symbolic link, so is the entry. */
typedef struct ImagePath {
        int dirfd;
        char *name; /* NAME.img */
} ImagePath;

static void image_path_done(ImagePath *p) {
        if (p->dirfd >= 0)
                close(p->dirfd);
        g_free(p->name);
}

static int image_path(const DiskContext *ctx, const char *source, ImagePath *ret, GError **error) {
        if (!ctx || !ctx->image_dir || !*ctx->image_dir)
                return np_fail(error, EINVAL, "the image backend needs an image directory (image_dir)");
        g_autofree char *dir = g_path_get_dirname(source);
        g_autofree char *a = g_canonicalize_filename(dir, NULL);
        g_autofree char *b = g_canonicalize_filename(ctx->image_dir, NULL);
        g_autofree char *name = g_path_get_basename(source);
        if (strcmp(a, b) != 0 || !g_str_has_suffix(name, IMAGE_SUFFIX) || strlen(name) == strlen(IMAGE_SUFFIX))
                return np_fail(error, EINVAL, "%s is not a *%s file in the image directory %s", source, IMAGE_SUFFIX,
                               ctx->image_dir);
        int fd = -1;
        int r = safepath_open(b, O_RDONLY | O_DIRECTORY, 0, &fd, error);
        if (r < 0)
                return r;
        *ret = (ImagePath) { .dirfd = fd, .name = TAKE_PTR(name) };
        return 0;
}

/* Open the share's image (never through a symbolic link), check it is the file nfsprov made
 * (d->ino, when recorded) and, unless flags has O_PATH, take its lock. -ESTALE: another file
 * (or a symbolic link) is at its path. */
static int open_image(const DiskContext *ctx, const DiskRef *d, int flags, int *ret_fd, GError **error) {
        const char *path = d->source;
        _cleanup_(image_path_done) ImagePath ip = { .dirfd = -1 };
        int r = image_path(ctx, path, &ip, error);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = -1;
        g_autoptr(GError) e = NULL;
        /* openat2 refuses O_PATH with any flag but O_DIRECTORY/O_NOFOLLOW/O_CLOEXEC */
        r = safepath_openat(ip.dirfd, ctx->image_dir, ip.name, (flags & O_PATH) ? flags : flags | O_NOCTTY, 0, &fd, &e);
        if (r == -ENOENT)
                return np_fail(error, ENOENT, "image %s does not exist", path);
        if (r == -ELOOP)
                return np_fail(error, ESTALE, "image %s of share %s is a symbolic link; nfsprov never follows one", path,
                               d->share);
        if (r < 0)
                return np_fail(error, -r, "image %s: cannot open: %s", path, g_strerror(-r));
        struct stat st;
        if (fstat(fd, &st) < 0)
                return np_fail(error, errno, "image %s: cannot stat: %s", path, g_strerror(errno));
        if (!S_ISREG(st.st_mode))
                return np_fail(error, EINVAL, "image %s is not a regular file", path);
        if (d->ino && (uint64_t) st.st_ino != d->ino)
                return np_fail(error, ESTALE, "image %s is not the file nfsprov made for share %s (inode %ju, recorded %" PRIu64 "); refusing to use it",
                               path, d->share, (uintmax_t) st.st_ino, d->ino);
        if (!(flags & O_PATH))
                while (flock(fd, LOCK_EX) < 0)
                        if (errno != EINTR)
                                return np_fail(error, errno, "image %s: cannot lock: %s", path, g_strerror(errno));
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* Attach the file open at fd through a new open file description of that same inode (reopened
 * through /proc/self/fd, so no path is looked up again): the loop device keeps its descriptor
 * for as long as it is attached, and fd carries our flock, which must end when we close fd. */
static int attach_same_file(int fd, const char *path, char **ret_device, GError **error) {
        char proc[64];
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
        _cleanup_close_ int again = open(proc, O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (again < 0)
                return np_fail(error, errno, "image %s: cannot reopen it to attach it: %s", path, g_strerror(errno));
        return loopdev_attach_fd(again, path, ret_device, error);
}

/* The loop device of the image open at fd, attached when there is none. The caller holds the
 * lock. fd must be open read-write when it may have to attach. */
static int find_or_attach(int fd, const char *path, char **ret_device, GError **error) {
        struct stat st;
        if (fstat(fd, &st) < 0)
                return np_fail(error, errno, "image %s: cannot stat: %s", path, g_strerror(errno));
        char *device = NULL;
        int r = loopdev_find_inode(&st, &device);
        if (r == 0) {
                *ret_device = device;
                return 0;
        }
        if (r != -ENOENT)
                return np_fail(error, -r, "image %s: cannot look for its loop device: %s", path, g_strerror(-r));
        return attach_same_file(fd, path, ret_device, error);
}

static int check_size(uint64_t size, GError **error) {
        if (size == 0 || size % SECTOR != 0)
                return np_fail(error, EINVAL, "invalid image size %" PRIu64 " bytes: must be a positive multiple of %u bytes",
                               size, SECTOR);
        if (size > (uint64_t) INT64_MAX)
                return np_fail(error, ERANGE, "invalid image size %" PRIu64 " bytes: too large", size);
        return 0;
}

/* Give the new, empty image open at fd (in the directory open at dir) its size, make it and its
 * name durable, and attach it. */
static int fill_image(int dir, int fd, const char *path, uint64_t size, uint64_t *ret_ino, char **ret_device,
                      GError **error) {
        if (flock(fd, LOCK_EX) < 0)
                return np_fail(error, errno, "image %s: cannot lock: %s", path, g_strerror(errno));
        if (ftruncate(fd, (off_t) size) < 0)
                return np_fail(error, errno, "image %s: cannot make it %" PRIu64 " bytes: %s", path, size,
                               g_strerror(errno));
        if (fsync(fd) < 0)
                return np_fail(error, errno, "image %s: fsync failed: %s", path, g_strerror(errno));
        if (fsync(dir) < 0)
                return np_fail(error, errno, "image %s: fsync of its directory failed: %s", path, g_strerror(errno));
        struct stat st;
        if (fstat(fd, &st) < 0)
                return np_fail(error, errno, "image %s: cannot stat: %s", path, g_strerror(errno));
        int r = attach_same_file(fd, path, ret_device, error);
        if (r < 0)
                return r;
        *ret_ino = (uint64_t) st.st_ino;
        return 0;
}

/* IMAGE_DIR/NAME.img */
static char *image_source(const DiskContext *ctx, const char *name) {
        return g_strdup_printf("%s/%s%s", ctx->image_dir, name, IMAGE_SUFFIX);
}

static int image_validate(const DiskContext *ctx, const DiskRequest *req, char **ret_source, GError **error) {
        if (!ctx || !ctx->image_dir || !*ctx->image_dir)
                return np_fail(error, EINVAL, "the image backend needs an image directory (image_dir)");
        if (req->device)
                return np_fail(error, EINVAL, "--disk is for backend disk; this server uses image files "
                                              "([shares] backend = image): give --size");
        if (req->size == 0)
                return np_fail(error, EINVAL, "a size is required with backend image (e.g. --size 50G)");
        int r = check_size(req->size, error);
        if (r < 0)
                return r;
        g_autofree char *source = image_source(ctx, req->share);
        struct stat st;
        if (lstat(source, &st) == 0) /* a symbolic link, even a dangling one, counts */
                return np_fail(error, EEXIST, "%s already exists and no share owns it; move it away or choose another name",
                               source);
        *ret_source = TAKE_PTR(source);
        return 0;
}

static int image_allocate(const DiskContext *ctx, const DiskRequest *req, char **ret_source, uint64_t *ret_ino,
                          char **ret_device, GError **error) {
        const char *name = req->share;
        uint64_t size = req->size;
        if (!ctx || !ctx->image_dir || !*ctx->image_dir)
                return np_fail(error, EINVAL, "the image backend needs an image directory (image_dir)");
        int r = name_validate_share(name, error);
        if (r < 0)
                return r;
        if (req->device)
                return np_fail(error, EINVAL, "the image backend takes no device (asked for %s): it creates %s/%s%s",
                               req->device, ctx->image_dir, name, IMAGE_SUFFIX);
        r = check_size(size, error);
        if (r < 0)
                return r;

        _cleanup_close_ int made = -1;
        r = safepath_mkdir_p(ctx->image_dir, 0700, &made, error);
        if (r < 0)
                return r;
        _cleanup_close_ int dir = -1;
        r = safepath_open(ctx->image_dir, O_RDONLY | O_DIRECTORY, 0, &dir, error);
        if (r < 0)
                return r;
        g_autofree char *file = g_strconcat(name, IMAGE_SUFFIX, NULL);
        g_autofree char *path = image_source(ctx, name);

        /* O_EXCL: never an existing file, nor a symbolic link planted at the name. */
        _cleanup_close_ int fd = -1;
        g_autoptr(GError) e = NULL;
        r = safepath_openat(dir, ctx->image_dir, file, O_RDWR | O_CREAT | O_EXCL | O_NOCTTY, 0600, &fd, &e);
        if (r == -EEXIST)
                return np_fail(error, EEXIST, "image %s already exists; refusing to reuse it for share %s", path, name);
        if (r < 0)
                return np_fail_prefix(error, g_steal_pointer(&e), "image %s: cannot create it", path);
        g_autofree char *device = NULL;
        uint64_t ino = 0;
        r = fill_image(dir, fd, path, size, &ino, &device, error);
        if (r < 0) {
                /* the file was made above, by this call: remove it */
                (void) unlinkat(dir, file, 0);
                (void) fsync(dir);
                return r;
        }
        *ret_source = TAKE_PTR(path);
        *ret_ino = ino;
        *ret_device = TAKE_PTR(device);
        return 0;
}

static int image_attach(const DiskContext *ctx, const DiskRef *d, char **ret_device, char **ret_source,
                        GError **error) {
        _cleanup_close_ int fd = -1;
        int r = open_image(ctx, d, O_RDWR, &fd, error);
        if (r < 0)
                return r;
        g_autofree char *device = NULL;
        r = find_or_attach(fd, d->source, &device, error);
        if (r < 0)
                return r;
        if (ret_source)
                *ret_source = g_strdup(d->source);
        *ret_device = TAKE_PTR(device);
        return 0;
}

static int image_grow(const DiskContext *ctx, const DiskRef *d, const char *device, uint64_t new_size,
                      GError **error) {
        const char *source = d->source;
        int r = check_size(new_size, error);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = -1;
        r = open_image(ctx, d, O_RDWR, &fd, error);
        if (r < 0)
                return r;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return np_fail(error, errno, "image %s: cannot stat: %s", source, g_strerror(errno));
        if (new_size < (uint64_t) st.st_size)
                return np_fail(error, EINVAL, "image %s holds %jd bytes; cannot shrink it to %" PRIu64 " (only growing is supported)",
                               source, (intmax_t) st.st_size, new_size);

        g_autofree char *loop = NULL;
        r = loopdev_find_inode(&st, &loop);
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

static int image_release(const DiskContext *ctx, const DiskRef *d, bool wipe, GError **error) {
        /* an image file is removed either way: it held nothing but the share */
        const char *source = d->source;
        _cleanup_(image_path_done) ImagePath ip = { .dirfd = -1 };
        g_autoptr(GError) e = NULL;
        int r = image_path(ctx, source, &ip, &e);
        if (r < 0)
                return np_fail_prefix(error, g_steal_pointer(&e), "refusing to release %s", source);

        _cleanup_close_ int fd = -1;
        r = open_image(ctx, d, O_RDONLY, &fd, &e);
        if (r < 0 && r != -ENOENT)
                return np_fail_prefix(error, g_steal_pointer(&e), "cannot release it");
        /* Even without the file: a loop device may still hold the deleted image. */
        struct stat st;
        if (fd >= 0 && fstat(fd, &st) < 0)
                return np_fail(error, errno, "image %s: cannot stat: %s", source, g_strerror(errno));

        for (int n = 0;; n++) {
                g_autofree char *loop = NULL;
                r = fd >= 0 ? loopdev_find_inode(&st, &loop) : loopdev_find(source, &loop);
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
                /* Remove the name only while it still is the file checked above. */
                struct stat now;
                if (fstatat(ip.dirfd, ip.name, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
                    (now.st_dev != st.st_dev || now.st_ino != st.st_ino))
                        return np_fail(error, ESTALE, "image %s was replaced while it was being released; leaving the new file",
                                       source);
                if (unlinkat(ip.dirfd, ip.name, 0) < 0 && errno != ENOENT)
                        return np_fail(error, errno, "image %s: detached, but cannot remove it: %s", source,
                                       g_strerror(errno));
                if (fsync(ip.dirfd) < 0)
                        return np_fail(error, errno, "image %s: removed, but fsync of its directory failed: %s", source,
                                       g_strerror(errno));
        }
        return 0;
}

/* The share's image, checked as open_image() does, without a lock. */
static int stat_image(const DiskContext *ctx, const DiskRef *d, struct stat *ret, GError **error) {
        _cleanup_close_ int fd = -1;
        int r = open_image(ctx, d, O_PATH, &fd, error);
        if (r < 0)
                return r;
        if (fstat(fd, ret) < 0)
                return np_fail(error, errno, "image %s: cannot stat: %s", d->source, g_strerror(errno));
        return 0;
}

static int image_size(const DiskContext *ctx, const DiskRef *d, uint64_t *ret_size, GError **error) {
        struct stat st;
        int r = stat_image(ctx, d, &st, error);
        if (r < 0)
                return r;
        *ret_size = (uint64_t) st.st_size;
        return 0;
}

static int image_device_now(const DiskContext *ctx, const DiskRef *d, char **ret_device, GError **error) {
        struct stat st;
        int r = stat_image(ctx, d, &st, error);
        if (r < 0)
                return r;
        r = loopdev_find_inode(&st, ret_device);
        if (r == -ENOENT)
                return np_fail(error, ENXIO, "image %s is not attached to a loop device", d->source);
        if (r < 0)
                return np_fail(error, -r, "image %s: cannot look for its loop device: %s", d->source, g_strerror(-r));
        return 0;
}

const DiskBackend disk_backend_image = {
        .name = "image",
        .flags = DISK_NEEDS_SIZE | DISK_GROWS,
        .validate = image_validate,
        .allocate = image_allocate,
        .attach = image_attach,
        .grow = image_grow,
        .release = image_release,
        .size = image_size,
        .device_now = image_device_now,
};

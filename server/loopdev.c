/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <linux/major.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "loopdev.h"
#include "macro.h"

#define LOOP_CONTROL "/dev/loop-control"
#define DELETED_SUFFIX " (deleted)"

/* How often to ask for another free device when other processes keep taking ours. */
#define ATTACH_ATTEMPTS 64
/* Waits, in steps of WAIT_STEP_MS: for a new device node, for EBUSY to pass, for a detach. */
#define WAIT_STEP_MS 20
#define NODE_WAIT_STEPS 50   /* 1 s */
#define BUSY_WAIT_STEPS 100  /* 2 s */
/* A detach with other openers completes when the last one closes: blkid probes, udev and
 * monitoring tools hold a loop device for moments (1 s was not enough with several test
 * sandboxes side by side). Longer than this is no passing opener: it is named in the error. */
#define DETACH_WAIT_STEPS 250 /* 5 s */
#define EXCL_WAIT_STEPS 10   /* 0.2 s: an exclusive user that stays (a mount) is no passing one */

static void sleep_ms(unsigned ms) {
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* The file behind a loop device: its st_dev and st_ino. */
typedef struct BackingKey {
        dev_t dev;
        ino_t ino;
} BackingKey;

/* ---- which device backs which file: one pass over every device, then one device per lookup ----
 * Finding the devices of N shares (every snapshot, reconcile) took N passes over the N loop
 * devices, two opens each: 5 s per create with 330 shares. A pass records the backing file of
 * every attached device, (st_dev, st_ino) -> the lowest device number; a lookup checks its hit
 * on that one device (LOOP_GET_STATUS64, or sysfs where there is no node), so a stale entry
 * costs a pass, never a wrong answer, and a miss is always a new pass (a device attached since
 * the last one). nfsprovd looks from several threads: one lock. */
static guint backing_hash(gconstpointer p) {
        const BackingKey *k = p;
        return g_int64_hash(&(gint64){ (gint64) k->ino }) ^ g_int64_hash(&(gint64){ (gint64) k->dev });
}

static gboolean backing_equal(gconstpointer a, gconstpointer b) {
        const BackingKey *x = a, *y = b;
        return x->dev == y->dev && x->ino == y->ino;
}

static GMutex backing_lock;
static GHashTable *backing_map; /* BackingKey* -> GUINT_TO_POINTER(nr + 1) */

/* A device nfsprovd attached itself: known without a pass (a lookup still checks it). */
static void backing_note(dev_t dev, ino_t ino, unsigned nr) {
        BackingKey k = { .dev = dev, .ino = ino };
        g_mutex_lock(&backing_lock);
        if (!backing_map)
                backing_map = g_hash_table_new_full(backing_hash, backing_equal, g_free, NULL);
        g_hash_table_insert(backing_map, g_memdup2(&k, sizeof k), GUINT_TO_POINTER(nr + 1));
        g_mutex_unlock(&backing_lock);
}

/* A small sysfs attribute, without its trailing newline. */
static int read_attr(const char *path, char **ret) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        char buf[4097];
        size_t len = 0;
        for (;;) {
                ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                len += (size_t) n;
                if (len == sizeof buf - 1)
                        return -EFBIG;
        }
        buf[len] = '\0';
        while (len > 0 && buf[len - 1] == '\n')
                buf[--len] = '\0';
        *ret = g_strdup(buf);
        return 0;
}

/* /sys/dev/block/MAJ:MIN of a loop device node. -ENOTBLK when it is not a loop device. */
static int loop_sysfs_dir(const char *device, char **ret_dir) {
        struct stat st;
        if (stat(device, &st) < 0)
                return -errno;
        if (!S_ISBLK(st.st_mode) || major(st.st_rdev) != LOOP_MAJOR)
                return -ENOTBLK;
        *ret_dir = g_strdup_printf("/sys/dev/block/%u:%u", major(st.st_rdev), minor(st.st_rdev));
        return 0;
}

int loopdev_backing_file(const char *device, char **ret_path) {
        g_autofree char *dir = NULL;
        int r = loop_sysfs_dir(device, &dir);
        if (r < 0)
                return r;
        g_autofree char *attr = g_strdup_printf("%s/loop/backing_file", dir);
        char *path = NULL;
        r = read_attr(attr, &path);
        if (r == -ENOENT)
                return -ENXIO; /* the loop/ attributes exist only while a file is attached */
        if (r < 0)
                return r;
        *ret_path = path;
        return 0;
}

/* Open a device node that LOOP_CTL_GET_FREE may just have created: devtmpfs adds it
 * synchronously, but give a slow /dev (udev) a moment. */
static int open_new_node(const char *path, int flags) {
        for (int i = 0;; i++) {
                int fd = open(path, flags | O_CLOEXEC);
                if (fd >= 0)
                        return fd;
                if (errno != ENOENT || i >= NODE_WAIT_STEPS)
                        return -errno;
                sleep_ms(WAIT_STEP_MS);
        }
}

/* Bind file descriptor ffd to the loop device open at dfd. -EBUSY when the device is taken. */
static int loop_configure(int dfd, int ffd, const char *name) {
        struct loop_config config = { .fd = (uint32_t) ffd, .block_size = 0 };
        g_strlcpy((char *) config.info.lo_file_name, name, LO_NAME_SIZE);
        if (ioctl(dfd, LOOP_CONFIGURE, &config) == 0)
                return 0;
        if (errno != EINVAL && errno != ENOTTY)
                return -errno;

        /* Kernels before 5.8: two steps. */
        if (ioctl(dfd, LOOP_SET_FD, ffd) < 0)
                return -errno;
        struct loop_info64 info = { 0 };
        g_strlcpy((char *) info.lo_file_name, name, LO_NAME_SIZE);
        if (ioctl(dfd, LOOP_SET_STATUS64, &info) < 0) {
                int saved = errno;
                (void) ioctl(dfd, LOOP_CLR_FD, 0);
                return -saved;
        }
        return 0;
}

int loopdev_attach_fd(int ffd, const char *name, char **ret_device, GError **error) {
        struct stat st;
        if (fstat(ffd, &st) < 0)
                return np_fail(error, errno, "%s: cannot stat: %s", name, g_strerror(errno));
        if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
                return np_fail(error, EINVAL, "%s: not a regular file or block device; cannot attach it to a loop device",
                               name);

        _cleanup_close_ int ctl = open(LOOP_CONTROL, O_RDWR | O_CLOEXEC);
        if (ctl < 0)
                return np_fail(error, errno, "%s: cannot attach a loop device: cannot open %s: %s", name,
                               LOOP_CONTROL, g_strerror(errno));

        for (int attempt = 0; attempt < ATTACH_ATTEMPTS; attempt++) {
                int nr = ioctl(ctl, LOOP_CTL_GET_FREE);
                if (nr < 0)
                        return np_fail(error, errno, "%s: cannot attach a loop device: no free loop device (LOOP_CTL_GET_FREE): %s",
                                       name, g_strerror(errno));
                g_autofree char *device = g_strdup_printf("/dev/loop%d", nr);
                _cleanup_close_ int dfd = open_new_node(device, O_RDWR);
                if (dfd < 0)
                        return np_fail(error, -dfd, "%s: cannot attach a loop device: cannot open %s: %s", name,
                                       device, g_strerror(-dfd));
                int r = loop_configure(dfd, ffd, name);
                if (r == -EBUSY) {
                        /* Another process bound this free device between our two calls. */
                        if (attempt >= 8)
                                sleep_ms((unsigned) g_random_int_range(1, WAIT_STEP_MS));
                        continue;
                }
                if (r < 0)
                        return np_fail(error, -r, "%s: cannot attach it to %s: %s", name, device, g_strerror(-r));
                if (S_ISREG(st.st_mode))
                        backing_note(st.st_dev, st.st_ino, (unsigned) nr);
                *ret_device = TAKE_PTR(device);
                return 0;
        }
        return np_fail(error, EBUSY, "%s: cannot attach a loop device: every free device was taken by other processes in %d attempts",
                       name, ATTACH_ATTEMPTS);
}

int loopdev_attach(const char *file, char **ret_device, GError **error) {
        _cleanup_close_ int ffd = open(file, O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (ffd < 0)
                return np_fail(error, errno, "%s: cannot open it to attach a loop device: %s", file,
                               g_strerror(errno));
        char *canon = realpath(file, NULL);
        g_autofree char *name = canon ? g_strdup(canon) : g_strdup(file);
        free(canon);
        return loopdev_attach_fd(ffd, name, ret_device, error);
}

/* The file behind /dev/loopNR: false when nothing is attached. The node and LOOP_GET_STATUS64
 * (3 calls); where there is no node or no ioctl, the path sysfs names, stat'ed. */
static bool loop_backing_key(unsigned nr, BackingKey *ret) {
        g_autofree char *device = g_strdup_printf("/dev/loop%u", nr);
        _cleanup_close_ int fd = open(device, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        struct loop_info64 info;
        if (fd >= 0) {
                if (ioctl(fd, LOOP_GET_STATUS64, &info) == 0) {
                        *ret = (BackingKey){ .dev = (dev_t) info.lo_device, .ino = (ino_t) info.lo_inode };
                        return true;
                }
                if (errno == ENXIO)
                        return false; /* not attached */
        }
        g_autofree char *attr = g_strdup_printf("/sys/block/loop%u/loop/backing_file", nr);
        g_autofree char *backing = NULL;
        struct stat bst;
        if (read_attr(attr, &backing) < 0 || stat(backing, &bst) < 0)
                return false;
        *ret = (BackingKey){ .dev = bst.st_dev, .ino = bst.st_ino };
        return true;
}

/* Does the loop device /dev/loopNR use the file `st`? */
static bool loop_uses_inode(unsigned nr, const struct stat *st) {
        BackingKey k;
        return loop_backing_key(nr, &k) && k.dev == st->st_dev && k.ino == st->st_ino;
}

static gint compare_uint(gconstpointer a, gconstpointer b) {
        unsigned x = *(const unsigned *) a, y = *(const unsigned *) b;
        return x < y ? -1 : x > y;
}

/* The numbers of the loop devices the kernel has, lowest first. */
static int list_loops(GArray **ret) {
        DIR *d = opendir("/sys/block");
        if (!d)
                return -errno;
        GArray *nrs = g_array_new(FALSE, FALSE, sizeof(unsigned));
        struct dirent *de;
        while ((de = readdir(d))) {
                unsigned nr;
                char tail;
                if (sscanf(de->d_name, "loop%u%c", &nr, &tail) == 1)
                        g_array_append_val(nrs, nr);
        }
        closedir(d);
        g_array_sort(nrs, compare_uint);
        *ret = nrs;
        return 0;
}

/* The lowest loop device for which match(nr, backing_file, data) holds. */
static int find_loop(bool (*match)(unsigned nr, const char *backing, const void *data), const void *data,
                     char **ret_device) {
        g_autoptr(GArray) nrs = NULL;
        int r = list_loops(&nrs);
        if (r < 0)
                return r;
        for (guint i = 0; i < nrs->len; i++) {
                unsigned nr = g_array_index(nrs, unsigned, i);
                g_autofree char *attr = g_strdup_printf("/sys/block/loop%u/loop/backing_file", nr);
                g_autofree char *backing = NULL;
                if (read_attr(attr, &backing) < 0)
                        continue; /* not attached (or detached meanwhile) */
                if (match(nr, backing, data)) {
                        *ret_device = g_strdup_printf("/dev/loop%u", nr);
                        return 0;
                }
        }
        return -ENOENT;
}

/* One pass: the map of every attached device's backing file. */
static int backing_scan(GHashTable **ret) {
        g_autoptr(GArray) nrs = NULL;
        int r = list_loops(&nrs);
        if (r < 0)
                return r;
        GHashTable *map = g_hash_table_new_full(backing_hash, backing_equal, g_free, NULL);
        for (guint i = 0; i < nrs->len; i++) {
                unsigned nr = g_array_index(nrs, unsigned, i);
                BackingKey k;
                if (loop_backing_key(nr, &k) && !g_hash_table_contains(map, &k)) /* the lowest stays */
                        g_hash_table_insert(map, g_memdup2(&k, sizeof k), GUINT_TO_POINTER(nr + 1));
        }
        *ret = map;
        return 0;
}

int loopdev_find_inode(const struct stat *st, char **ret_device) {
        BackingKey k = { .dev = st->st_dev, .ino = st->st_ino };
        unsigned hit = 0;
        g_mutex_lock(&backing_lock);
        if (backing_map)
                hit = GPOINTER_TO_UINT(g_hash_table_lookup(backing_map, &k));
        g_mutex_unlock(&backing_lock);
        if (hit && loop_uses_inode(hit - 1, st)) {
                *ret_device = g_strdup_printf("/dev/loop%u", hit - 1);
                return 0;
        }
        GHashTable *map = NULL;
        int r = backing_scan(&map);
        if (r < 0)
                return r;
        hit = GPOINTER_TO_UINT(g_hash_table_lookup(map, &k));
        g_mutex_lock(&backing_lock);
        g_clear_pointer(&backing_map, g_hash_table_unref);
        backing_map = map;
        g_mutex_unlock(&backing_lock);
        if (!hit)
                return -ENOENT;
        *ret_device = g_strdup_printf("/dev/loop%u", hit - 1);
        return 0;
}

typedef struct PathMatch {
        const char *abs, *abs_deleted;
} PathMatch;

static bool match_path(unsigned nr, const char *backing, const void *data) {
        const PathMatch *m = data;
        return strcmp(backing, m->abs) == 0 || strcmp(backing, m->abs_deleted) == 0;
}

int loopdev_find(const char *file, char **ret_device) {
        struct stat st;
        if (stat(file, &st) == 0)
                return loopdev_find_inode(&st, ret_device);
        if (errno != ENOENT)
                return -errno;
        g_autofree char *abs = g_canonicalize_filename(file, NULL);
        g_autofree char *abs_deleted = g_strconcat(abs, DELETED_SUFFIX, NULL);
        PathMatch m = { abs, abs_deleted };
        return find_loop(match_path, &m, ret_device);
}

/* "pid 123 (sleep), pid 456 (blkid)": the processes that have the block device rdev open
 * (/proc/PID/fd, as fuser does); NULL when none is found. */
static char *describe_openers(dev_t rdev) {
        _cleanup_closedir_ DIR *proc = opendir("/proc");
        if (!proc)
                return NULL;
        g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func(g_free);
        struct dirent *de;
        while ((de = readdir(proc)) && found->len < 8) {
                char *end;
                unsigned long pid = strtoul(de->d_name, &end, 10);
                if (*end || pid == 0)
                        continue;
                g_autofree char *fddir = g_strdup_printf("/proc/%lu/fd", pid);
                _cleanup_closedir_ DIR *fds = opendir(fddir);
                if (!fds)
                        continue;
                struct dirent *fe;
                while ((fe = readdir(fds))) {
                        struct stat st;
                        if (fe->d_name[0] == '.' || fstatat(dirfd(fds), fe->d_name, &st, 0) < 0)
                                continue;
                        if (S_ISBLK(st.st_mode) && st.st_rdev == rdev) {
                                g_autofree char *commf = g_strdup_printf("/proc/%lu/comm", pid);
                                g_autofree char *comm = NULL;
                                if (g_file_get_contents(commf, &comm, NULL, NULL))
                                        g_strchomp(comm);
                                g_ptr_array_add(found, g_strdup_printf("pid %lu (%s)", pid, comm ? comm : "?"));
                                break;
                        }
                }
        }
        if (found->len == 0)
                return NULL;
        g_ptr_array_add(found, NULL);
        return g_strjoinv(", ", (char **) found->pdata);
}

static bool still_attached(const char *device) {
        g_autofree char *backing = NULL;
        return loopdev_backing_file(device, &backing) == 0;
}

int loopdev_detach(const char *device, GError **error) {
        g_autofree char *dir = NULL;
        int r = loop_sysfs_dir(device, &dir);
        if (r == -ENOTBLK)
                return np_fail(error, ENOTBLK, "%s: not a loop device; cannot detach it", device);
        if (r < 0)
                return np_fail(error, -r, "%s: cannot detach: %s", device, g_strerror(-r));

        /* Exclusive open: refused while the device is mounted or held by another driver, so a
         * busy device is reported instead of being marked for autoclear behind the user's back. */
        _cleanup_close_ int fd = -1;
        for (int i = 0;; i++) {
                fd = open(device, O_RDONLY | O_CLOEXEC | O_EXCL | O_NONBLOCK);
                if (fd >= 0)
                        break;
                if (errno == EBUSY && i >= EXCL_WAIT_STEPS)
                        return np_fail(error, EBUSY, "%s: cannot detach: the device is in use (mounted or held by another device)",
                                       device);
                if (errno != EBUSY)
                        return np_fail(error, errno, "%s: cannot open it to detach: %s", device, g_strerror(errno));
                sleep_ms(WAIT_STEP_MS);
        }

        for (int i = 0;; i++) {
                if (ioctl(fd, LOOP_CLR_FD, 0) == 0)
                        break;
                if (errno == ENXIO)
                        return 0; /* nothing attached */
                if (errno != EBUSY || i >= BUSY_WAIT_STEPS)
                        return np_fail(error, errno, "%s: cannot detach (LOOP_CLR_FD): %s", device, g_strerror(errno));
                sleep_ms(WAIT_STEP_MS);
        }
        /* The kernel finishes the detach when the last opener closes: us, or a passing one. */
        struct stat st;
        bool have_rdev = fstat(fd, &st) == 0;
        close(TAKE_FD(fd));
        for (int i = 0; still_attached(device); i++) {
                if (i >= DETACH_WAIT_STEPS) {
                        g_autofree char *who = have_rdev ? describe_openers(st.st_rdev) : NULL;
                        return np_fail(error, EBUSY, "%s: still attached %d s after LOOP_CLR_FD: held open by %s; the kernel detaches it when that is closed",
                                       device, DETACH_WAIT_STEPS * WAIT_STEP_MS / 1000,
                                       who ? who : "another process");
                }
                sleep_ms(WAIT_STEP_MS);
        }
        return 0;
}

int loopdev_set_capacity(const char *device, GError **error) {
        g_autofree char *dir = NULL;
        int r = loop_sysfs_dir(device, &dir);
        if (r == -ENOTBLK)
                return np_fail(error, ENOTBLK, "%s: not a loop device; cannot update its capacity", device);
        if (r < 0)
                return np_fail(error, -r, "%s: cannot update the loop capacity: %s", device, g_strerror(-r));
        _cleanup_close_ int fd = open(device, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0)
                return np_fail(error, errno, "%s: cannot open it to update the loop capacity: %s", device,
                               g_strerror(errno));
        if (ioctl(fd, LOOP_SET_CAPACITY, 0) < 0)
                return np_fail(error, errno, "%s: cannot update the loop capacity (LOOP_SET_CAPACITY): %s", device,
                               errno == ENXIO ? "no file is attached" : g_strerror(errno));
        return 0;
}

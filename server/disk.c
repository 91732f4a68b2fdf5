/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What both disk backends share: the backend lookup and the checks on block devices. */
#include "config.h"

#include <blkid.h>
#include <dirent.h>
#include <fcntl.h>
#include <libmount.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "disk.h"
#include "error.h"
#include "macro.h"

/* Safety net for the wipe loop: a device never carries this many signatures. */
#define WIPE_MAX_SIGNATURES 256

static void blkid_free_probep(blkid_probe *pr) {
        if (*pr)
                blkid_free_probe(*pr);
}
#define _cleanup_blkid_probe_ _cleanup_(blkid_free_probep)

static void mnt_unref_tablep(struct libmnt_table **tb) {
        mnt_unref_table(*tb); /* accepts NULL */
}
static void mnt_free_iterp(struct libmnt_iter **it) {
        mnt_free_iter(*it); /* accepts NULL */
}

const DiskBackend *disk_backend_by_name(const char *name) {
        static const DiskBackend *const backends[] = { &disk_backend_image, &disk_backend_disk };
        if (!name)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(backends); i++)
                if (strcmp(backends[i]->name, name) == 0)
                        return backends[i];
        return NULL;
}

bool disk_same_source(const char *a, const char *b) {
        struct stat sa, sb;
        if (!a || !b)
                return false;
        if (stat(a, &sa) == 0 && stat(b, &sb) == 0) {
                if (S_ISBLK(sa.st_mode) || S_ISBLK(sb.st_mode))
                        return S_ISBLK(sa.st_mode) && S_ISBLK(sb.st_mode) && sa.st_rdev == sb.st_rdev;
                return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
        }
        return strcmp(a, b) == 0;
}

int disk_device_size(const char *path, uint64_t *ret_size, GError **error) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        if (fd < 0)
                return np_fail(error, errno, "%s: cannot open it to read its size: %s", path, g_strerror(errno));
        struct stat st;
        if (fstat(fd, &st) < 0)
                return np_fail(error, errno, "%s: cannot stat: %s", path, g_strerror(errno));
        if (S_ISREG(st.st_mode)) {
                *ret_size = (uint64_t) st.st_size;
                return 0;
        }
        if (!S_ISBLK(st.st_mode))
                return np_fail(error, ENOTBLK, "%s: neither a block device nor a regular file", path);
        uint64_t size;
        if (ioctl(fd, BLKGETSIZE64, &size) < 0)
                return np_fail(error, errno, "%s: cannot read its size (BLKGETSIZE64): %s", path, g_strerror(errno));
        *ret_size = size;
        return 0;
}

/* A block device: its number and its sysfs directory. */
typedef struct BlockDev {
        dev_t devno;
        char *sysdir; /* /sys/dev/block/MAJ:MIN */
} BlockDev;

static void block_dev_done(BlockDev *b) {
        g_free(b->sysdir);
}

static int block_dev_open(const char *device, BlockDev *ret, GError **error) {
        struct stat st;
        if (stat(device, &st) < 0) {
                if (errno == ENOENT)
                        return np_fail(error, ENOENT, "%s does not exist", device);
                return np_fail(error, errno, "%s: cannot stat: %s", device, g_strerror(errno));
        }
        if (!S_ISBLK(st.st_mode))
                return np_fail(error, ENOTBLK, "%s is not a block device", device);
        ret->devno = st.st_rdev;
        ret->sysdir = g_strdup_printf("/sys/dev/block/%u:%u", major(st.st_rdev), minor(st.st_rdev));
        return 0;
}

/* Read "MAJ:MIN" from a sysfs dev attribute. */
static bool read_devno(const char *path, dev_t *ret) {
        g_autofree char *text = NULL;
        unsigned ma, mi;
        if (!g_file_get_contents(path, &text, NULL, NULL) || sscanf(text, "%u:%u", &ma, &mi) != 2)
                return false;
        *ret = makedev(ma, mi);
        return true;
}

typedef struct Partition {
        char *name; /* kernel name, "sdb1" */
        dev_t devno;
} Partition;

static void partition_free(gpointer p) {
        Partition *part = p;
        g_free(part->name);
        g_free(part);
}

/* The partitions the kernel knows on the device: sysfs children that have a "partition" file. */
static GPtrArray *list_partitions(const BlockDev *b) {
        GPtrArray *parts = g_ptr_array_new_with_free_func(partition_free);
        _cleanup_closedir_ DIR *d = opendir(b->sysdir);
        if (!d)
                return parts;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                g_autofree char *pfile = g_strdup_printf("%s/%s/partition", b->sysdir, de->d_name);
                if (access(pfile, F_OK) < 0)
                        continue;
                g_autofree char *devfile = g_strdup_printf("%s/%s/dev", b->sysdir, de->d_name);
                dev_t devno;
                if (!read_devno(devfile, &devno))
                        continue;
                Partition *p = g_new0(Partition, 1);
                p->name = g_strdup(de->d_name);
                p->devno = devno;
                g_ptr_array_add(parts, p);
        }
        return parts;
}

/* Names in a sysfs holders/ directory, joined with ", "; NULL when none. */
static char *list_holders(const char *sysdir) {
        g_autofree char *path = g_strdup_printf("%s/holders", sysdir);
        _cleanup_closedir_ DIR *d = opendir(path);
        if (!d)
                return NULL;
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        struct dirent *de;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.')
                        g_ptr_array_add(names, g_strdup(de->d_name));
        if (names->len == 0)
                return NULL;
        g_ptr_array_add(names, NULL);
        return g_strjoinv(", ", (char **) names->pdata);
}

/* Is this mount-table source the device `devno` (by the mountinfo number or by its path)? */
static bool fs_is_devno(struct libmnt_fs *fs, dev_t devno) {
        if (mnt_fs_get_devno(fs) == devno)
                return true;
        const char *src = mnt_fs_get_srcpath(fs);
        struct stat st;
        return src && stat(src, &st) == 0 && S_ISBLK(st.st_mode) && st.st_rdev == devno;
}

/* Which of the device numbers in devs[0..n) the table uses: the index, or -1. */
static int table_find(struct libmnt_table *tb, const dev_t *devs, size_t n, struct libmnt_fs **ret_fs) {
        _cleanup_(mnt_free_iterp) struct libmnt_iter *it = mnt_new_iter(MNT_ITER_FORWARD);
        struct libmnt_fs *fs;
        if (!it)
                return -1;
        while (mnt_table_next_fs(tb, it, &fs) == 0)
                for (size_t i = 0; i < n; i++)
                        if (fs_is_devno(fs, devs[i])) {
                                *ret_fs = fs;
                                return (int) i;
                        }
        return -1;
}

int disk_check_unused(const char *device, GError **error) {
        _cleanup_(block_dev_done) BlockDev b = { 0 };
        int r = block_dev_open(device, &b, error);
        if (r < 0)
                return r;

        /* The device and its partitions. */
        g_autoptr(GPtrArray) parts = list_partitions(&b);
        g_autofree dev_t *devs = g_new(dev_t, parts->len + 1);
        devs[0] = b.devno;
        for (guint i = 0; i < parts->len; i++)
                devs[i + 1] = ((Partition *) g_ptr_array_index(parts, i))->devno;
        size_t ndevs = parts->len + 1;

        /* Mounted (in this mount namespace), as a device or through one of its partitions. */
        _cleanup_(mnt_unref_tablep) struct libmnt_table *mounts = mnt_new_table();
        if (!mounts)
                return np_fail(error, ENOMEM, "%s: cannot check whether it is mounted: out of memory", device);
        r = mnt_table_parse_mtab(mounts, NULL);
        if (r < 0)
                return np_fail(error, -r, "%s: cannot check whether it is mounted: cannot read the mount table: %s",
                               device, g_strerror(-r));
        struct libmnt_fs *fs = NULL;
        int i = table_find(mounts, devs, ndevs, &fs);
        if (i == 0)
                return np_fail(error, EBUSY, "%s is mounted on %s", device, mnt_fs_get_target(fs));
        if (i > 0)
                return np_fail(error, EBUSY, "%s has partition %s mounted on %s", device,
                               ((Partition *) g_ptr_array_index(parts, i - 1))->name, mnt_fs_get_target(fs));

        /* Swap. */
        _cleanup_(mnt_unref_tablep) struct libmnt_table *swaps = mnt_new_table();
        if (!swaps)
                return np_fail(error, ENOMEM, "%s: cannot check whether it is swap: out of memory", device);
        r = mnt_table_parse_swaps(swaps, NULL);
        if (r < 0 && r != -ENOENT)
                return np_fail(error, -r, "%s: cannot check whether it is swap: cannot read /proc/swaps: %s", device,
                               g_strerror(-r));
        i = table_find(swaps, devs, ndevs, &fs);
        if (i == 0)
                return np_fail(error, EBUSY, "%s is used as swap", device);
        if (i > 0)
                return np_fail(error, EBUSY, "%s has partition %s used as swap", device,
                               ((Partition *) g_ptr_array_index(parts, i - 1))->name);

        /* Holders: device-mapper, MD RAID, bcache... on the device or a partition. */
        g_autofree char *holders = list_holders(b.sysdir);
        if (holders)
                return np_fail(error, EBUSY, "%s has holders (%s)", device, holders);
        for (guint j = 0; j < parts->len; j++) {
                const Partition *p = g_ptr_array_index(parts, j);
                g_autofree char *psys = g_strdup_printf("%s/%s", b.sysdir, p->name);
                g_autofree char *ph = list_holders(psys);
                if (ph)
                        return np_fail(error, EBUSY, "%s has partition %s with holders (%s)", device, p->name, ph);
        }

        /* Anything else the kernel sees as an exclusive user, e.g. a mount in another namespace. */
        _cleanup_close_ int fd = open(device, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_EXCL);
        if (fd < 0) {
                if (errno == EBUSY)
                        return np_fail(error, EBUSY, "%s is in use: the kernel refuses exclusive access (mounted in another mount namespace or claimed by a driver)",
                                       device);
                return np_fail(error, errno, "%s: cannot open it to check whether it is in use: %s", device,
                               g_strerror(errno));
        }
        return 0;
}

/* "ext4 filesystem", "LVM2_member RAID/volume-manager signature", ... */
static char *describe_type(const char *type, const char *usage) {
        const char *noun = "signature";
        if (usage) {
                if (strcmp(usage, "filesystem") == 0)
                        noun = "filesystem";
                else if (strcmp(usage, "raid") == 0)
                        noun = "RAID/volume-manager signature";
                else if (strcmp(usage, "crypto") == 0)
                        noun = "encryption signature";
        }
        return g_strdup_printf("%s %s", type, noun);
}

static const char *probe_value(blkid_probe pr, const char *name) {
        const char *v = NULL;
        if (blkid_probe_lookup_value(pr, name, &v, NULL) < 0)
                return NULL;
        return v;
}

/* The names of every signature on the device, for an ambivalent probe: "ext4, xfs". */
static char *list_signatures(const char *device);
static char *list_several(const char *device) {
        g_autofree char *list = list_signatures(device);
        return g_strdup_printf("several conflicting signatures (%s)", list);
}

static char *list_signatures(const char *device) {
        _cleanup_blkid_probe_ blkid_probe pr = blkid_new_probe_from_filename(device);
        if (!pr)
                return g_strdup("unknown");
        blkid_probe_enable_superblocks(pr, 1);
        blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_BADCSUM);
        blkid_probe_enable_partitions(pr, 1);
        blkid_probe_set_partitions_flags(pr, BLKID_PARTS_FORCE_GPT);
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        for (int n = 0; n < WIPE_MAX_SIGNATURES && blkid_do_probe(pr) == 0; n++) {
                const char *t = probe_value(pr, "TYPE");
                const char *pt = probe_value(pr, "PTTYPE");
                if (t)
                        g_ptr_array_add(names, g_strdup(t));
                else if (pt)
                        g_ptr_array_add(names, g_strdup_printf("%s partition table", pt));
        }
        if (names->len == 0)
                return g_strdup("unknown");
        g_ptr_array_add(names, NULL);
        return g_strjoinv(", ", (char **) names->pdata);
}

/* What a device carries, from one libblkid probe of an open descriptor. */
typedef struct Content {
        bool blank;
        bool several;  /* conflicting signatures: desc lists them */
        char *uuid;    /* the filesystem's UUID (lower case, as libblkid reports it), NULL if none */
        char *desc;    /* "a ext4 filesystem (UUID=..., LABEL=...)", "partitions (a dos partition table)" */
} Content;

static void content_done(Content *c) {
        g_free(c->uuid);
        g_free(c->desc);
}

static int probe_content(int fd, const char *device, Content *ret, GError **error) {
        _cleanup_blkid_probe_ blkid_probe pr = blkid_new_probe();
        if (!pr)
                return np_fail(error, ENOMEM, "%s: cannot probe it for signatures: out of memory", device);
        if (blkid_probe_set_device(pr, fd, 0, 0) < 0)
                return np_fail(error, EIO, "%s: cannot probe it for signatures: libblkid cannot use the device", device);
        blkid_probe_enable_superblocks(pr, 1);
        blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_USAGE | BLKID_SUBLKS_UUID |
                                                      BLKID_SUBLKS_LABEL);
        blkid_probe_enable_partitions(pr, 1);
        blkid_probe_set_partitions_flags(pr, BLKID_PARTS_FORCE_GPT);

        int r = blkid_do_safeprobe(pr);
        if (r == 1) {
                *ret = (Content) { .blank = true };
                return 0;
        }
        if (r == -2) {
                *ret = (Content) { .several = true,
                                   .desc = list_several(device) };
                return 0;
        }
        if (r < 0)
                return np_fail(error, EIO, "%s: probing it for signatures failed (libblkid)", device);

        const char *pttype = probe_value(pr, "PTTYPE");
        if (pttype) {
                *ret = (Content) { .desc = g_strdup_printf("partitions (a %s partition table)", pttype) };
                return 0;
        }
        const char *type = probe_value(pr, "TYPE");
        g_autofree char *what = describe_type(type ? type : "unknown", probe_value(pr, "USAGE"));
        g_autoptr(GString) details = g_string_new(NULL);
        const char *uuid = probe_value(pr, "UUID"), *label = probe_value(pr, "LABEL");
        if (uuid)
                g_string_append_printf(details, "UUID=%s", uuid);
        if (label)
                g_string_append_printf(details, "%sLABEL=%s", details->len ? ", " : "", label);
        *ret = (Content) {
                .uuid = uuid ? g_ascii_strdown(uuid, -1) : NULL,
                .desc = details->len ? g_strdup_printf("a %s (%s)", what, details->str) : g_strdup_printf("a %s", what),
        };
        return 0;
}

int disk_check_blank(const char *device, GError **error) {
        int r = disk_check_unused(device, error);
        if (r < 0)
                return r;

        _cleanup_(block_dev_done) BlockDev b = { 0 };
        r = block_dev_open(device, &b, error);
        if (r < 0)
                return r;
        g_autoptr(GPtrArray) parts = list_partitions(&b);
        if (parts->len > 0) {
                g_autoptr(GPtrArray) names = g_ptr_array_new();
                for (guint i = 0; i < parts->len; i++)
                        g_ptr_array_add(names, ((Partition *) g_ptr_array_index(parts, i))->name);
                g_ptr_array_add(names, NULL);
                g_autofree char *list = g_strjoinv(", ", (char **) names->pdata);
                return np_fail(error, EEXIST, "%s has partitions (%s)", device, list);
        }

        _cleanup_close_ int fd = open(device, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        if (fd < 0)
                return np_fail(error, errno, "%s: cannot open it to probe for signatures: %s", device, g_strerror(errno));
        _cleanup_(content_done) Content c = { 0 };
        r = probe_content(fd, device, &c, error);
        if (r < 0)
                return r;
        if (c.blank)
                return 0;
        if (g_str_has_prefix(c.desc, "partitions"))
                return np_fail(error, EEXIST, "%s has %s", device, c.desc);
        return np_fail(error, EEXIST, "%s carries %s", device, c.desc);
}

/* Open a block device for a destructive step: read-write and exclusive, so the kernel refuses
 * while it is mounted or held. what: "wipe", "format". */
static int open_exclusive(const char *device, const char *what, int *ret_fd, GError **error) {
        _cleanup_close_ int fd = open(device, O_RDWR | O_CLOEXEC | O_EXCL | O_NOCTTY);
        if (fd < 0) {
                if (errno == EBUSY)
                        return np_fail(error, EBUSY, "%s is in use (mounted or held); not going to %s it", device, what);
                return np_fail(error, errno, "%s: cannot open it to %s it: %s", device, what, g_strerror(errno));
        }
        struct stat st;
        if (fstat(fd, &st) < 0)
                return np_fail(error, errno, "%s: cannot stat: %s", device, g_strerror(errno));
        if (!S_ISBLK(st.st_mode))
                return np_fail(error, ENOTBLK, "%s is not a block device; not going to %s it", device, what);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* Erase every signature libblkid finds through fd: the blkid_do_probe/blkid_do_wipe loop of
 * `wipefs -a`. */
static int wipe_fd(int fd, const char *device, GError **error) {
        _cleanup_blkid_probe_ blkid_probe pr = blkid_new_probe();
        if (!pr)
                return np_fail(error, ENOMEM, "%s: cannot wipe: out of memory", device);
        if (blkid_probe_set_device(pr, fd, 0, 0) < 0)
                return np_fail(error, EIO, "%s: cannot wipe: libblkid cannot use the device", device);
        blkid_probe_enable_superblocks(pr, 1);
        blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_MAGIC | BLKID_SUBLKS_TYPE | BLKID_SUBLKS_BADCSUM);
        blkid_probe_enable_partitions(pr, 1);
        blkid_probe_set_partitions_flags(pr, BLKID_PARTS_MAGIC | BLKID_PARTS_FORCE_GPT);

        bool partition_table = false;
        int n = 0, r;
        while ((r = blkid_do_probe(pr)) == 0) {
                const char *type = probe_value(pr, "TYPE");
                const char *pttype = probe_value(pr, "PTTYPE");
                if (pttype)
                        partition_table = true;
                if (++n > WIPE_MAX_SIGNATURES)
                        return np_fail(error, ELOOP, "%s: wiping did not end after %d signatures", device,
                                       WIPE_MAX_SIGNATURES);
                errno = 0;
                if (blkid_do_wipe(pr, 0) < 0) {
                        int e = errno > 0 ? errno : EIO;
                        return np_fail(error, e, "%s: cannot erase its %s signature: %s", device,
                                       type ? type : pttype ? pttype : "unknown", g_strerror(e));
                }
        }
        if (r < 0)
                return np_fail(error, EIO, "%s: probing it for signatures failed (libblkid) after erasing %d", device, n);
        if (n > 0 && fsync(fd) < 0)
                return np_fail(error, errno, "%s: fsync after wiping failed: %s", device, g_strerror(errno));
        if (partition_table)
                (void) ioctl(fd, BLKRRPART); /* let the kernel forget the partitions; fails on loop devices without partscan */
        return 0;
}

/* The message for a device that does not carry the share's filesystem. */
static int not_the_share(GError **error, const char *device, const char *share, const char *fs_uuid,
                         const Content *c, const char *what) {
        return np_fail(error, ESTALE,
                       "%s carries %s, not share %s's filesystem (UUID=%s); refusing to %s it "
                       "(device names can change across reboots)",
                       device, c->desc, share, fs_uuid ? fs_uuid : "none", what);
}

/* Open the device exclusively for `what` and probe what it carries through that descriptor. */
static int open_and_probe(const char *device, const char *what, int *ret_fd, Content *ret, GError **error) {
        _cleanup_close_ int fd = -1;
        int r = open_exclusive(device, what, &fd, error);
        if (r < 0)
                return r;
        r = probe_content(fd, device, ret, error);
        if (r < 0)
                return r;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static bool carries(const Content *c, const char *fs_uuid) {
        return fs_uuid && c->uuid && g_ascii_strcasecmp(c->uuid, fs_uuid) == 0;
}

int disk_wipe_share(const char *device, const char *share, const char *fs_uuid, GError **error) {
        _cleanup_close_ int fd = -1;
        _cleanup_(content_done) Content c = { 0 };
        int r = open_and_probe(device, "wipe", &fd, &c, error);
        if (r < 0)
                return r;
        if (c.blank)
                return 0;
        if (!carries(&c, fs_uuid))
                return not_the_share(error, device, share, fs_uuid, &c, "wipe");
        /* Same descriptor: what was checked is what gets wiped. */
        return wipe_fd(fd, device, error);
}

int disk_check_formattable(const char *device, const char *share, const char *fs_uuid, bool force, GError **error) {
        _cleanup_close_ int fd = -1;
        _cleanup_(content_done) Content c = { 0 };
        int r = open_and_probe(device, "format", &fd, &c, error);
        if (r < 0)
                return r;
        if (c.blank || force || carries(&c, fs_uuid))
                return 0;
        return np_fail(error, EEXIST, "%s carries %s, not share %s's filesystem (UUID=%s); refusing to format it",
                       device, c.desc, share, fs_uuid ? fs_uuid : "none");
}

int disk_fs_uuid(const char *device, char **ret_uuid, char **ret_desc, GError **error) {
        _cleanup_close_ int fd = open(device, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        if (fd < 0)
                return np_fail(error, errno, "%s: cannot open it to probe: %s", device, g_strerror(errno));
        _cleanup_(content_done) Content c = { 0 };
        int r = probe_content(fd, device, &c, error);
        if (r < 0)
                return r;
        if (ret_uuid)
                *ret_uuid = TAKE_PTR(c.uuid);
        if (ret_desc)
                *ret_desc = TAKE_PTR(c.desc); /* NULL when blank */
        return 0;
}

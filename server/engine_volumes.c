/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Volumes: the qcow2 files at a share's root, made only here, each recorded in the manifest
 * (state: volumes). Every operation is a table of steps on the one step runner (server/steps.h),
 * recorded in the volume's row, with fault points; a file is made under a temporary name at the
 * share's root (.nfsprov-HASH.part: volume names never start with a dot), checked (the qcow2
 * header, read by nfsprov itself: server/qcow2.h) and renamed into place only then. Its inode is
 * recorded before it is renamed, so that an undo removes only the file the operation made.
 */
#include "config.h"

#include <fcntl.h>
#include <inttypes.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine_internal.h"
#include "error.h"
#include "idmap.h"
#include "log.h"
#include "macro.h"
#include "name.h"
#include "qcow2.h"
#include "qemu_img.h"
#include "size.h"
#include "steps.h"

#define SECTOR 512u
#define SCRUB_CHUNK (1u << 20)

/* ---- one operation on one volume ---- */

typedef struct VolOp {
        Engine *e;
        Share *share;
        Volume *v;              /* its row, kept as the database has it by the runner */
        int root;               /* the share's mounted root */
        char *tmp;              /* the temporary name of the file being made */
        /* what the operation was asked */
        char *source;           /* clone: the volume copied; NULL otherwise */
        bool linked;            /* clone: a linked clone (source as backing) */
        bool shrink;            /* resize: shrinking allowed */
        uint64_t new_capacity;  /* resize */
} VolOp;

static void vol_op_done(VolOp *op) {
        if (op->root >= 0)
                close(op->root);
        g_free(op->tmp);
        g_free(op->source);
}

/* .nfsprov-HASH.part: the same name for the same volume, so that reconcile finds it. */
static char *tmp_name(const char *volume) {
        g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, volume, -1);
        return g_strdup_printf(".nfsprov-%.16s.part", sum);
}

static int vol_op_init(VolOp *op, Engine *e, Share *share, Volume *v, GError **error) {
        *op = (VolOp) { .e = e, .share = share, .v = v, .root = -1, .tmp = tmp_name(v->name) };
        g_autoptr(GError) err = NULL;
        int r = e->sys.fs->open_root(e->config, share->name, &op->root, &err);
        if (r == -ENOENT) /* a ready share whose filesystem is not mounted: a conflict, not "no such" */
                return np_fail(error, EBUSY, "%s; run `nfsprov reconcile` to mount it again", err->message);
        if (r < 0)
                g_propagate_error(error, TAKE_PTR(err));
        return r;
}

static StepRunner runner_for(VolOp *op, unsigned total) {
        return (StepRunner) {
                .state = op->e->state,
                .vol = op->v,
                .op = op,
                .progress = engine_runner_progress,
                .userdata = op->e,
                .total = total,
        };
}

/* ---- files ---- */

/* The guard (engine_guard.c): the share root's immutable attribute is lifted for one change of
 * its entries (link, rename, unlink) and put back at once; r is the change's result, kept when
 * both fail. */
static int root_lift(VolOp *op, bool *ret_lifted, GError **error) {
        return engine_guard_lift(op->e, op->share->name, op->root, ret_lifted, error);
}

static int root_restore(VolOp *op, bool lifted, int r, GError **error) {
        g_autoptr(GError) err = NULL;
        int q = engine_guard_restore(op->e, op->share->name, op->root, lifted, &err);
        if (q >= 0)
                return r;
        if (r < 0) {
                log_error("%s", err->message); /* the change's own error is the one returned */
                return r;
        }
        g_propagate_error(error, TAKE_PTR(err));
        return q;
}

/* Remove name at the share's root when it is a regular file with inode ino (0: any regular
 * file, used only for the temporary names, which are nfsprov's own). */
static int remove_file(VolOp *op, const char *name, uint64_t ino, GError **error) {
        struct stat st;
        if (fstatat(op->root, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno == ENOENT)
                        return 0;
                return np_fail(error, errno, "%s/%s: cannot stat: %s", op->share->name, name, g_strerror(errno));
        }
        if (!S_ISREG(st.st_mode) || (ino && (uint64_t) st.st_ino != ino)) {
                log_warning("%s/%s is not the file nfsprov made (inode %ju, recorded %" PRIu64 "); leaving it",
                            op->share->name, name, (uintmax_t) st.st_ino, ino);
                return 0;
        }
        bool lifted = false;
        int r = root_lift(op, &lifted, error);
        if (r < 0)
                return r;
        if (unlinkat(op->root, name, 0) < 0 && errno != ENOENT)
                r = np_fail(error, errno, "%s/%s: cannot remove it: %s", op->share->name, name, g_strerror(errno));
        r = root_restore(op, lifted, r, error);
        if (r < 0)
                return r;
        if (fsync(op->root) < 0)
                return np_fail(error, errno, "%s: fsync of the share's root failed: %s", op->share->name, g_strerror(errno));
        return 0;
}

static int set_owner(VolOp *op, int fd, GError **error);

/* Make the temporary file, empty, with O_EXCL: nothing planted at its name is followed. A
 * leftover of an earlier attempt of this operation is removed first. */
static int make_tmp(VolOp *op, int *ret_fd, GError **error) {
        int r = remove_file(op, op->tmp, 0, error);
        if (r < 0)
                return r;
        bool lifted = false;
        r = root_lift(op, &lifted, error);
        if (r < 0)
                return r;
        int fd = openat(op->root, op->tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
        if (fd < 0)
                r = np_fail(error, errno, "%s: cannot create the temporary file %s: %s", op->share->name, op->tmp,
                            g_strerror(errno));
        r = root_restore(op, lifted, r, error);
        /* The owner and mode before anything is written: qemu-img's own flush of the data then
         * writes them too, and the check's fsync finds nothing left to write (0.75 -> 0.14 ms) */
        if (r >= 0)
                r = set_owner(op, fd, error);
        if (r < 0) {
                if (fd >= 0)
                        close(fd);
                return r;
        }
        if (ret_fd)
                *ret_fd = fd;
        else
                close(fd);
        return 0;
}

/* Open a volume's file (never through a symbolic link) and check it is the one recorded. */
static int open_volume(VolOp *op, const Volume *v, int flags, int *ret_fd, GError **error) {
        _cleanup_close_ int fd = openat(op->root, v->name, flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                if (errno == ELOOP)
                        return np_fail(error, ESTALE, "%s/%s is a symbolic link, not the volume nfsprov made",
                                       op->share->name, v->name);
                return np_fail(error, errno, "%s/%s: cannot open: %s", op->share->name, v->name, g_strerror(errno));
        }
        struct stat st;
        if (fstat(fd, &st) < 0)
                return np_fail(error, errno, "%s/%s: cannot stat: %s", op->share->name, v->name, g_strerror(errno));
        if (!S_ISREG(st.st_mode) || (v->ino && (uint64_t) st.st_ino != v->ino))
                return np_fail(error, ESTALE, "%s/%s is not the file nfsprov made (inode %ju, recorded %" PRIu64 ")",
                               op->share->name, v->name, (uintmax_t) st.st_ino, v->ino);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static int check_overcommit(Engine *e, const Share *s, uint64_t adding, const char *op, GError **error);

/* An uploaded image's backing file: a ready volume of the same share (the header check made
 * sure it is a bare volume name). */
static int check_backing(VolOp *op, const char *backing, GError **error) {
        g_autoptr(Volume) b = NULL;
        g_autoptr(GError) err = NULL;
        int r = state_volume_get(op->e->state, op->share->name, backing, &b, &err);
        if (r == -ENOENT)
                return np_fail(error, EINVAL, "vol-upload %s: its backing file %s is not a volume of share %s; "
                                              "upload that first",
                               op->v->name, backing, op->share->name);
        if (r < 0) {
                g_propagate_error(error, g_steal_pointer(&err));
                return r;
        }
        if (b->status != VOLUME_READY)
                return np_fail(error, EBUSY, "vol-upload %s: its backing volume %s is %s", op->v->name, backing,
                               volume_status_to_string(b->status));
        return 0;
}

/* What check_file() compares with the record. */
typedef enum CheckMode {
        CHECK_RECORDED,  /* capacity and backing as recorded */
        CHECK_UPLOAD,    /* a file nfsprov did not make (the temporary file): capacity and backing
                          * taken from the header once they pass (check_backing, qemu_img_check,
                          * the over-commit limit) */
        CHECK_CAPACITY,  /* backing as recorded, capacity taken from the header (a resize that
                          * stopped) */
} CheckMode;

/* Check the file open at fd as a volume: a qcow2 nfsprov accepts, then as mode says. */
static int check_file(VolOp *op, int fd, const char *what, CheckMode mode, GError **error) {
        Volume *v = op->v;
        Qcow2Info info = { 0 };
        Qcow2Policy policy = { .max_capacity = op->e->config->max_capacity, .volume_name = v->name };
        g_autoptr(GError) err = NULL;
        int r = qcow2_read_header(fd, &info, &err);
        if (r >= 0 && policy.max_capacity && info.virtual_size > policy.max_capacity) {
                g_autofree char *size = size_format(info.virtual_size), *max = size_format(policy.max_capacity);
                r = np_fail(&err, EINVAL, "its virtual size, %s, is above [volumes] max_capacity, %s", size, max);
        } else if (r >= 0)
                r = qcow2_check(&info, &policy, &err);
        bool upload = mode == CHECK_UPLOAD;
        if (r < 0) {
                qcow2_info_clear(&info);
                if (upload && err->domain == NP_ERROR && err->code == EBADMSG)
                        err->code = EINVAL; /* what the client sent is not a qcow2: its error */
                return np_fail_prefix(error, g_steal_pointer(&err), "%s %s", what, v->name);
        }
        if (mode == CHECK_RECORDED && info.virtual_size != v->capacity)
                r = np_fail(error, EIO, "%s %s: its virtual size is %" PRIu64 " bytes, not %" PRIu64, what, v->name,
                            info.virtual_size, v->capacity);
        else if (!upload && g_strcmp0(info.backing_file, v->backing) != 0)
                r = np_fail(error, EINVAL, "%s %s: its backing file is %s; allowed: %s", what, v->name,
                            info.backing_file ? info.backing_file : "none", v->backing ? v->backing : "none");
        else if (mode == CHECK_CAPACITY)
                v->capacity = info.virtual_size;
        else if (upload) {
                /* A file nfsprov did not make: its backing must be a ready volume of this share,
                 * qemu-img must find it whole, and what it brings counts against the share's
                 * over-commit limit. */
                if (info.backing_file)
                        r = check_backing(op, info.backing_file, error);
                if (r >= 0) {
                        r = qemu_img_check(op->root, op->tmp, error);
                        if (r == -EBADMSG) {
                                if (error && *error)
                                        (*error)->code = EINVAL; /* what the client sent is damaged: its error */
                                r = -EINVAL;
                        }
                }
                if (r >= 0)
                        r = check_overcommit(op->e, op->share, info.virtual_size, "vol-upload", error);
                if (r >= 0) {
                        v->capacity = info.virtual_size;
                        g_free(v->backing);
                        v->backing = g_strdup(info.backing_file);
                }
        }
        qcow2_info_clear(&info);
        return r;
}

/* Owner, group and mode of a new volume ([volumes] owner, group, mode). */
static int set_owner(VolOp *op, int fd, GError **error) {
        const Config *c = op->e->config;
        uid_t uid;
        gid_t gid;
        int r = idmap_user_to_uid(c->vol_owner, &uid, error);
        if (r < 0)
                return r;
        r = idmap_group_to_gid(c->vol_group, &gid, error);
        if (r < 0)
                return r;
        /* Only what differs is changed: a chown or chmod, even to the same values, changes the
         * inode's ctime, which the fsync of the check would then have to write. */
        struct stat st;
        if (fstat(fd, &st) < 0)
                return np_fail(error, errno, "%s: cannot stat %s: %s", op->share->name, op->tmp, g_strerror(errno));
        if ((st.st_uid != uid || st.st_gid != gid) && fchown(fd, uid, gid) < 0)
                return np_fail(error, errno, "%s: cannot set the owner of %s: %s", op->share->name, op->tmp,
                               g_strerror(errno));
        if ((st.st_mode & 07777) != c->vol_mode && fchmod(fd, c->vol_mode) < 0)
                return np_fail(error, errno, "%s: cannot set the mode of %s: %s", op->share->name, op->tmp,
                               g_strerror(errno));
        return 0;
}

/* ---- steps ---- */

static int step_make(void *p, GError **error) {
        VolOp *op = p;
        int r = make_tmp(op, NULL, error);
        if (r < 0)
                return r;
        return qemu_img_create(op->root, op->tmp, op->v->capacity, op->v->backing, error);
}

static int step_copy(void *p, GError **error) {
        VolOp *op = p;
        int r = make_tmp(op, NULL, error);
        if (r < 0)
                return r;
        if (op->linked)
                return qemu_img_create(op->root, op->tmp, op->v->capacity, op->source, error);
        return qemu_img_convert(op->root, op->source, op->tmp, error);
}

/* The file made under the temporary name passes the check; its owner and mode are set; its
 * inode is recorded (with the step's end) before it gets the volume's name. With sync, its
 * content is made durable here (wipe: its replace renames it over the volume); without, place
 * does it (see step_place). */
static int check_tmp(VolOp *op, bool sync, GError **error) {
        /* O_NOATIME: reading the header must not dirty the inode the fsync below writes */
        _cleanup_close_ int fd = openat(op->root, op->tmp, O_RDWR | O_NOATIME | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        if (fd < 0 && errno == EPERM) /* O_NOATIME needs the file's owner or CAP_FOWNER */
                fd = openat(op->root, op->tmp, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return np_fail(error, errno, "%s: cannot open %s: %s", op->share->name, op->tmp, g_strerror(errno));
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return np_fail(error, EIO, "%s: %s is not a regular file", op->share->name, op->tmp);
        int r = check_file(op, fd, "volume", op->v->capacity ? CHECK_RECORDED : CHECK_UPLOAD, error);
        if (r < 0)
                return r;
        r = set_owner(op, fd, error);
        if (r < 0)
                return r;
        if (sync && fsync(fd) < 0)
                return np_fail(error, errno, "%s: fsync of %s failed: %s", op->share->name, op->tmp, g_strerror(errno));
        op->v->ino = (uint64_t) st.st_ino;
        return 0;
}

static int step_check(void *p, GError **error) {
        return check_tmp(p, true, error);
}

static int place_tmp(VolOp *op, GError **error);

/* clone's and upload's check: place makes the file durable with its name */
static int step_check_unsynced(void *p, GError **error) {
        return check_tmp(p, false, error);
}

/* The temporary file takes the volume's name (never over anything that is there), then one
 * fsync of the file makes its content and the rename durable together: on ext4, which every
 * share is, the rename is in the journal transaction that the fsync of the renamed inode commits
 * (its change time moved with it), so that one journal commit does what the fsync of the file
 * and then of the directory did (0.6 ms a create on a loop device, measured). A crash before the
 * fsync ends leaves the volume "creating": reconcile removes the file by its recorded inode. */
static int step_place(void *p, GError **error) {
        VolOp *op = p;
        struct stat st;
        bool placed = fstatat(op->root, op->v->name, &st, AT_SYMLINK_NOFOLLOW) == 0 && (uint64_t) st.st_ino == op->v->ino;
        int r = placed ? 0 : place_tmp(op, error); /* placed: a repeat after a crash, still to sync */
        if (r < 0)
                return r;
        _cleanup_close_ int fd = openat(op->root, op->v->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return np_fail(error, errno, "%s/%s: cannot open it: %s", op->share->name, op->v->name, g_strerror(errno));
        if (fstat(fd, &st) < 0 || (uint64_t) st.st_ino != op->v->ino)
                return np_fail(error, EIO, "%s/%s is not the file nfsprov made (inode %" PRIu64 ")", op->share->name,
                               op->v->name, op->v->ino);
        if (fsync(fd) < 0)
                return np_fail(error, errno, "%s/%s: fsync failed: %s", op->share->name, op->v->name, g_strerror(errno));
        return 0;
}

/* The rename of place, the share's root lifted (immutable) around it. */
static int place_tmp(VolOp *op, GError **error) {
        bool lifted = false;
        int r = root_lift(op, &lifted, error);
        if (r < 0)
                return r;
        if (renameat2(op->root, op->tmp, op->root, op->v->name, RENAME_NOREPLACE) < 0) {
                if (errno == EEXIST)
                        r = np_fail(error, EEXIST, "%s/%s exists and is not a volume nfsprov made; not replacing it",
                                    op->share->name, op->v->name);
                else
                        r = np_fail(error, errno, "%s: cannot rename %s to %s: %s", op->share->name, op->tmp,
                                    op->v->name, g_strerror(errno));
        }
        return root_restore(op, lifted, r, error);
}

/* Undo of make/copy/receive and check: the temporary file. */
static int undo_tmp(void *p, GError **error) {
        VolOp *op = p;
        return remove_file(op, op->tmp, 0, error);
}

/* Undo of place: the volume's file, only the one made (its inode). */
static int undo_place(void *p, GError **error) {
        VolOp *op = p;
        if (!op->v->ino)
                return 0;
        return remove_file(op, op->v->name, op->v->ino, error);
}

static int step_unlink(void *p, GError **error) {
        VolOp *op = p;
        return remove_file(op, op->v->name, op->v->ino, error);
}

static int step_resize(void *p, GError **error) {
        VolOp *op = p;
        return qemu_img_resize(op->root, op->v->name, op->new_capacity, op->shrink, error);
}

/* Zero what the old file holds, then punch it out, before the replacement takes its name: the
 * old data is no longer on the filesystem (overwritten, then freed). */
static int step_scrub(void *p, GError **error) {
        VolOp *op = p;
        _cleanup_close_ int fd = -1;
        int r = open_volume(op, op->v, O_RDWR, &fd, error);
        if (r == -ENOENT)
                return 0; /* replaced already (a repeat after a crash) */
        if (r < 0)
                return r;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return np_fail(error, errno, "%s/%s: cannot stat: %s", op->share->name, op->v->name, g_strerror(errno));
        g_autofree char *zeros = g_malloc0(SCRUB_CHUNK);
        off_t off = 0;
        for (;;) {
                off_t data = lseek(fd, off, SEEK_DATA);
                if (data < 0) {
                        if (errno == ENXIO)
                                break; /* no data after off */
                        return np_fail(error, errno, "%s/%s: SEEK_DATA: %s", op->share->name, op->v->name,
                                       g_strerror(errno));
                }
                off_t hole = lseek(fd, data, SEEK_HOLE);
                if (hole < 0)
                        return np_fail(error, errno, "%s/%s: SEEK_HOLE: %s", op->share->name, op->v->name,
                                       g_strerror(errno));
                for (off_t at = data; at < hole;) {
                        size_t n = (size_t) MIN((off_t) SCRUB_CHUNK, hole - at);
                        ssize_t w = pwrite(fd, zeros, n, at);
                        if (w < 0) {
                                if (errno == EINTR)
                                        continue;
                                return np_fail(error, errno, "%s/%s: cannot overwrite it: %s", op->share->name,
                                               op->v->name, g_strerror(errno));
                        }
                        at += w;
                }
                off = hole;
        }
        if (fdatasync(fd) < 0)
                return np_fail(error, errno, "%s/%s: fdatasync failed: %s", op->share->name, op->v->name, g_strerror(errno));
        if (st.st_size > 0 && fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, st.st_size) < 0)
                return np_fail(error, errno, "%s/%s: cannot punch it out: %s", op->share->name, op->v->name,
                               g_strerror(errno));
        return 0;
}

/* The wipe's empty replacement takes the volume's name (the scrubbed file goes). */
static int step_replace(void *p, GError **error) {
        VolOp *op = p;
        struct stat st;
        if (fstatat(op->root, op->tmp, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno == ENOENT && fstatat(op->root, op->v->name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                    (uint64_t) st.st_ino == op->v->ino)
                        return 0; /* replaced already */
                return np_fail(error, errno, "%s: %s: %s", op->share->name, op->tmp, g_strerror(errno));
        }
        bool lifted = false;
        int r = root_lift(op, &lifted, error);
        if (r < 0)
                return r;
        if (renameat(op->root, op->tmp, op->root, op->v->name) < 0)
                r = np_fail(error, errno, "%s: cannot rename %s to %s: %s", op->share->name, op->tmp, op->v->name,
                            g_strerror(errno));
        r = root_restore(op, lifted, r, error);
        if (r < 0)
                return r;
        if (fsync(op->root) < 0)
                return np_fail(error, errno, "%s: fsync of the share's root failed: %s", op->share->name, g_strerror(errno));
        return 0;
}

/* Upload's receive: the bytes arrive through engine_volume_upload_write(); this step only checks
 * that the temporary file is there and complete (its size is recorded by then). */
static int step_receive(void *p, GError **error) {
        return 0;
}

/* Adopt's check: the file found at the volume's name (a foreign file the guard reported) passes
 * the checks of an upload; it takes [volumes] owner, group and mode, and its inode is recorded.
 * Nothing is undone: the file stays where it was, as it was found or with its new owner. */
static int step_adopt(void *p, GError **error) {
        VolOp *op = p;
        _cleanup_close_ int fd = openat(op->root, op->v->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return np_fail(error, errno, "%s/%s: cannot open it: %s", op->share->name, op->v->name,
                               g_strerror(errno));
        struct stat st;
        if (fstat(fd, &st) < 0)
                return np_fail(error, errno, "%s/%s: cannot stat: %s", op->share->name, op->v->name, g_strerror(errno));
        if (!S_ISREG(st.st_mode))
                return np_fail(error, EINVAL, "%s/%s is not a regular file; only a qcow2 file can be adopted",
                               op->share->name, op->v->name);
        if (st.st_nlink != 1)
                return np_fail(error, EINVAL, "%s/%s has %ju hard links; remove the others first", op->share->name,
                               op->v->name, (uintmax_t) st.st_nlink);
        /* the checks of an upload: qemu-img check runs on the file by its name */
        g_free(op->tmp);
        op->tmp = g_strdup(op->v->name);
        int r = check_file(op, fd, "adopt", CHECK_UPLOAD, error);
        if (r < 0)
                return r;
        r = set_owner(op, fd, error);
        if (r < 0)
                return r;
        op->v->ino = (uint64_t) st.st_ino;
        return 0;
}

/* vol-create's make: the file made and checked in one step. Both halves have the same undo
 * (the temporary file goes), so a recorded boundary between them would only cost a synchronous
 * commit a create (the other operations keep check apart: their first step is long, or is not
 * nfsprov's own making). */
static int step_make_checked(void *p, GError **error) {
        int r = step_make(p, error);
        return r < 0 ? r : step_check_unsynced(p, error);
}

static const Step create_steps[] = {
        { "make", step_make_checked, undo_tmp, NULL },
        { "place", step_place, undo_place, NULL },
};
static const StepTable create_table = { "vol-create", create_steps, G_N_ELEMENTS(create_steps) };

static const Step clone_steps[] = {
        { "copy", step_copy, undo_tmp, NULL },
        { "check", step_check_unsynced, undo_tmp, NULL },
        { "place", step_place, undo_place, NULL },
};
static const StepTable clone_table = { "vol-clone", clone_steps, G_N_ELEMENTS(clone_steps) };

static const Step upload_steps[] = {
        { "receive", step_receive, undo_tmp, NULL },
        { "check", step_check_unsynced, undo_tmp, NULL },
        { "place", step_place, undo_place, NULL },
};
static const StepTable upload_table = { "vol-upload", upload_steps, G_N_ELEMENTS(upload_steps) };

static const Step delete_steps[] = {
        { "unlink", step_unlink, NULL, NULL },
};
static const StepTable delete_table = { "vol-delete", delete_steps, G_N_ELEMENTS(delete_steps) };

static const Step resize_steps[] = {
        { "resize", step_resize, NULL, NULL },
};
static const StepTable resize_table = { "vol-resize", resize_steps, G_N_ELEMENTS(resize_steps) };

static const Step wipe_steps[] = {
        { "scrub", step_scrub, NULL, NULL },
        { "make", step_make, NULL, NULL },
        { "check", step_check, NULL, NULL },
        { "replace", step_replace, NULL, NULL },
};
static const StepTable wipe_table = { "vol-wipe", wipe_steps, G_N_ELEMENTS(wipe_steps) };

static const Step adopt_steps[] = {
        { "check", step_adopt, NULL, NULL },
};
static const StepTable adopt_table = { "vol-adopt", adopt_steps, G_N_ELEMENTS(adopt_steps) };

static const StepTable *const tables[] = { &create_table, &clone_table, &upload_table,
                                           &delete_table, &resize_table, &wipe_table, &adopt_table };

void engine_volume_steps(GPtrArray *lines) {
        for (size_t t = 0; t < G_N_ELEMENTS(tables); t++)
                g_ptr_array_add(lines, steps_describe(tables[t]));
}

unsigned engine_volume_op_total(const char *op) {
        for (size_t t = 0; t < G_N_ELEMENTS(tables); t++)
                if (g_strcmp0(tables[t]->op, op) == 0)
                        return (unsigned) tables[t]->n;
        return 0;
}

static const StepTable *table_of(const char *op) {
        for (size_t t = 0; t < G_N_ELEMENTS(tables); t++)
                if (g_strcmp0(tables[t]->op, op) == 0)
                        return tables[t];
        return NULL;
}

/* ---- VolumeInfo ---- */

void volume_info_free(VolumeInfo *i) {
        if (!i)
                return;
        volume_free(i->volume);
        g_free(i);
}

/* The row and what the file holds now (root: the share's root, or -1: not looked at). */
static VolumeInfo *volume_info_new(const Volume *v, int root) {
        VolumeInfo *i = g_new0(VolumeInfo, 1);
        i->volume = volume_copy(v);
        struct stat st;
        if (root >= 0 && fstatat(root, v->name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
            (!v->ino || (uint64_t) st.st_ino == v->ino)) {
                i->present = true;
                i->allocation = (uint64_t) st.st_blocks * 512u;
                i->size = (uint64_t) st.st_size;
        }
        return i;
}

/* ---- checks before anything is recorded ---- */

/* The share the volume operations act in: ready and mounted. */
static int load_volume(Engine *e, const char *op, const char *share, const char *name, Volume **ret,
                       GError **error) {
        int r = name_validate_volume(name, error);
        if (r < 0)
                return r;
        g_autoptr(GError) err = NULL;
        r = state_volume_get(e->state, share, name, ret, &err);
        if (r == -ENOENT)
                return np_fail(error, ENOENT, "%s %s/%s: no such volume", op, share, name);
        if (r < 0)
                g_propagate_error(error, g_steal_pointer(&err));
        return r;
}

/* The share (ready, mounted) and its volume `name`, which must be ready: what every operation on
 * an existing volume starts from. */
static int load_ready(Engine *e, const char *op, const char *share, const char *name, Share **ret_share,
                      Volume **ret_volume, GError **error) {
        g_autoptr(Share) s = NULL;
        int r = engine_get_ready_share(e, op, share, &s, error);
        if (r < 0)
                return r;
        g_autoptr(Volume) v = NULL;
        r = load_volume(e, op, share, name, &v, error);
        if (r < 0)
                return r;
        if (v->status != VOLUME_READY)
                return np_fail(error, EBUSY, "%s %s/%s: the volume is %s", op, share, name,
                               volume_status_to_string(v->status));
        *ret_share = TAKE_PTR(s);
        *ret_volume = TAKE_PTR(v);
        return 0;
}

static int check_capacity(Engine *e, const char *op, const char *name, uint64_t capacity, GError **error) {
        g_autofree char *max = size_format(e->config->max_capacity);
        if (capacity == 0)
                return np_fail(error, EINVAL, "%s %s: a capacity is required (e.g. --capacity 20G), at most %s", op, name,
                               max);
        if (capacity % SECTOR)
                return np_fail(error, EINVAL, "%s %s: capacity %" PRIu64 " is not a multiple of %u bytes", op, name,
                               capacity, SECTOR);
        if (capacity > e->config->max_capacity) {
                g_autofree char *want = size_format(capacity);
                return np_fail(error, EINVAL, "%s %s: capacity %s is above [volumes] max_capacity %s", op, name, want,
                               max);
        }
        return 0;
}

/* The over-commit a share would reach with `adding` more bytes of virtual size: refused past
 * [volumes] max_overcommit (-EDQUOT, with the numbers). */
static int check_overcommit(Engine *e, const Share *s, uint64_t adding, const char *op, GError **error) {
        double max = e->config->max_overcommit;
        if (max <= 0)
                return 0;
        ShareUsage u;
        int r = e->sys.fs->usage(e->config, s->name, &u, error);
        if (r < 0)
                return r;
        g_autoptr(GPtrArray) all = NULL;
        r = state_volume_list(e->state, s->name, &all, error);
        if (r < 0)
                return r;
        uint64_t provisioned = 0;
        for (guint i = 0; i < all->len; i++)
                provisioned += ((Volume *) g_ptr_array_index(all, i))->capacity;
        double after = u.capacity ? (double) (provisioned + adding) / (double) u.capacity : 0;
        if (after <= max)
                return 0;
        g_autofree char *prov = size_format(provisioned), *add = size_format(adding), *cap = size_format(u.capacity);
        return np_fail(error, EDQUOT,
                       "%s: share %s would be over-committed %.2fx (provisioned %s + %s on a filesystem of %s); "
                       "[volumes] max_overcommit is %.2fx",
                       op, s->name, after, prov, add, cap, max);
}

static bool volume_exists(Engine *e, const char *share, const char *name, GError **error, int *ret_r) {
        g_autoptr(Volume) v = NULL;
        g_autoptr(GError) err = NULL;
        int r = state_volume_get(e->state, share, name, &v, &err);
        *ret_r = r == -ENOENT ? 0 : r;
        if (r < 0 && r != -ENOENT)
                g_propagate_error(error, g_steal_pointer(&err));
        return r >= 0;
}

/* ---- running a table on a new volume, with its undo ---- */

static int undo_new(VolOp *op, const StepTable *t, size_t stopped_at, GError **error) {
        StepRunner run = runner_for(op, 0);
        int r = steps_undo(&run, t, stopped_at, error);
        if (r < 0)
                return r;
        return state_volume_delete(op->e->state, op->v->share, op->v->name, error);
}

/* Run t on a volume recorded as creating, from step `from`; on a failure undo what began.
 * begun: step `from`'s begin was recorded with the row (insert_new). */
static int run_new(VolOp *op, const StepTable *t, size_t from, bool begun, GError **error) {
        Volume *v = op->v;
        StepRunner run = runner_for(op, (unsigned) t->n);
        run.begun = begun;
        run.done = (unsigned) from;
        if (from > 0)
                run.last_done = t->steps[from - 1].name;
        g_autoptr(GError) err = NULL;
        size_t failed = 0;
        int r = steps_run(&run, t, from, t->n, &failed, &err);
        if (r < 0) {
                g_autoptr(GError) undo_err = NULL;
                if (undo_new(op, t, failed, &undo_err) < 0) {
                        v->error = g_strdup_printf("step %s failed: %s; undo failed: %s", t->steps[failed].name,
                                                   err->message, undo_err->message);
                        (void) state_volume_update(op->e->state, v, NULL);
                        return np_fail(error, -r, "%s %s/%s: %s (reconcile retries the undo)", t->op, v->share,
                                       v->name, v->error);
                }
                /* a step's EINVAL is nfsprov's own failure (a file it made), but for an upload's
                 * check, which refuses what the client sent */
                int code = -r == EINVAL && t != &upload_table && t != &adopt_table ? EIO : -r;
                return np_fail(error, code, "%s %s/%s: step %s failed: %s; undone", t->op, v->share, v->name,
                               t->steps[failed].name, err->message);
        }
        v->status = VOLUME_READY;
        g_clear_pointer(&v->operation, g_free);
        g_clear_pointer(&v->error, g_free);
        return steps_finish(&run, t->op, error);
}

/* Record a new volume (status creating) for t's operation, with the begin of its step `first`
 * (in the same commit). */
static int insert_new(Engine *e, const StepTable *t, size_t first, const Share *s, const char *name, uint64_t capacity,
                      const char *backing, Volume **ret, GError **error) {
        g_autoptr(Volume) v = g_new0(Volume, 1);
        v->share = g_strdup(s->name);
        v->name = g_strdup(name);
        v->capacity = capacity;
        v->format = g_strdup("qcow2");
        v->backing = g_strdup(backing);
        v->status = VOLUME_CREATING;
        v->operation = g_strdup(t->op);
        v->step = g_strdup(t->steps[first].name);
        int r = state_volume_insert(e->state, v, error);
        if (r < 0)
                return r;
        return state_volume_get(e->state, s->name, name, ret, error); /* with its creation time */
}

/* ---- operations ---- */

int engine_volume_create(Engine *e, const VolumeSpec *spec, VolumeInfo **ret, GError **error) {
        static const char op_name[] = "vol-create";
        g_autoptr(Share) s = NULL;
        int r = engine_get_ready_share(e, op_name, spec->share, &s, error);
        if (r < 0)
                return r;
        r = name_validate_volume(spec->name, error);
        if (r < 0)
                return r;
        uint64_t capacity = spec->capacity;
        if (spec->backing) {
                g_autoptr(Volume) b = NULL;
                g_autoptr(GError) err = NULL;
                r = load_volume(e, op_name, spec->share, spec->backing, &b, &err);
                if (r == -ENOENT)
                        return np_fail(error, EINVAL, "%s %s: backing volume %s is not a volume of share %s", op_name,
                                       spec->name, spec->backing, spec->share);
                if (r < 0) {
                        g_propagate_error(error, TAKE_PTR(err));
                        return r;
                }
                if (b->status != VOLUME_READY)
                        return np_fail(error, EBUSY, "%s %s: backing volume %s is %s", op_name, spec->name, b->name,
                                       volume_status_to_string(b->status));
                if (!capacity)
                        capacity = b->capacity;
        }
        r = check_capacity(e, op_name, spec->name, capacity, error);
        if (r < 0)
                return r;
        int q;
        if (volume_exists(e, spec->share, spec->name, error, &q))
                return np_fail(error, EEXIST, "%s %s/%s: a volume of that name exists", op_name, spec->share, spec->name);
        if (q < 0)
                return q;
        r = check_overcommit(e, s, capacity, op_name, error);
        if (r < 0)
                return r;

        g_autoptr(Volume) v = NULL;
        r = insert_new(e, &create_table, 0, s, spec->name, capacity, spec->backing, &v, error);
        if (r < 0)
                return r;
        _cleanup_(vol_op_done) VolOp op = { .root = -1 };
        g_autoptr(GError) err = NULL;
        if (vol_op_init(&op, e, s, v, &err) < 0) {
                (void) state_volume_delete(e->state, v->share, v->name, NULL);
                return np_fail_prefix(error, g_steal_pointer(&err), "%s %s/%s", op_name, spec->share, spec->name);
        }
        r = run_new(&op, &create_table, 0, true, error);
        if (r < 0)
                return r;
        if (ret)
                *ret = volume_info_new(v, op.root);
        return 0;
}

int engine_volume_adopt(Engine *e, const char *share, const char *name, VolumeInfo **ret, GError **error) {
        static const char op_name[] = "adopt";
        g_autoptr(Share) s = NULL;
        int r = engine_get_ready_share(e, op_name, share, &s, error);
        if (r < 0)
                return r;
        if (strchr(name, '/'))
                return np_fail(error, EINVAL, "%s %s/%s: only a file at the share's root can become a volume", op_name,
                               share, name);
        r = name_validate_volume(name, error);
        if (r < 0)
                return r;
        int q;
        if (volume_exists(e, share, name, error, &q))
                return np_fail(error, EEXIST, "%s %s/%s: it is a volume already", op_name, share, name);
        if (q < 0)
                return q;
        g_autoptr(Volume) v = NULL;
        r = insert_new(e, &adopt_table, 0, s, name, 0, NULL, &v, error);
        if (r < 0)
                return r;
        _cleanup_(vol_op_done) VolOp op = { .root = -1 };
        g_autoptr(GError) err = NULL;
        if (vol_op_init(&op, e, s, v, &err) < 0) {
                (void) state_volume_delete(e->state, v->share, v->name, NULL);
                return np_fail_prefix(error, g_steal_pointer(&err), "%s %s/%s", op_name, share, name);
        }
        r = run_new(&op, &adopt_table, 0, true, error);
        if (r < 0)
                return r;
        if (ret)
                *ret = volume_info_new(v, op.root);
        return 0;
}

int engine_volume_clone(Engine *e, const char *share, const char *source, const char *name, bool linked,
                        VolumeInfo **ret, GError **error) {
        static const char op_name[] = "vol-clone";
        g_autoptr(Share) s = NULL;
        g_autoptr(Volume) src = NULL;
        int r = load_ready(e, op_name, share, source, &s, &src, error);
        if (r < 0)
                return r;
        r = name_validate_volume(name, error);
        if (r < 0)
                return r;
        int q;
        if (volume_exists(e, share, name, error, &q))
                return np_fail(error, EEXIST, "%s %s/%s: a volume of that name exists", op_name, share, name);
        if (q < 0)
                return q;
        r = check_capacity(e, op_name, name, src->capacity, error);
        if (r < 0)
                return r;
        r = check_overcommit(e, s, src->capacity, op_name, error);
        if (r < 0)
                return r;

        g_autoptr(Volume) v = NULL;
        r = insert_new(e, &clone_table, 0, s, name, src->capacity, linked ? source : NULL, &v, error);
        if (r < 0)
                return r;
        _cleanup_(vol_op_done) VolOp op = { .root = -1 };
        g_autoptr(GError) err = NULL;
        if (vol_op_init(&op, e, s, v, &err) < 0) {
                (void) state_volume_delete(e->state, v->share, v->name, NULL);
                return np_fail_prefix(error, g_steal_pointer(&err), "%s %s/%s", op_name, share, name);
        }
        op.source = g_strdup(source);
        op.linked = linked;
        /* the source is the file recorded: checked before qemu-img reads it */
        _cleanup_close_ int sfd = -1;
        r = open_volume(&op, src, O_RDONLY, &sfd, &err);
        if (r < 0) {
                (void) state_volume_delete(e->state, v->share, v->name, NULL);
                return np_fail_prefix(error, g_steal_pointer(&err), "%s %s/%s", op_name, share, name);
        }
        r = run_new(&op, &clone_table, 0, true, error);
        if (r < 0)
                return r;
        if (ret)
                *ret = volume_info_new(v, op.root);
        return 0;
}

/* The volumes of the share whose backing is `name`. */
static int users_of(Engine *e, const char *share, const char *name, char **ret_names, GError **error) {
        g_autoptr(GPtrArray) all = NULL;
        int r = state_volume_list(e->state, share, &all, error);
        if (r < 0)
                return r;
        g_autoptr(GPtrArray) users = g_ptr_array_new();
        for (guint i = 0; i < all->len; i++) {
                Volume *v = g_ptr_array_index(all, i);
                if (g_strcmp0(v->backing, name) == 0)
                        g_ptr_array_add(users, v->name);
        }
        g_ptr_array_add(users, NULL);
        *ret_names = users->len > 1 ? g_strjoinv(", ", (char **) users->pdata) : NULL;
        return 0;
}

static int finish_delete(VolOp *op, GError **error) {
        Volume *v = op->v;
        StepRunner run = runner_for(op, (unsigned) delete_table.n);
        g_autoptr(GError) err = NULL;
        size_t failed = 0;
        int r = steps_run(&run, &delete_table, 0, delete_table.n, &failed, &err);
        if (r < 0) {
                v->error = g_strdup(err->message);
                (void) state_volume_update(op->e->state, v, NULL);
                return np_fail(error, -r, "vol-delete %s/%s: %s (reconcile finishes the delete)", v->share, v->name,
                               err->message);
        }
        return state_volume_delete(op->e->state, v->share, v->name, error);
}

int engine_volume_delete(Engine *e, const char *share, const char *name, GError **error) {
        static const char op_name[] = "vol-delete";
        g_autoptr(Share) s = NULL;
        int r = engine_get_ready_share(e, op_name, share, &s, error);
        if (r < 0)
                return r;
        g_autoptr(Volume) v = NULL;
        r = load_volume(e, op_name, share, name, &v, error);
        if (r < 0)
                return r;
        if (v->status == VOLUME_CREATING)
                return np_fail(error, EBUSY, "%s %s/%s: the volume is being made; run `nfsprov reconcile` first", op_name,
                               share, name);
        g_autofree char *users = NULL;
        r = users_of(e, share, name, &users, error);
        if (r < 0)
                return r;
        if (users)
                return np_fail(error, EBUSY, "%s %s/%s: the backing file of %s; delete those first", op_name, share, name,
                               users);
        _cleanup_(vol_op_done) VolOp op = { .root = -1 };
        r = vol_op_init(&op, e, s, v, error);
        if (r < 0)
                return r;
        v->status = VOLUME_DELETING; /* recorded with the first step */
        return finish_delete(&op, error);
}

int engine_volume_resize(Engine *e, const char *share, const char *name, uint64_t capacity, bool shrink,
                         VolumeInfo **ret, GError **error) {
        static const char op_name[] = "vol-resize";
        g_autoptr(Share) s = NULL;
        g_autoptr(Volume) v = NULL;
        int r = load_ready(e, op_name, share, name, &s, &v, error);
        if (r < 0)
                return r;
        r = check_capacity(e, op_name, name, capacity, error);
        if (r < 0)
                return r;
        g_autofree char *from = size_format(v->capacity), *to = size_format(capacity);
        if (capacity == v->capacity)
                return np_fail(error, EINVAL, "%s %s/%s: the volume has %s already", op_name, share, name, from);
        if (capacity < v->capacity && !shrink)
                return np_fail(error, EINVAL,
                               "%s %s/%s: %s is smaller than the current %s; shrinking loses the data past the new "
                               "end: give --shrink to do it",
                               op_name, share, name, to, from);
        if (capacity > v->capacity) {
                r = check_overcommit(e, s, capacity - v->capacity, op_name, error);
                if (r < 0)
                        return r;
        }
        _cleanup_(vol_op_done) VolOp op = { .root = -1 };
        r = vol_op_init(&op, e, s, v, error);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = -1;
        r = open_volume(&op, v, O_RDONLY, &fd, error);
        if (r < 0)
                return r;
        op.new_capacity = capacity;
        op.shrink = shrink;
        StepRunner run = runner_for(&op, (unsigned) resize_table.n);
        g_autoptr(GError) err = NULL;
        r = steps_run(&run, &resize_table, 0, resize_table.n, NULL, &err);
        if (r < 0) {
                g_clear_pointer(&v->operation, g_free);
                (void) state_volume_update(e->state, v, NULL);
                return np_fail(error, -r, "%s %s/%s: %s", op_name, share, name, err->message);
        }
        v->capacity = capacity;
        g_clear_pointer(&v->operation, g_free);
        r = steps_finish(&run, op_name, error);
        if (r < 0)
                return r;
        if (ret)
                *ret = volume_info_new(v, op.root);
        return 0;
}

/* Roll a wipe forward from step `from` (every step is idempotent). */
static int finish_wipe(VolOp *op, size_t from, GError **error) {
        Volume *v = op->v;
        StepRunner run = runner_for(op, (unsigned) wipe_table.n);
        run.done = (unsigned) from;
        g_autoptr(GError) err = NULL;
        size_t failed = 0;
        int r = steps_run(&run, &wipe_table, from, wipe_table.n, &failed, &err);
        if (r < 0) {
                v->error = g_strdup(err->message);
                (void) state_volume_update(op->e->state, v, NULL);
                return np_fail(error, -r, "vol-wipe %s/%s: step %s failed: %s (reconcile finishes the wipe)", v->share,
                               v->name, wipe_table.steps[failed].name, err->message);
        }
        g_clear_pointer(&v->operation, g_free);
        g_clear_pointer(&v->error, g_free);
        return steps_finish(&run, "vol-wipe", error);
}

int engine_volume_wipe(Engine *e, const char *share, const char *name, VolumeInfo **ret, GError **error) {
        static const char op_name[] = "vol-wipe";
        g_autoptr(Share) s = NULL;
        g_autoptr(Volume) v = NULL;
        int r = load_ready(e, op_name, share, name, &s, &v, error);
        if (r < 0)
                return r;
        g_autofree char *users = NULL;
        r = users_of(e, share, name, &users, error);
        if (r < 0)
                return r;
        if (users)
                return np_fail(error, EBUSY, "%s %s/%s: the backing file of %s; their data would change", op_name, share,
                               name, users);
        _cleanup_(vol_op_done) VolOp op = { .root = -1 };
        r = vol_op_init(&op, e, s, v, error);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = -1;
        r = open_volume(&op, v, O_RDONLY, &fd, error);
        if (r < 0)
                return r;
        /* the replacement is a plain empty volume of the same capacity: no backing */
        g_clear_pointer(&v->backing, g_free);
        r = finish_wipe(&op, 0, error);
        if (r < 0)
                return r;
        if (ret)
                *ret = volume_info_new(v, op.root);
        return 0;
}

int engine_volume_get(Engine *e, const char *share, const char *name, VolumeInfo **ret, GError **error) {
        g_autoptr(Share) s = NULL;
        int r = name_validate_share(share, error);
        if (r < 0)
                return r;
        r = engine_get_share(e, NULL, share, &s, error);
        if (r < 0)
                return r;
        g_autoptr(Volume) v = NULL;
        r = load_volume(e, "vol-info", share, name, &v, error);
        if (r < 0)
                return r;
        _cleanup_close_ int root = -1;
        (void) e->sys.fs->open_root(e->config, share, &root, NULL);
        *ret = volume_info_new(v, root);
        return 0;
}

int engine_volume_list(Engine *e, const char *share, GPtrArray **ret, GError **error) {
        g_autoptr(Share) s = NULL;
        int r = name_validate_share(share, error);
        if (r < 0)
                return r;
        r = engine_get_share(e, NULL, share, &s, error);
        if (r < 0)
                return r;
        g_autoptr(GPtrArray) all = NULL;
        r = state_volume_list(e->state, share, &all, error);
        if (r < 0)
                return r;
        _cleanup_close_ int root = -1;
        (void) e->sys.fs->open_root(e->config, share, &root, NULL);
        GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify) volume_info_free);
        for (guint i = 0; i < all->len; i++)
                g_ptr_array_add(out, volume_info_new(g_ptr_array_index(all, i), root));
        *ret = out;
        return 0;
}

/* ---- upload and download ---- */

struct VolumeUpload {
        Engine *e;
        Share *share;
        Volume *v;
        VolOp op;
        int fd;              /* the temporary file */
        uint64_t length;     /* announced */
        uint64_t received;
};

void volume_upload_free(VolumeUpload *u) {
        if (!u)
                return;
        if (u->fd >= 0)
                close(u->fd);
        vol_op_done(&u->op);
        share_free(u->share);
        volume_free(u->v);
        g_free(u);
}

/* What a qcow2 of the largest capacity may take on disk: the data plus its tables. */
static uint64_t upload_limit(const Config *c) {
        return c->max_capacity + c->max_capacity / 16 + (64ULL << 20);
}

int engine_volume_upload_begin(Engine *e, const char *share, const char *name, uint64_t length, VolumeUpload **ret,
                               GError **error) {
        static const char op_name[] = "vol-upload";
        g_autoptr(Share) s = NULL;
        int r = engine_get_ready_share(e, op_name, share, &s, error);
        if (r < 0)
                return r;
        r = name_validate_volume(name, error);
        if (r < 0)
                return r;
        if (length == 0)
                return np_fail(error, EINVAL, "%s %s/%s: the upload is empty; allowed: a qcow2 file with its length announced",
                               op_name, share, name);
        if (length > upload_limit(e->config)) {
                g_autofree char *max = size_format(e->config->max_capacity);
                return np_fail(error, EINVAL, "%s %s/%s: %" PRIu64 " bytes is more than a volume of [volumes] max_capacity %s takes",
                               op_name, share, name, length, max);
        }
        int q;
        if (volume_exists(e, share, name, error, &q))
                return np_fail(error, EEXIST, "%s %s/%s: a volume of that name exists", op_name, share, name);
        if (q < 0)
                return q;

        g_autoptr(VolumeUpload) u = g_new0(VolumeUpload, 1);
        u->fd = -1;
        u->op.root = -1;
        u->e = e;
        u->length = length;
        /* capacity 0: taken from the header by the check */
        /* "receive" begins with the row (the runner's record, by hand: the step runs while the
         * body arrives): from here a crash leaves a row that reconcile undoes, with its
         * temporary file */
        r = insert_new(e, &upload_table, 0, s, name, 0, NULL, &u->v, error);
        if (r < 0)
                return r;
        u->share = TAKE_PTR(s);
        g_autoptr(GError) err = NULL;
        r = vol_op_init(&u->op, e, u->share, u->v, &err);
        if (r >= 0) {
                steps_fault_point(op_name, "receive", false);
                r = make_tmp(&u->op, &u->fd, &err);
        }
        if (r < 0) {
                (void) undo_new(&u->op, &upload_table, 0, NULL);
                return np_fail_prefix(error, g_steal_pointer(&err), "%s %s/%s", op_name, share, name);
        }
        *ret = TAKE_PTR(u);
        return 0;
}

/* Volumes stay thin whatever arrives: zeros are not written (looked at block by block, 4 KiB
 * aligned in the file, however the body is cut), so they stay holes of the fresh temporary file
 * (a preallocated image arrives thick and lands thin); the size is set at the end. */
#define UPLOAD_BLOCK 4096

static bool all_zero(const char *p, size_t n) {
        return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

static int upload_pwrite(VolumeUpload *u, const char *p, size_t len, uint64_t at, GError **error) {
        while (len > 0) {
                ssize_t w = pwrite(u->fd, p, len, (off_t) at);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        return np_fail(error, errno, "vol-upload %s/%s: cannot write: %s", u->v->share, u->v->name,
                                       g_strerror(errno));
                }
                p += w;
                len -= (size_t) w;
                at += (uint64_t) w;
        }
        return 0;
}

int engine_volume_upload_write(VolumeUpload *u, const void *data, size_t len, GError **error) {
        if (u->received + len > u->length)
                return np_fail(error, EINVAL, "vol-upload %s/%s: the body is larger than the %" PRIu64 " bytes announced",
                               u->v->share, u->v->name, u->length);
        const char *p = data;
        const char *run = p;           /* the start of the bytes still to write */
        uint64_t run_at = u->received; /* their offset */
        while (len > 0) {
                size_t piece = MIN(len, UPLOAD_BLOCK - (size_t) (u->received % UPLOAD_BLOCK));
                if (all_zero(p, piece)) { /* never written: the fresh file reads zeros there */
                        int r = upload_pwrite(u, run, (size_t) (p - run), run_at, error);
                        if (r < 0)
                                return r;
                        run = p + piece;
                        run_at = u->received + piece;
                }
                p += piece;
                len -= piece;
                u->received += piece;
        }
        return upload_pwrite(u, run, (size_t) (p - run), run_at, error);
}

int engine_volume_upload_finish(Engine *e, VolumeUpload *u, bool complete, VolumeInfo **ret, GError **error) {
        static const char op_name[] = "vol-upload";
        VolOp *op = &u->op;
        Volume *v = u->v;
        g_autoptr(GError) err = NULL;
        int r = 0;
        if (!complete || u->received != u->length)
                r = np_fail(&err, EINVAL, "the body was cut short: %" PRIu64 " of %" PRIu64 " bytes arrived",
                            u->received, u->length);
        if (r >= 0 && ftruncate(u->fd, (off_t) u->length) < 0) /* trailing holes */
                r = np_fail(&err, errno, "cannot set the size of %s: %s", op->tmp, g_strerror(errno));
        if (r >= 0 && fsync(u->fd) < 0)
                r = np_fail(&err, errno, "fsync of %s failed: %s", op->tmp, g_strerror(errno));
        close(u->fd);
        u->fd = -1;
        if (r < 0) {
                g_autoptr(GError) undo_err = NULL;
                if (undo_new(op, &upload_table, 0, &undo_err) < 0)
                        log_warning("%s %s/%s: undo failed: %s", op_name, v->share, v->name, undo_err->message);
                return np_fail(error, -r, "%s %s/%s: %s; nothing kept", op_name, v->share, v->name, err->message);
        }
        steps_fault_point(op_name, "receive", true);
        r = run_new(op, &upload_table, 1, false, error);
        if (r < 0)
                return r;
        if (ret)
                *ret = volume_info_new(v, op->root);
        return 0;
}

int engine_volume_open(Engine *e, const char *share, const char *name, int *ret_fd, uint64_t *ret_size,
                       GError **error) {
        g_autoptr(Share) s = NULL;
        g_autoptr(Volume) v = NULL;
        int r = load_ready(e, "vol-download", share, name, &s, &v, error);
        if (r < 0)
                return r;
        _cleanup_(vol_op_done) VolOp op = { .root = -1 };
        r = vol_op_init(&op, e, s, v, error);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = -1;
        r = open_volume(&op, v, O_RDONLY, &fd, error);
        if (r < 0)
                return r;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return np_fail(error, errno, "%s/%s: cannot stat: %s", share, name, g_strerror(errno));
        *ret_size = (uint64_t) st.st_size;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* ---- the share's volumes, for the engine's share operations ---- */

int engine_volumes_of(Engine *e, const char *share, uint64_t *ret_provisioned, GPtrArray **ret_names,
                      GError **error) {
        g_autoptr(GPtrArray) all = NULL;
        int r = state_volume_list(e->state, share, &all, error);
        if (r < 0)
                return r;
        uint64_t provisioned = 0;
        GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
        for (guint i = 0; i < all->len; i++) {
                Volume *v = g_ptr_array_index(all, i);
                provisioned += v->capacity;
                g_ptr_array_add(names, g_strdup(v->name));
        }
        if (ret_provisioned)
                *ret_provisioned = provisioned;
        if (ret_names)
                *ret_names = names;
        else
                g_ptr_array_unref(names);
        return 0;
}

/* ---- reconcile ---- */

void engine_volumes_reconcile(Engine *e, const Share *share, GPtrArray *changes, GPtrArray *problems) {
        g_autoptr(GPtrArray) all = NULL;
        g_autoptr(GError) err = NULL;
        if (state_volume_list(e->state, share->name, &all, &err) < 0) {
                g_ptr_array_add(problems, g_strdup_printf("%s: cannot list its volumes: %s", share->name, err->message));
                return;
        }
        g_autoptr(Share) s = share_copy(share);
        for (guint i = 0; i < all->len; i++) {
                Volume *v = g_ptr_array_index(all, i);
                g_autoptr(GError) e2 = NULL;
                _cleanup_(vol_op_done) VolOp op = { .root = -1 };
                if (vol_op_init(&op, e, s, v, &e2) < 0) {
                        g_ptr_array_add(problems, g_strdup_printf("%s/%s: %s", s->name, v->name, e2->message));
                        continue;
                }
                if (!v->operation && v->status == VOLUME_READY) {
                        /* the file is there, the one nfsprov made (its inode) */
                        struct stat st;
                        if (fstatat(op.root, v->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                                g_ptr_array_add(problems, g_strdup_printf("%s/%s: the volume's file is %s", s->name,
                                                                          v->name,
                                                                          errno == ENOENT ? "missing" : g_strerror(errno)));
                        else if (!S_ISREG(st.st_mode) || (v->ino && (uint64_t) st.st_ino != v->ino))
                                g_ptr_array_add(problems,
                                                g_strdup_printf("%s/%s: the file at the volume's name is not the one "
                                                                "nfsprov made (inode %" PRIu64 ", recorded %" PRIu64 ")",
                                                                s->name, v->name, (uint64_t) st.st_ino, v->ino));
                        continue;
                }
                const StepTable *t = table_of(v->operation);
                int at = t ? steps_find(t, v->step) : -1;
                const char *step = v->step ? v->step : "-";
                if (v->status == VOLUME_CREATING) {
                        if (undo_new(&op, t ? t : &create_table, at < 0 ? (t ? t->n : create_table.n) - 1 : (size_t) at,
                                     &e2) < 0)
                                g_ptr_array_add(problems, g_strdup_printf("%s/%s: cannot undo the unfinished %s: %s", s->name,
                                                                          v->name, v->operation ? v->operation : "create",
                                                                          e2->message));
                        else
                                g_ptr_array_add(changes, g_strdup_printf("%s/%s: undid a %s that stopped at step %s", s->name,
                                                                         v->name, v->operation ? v->operation : "create",
                                                                         step));
                } else if (v->status == VOLUME_DELETING) {
                        if (finish_delete(&op, &e2) < 0)
                                g_ptr_array_add(problems, g_strdup_printf("%s/%s: cannot finish the delete: %s", s->name,
                                                                          v->name, e2->message));
                        else
                                g_ptr_array_add(changes, g_strdup_printf("%s/%s: finished a delete that stopped at step %s",
                                                                         s->name, v->name, step));
                } else if (t == &wipe_table) {
                        if (finish_wipe(&op, at < 0 ? 0 : (size_t) at, &e2) < 0)
                                g_ptr_array_add(problems, g_strdup_printf("%s/%s: cannot finish the wipe: %s", s->name, v->name,
                                                                          e2->message));
                        else
                                g_ptr_array_add(changes, g_strdup_printf("%s/%s: finished a wipe that stopped at step %s",
                                                                         s->name, v->name, step));
                } else {
                        /* a resize that stopped: the header says what the volume's capacity is */
                        _cleanup_close_ int fd = -1;
                        uint64_t before = v->capacity;
                        if (open_volume(&op, v, O_RDONLY, &fd, &e2) < 0 ||
                            check_file(&op, fd, "volume", CHECK_CAPACITY, &e2) < 0) {
                                v->capacity = before;
                                g_ptr_array_add(problems, g_strdup_printf("%s/%s: %s", s->name, v->name, e2->message));
                                continue;
                        }
                        g_clear_pointer(&v->operation, g_free);
                        if (state_volume_update(e->state, v, &e2) < 0)
                                g_ptr_array_add(problems, g_strdup_printf("%s/%s: %s", s->name, v->name, e2->message));
                        else
                                g_ptr_array_add(changes, g_strdup_printf("%s/%s: a resize that stopped at step %s left %" PRIu64
                                                                         " bytes; recorded",
                                                                         s->name, v->name, step, v->capacity));
                }
        }
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The guard's quarantine (issue 12, "Resolution"): a foreign regular file or symbolic link of a
 * share is moved out of the export into STATE_DIR/quarantine/SHARE/NAME, and put back on demand.
 *
 * STATE_DIR is on another filesystem than the share, so a move is a copy then a removal, each a
 * step of the one step runner (server/steps.h), recorded in the item's row (state table
 * quarantine) before and after it runs, with fault points:
 *   quarantine: copy (to STATE_DIR/quarantine/SHARE/NAME: root, 0600; fsynced; a symbolic link
 *               copied as a link, never followed) -> remove (the original, only when it is still
 *               the inode, size and mtime recorded before the copy; otherwise refused, the copy
 *               kept as the item, and said) -> status ready.
 *   restore:    copy (into a temporary .nfsprov-restore-ID.part beside PATH, the original's
 *               owner, mode and mtime, fsynced) -> place (renamed to PATH, never over an entry;
 *               a symbolic link is made there) -> remove (the quarantined copy) -> row gone.
 * At the share's root the immutable attribute (guard enforce) is lifted only for the instant of
 * one link, rename or unlink, never while a copy runs. Reconcile (engine_quarantine_reconcile)
 * undoes a copy that stopped (the original is still there) and finishes a removal or a placing
 * that began (the copy is complete and fsynced): never both copies lost, never a half copy
 * listed as an item. Directories are refused (one line): quarantine their files, or remove them.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine_internal.h"
#include "error.h"
#include "log.h"
#include "macro.h"
#include "name.h"
#include "safepath.h"
#include "show.h"
#include "steps.h"

#define COPY_CHUNK (1U << 20)
#define PROGRESS_EVERY (8ULL << 20)

typedef struct QOp {
        Engine *e;
        QuarantineItem *q;
        int root;          /* the share's mounted root */
        int qdir;          /* STATE_DIR/quarantine/SHARE */
        char *tmp;         /* restore: the temporary name beside PATH */
        char *shown;       /* SHARE/PATH for messages (common/show.h) */
        const char *op;    /* "quarantine" | "restore": for progress */
        unsigned index, total;
        bool progress;     /* report bytes copied (an operation of the queue, not reconcile) */
} QOp;

static void qop_done(QOp *op) {
        if (op->root >= 0)
                close(op->root);
        if (op->qdir >= 0)
                close(op->qdir);
        g_free(op->tmp);
        g_free(op->shown);
}

static const char *base_of(const char *path) {
        const char *slash = strrchr(path, '/');
        return slash ? slash + 1 : path;
}

static bool at_root(const QuarantineItem *q) {
        return !strchr(q->path, '/');
}

char *engine_quarantine_file(Engine *e, const QuarantineItem *q) {
        return g_build_filename(e->config->state_dir, "quarantine", q->share, q->name, NULL);
}

/* A directory of the quarantine made (0700) or opened, as O_RDONLY (fsync, fchmod). */
static int open_dir0700(int parent, const char *shown, const char *name, int *ret_fd, GError **error) {
        if (mkdirat(parent, name, 0700) < 0 && errno != EEXIST)
                return np_fail(error, errno, "cannot make %s/%s: %s", shown, name, g_strerror(errno));
        _cleanup_close_ int fd = -1;
        int r = safepath_openat(parent, shown, name, O_RDONLY | O_DIRECTORY, 0, &fd, error);
        if (r < 0)
                return r;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return np_fail(error, errno, "%s/%s: %s", shown, name, g_strerror(errno));
        if ((st.st_uid != 0 || st.st_gid != 0) && fchown(fd, 0, 0) < 0)
                return np_fail(error, errno, "%s/%s: cannot make it root's: %s", shown, name, g_strerror(errno));
        if ((st.st_mode & 07777) != 0700 && fchmod(fd, 0700) < 0)
                return np_fail(error, errno, "%s/%s: cannot set mode 0700: %s", shown, name, g_strerror(errno));
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* STATE_DIR/quarantine/SHARE, made when missing: no symbolic link followed on the way. */
static int open_qdir(Engine *e, const char *share, int *ret_fd, GError **error) {
        _cleanup_close_ int state = -1, top = -1;
        int r = safepath_mkdir_p(e->config->state_dir, 0700, &state, error);
        if (r < 0)
                return r;
        r = open_dir0700(state, e->config->state_dir, "quarantine", &top, error);
        if (r < 0)
                return r;
        g_autofree char *shown = g_build_filename(e->config->state_dir, "quarantine", NULL);
        return open_dir0700(top, shown, share, ret_fd, error);
}

/* The directory holding PATH's last component, reached from root without following a symbolic
 * link; -ENOENT when a directory on the way is gone. */
static int open_parent(int root, const char *share, const char *path, int *ret_fd, GError **error) {
        g_auto(GStrv) parts = g_strsplit(path, "/", -1);
        guint n = g_strv_length(parts);
        _cleanup_close_ int dir = fcntl(root, F_DUPFD_CLOEXEC, 3);
        if (dir < 0)
                return np_fail(error, errno, "%s: %s", share, g_strerror(errno));
        for (guint i = 0; i + 1 < n; i++) {
                int next = openat(dir, parts[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (next < 0) {
                        int err = errno == ELOOP || errno == ENOTDIR ? ENOENT : errno;
                        g_autofree char *shown = show_text(path);
                        return np_fail(error, err, "%s/%s: its directory %s %s", share, shown, parts[i],
                                       err == ENOENT ? "no longer exists (or is no directory)" : g_strerror(err));
                }
                close(dir);
                dir = next;
        }
        *ret_fd = TAKE_FD(dir);
        return 0;
}

/* open_parent for an operation that is done when the directory is gone: 1 with *ret_fd, 0 when
 * gone (*ret_fd untouched), or an error. */
static int open_parent_if_any(QOp *op, int *ret_fd, GError **error) {
        g_autoptr(GError) err = NULL;
        int r = open_parent(op->root, op->q->share, op->q->path, ret_fd, &err);
        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                g_propagate_error(error, TAKE_PTR(err));
                return r;
        }
        return 1;
}

static const char *kind_of(mode_t m) {
        return S_ISREG(m) ? "file" : S_ISLNK(m) ? "symlink" : S_ISDIR(m) ? "directory" : NULL;
}

/* The same entry as recorded before the copy: inode, kind, size and mtime. */
static bool same_entry(const QuarantineItem *q, const struct stat *st) {
        return (uint64_t) st->st_ino == q->ino && g_strcmp0(kind_of(st->st_mode), q->kind) == 0 &&
               (uint64_t) st->st_size == q->size && st->st_mtim.tv_sec == q->mtime && st->st_mtim.tv_nsec == q->mtime_nsec;
}

static int fsync_dir(int fd, const char *shown, GError **error) {
        return fsync(fd) < 0 ? np_fail(error, errno, "%s: fsync: %s", shown, g_strerror(errno)) : 0;
}

/* Around one change of the share root's entries: the attribute lifted (guard enforce) when the
 * change is at the root. */
static int lift(QOp *op, bool *ret_lifted, GError **error) {
        *ret_lifted = false;
        return at_root(op->q) ? engine_guard_lift(op->e, op->q->share, op->root, ret_lifted, error) : 0;
}

static int unlift(QOp *op, bool lifted, int r, GError **error) {
        g_autoptr(GError) err = NULL;
        int q = engine_guard_restore(op->e, op->q->share, op->root, lifted, &err);
        if (q >= 0)
                return r;
        if (r < 0) {
                log_error("%s", err->message);
                return r;
        }
        g_propagate_error(error, TAKE_PTR(err));
        return q;
}

/* Copy src to dst (both open), all of it, reporting progress every PROGRESS_EVERY bytes. */
static int copy_data(QOp *op, int src, int dst, const char *shown, GError **error) {
        g_autofree char *buf = g_malloc(COPY_CHUNK);
        uint64_t copied = 0, next_report = PROGRESS_EVERY;
        for (;;) {
                ssize_t n = read(src, buf, COPY_CHUNK);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return np_fail(error, errno, "%s: cannot read: %s", shown, g_strerror(errno));
                if (n == 0)
                        break;
                for (ssize_t off = 0; off < n;) {
                        ssize_t w = write(dst, buf + off, (size_t) (n - off));
                        if (w < 0 && errno == EINTR)
                                continue;
                        if (w < 0)
                                return np_fail(error, errno, "%s: cannot write the copy: %s", shown, g_strerror(errno));
                        off += w;
                }
                copied += (uint64_t) n;
                if (op->progress && copied >= next_report && op->q->size) {
                        next_report += PROGRESS_EVERY;
                        g_autofree char *step = g_strdup_printf("copy %u%% (%" PRIu64 " of %" PRIu64 " MiB)",
                                                                (unsigned) (copied * 100 / MAX(op->q->size, copied)),
                                                                copied >> 20, op->q->size >> 20);
                        engine_runner_progress(op->op, step, op->index, op->total, op->e);
                }
        }
        return 0;
}

/* ---- quarantine: copy, remove ---- */

static int step_q_copy(void *p, GError **error) {
        QOp *op = p;
        QuarantineItem *q = op->q;
        const char *shown = op->shown;
        _cleanup_close_ int parent = -1;
        int r = open_parent(op->root, q->share, q->path, &parent, error);
        if (r < 0)
                return r;
        const char *base = base_of(q->path);
        if (unlinkat(op->qdir, q->name, 0) < 0 && errno != ENOENT) /* a leftover of an attempt */
                return np_fail(error, errno, "quarantine/%s/%s: cannot remove a leftover: %s", q->share, q->name,
                               g_strerror(errno));
        if (strcmp(q->kind, "symlink") == 0) {
                char target[PATH_MAX];
                ssize_t n = readlinkat(parent, base, target, sizeof(target) - 1);
                if (n < 0)
                        return np_fail(error, errno, "%s: cannot read the symbolic link: %s", shown, g_strerror(errno));
                target[n] = '\0';
                struct stat st;
                if (fstatat(parent, base, &st, AT_SYMLINK_NOFOLLOW) < 0 || !same_entry(q, &st))
                        return np_fail(error, ESTALE, "%s changed while it was read; nothing quarantined", shown);
                if (symlinkat(target, op->qdir, q->name) < 0)
                        return np_fail(error, errno, "quarantine/%s/%s: cannot make the symbolic link: %s", q->share,
                                       q->name, g_strerror(errno));
                if (fchownat(op->qdir, q->name, 0, 0, AT_SYMLINK_NOFOLLOW) < 0)
                        return np_fail(error, errno, "quarantine/%s/%s: cannot make it root's: %s", q->share, q->name,
                                       g_strerror(errno));
        } else {
                _cleanup_close_ int src = openat(parent, base, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
                if (src < 0)
                        return np_fail(error, errno, "%s: cannot open: %s", shown, g_strerror(errno));
                struct stat st;
                if (fstat(src, &st) < 0)
                        return np_fail(error, errno, "%s: cannot stat: %s", shown, g_strerror(errno));
                if (!same_entry(q, &st))
                        return np_fail(error, ESTALE, "%s is no longer the file the audit found; nothing quarantined",
                                       shown);
                _cleanup_close_ int dst = openat(op->qdir, q->name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                                                 0600);
                if (dst < 0)
                        return np_fail(error, errno, "quarantine/%s/%s: cannot create: %s", q->share, q->name,
                                       g_strerror(errno));
                if (fchown(dst, 0, 0) < 0 || fchmod(dst, 0600) < 0)
                        return np_fail(error, errno, "quarantine/%s/%s: cannot set owner root, mode 0600: %s", q->share,
                                       q->name, g_strerror(errno));
                r = copy_data(op, src, dst, shown, error);
                if (r < 0)
                        return r;
                if (fsync(dst) < 0)
                        return np_fail(error, errno, "quarantine/%s/%s: fsync: %s", q->share, q->name, g_strerror(errno));
                if (fstat(src, &st) < 0 || !same_entry(q, &st))
                        return np_fail(error, ESTALE, "%s was written to while it was copied; nothing quarantined", shown);
        }
        g_autofree char *qshown = g_strdup_printf("quarantine/%s", q->share);
        return fsync_dir(op->qdir, qshown, error);
}

static int undo_q_copy(void *p, GError **error) {
        QOp *op = p;
        if (unlinkat(op->qdir, op->q->name, 0) < 0 && errno != ENOENT)
                return np_fail(error, errno, "quarantine/%s/%s: cannot remove the copy: %s", op->q->share, op->q->name,
                               g_strerror(errno));
        g_autofree char *qshown = g_strdup_printf("quarantine/%s", op->q->share);
        return fsync_dir(op->qdir, qshown, error);
}

/* The original removed, only when it is still what was copied (gone already: done). */
static int step_q_remove(void *p, GError **error) {
        QOp *op = p;
        QuarantineItem *q = op->q;
        const char *shown = op->shown;
        _cleanup_close_ int parent = -1;
        int r = open_parent_if_any(op, &parent, error);
        if (r <= 0)
                return r; /* gone: its directory is gone, and the original with it */
        const char *base = base_of(q->path);
        struct stat st;
        if (fstatat(parent, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : np_fail(error, errno, "%s: cannot stat: %s", shown, g_strerror(errno));
        if (!same_entry(q, &st))
                return np_fail(error, ESTALE,
                               "%s is no longer what was copied (inode %ju, size %jd; copied: inode %" PRIu64 ", size %" PRIu64
                               "): left in place; the copy is kept as quarantined item %s",
                               shown, (uintmax_t) st.st_ino, (intmax_t) st.st_size, q->ino, q->size, q->name);
        bool lifted = false;
        r = lift(op, &lifted, error);
        if (r < 0)
                return r;
        if (unlinkat(parent, base, 0) < 0 && errno != ENOENT)
                r = np_fail(error, errno, "%s: cannot remove it: %s", shown, g_strerror(errno));
        r = unlift(op, lifted, r, error);
        if (r < 0)
                return r;
        return fsync_dir(parent, shown, error);
}

static const Step quarantine_steps[] = {
        { "copy", step_q_copy, undo_q_copy, NULL },
        { "remove", step_q_remove, NULL, NULL },
};
static const StepTable quarantine_table = { "quarantine", quarantine_steps, G_N_ELEMENTS(quarantine_steps) };

/* ---- restore: copy, place, remove ---- */

static int remove_tmp(QOp *op, int parent, GError **error) {
        struct stat st;
        if (fstatat(parent, op->tmp, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : np_fail(error, errno, "%s/%s: cannot stat: %s", op->q->share, op->tmp,
                                                     g_strerror(errno));
        if (!S_ISREG(st.st_mode))
                return np_fail(error, EEXIST, "%s: %s is not nfsprov's temporary file; leaving it", op->q->share, op->tmp);
        bool lifted = false;
        int r = lift(op, &lifted, error);
        if (r < 0)
                return r;
        if (unlinkat(parent, op->tmp, 0) < 0 && errno != ENOENT)
                r = np_fail(error, errno, "%s/%s: cannot remove it: %s", op->q->share, op->tmp, g_strerror(errno));
        return unlift(op, lifted, r, error);
}

static int step_r_copy(void *p, GError **error) {
        QOp *op = p;
        QuarantineItem *q = op->q;
        if (strcmp(q->kind, "file") != 0)
                return 0; /* a symbolic link is made where it belongs by place */
        g_autofree char *qshown = g_strdup_printf("quarantine/%s/%s", q->share, q->name);
        _cleanup_close_ int parent = -1;
        int r = open_parent(op->root, q->share, q->path, &parent, error);
        if (r < 0)
                return r;
        r = remove_tmp(op, parent, error);
        if (r < 0)
                return r;
        _cleanup_close_ int src = openat(op->qdir, q->name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
        if (src < 0)
                return np_fail(error, errno, "%s: cannot open: %s", qshown, g_strerror(errno));
        bool lifted = false;
        r = lift(op, &lifted, error);
        if (r < 0)
                return r;
        _cleanup_close_ int dst = openat(parent, op->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (dst < 0)
                r = np_fail(error, errno, "%s: cannot create %s: %s", q->share, op->tmp, g_strerror(errno));
        r = unlift(op, lifted, r, error);
        if (r < 0)
                return r;
        r = copy_data(op, src, dst, qshown, error);
        if (r < 0)
                return r;
        struct timespec times[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_sec = q->mtime, .tv_nsec = q->mtime_nsec } };
        if (fchown(dst, q->uid, q->gid) < 0 || fchmod(dst, q->mode & 07777) < 0 || futimens(dst, times) < 0)
                return np_fail(error, errno, "%s/%s: cannot set the original's owner, mode and mtime: %s", q->share, op->tmp,
                               g_strerror(errno));
        if (fsync(dst) < 0)
                return np_fail(error, errno, "%s/%s: fsync: %s", q->share, op->tmp, g_strerror(errno));
        return 0;
}

static int undo_r_copy(void *p, GError **error) {
        QOp *op = p;
        if (strcmp(op->q->kind, "file") != 0)
                return 0;
        _cleanup_close_ int parent = -1;
        int r = open_parent_if_any(op, &parent, error);
        return r <= 0 ? r : remove_tmp(op, parent, error);
}

/* PATH made: the temporary file renamed there (never over an entry), or the symbolic link made.
 * Done already (the temporary file gone and PATH the restored file): 0. */
static int step_r_place(void *p, GError **error) {
        QOp *op = p;
        QuarantineItem *q = op->q;
        const char *shown = op->shown;
        _cleanup_close_ int parent = -1;
        int r = open_parent(op->root, q->share, q->path, &parent, error);
        if (r < 0)
                return r;
        const char *base = base_of(q->path);
        struct stat st;
        bool lifted = false;
        if (strcmp(q->kind, "symlink") == 0) {
                char target[PATH_MAX], there[PATH_MAX];
                ssize_t n = readlinkat(op->qdir, q->name, target, sizeof(target) - 1);
                if (n < 0)
                        return np_fail(error, errno, "quarantine/%s/%s: cannot read: %s", q->share, q->name,
                                       g_strerror(errno));
                target[n] = '\0';
                ssize_t m = readlinkat(parent, base, there, sizeof(there) - 1);
                if (m >= 0) {
                        there[m] = '\0';
                        if (strcmp(there, target) == 0)
                                return 0; /* made before a crash */
                }
                r = lift(op, &lifted, error);
                if (r < 0)
                        return r;
                if (symlinkat(target, parent, base) < 0)
                        r = np_fail(error, errno, "%s: cannot make the symbolic link: %s", shown,
                                    errno == EEXIST ? "something is there again" : g_strerror(errno));
                r = unlift(op, lifted, r, error);
                if (r < 0)
                        return r;
                struct timespec times[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_sec = q->mtime, .tv_nsec = q->mtime_nsec } };
                if (fchownat(parent, base, q->uid, q->gid, AT_SYMLINK_NOFOLLOW) < 0 ||
                    utimensat(parent, base, times, AT_SYMLINK_NOFOLLOW) < 0)
                        log_warning("%s: cannot set the original's owner and mtime: %s", shown, g_strerror(errno));
                return fsync_dir(parent, shown, error);
        }
        if (fstatat(parent, op->tmp, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno != ENOENT)
                        return np_fail(error, errno, "%s/%s: cannot stat: %s", q->share, op->tmp, g_strerror(errno));
                /* renamed before a crash? PATH must then be the restored file */
                if (fstatat(parent, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
                    (uint64_t) st.st_size == q->size && st.st_mtim.tv_sec == q->mtime &&
                    st.st_mtim.tv_nsec == q->mtime_nsec)
                        return 0;
                return np_fail(error, EIO, "%s: neither the restored copy nor its temporary file %s is there; the "
                                           "quarantined copy is kept", shown, op->tmp);
        }
        r = lift(op, &lifted, error);
        if (r < 0)
                return r;
        if (renameat2(parent, op->tmp, parent, base, RENAME_NOREPLACE) < 0)
                r = np_fail(error, errno, "%s: cannot put it back: %s", shown,
                            errno == EEXIST ? "something is there again" : g_strerror(errno));
        r = unlift(op, lifted, r, error);
        if (r < 0)
                return r;
        return fsync_dir(parent, shown, error);
}

static int step_r_remove(void *p, GError **error) {
        return undo_q_copy(p, error);
}

static const Step restore_steps[] = {
        { "copy", step_r_copy, undo_r_copy, NULL },
        { "place", step_r_place, NULL, NULL },
        { "remove", step_r_remove, NULL, NULL },
};
static const StepTable restore_table = { "restore", restore_steps, G_N_ELEMENTS(restore_steps) };

void engine_quarantine_steps(GPtrArray *lines) {
        const StepTable *tables[] = { &quarantine_table, &restore_table };
        for (size_t t = 0; t < G_N_ELEMENTS(tables); t++)
                g_ptr_array_add(lines, steps_describe(tables[t]));
}

unsigned engine_quarantine_op_total(const char *op) {
        if (g_strcmp0(op, "quarantine") == 0)
                return (unsigned) quarantine_table.n;
        if (g_strcmp0(op, "restore") == 0)
                return (unsigned) restore_table.n;
        return 0;
}

/* ---- the operations ---- */

static int qop_init(QOp *op, Engine *e, QuarantineItem *q, GError **error) {
        *op = (QOp) { .e = e, .q = q, .root = -1, .qdir = -1 };
        op->tmp = g_strdup_printf(".nfsprov-restore-%" PRId64 ".part", q->id);
        g_autofree char *path_shown = show_text(q->path);
        op->shown = g_strdup_printf("%s/%s", q->share, path_shown);
        g_autoptr(GError) err = NULL;
        int r = e->sys.fs->open_root(e->config, q->share, &op->root, &err);
        if (r == -ENOENT)
                return np_fail(error, EBUSY, "%s; run `nfsprov reconcile` to mount it again", err->message);
        if (r < 0) {
                g_propagate_error(error, TAKE_PTR(err));
                return r;
        }
        return open_qdir(e, q->share, &op->qdir, error);
}

static StepRunner qrunner(QOp *op, const char *opname, unsigned total) {
        op->op = opname;
        op->total = total;
        op->index = 1;
        return (StepRunner) {
                .state = op->e->state,
                .quar = op->q,
                .op = op,
                .progress = engine_runner_progress,
                .userdata = op->e,
                .total = total,
        };
}

/* A name for the quarantine dir: the entry's own, made of safe bytes, with .N when taken. */
static char *pick_name(Engine *e, const char *share, const char *path, int qdir) {
        g_autoptr(GString) b = g_string_new(NULL);
        for (const char *c = base_of(path); *c && b->len < 200; c++)
                g_string_append_c(b, g_ascii_isalnum(*c) || strchr("._+-", *c) ? *c : '_');
        if (b->str[0] == '.')
                g_string_prepend_c(b, '_');
        for (unsigned n = 0;; n++) {
                g_autofree char *name = n ? g_strdup_printf("%s.%u", b->str, n) : g_strdup(b->str);
                g_autoptr(QuarantineItem) other = NULL;
                struct stat st;
                if (state_quarantine_get(e->state, share, name, &other, NULL) == -ENOENT &&
                    fstatat(qdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
                        return TAKE_PTR(name);
        }
}

int engine_quarantine(Engine *e, const char *name, const char *path, QuarantineItem **ret, GError **error) {
        g_autoptr(Share) s = NULL;
        int r = engine_foreign_target(e, "quarantine", name, path, &s, error);
        if (r < 0)
                return r;
        g_autofree char *path_shown = show_text(path);
        g_autoptr(QuarantineItem) q = g_new0(QuarantineItem, 1);
        q->share = g_strdup(name);
        q->path = g_strdup(path);
        _cleanup_(qop_done) QOp op = { .root = -1, .qdir = -1 };
        /* the entry as it is now: what the copy copies and the removal checks */
        {
                _cleanup_close_ int root = -1, parent = -1;
                g_autoptr(GError) err = NULL;
                r = e->sys.fs->open_root(e->config, name, &root, &err);
                if (r == -ENOENT)
                        return np_fail(error, EBUSY, "quarantine %s/%s: %s; run `nfsprov reconcile`", name, path_shown,
                                       err->message);
                if (r < 0) {
                        g_propagate_error(error, TAKE_PTR(err));
                        return r;
                }
                r = open_parent(root, name, path, &parent, &err);
                if (r == -ENOENT)
                        return np_fail(error, EINVAL, "quarantine %s/%s: no such entry in the share", name, path_shown);
                if (r < 0) {
                        g_propagate_error(error, TAKE_PTR(err));
                        return r;
                }
                struct stat st, rst;
                if (fstatat(parent, base_of(path), &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno == ENOENT)
                                return np_fail(error, EINVAL, "quarantine %s/%s: no such entry in the share", name,
                                               path_shown);
                        return np_fail(error, errno, "quarantine %s/%s: cannot stat: %s", name, path_shown,
                                       g_strerror(errno));
                }
                if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
                        return np_fail(error, EINVAL, "quarantine %s/%s: it is a %s; only regular files and symbolic links "
                                                      "can be quarantined (a directory: quarantine its files, or "
                                                      "nfsprov audit --remove it)",
                                       name, path_shown, S_ISDIR(st.st_mode) ? "directory" : "special file");
                if (fstat(root, &rst) == 0 && rst.st_dev != st.st_dev)
                        return np_fail(error, EINVAL, "quarantine %s/%s: it is on another filesystem", name, path_shown);
                q->kind = g_strdup(kind_of(st.st_mode));
                q->size = (uint64_t) st.st_size;
                q->uid = st.st_uid;
                q->gid = st.st_gid;
                q->mode = st.st_mode;
                q->mtime = st.st_mtim.tv_sec;
                q->mtime_nsec = st.st_mtim.tv_nsec;
                q->ino = (uint64_t) st.st_ino;
        }
        _cleanup_close_ int qdir = -1;
        r = open_qdir(e, name, &qdir, error);
        if (r < 0)
                return r;
        q->name = pick_name(e, name, path, qdir);
        q->quarantined_at = (int64_t) time(NULL);
        q->status = QUARANTINE_COPYING;
        r = state_quarantine_insert(e->state, q, error);
        if (r < 0)
                return r;
        r = qop_init(&op, e, q, error);
        if (r < 0) {
                (void) state_quarantine_delete(e->state, q->id, NULL);
                return r;
        }
        StepRunner run = qrunner(&op, "quarantine", (unsigned) quarantine_table.n);
        op.progress = true;
        size_t failed = 0;
        g_autoptr(GError) err = NULL;
        r = steps_run(&run, &quarantine_table, 0, quarantine_table.n, &failed, &err);
        if (r < 0 && failed == 0) {
                g_autoptr(GError) uerr = NULL;
                if (steps_undo(&run, &quarantine_table, 0, &uerr) < 0)
                        return np_fail(error, -r, "quarantine %s/%s: %s; and the undo failed: %s (reconcile retries it)",
                                       name, path_shown, err->message, uerr->message);
                (void) state_quarantine_delete(e->state, q->id, NULL);
                return np_fail(error, -r == EINVAL ? EIO : -r, "quarantine %s/%s: %s", name, path_shown, err->message);
        }
        if (r < 0) {
                /* the removal refused or failed: the copy is complete; it stays as the item */
                q->status = QUARANTINE_READY;
                g_free(q->error);
                q->error = g_strdup(err->message);
                (void) steps_finish(&run, "quarantine", NULL);
                (void) state_quarantine_update(e->state, q, NULL);
                (void) engine_audit(e, name, NULL, NULL);
                return np_fail(error, -r == EINVAL ? EIO : -r, "quarantine %s/%s: %s", name, path_shown, err->message);
        }
        q->status = QUARANTINE_READY;
        r = steps_finish(&run, "quarantine", error);
        if (r < 0)
                return r;
        log_info("quarantine %s/%s: moved to %s/quarantine/%s/%s", name, path_shown, e->config->state_dir, name, q->name);
        (void) engine_audit(e, name, NULL, NULL); /* the findings follow at once */
        if (ret)
                *ret = TAKE_PTR(q);
        return 0;
}

int engine_restore(Engine *e, const char *name, const char *item, QuarantineItem **ret, GError **error) {
        int r = name_validate_share(name, error);
        if (r < 0)
                return r;
        g_autoptr(QuarantineItem) q = NULL;
        g_autoptr(GError) gerr = NULL;
        r = state_quarantine_get(e->state, name, item, &q, &gerr);
        if (r == -ENOENT) {
                g_autofree char *shown = show_text(item);
                return np_fail(error, EINVAL, "restore %s: no quarantined item \"%s\" (nfsprov audit --quarantined "
                                              "lists them)", name, shown);
        }
        if (r < 0) {
                g_propagate_error(error, TAKE_PTR(gerr));
                return r;
        }
        g_autoptr(Share) s = NULL;
        r = engine_get_share(e, "restore", name, &s, error);
        if (r < 0)
                return r;
        g_autofree char *path_shown = show_text(q->path);
        if (s->status != SHARE_READY)
                return np_fail(error, EBUSY, "restore %s/%s: the share is %s; run `nfsprov reconcile` first", name,
                               path_shown, share_status_to_string(s->status));
        if (q->status != QUARANTINE_READY)
                return np_fail(error, EBUSY, "restore %s: item %s is %s; run `nfsprov reconcile` first", name, q->name,
                               quarantine_status_to_string(q->status));
        _cleanup_(qop_done) QOp op = { .root = -1, .qdir = -1 };
        r = qop_init(&op, e, q, error);
        if (r < 0)
                return r;
        {
                _cleanup_close_ int parent = -1;
                g_autoptr(GError) err = NULL;
                r = open_parent(op.root, name, q->path, &parent, &err);
                if (r == -ENOENT)
                        return np_fail(error, EINVAL, "restore %s: %s", name, err->message);
                if (r < 0) {
                        g_propagate_error(error, TAKE_PTR(err));
                        return r;
                }
                struct stat st;
                if (fstatat(parent, base_of(q->path), &st, AT_SYMLINK_NOFOLLOW) == 0)
                        return np_fail(error, EEXIST, "restore %s/%s: something is there again; move it away first", name,
                                       path_shown);
                if (fstatat(op.qdir, q->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return np_fail(error, EIO, "restore %s/%s: the quarantined copy %s/quarantine/%s/%s: %s", name,
                                       path_shown, e->config->state_dir, name, q->name, g_strerror(errno));
        }
        q->status = QUARANTINE_RESTORING;
        g_clear_pointer(&q->error, g_free);
        StepRunner run = qrunner(&op, "restore", (unsigned) restore_table.n);
        op.progress = true;
        size_t failed = 0;
        g_autoptr(GError) err = NULL;
        r = steps_run(&run, &restore_table, 0, restore_table.n, &failed, &err);
        if (r < 0 && failed < 2) {
                g_autoptr(GError) uerr = NULL;
                if (steps_undo(&run, &restore_table, failed, &uerr) < 0)
                        return np_fail(error, -r, "restore %s/%s: %s; and the undo failed: %s (reconcile retries it)", name,
                                       path_shown, err->message, uerr->message);
                q->status = QUARANTINE_READY;
                q->error = g_strdup(err->message);
                (void) state_quarantine_update(e->state, q, NULL);
                return np_fail(error, -r == EINVAL ? EIO : -r, "restore %s/%s: %s; it stays quarantined as %s", name,
                               path_shown, err->message, q->name);
        }
        if (r < 0)
                return np_fail(error, -r, "restore %s/%s: put back, but %s (reconcile finishes it)", name, path_shown,
                               err->message);
        r = steps_finish(&run, "restore", error);
        if (r < 0)
                return r;
        r = state_quarantine_delete(e->state, q->id, error);
        if (r < 0)
                return r;
        log_info("restore %s/%s: put back from the quarantine (%s)", name, path_shown, q->name);
        (void) engine_audit(e, name, NULL, NULL);
        if (ret)
                *ret = TAKE_PTR(q);
        return 0;
}

int engine_quarantine_list(Engine *e, const char *share, GPtrArray **ret, GError **error) {
        if (share) {
                int r = name_validate_share(share, error);
                if (r < 0)
                        return r;
        }
        return state_quarantine_list(e->state, share, ret, error);
}

/* ---- reconcile ---- */

void engine_quarantine_reconcile(Engine *e, const Share *share, GPtrArray *changes, GPtrArray *problems) {
        g_autoptr(GPtrArray) items = NULL;
        g_autoptr(GError) err = NULL;
        if (state_quarantine_list(e->state, share->name, &items, &err) < 0) {
                g_ptr_array_add(problems, g_strdup_printf("%s: the quarantine: %s", share->name, err->message));
                return;
        }
        for (guint i = 0; i < items->len; i++) {
                QuarantineItem *q = g_ptr_array_index(items, i);
                if (q->status == QUARANTINE_READY)
                        continue;
                g_autofree char *path_shown = show_text(q->path);
                g_autofree char *at = g_strdup(q->step ? q->step : "-");
                _cleanup_(qop_done) QOp op = { .root = -1, .qdir = -1 };
                g_clear_error(&err);
                if (qop_init(&op, e, q, &err) < 0) {
                        g_ptr_array_add(problems, g_strdup_printf("%s/%s: cannot finish the %s of %s: %s", share->name,
                                                                  path_shown, q->operation ? q->operation : "quarantine",
                                                                  q->name, err->message));
                        continue;
                }
                if (q->status == QUARANTINE_COPYING) {
                        StepRunner run = qrunner(&op, "quarantine", 0);
                        run.progress = NULL;
                        if (g_strcmp0(q->step, "remove") == 0) {
                                /* the copy is complete and fsynced: finish the removal */
                                int r = steps_run(&run, &quarantine_table, 1, quarantine_table.n, NULL, &err);
                                q->status = QUARANTINE_READY;
                                if (r < 0 && r != -ESTALE) {
                                        q->status = QUARANTINE_COPYING;
                                        g_ptr_array_add(problems, g_strdup_printf("%s/%s: cannot finish its quarantine: %s",
                                                                                  share->name, path_shown, err->message));
                                        continue;
                                }
                                if (r < 0)
                                        q->error = g_strdup(err->message);
                                g_autoptr(GError) ferr = NULL;
                                if (steps_finish(&run, "quarantine", &ferr) < 0)
                                        g_ptr_array_add(problems, g_strdup_printf("%s/%s: %s", share->name, path_shown,
                                                                                  ferr->message));
                                else
                                        g_ptr_array_add(changes,
                                                        g_strdup_printf("%s: finished the quarantine of %s as %s%s%s",
                                                                        share->name, path_shown, q->name,
                                                                        r < 0 ? "; but " : "", r < 0 ? err->message : ""));
                        } else {
                                /* a copy that stopped: removed (the original is still there) */
                                if (steps_undo(&run, &quarantine_table, 0, &err) < 0 ||
                                    state_quarantine_delete(e->state, q->id, &err) < 0)
                                        g_ptr_array_add(problems, g_strdup_printf("%s/%s: cannot undo its quarantine: %s",
                                                                                  share->name, path_shown, err->message));
                                else
                                        g_ptr_array_add(changes, g_strdup_printf("%s: undid a quarantine of %s that stopped "
                                                                                 "at step %s (the original is in place)",
                                                                                 share->name, path_shown, at));
                        }
                } else if (q->status == QUARANTINE_RESTORING) {
                        StepRunner run = qrunner(&op, "restore", 0);
                        run.progress = NULL;
                        if (g_strcmp0(q->step, "place") == 0 || g_strcmp0(q->step, "remove") == 0) {
                                int from = steps_find(&restore_table, q->step);
                                if (steps_run(&run, &restore_table, (size_t) from, restore_table.n, NULL, &err) < 0 ||
                                    steps_finish(&run, "restore", &err) < 0 ||
                                    state_quarantine_delete(e->state, q->id, &err) < 0)
                                        g_ptr_array_add(problems, g_strdup_printf("%s/%s: cannot finish its restore: %s",
                                                                                  share->name, path_shown, err->message));
                                else
                                        g_ptr_array_add(changes, g_strdup_printf("%s: finished the restore of %s from %s",
                                                                                 share->name, path_shown, q->name));
                        } else {
                                q->status = QUARANTINE_READY;
                                if (steps_undo(&run, &restore_table, 0, &err) < 0 ||
                                    state_quarantine_update(e->state, q, &err) < 0)
                                        g_ptr_array_add(problems, g_strdup_printf("%s/%s: cannot undo its restore: %s",
                                                                                  share->name, path_shown, err->message));
                                else
                                        g_ptr_array_add(changes, g_strdup_printf("%s: undid a restore of %s that stopped at "
                                                                                 "step %s (it stays quarantined as %s)",
                                                                                 share->name, path_shown, at, q->name));
                        }
                }
        }
}

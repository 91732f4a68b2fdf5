/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The guard's quarantine (issue 12, "Resolution"): a foreign regular file, symbolic link or
 * directory tree of a share is moved out of the export into STATE_DIR/quarantine/SHARE/NAME, and
 * put back on demand.
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
 * listed as an item.
 *
 * A directory is walked by tree_walk (server/tree.h: no recursion, no symbolic link followed, no
 * other filesystem entered, at most AUDIT_MAX_DEPTH levels, as the audit reads). Its item is a
 * directory NAME (0700) holding the copy, NAME/tree (directories root 0700, files root 0600,
 * symbolic links as links), and NAME/manifest (server/qmanifest.h): per entry its inode, kind,
 * size, mtime, owner and mode, written and fsynced once every entry of the copy is. It may hold
 * directories, regular files and symbolic links only: a fifo, socket or device anywhere in it
 * refuses the whole request, with one line naming the first one found (a copy of a device node
 * in STATE_DIR would be a second way to the device). Hard links inside become separate files.
 * Its row's size is the sum of its files' sizes (the progress counts the bytes copied).
 *   copy:    an entry that changes while it is copied (a file written, a directory's entries
 *            added or removed) stops the copy, which is then undone.
 *   remove:  every entry of the original is checked against the manifest (the same inode and
 *            kind, and size and mtime; nothing added, nothing missing): any difference refuses
 *            the removal as for a file. Then the original is renamed to .nfsprov-quarantine-ID.part
 *            beside it, checked again (an entry added or changed meanwhile: renamed back,
 *            refused) and removed, deepest first. Reconcile finishes a removal that began from
 *            that name, checking what is left of it (entries may be gone, none new or changed).
 *   restore: the tree is built under .nfsprov-restore-ID.part (owner, mode and mtime of every
 *            entry from the manifest, a directory's set after what it holds; everything fsynced)
 *            and renamed to PATH.
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

#include "audit.h"
#include "engine_internal.h"
#include "error.h"
#include "fdio.h"
#include "log.h"
#include "macro.h"
#include "name.h"
#include "qmanifest.h"
#include "safepath.h"
#include "show.h"
#include "steps.h"
#include "tree.h"

#define COPY_CHUNK (1U << 20)
#define PROGRESS_EVERY (8ULL << 20)
#define ITEM_TREE "tree"         /* a directory's item: the copy */
#define ITEM_MANIFEST "manifest" /* and its manifest */

typedef struct QOp {
        Engine *e;
        QuarantineItem *q;
        int root;          /* the share's mounted root */
        int qdir;          /* STATE_DIR/quarantine/SHARE */
        char *tmp;         /* restore: the temporary name beside PATH */
        char *trash;       /* quarantine of a directory: the original's name while it is removed */
        char *shown;       /* SHARE/PATH for messages (common/show.h) */
        char *qshown;      /* quarantine/SHARE/NAME for messages */
        const char *op;    /* "quarantine" | "restore": for progress */
        unsigned index, total;
        bool progress;     /* report bytes copied (an operation of the queue, not reconcile) */
        uint64_t copied, next_report; /* bytes copied by the running step */
        EngineRoot at;     /* the share's root, for engine_guard_unlink_lifted */
} QOp;

static void qop_done(QOp *op) {
        if (op->root >= 0)
                close(op->root);
        if (op->qdir >= 0)
                close(op->qdir);
        g_free(op->tmp);
        g_free(op->trash);
        g_free(op->shown);
        g_free(op->qshown);
}

static const char *base_of(const char *path) {
        const char *slash = strrchr(path, '/');
        return slash ? slash + 1 : path;
}

static bool at_root(const QuarantineItem *q) {
        return !strchr(q->path, '/');
}

static bool is_dir(const QuarantineItem *q) {
        return g_strcmp0(q->kind, "directory") == 0;
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

/* What a quarantine checks of an entry: the same inode, kind and mtime, and size (sized). */
static bool same_stat(const struct stat *a, const struct stat *b, bool sized) {
        return a->st_ino == b->st_ino && (a->st_mode & S_IFMT) == (b->st_mode & S_IFMT) &&
               (!sized || a->st_size == b->st_size) && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
               a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* The item's original as recorded before the copy (a directory's size is its files'). */
static struct stat stat_of_item(const QuarantineItem *q) {
        return (struct stat) {
                .st_ino = (ino_t) q->ino,
                .st_mode = q->mode,
                .st_size = (off_t) q->size,
                .st_mtim = { .tv_sec = q->mtime, .tv_nsec = q->mtime_nsec },
        };
}

/* The same entry as recorded before the copy: inode, kind, size (not a directory's) and mtime. */
static bool same_entry(const QuarantineItem *q, const struct stat *st) {
        struct stat was = stat_of_item(q);
        return g_strcmp0(kind_of(st->st_mode), q->kind) == 0 && same_stat(&was, st, !is_dir(q));
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
        return engine_guard_end_lift(op->e, op->q->share, op->root, lifted, r, error);
}

/* Remove `name` of the directory holding PATH (PATH's own name, or a temporary one beside it):
 * a directory item's with all it holds, another's as the one entry it is; the attribute lifted
 * for the instant of the last unlink at the root. */
static int remove_beside(QOp *op, int parent, const char *name, GError **error) {
        g_autofree char *shown = g_strdup_printf("%s/%s", op->q->share, name);
        TreeUnlinkFn unlink_top = at_root(op->q) ? engine_guard_unlink_lifted : NULL;
        if (is_dir(op->q))
                return tree_remove(parent, name, shown, unlink_top, &op->at, error);
        if (unlink_top)
                return unlink_top(&op->at, parent, name, 0, error);
        if (unlinkat(parent, name, 0) < 0 && errno != ENOENT) {
                g_autofree char *s = show_text(shown);
                return np_fail(error, errno, "%s: cannot remove it: %s", s, g_strerror(errno));
        }
        return 0;
}

/* SHARE/PATH as it is, for a walk's messages (the walk shows them). */
static char *raw_path(const QOp *op) {
        return g_strdup_printf("%s/%s", op->q->share, op->q->path);
}

/* The quarantined copy removed (a leftover, an undo, the end of a restore), then fsynced away. */
static int remove_item(QOp *op, GError **error) {
        int r = tree_remove(op->qdir, op->q->name, op->qshown, NULL, NULL, error);
        if (r < 0)
                return r;
        g_autofree char *qshown = g_strdup_printf("quarantine/%s", op->q->share);
        return fsync_dir(op->qdir, qshown, error);
}

/* Copy src to dst (both open), all of it, reporting the step's bytes every PROGRESS_EVERY. */
static int copy_data(QOp *op, int src, int dst, const char *shown, GError **error) {
        g_autofree char *buf = g_malloc(COPY_CHUNK);
        for (ssize_t n; (n = fd_read_some(src, buf, COPY_CHUNK)) != 0;) {
                if (n < 0)
                        return np_fail(error, (int) -n, "%s: cannot read: %s", shown, g_strerror((int) -n));
                int r = fd_write_all(dst, buf, (size_t) n);
                if (r < 0)
                        return np_fail(error, -r, "%s: cannot write the copy: %s", shown, g_strerror(-r));
                op->copied += (uint64_t) n;
                if (op->progress && op->copied >= op->next_report && op->q->size) {
                        op->next_report = op->copied + PROGRESS_EVERY;
                        g_autofree char *step = g_strdup_printf("copy %u%% (%" PRIu64 " of %" PRIu64 " MiB)",
                                                                (unsigned) (op->copied * 100 / MAX(op->q->size, op->copied)),
                                                                op->copied >> 20, op->q->size >> 20);
                        engine_runner_progress(op->op, step, op->index, op->total, op->e);
                }
        }
        return 0;
}

static void copy_start(QOp *op) {
        op->copied = 0;
        op->next_report = PROGRESS_EVERY;
}

/* ---- quarantine: copy, remove ---- */

/* The file `name` of src_dir, still `was` (shown: how messages name it), copied to the new file
 * dst_name of dst_dir (root, 0600, fsynced); -ESTALE when it changes meanwhile. */
static int copy_file_out(QOp *op, int src_dir, const char *name, const struct stat *was, const char *shown,
                         int dst_dir, const char *dst_name, GError **error) {
        _cleanup_close_ int src = openat(src_dir, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
        if (src < 0)
                return np_fail(error, errno, "%s: cannot open: %s", shown, g_strerror(errno));
        struct stat st;
        if (fstat(src, &st) < 0)
                return np_fail(error, errno, "%s: cannot stat: %s", shown, g_strerror(errno));
        if (!same_stat(was, &st, true))
                return np_fail(error, ESTALE, "%s is no longer the file the audit found; nothing quarantined", shown);
        _cleanup_close_ int dst = openat(dst_dir, dst_name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (dst < 0)
                return np_fail(error, errno, "%s: cannot create its copy: %s", shown, g_strerror(errno));
        if (fchown(dst, 0, 0) < 0 || fchmod(dst, 0600) < 0)
                return np_fail(error, errno, "%s: cannot set its copy's owner root, mode 0600: %s", shown,
                               g_strerror(errno));
        int r = copy_data(op, src, dst, shown, error);
        if (r < 0)
                return r;
        if (fsync(dst) < 0)
                return np_fail(error, errno, "%s: fsync of its copy: %s", shown, g_strerror(errno));
        if (fstat(src, &st) < 0 || !same_stat(was, &st, true))
                return np_fail(error, ESTALE, "%s was written to while it was copied; nothing quarantined", shown);
        return 0;
}

/* The symbolic link `name` of src_dir, still `was`, made again as dst_name of dst_dir (root's). */
static int copy_link_out(int src_dir, const char *name, const struct stat *was, const char *shown, int dst_dir,
                         const char *dst_name, GError **error) {
        char target[PATH_MAX];
        ssize_t n = readlinkat(src_dir, name, target, sizeof(target) - 1);
        if (n < 0)
                return np_fail(error, errno, "%s: cannot read the symbolic link: %s", shown, g_strerror(errno));
        target[n] = '\0';
        struct stat st;
        if (fstatat(src_dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !same_stat(was, &st, true))
                return np_fail(error, ESTALE, "%s changed while it was read; nothing quarantined", shown);
        if (symlinkat(target, dst_dir, dst_name) < 0)
                return np_fail(error, errno, "%s: cannot make its copy: %s", shown, g_strerror(errno));
        if (fchownat(dst_dir, dst_name, 0, 0, AT_SYMLINK_NOFOLLOW) < 0)
                return np_fail(error, errno, "%s: cannot make its copy root's: %s", shown, g_strerror(errno));
        return 0;
}

/* An entry a directory's quarantine cannot take: one line naming it. */
static int refuse_kind(const TreeEntry *te, GError **error) {
        if (kind_of(te->st.st_mode))
                return 0;
        g_autofree char *shown = show_text(te->path);
        const char *what = S_ISFIFO(te->st.st_mode) ? "fifo" : S_ISSOCK(te->st.st_mode) ? "socket" : "device";
        return np_fail(error, EINVAL, "%s is a %s: a directory is quarantined only when it holds nothing but "
                                      "directories, regular files and symbolic links; nothing quarantined",
                       shown, what);
}

/* The walk that sizes a directory before its quarantine (and refuses what it cannot take). */
static int measure_visit(void *userdata, const TreeEntry *te, int fd, int *ret_mirror_fd, uint64_t *ret_tag,
                         GError **error) {
        (void) ret_mirror_fd;
        (void) ret_tag;
        if (S_ISREG(te->st.st_mode))
                *(uint64_t *) userdata += (uint64_t) te->st.st_size;
        int r = refuse_kind(te, error);
        return r < 0 ? r : fd >= 0;
}

/* The walk that copies a directory: the mirror is the copy; tags are manifest indexes + 1. */
typedef struct CopyOut {
        QOp *op;
        QManifest *m;
} CopyOut;

static int copy_visit(void *userdata, const TreeEntry *te, int fd, int *ret_mirror_fd, uint64_t *ret_tag,
                      GError **error) {
        CopyOut *c = userdata;
        g_autofree char *shown = show_text(te->path);
        int r = refuse_kind(te, error);
        if (r < 0)
                return r;
        if (te->depth == 0 && !same_entry(c->op->q, &te->st))
                return np_fail(error, ESTALE, "%s is no longer the directory the audit found; nothing quarantined",
                               shown);
        const char *dst = te->depth == 0 ? ITEM_TREE : te->name;
        if (S_ISREG(te->st.st_mode))
                r = copy_file_out(c->op, te->dir_fd, te->name, &te->st, shown, te->mirror_fd, dst, error);
        else if (S_ISLNK(te->st.st_mode))
                r = copy_link_out(te->dir_fd, te->name, &te->st, shown, te->mirror_fd, dst, error);
        else if (mkdirat(te->mirror_fd, dst, 0700) < 0)
                r = np_fail(error, errno, "%s: cannot make its copy: %s", shown, g_strerror(errno));
        else {
                *ret_mirror_fd = openat(te->mirror_fd, dst, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (*ret_mirror_fd < 0 || fchown(*ret_mirror_fd, 0, 0) < 0)
                        r = np_fail(error, errno, "%s: cannot open its copy: %s", shown, g_strerror(errno));
        }
        if (r < 0)
                return r;
        int64_t i = qmanifest_add(c->m, (int64_t) te->parent_tag - 1, te->depth == 0 ? base_of(c->op->q->path) : te->name,
                                  &te->st);
        if (i < 0)
                return np_fail(error, EEXIST, "%s is listed twice by its directory", shown);
        *ret_tag = (uint64_t) i + 1;
        return fd >= 0;
}

/* A directory copied whole: unchanged meanwhile (no entry added or removed), its copy fsynced. */
static int copy_leave(void *userdata, const TreeEntry *te, int fd, int mirror_fd, uint64_t tag, GError **error) {
        (void) userdata;
        (void) tag;
        g_autofree char *shown = show_text(te->path);
        struct stat st;
        if (fstat(fd, &st) < 0)
                return np_fail(error, errno, "%s: cannot stat: %s", shown, g_strerror(errno));
        if (!same_stat(&te->st, &st, false))
                return np_fail(error, ESTALE, "%s changed while it was copied (an entry added or removed); nothing "
                                              "quarantined", shown);
        return fsync(mirror_fd) < 0 ? np_fail(error, errno, "%s: fsync of its copy: %s", shown, g_strerror(errno)) : 0;
}

/* The directory PATH copied as the item directory NAME: NAME/tree, then NAME/manifest. */
static int copy_dir_out(QOp *op, int parent, GError **error) {
        _cleanup_close_ int item = -1;
        g_autofree char *qparent = g_strdup_printf("quarantine/%s", op->q->share);
        int r = open_dir0700(op->qdir, qparent, op->q->name, &item, error);
        if (r < 0)
                return r;
        g_autoptr(QManifest) m = qmanifest_new();
        CopyOut c = { op, m };
        static const TreeOps ops = { copy_visit, copy_leave };
        g_autofree char *top = raw_path(op);
        r = tree_walk(parent, item, base_of(op->q->path), top, 0, AUDIT_MAX_DEPTH, &ops, &c, error);
        if (r < 0)
                return r;
        g_autofree char *mshown = g_strdup_printf("%s/" ITEM_MANIFEST, op->qshown);
        r = qmanifest_write(m, item, ITEM_MANIFEST, mshown, error);
        return r < 0 ? r : fsync_dir(item, op->qshown, error);
}

static int step_q_copy(void *p, GError **error) {
        QOp *op = p;
        QuarantineItem *q = op->q;
        _cleanup_close_ int parent = -1;
        int r = open_parent(op->root, q->share, q->path, &parent, error);
        if (r < 0)
                return r;
        r = remove_item(op, error); /* a leftover of an attempt */
        if (r < 0)
                return r;
        copy_start(op);
        struct stat was = stat_of_item(q);
        if (is_dir(q))
                r = copy_dir_out(op, parent, error);
        else if (strcmp(q->kind, "symlink") == 0)
                r = copy_link_out(parent, base_of(q->path), &was, op->shown, op->qdir, q->name, error);
        else
                r = copy_file_out(op, parent, base_of(q->path), &was, op->shown, op->qdir, q->name, error);
        if (r < 0)
                return r;
        g_autofree char *qshown = g_strdup_printf("quarantine/%s", q->share);
        return fsync_dir(op->qdir, qshown, error);
}

static int undo_q_copy(void *p, GError **error) {
        return remove_item(p, error);
}

/* The walk that checks an original directory against the manifest of its copy. strict: the
 * original as it was copied (every entry there, directories' mtimes too); otherwise what is left
 * of it while it is removed (entries may be gone). */
typedef struct Check {
        const QManifest *m;
        bool strict;
        size_t seen;
} Check;

static int check_visit(void *userdata, const TreeEntry *te, int fd, int *ret_mirror_fd, uint64_t *ret_tag,
                       GError **error) {
        Check *c = userdata;
        (void) ret_mirror_fd;
        int64_t i = te->depth == 0 ? 0 : qmanifest_find(c->m, (int64_t) te->parent_tag - 1, te->name);
        const QManifestEntry *me = qmanifest_get(c->m, i);
        g_autofree char *shown = show_text(te->path);
        if (!me)
                return np_fail(error, ESTALE, "%s is new since the copy", shown);
        struct stat was = {
                .st_ino = (ino_t) me->ino,
                .st_mode = me->mode,
                .st_size = (off_t) me->size,
                .st_mtim = { .tv_sec = me->mtime, .tv_nsec = me->mtime_nsec },
        };
        bool dir = S_ISDIR(te->st.st_mode);
        if (!(dir && !c->strict ? was.st_ino == te->st.st_ino && S_ISDIR(was.st_mode) : same_stat(&was, &te->st, !dir)))
                return np_fail(error, ESTALE, "%s changed since the copy", shown);
        c->seen++;
        *ret_tag = (uint64_t) i + 1;
        return fd >= 0;
}

/* The entry `name` of parent (the original, or its name while it is removed) still what was
 * copied: 0, or -ESTALE saying what differs. */
static int check_original(QOp *op, const QManifest *m, int parent, const char *name, bool strict, GError **error) {
        Check c = { m, strict, 0 };
        static const TreeOps ops = { check_visit, NULL };
        g_autofree char *top = raw_path(op);
        int r = tree_walk(parent, -1, name, top, 0, AUDIT_MAX_DEPTH, &ops, &c, error);
        if (r < 0)
                return r;
        if (strict && c.seen != qmanifest_count(m))
                return np_fail(error, ESTALE, "%s lacks %zu entries it had when it was copied", op->shown,
                               qmanifest_count(m) - c.seen);
        return 0;
}

/* One rename beside PATH, never over an entry (the attribute lifted for it at the root). */
static int rename_beside(QOp *op, int parent, const char *from, const char *to, GError **error) {
        bool lifted = false;
        int r = lift(op, &lifted, error);
        if (r < 0)
                return r;
        if (renameat2(parent, from, parent, to, RENAME_NOREPLACE) < 0) {
                g_autofree char *f = show_text(from), *t = show_text(to);
                r = np_fail(error, errno, "%s: cannot rename %s to %s: %s", op->q->share, f, t,
                            errno == EEXIST ? "something is there again" : g_strerror(errno));
        }
        r = unlift(op, lifted, r, error);
        return r < 0 ? r : fsync_dir(parent, op->shown, error);
}

/* The original directory removed when it is what was copied (see the header). */
static int remove_dir_original(QOp *op, int parent, GError **error) {
        QuarantineItem *q = op->q;
        const char *base = base_of(q->path);
        g_autoptr(QManifest) m = NULL;
        _cleanup_close_ int item = -1;
        int r = safepath_openat(op->qdir, op->qshown, q->name, O_RDONLY | O_DIRECTORY, 0, &item, error);
        if (r < 0)
                return r;
        g_autofree char *mshown = g_strdup_printf("%s/" ITEM_MANIFEST, op->qshown);
        r = qmanifest_read(item, ITEM_MANIFEST, mshown, &m, error);
        if (r < 0)
                return r;
        struct stat st;
        if (fstatat(parent, op->trash, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno != ENOENT)
                        return np_fail(error, errno, "%s/%s: cannot stat: %s", q->share, op->trash, g_strerror(errno));
                if (fstatat(parent, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return errno == ENOENT ? 0 : np_fail(error, errno, "%s: cannot stat: %s", op->shown, g_strerror(errno));
                g_autoptr(GError) why = NULL;
                r = check_original(op, m, parent, base, true, &why);
                if (r == -ESTALE)
                        return np_fail(error, ESTALE, "%s is no longer what was copied (%s): left in place; the copy is "
                                                      "kept as quarantined item %s", op->shown, why->message, q->name);
                if (r < 0) {
                        g_propagate_error(error, TAKE_PTR(why));
                        return r;
                }
                r = rename_beside(op, parent, base, op->trash, error);
                if (r < 0)
                        return r;
        }
        g_autoptr(GError) why = NULL;
        r = check_original(op, m, parent, op->trash, false, &why);
        if (r == -ESTALE) {
                g_autoptr(GError) back = NULL;
                bool moved_back = rename_beside(op, parent, op->trash, base, &back) >= 0;
                return np_fail(error, ESTALE, "%s changed while it was removed (%s): what is left of it is %s%s; the "
                                              "copy is kept as quarantined item %s", op->shown, why->message,
                               moved_back ? "back in place" : "left as ", moved_back ? "" : op->trash, q->name);
        }
        if (r < 0) {
                g_propagate_error(error, TAKE_PTR(why));
                return r;
        }
        r = remove_beside(op, parent, op->trash, error);
        return r < 0 ? r : fsync_dir(parent, op->shown, error);
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
        if (is_dir(q))
                return remove_dir_original(op, parent, error);
        const char *base = base_of(q->path);
        struct stat st;
        if (fstatat(parent, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : np_fail(error, errno, "%s: cannot stat: %s", shown, g_strerror(errno));
        if (!same_entry(q, &st))
                return np_fail(error, ESTALE,
                               "%s is no longer what was copied (inode %ju, size %jd; copied: inode %" PRIu64 ", size %" PRIu64
                               "): left in place; the copy is kept as quarantined item %s",
                               shown, (uintmax_t) st.st_ino, (intmax_t) st.st_size, q->ino, q->size, q->name);
        r = remove_beside(op, parent, base, error);
        return r < 0 ? r : fsync_dir(parent, shown, error);
}

static const Step quarantine_steps[] = {
        { "copy", step_q_copy, undo_q_copy, NULL },
        { "remove", step_q_remove, NULL, NULL },
};
static const StepTable quarantine_table = { "quarantine", quarantine_steps, G_N_ELEMENTS(quarantine_steps) };

/* ---- restore: copy, place, remove ---- */

/* The temporary entry beside PATH removed (a leftover, or an undo): only when it is of the kind
 * a restore of the item makes. */
static int remove_tmp(QOp *op, int parent, GError **error) {
        struct stat st;
        if (fstatat(parent, op->tmp, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : np_fail(error, errno, "%s/%s: cannot stat: %s", op->q->share, op->tmp,
                                                     g_strerror(errno));
        if (is_dir(op->q) ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
                return np_fail(error, EEXIST, "%s: %s is not nfsprov's temporary %s; leaving it", op->q->share, op->tmp,
                               is_dir(op->q) ? "directory" : "file");
        return remove_beside(op, parent, op->tmp, error);
}

/* The original's owner, mode and mtime on fd, or on `name` of dir (fd < 0: a symbolic link, whose
 * mode is left). */
static int put_meta(int fd, int dir, const char *name, uint32_t uid, uint32_t gid, uint32_t mode, int64_t mtime,
                    long nsec, const char *shown, GError **error) {
        struct timespec times[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_sec = mtime, .tv_nsec = nsec } };
        bool ok = fd >= 0 ? fchown(fd, uid, gid) == 0 && fchmod(fd, mode & 07777) == 0 && futimens(fd, times) == 0
                          : fchownat(dir, name, uid, gid, AT_SYMLINK_NOFOLLOW) == 0 &&
                                    utimensat(dir, name, times, AT_SYMLINK_NOFOLLOW) == 0;
        if (!ok)
                return np_fail(error, errno, "%s: cannot set the original's owner, mode and mtime: %s", shown,
                               g_strerror(errno));
        return fd < 0 || fsync(fd) == 0 ? 0 : np_fail(error, errno, "%s: fsync: %s", shown, g_strerror(errno));
}

/* The quarantined file `name` of src_dir copied to the new file dst_name of dst_dir with the
 * original's owner, mode and mtime, fsynced. lifted_create: the attribute lifted for the instant
 * of its creation (at the share's root). */
static int copy_file_in(QOp *op, int src_dir, const char *name, const char *src_shown, int dst_dir, const char *dst_name,
                        const char *dst_shown, bool lifted_create, uint32_t uid, uint32_t gid, uint32_t mode,
                        int64_t mtime, long nsec, GError **error) {
        _cleanup_close_ int src = openat(src_dir, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
        if (src < 0)
                return np_fail(error, errno, "%s: cannot open: %s", src_shown, g_strerror(errno));
        bool lifted = false;
        int r = lifted_create ? lift(op, &lifted, error) : 0;
        if (r < 0)
                return r;
        _cleanup_close_ int dst = openat(dst_dir, dst_name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (dst < 0)
                r = np_fail(error, errno, "%s: cannot create it: %s", dst_shown, g_strerror(errno));
        r = unlift(op, lifted, r, error);
        if (r < 0)
                return r;
        r = copy_data(op, src, dst, src_shown, error);
        return r < 0 ? r : put_meta(dst, -1, NULL, uid, gid, mode, mtime, nsec, dst_shown, error);
}

/* The walk that builds a directory's restore: the quarantined copy NAME/tree walked, the
 * temporary directory beside PATH its mirror; tags are manifest indexes + 1. */
typedef struct CopyIn {
        QOp *op;
        const QManifest *m;
        size_t prefix;  /* the length of the walk's top path */
        size_t seen;
} CopyIn;

/* Where the walk's entry is restored: SHARE/PATH/..., shown. */
static char *restored_shown(const CopyIn *c, const TreeEntry *te) {
        g_autofree char *p = g_strdup_printf("%s/%s%s", c->op->q->share, c->op->q->path, te->path + c->prefix);
        return show_text(p);
}

static int copy_in_visit(void *userdata, const TreeEntry *te, int fd, int *ret_mirror_fd, uint64_t *ret_tag,
                         GError **error) {
        CopyIn *c = userdata;
        QOp *op = c->op;
        int64_t i = te->depth == 0 ? 0 : qmanifest_find(c->m, (int64_t) te->parent_tag - 1, te->name);
        const QManifestEntry *me = qmanifest_get(c->m, i);
        g_autofree char *shown = show_text(te->path);
        if (!me || (me->mode & S_IFMT) != (te->st.st_mode & S_IFMT))
                return np_fail(error, EIO, "%s is not in its manifest as it is: the quarantined copy was changed; "
                                           "nothing restored", shown);
        const char *dst = te->depth == 0 ? op->tmp : te->name;
        g_autofree char *dst_shown = restored_shown(c, te);
        int r = 0;
        if (S_ISREG(me->mode))
                r = copy_file_in(op, te->dir_fd, te->name, shown, te->mirror_fd, dst, dst_shown, false, me->uid,
                                 me->gid, me->mode, me->mtime, me->mtime_nsec, error);
        else if (S_ISLNK(me->mode)) {
                char target[PATH_MAX];
                ssize_t n = readlinkat(te->dir_fd, te->name, target, sizeof(target) - 1);
                if (n < 0)
                        return np_fail(error, errno, "%s: cannot read: %s", shown, g_strerror(errno));
                target[n] = '\0';
                if (symlinkat(target, te->mirror_fd, dst) < 0)
                        return np_fail(error, errno, "%s: cannot make the symbolic link: %s", dst_shown, g_strerror(errno));
                r = put_meta(-1, te->mirror_fd, dst, me->uid, me->gid, me->mode, me->mtime, me->mtime_nsec, dst_shown,
                             error);
        } else {
                bool lifted = false;
                r = te->depth == 0 ? lift(op, &lifted, error) : 0;
                if (r < 0)
                        return r;
                if (mkdirat(te->mirror_fd, dst, 0700) < 0)
                        r = np_fail(error, errno, "%s: cannot make it: %s", dst_shown, g_strerror(errno));
                r = unlift(op, lifted, r, error);
                if (r < 0)
                        return r;
                *ret_mirror_fd = openat(te->mirror_fd, dst, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (*ret_mirror_fd < 0)
                        return np_fail(error, errno, "%s: cannot open it: %s", dst_shown, g_strerror(errno));
        }
        if (r < 0)
                return r;
        c->seen++;
        *ret_tag = (uint64_t) i + 1;
        return fd >= 0;
}

/* A directory built whole: its owner, mode and mtime, after what it holds; fsynced. */
static int copy_in_leave(void *userdata, const TreeEntry *te, int fd, int mirror_fd, uint64_t tag, GError **error) {
        CopyIn *c = userdata;
        (void) fd;
        const QManifestEntry *me = qmanifest_get(c->m, (int64_t) tag - 1);
        g_autofree char *shown = restored_shown(c, te);
        return put_meta(mirror_fd, -1, NULL, me->uid, me->gid, me->mode, me->mtime, me->mtime_nsec, shown, error);
}

/* The item directory's copy built as the temporary directory beside PATH. */
static int copy_dir_in(QOp *op, int parent, GError **error) {
        _cleanup_close_ int item = -1;
        int r = safepath_openat(op->qdir, op->qshown, op->q->name, O_RDONLY | O_DIRECTORY, 0, &item, error);
        if (r < 0)
                return r;
        g_autoptr(QManifest) m = NULL;
        g_autofree char *mshown = g_strdup_printf("%s/" ITEM_MANIFEST, op->qshown);
        r = qmanifest_read(item, ITEM_MANIFEST, mshown, &m, error);
        if (r < 0)
                return r;
        g_autofree char *tshown = g_strdup_printf("%s/" ITEM_TREE, op->qshown);
        CopyIn c = { op, m, strlen(tshown), 0 };
        static const TreeOps ops = { copy_in_visit, copy_in_leave };
        r = tree_walk(item, parent, ITEM_TREE, tshown, 0, AUDIT_MAX_DEPTH, &ops, &c, error);
        if (r < 0)
                return r;
        if (c.seen != qmanifest_count(m))
                return np_fail(error, EIO, "%s lacks %zu entries of its manifest: the quarantined copy was changed; "
                                           "nothing restored", tshown, qmanifest_count(m) - c.seen);
        return fsync_dir(parent, op->shown, error);
}

static int step_r_copy(void *p, GError **error) {
        QOp *op = p;
        QuarantineItem *q = op->q;
        if (strcmp(q->kind, "symlink") == 0)
                return 0; /* a symbolic link is made where it belongs by place */
        _cleanup_close_ int parent = -1;
        int r = open_parent(op->root, q->share, q->path, &parent, error);
        if (r < 0)
                return r;
        r = remove_tmp(op, parent, error);
        if (r < 0)
                return r;
        copy_start(op);
        if (is_dir(q))
                return copy_dir_in(op, parent, error);
        g_autofree char *tmp_shown = g_strdup_printf("%s/%s", q->share, op->tmp);
        return copy_file_in(op, op->qdir, q->name, op->qshown, parent, op->tmp, tmp_shown, true, q->uid, q->gid,
                            q->mode, q->mtime, q->mtime_nsec, error);
}

static int undo_r_copy(void *p, GError **error) {
        QOp *op = p;
        if (strcmp(op->q->kind, "symlink") == 0)
                return 0;
        _cleanup_close_ int parent = -1;
        int r = open_parent_if_any(op, &parent, error);
        return r <= 0 ? r : remove_tmp(op, parent, error);
}

/* PATH made: the temporary file or directory renamed there (never over an entry), or the
 * symbolic link made. Done already (the temporary entry gone and PATH the restored one): 0. */
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
                /* renamed before a crash? PATH must then be the restored file or directory */
                struct stat was = stat_of_item(q);
                if (fstatat(parent, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && g_strcmp0(kind_of(st.st_mode), q->kind) == 0 &&
                    (is_dir(q) || st.st_size == was.st_size) && st.st_mtim.tv_sec == q->mtime &&
                    st.st_mtim.tv_nsec == q->mtime_nsec)
                        return 0;
                return np_fail(error, EIO, "%s: neither the restored copy nor its temporary %s is there; the "
                                           "quarantined copy is kept", shown, op->tmp);
        }
        return rename_beside(op, parent, op->tmp, base, error);
}

static int step_r_remove(void *p, GError **error) {
        return remove_item(p, error);
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
        op->trash = g_strdup_printf(".nfsprov-quarantine-%" PRId64 ".part", q->id);
        g_autofree char *path_shown = show_text(q->path);
        op->shown = g_strdup_printf("%s/%s", q->share, path_shown);
        op->qshown = g_strdup_printf("quarantine/%s/%s", q->share, q->name);
        g_autoptr(GError) err = NULL;
        int r = e->sys.fs->open_root(e->config, q->share, &op->root, &err);
        if (r == -ENOENT)
                return np_fail(error, EBUSY, "%s; run `nfsprov reconcile` to mount it again", err->message);
        if (r < 0) {
                g_propagate_error(error, TAKE_PTR(err));
                return r;
        }
        op->at = (EngineRoot) { e, q->share, op->root };
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
                if (!kind_of(st.st_mode))
                        return np_fail(error, EINVAL, "quarantine %s/%s: it is a special file; only regular files, "
                                                      "symbolic links and directories can be quarantined (nfsprov "
                                                      "audit --remove removes it)",
                                       name, path_shown);
                if (fstat(root, &rst) == 0 && rst.st_dev != st.st_dev)
                        return np_fail(error, EINVAL, "quarantine %s/%s: it is on another filesystem", name, path_shown);
                q->kind = g_strdup(kind_of(st.st_mode));
                q->size = (uint64_t) st.st_size;
                if (S_ISDIR(st.st_mode)) {
                        /* all it holds sized, and refused when it cannot be taken whole */
                        q->size = 0;
                        static const TreeOps measure = { measure_visit, NULL };
                        g_autofree char *top = g_strdup_printf("%s/%s", name, path);
                        r = tree_walk(parent, -1, base_of(path), top, 0, AUDIT_MAX_DEPTH, &measure, &q->size, &err);
                        if (r == -ELOOP)
                                return np_fail(error, EINVAL, "quarantine %s/%s: it holds directories more than %u "
                                                              "levels deep; refused (nfsprov audit --remove removes it)",
                                               name, path_shown, AUDIT_MAX_DEPTH);
                        if (r < 0)
                                return np_fail(error, -r, "quarantine %s/%s: %s", name, path_shown, err->message);
                }
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
        r = engine_get_ready_share(e, "restore", name, &s, error);
        if (r < 0)
                return r;
        g_autofree char *path_shown = show_text(q->path);
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

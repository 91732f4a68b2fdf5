/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The guard's prevention (design: issue 12, "Prevention"): in mode enforce the root directory of
 * a mounted share carries the immutable attribute, so that no entry can be made, renamed or
 * removed there, by an NFS client or a local process, root included; nfsprovd lifts it only for
 * the instant it links, renames or unlinks one of its own entries (engine_guard_lift/restore,
 * around single system calls of the volume operations, never around qemu-img or a copy), under
 * the engine's lock. Where the attribute cannot be set, the share runs in detect mode and the
 * reason is kept (engine_guard_note) for show, the log and /metrics; after a crash, reconcile's
 * repair step "guard" brings the attribute back to the mode.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "engine_internal.h"
#include "error.h"
#include "immutable.h"
#include "log.h"
#include "macro.h"
#include "show.h"
#include "tree.h"

GuardMode engine_guard_mode(const Engine *e, const Share *s) {
        GuardMode m;
        if (s->guard && guard_mode_parse(s->guard, &m, NULL) == 0)
                return m;
        return e->config->guard;
}

const char *engine_guard_note(const Engine *e, const char *share) {
        return e->guard_notes ? g_hash_table_lookup(e->guard_notes, share) : NULL;
}

void engine_guard_forget(Engine *e, const char *share) {
        if (e->guard_notes)
                g_hash_table_remove(e->guard_notes, share);
}

/* The attribute cannot be set on this host: the share runs in detect mode; say why, once per
 * change of reason. */
static void note_cannot(Engine *e, const char *share, const GError *why) {
        const char *old = engine_guard_note(e, share);
        if (old && g_strcmp0(old, why->message) == 0)
                return;
        log_warning("%s: guard enforce runs as detect: %s", share, why->message);
        g_hash_table_insert(e->guard_notes, g_strdup(share), g_strdup(why->message));
}

static bool cannot_protect(int r) {
        return r == -EPERM || r == -EOPNOTSUPP;
}

bool engine_guard_needed(Engine *e, const Share *s) {
        bool on = false;
        if (e->sys.fs->is_protected(e->config, s->name, &on, NULL) < 0)
                return false; /* not mounted, or no such attribute: nothing to bring back */
        bool want = engine_guard_mode(e, s) == GUARD_ENFORCE;
        return on != want && !(want && engine_guard_note(e, s->name));
}

int engine_guard_apply(Engine *e, const Share *s, bool *ret_changed, GError **error) {
        bool want = engine_guard_mode(e, s) == GUARD_ENFORCE;
        g_autoptr(GError) err = NULL;
        bool changed = false;
        int r = e->sys.fs->protect(e->config, s->name, want, &changed, &err);
        if (r == -ENOENT) {
                r = 0; /* not mounted: the attribute is on the filesystem's root, set when it is mounted */
                changed = false;
        } else if (r < 0 && want && cannot_protect(r)) {
                note_cannot(e, s->name, err);
                r = 0;
                changed = false;
        } else if (r < 0) {
                g_propagate_error(error, TAKE_PTR(err));
                return r;
        } else
                engine_guard_forget(e, s->name);
        if (ret_changed)
                *ret_changed = changed;
        return r;
}

int engine_guard_lift(Engine *e, const char *share, int root, bool *ret_lifted, GError **error) {
        g_autofree char *what = g_strdup_printf("%s/%s", e->config->base, share);
        bool lifted = false;
        int r = immutable_set(root, what, false, &lifted, error);
        if (r == -EOPNOTSUPP) {
                g_clear_error(error);
                r = 0; /* no such attribute here: nothing to lift */
        }
        if (r < 0)
                return r;
        *ret_lifted = lifted;
        return 0;
}

int engine_guard_restore(Engine *e, const char *share, int root, bool lifted, GError **error) {
        if (!lifted)
                return 0;
        g_autofree char *what = g_strdup_printf("%s/%s", e->config->base, share);
        return immutable_set(root, what, true, NULL, error);
}

int engine_guard_end_lift(Engine *e, const char *share, int root, bool lifted, int r, GError **error) {
        g_autoptr(GError) err = NULL;
        int q = engine_guard_restore(e, share, root, lifted, &err);
        if (q >= 0)
                return r;
        if (r < 0) {
                log_error("%s", err->message);
                return r;
        }
        g_propagate_error(error, TAKE_PTR(err));
        return q;
}

int engine_guard_unlink_lifted(void *userdata, int dir_fd, const char *name, int flags, GError **error) {
        const EngineRoot *at = userdata;
        bool lifted = false;
        int r = engine_guard_lift(at->e, at->share, at->root, &lifted, error);
        if (r < 0)
                return r;
        if (unlinkat(dir_fd, name, flags) < 0 && errno != ENOENT) {
                g_autofree char *shown = show_text(name);
                r = np_fail(error, errno, "%s/%s: cannot remove it: %s", at->share, shown, g_strerror(errno));
        }
        return engine_guard_end_lift(at->e, at->share, at->root, lifted, r, error);
}

/* ---- removing a foreign entry (issue 12, "Resolution"): nfsprov audit --remove SHARE PATH ----
 *
 * What is removed is fixed when the request is accepted (engine_guard_target): PATH is reached
 * from the share's root one component at a time, following no symbolic link and leaving neither
 * the root's filesystem (st_dev) nor its mount (mount id); the entry's inode and birth time are its
 * identity, recorded with the operation (the note of its journal entries, server/steps.h).
 * Refused there with one line, before anything is recorded: a symbolic link or a mount point on
 * the way or at PATH, a file that is a volume of the manifest (its inode: a hard link of a volume,
 * or a volume moved there), and an entry of another kind than the last audit found at PATH (a
 * directory swapped for a symbolic link since, say).
 *
 * The removal (engine_guard_remove_path) finds PATH again and acts only when it is still the
 * recorded entry. It works depth first with an explicit stack, never by recursion: a directory is
 * listed whole, what is not a directory unlinked as it is listed (a symbolic link is removed,
 * never followed), the names of its subdirectories kept and each removed in turn the same way,
 * then the directory itself. Descriptors: those of the last REMOVE_OPEN_DIRS directories of the
 * current path stay open; a directory further up is reopened through ".." of its child when the
 * removal comes back to it, and must be the same directory (device and inode), else the removal
 * stops ("moved during the removal"). So a tree of any depth (a client can make one thousands of
 * levels deep) is removed with at most REMOVE_OPEN_DIRS + 3 descriptors, and memory for the names
 * on its path. Inside the tree, a volume's inode or a mount point stops the removal with one line:
 * what was removed stays removed, the rest stays at PATH. A directory found not empty when it is
 * removed (a client writing into it) is listed again, at most REMOVE_LISTS times in all.
 *
 * At the share's root the immutable attribute (guard enforce) is lifted only for the instant of
 * the unlink (or rmdir) of PATH itself.
 *
 * The removal works in place: a crash leaves PATH partly removed, and reconcile runs the removal
 * again (engine.c) while PATH is still the entry recorded (gone: finished; another entry there:
 * left in place, and said).
 */

#define REMOVE_OPEN_DIRS 64u
#define REMOVE_LISTS 8u
#define REMOVE_DIRENT_BUF (64u * 1024u)
#define REMOVE_SHOWN_LEVELS 6u /* a message names this many levels below PATH at each end, at most */

static bool same_mount(const AuditMeta *a, const AuditMeta *root) {
        return a->dev_major == root->dev_major && a->dev_minor == root->dev_minor &&
               (!a->mnt_id || !root->mnt_id || a->mnt_id == root->mnt_id);
}

static GuardTarget target_of(const AuditMeta *id) {
        return (GuardTarget) { .ino = id->ino, .btime_sec = id->btime_sec, .btime_nsec = id->btime_nsec };
}

static bool is_target(const AuditMeta *id, const GuardTarget *t) {
        return id->ino == t->ino && id->btime_sec == t->btime_sec && id->btime_nsec == t->btime_nsec;
}

char *engine_guard_target_note(const GuardTarget *t, const char *path) {
        return g_strdup_printf("ino=%" PRIu64 " btime=%" PRId64 ".%09" PRIu32 " path=%s", t->ino, t->btime_sec,
                               t->btime_nsec, path);
}

int engine_guard_target_parse(const char *note, GuardTarget *ret, const char **ret_path) {
        GuardTarget t = { 0 };
        int end = 0;
        if (!note || sscanf(note, "ino=%" SCNu64 " btime=%" SCNd64 ".%" SCNu32 " path=%n", &t.ino, &t.btime_sec,
                            &t.btime_nsec, &end) != 3 || end <= 0 || !note[end])
                return -EINVAL;
        *ret = t;
        *ret_path = note + end;
        return 0;
}

/* The inodes of the share's volumes (those nfsprov knows) -> their names. */
static int volume_inodes(Engine *e, const char *share, GHashTable **ret, GError **error) {
        g_autoptr(GPtrArray) vols = NULL;
        int r = state_volume_list(e->state, share, &vols, error);
        if (r < 0)
                return r;
        GHashTable *h = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
        for (guint i = 0; i < vols->len; i++) {
                const Volume *v = g_ptr_array_index(vols, i);
                if (v->ino)
                        g_hash_table_insert(h, g_memdup2(&v->ino, sizeof v->ino), g_strdup(v->name));
        }
        *ret = h;
        return 0;
}

/* The volume whose file id is (a regular file with a volume's inode), or NULL. */
static const char *volume_of(GHashTable *volumes, const AuditMeta *id) {
        return S_ISREG(id->mode) ? g_hash_table_lookup(volumes, &id->ino) : NULL;
}

/* PATH's directory opened from root one component at a time (*ret_parent), and PATH's entry as it
 * is (*ret): 1. 0: not there (a directory on the way gone, too). A symbolic link, another kind of
 * entry or another mount on the way, or PATH a mount point: -EINVAL. Messages are about PATH
 * (the caller names it). */
static int resolve(int root, const AuditMeta *root_id, const char *path, int *ret_parent, AuditMeta *ret, GError **error) {
        g_auto(GStrv) parts = g_strsplit(path, "/", -1);
        guint n = g_strv_length(parts);
        _cleanup_close_ int dir = fcntl(root, F_DUPFD_CLOEXEC, 3);
        if (dir < 0)
                return np_fail(error, errno, "cannot open the share's root: %s", g_strerror(errno));
        for (guint i = 0; i + 1 < n; i++) {
                int next = openat(dir, parts[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
                int err = next < 0 ? errno : 0;
                if (err == ENOENT)
                        return 0;
                g_autofree char *part = show_text(parts[i]);
                struct stat st;
                if (err == ELOOP || err == ENOTDIR)
                        return np_fail(error, EINVAL, "%s on the way is %s", part,
                                       fstatat(dir, parts[i], &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISLNK(st.st_mode)
                                               ? "no directory"
                                               : "a symbolic link; nfsprov never follows one here");
                if (err)
                        return np_fail(error, err, "cannot open %s: %s", part, g_strerror(err));
                close(dir);
                dir = next;
                AuditMeta id;
                int r = audit_meta_at(dir, "", &id);
                if (r < 0)
                        return np_fail(error, -r, "cannot stat %s: %s", part, g_strerror(-r));
                if (!same_mount(&id, root_id))
                        return np_fail(error, EINVAL, "%s on the way is a mount point; nfsprov never enters one", part);
        }
        int r = audit_meta_at(dir, parts[n - 1], ret);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return np_fail(error, -r, "cannot stat it: %s", g_strerror(-r));
        if (!same_mount(ret, root_id))
                return np_fail(error, EINVAL, "it is a mount point; unmount it first");
        *ret_parent = TAKE_FD(dir);
        return 1;
}

int engine_guard_target(Engine *e, const char *share, int root, const char *path, GuardTarget *ret, GError **error) {
        AuditMeta root_id, id;
        int r = audit_meta_at(root, "", &root_id);
        if (r < 0)
                return np_fail(error, -r, "cannot stat the share's root: %s", g_strerror(-r));
        _cleanup_close_ int parent = -1;
        r = resolve(root, &root_id, path, &parent, &id, error);
        if (r <= 0)
                return r;
        g_autoptr(GHashTable) volumes = NULL;
        r = volume_inodes(e, share, &volumes, error);
        if (r < 0)
                return r;
        const char *vol = volume_of(volumes, &id);
        if (vol)
                return np_fail(error, EINVAL, "it is the volume %s (the same inode); use nfsprov vol-delete", vol);
        /* what the last audit found there (when it listed the path): the same kind of entry */
        g_autoptr(Findings) f = engine_findings(e, share);
        const char *kind = audit_kind_of_mode(id.mode);
        for (guint i = 0; f && i < f->items->len; i++) {
                const Finding *it = g_ptr_array_index(f->items, i);
                if (it->finding == AUDIT_FOREIGN && strcmp(it->path, path) == 0 && strcmp(it->kind, kind) != 0)
                        return np_fail(error, EINVAL, "it is a %s now, the audit found a %s there; run nfsprov audit %s and "
                                                      "check it again",
                                       kind, it->kind, share);
        }
        *ret = target_of(&id);
        return 1;
}

/* One directory of the tree being removed. */
typedef struct RmDir {
        int fd;              /* -1 while closed (more than REMOVE_OPEN_DIRS levels up) */
        uint64_t ino;
        uint32_t dev_major, dev_minor;
        char *name;          /* its name in its parent */
        GByteArray *subdirs; /* the names of its subdirectories left to remove, each NUL-terminated */
        size_t next;         /* offset in subdirs of the next one */
        unsigned lists;      /* times it was listed */
} RmDir;

typedef struct Removal {
        Engine *e;
        const char *share;
        const char *path;    /* PATH, relative to the share's root */
        int root, parent;    /* the share's root and PATH's directory */
        AuditMeta root_id;
        GHashTable *volumes; /* the volumes' inodes -> names */
        GArray *stack;       /* RmDir: PATH (if a directory) down to the current directory */
        char *buf;           /* getdents64's */
        uint64_t removed;    /* entries removed */
} Removal;

static void removal_done(Removal *rm) {
        if (rm->stack) {
                for (guint i = 0; i < rm->stack->len; i++) {
                        RmDir *d = &g_array_index(rm->stack, RmDir, i);
                        closep(&d->fd);
                        g_free(d->name);
                        g_byte_array_unref(d->subdirs);
                }
                g_array_unref(rm->stack);
        }
        closep(&rm->parent);
        if (rm->volumes)
                g_hash_table_unref(rm->volumes);
        g_free(rm->buf);
}

static RmDir *rm_dir(Removal *rm, guint i) {
        return &g_array_index(rm->stack, RmDir, i);
}

static RmDir *rm_top(Removal *rm) {
        return rm_dir(rm, rm->stack->len - 1);
}

/* SHARE/PATH/... of the entry name (NULL: none) of the directory `levels` down the stack (1: PATH
 * itself), for a message: the levels below PATH, those in the middle left out when they are many. */
static char *rm_shown_at(Removal *rm, guint levels, const char *name) {
        g_autoptr(GString) s = g_string_new(NULL);
        g_autofree char *top = show_text(rm->path);
        g_string_append_printf(s, "%s/%s", rm->share, top);
        for (guint i = 1; i < levels; i++) {
                if (levels > 2 * REMOVE_SHOWN_LEVELS + 1 && i == REMOVE_SHOWN_LEVELS + 1) {
                        g_string_append_printf(s, "/...(%u levels)...", levels - 2 * REMOVE_SHOWN_LEVELS - 1);
                        i = levels - REMOVE_SHOWN_LEVELS;
                }
                g_autofree char *part = show_text(rm_dir(rm, i)->name);
                g_string_append_printf(s, "/%s", part);
        }
        if (name) {
                g_autofree char *part = show_text(name);
                g_string_append_printf(s, "/%s", part);
        }
        return g_string_free(TAKE_PTR(s), FALSE);
}

/* The same for the current directory. */
static char *rm_shown(Removal *rm, const char *name) {
        return rm_shown_at(rm, rm->stack->len, name);
}

static const char *base_name(const char *path) {
        const char *slash = strrchr(path, '/');
        return slash ? slash + 1 : path;
}

/* Unlink PATH itself (flags: AT_REMOVEDIR for a directory) from its directory; at the share's
 * root with the immutable attribute lifted for that instant. -ENOTEMPTY is returned without a
 * message (the caller lists the directory again). */
static int rm_unlink_path(Removal *rm, int flags, GError **error) {
        bool lifted = false;
        bool at_root = !strchr(rm->path, '/');
        int r = at_root ? engine_guard_lift(rm->e, rm->share, rm->root, &lifted, error) : 0;
        if (r < 0)
                return r;
        int err = unlinkat(rm->parent, base_name(rm->path), flags) < 0 ? errno : 0;
        if (err == EEXIST)
                err = ENOTEMPTY;
        g_autoptr(GError) restore_error = NULL;
        r = engine_guard_restore(rm->e, rm->share, rm->root, lifted, &restore_error);
        if (err && err != ENOENT && err != ENOTEMPTY) {
                if (r < 0)
                        log_error("%s", restore_error->message);
                g_autofree char *shown = rm_shown(rm, NULL);
                return np_fail(error, err, "cannot remove %s: %s", shown, g_strerror(err));
        }
        if (r < 0) {
                g_propagate_error(error, TAKE_PTR(restore_error));
                return r;
        }
        if (err == ENOTEMPTY)
                return -ENOTEMPTY;
        rm->removed += !err;
        return 0;
}

/* Unlink the entry name of the current directory (dirfd), which is no directory as far as its
 * listing (type, d_ino) tells; a directory after all: its name is kept with the subdirectories. */
static int rm_unlink(Removal *rm, int dirfd, const char *name, unsigned char type, uint64_t d_ino, GError **error) {
        if (type == DT_UNKNOWN || (type == DT_REG && g_hash_table_contains(rm->volumes, &d_ino))) {
                AuditMeta id;
                int r = audit_meta_at(dirfd, name, &id);
                if (r == -ENOENT)
                        return 0;
                if (r < 0) {
                        g_autofree char *shown = rm_shown(rm, name);
                        return np_fail(error, -r, "cannot stat %s: %s", shown, g_strerror(-r));
                }
                const char *vol = volume_of(rm->volumes, &id);
                if (vol) {
                        g_autofree char *shown = rm_shown(rm, name);
                        return np_fail(error, EBUSY, "%s is the volume %s (the same inode): not removed, and the removal "
                                                     "stopped there; move it back or use nfsprov vol-delete",
                                       shown, vol);
                }
                type = IFTODT(id.mode);
        }
        if (type != DT_DIR && unlinkat(dirfd, name, 0) == 0) {
                rm->removed++;
                return 0;
        }
        if (type == DT_DIR || errno == EISDIR) {
                g_byte_array_append(rm_top(rm)->subdirs, (const guint8 *) name, (guint) strlen(name) + 1);
                return 0;
        }
        if (errno == ENOENT)
                return 0;
        int err = errno;
        g_autofree char *shown = rm_shown(rm, name);
        return np_fail(error, err, "cannot remove %s: %s", shown, g_strerror(err));
}

/* List the current directory whole (again): unlink what is no directory, keep the names of its
 * subdirectories. */
static int rm_list(Removal *rm, GError **error) {
        RmDir *d = rm_top(rm);
        if (d->lists++ >= REMOVE_LISTS) {
                g_autofree char *shown = rm_shown(rm, NULL);
                return np_fail(error, EBUSY, "%s: entries keep appearing in it (a client writing there?); run the removal "
                                             "again",
                               shown);
        }
        g_byte_array_set_size(d->subdirs, 0);
        d->next = 0;
        int fd = d->fd;
        if (lseek(fd, 0, SEEK_SET) < 0) {
                int err = errno;
                g_autofree char *shown = rm_shown(rm, NULL);
                return np_fail(error, err, "cannot read the directory %s: %s", shown, g_strerror(err));
        }
        for (;;) {
                ssize_t n = getdents64(fd, rm->buf, REMOVE_DIRENT_BUF);
                if (n < 0) {
                        int err = errno;
                        g_autofree char *shown = rm_shown(rm, NULL);
                        return np_fail(error, err, "cannot read the directory %s: %s", shown, g_strerror(err));
                }
                if (n == 0)
                        return 0;
                for (ssize_t off = 0; off < n;) {
                        const struct dirent64 *de = (const struct dirent64 *) (rm->buf + off);
                        off += de->d_reclen;
                        const char *name = de->d_name;
                        if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0')))
                                continue;
                        int r = rm_unlink(rm, fd, name, de->d_type, de->d_ino, error);
                        if (r < 0)
                                return r;
                }
        }
}

/* Push the directory open on fd (id: its statx), named name in the current one (or PATH), and
 * list it. */
static int rm_push(Removal *rm, int fd, const AuditMeta *id, const char *name, GError **error) {
        RmDir d = {
                .fd = fd,
                .ino = id->ino,
                .dev_major = id->dev_major,
                .dev_minor = id->dev_minor,
                .name = g_strdup(name),
                .subdirs = g_byte_array_new(),
        };
        g_array_append_val(rm->stack, d);
        if (rm->stack->len > REMOVE_OPEN_DIRS) {
                RmDir *far = rm_dir(rm, rm->stack->len - 1 - REMOVE_OPEN_DIRS);
                closep(&far->fd);
                far->fd = -1;
        }
        return rm_list(rm, error);
}

/* Enter the next subdirectory of the current directory. */
static int rm_descend(Removal *rm, GError **error) {
        RmDir *d = rm_top(rm);
        g_autofree char *name = g_strdup((const char *) d->subdirs->data + d->next);
        d->next += strlen(name) + 1;
        int dirfd = d->fd;
        _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0 && (errno == ENOTDIR || errno == ELOOP))
                return rm_unlink(rm, dirfd, name, DT_UNKNOWN, 0, error); /* no longer a directory */
        if (fd < 0 && errno == ENOENT)
                return 0;
        AuditMeta id;
        int r = fd < 0 ? -errno : audit_meta_at(fd, "", &id);
        if (r < 0) {
                g_autofree char *shown = rm_shown(rm, name);
                return np_fail(error, -r, "cannot open the directory %s: %s", shown, g_strerror(-r));
        }
        if (!same_mount(&id, &rm->root_id)) {
                g_autofree char *shown = rm_shown(rm, name);
                return np_fail(error, EBUSY, "%s is a mount point: not entered, and the removal stopped there; unmount it "
                                             "and run the removal again",
                               shown);
        }
        return rm_push(rm, TAKE_FD(fd), &id, name, error);
}

/* The current directory is empty: remove it from its parent (reopened through ".." when it was
 * closed) and leave it; not empty after all: list it again. */
static int rm_ascend(Removal *rm, GError **error) {
        guint top = rm->stack->len - 1;
        RmDir *d = rm_dir(rm, top);
        int r;
        if (top == 0)
                r = rm_unlink_path(rm, AT_REMOVEDIR, error);
        else {
                RmDir *up = rm_dir(rm, top - 1);
                if (up->fd < 0) {
                        _cleanup_close_ int fd = openat(d->fd, "..", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        AuditMeta id;
                        r = fd < 0 ? -errno : audit_meta_at(fd, "", &id);
                        if (r < 0 || id.ino != up->ino || id.dev_major != up->dev_major || id.dev_minor != up->dev_minor) {
                                g_autofree char *shown = rm_shown_at(rm, top, NULL); /* the directory above */
                                if (r < 0)
                                        return np_fail(error, -r, "cannot reopen the directory %s: %s", shown, g_strerror(-r));
                                return np_fail(error, EAGAIN, "the directory %s was moved during the removal; run it again",
                                               shown);
                        }
                        up->fd = TAKE_FD(fd);
                }
                r = unlinkat(up->fd, d->name, AT_REMOVEDIR) < 0 ? -errno : 0;
                if (r == -EEXIST)
                        r = -ENOTEMPTY;
                if (r == 0)
                        rm->removed++;
                else if (r != -ENOENT && r != -ENOTEMPTY) {
                        g_autofree char *shown = rm_shown(rm, NULL);
                        return np_fail(error, -r, "cannot remove %s: %s", shown, g_strerror(-r));
                }
        }
        if (r == -ENOTEMPTY)
                return rm_list(rm, error);
        if (r < 0 && r != -ENOENT)
                return r;
        closep(&d->fd);
        g_free(d->name);
        g_byte_array_unref(d->subdirs);
        g_array_set_size(rm->stack, top);
        return 0;
}

int engine_guard_remove_path(Engine *e, const char *share, int root, const char *path, const GuardTarget *expect,
                             GError **error) {
        _cleanup_(removal_done) Removal rm = {
                .e = e,
                .share = share,
                .path = path,
                .root = root,
                .parent = -1,
                .stack = g_array_new(FALSE, FALSE, sizeof(RmDir)),
        };
        int r = audit_meta_at(root, "", &rm.root_id);
        if (r < 0)
                return np_fail(error, -r, "cannot stat the share's root: %s", g_strerror(-r));
        AuditMeta id;
        r = resolve(root, &rm.root_id, path, &rm.parent, &id, error);
        if (r <= 0)
                return r; /* gone: done */
        g_autofree char *shown = rm_shown(&rm, NULL);
        if (!is_target(&id, expect))
                return np_fail(error, ESTALE, "it is no longer the entry whose removal was asked (inode %" PRIu64
                                              ", asked: inode %" PRIu64 "): left in place",
                               id.ino, expect->ino);
        r = volume_inodes(e, share, &rm.volumes, error);
        if (r < 0)
                return r;
        const char *vol = volume_of(rm.volumes, &id);
        if (vol)
                return np_fail(error, EINVAL, "it is the volume %s (the same inode): not removed", vol);
        if (!S_ISDIR(id.mode))
                r = rm_unlink_path(&rm, 0, error);
        else {
                _cleanup_close_ int fd = openat(rm.parent, base_name(path), O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
                                                                                   O_NONBLOCK | O_CLOEXEC);
                AuditMeta opened;
                r = fd < 0 ? -errno : audit_meta_at(fd, "", &opened);
                if (r == -ENOENT)
                        return 0;
                if (r < 0)
                        return np_fail(error, -r, "cannot open the directory %s: %s", shown, g_strerror(-r));
                if (opened.ino != id.ino || !same_mount(&opened, &rm.root_id))
                        return np_fail(error, ESTALE, "it changed while it was opened: left in place");
                rm.buf = g_malloc(REMOVE_DIRENT_BUF);
                r = rm_push(&rm, TAKE_FD(fd), &opened, base_name(path), error);
                while (r >= 0 && rm.stack->len > 0) {
                        RmDir *d = rm_top(&rm);
                        r = d->next < d->subdirs->len ? rm_descend(&rm, error) : rm_ascend(&rm, error);
                }
        }
        if (r < 0)
                return r;
        if (fsync(rm.parent) < 0)
                return np_fail(error, errno, "%s: fsync of its directory: %s", shown, g_strerror(errno));
        log_info("remove %s: removed, %" PRIu64 " entr%s", shown, rm.removed, rm.removed == 1 ? "y" : "ies");
        return 0;
}

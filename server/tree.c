/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The iterative tree walk (see tree.h). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "macro.h"
#include "show.h"
#include "tree.h"

typedef struct Frame {
        int fd, mirror;         /* -1 while closed (more than TREE_OPEN_DIRS levels up); mirror: -1 without */
        dev_t dev, mdev;        /* who they are, to reopen them through ".." */
        ino_t ino, mino;
        bool has_mirror;
        GByteArray *names;      /* its entries left to visit, each NUL-terminated */
        size_t next;            /* offset in names of the next one */
        size_t path_len;        /* Walk.path's length for this directory */
        uint64_t tag;
        TreeEntry entry;        /* as visit saw it, for leave (name: owned) */
} Frame;

typedef struct Walk {
        const TreeOps *ops;
        void *userdata;
        unsigned max_depth;
        dev_t dev;              /* the top's parent's filesystem */
        int top_dir, top_mirror;
        const char *top_path;
        GString *path;
        GArray *stack;          /* Frame */
} Walk;

static void frame_clear(Frame *f) {
        closep(&f->fd);
        closep(&f->mirror);
        if (f->names)
                g_byte_array_unref(f->names);
        g_free((char *) f->entry.name);
}

static void walk_done(Walk *w) {
        if (w->stack) {
                for (guint i = 0; i < w->stack->len; i++)
                        frame_clear(&g_array_index(w->stack, Frame, i));
                g_array_unref(w->stack);
        }
        if (w->path)
                g_string_free(w->path, TRUE);
}

static Frame *frame_at(Walk *w, size_t i) {
        return &g_array_index(w->stack, Frame, i);
}

static int fail_at(GError **error, int err, const char *path, const char *what) {
        g_autofree char *shown = show_text(path);
        return np_fail(error, err, "%s: %s: %s", shown, what, g_strerror(err));
}

/* Every entry name of the directory open on fd, NUL-terminated, into names. */
static int list_names(int fd, const char *path, GByteArray *names, GError **error) {
        int dup = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dup < 0)
                return fail_at(error, errno, path, "cannot open");
        _cleanup_closedir_ DIR *d = fdopendir(dup);
        if (!d) {
                int err = errno;
                close(dup);
                return fail_at(error, err, path, "cannot read");
        }
        for (;;) {
                errno = 0;
                struct dirent *de = readdir(d);
                if (!de)
                        return errno ? fail_at(error, errno, path, "cannot read") : 0;
                const char *n = de->d_name;
                if (n[0] == '.' && (n[1] == '\0' || (n[1] == '.' && n[2] == '\0')))
                        continue;
                g_byte_array_append(names, (const guint8 *) n, (guint) strlen(n) + 1);
        }
}

/* The parent frame's descriptors back, through ".." of its child, when they were closed. */
static int reopen_parent(Walk *w, Frame *child, Frame *parent, GError **error) {
        if (parent->fd >= 0)
                return 0;
        g_autofree char *path = g_strndup(w->path->str, parent->path_len);
        _cleanup_close_ int fd = openat(child->fd, "..", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        _cleanup_close_ int mirror = -1;
        struct stat st, mst;
        if (fd < 0 || fstat(fd, &st) < 0)
                return fail_at(error, errno, path, "cannot open it again");
        if (st.st_ino != parent->ino || st.st_dev != parent->dev) {
                g_autofree char *shown = show_text(path);
                return np_fail(error, EAGAIN, "%s was moved while nfsprov read it; try again", shown);
        }
        if (parent->has_mirror) {
                mirror = openat(child->mirror, "..", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (mirror < 0 || fstat(mirror, &mst) < 0)
                        return fail_at(error, errno, path, "cannot open its copy again");
                if (mst.st_ino != parent->mino || mst.st_dev != parent->mdev) {
                        g_autofree char *shown = show_text(path);
                        return np_fail(error, EAGAIN, "the copy of %s was moved while nfsprov wrote it; try again",
                                       shown);
                }
        }
        parent->fd = TAKE_FD(fd);
        parent->mirror = TAKE_FD(mirror);
        return 0;
}

/* Visit the entry `name` of the directory dir_fd (mirror_fd), at depth, and push it when it is a
 * directory to read. w->path is its path. */
static int enter(Walk *w, int dir_fd, int mirror_fd, const char *name, unsigned depth, uint64_t parent_tag,
                 GError **error) {
        TreeEntry e = {
                .dir_fd = dir_fd,
                .mirror_fd = mirror_fd,
                .name = name,
                .path = w->path->str,
                .depth = depth,
                .parent_tag = parent_tag,
        };
        if (fstatat(dir_fd, name, &e.st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno == ENOENT && depth > 0)
                        return 0; /* gone since the listing */
                return fail_at(error, errno, e.path, errno == ENOENT ? "it is gone" : "cannot stat");
        }
        int mirror = -1;
        uint64_t tag = 0;
        if (!S_ISDIR(e.st.st_mode))
                return MIN(w->ops->visit(w->userdata, &e, -1, &mirror, &tag, error), 0);
        if (e.st.st_dev != w->dev) {
                g_autofree char *shown = show_text(e.path);
                return np_fail(error, EBUSY, "%s is a mount point of another filesystem (nfsprov enters none); "
                                             "unmount it first", shown);
        }
        if (w->max_depth && depth > w->max_depth) {
                g_autofree char *shown = show_text(w->top_path);
                return np_fail(error, ELOOP, "%s holds directories more than %u levels deep", shown, w->max_depth);
        }
        _cleanup_close_ int fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        struct stat st;
        if (fd < 0 && errno == ENOENT && depth > 0)
                return 0;
        if (fd < 0 && (errno == ENOTDIR || errno == ELOOP))
                errno = EAGAIN; /* replaced since the stat */
        if (fd < 0 || fstat(fd, &st) < 0)
                return fail_at(error, errno, e.path, "cannot open the directory");
        if (st.st_ino != e.st.st_ino || st.st_dev != e.st.st_dev) {
                g_autofree char *shown = show_text(e.path);
                return np_fail(error, EAGAIN, "%s was replaced while nfsprov read it; try again", shown);
        }
        e.st = st;
        int r = w->ops->visit(w->userdata, &e, fd, &mirror, &tag, error);
        _cleanup_close_ int m = mirror;
        if (r <= 0)
                return r;
        Frame f = {
                .fd = -1,
                .mirror = -1,
                .dev = st.st_dev,
                .ino = st.st_ino,
                .names = g_byte_array_new(),
                .path_len = w->path->len,
                .tag = tag,
                .entry = e,
        };
        f.entry.name = g_strdup(name);
        f.entry.path = NULL;
        if (m >= 0) {
                struct stat mst;
                if (fstat(m, &mst) < 0) {
                        frame_clear(&f);
                        return fail_at(error, errno, e.path, "cannot stat its copy");
                }
                f.has_mirror = true;
                f.mdev = mst.st_dev;
                f.mino = mst.st_ino;
        }
        r = list_names(fd, e.path, f.names, error);
        f.fd = TAKE_FD(fd);
        f.mirror = TAKE_FD(m);
        g_array_append_val(w->stack, f);
        if (w->stack->len > TREE_OPEN_DIRS) {
                Frame *far = frame_at(w, w->stack->len - 1 - TREE_OPEN_DIRS);
                closep(&far->fd);
                closep(&far->mirror);
                far->fd = far->mirror = -1;
        }
        return r;
}

/* The top frame's directory was visited whole: leave it, pop it. */
static int ascend(Walk *w, GError **error) {
        size_t top = w->stack->len - 1;
        Frame *f = frame_at(w, top);
        int r = top > 0 ? reopen_parent(w, f, frame_at(w, top - 1), error) : 0;
        if (r >= 0 && w->ops->leave) {
                g_string_truncate(w->path, f->path_len);
                TreeEntry e = f->entry;
                e.path = w->path->str;
                e.dir_fd = top > 0 ? frame_at(w, top - 1)->fd : w->top_dir;
                e.mirror_fd = top > 0 ? frame_at(w, top - 1)->mirror : w->top_mirror;
                r = w->ops->leave(w->userdata, &e, f->fd, f->mirror, f->tag, error);
        }
        frame_clear(f);
        g_array_set_size(w->stack, top);
        return r;
}

/* The next entry of the top frame. */
static int step(Walk *w, GError **error) {
        Frame *f = frame_at(w, w->stack->len - 1);
        const char *name = (const char *) f->names->data + f->next;
        f->next += strlen(name) + 1;
        g_string_truncate(w->path, f->path_len);
        g_string_append_c(w->path, '/');
        g_string_append(w->path, name);
        g_autofree char *copy = g_strdup(name); /* f->names may not move, but f may */
        return enter(w, f->fd, f->mirror, copy, w->stack->len, f->tag, error);
}

int tree_walk(int dir_fd, int mirror_fd, const char *name, const char *path, uint64_t tag, unsigned max_depth,
              const TreeOps *ops, void *userdata, GError **error) {
        struct stat st;
        if (fstat(dir_fd, &st) < 0)
                return fail_at(error, errno, path, "cannot stat its directory");
        _cleanup_(walk_done) Walk w = {
                .ops = ops,
                .userdata = userdata,
                .max_depth = max_depth,
                .dev = st.st_dev,
                .top_dir = dir_fd,
                .top_mirror = mirror_fd,
                .top_path = path,
                .path = g_string_new(path),
                .stack = g_array_new(FALSE, FALSE, sizeof(Frame)),
        };
        int r = enter(&w, dir_fd, mirror_fd, name, 0, tag, error);
        while (r >= 0 && w.stack->len > 0) {
                Frame *f = frame_at(&w, w.stack->len - 1);
                r = f->next < f->names->len ? step(&w, error) : ascend(&w, error);
        }
        return r;
}

/* ---- removal ---- */

typedef struct Removal {
        TreeUnlinkFn unlink_top;
        void *userdata;
} Removal;

static int remove_one(Removal *rm, const TreeEntry *e, int flags, GError **error) {
        if (e->depth == 0 && rm->unlink_top)
                return rm->unlink_top(rm->userdata, e->dir_fd, e->name, flags, error);
        if (unlinkat(e->dir_fd, e->name, flags) < 0 && errno != ENOENT)
                return fail_at(error, errno, e->path, "cannot remove it");
        return 0;
}

static int remove_visit(void *userdata, const TreeEntry *e, int fd, int *ret_mirror_fd, uint64_t *ret_tag,
                        GError **error) {
        (void) ret_mirror_fd;
        (void) ret_tag;
        return fd >= 0 ? 1 : remove_one(userdata, e, 0, error);
}

static int remove_leave(void *userdata, const TreeEntry *e, int fd, int mirror_fd, uint64_t tag, GError **error) {
        (void) fd;
        (void) mirror_fd;
        (void) tag;
        return remove_one(userdata, e, AT_REMOVEDIR, error);
}

int tree_remove(int dir_fd, const char *name, const char *path, TreeUnlinkFn unlink_top, void *userdata,
                GError **error) {
        struct stat st;
        if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : fail_at(error, errno, path, "cannot stat");
        static const TreeOps ops = { remove_visit, remove_leave };
        Removal rm = { unlink_top, userdata };
        return tree_walk(dir_fd, -1, name, path, 0, 0, &ops, &rm, error);
}

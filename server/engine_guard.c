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

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine_internal.h"
#include "error.h"
#include "immutable.h"
#include "log.h"
#include "macro.h"
#include "show.h"

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

/* ---- removing a foreign entry (issue 12, "Resolution") ---- */

/* Remove what dirfd's entry `name` is, not following a symbolic link; a directory with all it
 * holds (never another filesystem mounted inside: -EBUSY). */
static int remove_entry(int parent, const char *name, dev_t dev, const char *shown, GError **error) {
        struct stat st;
        if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : np_fail(error, errno, "%s: cannot stat: %s", shown, g_strerror(errno));
        if (S_ISDIR(st.st_mode)) {
                if (st.st_dev != dev)
                        return np_fail(error, EBUSY, "%s is a mount point of another filesystem; unmount it first", shown);
                int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return np_fail(error, errno, "%s: cannot open: %s", shown, g_strerror(errno));
                DIR *d = fdopendir(fd);
                if (!d) {
                        int err = errno;
                        close(fd);
                        return np_fail(error, err, "%s: cannot read: %s", shown, g_strerror(err));
                }
                int r = 0;
                struct dirent *de;
                while (r >= 0 && (errno = 0, de = readdir(d))) {
                        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                                continue;
                        g_autofree char *sub = g_strdup_printf("%s/%s", shown, de->d_name);
                        r = remove_entry(dirfd(d), de->d_name, dev, sub, error);
                }
                int err = errno;
                closedir(d);
                if (r < 0)
                        return r;
                if (err)
                        return np_fail(error, err, "%s: cannot read: %s", shown, g_strerror(err));
        }
        if (unlinkat(parent, name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0 && errno != ENOENT)
                return np_fail(error, errno, "%s: cannot remove it: %s", shown, g_strerror(errno));
        return 0;
}

int engine_guard_remove_path(Engine *e, const char *share, int root, const char *path, GError **error) {
        g_auto(GStrv) parts = g_strsplit(path, "/", -1);
        struct stat rst;
        if (fstat(root, &rst) < 0)
                return np_fail(error, errno, "%s: cannot stat the share's root: %s", share, g_strerror(errno));
        /* walk to the parent without following a symbolic link */
        _cleanup_close_ int dir = fcntl(root, F_DUPFD_CLOEXEC, 3);
        if (dir < 0)
                return np_fail(error, errno, "%s: %s", share, g_strerror(errno));
        guint n = g_strv_length(parts);
        for (guint i = 0; i + 1 < n; i++) {
                int next = openat(dir, parts[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (next < 0) {
                        if (errno == ENOENT)
                                return 0; /* gone already */
                        return np_fail(error, errno, "%s/%s: cannot open %s: %s", share, path, parts[i], g_strerror(errno));
                }
                close(dir);
                dir = next;
        }
        g_autofree char *shown_path = show_text(path);
        g_autofree char *shown = g_strdup_printf("%s/%s", share, shown_path);
        bool lifted = false;
        int r = n == 1 ? engine_guard_lift(e, share, root, &lifted, error) : 0;
        if (r < 0)
                return r;
        r = remove_entry(dir, parts[n - 1], rst.st_dev, shown, error);
        g_autoptr(GError) err = NULL;
        int q = engine_guard_restore(e, share, root, lifted, &err);
        if (r < 0)
                return r;
        if (q < 0) {
                g_propagate_error(error, TAKE_PTR(err));
                return q;
        }
        return fsync(dir) < 0 ? np_fail(error, errno, "%s: fsync: %s", shown, g_strerror(errno)) : 0;
}

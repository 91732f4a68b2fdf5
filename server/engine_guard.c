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
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* ---- removing a foreign entry (issue 12, "Resolution") ---- */

int engine_guard_remove_path(Engine *e, const char *share, int root, const char *path, GError **error) {
        g_auto(GStrv) parts = g_strsplit(path, "/", -1);
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
        g_autofree char *shown = g_strdup_printf("%s/%s", share, path);
        /* the attribute is lifted for the removal of the entry at the root itself, not of what it holds */
        EngineRoot at = { e, share, root };
        int r = tree_remove(dir, parts[n - 1], shown, n == 1 ? engine_guard_unlink_lifted : NULL, &at, error);
        if (r < 0)
                return r;
        g_autofree char *shown_path = show_text(shown);
        return fsync(dir) < 0 ? np_fail(error, errno, "%s: fsync: %s", shown_path, g_strerror(errno)) : 0;
}

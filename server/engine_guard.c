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

#include "engine_internal.h"
#include "error.h"
#include "immutable.h"
#include "log.h"

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

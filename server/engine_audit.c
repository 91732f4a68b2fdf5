/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The guard's audit in the engine (design: issue 12, "Detection" and "Reporting"): each share's
 * mounted tree against its manifest (server/audit.h), the findings kept per share from one audit
 * to the next (server/findings.h), one log line per new finding and one per resolved one,
 * bounded per share and audit.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine_internal.h"
#include "error.h"
#include "log.h"
#include "macro.h"
#include "show.h"

/* Log lines per share and audit for new (and for resolved) findings; the rest as a count. */
#define LOG_LINES_MAX 10u

static void log_changes(const char *share, GPtrArray *appeared, GPtrArray *resolved, const Findings *prev,
                        const Findings *now) {
        for (guint i = 0; i < appeared->len && i < LOG_LINES_MAX; i++) {
                const Finding *f = g_ptr_array_index(appeared, i);
                g_autofree char *path = show_text(f->path), *detail = show_text(f->detail);
                log_warning("guard %s: %s %s %s: %s", share, audit_finding_to_string(f->finding), f->kind, path, detail);
        }
        if (appeared->len > LOG_LINES_MAX)
                log_warning("guard %s: and %u more new findings", share, appeared->len - LOG_LINES_MAX);
        if ((now->omitted || (prev && prev->omitted)) &&
            (!prev || prev->count[AUDIT_FOREIGN] != now->count[AUDIT_FOREIGN]))
                log_warning("guard %s: %u foreign entries in all, %" G_GUINT64_FORMAT " beyond the %u listed", share,
                            now->count[AUDIT_FOREIGN], now->omitted, AUDIT_MAX_FOREIGN);
        for (guint i = 0; i < resolved->len && i < LOG_LINES_MAX; i++) {
                const Finding *f = g_ptr_array_index(resolved, i);
                g_autofree char *path = show_text(f->path);
                log_notice("guard %s: resolved: %s %s %s", share, audit_finding_to_string(f->finding), f->kind, path);
        }
        if (resolved->len > LOG_LINES_MAX)
                log_notice("guard %s: and %u more findings resolved", share, resolved->len - LOG_LINES_MAX);
}

static bool same_findings(const Findings *a, const Findings *b) {
        if (!a || !b)
                return !a && !b;
        if (a->items->len != b->items->len || memcmp(a->count, b->count, sizeof a->count) != 0 ||
            g_strcmp0(a->error, b->error) != 0)
                return false;
        for (guint i = 0; i < a->items->len; i++) {
                const Finding *x = g_ptr_array_index(a->items, i), *y = g_ptr_array_index(b->items, i);
                if (strcmp(x->path, y->path) != 0 || x->finding != y->finding || g_strcmp0(x->detail, y->detail) != 0)
                        return false;
        }
        return true;
}

static void set_findings(Engine *e, const char *share, Findings *f, bool *changed) {
        Findings *old = g_hash_table_lookup(e->findings, share);
        if (!same_findings(old, f))
                *changed = true;
        if (f)
                g_hash_table_insert(e->findings, g_strdup(share), f);
        else
                g_hash_table_remove(e->findings, share);
}

/* The ready volumes of the share as the scan compares them. */
static int manifest(Engine *e, const char *share, GPtrArray **ret_vols, GArray **ret, GError **error) {
        g_autoptr(GPtrArray) vols = NULL;
        int r = state_volume_list(e->state, share, &vols, error);
        if (r < 0)
                return r;
        GArray *a = g_array_new(false, true, sizeof(AuditVolume));
        for (guint i = 0; i < vols->len; i++) {
                const Volume *v = g_ptr_array_index(vols, i);
                if (v->status != VOLUME_READY)
                        continue; /* in an operation: reconcile finishes or undoes it first */
                AuditVolume av = { .name = v->name, .ino = v->ino, .capacity = v->capacity, .backing = v->backing };
                g_array_append_val(a, av);
        }
        *ret_vols = TAKE_PTR(vols);
        *ret = a;
        return 0;
}

static int audit_one(Engine *e, const Share *s, bool *changed, GError **error) {
        int64_t now = (int64_t) time(NULL);
        Findings *prev = g_hash_table_lookup(e->findings, s->name);
        if (engine_guard_mode(e, s) == GUARD_OFF || s->status != SHARE_READY) {
                g_hash_table_remove(e->audit_caches, s->name);
                set_findings(e, s->name, NULL, changed);
                return 0;
        }
        _cleanup_close_ int root = -1;
        g_autoptr(GError) err = NULL;
        int r = e->sys.fs->open_root(e->config, s->name, &root, &err);
        if (r < 0) {
                set_findings(e, s->name, findings_failed(prev, s->name, err->message, now), changed);
                return 0; /* a share that is not mounted is reconcile's to report */
        }
        g_autoptr(GPtrArray) vols = NULL;
        g_autoptr(GArray) av = NULL;
        r = manifest(e, s->name, &vols, &av, error);
        if (r < 0)
                return r;
        AuditCache *cache = g_hash_table_lookup(e->audit_caches, s->name);
        if (!cache) {
                cache = audit_cache_new();
                g_hash_table_insert(e->audit_caches, g_strdup(s->name), cache);
        }
        AuditOptions opt = { .max_capacity = e->config->max_capacity, .cache = cache };
        g_autoptr(GPtrArray) items = NULL;
        AuditStats stats;
        r = audit_scan(root, (const AuditVolume *) (void *) av->data, av->len, &opt, &items, &stats, &err);
        if (r < 0) {
                log_error("guard %s: the audit failed: %s", s->name, err->message);
                set_findings(e, s->name, findings_failed(prev, s->name, err->message, now), changed);
                return 0;
        }
        g_autoptr(GPtrArray) appeared = NULL, resolved = NULL;
        Findings *f = findings_update(prev, s->name, items, &stats, now, &appeared, &resolved);
        log_changes(s->name, appeared, resolved, prev, f);
        /* resolved points into prev, which set_findings frees: logged before */
        g_clear_pointer(&resolved, g_ptr_array_unref);
        set_findings(e, s->name, f, changed);
        return 0;
}

int engine_audit(Engine *e, const char *share, bool *ret_changed, GError **error) {
        bool changed = false;
        if (share) {
                g_autoptr(Share) s = NULL;
                int r = engine_get_share(e, "audit", share, &s, error);
                if (r < 0)
                        return r;
                r = audit_one(e, s, &changed, error);
                if (r < 0)
                        return r;
        } else {
                g_autoptr(GPtrArray) all = NULL;
                int r = state_share_list(e->state, &all, error);
                if (r < 0)
                        return r;
                /* shares gone since the last audit */
                GHashTableIter it;
                gpointer key;
                g_hash_table_iter_init(&it, e->findings);
                while (g_hash_table_iter_next(&it, &key, NULL)) {
                        bool found = false;
                        for (guint i = 0; i < all->len && !found; i++)
                                found = strcmp(((Share *) g_ptr_array_index(all, i))->name, key) == 0;
                        if (!found) {
                                g_hash_table_iter_remove(&it);
                                changed = true;
                        }
                }
                for (guint i = 0; i < all->len; i++) {
                        r = audit_one(e, g_ptr_array_index(all, i), &changed, error);
                        if (r < 0)
                                return r;
                }
        }
        if (ret_changed)
                *ret_changed = changed;
        return 0;
}

Findings *engine_findings(Engine *e, const char *share) {
        return findings_ref(g_hash_table_lookup(e->findings, share));
}

int engine_share_root(Engine *e, const char *share, int *ret_fd, GError **error) {
        return e->sys.fs->open_root(e->config, share, ret_fd, error);
}

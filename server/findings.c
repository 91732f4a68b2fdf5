/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "findings.h"

static void finding_free(Finding *f) {
        if (!f)
                return;
        g_free(f->path);
        g_free(f->detail);
        g_free(f);
}

static Finding *finding_copy(const Finding *f) {
        Finding *c = g_new(Finding, 1);
        *c = *f;
        c->path = g_strdup(f->path);
        c->detail = g_strdup(f->detail);
        return c;
}

static Findings *findings_new(const char *share, int64_t now) {
        Findings *f = g_new0(Findings, 1);
        f->refs = 1;
        f->share = g_strdup(share);
        f->audited_at = now;
        f->items = g_ptr_array_new_with_free_func((GDestroyNotify) finding_free);
        return f;
}

Findings *findings_ref(Findings *f) {
        if (f)
                g_atomic_int_inc(&f->refs);
        return f;
}

void findings_unref(Findings *f) {
        if (!f || !g_atomic_int_dec_and_test(&f->refs))
                return;
        g_free(f->share);
        g_ptr_array_unref(f->items);
        g_free(f->error);
        g_free(f);
}

static int by_path_finding(const char *path_a, AuditFinding fa, const char *path_b, AuditFinding fb) {
        int c = strcmp(path_a, path_b);
        return c ? c : (int) fa - (int) fb;
}

/* The last foreign path listed when the listing was cut (omitted > 0): beyond it, foreign
 * entries exist that were not listed. NULL when the listing was complete. */
static const char *item_bound(GPtrArray *items, uint64_t omitted) {
        for (guint i = items->len; omitted && i-- > 0;) {
                const AuditItem *it = g_ptr_array_index(items, i);
                if (it->finding == AUDIT_FOREIGN)
                        return it->path;
        }
        return NULL;
}

static const char *finding_bound(const Findings *f) {
        for (guint i = f ? f->items->len : 0; f && f->omitted && i-- > 0;) {
                const Finding *x = g_ptr_array_index(f->items, i);
                if (x->finding == AUDIT_FOREIGN)
                        return x->path;
        }
        return NULL;
}

/* Past the bound of a cut listing nothing is known of a foreign path. */
static bool beyond(const char *bound, const char *path, AuditFinding f) {
        return bound && f == AUDIT_FOREIGN && strcmp(path, bound) > 0;
}

Findings *findings_update(const Findings *prev, const char *share, GPtrArray *items, const AuditStats *stats,
                          int64_t now, GPtrArray **ret_new, GPtrArray **ret_resolved) {
        Findings *f = findings_new(share, now);
        f->audits = (prev ? prev->audits : 0) + 1;
        f->headers_read = (prev ? prev->headers_read : 0) + (stats ? stats->headers_read : 0);
        GPtrArray *appeared = g_ptr_array_new(), *resolved = g_ptr_array_new();
        guint j = 0, n_prev = prev ? prev->items->len : 0;
        uint64_t omitted = stats ? stats->foreign_omitted : 0;
        /* A listing cut at the bound (at most AUDIT_MAX_FOREIGN foreign items, the first by
         * path) says nothing of the foreign paths beyond it: a previous item there that is not
         * listed now is not resolved, and an item listed now that lay beyond the previous bound
         * is not new (it may have been there, unlisted). */
        const char *bound = item_bound(items, omitted), *prev_bound = finding_bound(prev);
        /* Both lists are sorted by path (and a path has one finding): one merge pass. */
        for (guint i = 0; i < items->len; i++) {
                const AuditItem *it = g_ptr_array_index(items, i);
                const Finding *old = NULL;
                while (j < n_prev) {
                        const Finding *p = g_ptr_array_index(prev->items, j);
                        int c = by_path_finding(p->path, p->finding, it->path, it->finding);
                        if (c > 0)
                                break;
                        j++;
                        if (c == 0) {
                                old = p;
                                break;
                        }
                        g_ptr_array_add(resolved, (gpointer) p);
                }
                Finding *n = g_new0(Finding, 1);
                *n = (Finding) {
                        .path = g_strdup(it->path),
                        .finding = it->finding,
                        .kind = it->kind,
                        .detail = g_strdup(it->detail),
                        .size = it->size,
                        .uid = it->uid,
                        .gid = it->gid,
                        .mtime = it->mtime,
                        .since = old ? old->since : now,
                };
                g_ptr_array_add(f->items, n);
                if (!old && !beyond(prev_bound, it->path, it->finding))
                        g_ptr_array_add(appeared, n);
                if (it->finding != AUDIT_FOREIGN && (unsigned) it->finding < _AUDIT_FINDING_MAX)
                        f->count[it->finding]++;
        }
        for (; j < n_prev; j++)
                g_ptr_array_add(resolved, g_ptr_array_index(prev->items, j));
        /* what lay beyond this listing's bound is not known to be gone */
        guint k = 0;
        for (guint i = 0; i < resolved->len; i++) {
                const Finding *p = g_ptr_array_index(resolved, i);
                if (!beyond(bound, p->path, p->finding))
                        resolved->pdata[k++] = (gpointer) p;
        }
        g_ptr_array_set_size(resolved, k);
        f->count[AUDIT_FOREIGN] = stats ? (unsigned) MIN(stats->foreign, (uint64_t) G_MAXUINT) : 0;
        f->omitted = omitted;
        if (ret_new)
                *ret_new = appeared;
        else
                g_ptr_array_unref(appeared);
        if (ret_resolved)
                *ret_resolved = resolved;
        else
                g_ptr_array_unref(resolved);
        return f;
}

Findings *findings_failed(const Findings *prev, const char *share, const char *error, int64_t now) {
        Findings *f = findings_new(share, now);
        f->audits = (prev ? prev->audits : 0) + 1;
        f->headers_read = prev ? prev->headers_read : 0;
        if (prev) {
                for (guint i = 0; i < prev->items->len; i++)
                        g_ptr_array_add(f->items, finding_copy(g_ptr_array_index(prev->items, i)));
                memcpy(f->count, prev->count, sizeof f->count);
                f->omitted = prev->omitted;
        }
        f->error = g_strdup(error);
        return f;
}

unsigned findings_total(const Findings *f) {
        unsigned n = 0;
        for (unsigned k = 0; f && k < _AUDIT_FINDING_MAX; k++)
                n += f->count[k];
        return n;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the guard knows about one share: the findings of its last audit (server/audit.h), each
 * with the time it was first seen, kept from one audit to the next so that `since` survives
 * repeated audits and a finding that goes away is known as resolved. A Findings is immutable
 * once made and refcounted: the engine keeps the current one per share, snapshots and API
 * answers hold references.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "audit.h"

typedef struct Finding {
        char *path;           /* relative to the share's root */
        AuditFinding finding;
        const char *kind;     /* static: "file", "directory", ... (audit.h) */
        char *detail;
        uint64_t size;
        uint32_t uid, gid;
        int64_t mtime;
        int64_t since;        /* unix seconds: the audit that first saw it */
} Finding;

typedef struct Findings {
        gint refs;
        char *share;
        int64_t audited_at;   /* unix seconds of the audit (or of the failed attempt) */
        GPtrArray *items;     /* Finding*, sorted by path */
        unsigned count[_AUDIT_FINDING_MAX]; /* foreign counts all, returned or not */
        uint64_t omitted;     /* foreign entries not in items (beyond the bound) */
        char *error;          /* the audit failed: why (items are then the last good ones) */
        uint64_t audits;      /* audits of the share since nfsprovd started, this one included */
        uint64_t headers_read;/* volume headers those audits read (the others were remembered) */
} Findings;

Findings *findings_ref(Findings *f);
void findings_unref(Findings *f);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Findings, findings_unref)

/* The findings of share after an audit that gave items (AuditItem*, sorted by path, as
 * audit_scan returns them) and stats, at time now. A finding of prev with the same path and
 * finding keeps its since. ret_new and ret_resolved (may be NULL): Finding* that appeared (in
 * the result) and that went away (in prev), borrowed. Where a listing was cut (more foreign
 * entries than listed: stats->foreign_omitted), nothing is concluded of the foreign paths past
 * its last listed one: not resolved, and not new when they lay past the previous cut. */
Findings *findings_update(const Findings *prev, const char *share, GPtrArray *items, const AuditStats *stats,
                          int64_t now, GPtrArray **ret_new, GPtrArray **ret_resolved);

/* After an audit that failed: prev's findings (none without prev), marked with the error. */
Findings *findings_failed(const Findings *prev, const char *share, const char *error, int64_t now);

/* The number of findings of every kind (foreign counted in full). */
unsigned findings_total(const Findings *f);

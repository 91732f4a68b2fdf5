/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The guard's detection, as a service of nfsprovd (design: issue 12, "Detection"): one thread
 * that audits the shares (engine_audit, server/engine.h) at start, every [shares]
 * audit_interval seconds, on request (guard_request: after reconcile, on demand) and whenever
 * the live watch (server/fswatch.h) sees a share's filesystem change, whoever changed it. Each
 * share whose guard is not off and that is mounted is watched; the watched set follows the
 * snapshot (created, deleted, mounted, mode changed) within a second. Changes of one share are
 * coalesced by the watch (GUARD_COALESCE_MS, per share): the first after a quiet window is
 * audited at once, those that follow within the window at its end; a delivery whose changes a
 * scan begun since has seen is not audited again. The audit of a change waits until operations
 * have been quiet for GUARD_QUIET_MS, at most GUARD_DEFER_MS. Audits run under engine_lock; when
 * findings changed the snapshot is published at once, so the API and /metrics show a finding
 * within a second of the change that caused it.
 * Without fanotify (fswatch_new fails) the audits still run on the interval and on request, and
 * the reason is logged once.
 */
#pragma once

#include <glib.h>

#include "engine.h"
#include "snapshot.h"

#define GUARD_COALESCE_MS 50u
/* A change's audit waits until no operation has run for GUARD_QUIET_MS, at most GUARD_DEFER_MS
 * (an operation waits at the engine lock for an audit in progress: back-to-back volume creates
 * would each wait for the audit of the one before). */
#define GUARD_QUIET_MS 20
#define GUARD_DEFER_MS 500

typedef struct Guard Guard;

Guard *guard_new(Engine *engine, GMutex *engine_lock, SnapshotStore *snapshots);
/* Audit share (NULL: every share) soon. */
void guard_request(Guard *g, const char *share);
/* Stop and join the thread and the watch. NULL is fine. */
void guard_free(Guard *g);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Guard, guard_free)

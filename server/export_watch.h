/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The export server coming (back): NFS-Ganesha started after nfsprovd, or restarted. A share made
 * while it was away is only in nfsprovd's file, and a server started with a configuration that
 * does not include that file serves none of them; so each time the server appears (its table's
 * watch, server/export_server.h), nfsprovd reconciles the exports (engine_reconcile_exports: what
 * the server lacks is added, what changed updated, what nfsprov no longer has removed).
 *
 * Contract:
 * - export_watch_new() watches the engine's export server; a server without a watch (the kernel's)
 *   gives NULL, and nothing happens.
 * - Each appearance queues one reconcile of the exports, run in the watch's worker thread under
 *   engine_lock (one at a time, after the operation in progress), then the snapshot is published
 *   under the same lock and one line logged: "export server NAME appeared: exports reconciled, N
 *   changes (...), M problems (...)".
 * - export_watch_free() stops watching and waits for the reconcile in progress; call it before the
 *   engine and the snapshot store go.
 */
#pragma once

#include <glib.h>

#include "engine.h"
#include "snapshot.h"

typedef struct ExportWatch ExportWatch;

/* Call from the thread whose main context runs (the watch's callbacks arrive there). The
 * arguments are borrowed and must outlive the watch. */
ExportWatch *export_watch_new(Engine *engine, GMutex *engine_lock, SnapshotStore *snapshots);
void export_watch_free(ExportWatch *w);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * GET /metrics: nfsprovd's state in the Prometheus text format (version 0.0.4), built from the
 * snapshot's shares (server/snapshot.h) and the operation counters (server/opqueue.h). Pure: no
 * locking, no I/O.
 *
 * Metrics (names and labels are an interface: dashboards use them):
 *   nfsprov_share_capacity_bytes{share}     gauge    size of the share's filesystem (mounted shares)
 *   nfsprov_share_used_bytes{share}         gauge    bytes used on it
 *   nfsprov_share_available_bytes{share}    gauge    bytes available on it
 *   nfsprov_share_volumes{share}            gauge    volumes recorded in the share
 *   nfsprov_share_provisioned_bytes{share}  gauge    sum of their virtual sizes
 *   nfsprov_share_overcommit_ratio{share}   gauge    provisioned / capacity (mounted shares)
 *   nfsprov_shares{state}                   gauge    shares by state (every state, also 0)
 *   nfsprov_operations_total{kind,result}   counter  operations ended (create, resize, delete,
 *                                                    vol-create, vol-clone, vol-resize, vol-wipe,
 *                                                    vol-delete; succeeded/failed)
 *   nfsprov_operations_running              gauge    operations running or queued
 *   nfsprov_last_reconcile_timestamp_seconds gauge   when the last reconcile finished (0: none)
 *   nfsprov_last_reconcile_drift            gauge    changes the last reconcile had to make
 *   nfsprov_last_reconcile_problems         gauge    problems it could not fix
 */
#pragma once

#include <stdint.h>

#include "opqueue.h"
#include "snapshot.h"

/* What the last reconcile reported. */
typedef struct MetricsReconcile {
        int64_t finished_at; /* unix seconds; 0 when none ran */
        unsigned drift;
        unsigned problems;
} MetricsReconcile;

/* The text (newly allocated). s must be a snapshot without error. */
char *metrics_text(const Snapshot *s, const OpStats *ops, const MetricsReconcile *reconcile);

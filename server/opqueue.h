/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The operations that change shares (create, resize, delete) and their volumes (vol-create,
 * vol-clone, vol-resize, vol-wipe, vol-delete): queued, run one at a time in a
 * worker thread under the engine lock (the engine is not thread-safe), and answered as the API's
 * asynchronous operations.
 *
 * Contract:
 * - opqueue_submit() queues an operation and returns at once; opqueue_reply() answers with
 *   202, "Location: /v1/operations/ID" and the operation resource, or, with wait, once it ended,
 *   exactly as a synchronous call would have (201/200 and the result, or the error).
 * - OPERATION = {"id","kind","share","volume"?,"state":"running|succeeded|failed","step","progress":
 *   {"done","total"},"error":{"code","message"}|null,"result"|null,"status"} where status is
 *   the HTTP status of the result (null while running). Progress follows the engine's steps
 *   (engine_set_progress: the steps before the one that started are done); total is the kind's
 *   number of steps; done = total once the operation succeeded.
 * - An ended operation is kept for GET /v1/operations/ID (opqueue_reply_get) 15 minutes; at most
 *   1000 are kept (the oldest ended ones go first).
 * - Every operation's end is logged with who asked: "create NAME (by WHO): created" (info) or
 *   "... failed: MESSAGE" (warning). After each operation the snapshot is published (under the
 *   engine lock); while operations are pending the snapshot store is held (snapshot_store_hold).
 * - opqueue_shutdown(): the running operation finishes; queued ones fail with 500 "not run:
 *   nfsprovd is stopping", as does any submitted afterwards; waiters return.
 * - Thread-safe: every function may be called from any request thread.
 */
#pragma once

#include <stdbool.h>

#include <glib.h>

#include "api_body.h"
#include "engine.h"
#include "http.h"
#include "snapshot.h"

/* The kinds of operations, in the order metrics list them. */
typedef enum OpKind {
        OP_CREATE,
        OP_RESIZE,
        OP_DELETE,
        OP_VOL_CREATE,
        OP_VOL_CLONE,
        OP_VOL_RESIZE,
        OP_VOL_WIPE,
        OP_VOL_DELETE,
        OP_GUARD,
        OP_ADOPT,
        OP_REMOVE,
        OP_QUARANTINE,
        OP_RESTORE,
        _OP_KIND_MAX,
} OpKind;

/* "create", "resize", "delete", "vol-create", ...: the API's "kind", the engine's operation name,
 * the metrics label. */
const char *op_kind_to_string(OpKind kind);

typedef struct OpQueue OpQueue;
typedef struct Operation Operation;

/* engine, engine_lock and snapshots are borrowed and must outlive the queue. Starts the worker
 * thread and takes the engine's progress callback (engine_set_progress). */
OpQueue *opqueue_new(Engine *engine, GMutex *engine_lock, SnapshotStore *snapshots);
/* See above. Called by opqueue_free(). */
void opqueue_shutdown(OpQueue *q);
/* Shuts down, gives the progress callback back (NULL) and frees. NULL is a no-op. */
void opqueue_free(OpQueue *q);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OpQueue, opqueue_free)

/* Queue an operation on share. req: create's spec, resize's size (taken; NULL for delete); force:
 * delete's ?force; by: who asked, for the log (copied). Returns a new reference. */
Operation *opqueue_submit(OpQueue *q, OpKind kind, const char *share, ApiShareRequest *req, bool force,
                          const char *by);
/* Queue an operation on volume `volume` of share (vol-clone: the source; vol-create: NULL, the
 * name is in vreq). vreq: the request (taken; NULL for delete and wipe). */
Operation *opqueue_submit_volume(OpQueue *q, OpKind kind, const char *share, const char *volume,
                                 ApiVolumeRequest *vreq, const char *by);
void operation_unref(Operation *o);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Operation, operation_unref)

/* Answer a request with the operation (202) or, with wait, its result once it ended. */
void opqueue_reply(OpQueue *q, Operation *o, bool wait, HttpResponse *resp);
/* GET /v1/operations/{id}: 200 OPERATION, or 404 when no such operation is kept. */
void opqueue_reply_get(OpQueue *q, const char *id, HttpResponse *resp);

/* An operation as the status page lists it: a copy, taken under the queue's lock. */
typedef struct OpRecord {
        guint64 number;         /* the id as a number: higher is newer */
        char *id;
        const char *kind;       /* op_kind_to_string() */
        char *share;
        char *volume;           /* NULL for share operations */
        const char *state;      /* "running", "succeeded", "failed" (OPERATION's "state") */
        bool ended, failed;
        char *step;             /* NULL before its first step */
        unsigned done, total;   /* progress */
        unsigned status;        /* the HTTP status of the result; 0 while running */
        char *error;            /* failed: the message */
        char *by;               /* who asked */
        gint64 submitted_at, ended_at; /* wall clock, microseconds since the epoch; ended_at 0 while running */
} OpRecord;
void op_record_free(OpRecord *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OpRecord, op_record_free)

/* The operations kept (queued, running, and ended within the last 15 minutes), newest first, at
 * most max: OpRecord*, a new array. */
GPtrArray *opqueue_recent(OpQueue *q, unsigned max);

typedef struct OpStats {
        guint64 ended[_OP_KIND_MAX][2]; /* [kind][0 succeeded, 1 failed], since the start */
        unsigned pending;               /* running or queued */
} OpStats;
void opqueue_stats(OpQueue *q, OpStats *ret);

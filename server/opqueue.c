/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "log.h"
#include "opqueue.h"
#include "share_json.h"

#define OPERATION_KEEP_US (15 * 60 * G_USEC_PER_SEC)
#define OPERATIONS_MAX 1000

typedef enum OpState { OP_RUNNING, OP_SUCCEEDED, OP_FAILED } OpState;
static const char *const op_state_names[] = { "running", "succeeded", "failed" };

struct Operation {
        gint refs;
        char *id;
        OpKind kind;
        char *share;
        OpState state;
        char *step;
        unsigned done, total;
        unsigned status;      /* HTTP status of the result (or error) */
        char *error;
        json_object *result;
        gint64 ended;         /* monotonic, 0 while running */
        gint64 submitted_at, ended_at; /* wall clock (microseconds since the epoch), for the status page */
        /* input */
        ApiShareRequest *req; /* create: the spec; resize: size */
        char *volume;         /* volume operations: the volume */
        ApiVolumeRequest *vreq; /* vol-create, vol-clone, vol-resize: the request */
        bool force;
        char *by;
};

struct OpQueue {
        Engine *engine;
        GMutex *engine_lock;    /* borrowed: held around every engine call */
        SnapshotStore *snapshots;

        GMutex lock;            /* everything below */
        GCond cond;             /* the queue changed, an operation ended, stopping */
        GHashTable *ops;        /* id -> Operation */
        GQueue queue;           /* Operation* waiting */
        Operation *current;     /* taken from the queue by the worker */
        Operation *in_engine;   /* current, once it holds the engine lock (for on_progress) */
        GThread *worker;
        bool stopping;
        guint64 next_id;
        guint64 ended[_OP_KIND_MAX][2];
};

/* ---- the kinds ---- */

/* What an operation that succeeded gives. */
typedef struct OpOutcome {
        json_object *result;
        unsigned status;      /* 200 unless run says otherwise */
        const char *verb;     /* for the log; the kind's unless run says otherwise */
} OpOutcome;

/* Run the operation (engine lock held): 0 with *out filled, or a negative errno. */
typedef int (*OpRun)(Engine *e, const Operation *o, OpOutcome *out, GError **error);

typedef struct OpKindInfo {
        const char *name;     /* op_kind_to_string() */
        OpRun run;
        const char *verb;     /* the log line of a success: "create NAME (by WHO): created" */
} OpKindInfo;

static int run_create(Engine *e, const Operation *o, OpOutcome *out, GError **error) {
        ShareSpec spec = { .name = o->req->name, .size = o->req->size, .disk = o->req->disk,
                           .clients = o->req->clients, .force = o->req->force, .guard = o->req->guard };
        g_autoptr(ShareInfo) info = NULL;
        bool created = false;
        int r = engine_create(e, &spec, &info, &created, error);
        if (r < 0)
                return r;
        out->result = share_json(info);
        if (created)
                out->status = 201;
        else
                out->verb = "already exists with the same spec";
        return 0;
}

static int run_resize(Engine *e, const Operation *o, OpOutcome *out, GError **error) {
        g_autoptr(ShareInfo) info = NULL;
        bool offline = false;
        int r = engine_resize(e, o->share, o->req->size, &info, &offline, error);
        if (r < 0)
                return r;
        out->result = json_object_new_object();
        json_object_object_add(out->result, "share", share_json(info));
        json_object_object_add(out->result, "offline", json_object_new_boolean(offline));
        return 0;
}

static int run_delete(Engine *e, const Operation *o, OpOutcome *out, GError **error) {
        int r = engine_delete(e, o->share, o->force, error);
        if (r < 0)
                return r;
        out->result = json_object_new_object();
        json_object_object_add(out->result, "deleted", json_object_new_string(o->share));
        return 0;
}

static int run_guard(Engine *e, const Operation *o, OpOutcome *out, GError **error) {
        g_autoptr(ShareInfo) info = NULL;
        int r = engine_set_guard(e, o->share, o->req->guard, &info, error);
        if (r < 0)
                return r;
        out->result = share_json(info);
        return 0;
}

static int run_adopt(Engine *e, const Operation *o, OpOutcome *out, GError **error) {
        g_autoptr(VolumeInfo) info = NULL;
        int r = engine_volume_adopt(e, o->share, o->req->path, &info, error);
        if (r < 0)
                return r;
        out->result = volume_json(info);
        return 0;
}

static int run_remove(Engine *e, const Operation *o, OpOutcome *out, GError **error) {
        int r = engine_remove_foreign(e, o->share, o->req->path, error);
        if (r < 0)
                return r;
        out->result = json_object_new_object();
        json_object_object_add(out->result, "removed", json_object_new_string(o->req->path));
        return 0;
}

static int run_quarantine(Engine *e, const Operation *o, OpOutcome *out, GError **error) {
        g_autoptr(QuarantineItem) q = NULL;
        int r = engine_quarantine(e, o->share, o->req->path, &q, error);
        if (r < 0)
                return r;
        g_autofree char *file = engine_quarantine_file(e, q);
        out->result = quarantine_json(q, file);
        return 0;
}

static int run_restore(Engine *e, const Operation *o, OpOutcome *out, GError **error) {
        g_autoptr(QuarantineItem) q = NULL;
        int r = engine_restore(e, o->share, o->req->name, &q, error);
        if (r < 0)
                return r;
        out->result = json_object_new_object();
        json_object_object_add(out->result, "restored", json_object_new_string(q->name));
        json_object_object_add(out->result, "path", json_object_new_string(q->path));
        return 0;
}

static int vol_result(VolumeInfo *info, OpOutcome *out) {
        out->result = volume_json(info);
        return 0;
}

static int run_vol_create(Engine *e, const Operation *o, OpOutcome *out, GError **error) {
        VolumeSpec spec = { .share = o->share, .name = o->vreq->name, .capacity = o->vreq->capacity,
                            .backing = o->vreq->backing };
        g_autoptr(VolumeInfo) info = NULL;
        int r = engine_volume_create(e, &spec, &info, error);
        if (r < 0)
                return r;
        out->status = 201;
        return vol_result(info, out);
}

static int run_vol_clone(Engine *e, const Operation *o, OpOutcome *out, GError **error) {
        g_autoptr(VolumeInfo) info = NULL;
        int r = engine_volume_clone(e, o->share, o->volume, o->vreq->name, o->vreq->linked, &info, error);
        if (r < 0)
                return r;
        out->status = 201;
        return vol_result(info, out);
}

static int run_vol_resize(Engine *e, const Operation *o, OpOutcome *out, GError **error) {
        g_autoptr(VolumeInfo) info = NULL;
        int r = engine_volume_resize(e, o->share, o->volume, o->vreq->capacity, o->vreq->shrink, &info, error);
        return r < 0 ? r : vol_result(info, out);
}

static int run_vol_wipe(Engine *e, const Operation *o, OpOutcome *out, GError **error) {
        g_autoptr(VolumeInfo) info = NULL;
        int r = engine_volume_wipe(e, o->share, o->volume, &info, error);
        return r < 0 ? r : vol_result(info, out);
}

static int run_vol_delete(Engine *e, const Operation *o, OpOutcome *out, GError **error) {
        int r = engine_volume_delete(e, o->share, o->volume, error);
        if (r < 0)
                return r;
        out->result = json_object_new_object();
        json_object_object_add(out->result, "deleted", json_object_new_string(o->volume));
        return 0;
}

static const OpKindInfo op_kinds[_OP_KIND_MAX] = {
        [OP_CREATE] = { "create", run_create, "created" },
        [OP_RESIZE] = { "resize", run_resize, "grown" },
        [OP_DELETE] = { "delete", run_delete, "deleted" },
        [OP_VOL_CREATE] = { "vol-create", run_vol_create, "created" },
        [OP_VOL_CLONE] = { "vol-clone", run_vol_clone, "cloned" },
        [OP_VOL_RESIZE] = { "vol-resize", run_vol_resize, "resized" },
        [OP_VOL_WIPE] = { "vol-wipe", run_vol_wipe, "wiped" },
        [OP_VOL_DELETE] = { "vol-delete", run_vol_delete, "deleted" },
        [OP_GUARD] = { "guard", run_guard, "guard set" },
        [OP_ADOPT] = { "vol-adopt", run_adopt, "adopted" },
        [OP_REMOVE] = { "guard-remove", run_remove, "removed" },
        [OP_QUARANTINE] = { "quarantine", run_quarantine, "quarantined" },
        [OP_RESTORE] = { "restore", run_restore, "restored" },
};

/* "SHARE" or "SHARE/VOLUME": what the log and messages name. */
static char *target_of(const Operation *o) {
        return o->volume ? g_strdup_printf("%s/%s", o->share, o->volume) : g_strdup(o->share);
}

/* The number of steps of an operation of this kind, from the engine's step tables (a resize
 * that goes offline raises it as it runs: see on_progress). */
static unsigned op_total(OpKind kind) {
        return engine_op_total(op_kinds[kind].name);
}

const char *op_kind_to_string(OpKind kind) {
        return kind < _OP_KIND_MAX ? op_kinds[kind].name : NULL;
}

/* ---- operations ---- */

static Operation *operation_ref(Operation *o) {
        g_atomic_int_inc(&o->refs);
        return o;
}

void operation_unref(Operation *o) {
        if (!o || !g_atomic_int_dec_and_test(&o->refs))
                return;
        g_free(o->id);
        g_free(o->share);
        g_free(o->step);
        g_free(o->error);
        json_object_put(o->result);
        api_share_request_free(o->req);
        g_free(o->volume);
        api_volume_request_free(o->vreq);
        g_free(o->by);
        g_free(o);
}

/* End an operation that never ran (q->lock held). */
static void operation_not_run(Operation *o) {
        o->state = OP_FAILED;
        o->status = 500;
        g_autofree char *target = target_of(o);
        o->error = g_strdup_printf("%s %s: not run: nfsprovd is stopping", op_kinds[o->kind].name, target);
        o->ended = g_get_monotonic_time();
        o->ended_at = g_get_real_time();
}

/* OPERATION (q->lock held). */
static json_object *operation_json(const Operation *o) {
        json_object *j = json_object_new_object();
        json_object_object_add(j, "id", json_object_new_string(o->id));
        json_object_object_add(j, "kind", json_object_new_string(op_kinds[o->kind].name));
        json_object_object_add(j, "share", json_object_new_string(o->share));
        if (o->volume)
                json_object_object_add(j, "volume", json_object_new_string(o->volume));
        json_object_object_add(j, "state", json_object_new_string(op_state_names[o->state]));
        json_object_object_add(j, "step", o->step ? json_object_new_string(o->step) : NULL);
        json_object *p = json_object_new_object();
        json_object_object_add(p, "done", json_object_new_int64(o->done));
        json_object_object_add(p, "total", json_object_new_int64(o->total));
        json_object_object_add(j, "progress", p);
        if (o->state == OP_FAILED) {
                json_object *e = json_object_new_object();
                json_object_object_add(e, "code", json_object_new_string(http_error_code(o->status)));
                json_object_object_add(e, "message", json_object_new_string(o->error ? o->error : ""));
                json_object_object_add(j, "error", e);
        } else
                json_object_object_add(j, "error", NULL);
        json_object_object_add(j, "result", o->result ? json_object_get(o->result) : NULL);
        json_object_object_add(j, "status", o->state == OP_RUNNING ? NULL : json_object_new_int64(o->status));
        return j;
}

/* engine_set_progress: a step of the operation in the engine started. */
static void on_progress(const char *op, const char *step, unsigned index, unsigned total, void *userdata) {
        OpQueue *q = userdata;
        g_mutex_lock(&q->lock);
        Operation *o = q->in_engine;
        if (o && strcmp(op_kinds[o->kind].name, op) == 0) {
                g_free(o->step);
                o->step = g_strdup(step);
                /* The steps before this one are done; the total is the engine's table's. */
                o->total = total;
                o->done = index - 1;
        }
        g_mutex_unlock(&q->lock);
}

static void set_in_engine(OpQueue *q, Operation *o) {
        g_mutex_lock(&q->lock);
        q->in_engine = o;
        g_mutex_unlock(&q->lock);
}

/* Run one operation (worker thread). */
static void operation_run(OpQueue *q, Operation *o) {
        const OpKindInfo *k = &op_kinds[o->kind];
        g_autoptr(GError) error = NULL;
        OpOutcome out = { .status = 200, .verb = k->verb };

        int64_t t0 = g_get_monotonic_time();
        g_mutex_lock(q->engine_lock);
        set_in_engine(q, o);
        int64_t t1 = g_get_monotonic_time();
        int r = k->run(q->engine, o, &out, &error);
        set_in_engine(q, NULL);
        int64_t t2 = g_get_monotonic_time();

        g_autofree char *target = target_of(o);
        if (r < 0)
                log_warning("%s %s (by %s) failed: %s", k->name, target, o->by, error ? error->message : g_strerror(-r));
        else
                log_info("%s %s (by %s): %s", k->name, target, o->by, out.verb);

        /* The outcome is answered before the snapshot is rebuilt: reads from now on wait for the
         * publish below (snapshot_store_expect), so a client reading after the answer sees what
         * the operation did, and the client's next request overlaps the rebuild. */
        snapshot_store_expect(q->snapshots);
        g_mutex_lock(&q->lock);
        if (r < 0) {
                o->state = OP_FAILED;
                o->status = error_http_status(r);
                o->error = g_strdup(error && error->message ? error->message : g_strerror(-r));
        } else {
                o->state = OP_SUCCEEDED;
                o->status = out.status;
                o->result = out.result;
                o->done = o->total;
        }
        o->ended = g_get_monotonic_time();
        o->ended_at = g_get_real_time();
        q->ended[o->kind][r < 0 ? 1 : 0]++;
        q->current = NULL;
        g_cond_broadcast(&q->cond);
        g_mutex_unlock(&q->lock);

        int64_t t3 = g_get_monotonic_time();
        snapshot_store_publish(q->snapshots);
        g_mutex_unlock(q->engine_lock);
        log_debug("%s: waited %.1f ms for the engine, ran %.1f ms, answered in %.1f ms, snapshot %.1f ms", k->name,
                  (t1 - t0) / 1e3, (t2 - t1) / 1e3, (t3 - t2) / 1e3, (g_get_monotonic_time() - t3) / 1e3);
        snapshot_store_release(q->snapshots);
}

static gpointer worker_main(gpointer userdata) {
        OpQueue *q = userdata;
        g_mutex_lock(&q->lock);
        for (;;) {
                while (!q->stopping && g_queue_is_empty(&q->queue))
                        g_cond_wait(&q->cond, &q->lock);
                if (q->stopping)
                        break;
                Operation *o = g_queue_pop_head(&q->queue);
                q->current = o;
                g_mutex_unlock(&q->lock);
                operation_run(q, o);
                operation_unref(o);
                g_mutex_lock(&q->lock);
        }
        /* Queued operations never ran: fail them so that waiters return. */
        Operation *o;
        while ((o = g_queue_pop_head(&q->queue))) {
                operation_not_run(o);
                operation_unref(o);
                snapshot_store_release(q->snapshots);
        }
        g_cond_broadcast(&q->cond);
        g_mutex_unlock(&q->lock);
        return NULL;
}

/* Drop ended operations that are old, or the oldest ended ones beyond the maximum (q->lock held). */
static void ops_expire(OpQueue *q) {
        gint64 now = g_get_monotonic_time();
        GHashTableIter it;
        gpointer k, v;
        g_hash_table_iter_init(&it, q->ops);
        while (g_hash_table_iter_next(&it, &k, &v)) {
                Operation *o = v;
                if (o->ended && (now - o->ended > OPERATION_KEEP_US || g_hash_table_size(q->ops) > OPERATIONS_MAX))
                        g_hash_table_iter_remove(&it);
        }
}

static Operation *submit(OpQueue *q, Operation *o);

Operation *opqueue_submit(OpQueue *q, OpKind kind, const char *share, ApiShareRequest *req, bool force,
                          const char *by) {
        Operation *o = g_new0(Operation, 1);
        o->kind = kind;
        o->share = g_strdup(share);
        o->req = req;
        o->force = force;
        o->by = g_strdup(by);
        return submit(q, o);
}

Operation *opqueue_submit_volume(OpQueue *q, OpKind kind, const char *share, const char *volume,
                                 ApiVolumeRequest *vreq, const char *by) {
        Operation *o = g_new0(Operation, 1);
        o->kind = kind;
        o->share = g_strdup(share);
        o->volume = g_strdup(volume ? volume : vreq ? vreq->name : NULL); /* create names the new one */
        o->vreq = vreq;
        o->by = g_strdup(by);
        return submit(q, o);
}

static Operation *submit(OpQueue *q, Operation *o) {
        o->refs = 1;
        o->total = op_total(o->kind);
        o->submitted_at = g_get_real_time();
        g_mutex_lock(&q->lock);
        ops_expire(q);
        o->id = g_strdup_printf("%" G_GUINT64_FORMAT, ++q->next_id);
        g_hash_table_insert(q->ops, g_strdup(o->id), operation_ref(o));
        if (q->stopping)
                operation_not_run(o);
        else {
                snapshot_store_hold(q->snapshots);
                g_queue_push_tail(&q->queue, operation_ref(o));
                g_cond_broadcast(&q->cond);
        }
        g_mutex_unlock(&q->lock);
        return o;
}

/* The answer of an ended operation, as the synchronous call gave it (q->lock held). */
static void reply_result(const Operation *o, HttpResponse *resp) {
        if (o->state == OP_FAILED) {
                http_response_error(resp, o->status, "%s", o->error);
                return;
        }
        if (o->status == 201) {
                const char *vol = o->vreq ? o->vreq->name : NULL;
                g_autofree char *location = vol ? g_strdup_printf("/v1/shares/%s/volumes/%s", o->share, vol)
                                                : g_strdup_printf("/v1/shares/%s", o->share);
                http_response_header(resp, "Location", location);
        }
        http_response_json(resp, o->status, json_object_get(o->result));
}

void opqueue_reply(OpQueue *q, Operation *o, bool wait, HttpResponse *resp) {
        g_mutex_lock(&q->lock);
        if (wait) {
                while (o->state == OP_RUNNING)
                        g_cond_wait(&q->cond, &q->lock);
                reply_result(o, resp);
        } else {
                g_autofree char *location = g_strdup_printf("/v1/operations/%s", o->id);
                http_response_header(resp, "Location", location);
                http_response_json(resp, 202, operation_json(o));
        }
        g_mutex_unlock(&q->lock);
}

void opqueue_reply_get(OpQueue *q, const char *id, HttpResponse *resp) {
        g_mutex_lock(&q->lock);
        Operation *o = g_hash_table_lookup(q->ops, id);
        json_object *j = o ? operation_json(o) : NULL;
        g_mutex_unlock(&q->lock);
        if (!j) {
                g_autofree char *shown = g_strescape(id, NULL);
                if (strlen(shown) > 64)
                        strcpy(shown + 61, "...");
                http_response_error(resp, 404, "no operation %s (operations are kept 15 minutes after they end)", shown);
                return;
        }
        http_response_json(resp, 200, j);
}

void op_record_free(OpRecord *r) {
        if (!r)
                return;
        g_free(r->id);
        g_free(r->share);
        g_free(r->volume);
        g_free(r->step);
        g_free(r->error);
        g_free(r->by);
        g_free(r);
}

static OpRecord *op_record_of(const Operation *o) {
        OpRecord *r = g_new0(OpRecord, 1);
        r->number = g_ascii_strtoull(o->id, NULL, 10);
        r->id = g_strdup(o->id);
        r->kind = op_kinds[o->kind].name;
        r->share = g_strdup(o->share);
        r->volume = g_strdup(o->volume);
        r->state = op_state_names[o->state];
        r->ended = o->state != OP_RUNNING;
        r->failed = o->state == OP_FAILED;
        r->step = g_strdup(o->step);
        r->done = o->done;
        r->total = o->total;
        r->status = o->state == OP_RUNNING ? 0 : o->status;
        r->error = g_strdup(o->error);
        r->by = g_strdup(o->by);
        r->submitted_at = o->submitted_at;
        r->ended_at = o->ended_at;
        return r;
}

static gint op_record_newest_first(gconstpointer a, gconstpointer b) {
        const OpRecord *x = *(const OpRecord *const *) a, *y = *(const OpRecord *const *) b;
        return x->number < y->number ? 1 : x->number > y->number ? -1 : 0;
}

GPtrArray *opqueue_recent(OpQueue *q, unsigned max) {
        GPtrArray *all = g_ptr_array_new_with_free_func((GDestroyNotify) op_record_free);
        g_mutex_lock(&q->lock);
        GHashTableIter it;
        gpointer v;
        g_hash_table_iter_init(&it, q->ops);
        while (g_hash_table_iter_next(&it, NULL, &v))
                g_ptr_array_add(all, op_record_of(v));
        g_mutex_unlock(&q->lock);
        g_ptr_array_sort(all, op_record_newest_first);
        if (all->len > max)
                g_ptr_array_set_size(all, max);
        return all;
}

void opqueue_stats(OpQueue *q, OpStats *ret) {
        g_mutex_lock(&q->lock);
        memcpy(ret->ended, q->ended, sizeof ret->ended);
        ret->pending = g_queue_get_length(&q->queue) + (q->current ? 1 : 0);
        g_mutex_unlock(&q->lock);
}

OpQueue *opqueue_new(Engine *engine, GMutex *engine_lock, SnapshotStore *snapshots) {
        OpQueue *q = g_new0(OpQueue, 1);
        q->engine = engine;
        q->engine_lock = engine_lock;
        q->snapshots = snapshots;
        g_mutex_init(&q->lock);
        g_cond_init(&q->cond);
        q->ops = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify) operation_unref);
        g_queue_init(&q->queue);
        g_mutex_lock(engine_lock);
        engine_set_progress(engine, on_progress, q);
        g_mutex_unlock(engine_lock);
        q->worker = g_thread_new("nfsprovd-ops", worker_main, q);
        return q;
}

void opqueue_shutdown(OpQueue *q) {
        if (!q || !q->worker)
                return;
        g_mutex_lock(&q->lock);
        q->stopping = true;
        g_cond_broadcast(&q->cond);
        g_mutex_unlock(&q->lock);
        g_thread_join(q->worker);
        q->worker = NULL;
}

void opqueue_free(OpQueue *q) {
        if (!q)
                return;
        opqueue_shutdown(q);
        g_mutex_lock(q->engine_lock);
        engine_set_progress(q->engine, NULL, NULL);
        g_mutex_unlock(q->engine_lock);
        g_hash_table_unref(q->ops);
        g_mutex_clear(&q->lock);
        g_cond_clear(&q->cond);
        g_free(q);
}

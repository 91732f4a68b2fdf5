/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>

#include "api.h"
#include "share_json.h"
#include "api_body.h"
#include "error.h"
#include "exports_client.h"
#include "log.h"
#include "macro.h"
#include "name.h"
#include "pooldef.h"
#include "size.h"

#define SNAPSHOT_MAX_AGE_US (1 * G_USEC_PER_SEC)
#define SNAPSHOT_IDLE_US (2 * G_USEC_PER_SEC)
#define OPERATION_KEEP_US (15 * 60 * G_USEC_PER_SEC)
#define OPERATIONS_MAX 1000

/* ---- snapshot: what reads are served from ---- */

typedef struct SnapPool {
        char *name;
        PoolDef *def;        /* host is a placeholder when no address is configured */
        char *status;
        GPtrArray *clients;  /* ExportsClientSpec*: the share's export clients that parse */
        char *json;          /* the pool's JSON for the configured address, rendered once per
                              * snapshot; NULL when the host depends on the asking client */
} SnapPool;

typedef struct Snapshot {
        gint refs;
        gint64 taken;        /* monotonic */
        json_object *shares; /* array of share_json, by name */
        GPtrArray *pools;    /* SnapPool* */
        char *address;       /* configured [server] address or NULL */
        char *config_path;
        bool exports_ok;     /* every ready share is in the exports block */
        char *error;         /* the state could not be read: every read of this snapshot answers
                              * 500 with this message (never an empty list, never a 404) */
} Snapshot;

static void snap_pool_free(SnapPool *p) {
        g_free(p->json);
        g_free(p->name);
        pooldef_free(p->def);
        g_free(p->status);
        g_ptr_array_unref(p->clients);
        g_free(p);
}

static Snapshot *snapshot_ref(Snapshot *s) {
        g_atomic_int_inc(&s->refs);
        return s;
}

static void snapshot_unref(Snapshot *s) {
        if (!s || !g_atomic_int_dec_and_test(&s->refs))
                return;
        json_object_put(s->shares);
        g_ptr_array_unref(s->pools);
        g_free(s->address);
        g_free(s->config_path);
        g_free(s->error);
        g_free(s);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Snapshot, snapshot_unref)

/* Reply 500 with the state's error when the snapshot could not be taken. */
static bool snapshot_failed(const Snapshot *s, HttpResponse *resp) {
        if (!s->error)
                return false;
        http_response_error(resp, 500, "%s", s->error);
        return true;
}

/* ---- operations ---- */

typedef enum OpState { OP_RUNNING, OP_SUCCEEDED, OP_FAILED } OpState;
static const char *const op_state_names[] = { "running", "succeeded", "failed" };

typedef struct Operation {
        gint refs;
        char *id;
        char *kind;           /* "create", "resize", "delete" */
        char *share;
        OpState state;
        char *step;
        unsigned done, total;
        unsigned started;     /* steps started so far */
        unsigned status;      /* HTTP status of the result (or error) */
        char *error;
        json_object *result;
        gint64 ended;         /* monotonic, 0 while running */
        /* input */
        ApiShareRequest *req; /* create: the spec; resize: size */
        bool force;
        char *by;
} Operation;

static Operation *op_ref(Operation *o) {
        g_atomic_int_inc(&o->refs);
        return o;
}

static void op_unref(Operation *o) {
        if (!o || !g_atomic_int_dec_and_test(&o->refs))
                return;
        g_free(o->id);
        g_free(o->kind);
        g_free(o->share);
        g_free(o->step);
        g_free(o->error);
        json_object_put(o->result);
        api_share_request_free(o->req);
        g_free(o->by);
        g_free(o);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Operation, op_unref)

struct Api {
        GMutex engine_lock;     /* held around every engine call */
        Engine *engine;

        GMutex snap_lock;       /* only to swap / take a reference of snap */
        Snapshot *snap;

        GMutex op_lock;         /* operations, counters, token, info below */
        GCond op_cond;
        GHashTable *ops;        /* id -> Operation */
        GQueue queue;           /* Operation* waiting */
        Operation *current;     /* taken from the queue by the worker */
        Operation *in_engine;   /* current, once it holds the engine lock (for on_progress) */
        GThread *worker;
        GThread *refresher;     /* rebuilds the snapshot in the background (refresher_main) */
        GCond refresh_cond;     /* wakes it at shutdown */
        gint snap_wanted;       /* a read found the snapshot old since the last rebuild */
        bool stopping;
        guint64 next_id;
        guint64 ops_result[3][2]; /* [kind create/resize/delete][succeeded/failed] */

        char *token;
        char *state_dir;

        bool reconciled;
        int64_t last_reconcile;
        unsigned problems;
        unsigned drift;
};

static const char *const op_kinds[] = { "create", "resize", "delete" };

/* ---- snapshot building (engine lock held) ---- */

static int pool_render(const Snapshot *s, const SnapPool *p, const char *hint, bool xml_only, json_object **ret_json,
                       char **ret_xml, GError **error);

static Snapshot *snapshot_build(Api *a) {
        Snapshot *s = g_new0(Snapshot, 1);
        s->refs = 1;
        s->taken = g_get_monotonic_time();
        s->shares = json_object_new_array();
        s->pools = g_ptr_array_new_with_free_func((GDestroyNotify) snap_pool_free);
        s->exports_ok = true;
        const Config *c = engine_config(a->engine);
        s->address = g_strdup(c->address);
        s->config_path = g_strdup(c->path);
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) list = NULL;
        if (engine_list(a->engine, &list, &error) < 0) {
                s->error = g_strdup(error->message);
                s->exports_ok = false;
                return s;
        }
        for (guint i = 0; i < list->len; i++) {
                const ShareInfo *info = g_ptr_array_index(list, i);
                json_object_array_add(s->shares, share_json(info));
                if (info->share->status != SHARE_READY && info->share->status != SHARE_RESIZING)
                        continue;
                if (!info->exported)
                        s->exports_ok = false;
                g_autoptr(GError) e2 = NULL;
                PoolDef *p = NULL;
                if (engine_pooldef_of(a->engine, info, "127.0.0.1", &p, &e2) < 0)
                        continue;
                SnapPool *sp = g_new0(SnapPool, 1);
                sp->name = g_strdup(info->share->name);
                sp->def = p;
                sp->status = g_strdup(share_status_to_string(info->share->status));
                sp->clients = g_ptr_array_new_with_free_func((GDestroyNotify) exports_client_spec_free);
                for (char **cl = info->clients; cl && *cl; cl++) {
                        ExportsClientSpec *spec = NULL;
                        if (exports_client_parse(*cl, &spec, NULL) >= 0)
                                g_ptr_array_add(sp->clients, spec);
                }
                /* With a configured address every client gets the same text: render it once
                 * here, not on every GET /v1/pools (100 pools: 12x fewer requests/s than
                 * nginx serving the same file before this). */
                json_object *o = NULL;
                if (s->address && pool_render(s, sp, NULL, false, &o, NULL, NULL) >= 0) {
                        sp->json = g_strdup(json_object_to_json_string_ext(
                                        o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
                        json_object_put(o);
                }
                g_ptr_array_add(s->pools, sp);
        }
        return s;
}

/* Build and publish (engine lock held). */
static void snapshot_publish(Api *a) {
        Snapshot *s = snapshot_build(a);
        g_mutex_lock(&a->snap_lock);
        Snapshot *old = a->snap;
        a->snap = s;
        g_mutex_unlock(&a->snap_lock);
        snapshot_unref(old);
}

/* An operation is queued or running (op_lock held). */
static bool ops_pending(Api *a) {
        return a->current || !g_queue_is_empty(&a->queue);
}

/* The current snapshot. While reads keep coming, the refresher thread rebuilds it once it is
 * SNAPSHOT_MAX_AGE_US old, so no request pays for a rebuild (100 shares: up to 1.26 s when
 * requests did it). It rebuilds only when a read asked for a fresher one since its last round:
 * an idle daemon does no work (with 100 shares, rebuilding every second cost 10 % of a CPU).
 * The first read after SNAPSHOT_IDLE_US without reads rebuilds it itself, as the daemon is idle
 * then, unless an operation runs. */
static Snapshot *snapshot_get(Api *a) {
        g_mutex_lock(&a->snap_lock);
        Snapshot *s = snapshot_ref(a->snap);
        g_mutex_unlock(&a->snap_lock);
        gint64 age = g_get_monotonic_time() - s->taken;
        if (age < SNAPSHOT_MAX_AGE_US)
                return s;
        if (age < SNAPSHOT_IDLE_US) {
                g_atomic_int_set(&a->snap_wanted, 1);
                return s;
        }
        g_mutex_lock(&a->op_lock);
        bool busy = ops_pending(a);
        g_mutex_unlock(&a->op_lock);
        if (busy || !g_mutex_trylock(&a->engine_lock)) {
                g_atomic_int_set(&a->snap_wanted, 1);
                return s;
        }
        snapshot_publish(a);
        g_mutex_unlock(&a->engine_lock);
        snapshot_unref(s);
        g_mutex_lock(&a->snap_lock);
        s = snapshot_ref(a->snap);
        g_mutex_unlock(&a->snap_lock);
        return s;
}

/* Rebuild the snapshot in the background when a read found it old (see snapshot_get). Never
 * delays an operation: skips a round while one is queued or running (operations publish when
 * they end) and never waits for the engine lock. */
static gpointer refresher_main(gpointer data) {
        Api *a = data;
        g_mutex_lock(&a->op_lock);
        while (!a->stopping) {
                g_cond_wait_until(&a->refresh_cond, &a->op_lock, g_get_monotonic_time() + SNAPSHOT_MAX_AGE_US / 4);
                if (a->stopping)
                        break;
                bool busy = ops_pending(a);
                g_mutex_unlock(&a->op_lock);

                if (!busy && g_atomic_int_get(&a->snap_wanted) && g_mutex_trylock(&a->engine_lock)) {
                        g_atomic_int_set(&a->snap_wanted, 0);
                        snapshot_publish(a);
                        g_mutex_unlock(&a->engine_lock);
                }
                g_mutex_lock(&a->op_lock);
        }
        g_mutex_unlock(&a->op_lock);
        return NULL;
}

/* ---- helpers ---- */

/* Who asked, for the log: "uid 0" on the Unix socket, the address over TCP. */
static char *who(HttpRequest *req) {
        uid_t uid;
        if (http_request_peer_cred(req, &uid, NULL, NULL) == 0)
                return g_strdup_printf("uid %u", (unsigned) uid);
        const char *peer = http_request_peer_address(req);
        return g_strdup(peer ? peer : "unknown peer");
}

static int reply_engine_error(HttpResponse *resp, int r, const GError *error) {
        http_response_error(resp, error_http_status(r), "%s",
                            error && error->message ? error->message : g_strerror(-r));
        return 0;
}

static int reply_invalid(HttpResponse *resp, const GError *error) {
        http_response_error(resp, 400, "%s", error->message);
        return 0;
}

/* The {name} of the path, validated. */
static int path_name(HttpRequest *req, const char **ret, GError **error) {
        const char *name = http_request_param(req, "name");
        int r = name_validate_share(name, error);
        if (r < 0)
                return r;
        *ret = name;
        return 0;
}

static void note_reconcile(Api *a, const ReconcileReport *rep) {
        g_mutex_lock(&a->op_lock);
        a->reconciled = true;
        a->last_reconcile = rep->finished_at;
        a->problems = rep->problems->len;
        a->drift = rep->changes->len;
        g_mutex_unlock(&a->op_lock);
}

/* Whether the asking host may see this pool (everyone on the Unix socket). peer: NULL when the
 * peer's address is unknown. Host names, wildcards and netgroups admit nobody here (see
 * exports_client.h): the API does not resolve names. */
static bool pool_visible(HttpRequest *req, const ExportsAddress *peer, const SnapPool *p) {
        if (http_request_is_unix(req))
                return true;
        if (!peer)
                return false;
        for (guint i = 0; i < p->clients->len; i++)
                if (exports_client_match(g_ptr_array_index(p->clients, i), peer))
                        return true;
        return false;
}

/* The peer's address (an IPv4-mapped IPv6 address as IPv4) in *buf; NULL on the Unix socket. */
static const ExportsAddress *peer_address(HttpRequest *req, ExportsAddress *buf) {
        return exports_address_parse(http_request_peer_address(req), buf) == 0 ? buf : NULL;
}

static char *local_host(HttpRequest *req) {
        const char *l = http_request_local_address(req);
        if (!l)
                return NULL;
        if (g_str_has_prefix(l, "::ffff:") && strchr(l + 7, '.'))
                l += 7;
        return g_strdup(l);
}

/* The pool JSON (or XML) with the host this client should use. */
static int pool_render(const Snapshot *s, const SnapPool *p, const char *hint, bool xml_only, json_object **ret_json,
                       char **ret_xml, GError **error) {
        const char *host = s->address ? s->address : hint;
        if (!host)
                return np_fail(error, EINVAL, "%s: no server address: set [server] address in %s", p->name,
                               s->config_path ? s->config_path : "the configuration");
        PoolDef tmp = *p->def;
        tmp.host = (char *) host;
        g_autofree char *xml = pooldef_to_xml(&tmp);
        if (xml_only) {
                *ret_xml = g_steal_pointer(&xml);
                return 0;
        }
        json_object *o = pooldef_to_json(&tmp);
        json_object_object_add(o, "xml", json_object_new_string(xml));
        json_object_object_add(o, "status", json_object_new_string(p->status));
        *ret_json = o;
        return 0;
}

/* ---- operations ---- */

static json_object *op_to_json(Api *a, const Operation *o) {
        json_object *j = json_object_new_object();
        json_object_object_add(j, "id", json_object_new_string(o->id));
        json_object_object_add(j, "kind", json_object_new_string(o->kind));
        json_object_object_add(j, "share", json_object_new_string(o->share));
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

static int op_kind_index(const char *kind) {
        for (int i = 0; i < 3; i++)
                if (strcmp(op_kinds[i], kind) == 0)
                        return i;
        return 0;
}

static void on_progress(const char *op, const char *step, void *userdata) {
        Api *a = userdata;
        g_mutex_lock(&a->op_lock);
        Operation *o = a->in_engine;
        if (o && strcmp(o->kind, op) == 0) {
                g_free(o->step);
                o->step = g_strdup(step);
                /* The steps before this one are done. */
                o->done = MIN(o->started, o->total - 1);
                o->started++;
        }
        g_mutex_unlock(&a->op_lock);
}

/* Run one operation (worker thread). */
static void op_run(Api *a, Operation *o) {
        g_autoptr(GError) error = NULL;
        json_object *result = NULL;
        unsigned status = 200;
        int r;

        g_mutex_lock(&a->engine_lock);
        g_mutex_lock(&a->op_lock);
        a->in_engine = o;
        g_mutex_unlock(&a->op_lock);
        if (strcmp(o->kind, "create") == 0) {
                ShareSpec spec = { .name = o->req->name, .size = o->req->size, .disk = o->req->disk,
                                   .clients = o->req->clients, .force = o->req->force };
                g_autoptr(ShareInfo) info = NULL;
                bool created = false;
                r = engine_create(a->engine, &spec, &info, &created, &error);
                if (r >= 0) {
                        result = share_json(info);
                        status = created ? 201 : 200;
                }
        } else if (strcmp(o->kind, "resize") == 0) {
                g_autoptr(ShareInfo) info = NULL;
                bool offline = false;
                r = engine_resize(a->engine, o->share, o->req->size, &info, &offline, &error);
                if (r >= 0) {
                        result = json_object_new_object();
                        json_object_object_add(result, "share", share_json(info));
                        json_object_object_add(result, "offline", json_object_new_boolean(offline));
                }
        } else {
                r = engine_delete(a->engine, o->share, o->force, &error);
                if (r >= 0) {
                        result = json_object_new_object();
                        json_object_object_add(result, "deleted", json_object_new_string(o->share));
                }
        }
        g_mutex_lock(&a->op_lock);
        a->in_engine = NULL;
        g_mutex_unlock(&a->op_lock);
        snapshot_publish(a);
        g_mutex_unlock(&a->engine_lock);

        if (r < 0)
                log_warning("%s %s (by %s) failed: %s", o->kind, o->share, o->by,
                            error ? error->message : g_strerror(-r));
        else
                log_info("%s %s (by %s): %s", o->kind, o->share, o->by,
                         strcmp(o->kind, "delete") == 0 ? "deleted"
                         : strcmp(o->kind, "resize") == 0 ? "grown"
                         : status == 201 ? "created" : "already exists with the same spec");

        g_mutex_lock(&a->op_lock);
        if (r < 0) {
                o->state = OP_FAILED;
                o->status = error_http_status(r);
                o->error = g_strdup(error && error->message ? error->message : g_strerror(-r));
        } else {
                o->state = OP_SUCCEEDED;
                o->status = status;
                o->result = result;
                o->done = o->total;
        }
        o->ended = g_get_monotonic_time();
        a->ops_result[op_kind_index(o->kind)][r < 0 ? 1 : 0]++;
        a->current = NULL;
        g_cond_broadcast(&a->op_cond);
        g_mutex_unlock(&a->op_lock);
}

static gpointer worker_main(gpointer userdata) {
        Api *a = userdata;
        g_mutex_lock(&a->op_lock);
        for (;;) {
                while (!a->stopping && g_queue_is_empty(&a->queue))
                        g_cond_wait(&a->op_cond, &a->op_lock);
                if (a->stopping)
                        break;
                Operation *o = g_queue_pop_head(&a->queue);
                a->current = o;
                g_mutex_unlock(&a->op_lock);
                op_run(a, o);
                op_unref(o);
                g_mutex_lock(&a->op_lock);
        }
        /* Queued operations never ran: fail them so that waiters return. */
        Operation *o;
        while ((o = g_queue_pop_head(&a->queue))) {
                o->state = OP_FAILED;
                o->status = 500;
                o->error = g_strdup_printf("%s %s: not run: nfsprovd is stopping", o->kind, o->share);
                o->ended = g_get_monotonic_time();
                op_unref(o);
        }
        g_cond_broadcast(&a->op_cond);
        g_mutex_unlock(&a->op_lock);
        return NULL;
}

/* Drop ended operations that are old, or the oldest ended ones beyond the maximum (op_lock held). */
static void ops_expire(Api *a) {
        gint64 now = g_get_monotonic_time();
        GHashTableIter it;
        gpointer k, v;
        g_hash_table_iter_init(&it, a->ops);
        while (g_hash_table_iter_next(&it, &k, &v)) {
                Operation *o = v;
                if (o->ended && (now - o->ended > OPERATION_KEEP_US || g_hash_table_size(a->ops) > OPERATIONS_MAX))
                        g_hash_table_iter_remove(&it);
        }
}

/* Queue an operation; returns a new reference. */
static Operation *op_submit(Api *a, const char *kind, const char *share, ApiShareRequest *req, bool force,
                            HttpRequest *hreq) {
        Operation *o = g_new0(Operation, 1);
        o->refs = 1;
        o->kind = g_strdup(kind);
        o->share = g_strdup(share);
        o->req = req;
        o->force = force;
        o->by = who(hreq);
        o->total = strcmp(kind, "create") == 0 ? 8 : strcmp(kind, "delete") == 0 ? 5 : 9;
        g_mutex_lock(&a->op_lock);
        ops_expire(a);
        o->id = g_strdup_printf("%" G_GUINT64_FORMAT, ++a->next_id);
        g_hash_table_insert(a->ops, g_strdup(o->id), op_ref(o));
        if (a->stopping) {
                o->state = OP_FAILED;
                o->status = 500;
                o->error = g_strdup_printf("%s %s: not run: nfsprovd is stopping", kind, share);
                o->ended = g_get_monotonic_time();
        } else {
                g_queue_push_tail(&a->queue, op_ref(o));
                g_cond_broadcast(&a->op_cond);
        }
        g_mutex_unlock(&a->op_lock);
        return o;
}

static void op_wait(Api *a, Operation *o) {
        g_mutex_lock(&a->op_lock);
        while (o->state == OP_RUNNING)
                g_cond_wait(&a->op_cond, &a->op_lock);
        g_mutex_unlock(&a->op_lock);
}

/* The answer of an ended operation, as the synchronous call gave it. */
static int reply_op_result(Api *a, HttpResponse *resp, Operation *o) {
        g_mutex_lock(&a->op_lock);
        if (o->state == OP_FAILED)
                http_response_error(resp, o->status, "%s", o->error);
        else {
                if (o->status == 201) {
                        g_autofree char *location = g_strdup_printf("/v1/shares/%s", o->share);
                        http_response_header(resp, "Location", location);
                }
                http_response_json(resp, o->status, json_object_get(o->result));
        }
        g_mutex_unlock(&a->op_lock);
        return 0;
}

/* 202 + the operation, or (wait) its result. */
static int reply_op(Api *a, HttpResponse *resp, Operation *o, bool wait) {
        if (wait) {
                op_wait(a, o);
                return reply_op_result(a, resp, o);
        }
        g_autofree char *location = g_strdup_printf("/v1/operations/%s", o->id);
        http_response_header(resp, "Location", location);
        g_mutex_lock(&a->op_lock);
        json_object *j = op_to_json(a, o);
        g_mutex_unlock(&a->op_lock);
        http_response_json(resp, 202, j);
        return 0;
}

/* ---- the Api ---- */

Api *api_new(Engine *engine, const ReconcileReport *startup) {
        Api *a = g_new0(Api, 1);
        g_mutex_init(&a->engine_lock);
        g_mutex_init(&a->snap_lock);
        g_mutex_init(&a->op_lock);
        g_cond_init(&a->op_cond);
        g_cond_init(&a->refresh_cond);
        a->engine = engine;
        a->ops = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify) op_unref);
        g_queue_init(&a->queue);
        a->state_dir = g_strdup(engine_config(engine)->state_dir);
        if (startup) {
                a->reconciled = true;
                a->last_reconcile = startup->finished_at;
                a->problems = startup->problems ? startup->problems->len : 0;
                a->drift = startup->changes ? startup->changes->len : 0;
        }
        engine_set_progress(engine, on_progress, a);
        a->snap = snapshot_build(a);
        a->worker = g_thread_new("nfsprovd-ops", worker_main, a);
        a->refresher = g_thread_new("nfsprovd-snap", refresher_main, a);
        return a;
}

void api_shutdown(Api *a) {
        if (!a || !a->worker)
                return;
        g_mutex_lock(&a->op_lock);
        a->stopping = true;
        g_cond_broadcast(&a->op_cond);
        g_cond_broadcast(&a->refresh_cond);
        g_mutex_unlock(&a->op_lock);
        g_thread_join(a->worker);
        a->worker = NULL;
        g_thread_join(a->refresher);
        a->refresher = NULL;
}

void api_free(Api *a) {
        if (!a)
                return;
        api_shutdown(a);
        engine_set_progress(a->engine, NULL, NULL);
        g_hash_table_unref(a->ops);
        snapshot_unref(a->snap);
        g_free(a->token);
        g_free(a->state_dir);
        g_mutex_clear(&a->engine_lock);
        g_mutex_clear(&a->snap_lock);
        g_mutex_clear(&a->op_lock);
        g_cond_clear(&a->op_cond);
        g_cond_clear(&a->refresh_cond);
        g_free(a);
}

int api_set_config(Api *a, Config *config, GError **error) {
        g_mutex_lock(&a->engine_lock);
        int r = engine_set_config(a->engine, config, error);
        if (r >= 0)
                snapshot_publish(a);
        g_mutex_unlock(&a->engine_lock);
        return r;
}

void api_set_token(Api *a, const char *token) {
        g_mutex_lock(&a->op_lock);
        g_free(a->token);
        a->token = g_strdup(token);
        g_mutex_unlock(&a->op_lock);
}

/* Constant-time comparison: of the SHA-256 of both, so the time does not depend on the lengths. */
static bool token_equal(const char *given, const char *expected) {
        guint8 h1[32], h2[32];
        gsize l1 = sizeof h1, l2 = sizeof h2;
        g_autoptr(GChecksum) c1 = g_checksum_new(G_CHECKSUM_SHA256);
        g_autoptr(GChecksum) c2 = g_checksum_new(G_CHECKSUM_SHA256);
        g_checksum_update(c1, (const guchar *) given, (gssize) strlen(given));
        g_checksum_update(c2, (const guchar *) expected, (gssize) strlen(expected));
        g_checksum_get_digest(c1, h1, &l1);
        g_checksum_get_digest(c2, h2, &l2);
        volatile guint8 diff = 0;
        for (size_t i = 0; i < sizeof h1; i++)
                diff |= h1[i] ^ h2[i];
        return diff == 0;
}

unsigned api_tcp_authorize(HttpRequest *req, const HttpRoute *route, void *userdata, char **ret_message) {
        Api *a = userdata;
        if (strcmp(route->pattern, "/v1/health") == 0 || g_str_has_prefix(route->pattern, "/v1/pools"))
                return 0;
        g_mutex_lock(&a->op_lock);
        g_autofree char *token = g_strdup(a->token);
        g_mutex_unlock(&a->op_lock);
        if (!token) {
                *ret_message = g_strdup("access denied: the admin API is not open on TCP (no [server] token_file is "
                                        "configured); use the Unix socket");
                return 403;
        }
        const char *auth = http_request_header(req, "Authorization");
        if (!auth || g_ascii_strncasecmp(auth, "Bearer ", 7) != 0) {
                *ret_message = g_strdup("authentication required: send \"Authorization: Bearer TOKEN\" with the "
                                        "token of [server] token_file");
                return 401;
        }
        const char *given = auth + 7;
        while (*given == ' ')
                given++;
        bool ok = token_equal(given, token);
        explicit_bzero(token, strlen(token));
        if (!ok) {
                *ret_message = g_strdup("authentication failed: wrong bearer token");
                return 401;
        }
        return 0;
}

/* ---- handlers ---- */

static bool state_writable(Api *a) {
        g_autofree char *db = g_build_filename(a->state_dir, STATE_DB_NAME, NULL);
        if (access(a->state_dir, W_OK) < 0)
                return false;
        return access(db, F_OK) < 0 || access(db, W_OK) == 0;
}

static int h_health(HttpRequest *req, HttpResponse *resp, void *userdata) {
        Api *a = userdata;
        g_autoptr(Snapshot) s = snapshot_get(a);
        bool writable = state_writable(a);
        json_object *o = json_object_new_object();
        g_mutex_lock(&a->op_lock);
        bool ok = a->reconciled && writable && s->exports_ok && !s->error;
        json_object_object_add(o, "status", json_object_new_string(ok ? "ok" : "degraded"));
        json_object_object_add(o, "reconciled", json_object_new_boolean(a->reconciled));
        json_object_object_add(o, "state_writable", json_object_new_boolean(writable));
        json_object_object_add(o, "exports_applied", json_object_new_boolean(s->exports_ok));
        if (s->error)
                json_object_object_add(o, "state_error", json_object_new_string(s->error));
        json_object_object_add(o, "version", json_object_new_string(PACKAGE_VERSION));
        json_object_object_add(o, "last_reconcile",
                               a->reconciled ? json_object_new_int64(a->last_reconcile) : NULL);
        json_object_object_add(o, "problems", json_object_new_int64(a->problems));
        json_object_object_add(o, "drift", json_object_new_int64(a->drift));
        g_mutex_unlock(&a->op_lock);
        http_response_json(resp, ok ? 200 : 503, o);
        return 0;
}

static int64_t jint(json_object *o, const char *key, bool *ret_has) {
        json_object *v = NULL;
        *ret_has = json_object_object_get_ex(o, key, &v) && v;
        return *ret_has ? json_object_get_int64(v) : 0;
}

static const char *jstring(json_object *o, const char *key) {
        json_object *v = NULL;
        return json_object_object_get_ex(o, key, &v) && v ? json_object_get_string(v) : "";
}

static int h_metrics(HttpRequest *req, HttpResponse *resp, void *userdata) {
        Api *a = userdata;
        g_autoptr(Snapshot) s = snapshot_get(a);
        if (snapshot_failed(s, resp))
                return 0;
        GString *m = g_string_new(NULL);
        static const struct {
                const char *key, *metric, *help;
        } usage[] = {
                { "capacity", "nfsprov_share_capacity_bytes", "Size of the share's filesystem." },
                { "used", "nfsprov_share_used_bytes", "Bytes used on the share's filesystem." },
                { "available", "nfsprov_share_available_bytes", "Bytes available on the share's filesystem." },
        };
        size_t n = json_object_array_length(s->shares);
        for (size_t k = 0; k < G_N_ELEMENTS(usage); k++) {
                g_string_append_printf(m, "# HELP %s %s\n# TYPE %s gauge\n", usage[k].metric, usage[k].help,
                                       usage[k].metric);
                for (size_t i = 0; i < n; i++) {
                        json_object *sh = json_object_array_get_idx(s->shares, i);
                        bool has;
                        int64_t v = jint(sh, usage[k].key, &has);
                        if (has)
                                g_string_append_printf(m, "%s{share=\"%s\"} %" PRId64 "\n", usage[k].metric,
                                                       jstring(sh, "name"), v);
                }
        }
        static const char *const states[] = { "creating", "ready", "resizing", "deleting", "failed" };
        g_string_append(m, "# HELP nfsprov_shares Number of shares by state.\n# TYPE nfsprov_shares gauge\n");
        for (size_t k = 0; k < G_N_ELEMENTS(states); k++) {
                unsigned count = 0;
                for (size_t i = 0; i < n; i++)
                        if (strcmp(jstring(json_object_array_get_idx(s->shares, i), "status"), states[k]) == 0)
                                count++;
                g_string_append_printf(m, "nfsprov_shares{state=\"%s\"} %u\n", states[k], count);
        }
        g_mutex_lock(&a->op_lock);
        g_string_append(m, "# HELP nfsprov_operations_total Operations ended, by kind and result.\n"
                           "# TYPE nfsprov_operations_total counter\n");
        for (int k = 0; k < 3; k++)
                for (int r = 0; r < 2; r++)
                        g_string_append_printf(m, "nfsprov_operations_total{kind=\"%s\",result=\"%s\"} %" G_GUINT64_FORMAT "\n",
                                               op_kinds[k], r ? "failed" : "succeeded", a->ops_result[k][r]);
        g_string_append_printf(m,
                               "# HELP nfsprov_operations_running Operations running or queued.\n"
                               "# TYPE nfsprov_operations_running gauge\nnfsprov_operations_running %u\n",
                               g_queue_get_length(&a->queue) + (a->current ? 1 : 0));
        g_string_append_printf(m,
                               "# HELP nfsprov_last_reconcile_timestamp_seconds When the last reconcile finished.\n"
                               "# TYPE nfsprov_last_reconcile_timestamp_seconds gauge\n"
                               "nfsprov_last_reconcile_timestamp_seconds %" PRId64 "\n"
                               "# HELP nfsprov_last_reconcile_drift Changes the last reconcile had to make.\n"
                               "# TYPE nfsprov_last_reconcile_drift gauge\nnfsprov_last_reconcile_drift %u\n"
                               "# HELP nfsprov_last_reconcile_problems Problems the last reconcile could not fix.\n"
                               "# TYPE nfsprov_last_reconcile_problems gauge\nnfsprov_last_reconcile_problems %u\n",
                               a->last_reconcile, a->drift, a->problems);
        g_mutex_unlock(&a->op_lock);
        http_response_text(resp, 200, "text/plain; version=0.0.4; charset=utf-8", m->str);
        g_string_free(m, true);
        return 0;
}

static json_object *find_share(const Snapshot *s, const char *name) {
        size_t n = json_object_array_length(s->shares);
        for (size_t i = 0; i < n; i++) {
                json_object *sh = json_object_array_get_idx(s->shares, i);
                if (strcmp(jstring(sh, "name"), name) == 0)
                        return sh;
        }
        return NULL;
}

static int h_shares_list(HttpRequest *req, HttpResponse *resp, void *userdata) {
        Api *a = userdata;
        g_autoptr(Snapshot) s = snapshot_get(a);
        if (snapshot_failed(s, resp))
                return 0;
        json_object *o = json_object_new_object();
        json_object_object_add(o, "shares", json_object_get(s->shares));
        http_response_json(resp, 200, o);
        return 0;
}

static int h_share_get(HttpRequest *req, HttpResponse *resp, void *userdata) {
        Api *a = userdata;
        g_autoptr(GError) error = NULL;
        const char *name;
        if (path_name(req, &name, &error) < 0)
                return reply_invalid(resp, error);
        g_autoptr(Snapshot) s = snapshot_get(a);
        if (snapshot_failed(s, resp))
                return 0;
        json_object *sh = find_share(s, name);
        if (!sh) {
                http_response_error(resp, 404, "%s: no such share", name);
                return 0;
        }
        http_response_json(resp, 200, json_object_get(sh));
        return 0;
}

static bool query_wait(HttpRequest *req, HttpResponse *resp, bool *ret) {
        g_autoptr(GError) error = NULL;
        if (http_request_query_bool(req, "wait", false, ret, &error) < 0) {
                reply_invalid(resp, error);
                return false;
        }
        return true;
}

static int h_share_create(HttpRequest *req, HttpResponse *resp, void *userdata) {
        Api *a = userdata;
        g_autoptr(GError) error = NULL;
        g_autoptr(ApiShareRequest) r = NULL;
        bool wait;
        if (!query_wait(req, resp, &wait))
                return 0;
        if (api_body_parse(API_BODY_CREATE, http_request_json(req), &r, &error) < 0)
                return reply_invalid(resp, error);
        g_autoptr(Snapshot) s = snapshot_get(a);
        bool exists = find_share(s, r->name) != NULL;
        g_autofree char *name = g_strdup(r->name);
        g_autoptr(Operation) o = op_submit(a, "create", name, g_steal_pointer(&r), false, req);
        /* An existing share: same spec 200, another 409, at once (the engine changes nothing). */
        return reply_op(a, resp, o, wait || exists);
}

static int h_share_resize(HttpRequest *req, HttpResponse *resp, void *userdata) {
        Api *a = userdata;
        g_autoptr(GError) error = NULL;
        const char *name;
        g_autoptr(ApiShareRequest) r = NULL;
        bool wait;
        if (!query_wait(req, resp, &wait))
                return 0;
        if (path_name(req, &name, &error) < 0 ||
            api_body_parse(API_BODY_RESIZE, http_request_json(req), &r, &error) < 0)
                return reply_invalid(resp, error);
        g_autoptr(Operation) o = op_submit(a, "resize", name, g_steal_pointer(&r), false, req);
        return reply_op(a, resp, o, wait);
}

static int h_share_delete(HttpRequest *req, HttpResponse *resp, void *userdata) {
        Api *a = userdata;
        g_autoptr(GError) error = NULL;
        const char *name;
        bool force, wait;
        if (!query_wait(req, resp, &wait))
                return 0;
        if (path_name(req, &name, &error) < 0 || http_request_query_bool(req, "force", false, &force, &error) < 0)
                return reply_invalid(resp, error);
        g_autoptr(Operation) o = op_submit(a, "delete", name, NULL, force, req);
        return reply_op(a, resp, o, wait);
}

static int h_operation_get(HttpRequest *req, HttpResponse *resp, void *userdata) {
        Api *a = userdata;
        const char *id = http_request_param(req, "id");
        g_mutex_lock(&a->op_lock);
        Operation *o = g_hash_table_lookup(a->ops, id);
        json_object *j = o ? op_to_json(a, o) : NULL;
        g_mutex_unlock(&a->op_lock);
        if (!j) {
                g_autofree char *shown = g_strescape(id, NULL);
                if (strlen(shown) > 64)
                        strcpy(shown + 61, "...");
                http_response_error(resp, 404, "no operation %s (operations are kept 15 minutes after they end)",
                                    shown);
                return 0;
        }
        http_response_json(resp, 200, j);
        return 0;
}

static int h_pools_list(HttpRequest *req, HttpResponse *resp, void *userdata) {
        Api *a = userdata;
        g_autoptr(GError) error = NULL;
        g_autoptr(Snapshot) s = snapshot_get(a);
        if (snapshot_failed(s, resp))
                return 0;
        ExportsAddress peer_buf;
        const ExportsAddress *peer = peer_address(req, &peer_buf);
        if (s->address) {
                /* Pre-rendered pools: join the texts the asking host may see. */
                g_autoptr(GString) body = g_string_new("{\"pools\":[");
                bool first = true;
                for (guint i = 0; i < s->pools->len; i++) {
                        const SnapPool *p = g_ptr_array_index(s->pools, i);
                        if (!p->json || !pool_visible(req, peer, p))
                                continue;
                        if (!first)
                                g_string_append_c(body, ',');
                        g_string_append(body, p->json);
                        first = false;
                }
                g_string_append(body, "]}\n");
                http_response_text(resp, 200, "application/json", body->str);
                return 0;
        }
        g_autofree char *hint = local_host(req);
        json_object *arr = json_object_new_array();
        for (guint i = 0; i < s->pools->len; i++) {
                const SnapPool *p = g_ptr_array_index(s->pools, i);
                if (!pool_visible(req, peer, p))
                        continue;
                json_object *o = NULL;
                if (pool_render(s, p, hint, false, &o, NULL, &error) < 0) {
                        json_object_put(arr);
                        return reply_invalid(resp, error);
                }
                json_object_array_add(arr, o);
        }
        json_object *o = json_object_new_object();
        json_object_object_add(o, "pools", arr);
        http_response_json(resp, 200, o);
        return 0;
}

static bool wants_xml(HttpRequest *req) {
        const char *format = http_request_query(req, "format");
        if (format)
                return g_ascii_strcasecmp(format, "xml") == 0;
        const char *accept = http_request_header(req, "Accept");
        if (!accept)
                return false;
        bool xml = strstr(accept, "application/xml") || strstr(accept, "text/xml");
        return xml && !strstr(accept, "application/json");
}

static int h_pool_get(HttpRequest *req, HttpResponse *resp, void *userdata) {
        Api *a = userdata;
        g_autoptr(GError) error = NULL;
        const char *name;
        if (path_name(req, &name, &error) < 0)
                return reply_invalid(resp, error);
        g_autoptr(Snapshot) s = snapshot_get(a);
        if (snapshot_failed(s, resp))
                return 0;
        ExportsAddress peer_buf;
        const ExportsAddress *peer = peer_address(req, &peer_buf);
        g_autofree char *hint = local_host(req);
        const SnapPool *p = NULL;
        for (guint i = 0; i < s->pools->len && !p; i++)
                if (strcmp(((SnapPool *) g_ptr_array_index(s->pools, i))->name, name) == 0)
                        p = g_ptr_array_index(s->pools, i);
        if (p && !pool_visible(req, peer, p)) {
                http_response_error(resp, 403, "%s: access denied: %s is not among the share's NFS clients", name,
                                    http_request_peer_address(req));
                return 0;
        }
        if (!p) {
                json_object *sh = find_share(s, name);
                if (sh && http_request_is_unix(req))
                        http_response_error(resp, 409, "%s: the share is %s; its pool is defined once it is ready",
                                            name, jstring(sh, "status"));
                else if (sh)
                        http_response_error(resp, 403, "%s: access denied: the share is not ready", name);
                else
                        http_response_error(resp, 404, "%s: no such share", name);
                return 0;
        }
        bool xml_only = wants_xml(req);
        json_object *o = NULL;
        g_autofree char *xml = NULL;
        if (pool_render(s, p, hint, xml_only, &o, &xml, &error) < 0)
                return reply_invalid(resp, error);
        if (xml_only)
                http_response_text(resp, 200, "application/xml", xml);
        else
                http_response_json(resp, 200, o);
        return 0;
}

static int h_reconcile(HttpRequest *req, HttpResponse *resp, void *userdata) {
        Api *a = userdata;
        g_autoptr(GError) error = NULL;
        g_autoptr(ReconcileReport) rep = NULL;
        g_mutex_lock(&a->engine_lock);
        int r = engine_reconcile(a->engine, &rep, &error);
        g_mutex_unlock(&a->engine_lock);
        g_autofree char *by = who(req);
        if (r < 0) {
                log_warning("reconcile (by %s) failed: %s", by, error ? error->message : g_strerror(-r));
                return reply_engine_error(resp, r, error);
        }
        note_reconcile(a, rep);
        g_mutex_lock(&a->engine_lock);
        snapshot_publish(a);
        g_mutex_unlock(&a->engine_lock);
        log_info("reconcile (by %s): %u changes, %u problems", by, rep->changes->len, rep->problems->len);
        for (guint i = 0; i < rep->changes->len; i++)
                log_info("reconcile: %s", (const char *) g_ptr_array_index(rep->changes, i));
        for (guint i = 0; i < rep->problems->len; i++)
                log_warning("reconcile: %s", (const char *) g_ptr_array_index(rep->problems, i));
        http_response_json(resp, 200, reconcile_report_json(rep));
        return 0;
}

static int nfs_config(Api *a, HttpRequest *req, HttpResponse *resp, bool apply) {
        g_autoptr(GError) error = NULL;
        EngineNfsConfig c = { 0 };
        g_mutex_lock(&a->engine_lock);
        int r = engine_nfs_config(a->engine, apply, &c, &error);
        g_mutex_unlock(&a->engine_lock);
        if (apply) {
                g_autofree char *by = who(req);
                if (r < 0)
                        log_warning("nfs-config apply (by %s) failed: %s", by,
                                    error ? error->message : g_strerror(-r));
                else
                        log_info("nfs-config apply (by %s): %s", by, c.changed ? "changed" : "already set");
        }
        if (r < 0)
                return reply_engine_error(resp, r, error);
        http_response_json(resp, 200, nfs_config_json(&c));
        engine_nfs_config_clear(&c);
        return 0;
}

static int h_nfs_config_get(HttpRequest *req, HttpResponse *resp, void *userdata) {
        if (http_request_query(req, "apply")) {
                http_response_error(resp, 400, "GET /v1/nfs-config only reads; use POST to apply");
                return 0;
        }
        return nfs_config(userdata, req, resp, false);
}

static int h_nfs_config_post(HttpRequest *req, HttpResponse *resp, void *userdata) {
        g_autoptr(GError) error = NULL;
        bool apply;
        if (http_request_query_bool(req, "apply", true, &apply, &error) < 0)
                return reply_invalid(resp, error);
        return nfs_config(userdata, req, resp, apply);
}

static const HttpRoute routes[] = {
        { "GET", "/v1/health", h_health },
        { "GET", "/metrics", h_metrics },
        { "GET", "/v1/operations/{id}", h_operation_get },
        { "GET", "/v1/shares", h_shares_list },
        { "POST", "/v1/shares", h_share_create },
        { "GET", "/v1/shares/{name}", h_share_get },
        { "DELETE", "/v1/shares/{name}", h_share_delete },
        { "POST", "/v1/shares/{name}/resize", h_share_resize },
        { "GET", "/v1/pools", h_pools_list },
        { "GET", "/v1/pools/{name}", h_pool_get },
        { "POST", "/v1/reconcile", h_reconcile },
        { "GET", "/v1/nfs-config", h_nfs_config_get },
        { "POST", "/v1/nfs-config", h_nfs_config_post },
};

const HttpRoute *api_routes(size_t *ret_n) {
        *ret_n = G_N_ELEMENTS(routes);
        return routes;
}

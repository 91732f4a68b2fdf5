/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The route table and the handlers. What they stand on, one file each: the read snapshot and its
 * refresher (snapshot.c), the operation queue (opqueue.c), token auth (auth.c), the Prometheus
 * text (metrics.c), the request bodies (api_body.c) and the JSON of what the engine reports
 * (share_json.c).
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "api_body.h"
#include "error.h"
#include "macro.h"
#include "auth.h"
#include "exports_client.h"
#include "export_watch.h"
#include "guard.h"
#include "http_etag.h"
#include "log.h"
#include "metrics.h"
#include "name.h"
#include "opqueue.h"
#include "share_json.h"
#include "snapshot.h"
#include "status_page.h"

struct Api {
        GMutex engine_lock;     /* held around every engine call */
        Engine *engine;
        SnapshotStore *snapshots;
        OpQueue *ops;
        Guard *guard;
        ExportWatch *watch;     /* reconciles the exports when the export server appears */
        Auth *auth;
        char *state_dir;
        HttpWaitQueue *pool_waiters; /* GET /v1/pools?wait=: woken when the pool definitions change */
        HttpEtagCache *pool_etags;   /* GET /v1/pools: the ETags of the last bodies */

        GMutex lock;            /* the last reconcile below */
        bool reconciled;
        MetricsReconcile last;
};

/* ---- the Api ---- */

static void wake_pool_waiters(void *queue) {
        http_wait_queue_wake(queue);
}

Api *api_new(Engine *engine, const ReconcileReport *startup) {
        Api *a = g_new0(Api, 1);
        g_mutex_init(&a->engine_lock);
        g_mutex_init(&a->lock);
        a->engine = engine;
        a->state_dir = g_strdup(engine_config(engine)->state_dir);
        a->auth = auth_new();
        if (startup) {
                a->reconciled = true;
                a->last.finished_at = startup->finished_at;
                a->last.problems = startup->problems ? startup->problems->len : 0;
                a->last.drift = startup->changes ? startup->changes->len : 0;
        }
        a->snapshots = snapshot_store_new(engine, &a->engine_lock);
        a->pool_waiters = http_wait_queue_new();
        a->pool_etags = http_etag_cache_new();
        snapshot_store_on_pools_changed(a->snapshots, wake_pool_waiters, a->pool_waiters);
        a->ops = opqueue_new(engine, &a->engine_lock, a->snapshots);
        a->guard = guard_new(engine, &a->engine_lock, a->snapshots);
        a->watch = export_watch_new(engine, &a->engine_lock, a->snapshots);
        return a;
}

void api_shutdown(Api *a) {
        if (!a)
                return;
        opqueue_shutdown(a->ops);
        g_clear_pointer(&a->watch, export_watch_free);
        g_clear_pointer(&a->guard, guard_free);
        snapshot_store_stop(a->snapshots);
}

void api_free(Api *a) {
        if (!a)
                return;
        api_shutdown(a);
        opqueue_free(a->ops);
        snapshot_store_free(a->snapshots);
        http_wait_queue_free(a->pool_waiters);
        http_etag_cache_free(a->pool_etags);
        auth_free(a->auth);
        g_free(a->state_dir);
        g_mutex_clear(&a->engine_lock);
        g_mutex_clear(&a->lock);
        g_free(a);
}

int api_set_config(Api *a, Config *config, GError **error) {
        g_mutex_lock(&a->engine_lock);
        int r = engine_set_config(a->engine, config, error);
        if (r >= 0)
                snapshot_store_publish(a->snapshots);
        g_mutex_unlock(&a->engine_lock);
        return r;
}

void api_set_token(Api *a, const char *token) {
        auth_set_token(a->auth, token);
}

unsigned api_tcp_authorize(HttpRequest *req, const HttpRoute *route, void *userdata, char **ret_message) {
        Api *a = userdata;
        return auth_tcp_authorize(a->auth, req, route, ret_message);
}

/* ---- helpers ---- */

static int reply_engine_error(HttpResponse *resp, int r, const GError *error) {
        http_response_error(resp, error_http_status(r), "%s",
                            error && error->message ? error->message : g_strerror(-r));
        return 0;
}

static int reply_invalid(HttpResponse *resp, const GError *error) {
        http_response_error(resp, 400, "%s", error->message);
        return 0;
}

/* Reply 500 with the state's error when the snapshot could not be taken. */
static bool snapshot_failed(const Snapshot *s, HttpResponse *resp) {
        if (!s->error)
                return false;
        http_response_error(resp, 500, "%s", s->error);
        return true;
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

static bool query_wait(HttpRequest *req, HttpResponse *resp, bool *ret) {
        g_autoptr(GError) error = NULL;
        if (http_request_query_bool(req, "wait", false, ret, &error) < 0) {
                reply_invalid(resp, error);
                return false;
        }
        return true;
}

static void note_reconcile(Api *a, const ReconcileReport *rep) {
        g_mutex_lock(&a->lock);
        a->reconciled = true;
        a->last.finished_at = rep->finished_at;
        a->last.problems = rep->problems->len;
        a->last.drift = rep->changes->len;
        g_mutex_unlock(&a->lock);
}

/* The peer's address (an IPv4-mapped IPv6 address as IPv4) in *buf; NULL on the Unix socket. */
static const ExportsAddress *peer_address(HttpRequest *req, ExportsAddress *buf) {
        return exports_address_parse(http_request_peer_address(req), buf) == 0 ? buf : NULL;
}

/* Whether the asking host may see this pool: everyone on the Unix socket; over TCP a host one of
 * the share's export clients admits (snapshot_pool_admits). */
static bool pool_visible(HttpRequest *req, const ExportsAddress *peer, const SnapshotPool *p) {
        if (http_request_is_unix(req))
                return true;
        return peer && snapshot_pool_admits(p, peer);
}

/* The local address the client reached, for the pool host when none is configured. */
static char *local_host(HttpRequest *req) {
        const char *l = http_request_local_address(req);
        if (!l)
                return NULL;
        if (g_str_has_prefix(l, "::ffff:") && strchr(l + 7, '.'))
                l += 7;
        return g_strdup(l);
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
        g_autoptr(Snapshot) s = snapshot_store_get(a->snapshots);
        bool writable = state_writable(a);
        json_object *o = json_object_new_object();
        g_mutex_lock(&a->lock);
        bool ok = a->reconciled && writable && s->exports_ok && !s->error;
        json_object_object_add(o, "status", json_object_new_string(ok ? "ok" : "degraded"));
        json_object_object_add(o, "reconciled", json_object_new_boolean(a->reconciled));
        json_object_object_add(o, "state_writable", json_object_new_boolean(writable));
        json_object_object_add(o, "exports_applied", json_object_new_boolean(s->exports_ok));
        if (s->error)
                json_object_object_add(o, "state_error", json_object_new_string(s->error));
        json_object_object_add(o, "version", json_object_new_string(PACKAGE_VERSION));
        json_object_object_add(o, "last_reconcile",
                               a->reconciled ? json_object_new_int64(a->last.finished_at) : NULL);
        json_object_object_add(o, "problems", json_object_new_int64(a->last.problems));
        json_object_object_add(o, "drift", json_object_new_int64(a->last.drift));
        g_mutex_unlock(&a->lock);
        http_response_json(resp, ok ? 200 : 503, o);
        return 0;
}

static int h_metrics(HttpRequest *req, HttpResponse *resp, void *userdata) {
        Api *a = userdata;
        g_autoptr(Snapshot) s = snapshot_store_get(a->snapshots);
        if (snapshot_failed(s, resp))
                return 0;
        OpStats ops;
        opqueue_stats(a->ops, &ops);
        g_mutex_lock(&a->lock);
        MetricsReconcile last = a->last;
        g_mutex_unlock(&a->lock);
        g_autofree char *text = metrics_text(s, &ops, &last);
        http_response_text(resp, 200, "text/plain; version=0.0.4; charset=utf-8", text);
        return 0;
}

static int h_shares_list(HttpRequest *req, HttpResponse *resp, void *userdata) {
        Api *a = userdata;
        g_autoptr(Snapshot) s = snapshot_store_get(a->snapshots);
        if (snapshot_failed(s, resp))
                return 0;
        json_object *o = json_object_new_object();
        json_object_object_add(o, "shares", json_object_get(s->shares_json));
        http_response_json(resp, 200, o);
        return 0;
}

/* The share NAME of the request's path in the current snapshot: false when the answer (400, 404,
 * 503) is given already. *ret_s holds the snapshot the share lives in. */
static bool path_share(Api *a, HttpRequest *req, HttpResponse *resp, Snapshot **ret_s, const ShareInfo **ret_info,
                       json_object **ret_json) {
        g_autoptr(GError) error = NULL;
        const char *name;
        if (path_name(req, &name, &error) < 0) {
                reply_invalid(resp, error);
                return false;
        }
        g_autoptr(Snapshot) s = snapshot_store_get(a->snapshots);
        if (snapshot_failed(s, resp))
                return false;
        const ShareInfo *info = snapshot_share(s, name, ret_json);
        if (!info) {
                http_response_error(resp, 404, "%s: no such share", name);
                return false;
        }
        *ret_info = info;
        *ret_s = g_steal_pointer(&s);
        return true;
}

static int h_share_get(HttpRequest *req, HttpResponse *resp, void *userdata) {
        g_autoptr(Snapshot) s = NULL;
        const ShareInfo *info;
        json_object *sh = NULL;
        if (path_share(userdata, req, resp, &s, &info, &sh))
                http_response_json(resp, 200, json_object_get(sh));
        return 0;
}

/* Queue the operation and answer 202, or its result with wait. */
static int submit(Api *a, HttpRequest *req, HttpResponse *resp, OpKind kind, const char *share,
                  ApiShareRequest *body, bool force, bool wait) {
        g_autofree char *by = auth_who(req);
        g_autoptr(Operation) o = opqueue_submit(a->ops, kind, share, body, force, by);
        opqueue_reply(a->ops, o, wait, resp);
        return 0;
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
        g_autoptr(Snapshot) s = snapshot_store_get(a->snapshots);
        bool exists = snapshot_share(s, r->name, NULL) != NULL;
        g_autofree char *name = g_strdup(r->name);
        /* An existing share: same spec 200, another 409, at once (the engine changes nothing). */
        return submit(a, req, resp, OP_CREATE, name, g_steal_pointer(&r), false, wait || exists);
}

/* POST /v1/shares/NAME/...: the body parsed as `body`, then operation `kind` on NAME. */
static int share_body_op(HttpRequest *req, HttpResponse *resp, Api *a, ApiBodyKind body, OpKind kind) {
        g_autoptr(GError) error = NULL;
        const char *name;
        g_autoptr(ApiShareRequest) r = NULL;
        bool wait;
        if (!query_wait(req, resp, &wait))
                return 0;
        if (path_name(req, &name, &error) < 0 || api_body_parse(body, http_request_json(req), &r, &error) < 0)
                return reply_invalid(resp, error);
        return submit(a, req, resp, kind, name, g_steal_pointer(&r), false, wait);
}

static int h_share_resize(HttpRequest *req, HttpResponse *resp, void *userdata) {
        return share_body_op(req, resp, userdata, API_BODY_RESIZE, OP_RESIZE);
}

static int h_share_guard(HttpRequest *req, HttpResponse *resp, void *userdata) {
        return share_body_op(req, resp, userdata, API_BODY_GUARD, OP_GUARD);
}

/* .../audit/adopt, .../remove, .../quarantine: body {"path": PATH}; .../restore: {"name": ITEM}. */
static int h_finding_adopt(HttpRequest *req, HttpResponse *resp, void *userdata) {
        return share_body_op(req, resp, userdata, API_BODY_FINDING, OP_ADOPT);
}

static int h_finding_remove(HttpRequest *req, HttpResponse *resp, void *userdata) {
        return share_body_op(req, resp, userdata, API_BODY_FINDING, OP_REMOVE);
}

static int h_finding_quarantine(HttpRequest *req, HttpResponse *resp, void *userdata) {
        return share_body_op(req, resp, userdata, API_BODY_FINDING, OP_QUARANTINE);
}

static int h_finding_restore(HttpRequest *req, HttpResponse *resp, void *userdata) {
        return share_body_op(req, resp, userdata, API_BODY_RESTORE, OP_RESTORE);
}

/* GET /v1/quarantine[?share=NAME]: the quarantined items (read under the engine's lock: the
 * state, not the snapshot). */
static int h_quarantine_list(HttpRequest *req, HttpResponse *resp, void *userdata) {
        Api *a = userdata;
        g_autoptr(GError) error = NULL;
        const char *share = http_request_query(req, "share");
        if (share && name_validate_share(share, &error) < 0)
                return reply_invalid(resp, error);
        g_autoptr(GPtrArray) items = NULL;
        g_mutex_lock(&a->engine_lock);
        int r = engine_quarantine_list(a->engine, share, &items, &error);
        json_object *list = json_object_new_array();
        for (guint i = 0; r >= 0 && i < items->len; i++) {
                const QuarantineItem *q = g_ptr_array_index(items, i);
                g_autofree char *file = engine_quarantine_file(a->engine, q);
                json_object_array_add(list, quarantine_json(q, file));
        }
        g_mutex_unlock(&a->engine_lock);
        if (r < 0) {
                json_object_put(list);
                return reply_engine_error(resp, r, error);
        }
        json_object *o = json_object_new_object();
        json_object_object_add(o, "quarantined", list);
        http_response_json(resp, 200, o);
        return 0;
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
        return submit(a, req, resp, OP_DELETE, name, NULL, force, wait);
}

static int h_operation_get(HttpRequest *req, HttpResponse *resp, void *userdata) {
        Api *a = userdata;
        opqueue_reply_get(a->ops, http_request_param(req, "id"), resp);
        return 0;
}

#define POOLS_WAIT_MAX 300 /* seconds a GET /v1/pools?wait= may wait */

/* ?wait=SECONDS: 0 (absent) to POOLS_WAIT_MAX. */
static int pools_wait(HttpRequest *req, unsigned *ret, GError **error) {
        const char *v = http_request_query(req, "wait");
        guint64 n = 0;
        if (v && (!*v || !g_ascii_string_to_unsigned(v, 10, 0, POOLS_WAIT_MAX, &n, NULL)))
                return np_fail(error, EINVAL, "invalid query argument wait=\"%s\"; allowed: whole seconds, 0 to %d", v,
                               POOLS_WAIT_MAX);
        *ret = (unsigned) n;
        return 0;
}

/* The {"pools":[...]} text the asking host gets (only the pools it may see). */
static int pools_body(HttpRequest *req, const Snapshot *s, bool sizes, char **ret, GError **error) {
        ExportsAddress peer_buf;
        const ExportsAddress *peer = peer_address(req, &peer_buf);
        g_autoptr(GString) body = g_string_new("{\"pools\":[");
        g_autofree char *hint = s->address ? NULL : local_host(req);
        bool first = true;
        for (guint i = 0; i < s->pools->len; i++) {
                const SnapshotPool *p = g_ptr_array_index(s->pools, i);
                if (!pool_visible(req, peer, p))
                        continue;
                /* pre-rendered with a configured address */
                const char *text = snapshot_pool_text(s, p, sizes);
                g_autofree char *rendered = NULL;
                if (!text && s->address)
                        continue;
                if (!text) {
                        json_object *o = NULL;
                        int r = snapshot_pool_json(s, p, hint, sizes, &o, error);
                        if (r < 0)
                                return r;
                        text = rendered = g_strdup(json_object_to_json_string_ext(
                                o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
                        json_object_put(o);
                }
                g_string_append_printf(body, "%s%s", first ? "" : ",", text);
                first = false;
        }
        g_string_append(body, "]}\n");
        *ret = g_string_free(g_steal_pointer(&body), false);
        return 0;
}

/* GET /v1/pools[?sizes=false][&wait=SECONDS]. The ETag is the hash of the body itself
 * (http_etag_of), not a counter: it changes exactly when what this host is told changes (its
 * own view: the pools it may see, the address it reached), and stays the same across a restart
 * of nfsprovd or a rebuild that changed nothing, so no host does a full sync for nothing, while
 * a definition changed during a restart still gives a new tag. The live sizes change it too;
 * ?sizes=false (what nfsprov-client asks) leaves them out. With If-None-Match matching and
 * wait, the request is parked (no thread) until the pool generation changes and the body with
 * it, or until the wait ends: then 304. */
static int h_pools_list(HttpRequest *req, HttpResponse *resp, void *userdata) {
        Api *a = userdata;
        g_autoptr(GError) error = NULL;
        guint64 seq = http_wait_queue_seq(a->pool_waiters);
        bool sizes;
        unsigned wait = 0;
        if (http_request_query_bool(req, "sizes", true, &sizes, &error) < 0 || pools_wait(req, &wait, &error) < 0)
                return reply_invalid(resp, error);
        /* without the sizes: what only publishing changes, no rebuild asked for */
        g_autoptr(Snapshot) s = sizes ? snapshot_store_get(a->snapshots) : snapshot_store_peek(a->snapshots);
        if (snapshot_failed(s, resp))
                return 0;
        g_autofree char *body = NULL;
        if (pools_body(req, s, sizes, &body, &error) < 0)
                return reply_invalid(resp, error);
        g_autofree char *etag = http_etag_cache_of(a->pool_etags, body, strlen(body));
        g_autofree char *inm = http_request_header_list(req, "If-None-Match");
        bool match = false;
        if (inm && http_etag_none_match(inm, etag, &match, &error) < 0)
                return reply_invalid(resp, error);
        if (match && wait > 0 && !http_request_wait_over(req)) {
                http_request_park(req, a->pool_waiters, seq,
                                  http_request_started(req) + (gint64) wait * G_USEC_PER_SEC);
                return 0;
        }
        http_response_header(resp, "ETag", etag);
        if (match)
                http_response_status(resp, 304);
        else
                http_response_text(resp, 200, "application/json", body);
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
        g_autoptr(Snapshot) s = snapshot_store_get(a->snapshots);
        if (snapshot_failed(s, resp))
                return 0;
        ExportsAddress peer_buf;
        const ExportsAddress *peer = peer_address(req, &peer_buf);
        g_autofree char *hint = local_host(req);
        const SnapshotPool *p = snapshot_pool(s, name);
        if (p && !pool_visible(req, peer, p)) {
                http_response_error(resp, 403, "%s: access denied: %s is not among the share's NFS clients", name,
                                    http_request_peer_address(req));
                return 0;
        }
        if (!p) {
                const ShareInfo *sh = snapshot_share(s, name, NULL);
                if (sh && http_request_is_unix(req))
                        http_response_error(resp, 409, "%s: the share is %s; its pool is defined once it is ready",
                                            name, share_status_to_string(sh->share->status));
                else if (sh)
                        http_response_error(resp, 403, "%s: access denied: the share is not ready", name);
                else
                        http_response_error(resp, 404, "%s: no such share", name);
                return 0;
        }
        bool xml_only = wants_xml(req);
        json_object *o = NULL;
        g_autofree char *xml = NULL;
        if (snapshot_pool_render(s, p, hint, xml_only, &o, &xml, &error) < 0)
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
        g_autofree char *by = auth_who(req);
        if (r < 0) {
                log_warning("reconcile (by %s) failed: %s", by, error ? error->message : g_strerror(-r));
                return reply_engine_error(resp, r, error);
        }
        note_reconcile(a, rep);
        g_mutex_lock(&a->engine_lock);
        snapshot_store_publish(a->snapshots);
        g_mutex_unlock(&a->engine_lock);
        guard_request(a->guard, NULL); /* audit after reconcile */
        log_info("reconcile (by %s): %u changes, %u problems", by, rep->changes->len, rep->problems->len);
        for (guint i = 0; i < rep->changes->len; i++)
                log_info("reconcile: %s", (const char *) g_ptr_array_index(rep->changes, i));
        for (guint i = 0; i < rep->problems->len; i++)
                log_warning("reconcile: %s", (const char *) g_ptr_array_index(rep->problems, i));
        http_response_json(resp, 200, reconcile_report_json(rep));
        return 0;
}

/* ---- the guard's audit ---- */

static json_object *audits_json(const Snapshot *s, const char *only) {
        json_object *o = json_object_new_object(), *list = json_object_new_array();
        for (guint i = 0; i < s->shares->len; i++) {
                const ShareInfo *info = g_ptr_array_index(s->shares, i);
                if (!only || strcmp(info->share->name, only) == 0)
                        json_object_array_add(list, audit_json(info->share->name, info->findings));
        }
        json_object_object_add(o, "audits", list);
        return o;
}

/* GET /v1/audit: every share's last audit, from the snapshot. */
static int h_audit_list(HttpRequest *req, HttpResponse *resp, void *userdata) {
        Api *a = userdata;
        g_autoptr(Snapshot) s = snapshot_store_get(a->snapshots);
        if (snapshot_failed(s, resp))
                return 0;
        http_response_json(resp, 200, audits_json(s, NULL));
        return 0;
}

/* GET /v1/shares/NAME/audit */
static int h_share_audit(HttpRequest *req, HttpResponse *resp, void *userdata) {
        g_autoptr(Snapshot) s = NULL;
        const ShareInfo *info;
        if (path_share(userdata, req, resp, &s, &info, NULL))
                http_response_json(resp, 200, audit_json(info->share->name, info->findings));
        return 0;
}

/* POST /v1/audit[?share=NAME]: audit now (every share, or one), then answer as GET. */
static int h_audit_run(HttpRequest *req, HttpResponse *resp, void *userdata) {
        Api *a = userdata;
        g_autoptr(GError) error = NULL;
        const char *share = http_request_query(req, "share");
        if (share && name_validate_share(share, &error) < 0)
                return reply_invalid(resp, error);
        g_mutex_lock(&a->engine_lock);
        int r = engine_audit(a->engine, share, NULL, &error);
        if (r >= 0)
                snapshot_store_publish(a->snapshots);
        g_mutex_unlock(&a->engine_lock);
        if (r < 0)
                return reply_engine_error(resp, r, error);
        g_autoptr(Snapshot) s = snapshot_store_get(a->snapshots);
        if (snapshot_failed(s, resp))
                return 0;
        http_response_json(resp, 200, audits_json(s, share));
        return 0;
}

static int nfs_config(Api *a, HttpRequest *req, HttpResponse *resp, bool apply) {
        g_autoptr(GError) error = NULL;
        ExportServerConfig c = { 0 };
        g_mutex_lock(&a->engine_lock);
        int r = engine_nfs_config(a->engine, apply, &c, &error);
        g_mutex_unlock(&a->engine_lock);
        if (apply) {
                g_autofree char *by = auth_who(req);
                if (r < 0)
                        log_warning("nfs-config apply (by %s) failed: %s", by,
                                    error ? error->message : g_strerror(-r));
                else
                        log_info("nfs-config apply (by %s): %s", by, c.changed ? "changed" : "already set");
        }
        if (r < 0)
                return reply_engine_error(resp, r, error);
        http_response_json(resp, 200, nfs_config_json(engine_export_server(a->engine), &c));
        export_server_config_clear(&c);
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


/* ---- volumes ---- */

/* The {name} and {volume} of the path, validated. */
static int path_volume(HttpRequest *req, const char **ret_share, const char **ret_volume, GError **error) {
        int r = path_name(req, ret_share, error);
        if (r < 0)
                return r;
        const char *v = http_request_param(req, "volume");
        r = name_validate_volume(v, error);
        if (r < 0)
                return r;
        *ret_volume = v;
        return 0;
}

static int submit_volume(Api *a, HttpRequest *req, HttpResponse *resp, OpKind kind, const char *share,
                         const char *volume, ApiVolumeRequest *body, bool wait) {
        g_autofree char *by = auth_who(req);
        g_autoptr(Operation) o = opqueue_submit_volume(a->ops, kind, share, volume, body, by);
        opqueue_reply(a->ops, o, wait, resp);
        return 0;
}

static int h_volumes_list(HttpRequest *req, HttpResponse *resp, void *userdata) {
        Api *a = userdata;
        g_autoptr(GError) error = NULL;
        const char *share;
        if (path_name(req, &share, &error) < 0)
                return reply_invalid(resp, error);
        g_autoptr(GPtrArray) list = NULL;
        g_mutex_lock(&a->engine_lock);
        int r = engine_volume_list(a->engine, share, &list, &error);
        g_mutex_unlock(&a->engine_lock);
        if (r < 0)
                return reply_engine_error(resp, r, error);
        json_object *arr = json_object_new_array();
        for (guint i = 0; i < list->len; i++)
                json_object_array_add(arr, volume_json(g_ptr_array_index(list, i)));
        json_object *o = json_object_new_object();
        json_object_object_add(o, "volumes", arr);
        http_response_json(resp, 200, o);
        return 0;
}

static int h_volume_get(HttpRequest *req, HttpResponse *resp, void *userdata) {
        Api *a = userdata;
        g_autoptr(GError) error = NULL;
        const char *share, *volume;
        if (path_volume(req, &share, &volume, &error) < 0)
                return reply_invalid(resp, error);
        g_autoptr(VolumeInfo) info = NULL;
        g_mutex_lock(&a->engine_lock);
        int r = engine_volume_get(a->engine, share, volume, &info, &error);
        g_mutex_unlock(&a->engine_lock);
        if (r < 0)
                return reply_engine_error(resp, r, error);
        http_response_json(resp, 200, volume_json(info));
        return 0;
}

static int h_volume_create(HttpRequest *req, HttpResponse *resp, void *userdata) {
        g_autoptr(GError) error = NULL;
        const char *share;
        g_autoptr(ApiVolumeRequest) r = NULL;
        bool wait;
        if (!query_wait(req, resp, &wait))
                return 0;
        if (path_name(req, &share, &error) < 0 ||
            api_volume_body_parse(API_BODY_VOL_CREATE, http_request_json(req), &r, &error) < 0)
                return reply_invalid(resp, error);
        return submit_volume(userdata, req, resp, OP_VOL_CREATE, share, NULL, g_steal_pointer(&r), wait);
}

/* resize, clone: a body; wipe, delete: none. */
static int volume_op(HttpRequest *req, HttpResponse *resp, void *userdata, OpKind kind, int body_kind) {
        g_autoptr(GError) error = NULL;
        const char *share, *volume;
        g_autoptr(ApiVolumeRequest) r = NULL;
        bool wait;
        if (!query_wait(req, resp, &wait))
                return 0;
        if (path_volume(req, &share, &volume, &error) < 0 ||
            (body_kind >= 0 && api_volume_body_parse(body_kind, http_request_json(req), &r, &error) < 0))
                return reply_invalid(resp, error);
        return submit_volume(userdata, req, resp, kind, share, volume, g_steal_pointer(&r), wait);
}

static int h_volume_resize(HttpRequest *req, HttpResponse *resp, void *userdata) {
        return volume_op(req, resp, userdata, OP_VOL_RESIZE, API_BODY_VOL_RESIZE);
}

static int h_volume_clone(HttpRequest *req, HttpResponse *resp, void *userdata) {
        return volume_op(req, resp, userdata, OP_VOL_CLONE, API_BODY_VOL_CLONE);
}

static int h_volume_wipe(HttpRequest *req, HttpResponse *resp, void *userdata) {
        return volume_op(req, resp, userdata, OP_VOL_WIPE, -1);
}

static int h_volume_delete(HttpRequest *req, HttpResponse *resp, void *userdata) {
        return volume_op(req, resp, userdata, OP_VOL_DELETE, -1);
}

/* PUT .../content: the body streams into the volume's temporary file. */
typedef struct Upload {
        Api *api;
        VolumeUpload *u;
        char *target, *by;
        uint64_t length;
} Upload;

static int upload_write(void *sink, const char *data, size_t len, GError **error) {
        Upload *up = sink;
        return engine_volume_upload_write(up->u, data, len, error);
}

static void upload_finish(void *sink, bool complete, const GError *write_error, HttpResponse *resp) {
        Upload *up = sink;
        Api *a = up->api;
        g_autoptr(VolumeInfo) info = NULL;
        g_autoptr(GError) error = NULL;
        g_mutex_lock(&a->engine_lock);
        int r = engine_volume_upload_finish(a->engine, up->u, complete && !write_error, &info, &error);
        snapshot_store_publish(a->snapshots);
        g_mutex_unlock(&a->engine_lock);
        if (write_error) {
                /* what went wrong while the body arrived says it best */
                r = np_error_errno(write_error);
                g_clear_error(&error);
                error = g_error_copy(write_error);
        }
        if (r < 0)
                log_warning("vol-upload %s (by %s) failed: %s", up->target, up->by, error->message);
        else
                log_info("vol-upload %s (by %s): %" G_GUINT64_FORMAT " bytes, a volume of %" G_GUINT64_FORMAT " bytes",
                         up->target, up->by, up->length, info->volume->capacity);
        if (!resp)
                return; /* the client is gone */
        if (r < 0) {
                reply_engine_error(resp, r, error);
                return;
        }
        g_autofree char *location = g_strdup_printf("/v1/shares/%s/volumes/%s", info->volume->share, info->volume->name);
        http_response_header(resp, "Location", location);
        http_response_json(resp, 201, volume_json(info));
}

static void upload_free(void *sink) {
        Upload *up = sink;
        volume_upload_free(up->u);
        g_free(up->target);
        g_free(up->by);
        g_free(up);
}

static int h_volume_upload(HttpRequest *req, HttpResponse *resp, HttpStream *ret_stream, void *userdata) {
        Api *a = userdata;
        g_autoptr(GError) error = NULL;
        const char *share, *volume;
        if (path_volume(req, &share, &volume, &error) < 0)
                return reply_invalid(resp, error);
        const char *cl = http_request_header(req, "Content-Length");
        char *end = NULL;
        errno = 0;
        guint64 length = cl ? g_ascii_strtoull(cl, &end, 10) : 0;
        if (!cl || errno || !end || *end || end == cl) {
                http_response_error(resp, 411, "vol-upload %s/%s: the length of the body must be announced "
                                               "(Content-Length); chunked uploads are not taken",
                                    share, volume);
                return 0;
        }
        g_autoptr(VolumeUpload) u = NULL;
        g_mutex_lock(&a->engine_lock);
        int r = engine_volume_upload_begin(a->engine, share, volume, length, &u, &error);
        g_mutex_unlock(&a->engine_lock);
        if (r < 0)
                return reply_engine_error(resp, r, error);
        Upload *up = g_new0(Upload, 1);
        up->api = a;
        up->u = TAKE_PTR(u);
        up->target = g_strdup_printf("%s/%s", share, volume);
        up->by = auth_who(req);
        up->length = length;
        *ret_stream = (HttpStream) { upload_write, upload_finish, upload_free, up };
        return 0;
}

/* "bytes=START-" or "bytes=START-END" (one range) against size: 1 and the range, 0 when there is
 * no Range header, -1 when it cannot be served (416). */
static int parse_range(const char *h, uint64_t size, uint64_t *ret_start, uint64_t *ret_end) {
        if (!h)
                return 0;
        if (!g_str_has_prefix(h, "bytes="))
                return -1;
        const char *p = h + 6;
        char *end = NULL;
        if (!g_ascii_isdigit(*p))
                return -1;
        errno = 0;
        guint64 start = g_ascii_strtoull(p, &end, 10);
        if (errno || *end != '-')
                return -1;
        p = end + 1;
        guint64 last = size ? size - 1 : 0;
        if (*p) {
                if (!g_ascii_isdigit(*p))
                        return -1;
                last = g_ascii_strtoull(p, &end, 10);
                if (errno || *end)
                        return -1;
                if (last >= size)
                        last = size - 1;
        }
        if (start >= size || start > last)
                return -1;
        *ret_start = start;
        *ret_end = last;
        return 1;
}

static int h_volume_download(HttpRequest *req, HttpResponse *resp, void *userdata) {
        Api *a = userdata;
        g_autoptr(GError) error = NULL;
        const char *share, *volume;
        if (path_volume(req, &share, &volume, &error) < 0)
                return reply_invalid(resp, error);
        int fd = -1;
        uint64_t size = 0;
        g_mutex_lock(&a->engine_lock);
        int r = engine_volume_open(a->engine, share, volume, &fd, &size, &error);
        g_mutex_unlock(&a->engine_lock);
        if (r < 0)
                return reply_engine_error(resp, r, error);
        /* The validator a resumed download sends back (If-Range): the same file, unchanged. */
        struct stat st;
        if (fstat(fd, &st) < 0) {
                int e = errno;
                close(fd);
                http_response_error(resp, 500, "%s/%s: cannot stat the volume: %s", share, volume, g_strerror(e));
                return 0;
        }
        g_autofree char *etag = g_strdup_printf("\"%" PRIx64 "-%" PRIx64 "-%" PRIx64 ".%09ld\"", (uint64_t) st.st_ino,
                                                (uint64_t) st.st_size, (uint64_t) st.st_mtim.tv_sec,
                                                st.st_mtim.tv_nsec);
        http_response_header(resp, "ETag", etag);
        const char *range = http_request_header(req, "Range");
        const char *if_range = http_request_header(req, "If-Range");
        if (range && if_range && strcmp(if_range, etag) != 0)
                range = NULL; /* changed since: the whole content */
        uint64_t start = 0, last = size ? size - 1 : 0;
        int ranged = parse_range(range, size, &start, &last);
        if (ranged < 0) {
                close(fd);
                g_autofree char *cr = g_strdup_printf("bytes */%" G_GUINT64_FORMAT, size);
                http_response_header(resp, "Content-Range", cr);
                http_response_error(resp, 416, "%s/%s: the range %s is not within the volume's %" G_GUINT64_FORMAT " bytes",
                                    share, volume, range, size);
                return 0;
        }
        http_response_header(resp, "Accept-Ranges", "bytes");
        if (ranged) {
                g_autofree char *cr = g_strdup_printf("bytes %" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT,
                                                      start, last, size);
                http_response_header(resp, "Content-Range", cr);
                http_response_file(resp, 206, "application/octet-stream", fd, start, last - start + 1);
        } else
                http_response_file(resp, 200, "application/octet-stream", fd, 0, size);
        return 0;
}

/* GET /: the status page (server/status_page.h), from the same snapshot as the JSON reads. */
static int h_status_page(HttpRequest *req, HttpResponse *resp, void *userdata) {
        Api *a = userdata;
        g_autoptr(Snapshot) s = snapshot_store_get(a->snapshots);
        g_autoptr(GPtrArray) ops = opqueue_recent(a->ops, STATUS_PAGE_OPERATIONS);
        g_autofree char *host = local_host(req);
        StatusPageInput in = { .snapshot = s, .operations = ops, .host_hint = host,
                               .now = g_get_real_time() / G_USEC_PER_SEC, .version = PACKAGE_VERSION };
        g_autofree char *page = status_page_render(&in);
        http_response_text(resp, 200, "text/html; charset=utf-8", page);
        http_response_header(resp, "Content-Security-Policy", status_page_csp());
        for (const char *const *h = status_page_headers; *h; h += 2)
                http_response_header(resp, h[0], h[1]);
        return 0;
}

static const HttpRoute routes[] = {
        { .method = "GET", .pattern = "/", .handler = h_status_page, .challenge = STATUS_PAGE_CHALLENGE },
        { .method = "GET", .pattern = "/v1/health", .handler = h_health },
        { .method = "GET", .pattern = "/metrics", .handler = h_metrics },
        { .method = "GET", .pattern = "/v1/operations/{id}", .handler = h_operation_get },
        { .method = "GET", .pattern = "/v1/shares", .handler = h_shares_list },
        { .method = "POST", .pattern = "/v1/shares", .handler = h_share_create },
        { .method = "GET", .pattern = "/v1/shares/{name}", .handler = h_share_get },
        { .method = "DELETE", .pattern = "/v1/shares/{name}", .handler = h_share_delete },
        { .method = "POST", .pattern = "/v1/shares/{name}/resize", .handler = h_share_resize },
        { .method = "POST", .pattern = "/v1/shares/{name}/guard", .handler = h_share_guard },
        { .method = "GET", .pattern = "/v1/shares/{name}/audit", .handler = h_share_audit },
        { .method = "POST", .pattern = "/v1/shares/{name}/audit/adopt", .handler = h_finding_adopt },
        { .method = "POST", .pattern = "/v1/shares/{name}/audit/remove", .handler = h_finding_remove },
        { .method = "POST", .pattern = "/v1/shares/{name}/audit/quarantine", .handler = h_finding_quarantine },
        { .method = "POST", .pattern = "/v1/shares/{name}/audit/restore", .handler = h_finding_restore },
        { .method = "GET", .pattern = "/v1/quarantine", .handler = h_quarantine_list },
        { .method = "GET", .pattern = "/v1/audit", .handler = h_audit_list },
        { .method = "POST", .pattern = "/v1/audit", .handler = h_audit_run },
        { .method = "GET", .pattern = "/v1/shares/{name}/volumes", .handler = h_volumes_list },
        { .method = "POST", .pattern = "/v1/shares/{name}/volumes", .handler = h_volume_create },
        { .method = "GET", .pattern = "/v1/shares/{name}/volumes/{volume}", .handler = h_volume_get },
        { .method = "DELETE", .pattern = "/v1/shares/{name}/volumes/{volume}", .handler = h_volume_delete },
        { .method = "POST", .pattern = "/v1/shares/{name}/volumes/{volume}/resize", .handler = h_volume_resize },
        { .method = "POST", .pattern = "/v1/shares/{name}/volumes/{volume}/clone", .handler = h_volume_clone },
        { .method = "POST", .pattern = "/v1/shares/{name}/volumes/{volume}/wipe", .handler = h_volume_wipe },
        { .method = "PUT", .pattern = "/v1/shares/{name}/volumes/{volume}/content", .stream = h_volume_upload },
        { .method = "GET", .pattern = "/v1/shares/{name}/volumes/{volume}/content", .handler = h_volume_download },
        { .method = "GET", .pattern = "/v1/pools", .handler = h_pools_list },
        { .method = "GET", .pattern = "/v1/pools/{name}", .handler = h_pool_get },
        { .method = "POST", .pattern = "/v1/reconcile", .handler = h_reconcile },
        { .method = "GET", .pattern = "/v1/nfs-config", .handler = h_nfs_config_get },
        { .method = "POST", .pattern = "/v1/nfs-config", .handler = h_nfs_config_post },
};

const HttpRoute *api_routes(size_t *ret_n) {
        *ret_n = G_N_ELEMENTS(routes);
        return routes;
}

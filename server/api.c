/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The route table and the handlers. What they stand on, one file each: the read snapshot and its
 * refresher (snapshot.c), the operation queue (opqueue.c), token auth (auth.c), the Prometheus
 * text (metrics.c), the request bodies (api_body.c) and the JSON of what the engine reports
 * (share_json.c).
 */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "api.h"
#include "api_body.h"
#include "auth.h"
#include "exports_client.h"
#include "log.h"
#include "metrics.h"
#include "name.h"
#include "opqueue.h"
#include "share_json.h"
#include "snapshot.h"

struct Api {
        GMutex engine_lock;     /* held around every engine call */
        Engine *engine;
        SnapshotStore *snapshots;
        OpQueue *ops;
        Auth *auth;
        char *state_dir;

        GMutex lock;            /* the last reconcile below */
        bool reconciled;
        MetricsReconcile last;
};

/* ---- the Api ---- */

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
        a->ops = opqueue_new(engine, &a->engine_lock, a->snapshots);
        return a;
}

void api_shutdown(Api *a) {
        if (!a)
                return;
        opqueue_shutdown(a->ops);
        snapshot_store_stop(a->snapshots);
}

void api_free(Api *a) {
        if (!a)
                return;
        api_shutdown(a);
        opqueue_free(a->ops);
        snapshot_store_free(a->snapshots);
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

static int h_share_get(HttpRequest *req, HttpResponse *resp, void *userdata) {
        Api *a = userdata;
        g_autoptr(GError) error = NULL;
        const char *name;
        if (path_name(req, &name, &error) < 0)
                return reply_invalid(resp, error);
        g_autoptr(Snapshot) s = snapshot_store_get(a->snapshots);
        if (snapshot_failed(s, resp))
                return 0;
        json_object *sh = NULL;
        if (!snapshot_share(s, name, &sh)) {
                http_response_error(resp, 404, "%s: no such share", name);
                return 0;
        }
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
        return submit(a, req, resp, OP_RESIZE, name, g_steal_pointer(&r), false, wait);
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

static int h_pools_list(HttpRequest *req, HttpResponse *resp, void *userdata) {
        Api *a = userdata;
        g_autoptr(GError) error = NULL;
        g_autoptr(Snapshot) s = snapshot_store_get(a->snapshots);
        if (snapshot_failed(s, resp))
                return 0;
        ExportsAddress peer_buf;
        const ExportsAddress *peer = peer_address(req, &peer_buf);
        if (s->address) {
                /* Pre-rendered pools: join the texts the asking host may see. */
                g_autoptr(GString) body = g_string_new("{\"pools\":[");
                bool first = true;
                for (guint i = 0; i < s->pools->len; i++) {
                        const SnapshotPool *p = g_ptr_array_index(s->pools, i);
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
                const SnapshotPool *p = g_ptr_array_index(s->pools, i);
                if (!pool_visible(req, peer, p))
                        continue;
                json_object *o = NULL;
                if (snapshot_pool_render(s, p, hint, false, &o, NULL, &error) < 0) {
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

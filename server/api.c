/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "api.h"
#include "error.h"
#include "log.h"
#include "name.h"
#include "pooldef.h"
#include "size.h"

struct Api {
        GMutex engine_lock;     /* held around every engine call */
        Engine *engine;

        GMutex info_lock;       /* the last reconcile, for /v1/health */
        bool reconciled;
        int64_t last_reconcile;
        unsigned problems;
};

Api *api_new(Engine *engine, const ReconcileReport *startup) {
        Api *a = g_new0(Api, 1);
        g_mutex_init(&a->engine_lock);
        g_mutex_init(&a->info_lock);
        a->engine = engine;
        if (startup) {
                a->reconciled = true;
                a->last_reconcile = startup->finished_at;
                a->problems = startup->problems ? startup->problems->len : 0;
        }
        return a;
}

void api_free(Api *a) {
        if (!a)
                return;
        g_mutex_clear(&a->engine_lock);
        g_mutex_clear(&a->info_lock);
        g_free(a);
}

int api_set_config(Api *a, Config *config, GError **error) {
        g_mutex_lock(&a->engine_lock);
        int r = engine_set_config(a->engine, config, error);
        g_mutex_unlock(&a->engine_lock);
        return r;
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
        http_response_error(resp, engine_error_http_status(r), "%s",
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

/* The body as an object whose keys are all in allowed (a NULL-terminated list). */
static int body_object(HttpRequest *req, const char *const *allowed, json_object **ret, GError **error) {
        json_object *body = http_request_json(req);
        g_autofree char *keys = g_strjoinv(", ", (char **) allowed);
        if (!body)
                return np_fail(error, EINVAL, "the request needs a JSON object body with the keys %s", keys);
        if (!json_object_is_type(body, json_type_object))
                return np_fail(error, EINVAL, "the request body must be a JSON object with the keys %s", keys);
        json_object_object_foreach(body, key, value) {
                (void) value;
                if (!g_strv_contains(allowed, key))
                        return np_fail(error, EINVAL, "unknown key \"%s\" in the request body; allowed: %s", key,
                                       keys);
        }
        *ret = body;
        return 0;
}

/* A key that must be a string when present. Returns 0 with *ret NULL when absent (or null). */
static int body_string(json_object *body, const char *key, const char **ret, GError **error) {
        json_object *v = NULL;
        if (!json_object_object_get_ex(body, key, &v) || !v) {
                *ret = NULL;
                return 0;
        }
        if (!json_object_is_type(v, json_type_string))
                return np_fail(error, EINVAL, "\"%s\" must be a string", key);
        *ret = json_object_get_string(v);
        return 0;
}

/* "size": text like "50G" (size_parse) or a positive integer of bytes. *ret = 0 when absent. */
static int body_size(json_object *body, uint64_t *ret, GError **error) {
        json_object *v = NULL;
        if (!json_object_object_get_ex(body, "size", &v) || !v) {
                *ret = 0;
                return 0;
        }
        if (json_object_is_type(v, json_type_string))
                return size_parse(json_object_get_string(v), ret, error);
        if (json_object_is_type(v, json_type_int)) {
                errno = 0;
                int64_t n = json_object_get_int64(v);
                if (errno == 0 && n > 0 && n < INT64_MAX) {
                        *ret = (uint64_t) n;
                        return 0;
                }
                return np_fail(error, EINVAL,
                               "invalid size %s: must be a whole number of bytes from 1 to %" PRId64
                               ", or text like \"50G\"",
                               json_object_to_json_string(v), INT64_MAX - 1);
        }
        return np_fail(error, EINVAL, "\"size\" must be text like \"50G\" or a whole number of bytes");
}

static int body_bool(json_object *body, const char *key, bool *ret, GError **error) {
        json_object *v = NULL;
        if (!json_object_object_get_ex(body, key, &v) || !v) {
                *ret = false;
                return 0;
        }
        if (!json_object_is_type(v, json_type_boolean))
                return np_fail(error, EINVAL, "\"%s\" must be true or false", key);
        *ret = json_object_get_boolean(v);
        return 0;
}

/* "clients": a non-empty array of non-empty strings. *ret NULL when absent. */
static int body_clients(json_object *body, char ***ret, GError **error) {
        json_object *v = NULL;
        if (!json_object_object_get_ex(body, "clients", &v) || !v) {
                *ret = NULL;
                return 0;
        }
        if (!json_object_is_type(v, json_type_array))
                return np_fail(error, EINVAL, "\"clients\" must be an array of exports(5) client specifications");
        size_t n = json_object_array_length(v);
        if (n == 0)
                return np_fail(error, EINVAL, "\"clients\" is empty; leave it out to use the configured clients");
        g_auto(GStrv) clients = g_new0(char *, n + 1);
        for (size_t i = 0; i < n; i++) {
                json_object *c = json_object_array_get_idx(v, i);
                if (!c || !json_object_is_type(c, json_type_string) || json_object_get_string_len(c) == 0)
                        return np_fail(error, EINVAL, "\"clients\" item %zu must be a non-empty string", i + 1);
                clients[i] = g_strdup(json_object_get_string(c));
        }
        *ret = g_steal_pointer(&clients);
        return 0;
}

static void note_reconcile(Api *a, const ReconcileReport *rep) {
        g_mutex_lock(&a->info_lock);
        a->reconciled = true;
        a->last_reconcile = rep->finished_at;
        a->problems = rep->problems->len;
        g_mutex_unlock(&a->info_lock);
}

/* ---- handlers ---- */

static int h_health(HttpRequest *req, HttpResponse *resp, void *userdata) {
        Api *a = userdata;
        json_object *o = json_object_new_object();
        g_mutex_lock(&a->info_lock);
        json_object_object_add(o, "status", json_object_new_string("ok"));
        json_object_object_add(o, "reconciled", json_object_new_boolean(a->reconciled));
        json_object_object_add(o, "version", json_object_new_string(PACKAGE_VERSION));
        json_object_object_add(o, "last_reconcile",
                               a->reconciled ? json_object_new_int64(a->last_reconcile) : NULL);
        json_object_object_add(o, "problems", json_object_new_int64(a->problems));
        g_mutex_unlock(&a->info_lock);
        http_response_json(resp, 200, o);
        return 0;
}

static int h_shares_list(HttpRequest *req, HttpResponse *resp, void *userdata) {
        Api *a = userdata;
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) list = NULL;
        g_mutex_lock(&a->engine_lock);
        int r = engine_list(a->engine, &list, &error);
        g_mutex_unlock(&a->engine_lock);
        if (r < 0)
                return reply_engine_error(resp, r, error);
        json_object *arr = json_object_new_array();
        for (guint i = 0; i < list->len; i++)
                json_object_array_add(arr, share_info_to_json(g_ptr_array_index(list, i)));
        json_object *o = json_object_new_object();
        json_object_object_add(o, "shares", arr);
        http_response_json(resp, 200, o);
        return 0;
}

static int h_share_get(HttpRequest *req, HttpResponse *resp, void *userdata) {
        Api *a = userdata;
        g_autoptr(GError) error = NULL;
        const char *name;
        if (path_name(req, &name, &error) < 0)
                return reply_invalid(resp, error);
        g_autoptr(ShareInfo) info = NULL;
        g_mutex_lock(&a->engine_lock);
        int r = engine_get(a->engine, name, &info, &error);
        g_mutex_unlock(&a->engine_lock);
        if (r < 0)
                return reply_engine_error(resp, r, error);
        http_response_json(resp, 200, share_info_to_json(info));
        return 0;
}

static int h_share_create(HttpRequest *req, HttpResponse *resp, void *userdata) {
        static const char *const keys[] = { "name", "size", "disk", "clients", "force", NULL };
        Api *a = userdata;
        g_autoptr(GError) error = NULL;
        json_object *body;
        const char *name, *disk;
        uint64_t size = 0;
        g_auto(GStrv) clients = NULL;
        bool force = false;
        if (body_object(req, keys, &body, &error) < 0 || body_string(body, "name", &name, &error) < 0)
                return reply_invalid(resp, error);
        if (!name) {
                http_response_error(resp, 400, "the request body has no \"name\" (the share name)");
                return 0;
        }
        if (name_validate_share(name, &error) < 0 || body_size(body, &size, &error) < 0 ||
            body_string(body, "disk", &disk, &error) < 0 || body_clients(body, &clients, &error) < 0 ||
            body_bool(body, "force", &force, &error) < 0)
                return reply_invalid(resp, error);
        if (disk && !*disk) {
                http_response_error(resp, 400, "\"disk\" is empty; give a device path like /dev/sdb or leave it out");
                return 0;
        }

        ShareSpec spec = { .name = name, .size = size, .disk = disk, .clients = clients, .force = force };
        g_autoptr(ShareInfo) info = NULL;
        bool created = false;
        g_mutex_lock(&a->engine_lock);
        int r = engine_create(a->engine, &spec, &info, &created, &error);
        g_mutex_unlock(&a->engine_lock);
        g_autofree char *by = who(req);
        if (r < 0) {
                log_warning("create %s (by %s) failed: %s", name, by, error ? error->message : g_strerror(-r));
                return reply_engine_error(resp, r, error);
        }
        if (created) {
                log_info("create %s (by %s): created", name, by);
                g_autofree char *location = g_strdup_printf("/v1/shares/%s", name);
                http_response_header(resp, "Location", location);
        }
        http_response_json(resp, created ? 201 : 200, share_info_to_json(info));
        return 0;
}

static int h_share_resize(HttpRequest *req, HttpResponse *resp, void *userdata) {
        static const char *const keys[] = { "size", NULL };
        Api *a = userdata;
        g_autoptr(GError) error = NULL;
        const char *name;
        json_object *body;
        uint64_t size;
        if (path_name(req, &name, &error) < 0 || body_object(req, keys, &body, &error) < 0 ||
            body_size(body, &size, &error) < 0)
                return reply_invalid(resp, error);
        if (size == 0) {
                http_response_error(resp, 400, "the request body has no \"size\" (the new size, e.g. \"100G\")");
                return 0;
        }

        g_autoptr(ShareInfo) info = NULL;
        bool offline = false;
        g_mutex_lock(&a->engine_lock);
        int r = engine_resize(a->engine, name, size, &info, &offline, &error);
        g_mutex_unlock(&a->engine_lock);
        g_autofree char *by = who(req);
        if (r < 0) {
                log_warning("resize %s (by %s) failed: %s", name, by, error ? error->message : g_strerror(-r));
                return reply_engine_error(resp, r, error);
        }
        log_info("resize %s (by %s): grown to %" PRIu64 " bytes%s", name, by, size,
                 offline ? " (offline)" : "");
        json_object *o = json_object_new_object();
        json_object_object_add(o, "share", share_info_to_json(info));
        json_object_object_add(o, "offline", json_object_new_boolean(offline));
        http_response_json(resp, 200, o);
        return 0;
}

static int h_share_delete(HttpRequest *req, HttpResponse *resp, void *userdata) {
        Api *a = userdata;
        g_autoptr(GError) error = NULL;
        const char *name;
        bool force;
        if (path_name(req, &name, &error) < 0 || http_request_query_bool(req, "force", false, &force, &error) < 0)
                return reply_invalid(resp, error);

        g_mutex_lock(&a->engine_lock);
        int r = engine_delete(a->engine, name, force, &error);
        g_mutex_unlock(&a->engine_lock);
        g_autofree char *by = who(req);
        if (r < 0) {
                log_warning("delete %s (by %s) failed: %s", name, by, error ? error->message : g_strerror(-r));
                return reply_engine_error(resp, r, error);
        }
        log_info("delete %s (by %s): deleted%s", name, by, force ? " (forced)" : "");
        json_object *o = json_object_new_object();
        json_object_object_add(o, "deleted", json_object_new_string(name));
        http_response_json(resp, 200, o);
        return 0;
}

/* The pool JSON of one share (engine lock held). */
static int pool_json(Api *a, const ShareInfo *info, const char *host_hint, json_object **ret, GError **error) {
        g_autoptr(PoolDef) p = NULL;
        int r = engine_pooldef(a->engine, info->share->name, host_hint, &p, error);
        if (r < 0)
                return r;
        json_object *o = pooldef_to_json(p);
        g_autofree char *xml = pooldef_to_xml(p);
        json_object_object_add(o, "xml", json_object_new_string(xml));
        json_object_object_add(o, "status", json_object_new_string(share_status_to_string(info->share->status)));
        *ret = o;
        return 0;
}

static int h_pools_list(HttpRequest *req, HttpResponse *resp, void *userdata) {
        Api *a = userdata;
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) list = NULL;
        const char *hint = http_request_local_address(req);
        json_object *arr = json_object_new_array();
        g_mutex_lock(&a->engine_lock);
        int r = engine_list(a->engine, &list, &error);
        for (guint i = 0; r >= 0 && i < list->len; i++) {
                const ShareInfo *info = g_ptr_array_index(list, i);
                if (info->share->status != SHARE_READY && info->share->status != SHARE_RESIZING)
                        continue;
                json_object *o;
                r = pool_json(a, info, hint, &o, &error);
                if (r >= 0)
                        json_object_array_add(arr, o);
        }
        g_mutex_unlock(&a->engine_lock);
        if (r < 0) {
                json_object_put(arr);
                return reply_engine_error(resp, r, error);
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
        const char *hint = http_request_local_address(req);
        g_autoptr(ShareInfo) info = NULL;
        g_autoptr(PoolDef) p = NULL;
        g_mutex_lock(&a->engine_lock);
        int r = engine_get(a->engine, name, &info, &error);
        if (r >= 0)
                r = engine_pooldef(a->engine, name, hint, &p, &error);
        g_mutex_unlock(&a->engine_lock);
        if (r < 0)
                return reply_engine_error(resp, r, error);

        g_autofree char *xml = pooldef_to_xml(p);
        if (wants_xml(req)) {
                http_response_text(resp, 200, "application/xml", xml);
                return 0;
        }
        json_object *o = pooldef_to_json(p);
        json_object_object_add(o, "xml", json_object_new_string(xml));
        json_object_object_add(o, "status", json_object_new_string(share_status_to_string(info->share->status)));
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
        log_info("reconcile (by %s): %u changes, %u problems", by, rep->changes->len, rep->problems->len);
        for (guint i = 0; i < rep->changes->len; i++)
                log_info("reconcile: %s", (const char *) g_ptr_array_index(rep->changes, i));
        for (guint i = 0; i < rep->problems->len; i++)
                log_warning("reconcile: %s", (const char *) g_ptr_array_index(rep->problems, i));
        http_response_json(resp, 200, reconcile_report_to_json(rep));
        return 0;
}

static int nfs_config(Api *a, HttpRequest *req, HttpResponse *resp, bool apply) {
        g_autoptr(GError) error = NULL;
        json_object *o = NULL;
        g_mutex_lock(&a->engine_lock);
        int r = engine_nfs_config(a->engine, apply, &o, &error);
        g_mutex_unlock(&a->engine_lock);
        if (apply) {
                g_autofree char *by = who(req);
                if (r < 0)
                        log_warning("nfs-config apply (by %s) failed: %s", by,
                                    error ? error->message : g_strerror(-r));
                else {
                        json_object *changed = NULL;
                        json_object_object_get_ex(o, "changed", &changed);
                        log_info("nfs-config apply (by %s): %s", by,
                                 json_object_get_boolean(changed) ? "changed" : "already set");
                }
        }
        if (r < 0)
                return reply_engine_error(resp, r, error);
        http_response_json(resp, 200, o);
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

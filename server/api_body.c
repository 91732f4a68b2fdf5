/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <json-c/json.h>

#include "api_body.h"
#include "error.h"
#include "guard_mode.h"
#include "exports_client.h"
#include "macro.h"
#include "name.h"
#include "size.h"

void api_share_request_free(ApiShareRequest *r) {
        if (!r)
                return;
        g_free(r->name);
        g_free(r->disk);
        g_strfreev(r->clients);
        g_free(r->guard);
        g_free(r->path);
        g_free(r);
}

static int check_keys(json_object *body, const char *const *allowed, GError **error) {
        g_autofree char *keys = g_strjoinv(", ", (char **) allowed);
        if (!json_object_is_type(body, json_type_object))
                return np_fail(error, EINVAL, "the request body must be a JSON object with the keys %s", keys);
        json_object_object_foreach(body, key, value) {
                (void) value;
                if (!g_strv_contains(allowed, key)) {
                        g_autofree char *shown = g_strescape(key, NULL);
                        if (strlen(shown) > 64)
                                strcpy(shown + 61, "...");
                        return np_fail(error, EINVAL, "unknown key \"%s\" in the request body; allowed: %s", shown,
                                       keys);
                }
        }
        return 0;
}

static json_object *get(json_object *body, const char *key) {
        json_object *v = NULL;
        if (!json_object_object_get_ex(body, key, &v))
                return NULL;
        return v; /* NULL for null */
}

/* A string without NUL characters; NULL when absent. */
static int get_string(json_object *body, const char *key, char **ret, GError **error) {
        json_object *v = get(body, key);
        if (!v) {
                *ret = NULL;
                return 0;
        }
        if (!json_object_is_type(v, json_type_string))
                return np_fail(error, EINVAL, "\"%s\" must be a string", key);
        const char *s = json_object_get_string(v);
        if (strlen(s) != (size_t) json_object_get_string_len(v))
                return np_fail(error, EINVAL, "\"%s\" contains a NUL character", key);
        *ret = g_strdup(s);
        return 0;
}

static int get_size_key(json_object *body, const char *key, uint64_t *ret, GError **error) {
        json_object *v = get(body, key);
        if (!v) {
                *ret = 0;
                return 0;
        }
        if (json_object_is_type(v, json_type_string)) {
                const char *s = json_object_get_string(v);
                if (strlen(s) != (size_t) json_object_get_string_len(v))
                        return np_fail(error, EINVAL, "\"%s\" contains a NUL character", key);
                /* size_parse() says -ERANGE for an overflow; the API's contract is -EINVAL. */
                g_autoptr(GError) e = NULL;
                if (size_parse(s, ret, &e) < 0)
                        return np_fail(error, EINVAL, "%s", e->message);
                return 0;
        }
        if (json_object_is_type(v, json_type_int)) {
                errno = 0;
                int64_t n = json_object_get_int64(v);
                if (errno == 0 && n > 0 && n < INT64_MAX) {
                        *ret = (uint64_t) n;
                        return 0;
                }
                return np_fail(error, EINVAL,
                               "invalid %s %s: must be a whole number of bytes from 1 to %" PRId64
                               ", or text like \"50G\"",
                               key, json_object_to_json_string(v), INT64_MAX - 1);
        }
        return np_fail(error, EINVAL, "\"%s\" must be text like \"50G\" or a whole number of bytes", key);
}

static int get_size(json_object *body, uint64_t *ret, GError **error) {
        return get_size_key(body, "size", ret, error);
}

static int get_bool(json_object *body, const char *key, bool *ret, GError **error) {
        json_object *v = get(body, key);
        if (!v) {
                *ret = false;
                return 0;
        }
        if (!json_object_is_type(v, json_type_boolean))
                return np_fail(error, EINVAL, "\"%s\" must be true or false", key);
        *ret = json_object_get_boolean(v);
        return 0;
}

static int get_clients(json_object *body, char ***ret, GError **error) {
        json_object *v = get(body, "clients");
        if (!v) {
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
                const char *s = json_object_get_string(c);
                if (strlen(s) != (size_t) json_object_get_string_len(c))
                        return np_fail(error, EINVAL, "\"clients\" item %zu contains a NUL character", i + 1);
                int r = exports_client_check(s, error);
                if (r < 0)
                        return r;
                clients[i] = g_strdup(s);
        }
        *ret = g_steal_pointer(&clients);
        return 0;
}

/* A guard mode (server/guard_mode.h) under key; NULL when absent. */
static int get_guard(json_object *o, const char *key, char **ret, GError **error) {
        g_autofree char *v = NULL;
        int r = get_string(o, key, &v, error);
        if (r < 0)
                return r;
        GuardMode m;
        if (v && (r = guard_mode_parse(v, &m, error)) < 0)
                return r;
        *ret = g_steal_pointer(&v);
        return 0;
}

int api_body_parse(ApiBodyKind kind, json_object *o, ApiShareRequest **ret, GError **error) {
        static const char *const create_keys[] = { "name", "size", "disk", "clients", "force", "guard", NULL };
        static const char *const resize_keys[] = { "size", NULL };
        static const char *const guard_keys[] = { "mode", NULL };
        static const char *const finding_keys[] = { "path", NULL };
        static const char *const restore_keys[] = { "name", NULL };
        int r;

        if (!o)
                return np_fail(error, EINVAL, "the request has no body; it needs a JSON object");
        r = check_keys(o,
                       kind == API_BODY_RESIZE    ? resize_keys
                       : kind == API_BODY_GUARD   ? guard_keys
                       : kind == API_BODY_FINDING ? finding_keys
                       : kind == API_BODY_RESTORE ? restore_keys
                                                  : create_keys,
                       error);
        if (r < 0)
                return r;

        g_autoptr(ApiShareRequest) req = g_new0(ApiShareRequest, 1);
        if (kind == API_BODY_FINDING) {
                if ((r = get_string(o, "path", &req->path, error)) < 0)
                        return r;
                if (!req->path || !*req->path)
                        return np_fail(error, EINVAL, "the request body has no \"path\" (a path in the share, as the audit "
                                                      "names it)");
                *ret = g_steal_pointer(&req);
                return 0;
        }
        if (kind == API_BODY_RESTORE) {
                if ((r = get_string(o, "name", &req->name, error)) < 0)
                        return r;
                if (!req->name || !*req->name || strchr(req->name, '/'))
                        return np_fail(error, EINVAL, "the request body has no \"name\" (a quarantined item's name, as "
                                                      "nfsprov audit --quarantined lists it)");
                *ret = g_steal_pointer(&req);
                return 0;
        }
        if (kind == API_BODY_GUARD) {
                if ((r = get_guard(o, "mode", &req->guard, error)) < 0)
                        return r;
                if (!req->guard)
                        return np_fail(error, EINVAL, "the request body has no \"mode\" (" GUARD_MODES_ALLOWED ")");
                *ret = g_steal_pointer(&req);
                return 0;
        }
        if (kind == API_BODY_RESIZE) {
                r = get_size(o, &req->size, error);
                if (r < 0)
                        return r;
                if (req->size == 0)
                        return np_fail(error, EINVAL, "the request body has no \"size\" (the new size, e.g. \"100G\")");
                *ret = g_steal_pointer(&req);
                return 0;
        }

        r = get_string(o, "name", &req->name, error);
        if (r < 0)
                return r;
        if (!req->name)
                return np_fail(error, EINVAL, "the request body has no \"name\" (the share name)");
        r = name_validate_share(req->name, error);
        if (r < 0)
                return r;
        if ((r = get_size(o, &req->size, error)) < 0 || (r = get_string(o, "disk", &req->disk, error)) < 0 ||
            (r = get_clients(o, &req->clients, error)) < 0 || (r = get_bool(o, "force", &req->force, error)) < 0 ||
            (r = get_guard(o, "guard", &req->guard, error)) < 0)
                return r;
        if (req->disk && !*req->disk)
                return np_fail(error, EINVAL, "\"disk\" is empty; give a device path like /dev/sdb or leave it out");
        *ret = g_steal_pointer(&req);
        return 0;
}

void api_volume_request_free(ApiVolumeRequest *r) {
        if (!r)
                return;
        g_free(r->name);
        g_free(r->backing);
        g_free(r);
}

/* A volume name in the body (a key): required when `required`. */
static int get_volume_name(json_object *o, const char *key, bool required, char **ret, GError **error) {
        int r = get_string(o, key, ret, error);
        if (r < 0)
                return r;
        if (!*ret)
                return required ? np_fail(error, EINVAL, "the request body has no \"%s\" (a volume name)", key) : 0;
        return name_validate_volume(*ret, error);
}

int api_volume_body_parse(ApiVolumeBodyKind kind, json_object *o, ApiVolumeRequest **ret, GError **error) {
        static const char *const create_keys[] = { "name", "capacity", "backing", NULL };
        static const char *const clone_keys[] = { "name", "linked", NULL };
        static const char *const resize_keys[] = { "capacity", "shrink", NULL };
        static const char *const *const keys[] = {
                [API_BODY_VOL_CREATE] = create_keys,
                [API_BODY_VOL_CLONE] = clone_keys,
                [API_BODY_VOL_RESIZE] = resize_keys,
        };
        if (!o)
                return np_fail(error, EINVAL, "the request has no body; it needs a JSON object");
        if ((unsigned) kind >= G_N_ELEMENTS(keys))
                return np_fail(error, EINVAL, "unknown kind of volume request");
        int r = check_keys(o, keys[kind], error);
        if (r < 0)
                return r;
        g_autoptr(ApiVolumeRequest) req = g_new0(ApiVolumeRequest, 1);
        switch (kind) {
        case API_BODY_VOL_CREATE:
                if ((r = get_volume_name(o, "name", true, &req->name, error)) < 0 ||
                    (r = get_size_key(o, "capacity", &req->capacity, error)) < 0 ||
                    (r = get_volume_name(o, "backing", false, &req->backing, error)) < 0)
                        return r;
                if (!req->capacity && !req->backing)
                        return np_fail(error, EINVAL, "the request body has no \"capacity\" (e.g. \"20G\")");
                break;
        case API_BODY_VOL_CLONE:
                if ((r = get_volume_name(o, "name", true, &req->name, error)) < 0 ||
                    (r = get_bool(o, "linked", &req->linked, error)) < 0)
                        return r;
                break;
        case API_BODY_VOL_RESIZE:
                if ((r = get_size_key(o, "capacity", &req->capacity, error)) < 0 ||
                    (r = get_bool(o, "shrink", &req->shrink, error)) < 0)
                        return r;
                if (!req->capacity)
                        return np_fail(error, EINVAL, "the request body has no \"capacity\" (the new capacity, e.g. \"40G\")");
                break;
        }
        *ret = TAKE_PTR(req);
        return 0;
}

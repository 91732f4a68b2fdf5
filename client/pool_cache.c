/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <json-c/json.h>

#include "atomic_file.h"
#include "error.h"
#include "json_autoptr.h"
#include "pool_cache.h"

#define CACHE_MAX (64u << 20) /* as a server's answer (server_pools.c) */

typedef struct Entry {
        char *url, *etag, *body;
} Entry;

struct PoolCache {
        char *path;
        GPtrArray *entries; /* Entry* */
        bool dirty;
        int lock_fd;        /* PATH.lock, locked; -1: none */
};

static void entry_free(Entry *e) {
        g_free(e->url);
        g_free(e->etag);
        g_free(e->body);
        g_free(e);
}

static const char *string_key(json_object *o, const char *key) {
        json_object *v;
        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

static void parse(PoolCache *c, const char *text) {
        g_autoptr(json_object) j = json_tokener_parse(text);
        json_object *version, *servers;
        if (!j || !json_object_is_type(j, json_type_object) || !json_object_object_get_ex(j, "version", &version) ||
            json_object_get_int(version) != 1 || !json_object_object_get_ex(j, "servers", &servers) ||
            !json_object_is_type(servers, json_type_array))
                return;
        for (size_t i = 0; i < json_object_array_length(servers); i++) {
                json_object *o = json_object_array_get_idx(servers, i);
                const char *url = string_key(o, "url"), *etag = string_key(o, "etag"), *body = string_key(o, "body");
                if (url && etag && body && pool_cache_get(c, url, NULL, NULL) < 0) {
                        Entry *e = g_new0(Entry, 1);
                        *e = (Entry) { g_strdup(url), g_strdup(etag), g_strdup(body) };
                        g_ptr_array_add(c->entries, e);
                }
        }
}

/* PATH.lock, locked exclusively (waits); -1 when it cannot be made. */
static int take_lock(const char *path) {
        g_autofree char *dir = g_path_get_dirname(path);
        g_autofree char *lock = g_strconcat(path, ".lock", NULL);
        (void) g_mkdir_with_parents(dir, 0755);
        int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
                return -1;
        while (flock(fd, LOCK_EX) < 0)
                if (errno != EINTR) {
                        close(fd);
                        return -1;
                }
        return fd;
}

PoolCache *pool_cache_load(const char *path) {
        PoolCache *c = g_new0(PoolCache, 1);
        c->path = g_strdup(path);
        c->lock_fd = path ? take_lock(path) : -1;
        c->entries = g_ptr_array_new_with_free_func((GDestroyNotify) entry_free);
        g_autofree char *text = NULL;
        size_t len = 0;
        if (path && atomic_file_read(path, &text, &len, NULL) >= 0 && len <= CACHE_MAX && strlen(text) == len)
                parse(c, text);
        return c;
}

void pool_cache_free(PoolCache *c) {
        if (!c)
                return;
        g_ptr_array_unref(c->entries);
        g_free(c->path);
        if (c->lock_fd >= 0)
                close(c->lock_fd); /* the lock goes with it */
        g_free(c);
}

static Entry *find(const PoolCache *c, const char *url, guint *ret_index) {
        for (guint i = 0; i < c->entries->len; i++) {
                Entry *e = g_ptr_array_index(c->entries, i);
                if (strcmp(e->url, url) == 0) {
                        if (ret_index)
                                *ret_index = i;
                        return e;
                }
        }
        return NULL;
}

int pool_cache_get(const PoolCache *c, const char *url, const char **ret_etag, const char **ret_body) {
        const Entry *e = find(c, url, NULL);
        if (!e)
                return -ENOENT;
        if (ret_etag)
                *ret_etag = e->etag;
        if (ret_body)
                *ret_body = e->body;
        return 0;
}

void pool_cache_set(PoolCache *c, const char *url, const char *etag, const char *body) {
        guint i;
        Entry *e = find(c, url, &i);
        if (e && etag && body && strcmp(e->etag, etag) == 0 && strcmp(e->body, body) == 0)
                return;
        if (e)
                g_ptr_array_remove_index(c->entries, i);
        if (etag && body) {
                Entry *n = g_new0(Entry, 1);
                *n = (Entry) { g_strdup(url), g_strdup(etag), g_strdup(body) };
                g_ptr_array_add(c->entries, n);
        }
        c->dirty = c->dirty || e || (etag && body);
}

int pool_cache_save(PoolCache *c, GError **error) {
        if (!c->path || !c->dirty)
                return 0;
        g_autoptr(json_object) servers = json_object_new_array();
        for (guint i = 0; i < c->entries->len; i++) {
                const Entry *e = g_ptr_array_index(c->entries, i);
                json_object *o = json_object_new_object();
                json_object_object_add(o, "url", json_object_new_string(e->url));
                json_object_object_add(o, "etag", json_object_new_string(e->etag));
                json_object_object_add(o, "body", json_object_new_string(e->body));
                json_object_array_add(servers, o);
        }
        g_autoptr(json_object) j = json_object_new_object();
        json_object_object_add(j, "version", json_object_new_int(1));
        json_object_object_add(j, "servers", json_object_get(servers));
        const char *text = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        g_autofree char *dir = g_path_get_dirname(c->path);
        if (g_mkdir_with_parents(dir, 0755) < 0)
                return np_fail(error, errno, "cannot create the cache directory %s: %s", dir, g_strerror(errno));
        int r = atomic_file_replace(c->path, text, strlen(text), 0644, error);
        if (r < 0)
                return r;
        c->dirty = false;
        return 0;
}

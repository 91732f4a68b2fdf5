/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <inttypes.h>
#include <string.h>

#include "macro.h"
#include "volume_compare.h"

static const char *const state_names[] = {
        [VOLUME_OK] = "ok",
        [VOLUME_MISSING_ON_HOST] = "missing on host",
        [VOLUME_NOT_ON_SERVER] = "not on server",
        [VOLUME_DIFFERS] = "differs",
};

const char *volume_state_to_string(VolumeState s) {
        return (size_t) s < ELEMENTSOF(state_names) ? state_names[s] : NULL;
}

void volume_row_free(VolumeRow *r) {
        if (!r)
                return;
        g_free(r->why);
        g_free(r);
}

static int compare_rows(gconstpointer a, gconstpointer b) {
        const VolumeRow *x = *(VolumeRow *const *) a, *y = *(VolumeRow *const *) b;
        return strcmp(x->name, y->name);
}

static void judge(VolumeRow *r) {
        if (!r->host) {
                r->state = VOLUME_MISSING_ON_HOST;
                return;
        }
        if (!r->server) {
                r->state = VOLUME_NOT_ON_SERVER;
                return;
        }
        g_autoptr(GString) why = g_string_new(NULL);
        if (r->server->capacity != r->host->capacity)
                g_string_append_printf(why, "capacity: server has %" PRIu64 ", libvirt has %" PRIu64,
                                       r->server->capacity, r->host->capacity);
        if (g_strcmp0(r->server->format, r->host->format) != 0)
                g_string_append_printf(why, "%sformat: server has %s, libvirt has %s", why->len ? "; " : "",
                                       r->server->format, r->host->format ? r->host->format : "(none)");
        if (why->len == 0) {
                r->state = VOLUME_OK;
                return;
        }
        r->state = VOLUME_DIFFERS;
        r->why = g_string_free(g_steal_pointer(&why), FALSE);
}

GPtrArray *volumes_compare(const GPtrArray *server, const GPtrArray *host) {
        GPtrArray *rows = g_ptr_array_new_with_free_func((GDestroyNotify) volume_row_free);
        g_autoptr(GHashTable) by_name = g_hash_table_new(g_str_hash, g_str_equal);
        for (size_t i = 0; server && i < server->len; i++) {
                const PoolVolume *v = server->pdata[i];
                if (g_hash_table_contains(by_name, v->name))
                        continue; /* validation refuses duplicates; keep the first */
                VolumeRow *r = g_new0(VolumeRow, 1);
                r->name = v->name;
                r->server = v;
                g_hash_table_insert(by_name, (gpointer) v->name, r);
                g_ptr_array_add(rows, r);
        }
        for (size_t i = 0; host && i < host->len; i++) {
                const HostVolume *v = host->pdata[i];
                if (strcmp(v->name, "lost+found") == 0)
                        continue;
                VolumeRow *r = g_hash_table_lookup(by_name, v->name);
                if (r && r->host)
                        continue; /* libvirt lists a name once */
                if (!r) {
                        r = g_new0(VolumeRow, 1);
                        r->name = v->name;
                        g_hash_table_insert(by_name, (gpointer) v->name, r);
                        g_ptr_array_add(rows, r);
                }
                r->host = v;
        }
        for (size_t i = 0; i < rows->len; i++)
                judge(rows->pdata[i]);
        g_ptr_array_sort(rows, compare_rows);
        return rows;
}

bool volumes_all_ok(const GPtrArray *rows) {
        for (size_t i = 0; i < rows->len; i++)
                if (((const VolumeRow *) rows->pdata[i])->state != VOLUME_OK)
                        return false;
        return true;
}

char *volume_row_problem(const VolumeRow *r) {
        switch (r->state) {
        case VOLUME_OK:
                return NULL;
        case VOLUME_MISSING_ON_HOST:
                return g_strdup_printf("volume %s is on the server but libvirt does not list it", r->name);
        case VOLUME_NOT_ON_SERVER:
                return g_strdup_printf("volume %s is listed by libvirt but not on the server", r->name);
        case VOLUME_DIFFERS:
                return g_strdup_printf("volume %s differs: %s", r->name, r->why);
        }
        return NULL;
}

static json_object *json_u64(uint64_t v) {
        return v <= (uint64_t) INT64_MAX ? json_object_new_int64((int64_t) v) : json_object_new_uint64(v);
}

json_object *volume_row_json(const VolumeRow *r) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(r->name));
        json_object_object_add(o, "state", json_object_new_string(volume_state_to_string(r->state)));
        json_object *s = NULL;
        if (r->server) {
                s = json_object_new_object();
                json_object_object_add(s, "capacity", json_u64(r->server->capacity));
                json_object_object_add(s, "format", json_object_new_string(r->server->format));
        }
        json_object_object_add(o, "server", s);
        json_object *h = NULL;
        if (r->host) {
                h = json_object_new_object();
                json_object_object_add(h, "capacity", json_u64(r->host->capacity));
                json_object_object_add(h, "allocation", json_u64(r->host->allocation));
                json_object_object_add(h, "format", r->host->format ? json_object_new_string(r->host->format) : NULL);
                json_object_object_add(h, "path", json_object_new_string(r->host->path));
        }
        json_object_object_add(o, "host", h);
        if (r->why)
                json_object_object_add(o, "why", json_object_new_string(r->why));
        return o;
}

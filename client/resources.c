/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "host_pools.h"
#include "macro.h"
#include "name.h"
#include "resources.h"

void resource_free(Resource *r) {
        if (!r)
                return;
        g_free(r->resource);
        g_free(r->pool);
        g_free(r->uuid);
        g_free(r->skipped);
        g_free(r);
}

static int compare_by_name(gconstpointer a, gconstpointer b) {
        const HostPool *x = *(HostPool *const *) a, *y = *(HostPool *const *) b;
        return strcmp(x->name, y->name);
}

/* Why the orchestrator would not detect `p`, or NULL. */
static char *skip_reason(const HostPool *p, char **ret_resource) {
        g_autoptr(GError) err = NULL;
        g_autofree char *resource = name_to_resource(p->name, &err);
        if (!resource)
                return g_strdup(err->message);
        if (!p->def)
                return g_strdup_printf("its definition cannot be read: %s", p->def_error ? p->def_error : "unknown");
        const struct {
                const char *what, *value;
        } fields[] = {
                { "name", p->name },
                { "uuid", p->uuid },
                { "NFS server address", p->def->host },
                { "source path", p->def->source_dir },
                { "target path", p->def->target_path },
        };
        for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                if (name_validate_seed_safe(fields[i].what, fields[i].value, &err) < 0)
                        return g_strdup_printf("not detected: %s", err->message);
        *ret_resource = TAKE_PTR(resource);
        return NULL;
}

GPtrArray *resources_from_pools(GPtrArray *host_pools) {
        g_autoptr(GPtrArray) sorted = g_ptr_array_sized_new(host_pools->len); /* borrowed elements */
        for (size_t i = 0; i < host_pools->len; i++)
                g_ptr_array_add(sorted, host_pools->pdata[i]);
        g_ptr_array_sort(sorted, compare_by_name);
        g_autoptr(GHashTable) taken = g_hash_table_new(g_str_hash, g_str_equal);
        GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify) resource_free);

        for (size_t i = 0; i < sorted->len; i++) {
                const HostPool *p = sorted->pdata[i];
                if (!p->type || strcmp(p->type, "netfs") != 0)
                        continue;
                Resource *r = g_new0(Resource, 1);
                r->pool = g_strdup(p->name);
                r->uuid = g_strdup(p->uuid);
                r->capacity = p->capacity;
                r->allocation = p->allocation;
                r->available = p->available;
                g_ptr_array_add(out, r);

                g_autofree char *base = NULL;
                r->skipped = skip_reason(p, &base);
                if (r->skipped)
                        continue;
                char *name = g_strdup(base);
                for (unsigned k = 1; g_hash_table_contains(taken, name); k++) {
                        g_free(name);
                        name = g_strdup_printf("%s_%u", base, k);
                }
                r->resource = name;
                g_hash_table_add(taken, name);
        }
        return out;
}

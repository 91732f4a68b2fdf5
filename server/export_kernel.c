/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The kernel's NFS server: nfsprov's block of /etc/exports (exports/), exportfs -r, nfs.conf. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "error.h"
#include "export_server.h"
#include "exports_apply.h"
#include "exports_entry.h"
#include "exports_file.h"
#include "exports_parse.h"
#include "macro.h"
#include "nfsconf.h"

/* What `exportfs -r` last exported: it writes its table here in the exports(5) syntax. */
#define ETAB_PATH "/var/lib/nfs/etab"
#define PROC_VERSIONS "/proc/fs/nfsd/versions"
#define SYSCONFIG_NFS "/etc/sysconfig/nfs"

void export_server_config_clear(ExportServerConfig *c) {
        g_free(c->file);
        g_free(c->problem);
        g_free(c->running);
        *c = (ExportServerConfig) { 0 };
}

static int kernel_config(const Config *c, bool apply, ExportServerConfig *ret, GError **error) {
        bool changed = false;
        int r;
        if (apply) {
                r = nfsconf_apply(c->nfs_conf, &changed, error);
                if (r < 0)
                        return r;
        }
        NfsConfStatus st;
        r = nfsconf_read(c->nfs_conf, &st, error);
        if (r < 0)
                return r;
        ExportServerConfig x = {
                .file = g_strdup(c->nfs_conf),
                .vers3 = st.vers3,
                .vers4 = st.vers4,
                .ok = nfsconf_ok(&st),
                .changed = changed,
                .problem = nfsconf_problem(&st),
        };
        if (nfsconf_read_proc_versions(PROC_VERSIONS, &x.running, NULL) >= 0)
                g_strstrip(x.running);
        x.has_legacy = nfsconf_sysconfig_v4_disabled(SYSCONFIG_NFS, &x.legacy_v4_disabled, NULL) >= 0;
        *ret = x;
        return 0;
}

static int read_entries(const Config *c, GPtrArray **ret, GError **error) {
        return exports_file_read(c->exports_file, ret, error);
}

static gint by_path(gconstpointer a, gconstpointer b) {
        return strcmp((*(ExportsEntry *const *) a)->path, (*(ExportsEntry *const *) b)->path);
}

static int write_entries(const Config *c, GPtrArray *entries, bool *ret_changed, GError **error) {
        g_ptr_array_sort(entries, by_path);
        bool changed = false;
        int r = exports_file_write(c->exports_file, exports_mode_for_path(c->exports_file), entries, &changed, error);
        if (r < 0)
                return r;
        if (ret_changed)
                *ret_changed = changed;
        return 0;
}

/* Drop the entries of path; how many there were. */
static guint drop(GPtrArray *entries, const char *path) {
        guint n = 0;
        for (guint i = entries->len; i-- > 0;)
                if (strcmp(((ExportsEntry *) g_ptr_array_index(entries, i))->path, path) == 0) {
                        g_ptr_array_remove_index(entries, i);
                        n++;
                }
        return n;
}

static int kernel_set(const Config *c, const ExportSpec *spec, bool *ret_changed, GError **error) {
        g_autoptr(GPtrArray) entries = NULL;
        int r = read_entries(c, &entries, error);
        if (r < 0)
                return r;
        drop(entries, spec->path);
        ExportsEntry *x = exports_entry_new(spec->path);
        for (char **cl = spec->clients; cl && *cl; cl++)
                if (**cl)
                        exports_entry_add_client(x, *cl, spec->options);
        g_ptr_array_add(entries, x);
        return write_entries(c, entries, ret_changed, error);
}

static int kernel_remove(const Config *c, const char *path, bool *ret_changed, GError **error) {
        g_autoptr(GPtrArray) entries = NULL;
        int r = read_entries(c, &entries, error);
        if (r < 0)
                return r;
        if (drop(entries, path) == 0) {
                if (ret_changed)
                        *ret_changed = false;
                return 0;
        }
        return write_entries(c, entries, ret_changed, error);
}

static int kernel_apply(const Config *c, GError **error) {
        return exports_apply(NULL, error);
}

static gint compare_strings(gconstpointer a, gconstpointer b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* The distinct paths of entries, sorted. */
static GPtrArray *paths_of(GPtrArray *entries) {
        GPtrArray *paths = g_ptr_array_new_with_free_func(g_free);
        for (guint i = 0; entries && i < entries->len; i++) {
                const char *p = ((ExportsEntry *) g_ptr_array_index(entries, i))->path;
                if (!g_ptr_array_find_with_equal_func(paths, p, g_str_equal, NULL))
                        g_ptr_array_add(paths, g_strdup(p));
        }
        g_ptr_array_sort(paths, compare_strings);
        return paths;
}

static int kernel_listed(const Config *c, GPtrArray **ret_paths, GError **error) {
        g_autoptr(GPtrArray) entries = NULL;
        int r = read_entries(c, &entries, error);
        if (r < 0)
                return r;
        *ret_paths = paths_of(entries);
        return 0;
}

static int kernel_served(const Config *c, GPtrArray **ret_paths, GError **error) {
        g_autofree char *text = NULL;
        gsize len = 0;
        g_autoptr(GError) e = NULL;
        if (!g_file_get_contents(ETAB_PATH, &text, &len, &e)) {
                if (g_error_matches(e, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
                        *ret_paths = g_ptr_array_new_with_free_func(g_free);
                        return 0;
                }
                return np_fail(error, EIO, "%s: %s", ETAB_PATH, e->message);
        }
        g_autoptr(GPtrArray) entries = NULL;
        int r = exports_parse(text, len, ETAB_PATH, &entries, error);
        if (r < 0)
                return r;
        *ret_paths = paths_of(entries);
        return 0;
}

const ExportServer export_server_kernel = {
        .name = "kernel",
        .description = "the kernel's NFS server (nfsprov's block of the exports file, exportfs -r)",
        .config = kernel_config,
        .set = kernel_set,
        .remove = kernel_remove,
        .apply = kernel_apply,
        .listed = kernel_listed,
        .served = kernel_served,
};

const ExportServer *export_server_by_name(const char *name) {
        static const ExportServer *const servers[] = { &export_server_kernel, &export_server_ganesha };
        for (size_t i = 0; name && i < ELEMENTSOF(servers); i++)
                if (strcmp(servers[i]->name, name) == 0)
                        return servers[i];
        return NULL;
}

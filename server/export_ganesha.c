/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * NFS-Ganesha: nfsprovd's exports, one file per share (ganesha_store.h, in the format of
 * ganesha_file.h), applied live over D-Bus (ganesha_dbus.h); ganesha.conf's %include and NFSv3
 * settings (ganesha_conf.h).
 *
 * set and remove write the share's file only; apply makes what Ganesha serves match the files:
 * an export Ganesha lacks is added (AddExport), one whose block changed is updated (the file's
 * "update pending" note, UpdateExport), both handed the share's own file, and an export of
 * Ganesha under [shares] base that no file has is removed (RemoveExport): nfsprovd owns every
 * path under base, and no other export. When Ganesha is not running, apply changes nothing and
 * succeeds: the shares are "not served" (served lists nothing) until Ganesha starts, reads the
 * files through its %include and serves them all, or until the next apply (reconcile) adds them.
 * watch follows org.ganesha.nfsd on the system bus, so that nfsprovd applies again each time
 * Ganesha starts (server/export_watch.h).
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "export_server.h"
#include "ganesha_conf.h"
#include "ganesha_dbus.h"
#include "ganesha_file.h"
#include "ganesha_store.h"
#include "log.h"
#include "macro.h"

static int ganesha_config(const Config *c, bool apply, ExportServerConfig *ret, GError **error) {
        GaneshaConfStatus st;
        bool changed = false;
        int r;
        if (apply) {
                /* the included file first: Ganesha refuses to start on an %include of a missing file */
                r = ganesha_store_setup(c->ganesha_config, error);
                if (r >= 0)
                        r = ganesha_conf_apply(c->ganesha_conf, c->ganesha_config, &changed, error);
                if (r < 0)
                        return r;
        }
        r = ganesha_conf_read(c->ganesha_conf, c->ganesha_config, &st, error);
        if (r < 0)
                return r;
        ExportServerConfig x = {
                .file = g_strdup(c->ganesha_conf),
                .vers3 = st.vers3 && st.mount,
                .vers4 = st.vers4,
                .ok = ganesha_conf_ok(&st),
                .changed = changed,
                .problem = ganesha_conf_problem(&st, c->ganesha_conf, c->ganesha_config),
        };
        g_autoptr(GaneshaBus) bus = NULL;
        g_autoptr(GPtrArray) served = NULL;
        if (ganesha_bus_open(&bus, NULL) >= 0 && ganesha_show_exports(bus, &served, NULL) >= 0)
                x.running = g_strdup_printf("NFS-Ganesha is running, %u export%s", served->len,
                                            served->len == 1 ? "" : "s");
        *ret = x;
        return 0;
}

static int ganesha_set(const Config *c, const ExportSpec *spec, bool *ret_changed, GError **error) {
        g_autoptr(GaneshaFile) f = NULL;
        int r = ganesha_store_setup(c->ganesha_config, error);
        if (r >= 0)
                r = ganesha_store_read_one(c->ganesha_config, spec->path, &f, error);
        if (r < 0)
                return r;
        g_autofree char *block = NULL;
        r = ganesha_export_block(spec, c->ganesha_nfsv4, &block, error);
        if (r < 0)
                return r;
        bool changed = false;
        r = ganesha_file_set(f, spec->export_id, spec->path, g_steal_pointer(&block), &changed, error);
        if (r < 0)
                return r;
        if (changed && (r = ganesha_store_write_one(c->ganesha_config, spec->path, f, NULL, error)) < 0)
                return r;
        if (ret_changed)
                *ret_changed = changed;
        return 0;
}

/* The share's file goes; its Export_Id is noted removed (NAME.removed) until apply removes it
 * from Ganesha. */
static int ganesha_remove(const Config *c, const char *path, bool *ret_changed, GError **error) {
        g_autoptr(GaneshaFile) f = NULL;
        int r = ganesha_store_setup(c->ganesha_config, error);
        if (r >= 0)
                r = ganesha_store_read_one(c->ganesha_config, path, &f, error);
        if (r < 0)
                return r;
        bool changed = ganesha_file_remove(f, path);
        if (changed && (r = ganesha_store_write_one(c->ganesha_config, path, f, NULL, error)) < 0)
                return r;
        if (ret_changed)
                *ret_changed = changed;
        return 0;
}

/* path is dir itself or lies below it. */
static bool path_within(const char *path, const char *dir) {
        size_t n = strlen(dir);
        return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* Keep the first error; every other change is still tried. */
static void keep_first(GError **first, GError *e) {
        if (!*first)
                *first = e;
        else
                g_error_free(e);
}

/* AddExport (or UpdateExport) of x, handing Ganesha x's own file (ganesha_store.h): Ganesha
 * parses the whole file it is handed, so that one of all the blocks cost O(N) a call. */
static int hand_over(GaneshaBus *bus, const Config *c, const GaneshaExport *x, bool update, GError **error) {
        g_autofree char *file = NULL;
        int r = ganesha_store_file(c->ganesha_config, x->path, &file, error);
        if (r < 0)
                return r;
        return update ? ganesha_update_export(bus, file, x->id, error) : ganesha_add_export(bus, file, x->id, error);
}

/* The notes of path's files cleared: Ganesha serves what they say (f: what they said). */
static int clear_notes(const Config *c, const char *path, GaneshaFile *f, GError **error) {
        ganesha_file_clear_notes(f);
        return ganesha_store_write_one(c->ganesha_config, path, f, NULL, error);
}

/* The pending note of x's file cleared: Ganesha has x's block. */
static int clear_pending(const Config *c, const GaneshaExport *x, GError **error) {
        g_autoptr(GaneshaFile) f = NULL;
        int r = ganesha_store_read_one(c->ganesha_config, x->path, &f, error);
        if (r < 0)
                return r;
        ganesha_file_clear_pending(f, x->id);
        return ganesha_store_write_one(c->ganesha_config, x->path, f, NULL, error);
}

static int ganesha_apply(const Config *c, GError **error) {
        g_autoptr(GaneshaFile) f = NULL;
        g_autoptr(GPtrArray) noted = NULL;
        int r = ganesha_store_setup(c->ganesha_config, error); /* Ganesha refuses to start without CONFIG */
        if (r >= 0)
                r = ganesha_store_read(c->ganesha_config, &f, &noted, error);
        if (r < 0)
                return r;
        g_autoptr(GaneshaBus) bus = NULL;
        g_autoptr(GPtrArray) served = NULL;
        g_autoptr(GError) e = NULL;
        r = ganesha_bus_open(&bus, &e);
        if (r >= 0)
                r = ganesha_show_exports(bus, &served, &e);
        if (r == -ESRCH) {
                log_notice("%s; %s is written and NFS-Ganesha serves it when it starts", e->message, c->ganesha_config);
                return 0;
        }
        if (r < 0) {
                g_propagate_error(error, g_steal_pointer(&e));
                return r;
        }

        GError *first = NULL;
        g_autoptr(GHashTable) by_path = g_hash_table_new(g_str_hash, g_str_equal);
        g_autoptr(GHashTable) by_id = g_hash_table_new(g_direct_hash, g_direct_equal);
        for (guint i = 0; i < served->len; i++) {
                GaneshaServed *s = g_ptr_array_index(served, i);
                g_hash_table_insert(by_id, GUINT_TO_POINTER(s->id), s);
        }
        for (guint i = 0; i < f->exports->len; i++) {
                GaneshaExport *x = g_ptr_array_index(f->exports, i);
                g_hash_table_insert(by_path, x->path, x);
        }
        /* Ganesha's exports under base that no file has (or has at another path). */
        for (guint i = 0; i < served->len; i++) {
                const GaneshaServed *s = g_ptr_array_index(served, i);
                const GaneshaExport *x = g_hash_table_lookup(by_path, s->path);
                if (!path_within(s->path, c->base) || (x && x->id == s->id))
                        continue;
                GError *ee = NULL;
                if (ganesha_remove_export(bus, s->id, &ee) < 0)
                        keep_first(&first, ee);
        }
        /* The file's exports Ganesha lacks, or has in an older version. */
        for (guint i = 0; i < f->exports->len; i++) {
                const GaneshaExport *x = g_ptr_array_index(f->exports, i);
                const GaneshaServed *s = g_hash_table_lookup(by_id, GUINT_TO_POINTER(x->id));
                GError *ee = NULL;
                if (s && strcmp(s->path, x->path) == 0) {
                        if (!ganesha_file_pending(f, x->id))
                                continue;
                        if (hand_over(bus, c, x, true, &ee) < 0 || clear_pending(c, x, &ee) < 0)
                                keep_first(&first, ee);
                } else if (hand_over(bus, c, x, false, &ee) < 0) {
                        GError *prefixed = NULL;
                        np_fail_prefix(&prefixed, ee, "%s", x->path);
                        keep_first(&first, prefixed);
                }
        }
        if (first) {
                r = np_error_errno(first);
                g_propagate_error(error, first);
                return r;
        }
        /* every removal is applied now: the notes go */
        for (guint i = 0; i < noted->len; i++) {
                const char *p = g_ptr_array_index(noted, i);
                g_autoptr(GaneshaFile) one = NULL;
                r = ganesha_store_read_one(c->ganesha_config, p, &one, error);
                if (r >= 0) {
                        g_array_set_size(one->removed, 0);
                        r = ganesha_store_write_one(c->ganesha_config, p, one, NULL, error);
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

/* One path: DisplayExport of its ids (not ShowExports of all) and, when needed, RemoveExport of
 * the ids noted removed, AddExport or UpdateExport of its file, so that adding or deleting a
 * share costs the same with 10 or 1,000 served. */
static int ganesha_apply_path(const Config *c, const char *path, GError **error) {
        g_autoptr(GaneshaFile) f = NULL;
        int r = ganesha_store_setup(c->ganesha_config, error);
        if (r >= 0)
                r = ganesha_store_read_one(c->ganesha_config, path, &f, error);
        if (r < 0)
                return r;
        const GaneshaExport *x = f->exports->len ? g_ptr_array_index(f->exports, 0) : NULL;
        if (!x && !f->removed->len)
                return 0; /* nothing of path: nothing to serve or remove */
        g_autoptr(GaneshaBus) bus = NULL;
        g_autoptr(GError) e = NULL;
        r = ganesha_bus_open(&bus, &e);
        /* the removed ids first, each only while it still serves path (an id is given again to
         * another share once this one is gone) */
        for (guint i = 0; r >= 0 && i < f->removed->len; i++) {
                unsigned id = g_array_index(f->removed, unsigned, i);
                g_autofree char *served = NULL;
                r = ganesha_display_export(bus, id, &served, &e);
                if (r == -ENOENT || (r == 0 && strcmp(served, path) != 0)) {
                        g_clear_error(&e);
                        r = 0;
                } else if (r == 0 && (r = ganesha_remove_export(bus, id, &e)) == -ENOENT) {
                        g_clear_error(&e); /* gone meanwhile */
                        r = 0;
                }
        }
        g_autofree char *served = NULL;
        if (r >= 0 && x)
                r = ganesha_display_export(bus, x->id, &served, &e);
        if (r == -ESRCH) {
                log_notice("%s; %s is written and NFS-Ganesha serves it when it starts", e->message, c->ganesha_config);
                return 0;
        }
        if (r < 0 && r != -ENOENT) {
                g_propagate_error(error, g_steal_pointer(&e));
                return r;
        }
        if (!x)
                return clear_notes(c, path, f, error); /* removed from Ganesha */
        bool pending = ganesha_file_pending(f, x->id);
        if (r == 0 && strcmp(served, x->path) != 0)
                return ganesha_apply(c, error); /* the id serves another path: apply decides */
        if (r == 0 && !pending)
                return f->removed->len ? clear_notes(c, path, f, error) : 0; /* served as the file has it */
        r = hand_over(bus, c, x, r == 0, error);
        if (r < 0 || (!pending && !f->removed->len))
                return r;
        return clear_notes(c, path, f, error);
}

static gint compare_strings(gconstpointer a, gconstpointer b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

static int ganesha_listed(const Config *c, GPtrArray **ret_paths, GError **error) {
        return ganesha_store_paths(c->ganesha_config, ret_paths, error);
}

static int ganesha_served(const Config *c, GPtrArray **ret_paths, GError **error) {
        (void) c;
        g_autoptr(GaneshaBus) bus = NULL;
        g_autoptr(GPtrArray) served = NULL;
        g_autoptr(GError) e = NULL;
        int r = ganesha_bus_open(&bus, &e);
        if (r >= 0)
                r = ganesha_show_exports(bus, &served, &e);
        if (r == -ESRCH) {
                *ret_paths = g_ptr_array_new_with_free_func(g_free);
                return 0;
        }
        if (r < 0) {
                g_propagate_error(error, g_steal_pointer(&e));
                return r;
        }
        GPtrArray *paths = g_ptr_array_new_with_free_func(g_free);
        for (guint i = 0; i < served->len; i++) {
                const char *p = ((GaneshaServed *) g_ptr_array_index(served, i))->path;
                if (!g_ptr_array_find_with_equal_func(paths, p, g_str_equal, NULL))
                        g_ptr_array_add(paths, g_strdup(p));
        }
        g_ptr_array_sort(paths, compare_strings);
        *ret_paths = paths;
        return 0;
}

static int ganesha_path_state(const Config *c, const char *path, bool *ret_listed, bool *ret_served, GError **error) {
        g_autoptr(GaneshaFile) f = NULL;
        int r = ganesha_store_read_one(c->ganesha_config, path, &f, error);
        if (r < 0)
                return r;
        const GaneshaExport *x = f->exports->len ? g_ptr_array_index(f->exports, 0) : NULL;
        bool served = false;
        g_autoptr(GaneshaBus) bus = NULL;
        g_autofree char *at = NULL;
        if (x && ganesha_bus_open(&bus, NULL) >= 0 && ganesha_display_export(bus, x->id, &at, NULL) >= 0)
                served = strcmp(at, path) == 0; /* not running, or not that export: not served */
        *ret_listed = x != NULL;
        *ret_served = served;
        return 0;
}

#define WATCH_RETRY_MS 5000 /* without a system bus: look again this often */

/* The bus name org.ganesha.nfsd gaining an owner (ganesha_dbus.h). */
struct ExportServerWatch {
        GaneshaWatch *bus;
};

static ExportServerWatch *ganesha_watch(const Config *c, ExportServerAppeared appeared, void *userdata) {
        (void) c;
        ExportServerWatch *w = g_new0(ExportServerWatch, 1);
        w->bus = ganesha_watch_new(WATCH_RETRY_MS, appeared, userdata);
        return w;
}

static void ganesha_unwatch(ExportServerWatch *w) {
        if (!w)
                return;
        ganesha_watch_free(w->bus);
        g_free(w);
}

const ExportServer export_server_ganesha = {
        .name = "ganesha",
        .description = "NFS-Ganesha (nfsprovd's EXPORT blocks, applied live over D-Bus)",
        .config = ganesha_config,
        .set = ganesha_set,
        .remove = ganesha_remove,
        .apply = ganesha_apply,
        .apply_path = ganesha_apply_path,
        .listed = ganesha_listed,
        .served = ganesha_served,
        .path_state = ganesha_path_state,
        .watch = ganesha_watch,
        .unwatch = ganesha_unwatch,
};

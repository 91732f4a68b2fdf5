/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * NFS-Ganesha: nfsprovd's own Ganesha file of EXPORT blocks (ganesha_file.h), applied live over
 * D-Bus (ganesha_dbus.h); ganesha.conf's %include and NFSv3 settings (ganesha_conf.h).
 *
 * set and remove write the file only; apply makes what Ganesha serves match it: an export of the
 * file that Ganesha lacks is added (AddExport), one whose block changed is updated (the file's
 * "update pending" note, UpdateExport), both handed a file with that export's block alone
 * (CONFIG.one, see hand_over), and an export of Ganesha under [shares] base that the
 * file no longer has is removed (RemoveExport): nfsprovd owns every path under base, and no other
 * export. When Ganesha is not running, apply changes nothing and succeeds: the shares are "not
 * served" (served lists nothing) until Ganesha starts, reads the file through its %include and
 * serves them all, or until the next apply (reconcile) adds them. watch follows org.ganesha.nfsd
 * on the system bus, so that nfsprovd applies again each time Ganesha starts (server/export_watch.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "export_server.h"
#include "fdio.h"
#include "ganesha_conf.h"
#include "ganesha_dbus.h"
#include "ganesha_file.h"
#include "log.h"
#include "macro.h"

static int ganesha_config(const Config *c, bool apply, ExportServerConfig *ret, GError **error) {
        GaneshaConfStatus st;
        bool changed = false;
        int r;
        if (apply) {
                /* the included file first: Ganesha refuses to start on an %include of a missing file */
                g_autoptr(GaneshaFile) f = NULL;
                r = ganesha_file_read(c->ganesha_config, &f, error);
                if (r >= 0)
                        r = ganesha_file_write(c->ganesha_config, f, NULL, error);
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
        int r = ganesha_file_read(c->ganesha_config, &f, error);
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
        if (changed && (r = ganesha_file_write(c->ganesha_config, f, NULL, error)) < 0)
                return r;
        if (ret_changed)
                *ret_changed = changed;
        return 0;
}

static int ganesha_remove(const Config *c, const char *path, bool *ret_changed, GError **error) {
        g_autoptr(GaneshaFile) f = NULL;
        int r = ganesha_file_read(c->ganesha_config, &f, error);
        if (r < 0)
                return r;
        bool changed = ganesha_file_remove(f, path);
        if (changed && (r = ganesha_file_write(c->ganesha_config, f, NULL, error)) < 0)
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

static const GaneshaServed *served_id(GPtrArray *served, unsigned id) {
        for (guint i = 0; i < served->len; i++) {
                const GaneshaServed *s = g_ptr_array_index(served, i);
                if (s->id == id)
                        return s;
        }
        return NULL;
}

/* Keep the first error; every other change is still tried. */
static void keep_first(GError **first, GError *e) {
        if (!*first)
                *first = e;
        else
                g_error_free(e);
}

/* AddExport (or UpdateExport) of x from a file that holds x's block alone: CONFIG.one beside
 * nfsprovd's file, removed after the call. Ganesha parses the whole file it is handed; handed
 * nfsprovd's file of N blocks, each AddExport cost O(N) in Ganesha (about 150 ms at 1,000
 * shares) and a reconcile that adds N exports O(N^2). */
static int hand_over(GaneshaBus *bus, const Config *c, const GaneshaExport *x, bool update, GError **error) {
        g_autofree char *one = g_strconcat(c->ganesha_config, ".one", NULL);
        /* A fresh file of ours (whatever was at that name is gone first, and O_EXCL|O_NOFOLLOW
         * refuse one made meanwhile), not synced: Ganesha reads it during the call, and a file
         * left by a crash is replaced by the next call. */
        if (unlink(one) < 0 && errno != ENOENT)
                return np_fail(error, errno, "cannot remove %s: %s", one, g_strerror(errno));
        int r;
        {
                _cleanup_close_ int fd = open(one, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
                if (fd < 0)
                        return np_fail(error, errno, "cannot create %s: %s", one, g_strerror(errno));
                r = fd_write_all(fd, x->block, strlen(x->block));
                if (r < 0) {
                        (void) unlink(one);
                        return np_fail(error, -r, "cannot write %s: %s", one, g_strerror(-r));
                }
        }
        r = update ? ganesha_update_export(bus, one, x->id, error) : ganesha_add_export(bus, one, x->id, error);
        if (unlink(one) < 0 && errno != ENOENT)
                log_warning("cannot remove %s: %s", one, g_strerror(errno));
        return r;
}

static int ganesha_apply(const Config *c, GError **error) {
        g_autoptr(GaneshaFile) f = NULL;
        int r = ganesha_file_read(c->ganesha_config, &f, error);
        if (r < 0)
                return r;
        r = ganesha_file_write(c->ganesha_config, f, NULL, error); /* Ganesha refuses to start without it */
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
        /* Ganesha's exports under base that the file does not have (or has at another path). */
        for (guint i = 0; i < served->len; i++) {
                const GaneshaServed *s = g_ptr_array_index(served, i);
                const GaneshaExport *x = ganesha_file_find(f, s->path);
                if (!path_within(s->path, c->base) || (x && x->id == s->id))
                        continue;
                GError *ee = NULL;
                if (ganesha_remove_export(bus, s->id, &ee) < 0)
                        keep_first(&first, ee);
        }
        /* The file's exports Ganesha lacks, or has in an older version. */
        bool updated = false;
        for (guint i = 0; i < f->exports->len; i++) {
                const GaneshaExport *x = g_ptr_array_index(f->exports, i);
                const GaneshaServed *s = served_id(served, x->id);
                GError *ee = NULL;
                if (s && strcmp(s->path, x->path) == 0) {
                        if (!ganesha_file_pending(f, x->id))
                                continue;
                        if (hand_over(bus, c, x, true, &ee) < 0)
                                keep_first(&first, ee);
                        else
                                updated = true;
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
        if (updated || f->pending->len) {
                ganesha_file_clear_pending(f);
                return ganesha_file_write(c->ganesha_config, f, NULL, error);
        }
        return 0;
}

/* One export: DisplayExport of its id (not ShowExports of all) and, when needed, AddExport or
 * UpdateExport from its block alone, so that adding a share costs the same with 10 or 1,000
 * served. */
static int ganesha_apply_path(const Config *c, const char *path, GError **error) {
        g_autoptr(GaneshaFile) f = NULL;
        int r = ganesha_file_read(c->ganesha_config, &f, error);
        if (r < 0)
                return r;
        const GaneshaExport *x = ganesha_file_find(f, path);
        if (!x)
                return ganesha_apply(c, error); /* removed: the id it had is in ShowExports only */
        g_autoptr(GaneshaBus) bus = NULL;
        g_autoptr(GError) e = NULL;
        g_autofree char *served = NULL;
        r = ganesha_bus_open(&bus, &e);
        if (r >= 0)
                r = ganesha_display_export(bus, x->id, &served, &e);
        if (r == -ESRCH) {
                log_notice("%s; %s is written and NFS-Ganesha serves it when it starts", e->message, c->ganesha_config);
                return 0;
        }
        if (r < 0 && r != -ENOENT) {
                g_propagate_error(error, g_steal_pointer(&e));
                return r;
        }
        bool pending = ganesha_file_pending(f, x->id);
        if (r == 0 && strcmp(served, x->path) != 0)
                return ganesha_apply(c, error); /* the id serves another path: apply decides */
        if (r == 0 && !pending)
                return 0; /* served as the file has it */
        r = hand_over(bus, c, x, r == 0, error);
        if (r < 0 || !pending)
                return r;
        ganesha_file_clear_pending_id(f, x->id);
        return ganesha_file_write(c->ganesha_config, f, NULL, error);
}

static gint compare_strings(gconstpointer a, gconstpointer b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

static int ganesha_listed(const Config *c, GPtrArray **ret_paths, GError **error) {
        g_autoptr(GaneshaFile) f = NULL;
        int r = ganesha_file_read(c->ganesha_config, &f, error);
        if (r < 0)
                return r;
        GPtrArray *paths = g_ptr_array_new_with_free_func(g_free);
        for (guint i = 0; i < f->exports->len; i++)
                g_ptr_array_add(paths, g_strdup(((GaneshaExport *) g_ptr_array_index(f->exports, i))->path));
        g_ptr_array_sort(paths, compare_strings);
        *ret_paths = paths;
        return 0;
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
        .watch = ganesha_watch,
        .unwatch = ganesha_unwatch,
};

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* NFS-Ganesha's export manager over D-Bus: see ganesha_dbus.h. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "error.h"
#include "ganesha_dbus.h"
#include "log.h"

#define GANESHA_NAME "org.ganesha.nfsd"
#define GANESHA_PATH "/org/ganesha/nfsd/ExportMgr"
#define GANESHA_IFACE "org.ganesha.nfsd.exportmgr"
#define CALL_TIMEOUT_MS 60000 /* AddExport of a large export can take a while */

struct GaneshaBus {
        GDBusConnection *conn;
};

/* The connection every GaneshaBus shares while it stays open: a new connection cost 0.6 ms
 * (1.5 ms beside a Ganesha of 1,000 exports) of each create, apply and reconcile step. */
static struct {
        GMutex lock;
        char *address;
        GDBusConnection *conn;
} shared;

void ganesha_bus_close(GaneshaBus *b) {
        if (!b)
                return;
        if (b->conn)
                g_object_unref(b->conn);
        g_free(b);
}

void ganesha_served_free(GaneshaServed *s) {
        if (!s)
                return;
        g_free(s->path);
        g_free(s);
}

/* e's message on one line, without GDBus's "GDBus.Error:NAME: " prefix. */
static char *one_line(GError *e) {
        if (g_dbus_error_is_remote_error(e))
                g_dbus_error_strip_remote_error(e);
        char *m = g_strdup(e->message);
        g_strdelimit(m, "\r\n", ' ');
        return g_strstrip(m);
}

/* The system bus's address (DBUS_SYSTEM_BUS_ADDRESS when set): -ESRCH when there is none. */
static int system_bus_address(char **ret, GError **error) {
        g_autoptr(GError) e = NULL;
        char *address = g_dbus_address_get_for_bus_sync(G_BUS_TYPE_SYSTEM, NULL, &e);
        if (!address) {
                g_autofree char *m = one_line(e);
                return np_fail(error, ESRCH, "no D-Bus system bus: %s", m);
        }
        *ret = address;
        return 0;
}

/* A private connection to the bus at address that never ends the process when the bus goes away. */
static int connect_system_bus(const char *address, GDBusConnection **ret, GError **error) {
        g_autoptr(GError) e = NULL;
        GDBusConnection *conn = g_dbus_connection_new_for_address_sync(
                address, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                NULL, NULL, &e);
        if (!conn) {
                g_autofree char *m = one_line(e);
                return np_fail(error, ESRCH, "cannot reach the D-Bus system bus at %s: %s", address, m);
        }
        g_dbus_connection_set_exit_on_close(conn, false);
        *ret = conn;
        return 0;
}

/* A new reference to the shared connection: the one kept while it is open and to the same
 * address, else a new one (kept from then on). */
static int shared_connection(GDBusConnection **ret, GError **error) {
        g_autofree char *address = NULL;
        int r = system_bus_address(&address, error);
        if (r < 0)
                return r;
        g_mutex_lock(&shared.lock);
        if (!shared.conn || g_dbus_connection_is_closed(shared.conn) || strcmp(shared.address, address) != 0) {
                GDBusConnection *conn = NULL;
                r = connect_system_bus(address, &conn, error);
                if (r >= 0) {
                        g_clear_object(&shared.conn);
                        g_free(shared.address);
                        shared.conn = conn;
                        shared.address = g_steal_pointer(&address);
                }
        }
        if (r >= 0)
                *ret = g_object_ref(shared.conn);
        g_mutex_unlock(&shared.lock);
        return r;
}

int ganesha_bus_open(GaneshaBus **ret, GError **error) {
        GDBusConnection *conn = NULL;
        int r = shared_connection(&conn, error);
        if (r < 0)
                return r;
        GaneshaBus *b = g_new0(GaneshaBus, 1);
        b->conn = conn;
        *ret = b;
        return 0;
}

/* ---- the watch of org.ganesha.nfsd ---- */

struct GaneshaWatch {
        unsigned retry_ms;
        GaneshaAppeared appeared;
        void *userdata;
        GMainContext *context; /* where the callbacks run */
        GDBusConnection *conn; /* NULL while there is no bus */
        guint name_watch;      /* g_bus_watch_name_on_connection's id */
        gulong closed_handler; /* conn's "closed" */
        GSource *retry;        /* the next attempt to connect */
        bool failing;          /* the last attempt failed, and said so */
};

static void watch_connect(GaneshaWatch *w);

static void watch_drop_connection(GaneshaWatch *w) {
        if (w->name_watch) {
                g_bus_unwatch_name(w->name_watch);
                w->name_watch = 0;
        }
        if (w->conn) {
                g_signal_handler_disconnect(w->conn, w->closed_handler);
                (void) g_dbus_connection_close_sync(w->conn, NULL, NULL);
                g_clear_object(&w->conn);
        }
}

static gboolean on_retry(gpointer data) {
        GaneshaWatch *w = data;
        g_clear_pointer(&w->retry, g_source_unref);
        g_main_context_push_thread_default(w->context);
        watch_connect(w);
        g_main_context_pop_thread_default(w->context);
        return G_SOURCE_REMOVE;
}

static void retry_later(GaneshaWatch *w, const char *why) {
        if (!w->failing)
                log_notice("%s; looking for NFS-Ganesha on the D-Bus system bus again every %u ms", why, w->retry_ms);
        w->failing = true;
        w->retry = g_timeout_source_new(w->retry_ms);
        g_source_set_callback(w->retry, on_retry, w, NULL);
        g_source_attach(w->retry, w->context);
}

static void on_closed(GDBusConnection *conn, gboolean vanished, GError *e, gpointer data) {
        (void) conn;
        (void) vanished;
        GaneshaWatch *w = data;
        g_autofree char *m = e ? one_line(e) : g_strdup("closed");
        g_autofree char *why = g_strdup_printf("the D-Bus system bus went away (%s)", m);
        watch_drop_connection(w);
        retry_later(w, why);
}

static void on_appeared(GDBusConnection *conn, const char *name, const char *owner, gpointer data) {
        (void) conn;
        (void) name;
        (void) owner;
        GaneshaWatch *w = data;
        w->appeared(w->userdata);
}

static void watch_connect(GaneshaWatch *w) {
        g_autoptr(GError) e = NULL;
        g_autofree char *address = NULL;
        if (system_bus_address(&address, &e) < 0 || connect_system_bus(address, &w->conn, &e) < 0) {
                retry_later(w, e->message);
                return;
        }
        if (w->failing)
                log_info("connected to the D-Bus system bus; watching for NFS-Ganesha");
        w->failing = false;
        w->closed_handler = g_signal_connect(w->conn, "closed", G_CALLBACK(on_closed), w);
        w->name_watch = g_bus_watch_name_on_connection(w->conn, GANESHA_NAME, G_BUS_NAME_WATCHER_FLAGS_NONE,
                                                       on_appeared, NULL, w, NULL);
}

GaneshaWatch *ganesha_watch_new(unsigned retry_ms, GaneshaAppeared appeared, void *userdata) {
        GaneshaWatch *w = g_new0(GaneshaWatch, 1);
        w->retry_ms = retry_ms;
        w->appeared = appeared;
        w->userdata = userdata;
        w->context = g_main_context_ref_thread_default();
        watch_connect(w);
        return w;
}

void ganesha_watch_free(GaneshaWatch *w) {
        if (!w)
                return;
        watch_drop_connection(w);
        if (w->retry) {
                g_source_destroy(w->retry);
                g_source_unref(w->retry);
        }
        g_main_context_unref(w->context);
        g_free(w);
}

/* Call method; *ret (may be NULL) gets the reply. `what` names the call in errors. */
/* An error reply of Ganesha is -EIO, except InvalidArgs, which is -invalid_args when that is not
 * 0 (DisplayExport of an id Ganesha does not serve). */
static int call_full(GaneshaBus *b, const char *method, GVariant *args, const GVariantType *reply_type,
                     const char *what, int invalid_args, GVariant **ret, GError **error) {
        g_autoptr(GError) e = NULL;
        g_autoptr(GVariant) held = args ? g_variant_ref_sink(args) : NULL;
        g_autoptr(GVariant) reply = g_dbus_connection_call_sync(b->conn, GANESHA_NAME, GANESHA_PATH, GANESHA_IFACE,
                                                               method, held, reply_type,
                                                               G_DBUS_CALL_FLAGS_NO_AUTO_START, CALL_TIMEOUT_MS,
                                                               NULL, &e);
        if (!reply && g_error_matches(e, G_IO_ERROR, G_IO_ERROR_CLOSED)) {
                /* the shared connection closed (the bus went away since it was opened): once
                 * more, on a new one. No bus to connect to now is -ESRCH, as ganesha_bus_open()
                 * has it, not an error of Ganesha. */
                GDBusConnection *fresh = NULL;
                int r = shared_connection(&fresh, error);
                if (r < 0)
                        return r;
                g_object_unref(b->conn);
                b->conn = fresh;
                g_clear_error(&e);
                reply = g_dbus_connection_call_sync(b->conn, GANESHA_NAME, GANESHA_PATH, GANESHA_IFACE, method, held,
                                                    reply_type, G_DBUS_CALL_FLAGS_NO_AUTO_START, CALL_TIMEOUT_MS, NULL,
                                                    &e);
        }
        if (!reply) {
                bool absent = g_error_matches(e, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
                              g_error_matches(e, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER);
                g_autofree char *m = one_line(e);
                if (absent)
                        return np_fail(error, ESRCH, "NFS-Ganesha is not running (no %s on the D-Bus system bus)",
                                       GANESHA_NAME);
                if (invalid_args && g_error_matches(e, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS))
                        return np_fail(error, invalid_args, "NFS-Ganesha refused %s: %s", what, m);
                return np_fail(error, EIO, "NFS-Ganesha refused %s: %s", what, m);
        }
        if (ret)
                *ret = g_steal_pointer(&reply);
        return 0;
}

static int call(GaneshaBus *b, const char *method, GVariant *args, const GVariantType *reply_type,
                const char *what, GVariant **ret, GError **error) {
        return call_full(b, method, args, reply_type, what, 0, ret, error);
}

/* The id and path that lead an export's tuple, (q s ...), as ShowExports lists them and
 * DisplayExport answers; false when x is not such a tuple. */
static bool id_and_path(GVariant *x, unsigned *ret_id, char **ret_path) {
        if (!g_variant_is_container(x) || g_variant_n_children(x) < 2)
                return false;
        g_autoptr(GVariant) id = g_variant_get_child_value(x, 0);
        g_autoptr(GVariant) path = g_variant_get_child_value(x, 1);
        if (!g_variant_is_of_type(id, G_VARIANT_TYPE_UINT16) || !g_variant_is_of_type(path, G_VARIANT_TYPE_STRING))
                return false;
        *ret_id = g_variant_get_uint16(id);
        *ret_path = g_variant_dup_string(path, NULL);
        return true;
}

int ganesha_display_export(GaneshaBus *b, unsigned id, char **ret_path, GError **error) {
        g_autofree char *what = g_strdup_printf("DisplayExport of Export_Id %u", id);
        if (id > 65535)
                return np_fail(error, EINVAL, "Export_Id %u is not 1-65535", id);
        g_autoptr(GVariant) reply = NULL;
        int r = call_full(b, "DisplayExport", g_variant_new("(q)", (guint16) id), NULL, what, ENOENT, &reply,
                          error);
        if (r < 0)
                return r;
        /* (q id, s fullpath, s pseudopath, s tag, a(...) clients): the id and path are read */
        unsigned rid;
        g_autofree char *path = NULL;
        if (!id_and_path(reply, &rid, &path))
                return np_fail(error, EPROTO, "NFS-Ganesha's DisplayExport answered %s, not (qs...)",
                               g_variant_get_type_string(reply));
        if (rid != id)
                return np_fail(error, EPROTO, "NFS-Ganesha's DisplayExport of Export_Id %u answered Export_Id %u", id,
                               rid);
        *ret_path = g_steal_pointer(&path);
        return 0;
}

int ganesha_show_exports(GaneshaBus *b, GPtrArray **ret, GError **error) {
        g_autoptr(GVariant) reply = NULL;
        int r = call(b, "ShowExports", NULL, NULL, "ShowExports", &reply, error);
        if (r < 0)
                return r;
        /* ((tt)a(qs...)): only the id and path of each export are read. */
        if (!g_variant_is_of_type(reply, G_VARIANT_TYPE("((tt)a*)")))
                return np_fail(error, EPROTO, "NFS-Ganesha's ShowExports answered %s, not ((tt)a(qs...))",
                               g_variant_get_type_string(reply));
        g_autoptr(GVariant) list = g_variant_get_child_value(reply, 1);
        g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify) ganesha_served_free);
        for (gsize i = 0; i < g_variant_n_children(list); i++) {
                g_autoptr(GVariant) x = g_variant_get_child_value(list, i);
                unsigned id;
                g_autofree char *path = NULL;
                if (!id_and_path(x, &id, &path))
                        return np_fail(error, EPROTO, "NFS-Ganesha's ShowExports answered %s, not a(qs...)",
                                       g_variant_get_type_string(reply));
                if (id == 0)
                        continue; /* the pseudo-root */
                GaneshaServed *s = g_new0(GaneshaServed, 1);
                s->id = id;
                s->path = g_steal_pointer(&path);
                g_ptr_array_add(out, s);
        }
        *ret = g_steal_pointer(&out);
        return 0;
}

static int add_or_update(GaneshaBus *b, const char *method, const char *conf_file, unsigned id, GError **error) {
        g_autofree char *expr = g_strdup_printf("EXPORT(Export_Id=%u)", id);
        g_autofree char *what = g_strdup_printf("%s of Export_Id %u from %s", method, id, conf_file);
        return call(b, method, g_variant_new("(ss)", conf_file, expr), G_VARIANT_TYPE("(s)"), what, NULL, error);
}

int ganesha_add_export(GaneshaBus *b, const char *conf_file, unsigned id, GError **error) {
        return add_or_update(b, "AddExport", conf_file, id, error);
}

int ganesha_update_export(GaneshaBus *b, const char *conf_file, unsigned id, GError **error) {
        return add_or_update(b, "UpdateExport", conf_file, id, error);
}

int ganesha_remove_export(GaneshaBus *b, unsigned id, GError **error) {
        g_autofree char *what = g_strdup_printf("RemoveExport of Export_Id %u", id);
        if (id > 65535)
                return np_fail(error, EINVAL, "Export_Id %u is not 1-65535", id);
        return call(b, "RemoveExport", g_variant_new("(q)", (guint16) id), NULL, what, NULL, error);
}

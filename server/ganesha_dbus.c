/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* NFS-Ganesha's export manager over D-Bus: see ganesha_dbus.h. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "error.h"
#include "ganesha_dbus.h"

#define GANESHA_NAME "org.ganesha.nfsd"
#define GANESHA_PATH "/org/ganesha/nfsd/ExportMgr"
#define GANESHA_IFACE "org.ganesha.nfsd.exportmgr"
#define CALL_TIMEOUT_MS 60000 /* AddExport of a large export can take a while */

struct GaneshaBus {
        GDBusConnection *conn;
};

void ganesha_bus_close(GaneshaBus *b) {
        if (!b)
                return;
        if (b->conn) {
                (void) g_dbus_connection_close_sync(b->conn, NULL, NULL);
                g_object_unref(b->conn);
        }
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

int ganesha_bus_open(GaneshaBus **ret, GError **error) {
        g_autoptr(GError) e = NULL;
        g_autofree char *address = g_dbus_address_get_for_bus_sync(G_BUS_TYPE_SYSTEM, NULL, &e);
        if (!address) {
                g_autofree char *m = one_line(e);
                return np_fail(error, ESRCH, "no D-Bus system bus: %s", m);
        }
        GDBusConnection *conn = g_dbus_connection_new_for_address_sync(
                address, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                NULL, NULL, &e);
        if (!conn) {
                g_autofree char *m = one_line(e);
                return np_fail(error, ESRCH, "cannot reach the D-Bus system bus at %s: %s", address, m);
        }
        g_dbus_connection_set_exit_on_close(conn, false);
        GaneshaBus *b = g_new0(GaneshaBus, 1);
        b->conn = conn;
        *ret = b;
        return 0;
}

/* Call method; *ret (may be NULL) gets the reply. `what` names the call in errors. */
static int call(GaneshaBus *b, const char *method, GVariant *args, const GVariantType *reply_type,
                const char *what, GVariant **ret, GError **error) {
        g_autoptr(GError) e = NULL;
        g_autoptr(GVariant) reply = g_dbus_connection_call_sync(b->conn, GANESHA_NAME, GANESHA_PATH, GANESHA_IFACE,
                                                               method, args, reply_type,
                                                               G_DBUS_CALL_FLAGS_NO_AUTO_START, CALL_TIMEOUT_MS,
                                                               NULL, &e);
        if (!reply) {
                bool absent = g_error_matches(e, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
                              g_error_matches(e, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER);
                g_autofree char *m = one_line(e);
                if (absent)
                        return np_fail(error, ESRCH, "NFS-Ganesha is not running (no %s on the D-Bus system bus)",
                                       GANESHA_NAME);
                return np_fail(error, EIO, "NFS-Ganesha refused %s: %s", what, m);
        }
        if (ret)
                *ret = g_steal_pointer(&reply);
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
                if (!g_variant_is_container(x) || g_variant_n_children(x) < 2)
                        return np_fail(error, EPROTO, "NFS-Ganesha's ShowExports answered %s",
                                       g_variant_get_type_string(reply));
                g_autoptr(GVariant) id = g_variant_get_child_value(x, 0);
                g_autoptr(GVariant) path = g_variant_get_child_value(x, 1);
                if (!g_variant_is_of_type(id, G_VARIANT_TYPE_UINT16) || !g_variant_is_of_type(path, G_VARIANT_TYPE_STRING))
                        return np_fail(error, EPROTO, "NFS-Ganesha's ShowExports answered %s, not a(qs...)",
                                       g_variant_get_type_string(reply));
                if (g_variant_get_uint16(id) == 0)
                        continue; /* the pseudo-root */
                GaneshaServed *s = g_new0(GaneshaServed, 1);
                s->id = g_variant_get_uint16(id);
                s->path = g_variant_dup_string(path, NULL);
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

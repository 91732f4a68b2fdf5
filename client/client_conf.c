/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "client_conf.h"
#include "error.h"
#include "keyfile.h"
#include "macro.h"
#include "server_url.h"
#include "show.h"

void client_conf_free(ClientConf *c) {
        if (!c)
                return;
        g_strfreev(c->servers);
        g_free(c->connect);
        g_free(c->token_file);
        g_free(c->ca_file);
        g_free(c);
}

static const char *const known_keys[] = { "servers", "connect", "token_file", "ca_file", "timeout", NULL };

/* The value of [client] key, NULL when the key is not there. A key that is there but cannot be read
 * (not UTF-8) fails: it must not be dropped silently. */
static int get_string(GKeyFile *kf, const char *path, const char *key, char **ret, GError **error) {
        if (!g_key_file_has_key(kf, "client", key, NULL)) {
                *ret = NULL;
                return 0;
        }
        GError *e = NULL;
        if (keyfile_get_string(kf, "client", key, ret, &e) < 0)
                return np_fail_prefix(error, e, "%s", path);
        return 0;
}

static int get_path(GKeyFile *kf, const char *path, const char *key, char **ret, GError **error) {
        g_autofree char *v = NULL;
        int r = get_string(kf, path, key, &v, error);
        if (r < 0 || !v)
                return r;
        if (!g_path_is_absolute(v)) {
                g_autofree char *shown = show_text(v);
                return np_fail(error, EINVAL, "%s: [client] %s \"%s\" is not an absolute path", path, key, shown);
        }
        *ret = TAKE_PTR(v);
        return 0;
}

int client_conf_load(const char *path, bool must_exist, ClientConf **ret, GError **error) {
        g_return_val_if_fail(path && ret, -EINVAL);
        g_autoptr(ClientConf) c = g_new0(ClientConf, 1);
        c->connect = g_strdup(CLIENT_CONNECT_DEFAULT);
        c->timeout_s = 30;
        c->servers = g_new0(char *, 1);

        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autoptr(GError) e = NULL;
        if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &e)) {
                if (g_error_matches(e, G_FILE_ERROR, G_FILE_ERROR_NOENT) && !must_exist) {
                        *ret = TAKE_PTR(c);
                        return 0;
                }
                g_autofree char *msg = show_text_max(e->message, SIZE_MAX);
                return np_fail(error, g_error_matches(e, G_FILE_ERROR, G_FILE_ERROR_NOENT) ? ENOENT : EINVAL,
                               "cannot read %s: %s", path, msg);
        }

        g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);
        for (char **g = groups; *g; g++)
                if (strcmp(*g, "client") != 0) {
                        g_autofree char *shown = show_text(*g);
                        return np_fail(error, EINVAL, "%s: unknown group [%s]; the only group is [client]", path,
                                       shown);
                }
        g_auto(GStrv) keys = g_key_file_get_keys(kf, "client", NULL, NULL);
        for (char **k = keys; keys && *k; k++)
                if (!g_strv_contains(known_keys, *k)) {
                        g_autofree char *known = g_strjoinv(", ", (char **) known_keys);
                        g_autofree char *shown = show_text(*k);
                        return np_fail(error, EINVAL, "%s: [client] unknown key \"%s\"; known keys: %s", path, shown,
                                       known);
                }

        size_t n = 0;
        g_auto(GStrv) servers = NULL;
        if (g_key_file_has_key(kf, "client", "servers", NULL)) {
                GError *le = NULL;
                if (keyfile_get_string_list(kf, "client", "servers", &servers, &n, &le) < 0)
                        return np_fail_prefix(error, le, "%s", path);
        }
        if (servers) {
                g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func(g_free);
                for (gsize i = 0; i < n; i++) {
                        g_strstrip(servers[i]);
                        if (!*servers[i])
                                continue;
                        g_autoptr(GError) ue = NULL;
                        if (server_url_check(servers[i], &ue) < 0)
                                return np_fail(error, EINVAL, "%s: [client] servers: %s", path, ue->message);
                        g_ptr_array_add(list, g_strdup(servers[i]));
                }
                g_ptr_array_add(list, NULL);
                g_strfreev(c->servers);
                c->servers = (char **) g_ptr_array_free(g_steal_pointer(&list), FALSE);
        }

        int r;
        g_autofree char *connect = NULL;
        if ((r = get_string(kf, path, "connect", &connect, error)) < 0)
                return r;
        if (connect) {
                g_strstrip(connect);
                if (!*connect)
                        return np_fail(error, EINVAL, "%s: [client] connect is empty; give a libvirt URI such as %s", path,
                                       CLIENT_CONNECT_DEFAULT);
                g_free(c->connect);
                c->connect = TAKE_PTR(connect);
        }
        if ((r = get_path(kf, path, "token_file", &c->token_file, error)) < 0 ||
            (r = get_path(kf, path, "ca_file", &c->ca_file, error)) < 0)
                return r;
        g_autofree char *timeout = NULL;
        if ((r = get_string(kf, path, "timeout", &timeout, error)) < 0)
                return r;
        if (timeout) {
                guint64 t;
                if (!g_ascii_string_to_unsigned(g_strstrip(timeout), 10, 1, 3600, &t, NULL)) {
                        g_autofree char *shown = show_text(timeout);
                        return np_fail(error, EINVAL, "%s: [client] timeout \"%s\" is not a number of seconds from 1 to 3600",
                                       path, shown);
                }
                c->timeout_s = (long) t;
        }
        *ret = TAKE_PTR(c);
        return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for nfsprov-client's configuration file (client/client_conf.h,
 * /etc/nfsprov/client.conf). Each input is written to a file of the scratch directory and
 * loaded with client_conf_load(). Checked:
 * - on failure -EINVAL and one line of UTF-8, *ret untouched;
 * - on success: every server is stripped, non-empty and accepted by server_url_check(); connect
 *   is stripped and non-empty; token_file and ca_file are unset or absolute; timeout is 1-3600;
 * - nothing in the file is silently dropped (the header: "a typo must not silently drop a
 *   server"): read with GKeyFile on its own, every known key of [client] that is there either
 *   gives its value or makes the load fail, and every non-blank server of the list is kept;
 * - round trip: the loaded values written back as a key file load to the same ClientConf.
 * Leaks and memory errors are found by the sanitizers this is built with.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "client_conf.h"
#include "fuzz_common.h"
#include "server_url.h"

const char fuzz_target_name[] = "fuzz_client_conf";

static const int errnos[] = { -EINVAL, 0 };

static bool stripped(const char *s) {
        size_t n = strlen(s);
        return n == 0 || (!g_ascii_isspace(s[0]) && !g_ascii_isspace(s[n - 1]));
}

/* What the file says for each key, read with GKeyFile alone: whether the key is there, and
 * whether its value can be read. */
typedef struct Said {
        bool loaded;                 /* GKeyFile reads the file */
        bool has[5], readable[5];    /* servers, connect, token_file, ca_file, timeout */
        guint servers_given;         /* non-blank entries of the servers list */
} Said;

static const char *const keys[5] = { "servers", "connect", "token_file", "ca_file", "timeout" };

static Said read_alone(const char *path) {
        Said s = { 0 };
        g_autoptr(GKeyFile) kf = g_key_file_new();
        s.loaded = g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL);
        if (!s.loaded)
                return s;
        for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
                s.has[i] = g_key_file_has_key(kf, "client", keys[i], NULL);
                if (!s.has[i])
                        continue;
                if (i == 0) {
                        gsize n = 0;
                        g_auto(GStrv) list = g_key_file_get_string_list(kf, "client", "servers", &n, NULL);
                        s.readable[i] = list != NULL;
                        for (gsize k = 0; list && k < n; k++)
                                s.servers_given += *g_strstrip(list[k]) != '\0';
                } else {
                        g_autofree char *v = g_key_file_get_string(kf, "client", keys[i], NULL);
                        s.readable[i] = v != NULL;
                }
        }
        return s;
}

static void check_conf(const ClientConf *c, const Said *said) {
        FUZZ_CHECK(c->servers, "servers is NULL");
        for (char **s = c->servers; *s; s++) {
                g_autofree char *shown = fuzz_show(*s);
                g_autoptr(GError) e = NULL;
                FUZZ_CHECK(**s && stripped(*s), "server %s is empty or not stripped", shown);
                FUZZ_CHECK(server_url_check(*s, &e) == 0, "server %s is not a server URL: %s", shown,
                           e ? e->message : "?");
        }
        g_autofree char *connect = fuzz_show(c->connect);
        FUZZ_CHECK(c->connect && c->connect[0] && stripped(c->connect), "connect %s", connect);
        g_autofree char *token = fuzz_show(c->token_file), *ca = fuzz_show(c->ca_file);
        FUZZ_CHECK(!c->token_file || g_path_is_absolute(c->token_file), "token_file %s", token);
        FUZZ_CHECK(!c->ca_file || g_path_is_absolute(c->ca_file), "ca_file %s", ca);
        FUZZ_CHECK(c->timeout_s >= 1 && c->timeout_s <= 3600, "timeout %ld", c->timeout_s);

        FUZZ_CHECK(said->loaded, "client_conf_load read a file GKeyFile cannot read");
        for (size_t i = 0; i < G_N_ELEMENTS(keys); i++)
                FUZZ_CHECK(!said->has[i] || said->readable[i],
                           "[client] %s is in the file but cannot be read, and client_conf_load ignored it", keys[i]);
        FUZZ_CHECK(g_strv_length(c->servers) == said->servers_given, "the file lists %u servers, %u were kept",
                   said->servers_given, g_strv_length(c->servers));
        if (said->has[2])
                FUZZ_CHECK(c->token_file, "[client] token_file is in the file but was not kept");
        if (said->has[3])
                FUZZ_CHECK(c->ca_file, "[client] ca_file is in the file but was not kept");
}

static char *render(const ClientConf *c) {
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_key_file_set_string_list(kf, "client", "servers", (const char *const *) c->servers,
                                   g_strv_length(c->servers));
        g_key_file_set_string(kf, "client", "connect", c->connect);
        if (c->token_file)
                g_key_file_set_string(kf, "client", "token_file", c->token_file);
        if (c->ca_file)
                g_key_file_set_string(kf, "client", "ca_file", c->ca_file);
        g_key_file_set_int64(kf, "client", "timeout", c->timeout_s);
        return g_key_file_to_data(kf, NULL, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        g_autofree char *path = fuzz_scratch_path("client.conf");
        fuzz_write_file(path, data, size);

        ClientConf *const sentinel = (ClientConf *) (uintptr_t) 0x1;
        ClientConf *c = sentinel;
        g_autoptr(GError) error = NULL;
        int r = client_conf_load(path, true, &c, &error);
        if (r < 0) {
                fuzz_check_failure("client_conf_load", r, error, errnos);
                FUZZ_CHECK(c == sentinel, "client_conf_load failed but set *ret");
                return 0;
        }
        g_autoptr(ClientConf) conf = c;
        fuzz_check_success("client_conf_load", r, error);
        FUZZ_CHECK(conf && conf != sentinel, "client_conf_load succeeded without a result");
        Said said = read_alone(path);
        check_conf(conf, &said);

        g_autofree char *text = render(conf);
        fuzz_write_file(path, text, strlen(text));
        g_autoptr(ClientConf) again = NULL;
        r = client_conf_load(path, true, &again, &error);
        g_autofree char *shown = fuzz_show(text);
        FUZZ_CHECK(r == 0, "the loaded values written back do not load: %s; file: %s", error ? error->message : "?",
                   shown);
        FUZZ_CHECK(g_strv_equal((const char *const *) conf->servers, (const char *const *) again->servers) &&
                           strcmp(conf->connect, again->connect) == 0 &&
                           g_strcmp0(conf->token_file, again->token_file) == 0 &&
                           g_strcmp0(conf->ca_file, again->ca_file) == 0 && conf->timeout_s == again->timeout_s,
                   "round trip changed the configuration; file: %s", shown);
        return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for nfsprovd's configuration file (server/settings.h, nfsprov.conf(5)). Each
 * input is written to a file of the scratch directory and loaded with config_load(). Checked:
 * - on failure -EINVAL and one line of UTF-8 that starts with the file's path, *ret untouched;
 * - on success, without settings.c's code: every path is absolute and normalized (and free of
 *   what seed 000 forbids where it ends up in pool definitions), the socket path fits a
 *   sockaddr_un, address is a canonical unicast IP literal, listen has its host and a port
 *   1-65535, disks are distinct /dev paths (at least one for backend = disk), clients are at
 *   least one, distinct, each accepted by config_check_client(), the options keep rw and
 *   no_root_squash, owner and group are account names or numbers, mode <= 07777, and the
 *   directories do not overlap as the cross-key checks require;
 * - round trip: the loaded values written back as a key file (GKeyFile, every key) load to the
 *   same Config.
 * Leaks and memory errors are found by the sanitizers this is built with.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/un.h>

#include <gio/gio.h>

#include "fuzz_common.h"
#include "settings.h"

const char fuzz_target_name[] = "fuzz_settings";

static const int errnos[] = { -EINVAL, 0 };

static bool normalized_absolute(const char *p) {
        if (!p || p[0] != '/' || strlen(p) >= 4096 || strcmp(p, "/") == 0 || g_str_has_suffix(p, "/"))
                return false;
        for (const unsigned char *c = (const unsigned char *) p; *c; c++)
                if (*c < 0x20 || *c == 0x7f)
                        return false;
        g_auto(GStrv) parts = g_strsplit(p + 1, "/", -1);
        for (char **c = parts; *c; c++)
                if (!**c || strcmp(*c, ".") == 0 || strcmp(*c, "..") == 0)
                        return false;
        return true;
}

static bool seed_safe(const char *s) {
        for (const unsigned char *c = (const unsigned char *) s; *c; c++)
                if (*c <= 0x20 || *c >= 0x7f || strchr("\\\"';()", *c))
                        return false;
        return true;
}

static bool account_form(const char *v) {
        size_t n = strlen(v);
        if (n == 0)
                return false;
        if (strspn(v, "0123456789") == n)
                return n <= 10 && g_ascii_strtoull(v, NULL, 10) < 4294967295u;
        if (n > 32 || !(g_ascii_isalpha(v[0]) || v[0] == '_'))
                return false;
        size_t body = v[n - 1] == '$' ? n - 1 : n;
        return strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == body;
}

static bool within(const char *path, const char *dir) {
        size_t n = strlen(dir);
        return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static bool has_item(const char *options, const char *item) {
        g_auto(GStrv) items = g_strsplit(options, ",", -1);
        return g_strv_contains((const char *const *) items, item);
}

static void check_distinct(const char *what, char **list) {
        for (char **a = list; *a; a++)
                for (char **b = list; b < a; b++)
                        FUZZ_CHECK(strcmp(*a, *b) != 0, "%s lists \"%s\" twice", what, *a);
}

static void check_config(const Config *c, const char *path) {
        FUZZ_CHECK(c->path && strcmp(c->path, path) == 0, "path is not the file loaded");

        const struct {
                const char *key;
                const char *value;
                bool optional, pool;
        } paths[] = {
                { "state_dir", c->state_dir, false, true },      { "socket", c->socket, false, false },
                { "token_file", c->token_file, true, false },    { "tls_cert", c->tls_cert, true, false },
                { "tls_key", c->tls_key, true, false },          { "base", c->base, false, true },
                { "image_dir", c->image_dir, false, true },      { "file", c->exports_file, false, false },
                { "target_base", c->target_base, false, true },  { "fstab", c->fstab, false, false },
                { "nfs_conf", c->nfs_conf, false, false },
        };
        for (size_t i = 0; i < G_N_ELEMENTS(paths); i++) {
                g_autofree char *shown = fuzz_show(paths[i].value);
                if (paths[i].optional && !paths[i].value)
                        continue;
                FUZZ_CHECK(normalized_absolute(paths[i].value), "%s %s is not an absolute normalized path",
                           paths[i].key, shown);
                if (paths[i].pool)
                        FUZZ_CHECK(seed_safe(paths[i].value), "%s %s holds what seed 000 forbids", paths[i].key,
                                   shown);
        }
        FUZZ_CHECK(strlen(c->socket) < sizeof(((struct sockaddr_un *) NULL)->sun_path),
                   "socket path of %zu bytes", strlen(c->socket));

        if (c->address) {
                g_autoptr(GInetAddress) a = g_inet_address_new_from_string(c->address);
                g_autofree char *shown = fuzz_show(c->address);
                FUZZ_CHECK(a, "address %s is not an IP address", shown);
                g_autofree char *canon = g_inet_address_to_string(a);
                FUZZ_CHECK(strcmp(canon, c->address) == 0, "address %s is not in canonical form", shown);
                FUZZ_CHECK(!g_inet_address_get_is_any(a) && !g_inet_address_get_is_multicast(a),
                           "address %s is not unicast", shown);
        }

        if (c->listen) {
                g_autofree char *shown = fuzz_show(c->listen);
                g_autofree char *tail = g_strdup_printf(":%u", c->listen_port);
                FUZZ_CHECK(c->listen_host && c->listen_host[0], "listen %s without a host", shown);
                FUZZ_CHECK(c->listen_port >= 1 && c->listen_port <= 65535, "listen %s with port %u", shown,
                           c->listen_port);
                FUZZ_CHECK(g_str_has_suffix(c->listen, tail) || g_str_has_suffix(c->listen, tail + 1),
                           "listen %s does not end in its port %u", shown, c->listen_port);
        } else
                FUZZ_CHECK(!c->listen_host && c->listen_port == 0, "no listen, but a listen host or port");

        FUZZ_CHECK(c->backend == CONFIG_BACKEND_IMAGE || c->backend == CONFIG_BACKEND_DISK, "backend %d",
                   c->backend);
        FUZZ_CHECK(c->disks, "disks is NULL");
        for (char **d = c->disks; *d; d++) {
                g_autofree char *shown = fuzz_show(*d);
                FUZZ_CHECK(g_str_has_prefix(*d, "/dev/") && normalized_absolute(*d), "disk %s", shown);
        }
        check_distinct("disks", c->disks);
        if (c->backend == CONFIG_BACKEND_DISK)
                FUZZ_CHECK(c->disks[0], "backend disk without disks");

        FUZZ_CHECK(c->clients && c->clients[0], "no clients");
        for (char **cl = c->clients; *cl; cl++) {
                g_autoptr(GError) e = NULL;
                g_autofree char *shown = fuzz_show(*cl);
                FUZZ_CHECK(config_check_client(*cl, &e) == 0, "client %s is not a valid client: %s", shown,
                           e ? e->message : "?");
        }
        check_distinct("clients", c->clients);

        g_autofree char *opts = fuzz_show(c->options);
        FUZZ_CHECK(has_item(c->options, "rw") && has_item(c->options, "no_root_squash"),
                   "options %s lack rw or no_root_squash", opts);
        FUZZ_CHECK(!has_item(c->options, "ro") && !has_item(c->options, "root_squash") &&
                           !has_item(c->options, "all_squash"),
                   "options %s take write or root access away", opts);
        for (const char *o = c->options; *o; o++)
                FUZZ_CHECK(!g_ascii_isspace(*o) && (unsigned char) *o >= 0x20, "options %s hold blank space", opts);

        g_autofree char *owner = fuzz_show(c->owner), *group = fuzz_show(c->group);
        FUZZ_CHECK(account_form(c->owner), "owner %s", owner);
        FUZZ_CHECK(account_form(c->group), "group %s", group);
        if (c->admin_group) {
                g_autofree char *ag = fuzz_show(c->admin_group);
                FUZZ_CHECK(account_form(c->admin_group), "admin_group %s", ag);
        }
        FUZZ_CHECK(c->mode <= 07777, "mode %#o", c->mode);
        FUZZ_CHECK(c->guard == GUARD_ENFORCE || c->guard == GUARD_DETECT || c->guard == GUARD_OFF, "guard %d",
                   c->guard);
        FUZZ_CHECK(c->audit_interval <= 7 * 24 * 3600, "audit_interval %u", c->audit_interval);
        g_autofree char *vol_owner = fuzz_show(c->vol_owner), *vol_group = fuzz_show(c->vol_group);
        FUZZ_CHECK(account_form(c->vol_owner), "[volumes] owner %s", vol_owner);
        FUZZ_CHECK(account_form(c->vol_group), "[volumes] group %s", vol_group);
        FUZZ_CHECK(c->vol_mode <= 07777, "[volumes] mode %#o", c->vol_mode);
        FUZZ_CHECK(c->max_capacity > 0, "max_capacity 0");
        FUZZ_CHECK(c->max_overcommit >= 0 && c->max_overcommit <= 1000, "max_overcommit %g", c->max_overcommit);

        FUZZ_CHECK(!within(c->state_dir, c->base), "state_dir inside base");
        if (c->backend == CONFIG_BACKEND_IMAGE)
                FUZZ_CHECK(!within(c->image_dir, c->base), "image_dir inside base");
        FUZZ_CHECK(!within(c->target_base, c->base) && !within(c->base, c->target_base),
                   "target_base and base overlap");
}

static void set(GKeyFile *kf, const char *group, const char *key, const char *value) {
        g_key_file_set_string(kf, group, key, value ? value : "");
}

/* Every key, as an admin's tool would write the loaded values back. */
static char *render(const Config *c) {
        g_autoptr(GKeyFile) kf = g_key_file_new();
        set(kf, "server", "address", c->address);
        set(kf, "server", "state_dir", c->state_dir);
        set(kf, "server", "socket", c->socket);
        set(kf, "server", "admin_group", c->admin_group);
        set(kf, "server", "listen", c->listen);
        set(kf, "server", "token_file", c->token_file);
        set(kf, "server", "tls_cert", c->tls_cert);
        set(kf, "server", "tls_key", c->tls_key);
        set(kf, "shares", "base", c->base);
        set(kf, "shares", "backend", config_backend_to_string(c->backend));
        set(kf, "shares", "image_dir", c->image_dir);
        g_autofree char *disks = g_strjoinv(" ", c->disks);
        set(kf, "shares", "disks", disks);
        g_autofree char *clients = g_strjoinv(" ", c->clients);
        set(kf, "shares", "clients", clients);
        set(kf, "shares", "options", c->options);
        set(kf, "shares", "owner", c->owner);
        set(kf, "shares", "group", c->group);
        g_autofree char *mode = g_strdup_printf("%04o", c->mode);
        set(kf, "shares", "mode", mode);
        set(kf, "shares", "guard", guard_mode_name(c->guard));
        g_autofree char *interval = g_strdup_printf("%u", c->audit_interval);
        set(kf, "shares", "audit_interval", interval);
        set(kf, "volumes", "owner", c->vol_owner);
        set(kf, "volumes", "group", c->vol_group);
        g_autofree char *vol_mode = g_strdup_printf("%04o", c->vol_mode);
        set(kf, "volumes", "mode", vol_mode);
        g_autofree char *max_capacity = g_strdup_printf("%" PRIu64, c->max_capacity);
        set(kf, "volumes", "max_capacity", max_capacity);
        char overcommit[G_ASCII_DTOSTR_BUF_SIZE];
        set(kf, "volumes", "max_overcommit", g_ascii_dtostr(overcommit, sizeof overcommit, c->max_overcommit));
        set(kf, "exports", "file", c->exports_file);
        set(kf, "pools", "target_base", c->target_base);
        set(kf, "system", "fstab", c->fstab);
        set(kf, "system", "nfs_conf", c->nfs_conf);
        return g_key_file_to_data(kf, NULL, NULL);
}

static void check_same(const Config *a, const Config *b) {
        const struct {
                const char *key;
                const char *x, *y;
        } s[] = {
                { "address", a->address, b->address },           { "state_dir", a->state_dir, b->state_dir },
                { "socket", a->socket, b->socket },              { "admin_group", a->admin_group, b->admin_group },
                { "listen", a->listen, b->listen },              { "listen_host", a->listen_host, b->listen_host },
                { "token_file", a->token_file, b->token_file },  { "tls_cert", a->tls_cert, b->tls_cert },
                { "tls_key", a->tls_key, b->tls_key },           { "base", a->base, b->base },
                { "image_dir", a->image_dir, b->image_dir },     { "options", a->options, b->options },
                { "owner", a->owner, b->owner },                 { "group", a->group, b->group },
                { "file", a->exports_file, b->exports_file },    { "target_base", a->target_base, b->target_base },
                { "fstab", a->fstab, b->fstab },                 { "nfs_conf", a->nfs_conf, b->nfs_conf },
                { "[volumes] owner", a->vol_owner, b->vol_owner }, { "[volumes] group", a->vol_group, b->vol_group },
        };
        for (size_t i = 0; i < G_N_ELEMENTS(s); i++) {
                g_autofree char *x = fuzz_show(s[i].x), *y = fuzz_show(s[i].y);
                FUZZ_CHECK(g_strcmp0(s[i].x, s[i].y) == 0, "round trip changed %s from %s to %s", s[i].key, x, y);
        }
        FUZZ_CHECK(a->listen_port == b->listen_port && a->backend == b->backend && a->mode == b->mode,
                   "round trip changed listen port, backend or mode");
        FUZZ_CHECK(a->guard == b->guard && a->audit_interval == b->audit_interval && a->vol_mode == b->vol_mode &&
                           a->max_capacity == b->max_capacity && a->max_overcommit == b->max_overcommit,
                   "round trip changed guard, audit_interval or a [volumes] value");
        FUZZ_CHECK(g_strv_equal((const char *const *) a->disks, (const char *const *) b->disks),
                   "round trip changed disks");
        FUZZ_CHECK(g_strv_equal((const char *const *) a->clients, (const char *const *) b->clients),
                   "round trip changed clients");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        g_autofree char *path = fuzz_scratch_path("nfsprov.conf");
        fuzz_write_file(path, data, size);

        Config *const sentinel = (Config *) (uintptr_t) 0x1;
        Config *c = sentinel;
        g_autoptr(GError) error = NULL;
        int r = config_load(path, true, &c, &error);
        if (r < 0) {
                fuzz_check_failure("config_load", r, error, errnos);
                FUZZ_CHECK(c == sentinel, "config_load failed but set *ret");
                g_autofree char *prefix = g_strconcat(path, ": ", NULL);
                FUZZ_CHECK(g_str_has_prefix(error->message, prefix), "the message does not start with the file: %s",
                           error->message);
                return 0;
        }
        g_autoptr(Config) config = c;
        fuzz_check_success("config_load", r, error);
        FUZZ_CHECK(config && config != sentinel, "config_load succeeded without a result");
        check_config(config, path);

        g_autofree char *text = render(config);
        fuzz_write_file(path, text, strlen(text));
        g_autoptr(Config) again = NULL;
        r = config_load(path, true, &again, &error);
        g_autofree char *shown = fuzz_show(text);
        FUZZ_CHECK(r == 0, "the loaded values written back do not load: %s; file: %s", error ? error->message : "?",
                   shown);
        check_same(config, again);
        return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "settings.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <sys/socket.h>

#include "error.h"
#include "exports_client.h"
#include "ipaddr.h"
#include "keyfile.h"
#include "macro.h"
#include "name.h"
#include "show.h"
#include "size.h"

#define DEFAULT_STATE_DIR "/var/lib/nfsprov"
#define DEFAULT_SOCKET "/run/nfsprov/nfsprovd.sock"
#define DEFAULT_BASE "/home/NFS"
#define DEFAULT_IMAGE_DIR "/var/lib/nfsprov/images"
#define DEFAULT_OPTIONS "rw,no_root_squash,sync,no_subtree_check"
#define DEFAULT_EXPORTS_FILE "/etc/exports"
#define DEFAULT_EXPORT_SERVER "kernel"
#define DEFAULT_GANESHA_CONFIG "/etc/ganesha/nfsprov.conf"
#define DEFAULT_GANESHA_CONF "/etc/ganesha/ganesha.conf"
#define DEFAULT_TARGET_BASE "/var/lib/libvirt/nfsprov"
#define DEFAULT_MAX_CAPACITY (16ULL << 40) /* 16 TiB: ext4's largest file with 4 KiB blocks */
#define DEFAULT_MAX_OVERCOMMIT 4.0
#define DEFAULT_AUDIT_INTERVAL 600u
#define MAX_AUDIT_INTERVAL 604800u
#define DEFAULT_FSTAB "/etc/fstab"
#define DEFAULT_NFS_CONF "/etc/nfs.conf"

/* A configuration file larger than this is surely not one. */
#define CONFIG_MAX_SIZE (1024 * 1024)

#define streq(a, b) (strcmp((a), (b)) == 0)

#define SEED_OPTIONS_WHY                                                                          \
        "seed 000 requires NFSv3 read/write access with root kept, so the options must contain " \
        "rw and no_root_squash (default: " DEFAULT_OPTIONS ")"

Config *config_new_default(void) {
        Config *c = g_new0(Config, 1);
        c->state_dir = g_strdup(DEFAULT_STATE_DIR);
        c->socket = g_strdup(DEFAULT_SOCKET);
        c->base = g_strdup(DEFAULT_BASE);
        c->backend = CONFIG_BACKEND_IMAGE;
        c->image_dir = g_strdup(DEFAULT_IMAGE_DIR);
        c->disks = g_new0(char *, 1);
        c->clients = g_new0(char *, 2);
        c->clients[0] = g_strdup("*");
        c->options = g_strdup(DEFAULT_OPTIONS);
        c->owner = g_strdup("root");
        c->group = g_strdup("root");
        c->mode = 0755;
        c->guard = GUARD_ENFORCE;
        c->audit_interval = DEFAULT_AUDIT_INTERVAL;
        c->vol_owner = g_strdup("root");
        c->vol_group = g_strdup("root");
        c->vol_mode = 0600;
        c->max_capacity = DEFAULT_MAX_CAPACITY;
        c->max_overcommit = DEFAULT_MAX_OVERCOMMIT;
        c->export_server = g_strdup(DEFAULT_EXPORT_SERVER);
        c->exports_file = g_strdup(DEFAULT_EXPORTS_FILE);
        c->ganesha_config = g_strdup(DEFAULT_GANESHA_CONFIG);
        c->ganesha_conf = g_strdup(DEFAULT_GANESHA_CONF);
        c->target_base = g_strdup(DEFAULT_TARGET_BASE);
        c->fstab = g_strdup(DEFAULT_FSTAB);
        c->nfs_conf = g_strdup(DEFAULT_NFS_CONF);
        return c;
}

void config_free(Config *c) {
        if (!c)
                return;
        g_free(c->path);
        g_free(c->address);
        g_free(c->state_dir);
        g_free(c->socket);
        g_free(c->admin_group);
        g_free(c->listen);
        g_free(c->listen_host);
        g_free(c->token_file);
        g_free(c->tls_cert);
        g_free(c->tls_key);
        g_free(c->base);
        g_free(c->image_dir);
        g_strfreev(c->disks);
        g_strfreev(c->clients);
        g_free(c->options);
        g_free(c->owner);
        g_free(c->group);
        g_free(c->export_server);
        g_free(c->exports_file);
        g_free(c->ganesha_config);
        g_free(c->ganesha_conf);
        g_free(c->target_base);
        g_free(c->vol_owner);
        g_free(c->vol_group);
        g_free(c->fstab);
        g_free(c->nfs_conf);
        g_free(c);
}

const char *config_default_path(void) {
        const char *e = getenv(CONFIG_ENV_PATH);
        return e && *e ? e : CONFIG_DEFAULT_PATH;
}

char *config_share_path(const Config *c, const char *name) {
        return g_strconcat(c->base, "/", name, NULL);
}

char *config_target_path(const Config *c, const char *name) {
        return g_strconcat(c->target_base, "/", name, NULL);
}

const char *config_backend_to_string(ConfigBackend b) {
        return b == CONFIG_BACKEND_DISK ? "disk" : "image";
}

/* ---- syntax checks; each returns 0 or -EINVAL with a message that the caller prefixes with
 * "FILE: [group] key: " ---- */

static bool has_control(const char *v) {
        for (const unsigned char *p = (const unsigned char *) v; *p; p++)
                if (*p < 0x20 || *p == 0x7f)
                        return true;
        return false;
}

/* An absolute, normalized path that is not "/": no empty, "." or ".." component, no trailing
 * slash, no control characters, shorter than PATH_MAX. */
static int check_path(const char *v, GError **error) {
        g_autofree char *shown = show_text(v);

        if (!*v)
                return np_fail(error, EINVAL, "must not be empty; allowed: an absolute path");
        if (v[0] != '/')
                return np_fail(error, EINVAL, "\"%s\" is not an absolute path; allowed: a path starting with /",
                               shown);
        if (has_control(v))
                return np_fail(error, EINVAL, "\"%s\" contains a control character; allowed: an absolute path",
                               shown);
        if (strlen(v) >= PATH_MAX)
                return np_fail(error, EINVAL, "path is longer than %d bytes", PATH_MAX - 1);

        g_auto(GStrv) parts = g_strsplit(v, "/", -1);
        g_autoptr(GString) norm = g_string_new(NULL);
        for (char **p = parts; *p; p++) {
                if (streq(*p, ".."))
                        return np_fail(error, EINVAL,
                                       "\"%s\" contains a \"..\" component; allowed: an absolute path without "
                                       "\".\" and \"..\" components",
                                       shown);
                if (!**p || streq(*p, "."))
                        continue;
                g_string_append_c(norm, '/');
                g_string_append(norm, *p);
        }
        if (norm->len == 0)
                return np_fail(error, EINVAL, "\"%s\" is the root directory; allowed: an absolute path below /",
                               shown);
        if (!streq(norm->str, v)) {
                g_autofree char *shown_norm = show_text(norm->str);
                return np_fail(error, EINVAL,
                               "\"%s\" is not a normalized path (empty or \".\" component, or trailing /); "
                               "write \"%s\"",
                               shown, shown_norm);
        }
        return 0;
}

/* A path that ends up in pool definitions: also free of seed 000's forbidden characters. */
static int check_pool_path(const char *v, GError **error) {
        int r = check_path(v, error);
        if (r < 0)
                return r;
        return name_validate_seed_safe("path", v, error);
}

/* A user or group: a name as shadow's useradd accepts it, or a number below 2^32 - 1. */
static bool account_valid(const char *v) {
        size_t n = strlen(v);
        if (n == 0)
                return false;
        if (strspn(v, "0123456789") == n) {
                if (n > 10)
                        return false;
                unsigned long long x = strtoull(v, NULL, 10);
                return x < UINT32_MAX;
        }
        if (n > 32)
                return false;
        if (!g_ascii_isalpha(v[0]) && v[0] != '_')
                return false;
        for (size_t i = 1; i < n; i++) {
                char ch = v[i];
                if (g_ascii_isalnum(ch) || ch == '_' || ch == '.' || ch == '-')
                        continue;
                if (ch == '$' && i == n - 1)
                        continue;
                return false;
        }
        return true;
}

static int check_account(const char *what, const char *v, GError **error) {
        if (account_valid(v))
                return 0;
        g_autofree char *shown = show_text(v);
        return np_fail(error, EINVAL,
                       "\"%s\" is not a %s name or number; allowed: letters, digits, _ . - (starting with a "
                       "letter or _, at most 32 characters, optionally ending in $) or a number below 4294967295",
                       shown, what);
}

/* [shares] clients and the clients given per share: exports/exports_client.h. */
int config_check_client(const char *v, GError **error) {
        return exports_client_check(v, error);
}

/* ---- export options (exports(5)) ---- */

static const char *const option_flags[] = {
        "ro",           "rw",           "sync",          "async",          "secure",       "insecure",
        "wdelay",       "no_wdelay",    "hide",          "nohide",         "crossmnt",     "subtree_check",
        "no_subtree_check", "root_squash", "no_root_squash", "all_squash", "no_all_squash", "insecure_locks",
        "secure_locks", "no_auth_nlm",  "auth_nlm",      "mp",             "pnfs",         "no_pnfs",
        "security_label", "nordirplus", NULL,
};

static const char *const option_with_value[] = {
        "mp", "fsid", "anonuid", "anongid", "sec", "refer", "replicas", NULL,
};

static const char *const sec_flavors[] = { "sys", "krb5", "krb5i", "krb5p", "none", NULL };

static bool in_list(const char *const *list, const char *s) {
        for (const char *const *p = list; *p; p++)
                if (streq(*p, s))
                        return true;
        return false;
}

static char *known_options_text(void) {
        g_autoptr(GString) s = g_string_new(NULL);
        for (const char *const *p = option_flags; *p; p++)
                g_string_append_printf(s, "%s%s", s->len ? " " : "", *p);
        for (const char *const *p = option_with_value; *p; p++)
                g_string_append_printf(s, " %s=", *p);
        return g_string_free(g_steal_pointer(&s), false);
}

static int check_option_value(const char *name, const char *value, GError **error) {
        g_autofree char *shown = show_text(value);

        if (!*value)
                return np_fail(error, EINVAL, "export option %s= needs a value", name);
        if (streq(name, "fsid"))
                return np_fail(error, EINVAL,
                               "export option fsid=%s is not allowed here: these options apply to every share "
                               "and an fsid must be unique per export",
                               shown);
        if (streq(name, "anonuid") || streq(name, "anongid")) {
                const char *d = value[0] == '-' ? value + 1 : value;
                if (*d && strlen(d) <= 10 && strspn(d, "0123456789") == strlen(d) &&
                    strtoll(d, NULL, 10) <= UINT32_MAX)
                        return 0;
                return np_fail(error, EINVAL, "export option %s=%s is not a number", name, shown);
        }
        if (streq(name, "sec")) {
                g_auto(GStrv) flavors = g_strsplit(value, ":", -1);
                for (char **f = flavors; *f; f++)
                        if (!in_list(sec_flavors, *f))
                                return np_fail(error, EINVAL,
                                               "export option sec=%s: unknown flavor \"%s\"; allowed: sys krb5 "
                                               "krb5i krb5p none, separated by :",
                                               shown, *f);
                return 0;
        }
        if (streq(name, "mp")) {
                g_autoptr(GError) e = NULL;
                if (check_path(value, &e) < 0)
                        return np_fail(error, EINVAL, "export option mp=: %s", e->message);
                return 0;
        }
        return 0; /* refer=, replicas=: locations, checked by exportfs */
}

static int check_options(const char *v, GError **error) {
        g_autofree char *shown = show_text(v);

        if (!*v)
                return np_fail(error, EINVAL, "must not be empty; %s", SEED_OPTIONS_WHY);
        for (const char *p = v; *p; p++)
                if (g_ascii_isspace(*p) || (unsigned char) *p < 0x20)
                        return np_fail(error, EINVAL,
                                       "\"%s\" contains blank space; allowed: options separated by commas only",
                                       shown);

        bool rw = false, no_root_squash = false;
        g_auto(GStrv) items = g_strsplit(v, ",", -1);
        for (char **i = items; *i; i++) {
                const char *item = *i;
                g_autofree char *shown_item = show_text(item);
                if (!*item)
                        return np_fail(error, EINVAL, "\"%s\" has an empty option; separate options with one comma",
                                       shown);

                const char *eq = strchr(item, '=');
                if (eq) {
                        g_autofree char *name = g_strndup(item, eq - item);
                        if (!in_list(option_with_value, name)) {
                                g_autofree char *known = known_options_text();
                                return np_fail(error, EINVAL, "unknown export option \"%s\"; allowed (exports(5)): %s",
                                               shown_item, known);
                        }
                        int r = check_option_value(name, eq + 1, error);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (!in_list(option_flags, item)) {
                        g_autofree char *known = known_options_text();
                        return np_fail(error, EINVAL, "unknown export option \"%s\"; allowed (exports(5)): %s",
                                       shown_item, known);
                }
                if (streq(item, "ro") || streq(item, "root_squash") || streq(item, "all_squash"))
                        return np_fail(error, EINVAL, "\"%s\" contains %s; %s", shown, item, SEED_OPTIONS_WHY);
                if (streq(item, "rw"))
                        rw = true;
                if (streq(item, "no_root_squash"))
                        no_root_squash = true;
        }
        if (!rw || !no_root_squash)
                return np_fail(error, EINVAL, "\"%s\" lacks %s; %s", shown, !rw ? "rw" : "no_root_squash",
                               SEED_OPTIONS_WHY);
        return 0;
}

/* ---- one parser per key: set the field from the (stripped) value ---- */

typedef int (*KeyParser)(Config *c, const char *v, GError **error);

static int parse_address(Config *c, const char *v, GError **error) {
        if (!*v) {
                g_clear_pointer(&c->address, g_free);
                return 0;
        }
        g_autofree char *shown = show_text(v);
        if (strchr(v, '%'))
                return np_fail(error, EINVAL,
                               "\"%s\" has a scope (%%...); allowed: an IPv4 or IPv6 address without scope, the "
                               "same for every client host",
                               shown);
        IpAddr a;
        if (!ipaddr_parse(v, &a))
                return np_fail(error, EINVAL,
                               "\"%s\" is not an IPv4 or IPv6 address; allowed: an address literal such as "
                               "192.168.1.1 or fd00::1 (no host name, brackets or prefix length), or empty",
                               shown);
        if (ipaddr_is_any(&a) || ipaddr_is_multicast(&a))
                return np_fail(error, EINVAL,
                               "\"%s\" is %s address; allowed: the unicast address client hosts reach this "
                               "server on",
                               shown, ipaddr_is_any(&a) ? "the unspecified" : "a multicast");
        g_free(c->address);
        c->address = ipaddr_to_string(&a);
        return 0;
}

#define DEFINE_PATH_PARSER(fn, field, check)                              \
        static int fn(Config *c, const char *v, GError **error) {         \
                int r = check(v, error);                                  \
                if (r < 0)                                                \
                        return r;                                         \
                g_free(c->field);                                         \
                c->field = g_strdup(v);                                   \
                return 0;                                                 \
        }

DEFINE_PATH_PARSER(parse_state_dir, state_dir, check_pool_path)
DEFINE_PATH_PARSER(parse_base, base, check_pool_path)
DEFINE_PATH_PARSER(parse_image_dir, image_dir, check_pool_path)
DEFINE_PATH_PARSER(parse_target_base, target_base, check_pool_path)
DEFINE_PATH_PARSER(parse_fstab, fstab, check_path)
DEFINE_PATH_PARSER(parse_nfs_conf, nfs_conf, check_path)
DEFINE_PATH_PARSER(parse_ganesha_config, ganesha_config, check_pool_path)
DEFINE_PATH_PARSER(parse_ganesha_conf, ganesha_conf, check_pool_path)

static int parse_socket(Config *c, const char *v, GError **error) {
        int r = check_path(v, error);
        if (r < 0)
                return r;
        size_t max = sizeof(((struct sockaddr_un *) NULL)->sun_path) - 1;
        if (strlen(v) > max)
                return np_fail(error, EINVAL, "a Unix socket path is at most %zu bytes; this one has %zu", max,
                               strlen(v));
        g_free(c->socket);
        c->socket = g_strdup(v);
        return 0;
}

/* An optional absolute path: empty unsets it. */
#define DEFINE_OPTIONAL_PATH_PARSER(fn, field)                                                       \
        static int fn(Config *c, const char *v, GError **error) {                                  \
                if (!*v) {                                                                          \
                        g_clear_pointer(&c->field, g_free);                                         \
                        return 0;                                                                   \
                }                                                                                   \
                int r = check_path(v, error);                                                       \
                if (r < 0)                                                                          \
                        return r;                                                                   \
                g_free(c->field);                                                                   \
                c->field = g_strdup(v);                                                             \
                return 0;                                                                           \
        }
DEFINE_OPTIONAL_PATH_PARSER(parse_token_file, token_file)
DEFINE_OPTIONAL_PATH_PARSER(parse_tls_cert, tls_cert)
DEFINE_OPTIONAL_PATH_PARSER(parse_tls_key, tls_key)

static int parse_exports_file(Config *c, const char *v, GError **error) {
        int r = check_path(v, error);
        if (r < 0)
                return r;
        g_autofree char *dir = g_path_get_dirname(v);
        g_autofree char *dirbase = g_path_get_basename(dir);
        if (streq(dirbase, "exports.d") && !g_str_has_suffix(v, ".exports")) {
                g_autofree char *shown = show_text(v);
                return np_fail(error, EINVAL,
                               "\"%s\" is in an exports.d directory but does not end in .exports, so exportfs "
                               "would not read it; allowed: /etc/exports or a NAME.exports file in /etc/exports.d",
                               shown);
        }
        g_free(c->exports_file);
        c->exports_file = g_strdup(v);
        return 0;
}

/* The names export_server_by_name() knows (server/export_server.h). */
static int parse_export_server(Config *c, const char *v, GError **error) {
        if (!streq(v, "kernel") && !streq(v, "ganesha")) {
                g_autofree char *shown = show_text(v);
                return np_fail(error, EINVAL,
                               "\"%s\" is not an NFS server; allowed: kernel (the kernel's NFS server, "
                               "/etc/exports), ganesha (NFS-Ganesha)",
                               shown);
        }
        g_free(c->export_server);
        c->export_server = g_strdup(v);
        return 0;
}

static int parse_admin_group(Config *c, const char *v, GError **error) {
        if (!*v) {
                g_clear_pointer(&c->admin_group, g_free);
                return 0;
        }
        int r = check_account("group", v, error);
        if (r < 0)
                return r;
        g_free(c->admin_group);
        c->admin_group = g_strdup(v);
        return 0;
}

#define LISTEN_ALLOWED                                                                                 \
        "allowed: HOST:PORT with an IPv4 address or host name, or [IPv6]:PORT, port 1-65535 (e.g. " \
        "0.0.0.0:8443, [::]:8443, nfs1.example.com:8443), or empty for no TCP listener"

static int parse_listen(Config *c, const char *v, GError **error) {
        if (!*v) {
                g_clear_pointer(&c->listen, g_free);
                g_clear_pointer(&c->listen_host, g_free);
                c->listen_port = 0;
                return 0;
        }

        g_autofree char *shown = show_text(v);
        g_autofree char *host = NULL;
        const char *port;

        if (v[0] == '[') {
                const char *close = strstr(v, "]:");
                if (!close)
                        return np_fail(error, EINVAL, "\"%s\" lacks \"]:PORT\" after the IPv6 address; %s", shown,
                                       LISTEN_ALLOWED);
                host = g_strndup(v + 1, close - v - 1);
                port = close + 2;
                IpAddr a;
                if (!ipaddr_parse(host, &a) || a.family != AF_INET6) {
                        g_autofree char *shown_host = show_text(host);
                        return np_fail(error, EINVAL, "\"%s\": \"%s\" is not an IPv6 address; %s", shown,
                                       shown_host, LISTEN_ALLOWED);
                }
        } else {
                const char *colon = strrchr(v, ':');
                if (!colon)
                        return np_fail(error, EINVAL, "\"%s\" lacks \":PORT\"; %s", shown, LISTEN_ALLOWED);
                host = g_strndup(v, colon - v);
                port = colon + 1;
                if (strchr(host, ':')) {
                        g_autofree char *shown_host = show_text(host), *shown_port = show_text(port);
                        return np_fail(error, EINVAL, "\"%s\": an IPv6 address needs brackets, as in [%s]:%s; %s",
                                       shown, shown_host, shown_port, LISTEN_ALLOWED);
                }
                if (!*host)
                        return np_fail(error, EINVAL, "\"%s\" lacks the host before \":\"; %s", shown,
                                       LISTEN_ALLOWED);
                IpAddr a;
                if (!ipaddr_parse(host, &a) && !exports_hostname_valid(host, false)) {
                        g_autofree char *shown_host = show_text(host);
                        return np_fail(error, EINVAL, "\"%s\": \"%s\" is neither an IPv4 address nor a host name; %s",
                                       shown, shown_host, LISTEN_ALLOWED);
                }
        }

        unsigned long p = 0;
        if (*port && strlen(port) <= 5 && strspn(port, "0123456789") == strlen(port))
                p = strtoul(port, NULL, 10);
        if (p < 1 || p > 65535) {
                g_autofree char *shown_port = show_text(port);
                return np_fail(error, EINVAL, "\"%s\": \"%s\" is not a port number 1-65535; %s", shown,
                               shown_port, LISTEN_ALLOWED);
        }

        g_free(c->listen);
        c->listen = g_strdup(v);
        g_free(c->listen_host);
        c->listen_host = TAKE_PTR(host);
        c->listen_port = (unsigned) p;
        return 0;
}

static int parse_backend(Config *c, const char *v, GError **error) {
        if (streq(v, "image"))
                c->backend = CONFIG_BACKEND_IMAGE;
        else if (streq(v, "disk"))
                c->backend = CONFIG_BACKEND_DISK;
        else {
                g_autofree char *shown = show_text(v);
                return np_fail(error, EINVAL, "\"%s\" is not a backend; allowed: image, disk", shown);
        }
        return 0;
}

static char **split_words(const char *v) {
        g_auto(GStrv) parts = g_strsplit_set(v, " \t", -1);
        g_autoptr(GPtrArray) words = g_ptr_array_new();
        for (char **p = parts; *p; p++)
                if (**p)
                        g_ptr_array_add(words, g_strdup(*p));
        g_ptr_array_add(words, NULL);
        return (char **) g_ptr_array_free(g_steal_pointer(&words), false);
}

/* The NFS versions NFS-Ganesha serves the shares with: NFSv3 always (seed 000), NFSv4 too only
 * when asked. */
static int parse_ganesha_protocols(Config *c, const char *v, GError **error) {
        g_auto(GStrv) words = split_words(v);
        bool v3 = false, v4 = false;
        for (char **w = words; *w; w++) {
                if (streq(*w, "3") && !v3)
                        v3 = true;
                else if (streq(*w, "4") && !v4)
                        v4 = true;
                else {
                        g_autofree char *shown = show_text(v);
                        return np_fail(error, EINVAL, "\"%s\" is not a list of NFS versions; allowed: 3 or 3 4", shown);
                }
        }
        if (!v3) {
                g_autofree char *shown = show_text(v);
                return np_fail(error, EINVAL,
                               "\"%s\" does not serve NFSv3, which seed 000 requires; allowed: 3 or 3 4", shown);
        }
        c->ganesha_nfsv4 = v4;
        return 0;
}

static int parse_disks(Config *c, const char *v, GError **error) {
        g_auto(GStrv) disks = split_words(v);
        for (char **d = disks; *d; d++) {
                g_autofree char *shown = show_text(*d);
                g_autoptr(GError) e = NULL;
                if (check_path(*d, &e) < 0)
                        return np_fail(error, EINVAL, "device %s", e->message);
                if (!g_str_has_prefix(*d, "/dev/"))
                        return np_fail(error, EINVAL,
                                       "\"%s\" is not under /dev; allowed: absolute device paths such as /dev/vdb "
                                       "or /dev/disk/by-id/..., separated by spaces",
                                       shown);
                for (char **o = disks; o < d; o++)
                        if (streq(*o, *d))
                                return np_fail(error, EINVAL, "\"%s\" is listed twice; list each disk once", shown);
        }
        g_strfreev(c->disks);
        c->disks = TAKE_PTR(disks);
        return 0;
}

static int parse_clients(Config *c, const char *v, GError **error) {
        g_auto(GStrv) clients = split_words(v);
        if (!clients[0])
                return np_fail(error, EINVAL,
                               "must name at least one client; %s (separated by spaces; * admits every host)",
                               EXPORTS_CLIENT_ALLOWED);
        for (char **cl = clients; *cl; cl++) {
                int r = config_check_client(*cl, error);
                if (r < 0)
                        return r;
                for (char **o = clients; o < cl; o++)
                        if (streq(*o, *cl)) {
                                g_autofree char *shown = show_text(*cl);
                                return np_fail(error, EINVAL, "client \"%s\" is listed twice; list each client once",
                                               shown);
                        }
        }
        g_strfreev(c->clients);
        c->clients = TAKE_PTR(clients);
        return 0;
}

static int parse_options(Config *c, const char *v, GError **error) {
        int r = check_options(v, error);
        if (r < 0)
                return r;
        g_free(c->options);
        c->options = g_strdup(v);
        return 0;
}

static int set_account(char **field, const char *kind, const char *v, GError **error) {
        int r = check_account(kind, v, error);
        if (r < 0)
                return r;
        g_free(*field);
        *field = g_strdup(v);
        return 0;
}

static int set_mode(unsigned *field, const char *v, GError **error) {
        size_t n = strlen(v);
        unsigned long m = 0;
        if (n > 0 && n <= 6 && strspn(v, "01234567") == n)
                m = strtoul(v, NULL, 8);
        if (n == 0 || n > 6 || strspn(v, "01234567") != n || m > 07777) {
                g_autofree char *shown = show_text(v);
                return np_fail(error, EINVAL, "\"%s\" is not an octal mode; allowed: octal digits, 0 to 07777 (e.g. 0755)",
                               shown);
        }
        *field = (unsigned) m;
        return 0;
}

static int parse_owner(Config *c, const char *v, GError **error) {
        return set_account(&c->owner, "user", v, error);
}

static int parse_group(Config *c, const char *v, GError **error) {
        return set_account(&c->group, "group", v, error);
}

static int parse_mode(Config *c, const char *v, GError **error) {
        return set_mode(&c->mode, v, error);
}

static int parse_guard(Config *c, const char *v, GError **error) {
        return guard_mode_parse(v, &c->guard, error);
}

static int parse_audit_interval(Config *c, const char *v, GError **error) {
        size_t n = strlen(v);
        unsigned long s = n > 0 && n <= 7 && strspn(v, "0123456789") == n ? strtoul(v, NULL, 10) : ULONG_MAX;
        if (s > MAX_AUDIT_INTERVAL) {
                g_autofree char *shown = show_text(v);
                return np_fail(error, EINVAL,
                               "\"%s\" is not an audit interval; allowed: whole seconds from 0 (no periodic audit) to "
                               "%u (a week)",
                               shown, MAX_AUDIT_INTERVAL);
        }
        c->audit_interval = (unsigned) s;
        return 0;
}

static int parse_vol_owner(Config *c, const char *v, GError **error) {
        return set_account(&c->vol_owner, "user", v, error);
}

static int parse_vol_group(Config *c, const char *v, GError **error) {
        return set_account(&c->vol_group, "group", v, error);
}

static int parse_vol_mode(Config *c, const char *v, GError **error) {
        return set_mode(&c->vol_mode, v, error);
}

static int parse_max_capacity(Config *c, const char *v, GError **error) {
        uint64_t size = 0;
        g_autoptr(GError) e = NULL;
        if (size_parse(v, &size, &e) < 0 || size == 0)
                return np_fail(error, EINVAL, "%s; allowed: a size above 0 with an optional unit (e.g. 2T, 500G)",
                               e ? e->message : "0 is no volume size");
        c->max_capacity = size;
        return 0;
}

static int parse_max_overcommit(Config *c, const char *v, GError **error) {
        char *end = NULL;
        errno = 0;
        double d = g_ascii_strtod(v, &end);
        if (!*v || errno || !end || *end || !(d >= 0) || d > 1000) {
                g_autofree char *shown = show_text(v);
                return np_fail(error, EINVAL,
                               "\"%s\" is not an over-commit ratio; allowed: a number from 0 (no limit) to 1000, "
                               "e.g. 4 or 1.5",
                               shown);
        }
        c->max_overcommit = d;
        return 0;
}

/* ---- the file's layout ---- */

typedef struct KeyDef {
        const char *group;
        const char *key;
        KeyParser parse;
} KeyDef;

static const char *const known_groups[] = { "server", "shares", "volumes", "exports", "pools", "system", NULL };

static const KeyDef known_keys[] = {
        { "server", "address", parse_address },
        { "server", "state_dir", parse_state_dir },
        { "server", "socket", parse_socket },
        { "server", "admin_group", parse_admin_group },
        { "server", "listen", parse_listen },
        { "server", "token_file", parse_token_file },
        { "server", "tls_cert", parse_tls_cert },
        { "server", "tls_key", parse_tls_key },
        { "shares", "base", parse_base },
        { "shares", "backend", parse_backend },
        { "shares", "image_dir", parse_image_dir },
        { "shares", "disks", parse_disks },
        { "shares", "clients", parse_clients },
        { "shares", "options", parse_options },
        { "shares", "owner", parse_owner },
        { "shares", "group", parse_group },
        { "shares", "mode", parse_mode },
        { "shares", "guard", parse_guard },
        { "shares", "audit_interval", parse_audit_interval },
        { "volumes", "owner", parse_vol_owner },
        { "volumes", "group", parse_vol_group },
        { "volumes", "mode", parse_vol_mode },
        { "volumes", "max_capacity", parse_max_capacity },
        { "volumes", "max_overcommit", parse_max_overcommit },
        { "exports", "server", parse_export_server },
        { "exports", "file", parse_exports_file },
        { "exports", "ganesha_config", parse_ganesha_config },
        { "exports", "ganesha_protocols", parse_ganesha_protocols },
        { "pools", "target_base", parse_target_base },
        { "system", "fstab", parse_fstab },
        { "system", "nfs_conf", parse_nfs_conf },
        { "system", "ganesha_conf", parse_ganesha_conf },
};

static const KeyDef *find_key(const char *group, const char *key) {
        for (size_t i = 0; i < ELEMENTSOF(known_keys); i++)
                if (streq(known_keys[i].group, group) && streq(known_keys[i].key, key))
                        return &known_keys[i];
        return NULL;
}

static char *keys_of_group(const char *group) {
        g_autoptr(GString) s = g_string_new(NULL);
        for (size_t i = 0; i < ELEMENTSOF(known_keys); i++)
                if (streq(known_keys[i].group, group))
                        g_string_append_printf(s, "%s%s", s->len ? ", " : "", known_keys[i].key);
        return g_string_free(g_steal_pointer(&s), false);
}

/* path is dir itself or lies below it. */
static bool path_within(const char *path, const char *dir) {
        size_t n = strlen(dir);
        return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* Checks that involve more than one key. */
static int check_cross(const Config *c, const char *path, GError **error) {
        if (c->backend == CONFIG_BACKEND_DISK && !c->disks[0])
                return np_fail(error, EINVAL,
                               "%s: [shares] disks: backend = disk needs at least one device; list the disks "
                               "nfsprov may use, separated by spaces (e.g. disks = /dev/vdb /dev/vdc)",
                               path);
        if (path_within(c->state_dir, c->base))
                return np_fail(error, EINVAL,
                               "%s: [server] state_dir: \"%s\" is inside [shares] base \"%s\", where shares "
                               "are mounted; allowed: a directory outside base",
                               path, c->state_dir, c->base);
        if (c->backend == CONFIG_BACKEND_IMAGE && path_within(c->image_dir, c->base))
                return np_fail(error, EINVAL,
                               "%s: [shares] image_dir: \"%s\" is inside [shares] base \"%s\", where shares "
                               "are mounted; allowed: a directory outside base",
                               path, c->image_dir, c->base);
        if (path_within(c->target_base, c->base) || path_within(c->base, c->target_base))
                return np_fail(error, EINVAL,
                               "%s: [pools] target_base: \"%s\" overlaps [shares] base \"%s\"; a KVM host on "
                               "this server would mount the pools over the shares themselves; allowed: two "
                               "directories neither of which contains the other",
                               path, c->target_base, c->base);
        return 0;
}

static int read_config_file(const char *path, char **ret, size_t *ret_len, GError **error) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return np_fail(error, errno, "%s: cannot open the configuration file: %s", path,
                               g_strerror(errno));
        struct stat st;
        if (fstat(fd, &st) < 0)
                return np_fail(error, errno, "%s: cannot stat: %s", path, g_strerror(errno));
        if (!S_ISREG(st.st_mode))
                return np_fail(error, S_ISDIR(st.st_mode) ? EISDIR : EINVAL,
                               "%s: not a regular file; the configuration must be a file", path);
        if (st.st_size > CONFIG_MAX_SIZE)
                return np_fail(error, EFBIG, "%s: %lld bytes; a configuration file is at most %d bytes", path,
                               (long long) st.st_size, CONFIG_MAX_SIZE);

        g_autoptr(GString) s = g_string_sized_new((size_t) st.st_size + 1);
        char buf[4096];
        for (;;) {
                ssize_t n = read(fd, buf, sizeof(buf));
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return np_fail(error, errno, "%s: read failed: %s", path, g_strerror(errno));
                }
                if (n == 0)
                        break;
                g_string_append_len(s, buf, n);
                if (s->len > CONFIG_MAX_SIZE)
                        return np_fail(error, EFBIG, "%s: a configuration file is at most %d bytes", path,
                                       CONFIG_MAX_SIZE);
        }
        if (memchr(s->str, '\0', s->len))
                return np_fail(error, EINVAL, "%s: contains a NUL byte; the configuration is a text file", path);
        *ret_len = s->len;
        *ret = g_string_free(g_steal_pointer(&s), false);
        return 0;
}

static int parse_key_file(Config *c, const char *path, const char *data, size_t len, GError **error) {
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autoptr(GError) e = NULL;

        /* KEEP_TRANSLATIONS: without it GKeyFile silently drops "key[locale]" lines, which must be
         * refused as unknown keys like any other. */
        if (!g_key_file_load_from_data(kf, data, len, G_KEY_FILE_KEEP_TRANSLATIONS, &e)) {
                /* GKeyFile quotes the offending line as it is, which need not be UTF-8. */
                g_autofree char *msg = show_text_max(e->message, SIZE_MAX);
                return np_fail(error, EINVAL, "%s: %s", path, msg);
        }

        g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);
        for (char **g = groups; *g; g++) {
                if (!in_list(known_groups, *g)) {
                        g_autofree char *shown = show_text(*g);
                        return np_fail(error, EINVAL,
                                       "%s: unknown group [%s]; known groups: [server] [shares] [volumes] [exports] [pools] "
                                       "[system]",
                                       path, shown);
                }

                g_auto(GStrv) keys = g_key_file_get_keys(kf, *g, NULL, NULL);
                for (char **k = keys; k && *k; k++) {
                        const KeyDef *def = find_key(*g, *k);
                        if (!def) {
                                g_autofree char *shown = show_text(*k);
                                g_autofree char *known = keys_of_group(*g);
                                return np_fail(error, EINVAL, "%s: [%s] unknown key \"%s\"; known keys in [%s]: %s",
                                               path, *g, shown, *g, known);
                        }

                        g_autofree char *value = NULL;
                        GError *ke = NULL;
                        if (keyfile_get_string(kf, *g, *k, &value, &ke) < 0)
                                return np_fail_prefix(error, ke, "%s", path);
                        g_strstrip(value);

                        if (strstr(value, " #") || strstr(value, "\t#")) {
                                g_autofree char *shown = show_text(value);
                                return np_fail(error, EINVAL,
                                               "%s: [%s] %s: \"%s\" holds a comment; comments must be on a line "
                                               "of their own, starting with #",
                                               path, *g, *k, shown);
                        }

                        GError *cause = NULL;
                        if (def->parse(c, value, &cause) < 0)
                                return np_fail_prefix(error, cause, "%s: [%s] %s", path, *g, *k);
                }
        }
        return check_cross(c, path, error);
}

int config_load(const char *path, bool must_exist, Config **ret, GError **error) {
        if (!path)
                path = config_default_path();

        g_autoptr(Config) c = config_new_default();
        g_autofree char *data = NULL;
        size_t len = 0;
        GError *e = NULL;

        int r = read_config_file(path, &data, &len, &e);
        if (r == -ENOENT && !must_exist) {
                g_error_free(e);
                *ret = TAKE_PTR(c);
                return 0;
        }
        if (r < 0) {
                g_propagate_error(error, e);
                return r;
        }

        r = parse_key_file(c, path, data, len, error);
        if (r < 0)
                return r;
        c->path = g_strdup(path);
        *ret = TAKE_PTR(c);
        return 0;
}

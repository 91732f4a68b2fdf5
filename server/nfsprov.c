/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nfsprov: the admin's command line, a thin client of nfsprovd's API on its Unix socket (or, with
 * --url, over TCP with the bearer token).
 * Names and sizes are checked here first (exit 2, nothing sent); everything else is decided
 * by the daemon. Exit status: 0 done, 2 invalid input (local check or HTTP 400), 1 any other
 * failure. An error is one line on stderr: "nfsprov: MESSAGE".
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <curl/curl.h>
#include <glib.h>
#include <json-c/json.h>

#include "json_autoptr.h"
#include "log.h"
#include "macro.h"
#include "name.h"
#include "settings.h"
#include "server_url.h"
#include "size.h"
#include "token_file.h"

#define EXIT_INVALID 2

static const char *arg_config = NULL;
static const char *arg_socket = NULL;
static bool arg_json = false;
static const char *arg_size = NULL;
static const char *arg_disk = NULL;
static const char *arg_clients = NULL;
static bool arg_force = false;
static bool arg_apply = false;

static const char *arg_url = NULL;        /* --url: the API over TCP instead of the socket */
static const char *arg_token_file = NULL;
static const char *arg_ca_file = NULL;

static const char *socket_path = NULL;
static char *api_token = NULL;            /* from --token-file */
static const char *where = NULL;          /* the socket path or the URL, for messages */

static void help(void) {
        printf("Usage: nfsprov [--config FILE] [--socket PATH] [--json] COMMAND ...\n"
               "\n"
               "Manage the shares of nfsprovd: one disk per NFS share, mounted and exported.\n"
               "\n"
               "Commands:\n"
               "  create NAME [--size SIZE] [--disk DEV] [--clients \"SPEC ...\"] [--force]\n"
               "                          create a share (image backend: --size; disk backend: --disk\n"
               "                          or the first blank disk of the inventory)\n"
               "  list                    list the shares\n"
               "  show NAME               show a share and its libvirt pool definition\n"
               "  pool-xml NAME           print the libvirt pool XML of a share\n"
               "  resize NAME --size SIZE grow a share\n"
               "  delete NAME [--force]   delete a share (--force: even when it holds files)\n"
               "  reconcile               make the shares match the recorded state now\n"
               "  nfs-config [--apply]    check (or set) NFSv3 on, NFSv4 off in the NFS server config\n"
               "\n"
               "Options:\n"
               "  -c, --config FILE  read the socket path from FILE (default %s)\n"
               "  -s, --socket PATH  talk to nfsprovd on PATH\n"
               "  -u, --url URL      talk to nfsprovd over TCP, e.g. https://nfs1:8443 (its [server] listen)\n"
               "      --token-file FILE  bearer token for --url (root-only, 0600)\n"
               "      --ca-file FILE     CA certificate(s) to check an https server with\n"
               "  -j, --json         print the API's JSON\n"
               "  -h, --help         show this help\n"
               "  -V, --version      show the version\n"
               "\n"
               "SIZE: a number with an optional unit K, M, G, T, P or E (binary), e.g. 512M, 50G.\n"
               "Exit status: 0 done, 2 invalid input (nothing changed), 1 failure.\n",
               CONFIG_DEFAULT_PATH);
}

/* ---- talking to nfsprovd ---- */

typedef struct Reply {
        long status;
        GString *body;
        json_object *json;
} Reply;

static void reply_free(Reply *r) {
        if (!r)
                return;
        g_string_free(r->body, true);
        json_object_put(r->json);
        g_free(r);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Reply, reply_free)

static size_t write_cb(char *data, size_t size, size_t n, void *userdata) {
        g_string_append_len(userdata, data, (gssize) (size * n));
        return size * n;
}

/* Why connecting to the socket fails, as errno text (curl's own message does not say). */
static char *connect_error(void) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(socket_path) >= sizeof sa.sun_path)
                return g_strdup(g_strerror(ENAMETOOLONG));
        strcpy(sa.sun_path, socket_path);
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return g_strdup(g_strerror(errno));
        if (connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                return g_strdup(g_strerror(errno));
        return NULL;
}

/* Send one request. Returns 0 when nfsprovd answered (any status), or the exit status after
 * printing why it could not be reached. */
static int call(const char *method, const char *path, json_object *body, const char *accept, Reply **ret) {
        g_autoptr(Reply) r = g_new0(Reply, 1);
        r->body = g_string_new(NULL);

        CURL *c = curl_easy_init();
        if (!c)
                return log_exit(EXIT_FAILURE, "cannot initialize libcurl");
        char errbuf[CURL_ERROR_SIZE] = "";
        g_autofree char *url = NULL;
        if (arg_url) {
                url = g_strdup_printf("%s%s", arg_url, path);
                curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
                if (arg_ca_file)
                        curl_easy_setopt(c, CURLOPT_CAINFO, arg_ca_file);
        } else {
                url = g_strdup_printf("http://localhost%s", path);
                curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, socket_path);
        }
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, r->body);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
        struct curl_slist *headers = NULL;
        headers = curl_slist_append(headers, accept ? accept : "Accept: application/json");
        headers = curl_slist_append(headers, "Expect:");
        g_autofree char *auth = api_token ? g_strdup_printf("Authorization: Bearer %s", api_token) : NULL;
        if (auth)
                headers = curl_slist_append(headers, auth);
        if (body) {
                const char *text = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN);
                headers = curl_slist_append(headers, "Content-Type: application/json");
                curl_easy_setopt(c, CURLOPT_POSTFIELDS, text);
                curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long) strlen(text));
        }
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
        CURLcode code = curl_easy_perform(c);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
        curl_easy_cleanup(c);
        curl_slist_free_all(headers);

        if (code == CURLE_COULDNT_CONNECT) {
                g_autofree char *why = arg_url ? NULL : connect_error();
                return log_exit(EXIT_FAILURE, "cannot reach nfsprovd at %s: %s", where,
                            why ? why : (*errbuf ? errbuf : curl_easy_strerror(code)));
        }
        if (code == CURLE_GOT_NOTHING || code == CURLE_RECV_ERROR || code == CURLE_PARTIAL_FILE)
                return log_exit(EXIT_FAILURE,
                            "nfsprovd at %s closed the connection without a complete answer (did it stop? see its log)",
                            where);
        if (code != CURLE_OK)
                return log_exit(EXIT_FAILURE, "request to nfsprovd at %s failed: %s", where,
                            *errbuf ? errbuf : curl_easy_strerror(code));

        if (r->body->len > 0 && (!accept || !strstr(accept, "xml")))
                r->json = json_tokener_parse(r->body->str);
        *ret = g_steal_pointer(&r);
        return 0;
}

static const char *jstr(json_object *o, const char *key) {
        json_object *v;
        if (!o || !json_object_object_get_ex(o, key, &v) || !v)
                return NULL;
        return json_object_get_string(v);
}

static bool jbool(json_object *o, const char *key) {
        json_object *v;
        return o && json_object_object_get_ex(o, key, &v) && v && json_object_get_boolean(v);
}

static bool jint(json_object *o, const char *key, int64_t *ret) {
        json_object *v;
        if (!o || !json_object_object_get_ex(o, key, &v) || !v || !json_object_is_type(v, json_type_int))
                return false;
        *ret = json_object_get_int64(v);
        return true;
}

/* An answer that is not 2xx: print nfsprovd's message, return the exit status. */
static int reply_failed(const Reply *r) {
        json_object *e = NULL;
        const char *msg = NULL;
        if (r->json && json_object_object_get_ex(r->json, "error", &e))
                msg = jstr(e, "message");
        int status = r->status == 400 ? EXIT_INVALID : EXIT_FAILURE;
        if (msg)
                return log_exit(status, "%s", msg);
        return log_exit(status, "nfsprovd answered with HTTP status %ld", r->status);
}

static bool reply_ok(const Reply *r) {
        return r->status >= 200 && r->status < 300;
}

/* GET/POST... that must answer 2xx with JSON. Returns 0 or the exit status (already printed). */
static int call_json(const char *method, const char *path, json_object *body, Reply **ret) {
        g_autoptr(Reply) r = NULL;
        int st = call(method, path, body, NULL, &r);
        if (st != 0)
                return st;
        if (!reply_ok(r))
                return reply_failed(r);
        if (!r->json)
                return log_exit(EXIT_FAILURE, "nfsprovd answered without valid JSON (HTTP status %ld)", r->status);
        *ret = g_steal_pointer(&r);
        return 0;
}

static void print_json(json_object *o) {
        printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                                 JSON_C_TO_STRING_NOSLASHESCAPE));
}

static char *format_bytes(json_object *o, const char *key) {
        int64_t n;
        if (!jint(o, key, &n) || n < 0)
                return g_strdup("-");
        return size_format((uint64_t) n);
}

static char *clients_text(json_object *share, const char *sep) {
        json_object *arr;
        if (!json_object_object_get_ex(share, "clients", &arr) || !json_object_is_type(arr, json_type_array))
                return g_strdup("-");
        g_autoptr(GPtrArray) parts = g_ptr_array_new();
        for (size_t i = 0; i < json_object_array_length(arr); i++)
                g_ptr_array_add(parts, (char *) json_object_get_string(json_object_array_get_idx(arr, i)));
        if (parts->len == 0)
                return g_strdup("-");
        g_ptr_array_add(parts, NULL);
        return g_strjoinv(sep, (char **) parts->pdata);
}

/* ---- local checks ---- */

static int check_name(const char *name) {
        g_autoptr(GError) error = NULL;
        if (name_validate_share(name, &error) < 0)
                return log_exit(EXIT_INVALID, "%s", error->message);
        return 0;
}

static int check_size(const char *text, uint64_t *ret) {
        g_autoptr(GError) error = NULL;
        if (size_parse(text, ret, &error) < 0)
                return log_exit(EXIT_INVALID, "%s", error->message);
        return 0;
}

/* ---- commands ---- */

static int cmd_create(const char *name) {
        int st = check_name(name);
        if (st)
                return st;
        json_object *body = json_object_new_object();
        json_object_object_add(body, "name", json_object_new_string(name));
        if (arg_size) {
                uint64_t size;
                st = check_size(arg_size, &size);
                if (st) {
                        json_object_put(body);
                        return st;
                }
                json_object_object_add(body, "size", json_object_new_int64((int64_t) size));
        }
        if (arg_disk) {
                if (!*arg_disk) {
                        json_object_put(body);
                        return log_exit(EXIT_INVALID, "--disk is empty; give a device path like /dev/sdb");
                }
                json_object_object_add(body, "disk", json_object_new_string(arg_disk));
        }
        if (arg_clients) {
                g_auto(GStrv) specs = g_strsplit_set(arg_clients, " \t\n", -1);
                json_object *arr = json_object_new_array();
                for (char **s = specs; *s; s++)
                        if (**s)
                                json_object_array_add(arr, json_object_new_string(*s));
                if (json_object_array_length(arr) == 0) {
                        json_object_put(arr);
                        json_object_put(body);
                        return log_exit(EXIT_INVALID,
                                    "--clients is empty; give exports(5) client specifications like \"192.168.1.0/24\"");
                }
                json_object_object_add(body, "clients", arr);
        }
        if (arg_force)
                json_object_object_add(body, "force", json_object_new_boolean(true));

        g_autoptr(Reply) r = NULL;
        st = call_json("POST", "/v1/shares?wait=true", body, &r);
        json_object_put(body);
        if (st)
                return st;
        if (arg_json) {
                print_json(r->json);
                return 0;
        }
        int64_t size = 0;
        jint(r->json, "size", &size);
        g_autofree char *size_text = size_format((uint64_t) size);
        if (r->status == 201)
                printf("created %s: %s, exported at %s\n", name, size_text, jstr(r->json, "export_path"));
        else
                printf("%s exists already with the same spec; nothing changed\n", name);
        return 0;
}

typedef struct Column {
        const char *title;
        size_t width;
} Column;

static int cmd_list(void) {
        g_autoptr(Reply) r = NULL;
        int st = call_json("GET", "/v1/shares", NULL, &r);
        if (st)
                return st;
        if (arg_json) {
                print_json(r->json);
                return 0;
        }
        json_object *shares;
        if (!json_object_object_get_ex(r->json, "shares", &shares) || !json_object_is_type(shares, json_type_array))
                return log_exit(EXIT_FAILURE, "nfsprovd's answer has no \"shares\" list");

        Column cols[] = { { "NAME", 0 },  { "STATE", 0 },  { "SIZE", 0 },    { "USED", 0 },
                          { "AVAIL", 0 }, { "EXPORT", 0 }, { "CLIENTS", 0 } };
        enum { N_COLS = G_N_ELEMENTS(cols) };
        size_t n = json_object_array_length(shares);
        g_autoptr(GPtrArray) cells = g_ptr_array_new_with_free_func(g_free);
        for (size_t i = 0; i < n; i++) {
                json_object *s = json_object_array_get_idx(shares, i);
                g_ptr_array_add(cells, g_strdup(jstr(s, "name") ?: "?"));
                g_ptr_array_add(cells, g_strdup(jstr(s, "status") ?: "?"));
                g_ptr_array_add(cells, format_bytes(s, "size"));
                g_ptr_array_add(cells, format_bytes(s, "used"));
                g_ptr_array_add(cells, format_bytes(s, "available"));
                g_ptr_array_add(cells, g_strdup(jstr(s, "export_path") ?: "-"));
                g_ptr_array_add(cells, clients_text(s, ","));
        }
        for (size_t c = 0; c < N_COLS; c++) {
                cols[c].width = strlen(cols[c].title);
                for (size_t i = 0; i < n; i++)
                        cols[c].width = MAX(cols[c].width, strlen(g_ptr_array_index(cells, i * N_COLS + c)));
        }
        for (size_t c = 0; c < N_COLS; c++)
                if (c + 1 < N_COLS)
                        printf("%-*s  ", (int) cols[c].width, cols[c].title);
                else
                        printf("%s\n", cols[c].title);
        for (size_t i = 0; i < n; i++)
                for (size_t c = 0; c < N_COLS; c++) {
                        const char *cell = g_ptr_array_index(cells, i * N_COLS + c);
                        if (c + 1 < N_COLS)
                                printf("%-*s  ", (int) cols[c].width, cell);
                        else
                                printf("%s\n", cell);
                }
        return 0;
}

static void show_line(const char *key, const char *value) {
        printf("%-13s %s\n", key, value ? value : "-");
}

static int cmd_show(const char *name) {
        int st = check_name(name);
        if (st)
                return st;
        g_autofree char *path = g_strdup_printf("/v1/shares/%s", name);
        g_autoptr(Reply) r = NULL;
        st = call_json("GET", path, NULL, &r);
        if (st)
                return st;
        if (arg_json) {
                print_json(r->json);
                return 0;
        }
        json_object *s = r->json;
        int64_t size = 0;
        jint(s, "size", &size);
        g_autofree char *size_text = size_format((uint64_t) size);
        g_autofree char *size_line = g_strdup_printf("%s (%" PRId64 " bytes)", size_text, size);
        show_line("name:", jstr(s, "name"));
        show_line("status:", jstr(s, "status"));
        show_line("size:", size_line);
        show_line("backend:", jstr(s, "backend"));
        show_line("source:", jstr(s, "source"));
        show_line("device:", jstr(s, "device"));
        show_line("fs uuid:", jstr(s, "fs_uuid"));
        show_line("pool uuid:", jstr(s, "pool_uuid"));
        show_line("export path:", jstr(s, "export_path"));
        g_autofree char *clients = clients_text(s, " ");
        show_line("clients:", clients);
        show_line("options:", jstr(s, "options"));
        show_line("mounted:", jbool(s, "mounted") ? "yes" : "no");
        show_line("exported:", jbool(s, "exported") ? "yes" : "no");
        int64_t dummy;
        if (jint(s, "capacity", &dummy)) {
                g_autofree char *cap = format_bytes(s, "capacity");
                g_autofree char *used = format_bytes(s, "used");
                g_autofree char *avail = format_bytes(s, "available");
                show_line("capacity:", cap);
                show_line("used:", used);
                show_line("available:", avail);
        }
        if (jstr(s, "operation")) {
                g_autofree char *op = g_strdup_printf("%s (step %s)", jstr(s, "operation"),
                                                      jstr(s, "step") ?: "-");
                show_line("operation:", op);
        }
        if (jstr(s, "error"))
                show_line("last error:", jstr(s, "error"));

        /* The pool definition client hosts get. */
        g_autofree char *pool_path = g_strdup_printf("/v1/pools/%s", name);
        g_autoptr(Reply) p = NULL;
        st = call("GET", pool_path, NULL, "Accept: application/xml", &p);
        if (st)
                return st;
        if (reply_ok(p)) {
                printf("pool xml:\n%s", p->body->str);
        } else {
                g_autoptr(json_object) err = json_tokener_parse(p->body->str);
                json_object *e = NULL;
                const char *msg = err && json_object_object_get_ex(err, "error", &e) ? jstr(e, "message") : NULL;
                g_autofree char *line = g_strdup_printf("(not available: %s)", msg ? msg : "no answer");
                show_line("pool xml:", line);
        }
        return 0;
}

static int cmd_pool_xml(const char *name) {
        int st = check_name(name);
        if (st)
                return st;
        g_autofree char *path = g_strdup_printf("/v1/pools/%s", name);
        g_autoptr(Reply) r = NULL;
        if (arg_json) {
                st = call_json("GET", path, NULL, &r);
                if (st)
                        return st;
                print_json(r->json);
                return 0;
        }
        st = call("GET", path, NULL, "Accept: application/xml", &r);
        if (st)
                return st;
        if (!reply_ok(r)) {
                r->json = json_tokener_parse(r->body->str);
                return reply_failed(r);
        }
        fwrite(r->body->str, 1, r->body->len, stdout);
        return 0;
}

static int cmd_resize(const char *name) {
        int st = check_name(name);
        if (st)
                return st;
        if (!arg_size)
                return log_exit(EXIT_INVALID, "resize needs --size SIZE (the new, larger size)");
        uint64_t size;
        st = check_size(arg_size, &size);
        if (st)
                return st;
        g_autoptr(json_object) body = json_object_new_object();
        json_object_object_add(body, "size", json_object_new_int64((int64_t) size));
        g_autofree char *path = g_strdup_printf("/v1/shares/%s/resize?wait=true", name);
        g_autoptr(Reply) r = NULL;
        st = call_json("POST", path, body, &r);
        if (st)
                return st;
        if (arg_json) {
                print_json(r->json);
                return 0;
        }
        g_autofree char *size_text = size_format(size);
        if (jbool(r->json, "offline"))
                printf("resized %s to %s (offline: the kernel refused an online resize, so the share was "
                       "unexported and unmounted meanwhile)\n",
                       name, size_text);
        else
                printf("resized %s to %s\n", name, size_text);
        return 0;
}

static int cmd_delete(const char *name) {
        int st = check_name(name);
        if (st)
                return st;
        g_autofree char *path = g_strdup_printf("/v1/shares/%s?wait=true%s", name, arg_force ? "&force=true" : "");
        g_autoptr(Reply) r = NULL;
        st = call_json("DELETE", path, NULL, &r);
        if (st)
                return st;
        if (arg_json)
                print_json(r->json);
        else
                printf("deleted %s\n", name);
        return 0;
}

static int cmd_reconcile(void) {
        g_autoptr(Reply) r = NULL;
        int st = call_json("POST", "/v1/reconcile", NULL, &r);
        if (st)
                return st;
        json_object *changes = NULL, *problems = NULL;
        json_object_object_get_ex(r->json, "changes", &changes);
        json_object_object_get_ex(r->json, "problems", &problems);
        size_t n_changes = changes ? json_object_array_length(changes) : 0;
        size_t n_problems = problems ? json_object_array_length(problems) : 0;
        if (arg_json)
                print_json(r->json);
        else {
                for (size_t i = 0; i < n_changes; i++)
                        printf("%s\n", json_object_get_string(json_object_array_get_idx(changes, i)));
                for (size_t i = 0; i < n_problems; i++)
                        printf("problem: %s\n", json_object_get_string(json_object_array_get_idx(problems, i)));
                if (n_changes == 0 && n_problems == 0)
                        printf("everything is as recorded; nothing to do\n");
        }
        if (n_problems > 0)
                return log_exit(EXIT_FAILURE, "reconcile could not fix %zu problem%s", n_problems,
                            n_problems == 1 ? "" : "s");
        return 0;
}

static int cmd_nfs_config(void) {
        g_autoptr(Reply) r = NULL;
        int st = arg_apply ? call_json("POST", "/v1/nfs-config?apply=true", NULL, &r)
                           : call_json("GET", "/v1/nfs-config", NULL, &r);
        if (st)
                return st;
        if (arg_json) {
                print_json(r->json);
                return 0;
        }
        show_line("file:", jstr(r->json, "file"));
        show_line("vers3:", jbool(r->json, "vers3") ? "yes" : "no");
        show_line("vers4:", jbool(r->json, "vers4") ? "yes" : "no");
        show_line("ok:", jbool(r->json, "ok") ? "yes" : "no");
        show_line("changed:", jbool(r->json, "changed") ? "yes" : "no");
        if (jstr(r->json, "proc_versions"))
                show_line("running:", jstr(r->json, "proc_versions"));
        if (!jbool(r->json, "ok") && !arg_apply)
                printf("NFSv3 on and NFSv4 off are not both set; 'nfsprov nfs-config --apply' sets them\n");
        return 0;
}

/* ---- main ---- */

typedef enum Opt {
        OPT_SIZE = 1 << 0,
        OPT_DISK = 1 << 1,
        OPT_CLIENTS = 1 << 2,
        OPT_FORCE = 1 << 3,
        OPT_APPLY = 1 << 4,
} Opt;

typedef struct Command {
        const char *name;
        bool takes_name;
        unsigned options;   /* Opt */
} Command;

static const Command commands[] = {
        { "create", true, OPT_SIZE | OPT_DISK | OPT_CLIENTS | OPT_FORCE },
        { "list", false, 0 },
        { "show", true, 0 },
        { "pool-xml", true, 0 },
        { "resize", true, OPT_SIZE },
        { "delete", true, OPT_FORCE },
        { "reconcile", false, 0 },
        { "nfs-config", false, OPT_APPLY },
};

static const char *opt_name(Opt o) {
        switch (o) {
        case OPT_SIZE:
                return "--size";
        case OPT_DISK:
                return "--disk";
        case OPT_CLIENTS:
                return "--clients";
        case OPT_FORCE:
                return "--force";
        case OPT_APPLY:
                return "--apply";
        }
        return "?";
}

/* The socket: --socket, else [server] socket of the configuration file, else the default. */
static int find_socket(char **ret) {
        if (arg_socket) {
                *ret = g_strdup(arg_socket);
                return 0;
        }
        const char *env = getenv(CONFIG_ENV_PATH);
        bool must_exist = arg_config || (env && *env);
        g_autoptr(Config) config = NULL;
        g_autoptr(GError) error = NULL;
        if (config_load(arg_config, must_exist, &config, &error) < 0)
                return log_exit(EXIT_FAILURE, "%s", error ? error->message : "cannot read the configuration");
        *ret = g_strdup(config->socket);
        return 0;
}

int main(int argc, char **argv) {
        log_setup("nfsprov");
        enum { ARG_APPLY = 0x100, ARG_TOKEN_FILE, ARG_CA_FILE };
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' },
                { "socket", required_argument, NULL, 's' },
                { "url", required_argument, NULL, 'u' },
                { "token-file", required_argument, NULL, ARG_TOKEN_FILE },
                { "ca-file", required_argument, NULL, ARG_CA_FILE },
                { "json", no_argument, NULL, 'j' },
                { "size", required_argument, NULL, 'S' },
                { "disk", required_argument, NULL, 'd' },
                { "clients", required_argument, NULL, 'C' },
                { "force", no_argument, NULL, 'f' },
                { "apply", no_argument, NULL, ARG_APPLY },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {},
        };
        unsigned given = 0;
        int c;

        opterr = 0;
        while ((c = getopt_long(argc, argv, ":c:s:u:jfhV", options, NULL)) >= 0)
                switch (c) {
                case 'c':
                        arg_config = optarg;
                        break;
                case 's':
                        arg_socket = optarg;
                        break;
                case 'u':
                        arg_url = optarg;
                        break;
                case ARG_TOKEN_FILE:
                        arg_token_file = optarg;
                        break;
                case ARG_CA_FILE:
                        arg_ca_file = optarg;
                        break;
                case 'j':
                        arg_json = true;
                        break;
                case 'S':
                        arg_size = optarg;
                        given |= OPT_SIZE;
                        break;
                case 'd':
                        arg_disk = optarg;
                        given |= OPT_DISK;
                        break;
                case 'C':
                        arg_clients = optarg;
                        given |= OPT_CLIENTS;
                        break;
                case 'f':
                        arg_force = true;
                        given |= OPT_FORCE;
                        break;
                case ARG_APPLY:
                        arg_apply = true;
                        given |= OPT_APPLY;
                        break;
                case 'h':
                        help();
                        return EXIT_SUCCESS;
                case 'V':
                        printf("nfsprov %s\n", PACKAGE_VERSION);
                        return EXIT_SUCCESS;
                case ':':
                        return log_exit(EXIT_INVALID, "option %s needs a value (see nfsprov --help)", argv[optind - 1]);
                default:
                        return log_exit(EXIT_INVALID, "unknown option %s (see nfsprov --help)", argv[optind - 1]);
                }

        if (optind >= argc)
                return log_exit(EXIT_INVALID, "no command given; commands: create, list, show, pool-xml, resize, delete, "
                                          "reconcile, nfs-config (see nfsprov --help)");
        const char *verb = argv[optind++];
        const Command *cmd = NULL;
        for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
                if (strcmp(commands[i].name, verb) == 0)
                        cmd = &commands[i];
        if (!cmd)
                return log_exit(EXIT_INVALID, "unknown command \"%s\"; commands: create, list, show, pool-xml, resize, "
                                          "delete, reconcile, nfs-config",
                            verb);
        for (unsigned o = 1; o <= OPT_APPLY; o <<= 1)
                if ((given & o) && !(cmd->options & o))
                        return log_exit(EXIT_INVALID, "option %s does not apply to %s", opt_name(o), cmd->name);
        const char *name = NULL;
        if (cmd->takes_name) {
                if (optind >= argc)
                        return log_exit(EXIT_INVALID, "%s needs a share NAME", cmd->name);
                name = argv[optind++];
        }
        if (optind < argc)
                return log_exit(EXIT_INVALID, "unexpected argument \"%s\" after %s%s%s", argv[optind], cmd->name,
                            name ? " " : "", name ? name : "");

        /* Check what can be checked here before anything is sent. */
        int st = 0;
        if (name)
                st = check_name(name);
        uint64_t size;
        if (!st && arg_size)
                st = check_size(arg_size, &size);
        if (st)
                return st;

        g_autofree char *sock = NULL;
        g_autofree char *token = NULL;
        if (arg_url) {
                if (arg_socket)
                        return log_exit(EXIT_INVALID, "--url and --socket exclude each other: one nfsprovd at a time");
                g_autoptr(GError) ue = NULL;
                if (server_url_check(arg_url, &ue) < 0)
                        return log_exit(EXIT_INVALID, "--url: %s", ue->message);
                if (g_str_has_suffix(arg_url, "/"))
                        arg_url = sock = g_strndup(arg_url, strlen(arg_url) - 1);
                if (arg_token_file) {
                        g_autoptr(GError) e = NULL;
                        if (token_file_read(arg_token_file, &token, &e) < 0)
                                return log_exit(EXIT_INVALID, "%s", e->message);
                        api_token = token;
                }
                where = arg_url;
        } else {
                if (arg_token_file || arg_ca_file)
                        return log_exit(EXIT_INVALID, "--token-file and --ca-file go with --url; the socket needs no token");
                st = find_socket(&sock);
                if (st)
                        return st;
                socket_path = where = sock;
        }

        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return log_exit(EXIT_FAILURE, "cannot initialize libcurl");

        if (strcmp(verb, "create") == 0)
                st = cmd_create(name);
        else if (strcmp(verb, "list") == 0)
                st = cmd_list();
        else if (strcmp(verb, "show") == 0)
                st = cmd_show(name);
        else if (strcmp(verb, "pool-xml") == 0)
                st = cmd_pool_xml(name);
        else if (strcmp(verb, "resize") == 0)
                st = cmd_resize(name);
        else if (strcmp(verb, "delete") == 0)
                st = cmd_delete(name);
        else if (strcmp(verb, "reconcile") == 0)
                st = cmd_reconcile();
        else
                st = cmd_nfs_config();

        curl_global_cleanup();
        if (fflush(stdout) != 0)
                return log_exit(EXIT_FAILURE, "cannot write the output: %s", g_strerror(errno));
        return st;
}

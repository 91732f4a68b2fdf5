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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <json-c/json.h>

#include "audit.h"
#include "cli_api.h"
#include "cli_volumes.h"
#include "guard_mode.h"
#include "json_autoptr.h"
#include "log.h"
#include "macro.h"
#include "name.h"
#include "settings.h"
#include "server_url.h"
#include "size.h"
#include "token_file.h"

static void help(void) {
        printf("Usage: nfsprov [--config FILE] [--socket PATH] [--json] COMMAND ...\n"
               "\n"
               "Manage the shares of nfsprovd (one disk per NFS share, mounted and exported) and the\n"
               "qcow2 volumes in them.\n"
               "\n"
               "Share commands:\n"
               "  create NAME [--size SIZE] [--disk DEV] [--clients \"SPEC ...\"] [--force] [--guard MODE]\n"
               "                          create a share (image backend: --size; disk backend: --disk\n"
               "                          or the first blank disk of the inventory)\n"
               "  list                    list the shares\n"
               "  show NAME               show a share and its libvirt pool definition\n"
               "  pool-xml NAME           print the libvirt pool XML of a share\n"
               "  resize NAME --size SIZE grow a share\n"
               "  delete NAME [--force]   delete a share (--force: even when it holds files or volumes)\n"
               "  guard NAME MODE         the guard of a share: enforce (nothing but nfsprov's volumes can\n"
               "                          be made at its root), detect (reported only) or off\n"
               "  reconcile               make the shares match the recorded state now\n"
               "  audit [NAME]            audit the shares (or one) now: what lives there that nfsprov did\n"
               "                          not make, and volumes changed or missing (exit 1 when any)\n"
               "  audit --adopt NAME PATH a foreign qcow2 at the root becomes a volume (checked as an upload)\n"
               "  audit --remove NAME PATH\n"
               "                          delete a foreign entry (a directory with all it holds)\n"
               "  audit --quarantine NAME PATH\n"
               "                          move a foreign file or symbolic link out of the share into\n"
               "                          STATE_DIR/quarantine/NAME/ (kept, listed, restorable)\n"
               "  audit --quarantined [NAME]\n"
               "                          list the quarantined items\n"
               "  audit --restore NAME ITEM\n"
               "                          put a quarantined item back where it was (foreign again)\n"
               "  nfs-config [--apply]    check (or set) NFSv3 on, NFSv4 off in the NFS server config\n"
               "\n"
               "Volume commands (thin qcow2 files at the root of a share):\n"
               "  vol-create SHARE VOL --capacity SIZE [--backing VOL]\n"
               "  vol-list SHARE          name, status, capacity, allocation, format, backing\n"
               "  vol-info SHARE VOL\n"
               "  vol-clone SHARE SRC NEW [--linked]\n"
               "                          a full thin copy, or (--linked) a new volume backed by SRC\n"
               "  vol-resize SHARE VOL --capacity SIZE [--shrink]\n"
               "  vol-delete SHARE VOL\n"
               "  vol-upload SHARE VOL FILE [--limit-rate RATE]\n"
               "                          a new volume from a local qcow2 file (streamed)\n"
               "  vol-download SHARE VOL FILE [--limit-rate RATE]\n"
               "                          the volume into FILE (continues an interrupted download)\n"
               "  vol-wipe SHARE VOL      erase the data: an empty qcow2 of the same capacity\n"
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
               "RATE: bytes a second, written as a SIZE (e.g. 50M).\n"
               "Exit status: 0 done, 2 invalid input (nothing changed), 1 failure.\n",
               CONFIG_DEFAULT_PATH);
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

/* ---- commands ---- */

static int cmd_create(const CliArgs *a, char *const *args) {
        const char *name = args[0];
        int st;
        json_object *body = json_object_new_object();
        json_object_object_add(body, "name", json_object_new_string(name));
        if (a->size) {
                uint64_t size;
                st = cli_parse_size(NULL, a->size, &size);
                if (st) {
                        json_object_put(body);
                        return st;
                }
                json_object_object_add(body, "size", json_object_new_int64((int64_t) size));
        }
        if (a->disk) {
                if (!*a->disk) {
                        json_object_put(body);
                        return log_exit(CLI_EXIT_INVALID, "--disk is empty; give a device path like /dev/sdb");
                }
                json_object_object_add(body, "disk", json_object_new_string(a->disk));
        }
        if (a->clients) {
                g_auto(GStrv) specs = g_strsplit_set(a->clients, " \t\n", -1);
                json_object *arr = json_object_new_array();
                for (char **s = specs; *s; s++)
                        if (**s)
                                json_object_array_add(arr, json_object_new_string(*s));
                if (json_object_array_length(arr) == 0) {
                        json_object_put(arr);
                        json_object_put(body);
                        return log_exit(CLI_EXIT_INVALID,
                                    "--clients is empty; give exports(5) client specifications like \"192.168.1.0/24\"");
                }
                json_object_object_add(body, "clients", arr);
        }
        if (a->force)
                json_object_object_add(body, "force", json_object_new_boolean(true));
        if (a->guard)
                json_object_object_add(body, "guard", json_object_new_string(a->guard));

        g_autoptr(Reply) r = NULL;
        st = cli_call_json("POST", "/v1/shares?wait=true", body, &r);
        json_object_put(body);
        if (st)
                return st;
        if (a->json) {
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

/* The guard of a share as list (brief) and show print it: its mode, and what runs when that
 * differs (enforce where the immutable attribute cannot be set runs as detect). */
static char *guard_text(json_object *s, bool brief) {
        json_object *g = NULL;
        if (!json_object_object_get_ex(s, "guard", &g) || !jstr(g, "mode"))
                return g_strdup("-");
        const char *mode = jstr(g, "mode"), *active = jstr(g, "active") ?: mode;
        if (strcmp(mode, active) != 0)
                return brief ? g_strdup_printf("%s(%s)", mode, active)
                             : g_strdup_printf("%s, running as %s: %s", mode, active, jstr(g, "note") ?: "?");
        if (brief || strcmp(mode, "enforce") != 0)
                return g_strdup(mode);
        return g_strdup_printf("%s (root immutable: %s)", mode, jbool(g, "protected") ? "yes" : "no");
}

static int cmd_list(const CliArgs *a, char *const *args) {
        (void) args;
        g_autoptr(Reply) r = NULL;
        json_object *shares;
        int st = cli_call_list("GET", "/v1/shares", "shares", &r, &shares);
        if (st)
                return st;
        if (a->json) {
                print_json(r->json);
                return 0;
        }

        static const char *const titles[] = { "NAME",        "STATE",      "SIZE",    "USED",  "AVAIL",  "PROVISIONED",
                                              "OVERCOMMIT", "VOLUMES", "GUARD", "EXPORT", "CLIENTS" };
        g_autoptr(GPtrArray) cells = g_ptr_array_new_with_free_func(g_free);
        for (size_t i = 0; i < json_object_array_length(shares); i++) {
                json_object *s = json_object_array_get_idx(shares, i);
                int64_t n_volumes = -1;
                json_object *oc = NULL;
                jint(s, "volume_count", &n_volumes);
                json_object_object_get_ex(s, "overcommit", &oc);
                g_ptr_array_add(cells, g_strdup(jstr(s, "name") ?: "?"));
                g_ptr_array_add(cells, g_strdup(jstr(s, "status") ?: "?"));
                g_ptr_array_add(cells, format_bytes(s, "size"));
                g_ptr_array_add(cells, format_bytes(s, "used"));
                g_ptr_array_add(cells, format_bytes(s, "available"));
                g_ptr_array_add(cells, format_bytes(s, "provisioned"));
                g_ptr_array_add(cells, oc ? g_strdup_printf("%.2f", json_object_get_double(oc)) : g_strdup("-"));
                g_ptr_array_add(cells, n_volumes >= 0 ? g_strdup_printf("%" PRId64, n_volumes) : g_strdup("-"));
                g_ptr_array_add(cells, guard_text(s, true));
                /* a ready share the NFS server does not serve now says so */
                bool unserved = g_strcmp0(jstr(s, "status"), "ready") == 0 && !jbool(s, "served");
                g_ptr_array_add(cells, g_strdup_printf("%s%s", jstr(s, "export_path") ?: "-", unserved ? " (not served)" : ""));
                g_ptr_array_add(cells, clients_text(s, ","));
        }
        print_columns(titles, G_N_ELEMENTS(titles), cells);
        return 0;
}

static void show_line(const char *key, const char *value) {
        printf("%-13s %s\n", key, value ? value : "-");
}

static int cmd_show(const CliArgs *a, char *const *args) {
        const char *name = args[0];
        int st;
        g_autofree char *path = g_strdup_printf("/v1/shares/%s", name);
        g_autoptr(Reply) r = NULL;
        st = cli_call_json("GET", path, NULL, &r);
        if (st)
                return st;
        if (a->json) {
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
        show_line("served:", jbool(s, "served") ? "yes" : "no");
        g_autofree char *guard = guard_text(s, false);
        show_line("guard:", guard);
        int64_t dummy;
        if (jint(s, "capacity", &dummy)) {
                g_autofree char *cap = format_bytes(s, "capacity");
                g_autofree char *used = format_bytes(s, "used");
                g_autofree char *avail = format_bytes(s, "available");
                show_line("capacity:", cap);
                show_line("used:", used);
                show_line("available:", avail);
        }
        int64_t n_volumes;
        if (jint(s, "volume_count", &n_volumes)) {
                g_autofree char *prov = format_bytes(s, "provisioned");
                json_object *oc = NULL;
                json_object_object_get_ex(s, "overcommit", &oc);
                g_autofree char *line = oc ? g_strdup_printf("%s in %" PRId64 " volume%s (over-commit %.2f)", prov,
                                                             n_volumes, n_volumes == 1 ? "" : "s",
                                                             json_object_get_double(oc))
                                           : g_strdup_printf("%s in %" PRId64 " volume%s", prov, n_volumes,
                                                             n_volumes == 1 ? "" : "s");
                show_line("provisioned:", line);
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
        st = cli_call("GET", pool_path, NULL, "Accept: application/xml", &p);
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

static int cmd_pool_xml(const CliArgs *a, char *const *args) {
        const char *name = args[0];
        int st;
        g_autofree char *path = g_strdup_printf("/v1/pools/%s", name);
        g_autoptr(Reply) r = NULL;
        if (a->json) {
                st = cli_call_json("GET", path, NULL, &r);
                if (st)
                        return st;
                print_json(r->json);
                return 0;
        }
        st = cli_call("GET", path, NULL, "Accept: application/xml", &r);
        if (st)
                return st;
        if (!reply_ok(r)) {
                r->json = json_tokener_parse(r->body->str);
                return reply_failed(r);
        }
        fwrite(r->body->str, 1, r->body->len, stdout);
        return 0;
}

static int cmd_guard(const CliArgs *a, char *const *args) {
        const char *name = args[0], *mode = args[1];
        json_object *body = json_object_new_object();
        json_object_object_add(body, "mode", json_object_new_string(mode));
        g_autofree char *path = g_strdup_printf("/v1/shares/%s/guard?wait=true", name);
        g_autoptr(Reply) r = NULL;
        int st = cli_call_json("POST", path, body, &r);
        json_object_put(body);
        if (st)
                return st;
        if (a->json) {
                print_json(r->json);
                return 0;
        }
        g_autofree char *guard = guard_text(r->json, false);
        printf("guard of %s: %s\n", name, guard);
        return 0;
}

static char *format_time(int64_t t) {
        g_autoptr(GDateTime) d = g_date_time_new_from_unix_utc(t);
        return d ? g_date_time_format(d, "%Y-%m-%dT%H:%M:%SZ") : g_strdup("-");
}

/* One row per finding: SHARE PATH KIND FINDING SINCE SIZE OWNER, and what was not read. */
/* audit --adopt / --remove / --quarantine SHARE PATH, --restore SHARE ITEM */
static int audit_resolve(const CliArgs *a, const char *share, const char *what) {
        const char *verb = a->adopt ? "adopt" : a->remove ? "remove" : a->quarantine ? "quarantine" : "restore";
        json_object *body = json_object_new_object();
        json_object_object_add(body, a->restore ? "name" : "path", json_object_new_string(what));
        g_autofree char *path = g_strdup_printf("/v1/shares/%s/audit/%s?wait=true", share, verb);
        g_autoptr(Reply) r = NULL;
        int st = cli_call_json("POST", path, body, &r);
        json_object_put(body);
        if (st)
                return st;
        if (a->json)
                print_json(r->json);
        else if (a->adopt)
                printf("adopted %s/%s as a volume\n", share, what);
        else if (a->remove)
                printf("removed %s/%s\n", share, what);
        else if (a->quarantine)
                printf("quarantined %s/%s as %s (%s)\n", share, what, jstr(r->json, "name") ?: "?",
                       jstr(r->json, "file") ?: "?");
        else
                printf("restored %s/%s from the quarantine (%s)\n", share, jstr(r->json, "path") ?: "?", what);
        return 0;
}

/* audit --quarantined [SHARE]: one row per item. */
static int audit_quarantined(const CliArgs *a, const char *share) {
        g_autofree char *path = share ? g_strdup_printf("/v1/quarantine?share=%s", share) : g_strdup("/v1/quarantine");
        g_autoptr(Reply) r = NULL;
        json_object *list;
        int st = cli_call_list("GET", path, "quarantined", &r, &list);
        if (st)
                return st;
        if (a->json) {
                print_json(r->json);
                return 0;
        }
        static const char *const titles[] = { "SHARE", "NAME", "PATH", "KIND", "SIZE", "OWNER", "MODE", "QUARANTINED",
                                              "STATUS" };
        g_autoptr(GPtrArray) cells = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GPtrArray) notes = g_ptr_array_new_with_free_func(g_free);
        for (size_t i = 0; i < json_object_array_length(list); i++) {
                json_object *q = json_object_array_get_idx(list, i);
                int64_t size = 0, uid = 0, gid = 0, at = 0;
                jint(q, "size", &size);
                jint(q, "uid", &uid);
                jint(q, "gid", &gid);
                jint(q, "quarantined_at", &at);
                g_ptr_array_add(cells, g_strdup(jstr(q, "share") ?: "?"));
                g_ptr_array_add(cells, g_strdup(jstr(q, "name") ?: "?"));
                g_ptr_array_add(cells, g_strdup(jstr(q, "path") ?: "?"));
                g_ptr_array_add(cells, g_strdup(jstr(q, "kind") ?: "?"));
                g_ptr_array_add(cells, size_format((uint64_t) size));
                g_ptr_array_add(cells, g_strdup_printf("%" PRId64 ":%" PRId64, uid, gid));
                g_ptr_array_add(cells, g_strdup(jstr(q, "mode") ?: "?"));
                g_ptr_array_add(cells, format_time(at));
                g_ptr_array_add(cells, g_strdup(jstr(q, "status") ?: "?"));
                if (jstr(q, "error"))
                        g_ptr_array_add(notes, g_strdup_printf("%s/%s: %s", jstr(q, "share") ?: "?",
                                                               jstr(q, "name") ?: "?", jstr(q, "error")));
        }
        if (cells->len)
                print_columns(titles, G_N_ELEMENTS(titles), cells);
        else
                printf("quarantine: nothing quarantined%s%s\n", share ? " from " : "", share ? share : "");
        for (guint i = 0; i < notes->len; i++)
                printf("%s\n", (const char *) g_ptr_array_index(notes, i));
        return 0;
}

static int cmd_audit(const CliArgs *a, char *const *args) {
        const char *name = args[0];
        if (a->adopt + a->remove + a->quarantine + a->restore + a->quarantined > 1)
                return log_exit(CLI_EXIT_INVALID,
                                "audit takes one of --adopt, --remove, --quarantine, --restore, --quarantined");
        if (a->restore) {
                if (!name || !args[1] || strchr(args[1], '/'))
                        return log_exit(CLI_EXIT_INVALID, "audit --restore needs SHARE NAME (an item's name as nfsprov "
                                                          "audit --quarantined lists it)");
                return audit_resolve(a, name, args[1]);
        }
        if (a->adopt || a->remove || a->quarantine) {
                if (!name || !args[1])
                        return log_exit(CLI_EXIT_INVALID, "audit %s needs SHARE PATH (a path as nfsprov audit shows it)",
                                        a->adopt ? "--adopt" : a->remove ? "--remove" : "--quarantine");
                return audit_resolve(a, name, args[1]);
        }
        if (name && args[1])
                return log_exit(CLI_EXIT_INVALID, "audit takes [NAME]; a PATH only with --adopt, --remove, "
                                                  "--quarantine or --restore");
        if (a->quarantined)
                return audit_quarantined(a, name);
        g_autofree char *path = name ? g_strdup_printf("/v1/audit?share=%s", name) : g_strdup("/v1/audit");
        g_autoptr(Reply) r = NULL;
        json_object *audits;
        int st = cli_call_list("POST", path, "audits", &r, &audits);
        if (st)
                return st;
        unsigned found = 0;
        static const char *const titles[] = { "SHARE", "PATH", "KIND", "FINDING", "SINCE", "SIZE", "OWNER", "DETAIL" };
        g_autoptr(GPtrArray) cells = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GPtrArray) notes = g_ptr_array_new_with_free_func(g_free);
        for (size_t i = 0; i < json_object_array_length(audits); i++) {
                json_object *au = json_object_array_get_idx(audits, i), *list = NULL, *counts = NULL;
                const char *share = jstr(au, "share") ?: "?";
                json_object_object_get_ex(au, "counts", &counts);
                for (AuditFinding f = 0; f < _AUDIT_FINDING_MAX; f++) {
                        int64_t n = 0;
                        jint(counts, audit_finding_to_string(f), &n);
                        found += (unsigned) n;
                }
                if (!jbool(au, "audited"))
                        g_ptr_array_add(notes, g_strdup_printf("%s: not audited (guard off, or not ready)", share));
                if (jstr(au, "error"))
                        g_ptr_array_add(notes, g_strdup_printf("%s: the audit failed: %s", share, jstr(au, "error")));
                int64_t omitted = 0;
                if (jint(au, "omitted", &omitted) && omitted > 0)
                        g_ptr_array_add(notes, g_strdup_printf("%s: %" PRId64 " more foreign entries not listed", share,
                                                               omitted));
                if (!json_object_object_get_ex(au, "findings", &list))
                        continue;
                for (size_t k = 0; k < json_object_array_length(list); k++) {
                        json_object *f = json_object_array_get_idx(list, k);
                        int64_t since = 0, size = 0, uid = 0, gid = 0;
                        jint(f, "since", &since);
                        jint(f, "size", &size);
                        jint(f, "uid", &uid);
                        jint(f, "gid", &gid);
                        g_ptr_array_add(cells, g_strdup(share));
                        g_ptr_array_add(cells, g_strdup(jstr(f, "path") ?: "?"));
                        g_ptr_array_add(cells, g_strdup(jstr(f, "kind") ?: "?"));
                        g_ptr_array_add(cells, g_strdup(jstr(f, "finding") ?: "?"));
                        g_ptr_array_add(cells, format_time(since));
                        g_ptr_array_add(cells, size_format((uint64_t) size));
                        g_ptr_array_add(cells, g_strdup_printf("%" PRId64 ":%" PRId64, uid, gid));
                        g_ptr_array_add(cells, g_strdup(jstr(f, "detail") ?: ""));
                }
        }
        if (a->json)
                print_json(r->json);
        else {
                if (cells->len)
                        print_columns(titles, G_N_ELEMENTS(titles), cells);
                else if (!notes->len)
                        printf("audit: nothing but nfsprov's volumes in %s\n", name ? name : "any share");
                for (guint i = 0; i < notes->len; i++)
                        printf("%s\n", (const char *) g_ptr_array_index(notes, i));
        }
        return found ? EXIT_FAILURE : 0;
}

static int cmd_resize(const CliArgs *a, char *const *args) {
        const char *name = args[0];
        int st;
        if (!a->size)
                return log_exit(CLI_EXIT_INVALID, "resize needs --size SIZE (the new, larger size)");
        uint64_t size;
        st = cli_parse_size(NULL, a->size, &size);
        if (st)
                return st;
        g_autoptr(json_object) body = json_object_new_object();
        json_object_object_add(body, "size", json_object_new_int64((int64_t) size));
        g_autofree char *path = g_strdup_printf("/v1/shares/%s/resize?wait=true", name);
        g_autoptr(Reply) r = NULL;
        st = cli_call_json("POST", path, body, &r);
        if (st)
                return st;
        if (a->json) {
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

static int cmd_delete(const CliArgs *a, char *const *args) {
        const char *name = args[0];
        int st;
        g_autofree char *path = g_strdup_printf("/v1/shares/%s?wait=true%s", name, a->force ? "&force=true" : "");
        g_autoptr(Reply) r = NULL;
        st = cli_call_json("DELETE", path, NULL, &r);
        if (st)
                return st;
        if (a->json)
                print_json(r->json);
        else
                printf("deleted %s\n", name);
        return 0;
}

static int cmd_reconcile(const CliArgs *a, char *const *args) {
        (void) args;
        g_autoptr(Reply) r = NULL;
        int st = cli_call_json("POST", "/v1/reconcile", NULL, &r);
        if (st)
                return st;
        json_object *changes = NULL, *problems = NULL;
        json_object_object_get_ex(r->json, "changes", &changes);
        json_object_object_get_ex(r->json, "problems", &problems);
        size_t n_changes = changes ? json_object_array_length(changes) : 0;
        size_t n_problems = problems ? json_object_array_length(problems) : 0;
        if (a->json)
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

static int cmd_nfs_config(const CliArgs *a, char *const *args) {
        (void) args;
        g_autoptr(Reply) r = NULL;
        int st = a->apply ? cli_call_json("POST", "/v1/nfs-config?apply=true", NULL, &r)
                           : cli_call_json("GET", "/v1/nfs-config", NULL, &r);
        if (st)
                return st;
        if (a->json) {
                print_json(r->json);
                return 0;
        }
        show_line("server:", jstr(r->json, "server"));
        show_line("file:", jstr(r->json, "file"));
        show_line("vers3:", jbool(r->json, "vers3") ? "yes" : "no");
        show_line("vers4:", jbool(r->json, "vers4") ? "yes" : "no");
        show_line("ok:", jbool(r->json, "ok") ? "yes" : "no");
        show_line("changed:", jbool(r->json, "changed") ? "yes" : "no");
        if (jstr(r->json, "proc_versions"))
                show_line("running:", jstr(r->json, "proc_versions"));
        if (jstr(r->json, "problem"))
                show_line("problem:", jstr(r->json, "problem"));
        if (!jbool(r->json, "ok") && !a->apply)
                printf("%s; 'nfsprov nfs-config --apply' sets them\n",
                       g_strcmp0(jstr(r->json, "server"), "ganesha") == 0
                               ? "NFSv3 and the %include of nfsprovd's file are not both set"
                               : "NFSv3 on and NFSv4 off are not both set");
        return 0;
}

/* ---- main ---- */

typedef enum Opt {
        OPT_SIZE = 1 << 0,
        OPT_DISK = 1 << 1,
        OPT_CLIENTS = 1 << 2,
        OPT_FORCE = 1 << 3,
        OPT_APPLY = 1 << 4,
        OPT_CAPACITY = 1 << 5,
        OPT_BACKING = 1 << 6,
        OPT_LINKED = 1 << 7,
        OPT_SHRINK = 1 << 8,
        OPT_LIMIT_RATE = 1 << 9,
        OPT_GUARD = 1 << 10,
        OPT_ADOPT = 1 << 11,
        OPT_REMOVE = 1 << 12,
        OPT_QUARANTINE = 1 << 13,
        OPT_RESTORE = 1 << 14,
        OPT_QUARANTINED = 1 << 15,
        _OPT_LAST = OPT_QUARANTINED,
} Opt;

static const char *const opt_names[] = {
        "--size", "--disk", "--clients", "--force", "--apply", "--capacity", "--backing", "--linked", "--shrink", "--limit-rate",
        "--guard", "--adopt", "--remove", "--quarantine", "--restore", "--quarantined",
};

/* The positional arguments a command takes, in order: each is checked before anything is
 * sent. */
typedef enum ArgKind {
        ARG_END = 0,
        ARG_SHARE,   /* a share name */
        ARG_VOLUME,  /* a volume name */
        ARG_FILE,    /* a local file */
        ARG_GUARD,   /* a guard mode */
        ARG_OPT_SHARE, /* a share name, optional (args[i] NULL when not given) */
        ARG_OPT_PATH,  /* a path in a share, optional */
} ArgKind;

typedef struct Command {
        const char *name;
        ArgKind args[4];
        const char *usage;   /* the positional arguments, for messages */
        unsigned options;    /* Opt */
        int (*run)(const CliArgs *a, char *const *args);
} Command;

static const Command commands[] = {
        { "create", { ARG_SHARE }, "NAME", OPT_SIZE | OPT_DISK | OPT_CLIENTS | OPT_FORCE | OPT_GUARD, cmd_create },
        { "list", {}, "", 0, cmd_list },
        { "show", { ARG_SHARE }, "NAME", 0, cmd_show },
        { "pool-xml", { ARG_SHARE }, "NAME", 0, cmd_pool_xml },
        { "resize", { ARG_SHARE }, "NAME", OPT_SIZE, cmd_resize },
        { "delete", { ARG_SHARE }, "NAME", OPT_FORCE, cmd_delete },
        { "guard", { ARG_SHARE, ARG_GUARD }, "NAME MODE", 0, cmd_guard },
        { "audit", { ARG_OPT_SHARE, ARG_OPT_PATH },
          "[NAME] | --adopt|--remove|--quarantine NAME PATH | --quarantined [NAME] | --restore NAME ITEM",
          OPT_ADOPT | OPT_REMOVE | OPT_QUARANTINE | OPT_RESTORE | OPT_QUARANTINED, cmd_audit },
        { "reconcile", {}, "", 0, cmd_reconcile },
        { "nfs-config", {}, "", OPT_APPLY, cmd_nfs_config },
        { "vol-create", { ARG_SHARE, ARG_VOLUME }, "SHARE VOL", OPT_CAPACITY | OPT_BACKING, cli_vol_create },
        { "vol-list", { ARG_SHARE }, "SHARE", 0, cli_vol_list },
        { "vol-info", { ARG_SHARE, ARG_VOLUME }, "SHARE VOL", 0, cli_vol_info },
        { "vol-clone", { ARG_SHARE, ARG_VOLUME, ARG_VOLUME }, "SHARE SRC NEW", OPT_LINKED, cli_vol_clone },
        { "vol-resize", { ARG_SHARE, ARG_VOLUME }, "SHARE VOL", OPT_CAPACITY | OPT_SHRINK, cli_vol_resize },
        { "vol-delete", { ARG_SHARE, ARG_VOLUME }, "SHARE VOL", 0, cli_vol_delete },
        { "vol-upload", { ARG_SHARE, ARG_VOLUME, ARG_FILE }, "SHARE VOL FILE", OPT_LIMIT_RATE, cli_vol_upload },
        { "vol-download", { ARG_SHARE, ARG_VOLUME, ARG_FILE }, "SHARE VOL FILE", OPT_LIMIT_RATE, cli_vol_download },
        { "vol-wipe", { ARG_SHARE, ARG_VOLUME }, "SHARE VOL", 0, cli_vol_wipe },
};

static char *command_names(void) {
        g_autoptr(GString) s = g_string_new(NULL);
        for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
                g_string_append_printf(s, "%s%s", i ? ", " : "", commands[i].name);
        return g_string_free(TAKE_PTR(s), false);
}

static int check_arg(ArgKind kind, const char *value) {
        g_autoptr(GError) error = NULL;
        int r = 0;
        switch (kind) {
        case ARG_SHARE:
        case ARG_OPT_SHARE:
                r = name_validate_share(value, &error);
                break;
        case ARG_VOLUME:
                r = name_validate_volume(value, &error);
                break;
        case ARG_FILE:
                if (!*value)
                        return log_exit(CLI_EXIT_INVALID, "the FILE argument is empty; give a local file path");
                break;
        case ARG_OPT_PATH:
                if (!*value)
                        return log_exit(CLI_EXIT_INVALID, "the PATH argument is empty; give a path as nfsprov audit shows it");
                break;
        case ARG_GUARD: {
                GuardMode m;
                r = guard_mode_parse(value, &m, &error);
                break;
        }
        case ARG_END:
                break;
        }
        if (r < 0)
                return log_exit(CLI_EXIT_INVALID, "%s", error->message);
        return 0;
}

/* The socket: --socket, else [server] socket of the configuration file, else the default. */
static int find_socket(const char *config_path, const char *socket_path, char **ret) {
        if (socket_path) {
                *ret = g_strdup(socket_path);
                return 0;
        }
        const char *env = getenv(CONFIG_ENV_PATH);
        bool must_exist = config_path || (env && *env);
        g_autoptr(Config) config = NULL;
        g_autoptr(GError) error = NULL;
        if (config_load(config_path, must_exist, &config, &error) < 0)
                return log_exit(EXIT_FAILURE, "%s", error ? error->message : "cannot read the configuration");
        *ret = g_strdup(config->socket);
        return 0;
}

int main(int argc, char **argv) {
        log_setup("nfsprov");
        enum { ARG_APPLY = 0x100, ARG_TOKEN_FILE, ARG_CA_FILE, ARG_CAPACITY, ARG_BACKING, ARG_LINKED, ARG_SHRINK, ARG_LIMIT_RATE, ARG_GUARD_MODE,
               ARG_ADOPT, ARG_REMOVE, ARG_QUARANTINE, ARG_RESTORE, ARG_QUARANTINED };
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
                { "capacity", required_argument, NULL, ARG_CAPACITY },
                { "backing", required_argument, NULL, ARG_BACKING },
                { "linked", no_argument, NULL, ARG_LINKED },
                { "shrink", no_argument, NULL, ARG_SHRINK },
                { "limit-rate", required_argument, NULL, ARG_LIMIT_RATE },
                { "guard", required_argument, NULL, ARG_GUARD_MODE },
                { "adopt", no_argument, NULL, ARG_ADOPT },
                { "remove", no_argument, NULL, ARG_REMOVE },
                { "quarantine", no_argument, NULL, ARG_QUARANTINE },
                { "restore", no_argument, NULL, ARG_RESTORE },
                { "quarantined", no_argument, NULL, ARG_QUARANTINED },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {},
        };
        const char *arg_config = NULL, *arg_socket = NULL, *arg_url = NULL, *arg_token_file = NULL,
                   *arg_ca_file = NULL;
        CliArgs a = { 0 };
        const char *limit_rate = NULL;
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
                        a.json = true;
                        break;
                case 'S':
                        a.size = optarg;
                        given |= OPT_SIZE;
                        break;
                case 'd':
                        a.disk = optarg;
                        given |= OPT_DISK;
                        break;
                case 'C':
                        a.clients = optarg;
                        given |= OPT_CLIENTS;
                        break;
                case 'f':
                        a.force = true;
                        given |= OPT_FORCE;
                        break;
                case ARG_APPLY:
                        a.apply = true;
                        given |= OPT_APPLY;
                        break;
                case ARG_CAPACITY:
                        a.capacity = optarg;
                        given |= OPT_CAPACITY;
                        break;
                case ARG_BACKING:
                        a.backing = optarg;
                        given |= OPT_BACKING;
                        break;
                case ARG_LINKED:
                        a.linked = true;
                        given |= OPT_LINKED;
                        break;
                case ARG_SHRINK:
                        a.shrink = true;
                        given |= OPT_SHRINK;
                        break;
                case ARG_LIMIT_RATE:
                        limit_rate = optarg;
                        given |= OPT_LIMIT_RATE;
                        break;
                case ARG_GUARD_MODE:
                        a.guard = optarg;
                        given |= OPT_GUARD;
                        break;
                case ARG_ADOPT:
                        a.adopt = true;
                        given |= OPT_ADOPT;
                        break;
                case ARG_REMOVE:
                        a.remove = true;
                        given |= OPT_REMOVE;
                        break;
                case ARG_QUARANTINE:
                        a.quarantine = true;
                        given |= OPT_QUARANTINE;
                        break;
                case ARG_RESTORE:
                        a.restore = true;
                        given |= OPT_RESTORE;
                        break;
                case ARG_QUARANTINED:
                        a.quarantined = true;
                        given |= OPT_QUARANTINED;
                        break;
                case 'h':
                        help();
                        return EXIT_SUCCESS;
                case 'V':
                        printf("nfsprov %s\n", PACKAGE_VERSION);
                        return EXIT_SUCCESS;
                case ':':
                        return log_exit(CLI_EXIT_INVALID, "option %s needs a value (see nfsprov --help)", argv[optind - 1]);
                default:
                        return log_exit(CLI_EXIT_INVALID, "unknown option %s (see nfsprov --help)", argv[optind - 1]);
                }

        g_autofree char *names = command_names();
        if (optind >= argc)
                return log_exit(CLI_EXIT_INVALID, "no command given; commands: %s (see nfsprov --help)", names);
        const char *verb = argv[optind++];
        const Command *cmd = NULL;
        for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
                if (strcmp(commands[i].name, verb) == 0)
                        cmd = &commands[i];
        if (!cmd)
                return log_exit(CLI_EXIT_INVALID, "unknown command \"%s\"; commands: %s", verb, names);
        for (unsigned o = 0; (1u << o) <= _OPT_LAST; o++)
                if ((given & (1u << o)) && !(cmd->options & (1u << o)))
                        return log_exit(CLI_EXIT_INVALID, "option %s does not apply to %s", opt_names[o], cmd->name);

        /* Check what can be checked here before anything is sent. */
        char *const *args = argv + optind;
        size_t n_args = 0, n_required = 0, n_given = (size_t) (argc - optind);
        while (cmd->args[n_args] != ARG_END)
                if (cmd->args[n_args] != ARG_OPT_SHARE && cmd->args[n_args] != ARG_OPT_PATH)
                        n_required = ++n_args;
                else
                        n_args++;
        if (n_given < n_required)
                return log_exit(CLI_EXIT_INVALID, "%s needs %s (see nfsprov --help)", cmd->name, cmd->usage);
        if (n_given > n_args) {
                return log_exit(CLI_EXIT_INVALID, "unexpected argument \"%s\" after %s (it takes %s)", args[n_args],
                                cmd->name, n_args ? cmd->usage : "no arguments");
        }
        int st = 0;
        for (size_t i = 0; i < n_given && !st; i++)
                st = check_arg(cmd->args[i], args[i]);
        uint64_t size;
        if (!st && a.size)
                st = cli_parse_size(NULL, a.size, &size);
        if (!st && a.capacity)
                st = cli_parse_size("--capacity", a.capacity, &size);
        if (!st && limit_rate)
                st = cli_parse_size("--limit-rate", limit_rate, &a.limit_rate);
        if (!st && a.backing)
                st = check_arg(ARG_VOLUME, a.backing);
        if (!st && a.guard)
                st = check_arg(ARG_GUARD, a.guard);
        if (st)
                return st;

        g_autofree char *sock = NULL;
        g_autofree char *token = NULL;
        CliTarget target = { 0 };
        if (arg_url) {
                if (arg_socket)
                        return log_exit(CLI_EXIT_INVALID, "--url and --socket exclude each other: one nfsprovd at a time");
                g_autoptr(GError) ue = NULL;
                if (server_url_check(arg_url, &ue) < 0)
                        return log_exit(CLI_EXIT_INVALID, "--url: %s", ue->message);
                if (g_str_has_suffix(arg_url, "/"))
                        arg_url = sock = g_strndup(arg_url, strlen(arg_url) - 1);
                if (arg_token_file) {
                        g_autoptr(GError) e = NULL;
                        if (token_file_read(arg_token_file, &token, &e) < 0)
                                return log_exit(CLI_EXIT_INVALID, "%s", e->message);
                }
                target = (CliTarget) { .url = arg_url, .token = token, .ca_file = arg_ca_file };
        } else {
                if (arg_token_file || arg_ca_file)
                        return log_exit(CLI_EXIT_INVALID, "--token-file and --ca-file go with --url; the socket needs no token");
                st = find_socket(arg_config, arg_socket, &sock);
                if (st)
                        return st;
                target = (CliTarget) { .socket_path = sock };
        }

        cli_target_set(&target);
        st = cmd->run(&a, args);
        if (fflush(stdout) != 0)
                return log_exit(EXIT_FAILURE, "cannot write the output: %s", g_strerror(errno));
        return st;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * api-load-tool: N concurrent clients polling GET /v1/pools of a running nfsprovd, each checking
 * every response, for a bounded time and a bounded number of requests (tests/integration/api-load.sh).
 *
 *   api-load-tool (--unix SOCKET | --url http://ADDR:PORT) --plan FILE [--clients 100]
 *                 [--seconds 20] [--max-requests 200000] [--host ADDR] [--base DIR]
 *                 [--target-base DIR] [--uuids FILE]
 *
 * The plan is the list of operations the test performs, in order, one a line: "create NAME" or
 * "delete NAME", every name created at most once. From it the tool knows every set of pools
 * that exists at some point: S0 = {}, then the set after each operation. A response is correct
 * when it is HTTP 200, valid JSON {"pools":[...]} where:
 *   - every pool has all the keys (name, uuid, host, source_path, target_path, format,
 *     protocol_version, mode, capacity, allocation, available, xml) with the right types and the
 *     fixed values (format "nfs", protocol_version 3, mode "0700"; host, source_path BASE/NAME,
 *     target_path TARGET_BASE/NAME when given), allocation and available <= capacity > 0, and an
 *     xml that names the same pool and uuid;
 *   - a name keeps the same uuid in every response of every client (no half-made pool);
 *   - the set of names is exactly one of the sets of the plan (so the count is one that existed),
 *     and no client ever sees an older set after a newer one.
 * Connections are kept alive (each client reuses its own). It prints the numbers (requests,
 * failures, latency p50/p99/max, requests/s, sets seen) and exits 0 only with at least one
 * request and no failed or inconsistent response. --uuids writes "NAME UUID" for every name
 * seen, for the test to compare with what nfsprov reports.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <glib.h>
#include <json-c/json.h>

#define MAX_REPORTED 10

typedef struct Client {
        CURL *easy;
        GString *body;
        int64_t started_ns;
        int last_state;        /* index of the newest set this client saw; -1: none yet */
        unsigned id;
} Client;

typedef struct Load {
        const char *unix_path;
        const char *url;
        const char *host;
        const char *base;
        const char *target_base;
        GHashTable *states;    /* "name\nname\n..." (sorted) -> index + 1 */
        unsigned n_states;
        GHashTable *uuids;     /* name -> uuid (first seen) */
        GHashTable *seen;      /* state index + 1 -> present */
        uint64_t requests, failures, inconsistent;
        GArray *latencies_us;  /* uint64_t */
        unsigned reported;
} Load;

static int64_t now_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void problem(Load *l, unsigned client, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static void problem(Load *l, unsigned client, const char *fmt, ...) {
        if (l->reported++ >= MAX_REPORTED)
                return;
        va_list ap;
        va_start(ap, fmt);
        g_autofree char *msg = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        fprintf(stderr, "api-load-tool: client %u: %s\n", client, msg);
}

static int name_cmp(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* The key of a set of names: sorted, each followed by "\n". */
static char *set_key(GPtrArray *names) {
        g_ptr_array_sort(names, name_cmp);
        GString *k = g_string_new(NULL);
        for (guint i = 0; i < names->len; i++)
                g_string_append_printf(k, "%s\n", (const char *) g_ptr_array_index(names, i));
        return g_string_free(k, false);
}

static int load_plan(Load *l, const char *path) {
        g_autofree char *text = NULL;
        g_autoptr(GError) error = NULL;
        if (!g_file_get_contents(path, &text, NULL, &error)) {
                fprintf(stderr, "api-load-tool: cannot read the plan: %s\n", error->message);
                return -1;
        }
        g_autoptr(GHashTable) current = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_autoptr(GHashTable) ever = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
        unsigned index = 0;
        for (char **line = lines;; line++) {
                if (*line && !**line)
                        continue; /* empty line */
                /* the set as it is now, before the next operation (and after the last one) */
                g_autoptr(GPtrArray) names = g_ptr_array_new();
                GHashTableIter it;
                gpointer key;
                g_hash_table_iter_init(&it, current);
                while (g_hash_table_iter_next(&it, &key, NULL))
                        g_ptr_array_add(names, key);
                char *k = set_key(names);
                if (g_hash_table_contains(l->states, k)) {
                        fprintf(stderr, "api-load-tool: plan: the set of pools before operation %u repeats an "
                                        "earlier one\n", index + 1);
                        g_free(k);
                        return -1;
                }
                g_hash_table_insert(l->states, k, GUINT_TO_POINTER(++index));
                if (!*line)
                        break;
                g_auto(GStrv) w = g_strsplit(*line, " ", 2);
                if (!w[0] || !w[1]) {
                        fprintf(stderr, "api-load-tool: bad plan line \"%s\"\n", *line);
                        return -1;
                }
                if (g_str_equal(w[0], "create")) {
                        if (g_hash_table_contains(ever, w[1])) {
                                fprintf(stderr, "api-load-tool: plan creates %s twice\n", w[1]);
                                return -1;
                        }
                        g_hash_table_add(ever, g_strdup(w[1]));
                        g_hash_table_add(current, g_strdup(w[1]));
                } else if (g_str_equal(w[0], "delete")) {
                        if (!g_hash_table_remove(current, w[1])) {
                                fprintf(stderr, "api-load-tool: plan deletes %s, which does not exist then\n", w[1]);
                                return -1;
                        }
                } else {
                        fprintf(stderr, "api-load-tool: bad plan line \"%s\"\n", *line);
                        return -1;
                }
        }
        l->n_states = index;
        return 0;
}

static const char *str_key(json_object *o, const char *key) {
        json_object *v;
        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

static bool int_key(json_object *o, const char *key, int64_t *ret) {
        json_object *v;
        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
                return false;
        *ret = json_object_get_int64(v);
        return true;
}

/* One pool: all keys, right values. Returns NULL or what is wrong. */
static char *check_pool(Load *l, json_object *p) {
        if (!json_object_is_type(p, json_type_object))
                return g_strdup("a pool is not an object");
        const char *name = str_key(p, "name");
        if (!name)
                return g_strdup("a pool has no \"name\" string");
        static const char *const strings[] = { "uuid", "host", "source_path", "target_path", "format", "mode", "xml" };
        for (size_t i = 0; i < G_N_ELEMENTS(strings); i++)
                if (!str_key(p, strings[i]))
                        return g_strdup_printf("pool %s has no \"%s\" string", name, strings[i]);
        int64_t version, capacity, allocation, available;
        if (!int_key(p, "protocol_version", &version) || !int_key(p, "capacity", &capacity) ||
            !int_key(p, "allocation", &allocation) || !int_key(p, "available", &available))
                return g_strdup_printf("pool %s lacks one of protocol_version, capacity, allocation, available", name);
        const char *uuid = str_key(p, "uuid");
        if (!g_uuid_string_is_valid(uuid))
                return g_strdup_printf("pool %s has the uuid \"%s\"", name, uuid);
        if (!g_str_equal(str_key(p, "format"), "nfs") || version != 3 || !g_str_equal(str_key(p, "mode"), "0700"))
                return g_strdup_printf("pool %s: format %s, protocol_version %" PRId64 ", mode %s", name,
                                       str_key(p, "format"), version, str_key(p, "mode"));
        if (capacity <= 0 || allocation < 0 || available < 0 || allocation > capacity || available > capacity)
                return g_strdup_printf("pool %s: capacity %" PRId64 ", allocation %" PRId64 ", available %" PRId64,
                                       name, capacity, allocation, available);
        if (l->host && !g_str_equal(str_key(p, "host"), l->host))
                return g_strdup_printf("pool %s: host %s, expected %s", name, str_key(p, "host"), l->host);
        if (l->base) {
                g_autofree char *want = g_build_filename(l->base, name, NULL);
                if (!g_str_equal(str_key(p, "source_path"), want))
                        return g_strdup_printf("pool %s: source_path %s, expected %s", name,
                                               str_key(p, "source_path"), want);
        }
        if (l->target_base) {
                g_autofree char *want = g_build_filename(l->target_base, name, NULL);
                if (!g_str_equal(str_key(p, "target_path"), want))
                        return g_strdup_printf("pool %s: target_path %s, expected %s", name,
                                               str_key(p, "target_path"), want);
        }
        const char *xml = str_key(p, "xml");
        g_autofree char *xname = g_strdup_printf("<name>%s</name>", name);
        g_autofree char *xuuid = g_strdup_printf("<uuid>%s</uuid>", uuid);
        g_autofree char *xdir = g_strdup_printf("<dir path='%s'/>", str_key(p, "source_path"));
        if (!strstr(xml, xname) || !strstr(xml, xuuid) || !strstr(xml, xdir))
                return g_strdup_printf("pool %s: the xml does not name the same pool, uuid and source path", name);
        const char *known = g_hash_table_lookup(l->uuids, name);
        if (!known)
                g_hash_table_insert(l->uuids, g_strdup(name), g_strdup(uuid));
        else if (!g_str_equal(known, uuid))
                return g_strdup_printf("pool %s changed its uuid: %s, then %s", name, known, uuid);
        return NULL;
}

/* The pools of one response. Returns NULL or what is wrong. */
static char *check_pools(Load *l, Client *c, json_object *pools) {
        g_autoptr(GPtrArray) names = g_ptr_array_new();
        size_t n = json_object_array_length(pools);
        for (size_t i = 0; i < n; i++) {
                json_object *p = json_object_array_get_idx(pools, i);
                char *err = check_pool(l, p);
                if (err)
                        return err;
                g_ptr_array_add(names, (char *) str_key(p, "name"));
        }
        g_autofree char *key = set_key(names);
        guint index = GPOINTER_TO_UINT(g_hash_table_lookup(l->states, key));
        if (index == 0) {
                g_autofree char *shown = g_strdelimit(g_strdup(key), "\n", ' ');
                return g_strdup_printf("%zu pools [%s] are not a set of shares that existed at any point", n, shown);
        }
        if ((int) index < c->last_state)
                return g_strdup_printf("went back in time: saw set %u of the plan after set %d", index - 1,
                                       c->last_state - 1);
        c->last_state = (int) index;
        g_hash_table_add(l->seen, GUINT_TO_POINTER(index));
        return NULL;
}

/* The whole response. Returns NULL or what is wrong. */
static char *check_response(Load *l, Client *c, long status, const GString *body) {
        if (status != 200)
                return g_strdup_printf("HTTP %ld: %.200s", status, body->str);
        json_tokener *tok = json_tokener_new();
        json_object *o = json_tokener_parse_ex(tok, body->str, (int) body->len);
        enum json_tokener_error jerr = json_tokener_get_error(tok);
        json_tokener_free(tok);
        if (!o || jerr != json_tokener_success) {
                json_object_put(o);
                return g_strdup_printf("invalid JSON (%s): %.200s", json_tokener_error_desc(jerr), body->str);
        }
        json_object *pools;
        char *err;
        if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, "pools", &pools) ||
            !json_object_is_type(pools, json_type_array))
                err = g_strdup_printf("not {\"pools\":[...]}: %.200s", body->str);
        else
                err = check_pools(l, c, pools);
        json_object_put(o);
        return err;
}

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata) {
        Client *c = userdata;
        if (c->body->len + size * nmemb > 16 * 1024 * 1024)
                return 0; /* absurd: fail the transfer */
        g_string_append_len(c->body, ptr, (gssize) (size * nmemb));
        return size * nmemb;
}

static void start(Load *l, CURLM *multi, Client *c) {
        g_string_truncate(c->body, 0);
        c->started_ns = now_ns();
        curl_multi_add_handle(multi, c->easy);
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
        return x < y ? -1 : x > y;
}

static double percentile_ms(GArray *sorted, double q) {
        if (sorted->len == 0)
                return 0;
        size_t i = (size_t) (q * (sorted->len - 1) + 0.5);
        return g_array_index(sorted, uint64_t, i) / 1000.0;
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "unix", required_argument, NULL, 'u' },
                { "url", required_argument, NULL, 'U' },
                { "plan", required_argument, NULL, 'p' },
                { "clients", required_argument, NULL, 'c' },
                { "seconds", required_argument, NULL, 's' },
                { "max-requests", required_argument, NULL, 'm' },
                { "host", required_argument, NULL, 'H' },
                { "base", required_argument, NULL, 'b' },
                { "target-base", required_argument, NULL, 't' },
                { "uuids", required_argument, NULL, 'o' },
                {},
        };
        Load l = {
                .states = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
                .uuids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free),
                .seen = g_hash_table_new(g_direct_hash, g_direct_equal),
                .latencies_us = g_array_new(false, false, sizeof(uint64_t)),
        };
        const char *plan = NULL, *uuids_out = NULL;
        unsigned n_clients = 100;
        double seconds = 20;
        uint64_t max_requests = 200000;
        int opt;
        while ((opt = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (opt) {
                case 'u': l.unix_path = optarg; break;
                case 'U': l.url = optarg; break;
                case 'p': plan = optarg; break;
                case 'c': n_clients = (unsigned) strtoul(optarg, NULL, 10); break;
                case 's': seconds = strtod(optarg, NULL); break;
                case 'm': max_requests = strtoull(optarg, NULL, 10); break;
                case 'H': l.host = optarg; break;
                case 'b': l.base = optarg; break;
                case 't': l.target_base = optarg; break;
                case 'o': uuids_out = optarg; break;
                default: return 2;
                }
        if (!!l.unix_path == !!l.url || !plan || n_clients == 0 || n_clients > 10000 || seconds <= 0 ||
            max_requests == 0) {
                fprintf(stderr, "usage: api-load-tool (--unix SOCKET | --url URL) --plan FILE [--clients N] "
                                "[--seconds S] [--max-requests N] [--host ADDR] [--base DIR] [--target-base DIR] "
                                "[--uuids FILE]\n");
                return 2;
        }
        if (load_plan(&l, plan) < 0)
                return 2;

        g_autofree char *url = l.url ? g_strdup_printf("%s/v1/pools", l.url) : g_strdup("http://localhost/v1/pools");
        curl_global_init(CURL_GLOBAL_DEFAULT);
        CURLM *multi = curl_multi_init();
        curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long) n_clients);
        Client *clients = g_new0(Client, n_clients);
        for (unsigned i = 0; i < n_clients; i++) {
                Client *c = &clients[i];
                c->id = i;
                c->last_state = -1;
                c->body = g_string_new(NULL);
                c->easy = curl_easy_init();
                curl_easy_setopt(c->easy, CURLOPT_URL, url);
                if (l.unix_path)
                        curl_easy_setopt(c->easy, CURLOPT_UNIX_SOCKET_PATH, l.unix_path);
                curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, on_data);
                curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
                curl_easy_setopt(c->easy, CURLOPT_PRIVATE, c);
                curl_easy_setopt(c->easy, CURLOPT_TIMEOUT, 30L);
                curl_easy_setopt(c->easy, CURLOPT_CONNECTTIMEOUT, 10L);
                curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
                curl_easy_setopt(c->easy, CURLOPT_NOPROXY, "*");
        }

        int64_t t0 = now_ns(), deadline = t0 + (int64_t) (seconds * 1e9);
        uint64_t started = 0;
        int running = 0;
        for (unsigned i = 0; i < n_clients && started < max_requests; i++, started++)
                start(&l, multi, &clients[i]);
        do {
                curl_multi_perform(multi, &running);
                CURLMsg *m;
                int left;
                while ((m = curl_multi_info_read(multi, &left))) {
                        if (m->msg != CURLMSG_DONE)
                                continue;
                        Client *c;
                        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **) &c);
                        CURLcode res = m->data.result;
                        curl_multi_remove_handle(multi, c->easy);
                        uint64_t us = (uint64_t) ((now_ns() - c->started_ns) / 1000);
                        g_array_append_val(l.latencies_us, us);
                        l.requests++;
                        if (res != CURLE_OK) {
                                l.failures++;
                                problem(&l, c->id, "request failed: %s", curl_easy_strerror(res));
                        } else {
                                long status = 0;
                                curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
                                g_autofree char *err = check_response(&l, c, status, c->body);
                                if (err) {
                                        if (status == 200)
                                                l.inconsistent++;
                                        else
                                                l.failures++;
                                        problem(&l, c->id, "%s", err);
                                }
                        }
                        if (now_ns() < deadline && started < max_requests) {
                                start(&l, multi, c);
                                started++;
                                running++;
                        }
                }
                if (running > 0)
                        curl_multi_poll(multi, NULL, 0, 100, NULL);
        } while (running > 0);
        double elapsed = (now_ns() - t0) / 1e9;

        g_array_sort(l.latencies_us, cmp_u64);
        printf("api-load-tool: %u clients on %s for %.1f s: %" PRIu64 " requests (%.0f/s), %" PRIu64
               " failed, %" PRIu64 " inconsistent; latency p50 %.2f ms, p99 %.2f ms, max %.2f ms; "
               "%u of the plan's %u sets of pools seen, %u pool names\n",
               n_clients, l.unix_path ? l.unix_path : l.url, elapsed, l.requests, l.requests / elapsed,
               l.failures, l.inconsistent, percentile_ms(l.latencies_us, 0.50), percentile_ms(l.latencies_us, 0.99),
               percentile_ms(l.latencies_us, 1.0), g_hash_table_size(l.seen), l.n_states,
               g_hash_table_size(l.uuids));
        if (l.reported > MAX_REPORTED)
                fprintf(stderr, "api-load-tool: (%u more problems not shown)\n", l.reported - MAX_REPORTED);

        if (uuids_out) {
                g_autoptr(GString) s = g_string_new(NULL);
                GHashTableIter it;
                gpointer k, v;
                g_hash_table_iter_init(&it, l.uuids);
                while (g_hash_table_iter_next(&it, &k, &v))
                        g_string_append_printf(s, "%s %s\n", (char *) k, (char *) v);
                g_autoptr(GError) error = NULL;
                if (!g_file_set_contents(uuids_out, s->str, (gssize) s->len, &error)) {
                        fprintf(stderr, "api-load-tool: cannot write %s: %s\n", uuids_out, error->message);
                        return 1;
                }
        }

        for (unsigned i = 0; i < n_clients; i++) {
                curl_easy_cleanup(clients[i].easy);
                g_string_free(clients[i].body, true);
        }
        g_free(clients);
        curl_multi_cleanup(multi);
        curl_global_cleanup();
        g_array_free(l.latencies_us, true);
        g_hash_table_unref(l.states);
        g_hash_table_unref(l.uuids);
        g_hash_table_unref(l.seen);
        bool ok = l.requests > 0 && l.failures == 0 && l.inconsistent == 0;
        return ok ? 0 : 1;
}

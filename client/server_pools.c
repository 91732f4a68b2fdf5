/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "error.h"
#include "json_autoptr.h"
#include "macro.h"
#include "server_pools.h"

#define MAX_ANSWER (64u << 20) /* 64 MiB: ~70,000 pools; more is not an nfsprovd answer */

static size_t write_cb(char *data, size_t size, size_t n, void *userdata) {
        GString *body = userdata;
        if (body->len + size * n > MAX_ANSWER)
                return 0; /* libcurl fails the transfer with CURLE_WRITE_ERROR */
        g_string_append_len(body, data, (gssize) (size * n));
        return size * n;
}

static int curl_errno(CURLcode code) {
        switch (code) {
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
                return EHOSTUNREACH;
        case CURLE_OPERATION_TIMEDOUT:
                return ETIMEDOUT;
        case CURLE_URL_MALFORMAT:
        case CURLE_UNSUPPORTED_PROTOCOL:
                return EINVAL;
        case CURLE_WRITE_ERROR:
                return EFBIG;
        default:
                return ECONNREFUSED;
        }
}

/* The server's error message from {"error":{"code":..,"message":..}}, else the status line. */
static char *server_message(const GString *body, long status) {
        g_autoptr(json_object) j = json_tokener_parse(body->str);
        json_object *e, *m;
        if (j && json_object_object_get_ex(j, "error", &e) && json_object_object_get_ex(e, "message", &m) &&
            json_object_is_type(m, json_type_string)) {
                g_autofree char *valid = g_utf8_make_valid(json_object_get_string(m), -1);
                return g_strdelimit(g_steal_pointer(&valid), "\r\n", ' ');
        }
        return g_strdup_printf("HTTP status %ld", status);
}

int server_parse_pools(const char *url, const char *body, GPtrArray **ret, GError **error) {
        g_autoptr(json_object) j = json_tokener_parse(body);
        json_object *list;
        if (!j || !json_object_is_type(j, json_type_object) || !json_object_object_get_ex(j, "pools", &list) ||
            !json_object_is_type(list, json_type_array))
                return np_fail(error, EPROTO, "server %s: the answer to /v1/pools is not {\"pools\":[...]}", url);

        g_autoptr(GPtrArray) defs = g_ptr_array_new_with_free_func((GDestroyNotify) pooldef_free);
        size_t n = json_object_array_length(list);
        for (size_t i = 0; i < n; i++) {
                json_object *o = json_object_array_get_idx(list, i);
                g_autoptr(PoolDef) def = NULL;
                g_autoptr(GError) perr = NULL;
                if (!json_object_is_type(o, json_type_object) || pooldef_from_json(o, &def, &perr) < 0 ||
                    pooldef_validate(def, &perr) < 0) {
                        json_object *name = NULL;
                        json_object_object_get_ex(o, "name", &name);
                        g_autofree char *shown = name && json_object_is_type(name, json_type_string)
                                ? g_utf8_make_valid(json_object_get_string(name), -1)
                                : g_strdup_printf("#%zu", i + 1);
                        return np_fail(error, EINVAL, "server %s: pool %s: %s", url, shown,
                                       perr ? perr->message : "not a JSON object");
                }
                for (size_t k = 0; k < defs->len; k++)
                        if (strcmp(((PoolDef *) defs->pdata[k])->name, def->name) == 0)
                                return np_fail(error, EINVAL, "server %s: pool %s is listed twice", url,
                                               def->name);
                g_ptr_array_add(defs, TAKE_PTR(def));
        }
        *ret = TAKE_PTR(defs);
        return 0;
}

/* The ETag header of the answer (libcurl's header callback). */
static size_t header_cb(char *data, size_t size, size_t n, void *userdata) {
        char **etag = userdata;
        size_t len = size * n;
        if (len > 5 && g_ascii_strncasecmp(data, "ETag:", 5) == 0) {
                g_free(*etag);
                *etag = g_strstrip(g_strndup(data + 5, len - 5));
        }
        return len;
}

static int progress_cb(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow) {
        const gint *cancel = userdata;
        return g_atomic_int_get(cancel) ? 1 : 0; /* non-zero: CURLE_ABORTED_BY_CALLBACK */
}

void pools_answer_free(PoolsAnswer *a) {
        if (!a)
                return;
        if (a->pools)
                g_ptr_array_unref(a->pools);
        g_free(a->etag);
        g_free(a->body);
        g_free(a);
}

static int fetch(const char *url, const FetchOptions *opts, const char *query, const char *etag, unsigned wait_s,
                 PoolsAnswer **ret, GError **error) {
        g_return_val_if_fail(url && opts && ret, -EINVAL);

        if (!g_str_has_prefix(url, "http://") && !g_str_has_prefix(url, "https://"))
                return np_fail(error, EINVAL, "server URL \"%s\" is not http://HOST[:PORT] or https://HOST[:PORT]",
                               url);

        g_autofree char *full = g_strdup_printf("%s%sv1/pools%s", url, g_str_has_suffix(url, "/") ? "" : "/", query);
        g_autoptr(GString) body = g_string_new(NULL);
        g_autofree char *got_etag = NULL;
        char errbuf[CURL_ERROR_SIZE] = "";
        long status = 0;

        CURL *c = curl_easy_init();
        if (!c)
                return np_fail(error, ENOMEM, "cannot initialize libcurl");
        struct curl_slist *headers = curl_slist_append(NULL, "Accept: application/json");
        g_autofree char *auth = NULL, *inm = NULL;
        if (opts->token) {
                auth = g_strdup_printf("Authorization: Bearer %s", opts->token);
                headers = curl_slist_append(headers, auth);
        }
        if (etag) {
                inm = g_strdup_printf("If-None-Match: %s", etag);
                headers = curl_slist_append(headers, inm);
        }
        long timeout = (opts->timeout_s > 0 ? opts->timeout_s : 30L) + (long) wait_s;
        curl_easy_setopt(c, CURLOPT_URL, full);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, &got_etag);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
        if (opts->cancel) {
                curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress_cb);
                curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *) opts->cancel);
                curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        }
        if (opts->ca_file)
                curl_easy_setopt(c, CURLOPT_CAINFO, opts->ca_file);
        CURLcode code = curl_easy_perform(c);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_cleanup(c);
        curl_slist_free_all(headers);

        if (code == CURLE_ABORTED_BY_CALLBACK)
                return np_fail(error, ECANCELED, "request to server %s cancelled", url);
        if (code != CURLE_OK)
                return np_fail(error, curl_errno(code), "cannot reach server %s: %s", url,
                               *errbuf ? errbuf : curl_easy_strerror(code));
        if (status == 401 || status == 403) {
                g_autofree char *msg = server_message(body, status);
                return np_fail(error, EACCES, "server %s refused the request (HTTP %ld): %s", url, status, msg);
        }
        g_autoptr(PoolsAnswer) a = g_new0(PoolsAnswer, 1);
        a->etag = TAKE_PTR(got_etag);
        if (status == 304 && etag) {
                a->not_modified = true;
                *ret = TAKE_PTR(a);
                return 0;
        }
        if (status != 200) {
                g_autofree char *msg = server_message(body, status);
                return np_fail(error, EPROTO, "server %s answered HTTP %ld: %s", url, status, msg);
        }
        int r = server_parse_pools(url, body->str, &a->pools, error);
        if (r < 0)
                return r;
        a->body = g_string_free(TAKE_PTR(body), false);
        *ret = TAKE_PTR(a);
        return 0;
}

int server_fetch_pools(const char *url, const FetchOptions *opts, GPtrArray **ret, GError **error) {
        g_autoptr(PoolsAnswer) a = NULL;
        int r = fetch(url, opts, "", NULL, 0, &a, error);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(a->pools);
        return 0;
}

int server_fetch_pools_if(const char *url, const FetchOptions *opts, const char *etag, unsigned wait_s,
                          PoolsAnswer **ret, GError **error) {
        g_autofree char *query = wait_s > 0 ? g_strdup_printf("?sizes=false&wait=%u", wait_s) : g_strdup("?sizes=false");
        return fetch(url, opts, query, etag, wait_s, ret, error);
}

void wanted_pool_free(WantedPool *w) {
        if (!w)
                return;
        pooldef_free(w->def);
        g_free(w->server);
        g_free(w->conflict);
        g_free(w);
}

static int compare_by_name(gconstpointer a, gconstpointer b) {
        const WantedPool *x = *(WantedPool *const *) a, *y = *(WantedPool *const *) b;
        return strcmp(x->def->name, y->def->name);
}

static void add_conflict(WantedPool *w, const char *fmt, ...) _printf_(2, 3);
static void add_conflict(WantedPool *w, const char *fmt, ...) {
        if (w->conflict)
                return; /* the first disagreement is the one to report */
        va_list ap;
        va_start(ap, fmt);
        w->conflict = g_strdup_vprintf(fmt, ap);
        va_end(ap);
}

GPtrArray *server_merge_pools(const char *const *urls, GPtrArray *const *answers, size_t n) {
        GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify) wanted_pool_free);
        g_autoptr(GHashTable) by_name = g_hash_table_new(g_str_hash, g_str_equal);
        g_autoptr(GHashTable) by_uuid = g_hash_table_new(g_str_hash, g_str_equal);

        for (size_t s = 0; s < n; s++) {
                if (!answers[s])
                        continue;
                for (size_t i = 0; i < answers[s]->len; i++) {
                        const PoolDef *def = answers[s]->pdata[i];
                        WantedPool *same_name = g_hash_table_lookup(by_name, def->name);
                        WantedPool *same_uuid = g_hash_table_lookup(by_uuid, def->uuid);
                        if (same_name) {
                                if (!pooldef_equal(same_name->def, def))
                                        add_conflict(same_name,
                                                     "servers %s and %s both offer pool %s, with different definitions",
                                                     same_name->server, urls[s], def->name);
                                continue;
                        }
                        WantedPool *w = g_new0(WantedPool, 1);
                        w->def = pooldef_copy(def);
                        w->server = g_strdup(urls[s]);
                        if (same_uuid) {
                                /* both pools are reported, neither is applied */
                                add_conflict(same_uuid, "servers %s and %s both use uuid %s (for pools %s and %s)",
                                             same_uuid->server, urls[s], def->uuid, same_uuid->def->name,
                                             def->name);
                                add_conflict(w, "servers %s and %s both use uuid %s (for pools %s and %s)",
                                             same_uuid->server, urls[s], def->uuid, same_uuid->def->name,
                                             def->name);
                        }
                        g_ptr_array_add(out, w);
                        g_hash_table_insert(by_name, w->def->name, w);
                        if (!same_uuid)
                                g_hash_table_insert(by_uuid, w->def->uuid, w);
                }
        }
        g_ptr_array_sort(out, compare_by_name);
        return out;
}

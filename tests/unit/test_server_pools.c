/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * server_fetch_pools against a real HTTP server in this process (libmicrohttpd on a loopback
 * port chosen by the kernel) that answers what a test sets: a good answer, a definition that
 * fails validation, a refusal with nfsprovd's error body, other statuses, bytes that are not
 * JSON, a name listed twice; and that the bearer token is sent.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <curl/curl.h>
#include <microhttpd.h>

#include "server_pools.h"
#include "unit.h"

#define POOL(name, uuid, extra)                                                                                  \
        "{\"name\":\"" name "\",\"uuid\":\"" uuid "\",\"host\":\"192.0.2.1\",\"source_path\":\"/srv/NFS/" name \
        "\",\"target_path\":\"/var/lib/libvirt/nfsprov/" name "\",\"format\":\"nfs\",\"protocol_version\":3,"    \
        "\"mode\":\"0700\",\"owner\":-1,\"group\":-1" extra "}"
#define UUID1 "0b6a3c4e-8d1f-4a52-9f63-0123456789ab"
#define UUID2 "1c7b4d5f-9e20-4b63-8a74-123456789abc"

static struct {
        unsigned status;
        const char *body;
        char auth[256]; /* the Authorization header of the last request */
        char path[256];
} answer;

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                               const char *version, const char *upload, size_t *upload_size, void **state) {
        const char *a = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
        g_strlcpy(answer.auth, a ? a : "", sizeof answer.auth);
        g_strlcpy(answer.path, url, sizeof answer.path);
        /* copied: a test may free its body once the client has it, while this thread still returns
         * from the send that delivered it */
        struct MHD_Response *r =
                MHD_create_response_from_buffer(strlen(answer.body), (void *) answer.body, MHD_RESPMEM_MUST_COPY);
        enum MHD_Result ret = MHD_queue_response(conn, answer.status, r);
        MHD_destroy_response(r);
        return ret;
}

static struct MHD_Daemon *daemon_;
static char *base_url;

static void setup(void) {
        daemon_ = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, handler, NULL,
                                   MHD_OPTION_END);
        ck_assert_ptr_nonnull(daemon_);
        const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
        base_url = g_strdup_printf("http://127.0.0.1:%u", (unsigned) info->port);
        curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void teardown(void) {
        MHD_stop_daemon(daemon_);
        g_free(base_url);
        curl_global_cleanup();
}

static int fetch(const char *token, GPtrArray **ret, GError **error) {
        FetchOptions o = { .token = token, .timeout_s = 5 };
        return server_fetch_pools(base_url, &o, ret, error);
}

START_TEST(test_good_answer) {
        answer.status = 200;
        answer.body = "{\"pools\":[" POOL("A", UUID1, ",\"capacity\":100,\"allocation\":10,\"available\":90,"
                                                     "\"xml\":\"<pool/>\",\"status\":\"ready\"") ","
                      POOL("B", UUID2, "") "]}";
        g_autoptr(GPtrArray) defs = NULL;
        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(fetch("s3cret-token-0123456789", &defs, &e), 0);
        ck_assert_uint_eq(defs->len, 2);
        const PoolDef *a = defs->pdata[0];
        ck_assert_str_eq(a->name, "A");
        ck_assert_str_eq(a->uuid, UUID1);
        ck_assert_str_eq(a->source_dir, "/srv/NFS/A");
        ck_assert(a->has_sizes && a->capacity == 100);
        ck_assert_str_eq(answer.auth, "Bearer s3cret-token-0123456789");
        ck_assert_str_eq(answer.path, "/v1/pools");

        /* no token: no header */
        g_autoptr(GPtrArray) again = NULL;
        ck_assert_int_eq(fetch(NULL, &again, NULL), 0);
        ck_assert_str_eq(answer.auth, "");
}
END_TEST

START_TEST(test_bad_answers) {
        static const struct {
                unsigned status;
                const char *body;
                int r;
                const char *msg;
        } cases[] = {
                { 200, "{\"pools\":[" POOL("bad name", UUID1, "") "]}", -EINVAL, "pool bad name: invalid share name" },
                { 200, "{\"pools\":[" POOL("A", "not-a-uuid", "") "]}", -EINVAL, "pool A: " },
                { 200, "{\"pools\":[" POOL("A", UUID1, "") "," POOL("A", UUID2, "") "]}", -EINVAL,
                  "pool A is listed twice" },
                { 200, "{\"pools\":[42]}", -EINVAL, "pool #1: not a JSON object" },
                { 200, "<html>hello</html>", -EPROTO, "is not {\"pools\":[...]}" },
                { 200, "{\"shares\":[]}", -EPROTO, "is not {\"pools\":[...]}" },
                { 403, "{\"error\":{\"code\":\"forbidden\",\"message\":\"10.0.0.9 may not see pools\"}}", -EACCES,
                  "refused the request (HTTP 403): 10.0.0.9 may not see pools" },
                { 401, "", -EACCES, "refused the request (HTTP 401): HTTP status 401" },
                { 500, "{\"error\":{\"code\":\"internal\",\"message\":\"line1\\nline2\"}}", -EPROTO,
                  "answered HTTP 500: line1 line2" },
        };
        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                answer.status = cases[i].status;
                answer.body = cases[i].body;
                GPtrArray *defs = NULL;
                g_autoptr(GError) e = NULL;
                ck_assert_int_eq(fetch(NULL, &defs, &e), cases[i].r);
                ck_assert_ptr_null(defs);
                ck_assert_msg(strstr(e->message, cases[i].msg), "case %zu: %s", i, e->message);
                ck_assert_msg(strstr(e->message, base_url), "case %zu does not name the server: %s", i, e->message);
                ck_assert_ptr_null(strchr(e->message, '\n'));
        }
}
END_TEST

START_TEST(test_unreachable_and_bad_url) {
        FetchOptions o = { .timeout_s = 5 };
        GPtrArray *defs = NULL;
        g_autoptr(GError) e = NULL;
        /* a port nothing listens on: the daemon's port after it stopped */
        g_autofree char *url = g_strdup(base_url);
        MHD_stop_daemon(daemon_);
        daemon_ = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, handler, NULL, MHD_OPTION_END);
        ck_assert_int_eq(server_fetch_pools(url, &o, &defs, &e), -ECONNREFUSED);
        ck_assert_ptr_nonnull(strstr(e->message, "cannot reach server"));
        g_autoptr(GError) e2 = NULL;
        ck_assert_int_eq(server_fetch_pools("ftp://127.0.0.1/", &o, &defs, &e2), -EINVAL);
        ck_assert_ptr_null(defs);
}
END_TEST

START_TEST(test_volumes_in_the_answer) {
        answer.status = 200;
        answer.body = "{\"pools\":[" POOL("A", UUID1, ",\"volumes\":[{\"name\":\"base.qcow2\",\"capacity\":1073741824,"
                                                     "\"format\":\"qcow2\"},{\"name\":\"vm1.qcow2\",\"capacity\":"
                                                     "21474836480,\"format\":\"qcow2\",\"allocation\":196608}]")
                      "," POOL("B", UUID2, ",\"volumes\":[]") "," POOL("C", "2d8c5e60-af31-4c74-9b85-23456789abcd", "")
                      "]}";
        g_autoptr(GPtrArray) defs = NULL;
        g_autoptr(GError) e = NULL;
        ck_assert_msg(fetch(NULL, &defs, &e) == 0, "%s", e ? e->message : "");
        ck_assert_uint_eq(defs->len, 3);
        const PoolDef *a = defs->pdata[0], *b = defs->pdata[1], *c = defs->pdata[2];
        ck_assert_uint_eq(a->volumes->len, 2);
        const PoolVolume *v = a->volumes->pdata[1];
        ck_assert_str_eq(v->name, "vm1.qcow2");
        ck_assert_uint_eq(v->capacity, 21474836480ULL);
        ck_assert_str_eq(v->format, "qcow2");
        ck_assert_ptr_nonnull(b->volumes); /* reported, none */
        ck_assert_uint_eq(b->volumes->len, 0);
        ck_assert_ptr_null(c->volumes); /* an older server: not reported */

        /* merged across two URLs of one server: the manifest comes along */
        const char *urls[] = { "http://one", "http://two" };
        GPtrArray *answers[] = { defs, defs };
        g_autoptr(GPtrArray) m = server_merge_pools(urls, answers, 2);
        ck_assert_uint_eq(m->len, 3);
        ck_assert_uint_eq(((WantedPool *) m->pdata[0])->def->volumes->len, 2);
        ck_assert_ptr_null(((WantedPool *) m->pdata[0])->conflict);
}
END_TEST

START_TEST(test_bad_volumes_discard_the_answer) {
        static const struct {
                const char *volumes;
                const char *msg;
        } cases[] = {
                { "[{\"name\":\".hidden\",\"capacity\":1,\"format\":\"qcow2\"}]",
                  "pool A: invalid volume name \".hidden\": it starts with a dot (a hidden file)" },
                { "[{\"name\":\"lost+found\",\"capacity\":1,\"format\":\"qcow2\"}]", "pool A: invalid volume name \"lost+found\"" },
                { "[{\"name\":\"../etc\",\"capacity\":1,\"format\":\"qcow2\"}]", "pool A: invalid volume name \"../etc\"" },
                { "[{\"name\":\"a\",\"capacity\":0,\"format\":\"qcow2\"}]", "pool A: pool definition JSON: volume a: key \"capacity\" must be a positive integer" },
                { "[{\"name\":\"a\",\"capacity\":1,\"format\":\"qcow2\"},{\"name\":\"a\",\"capacity\":2,\"format\":\"qcow2\"}]",
                  "pool A: volume a is listed twice" },
                { "{\"a\":1}", "pool A: pool definition JSON: key \"volumes\" must be an array" },
        };
        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *body = g_strdup_printf("{\"pools\":[" POOL("A", UUID1, ",\"volumes\":%s") "]}", cases[i].volumes);
                answer.status = 200;
                answer.body = body;
                GPtrArray *defs = NULL;
                g_autoptr(GError) e = NULL;
                ck_assert_int_eq(fetch(NULL, &defs, &e), -EINVAL);
                ck_assert_ptr_null(defs);
                ck_assert_msg(strstr(e->message, cases[i].msg), "case %zu: %s", i, e->message);
                ck_assert_ptr_null(strchr(e->message, '\n'));
        }
}
END_TEST

Suite *unit_suite(void) {
        Suite *s = suite_create("server_pools");
        TCase *tc = tcase_create("fetch");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_good_answer);
        tcase_add_test(tc, test_bad_answers);
        tcase_add_test(tc, test_unreachable_and_bad_url);
        tcase_add_test(tc, test_volumes_in_the_answer);
        tcase_add_test(tc, test_bad_volumes_discard_the_answer);
        suite_add_tcase(s, tc);
        return s;
}

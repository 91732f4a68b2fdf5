/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* server/http: routing, errors, body limits, peer credentials, concurrency, TCP and stop, with
 * libcurl as the client over a temporary Unix socket. */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>

#include "http.h"
#include "json_autoptr.h"
#include "unit.h"

/* ---- the test routes ---- */

static gint handler_calls;       /* how many times any handler ran */
static gint slow_running;        /* slow handlers running right now */
static gint slow_max;            /* the most that ran at the same time */

static int h_item(HttpRequest *req, HttpResponse *resp, void *userdata) {
        g_atomic_int_inc(&handler_calls);
        json_object *o = json_object_new_object();
        json_object_object_add(o, "id", json_object_new_string(http_request_param(req, "id")));
        const char *x = http_request_query(req, "x");
        json_object_object_add(o, "x", x ? json_object_new_string(x) : NULL);
        bool flag;
        g_autoptr(GError) error = NULL;
        if (http_request_query_bool(req, "flag", false, &flag, &error) < 0) {
                json_object_put(o);
                http_response_error(resp, 400, "%s", error->message);
                return 0;
        }
        json_object_object_add(o, "flag", json_object_new_boolean(flag));
        const char *h = http_request_header(req, "x-test");
        json_object_object_add(o, "h", h ? json_object_new_string(h) : NULL);
        json_object_object_add(o, "userdata", json_object_new_string(userdata));
        http_response_json(resp, 200, o);
        return 0;
}

static int h_item_put(HttpRequest *req, HttpResponse *resp, void *userdata) {
        g_atomic_int_inc(&handler_calls);
        http_response_json(resp, 204, NULL);
        return 0;
}

static int h_sub(HttpRequest *req, HttpResponse *resp, void *userdata) {
        g_atomic_int_inc(&handler_calls);
        json_object *o = json_object_new_object();
        json_object_object_add(o, "a", json_object_new_string(http_request_param(req, "a")));
        json_object_object_add(o, "b", json_object_new_string(http_request_param(req, "b")));
        json_object *body = http_request_json(req);
        json_object_object_add(o, "body", body ? json_object_get(body) : NULL);
        http_response_header(resp, "Location", "/t/somewhere");
        http_response_json(resp, 201, o);
        return 0;
}

static int h_echo(HttpRequest *req, HttpResponse *resp, void *userdata) {
        g_atomic_int_inc(&handler_calls);
        json_object *o = json_object_new_object();
        json_object *body = http_request_json(req);
        json_object_object_add(o, "body", body ? json_object_get(body) : NULL);
        size_t len;
        http_request_body(req, &len);
        json_object_object_add(o, "len", json_object_new_int64((int64_t) len));
        http_response_json(resp, 200, o);
        return 0;
}

static int h_text(HttpRequest *req, HttpResponse *resp, void *userdata) {
        g_atomic_int_inc(&handler_calls);
        http_response_text(resp, 200, "application/xml", "<pool/>\n");
        return 0;
}

static int h_fail(HttpRequest *req, HttpResponse *resp, void *userdata) {
        g_atomic_int_inc(&handler_calls);
        return -EIO;
}

static int h_peer(HttpRequest *req, HttpResponse *resp, void *userdata) {
        g_atomic_int_inc(&handler_calls);
        json_object *o = json_object_new_object();
        uid_t uid;
        gid_t gid;
        pid_t pid;
        if (http_request_peer_cred(req, &uid, &gid, &pid) == 0) {
                json_object_object_add(o, "uid", json_object_new_int64(uid));
                json_object_object_add(o, "gid", json_object_new_int64(gid));
                json_object_object_add(o, "pid", json_object_new_int64(pid));
        }
        json_object_object_add(o, "unix", json_object_new_boolean(http_request_is_unix(req)));
        const char *local = http_request_local_address(req);
        json_object_object_add(o, "local", local ? json_object_new_string(local) : NULL);
        const char *peer = http_request_peer_address(req);
        json_object_object_add(o, "peer", peer ? json_object_new_string(peer) : NULL);
        http_response_json(resp, 200, o);
        return 0;
}

static int h_slow(HttpRequest *req, HttpResponse *resp, void *userdata) {
        g_atomic_int_inc(&handler_calls);
        int now = g_atomic_int_add(&slow_running, 1) + 1;
        int max;
        while ((max = g_atomic_int_get(&slow_max)) < now && !g_atomic_int_compare_and_exchange(&slow_max, max, now))
                ;
        const char *ms = http_request_query(req, "ms");
        g_usleep((ms ? atoi(ms) : 20) * 1000);
        g_atomic_int_add(&slow_running, -1);
        json_object *o = json_object_new_object();
        json_object_object_add(o, "id", json_object_new_string(http_request_param(req, "id")));
        http_response_json(resp, 200, o);
        return 0;
}

/* Long polls: GET /t/wait/{v}?ms=N answers 200 {"value"} once wait_value is not v, else parks
 * on wait_queue for N ms and then answers 304. */
static HttpWaitQueue *wait_queue;
static gint wait_value;
static gint wait_parks;          /* how many times a handler parked */

static int h_wait(HttpRequest *req, HttpResponse *resp, void *userdata) {
        guint64 seq = http_wait_queue_seq(wait_queue);
        int v = g_atomic_int_get(&wait_value);
        if (v != atoi(http_request_param(req, "v"))) {
                json_object *o = json_object_new_object();
                json_object_object_add(o, "value", json_object_new_int(v));
                http_response_json(resp, 200, o);
                return 0;
        }
        if (http_request_wait_over(req)) {
                http_response_status(resp, 304);
                return 0;
        }
        const char *ms = http_request_query(req, "ms");
        g_atomic_int_inc(&wait_parks);
        http_request_park(req, wait_queue, seq, http_request_started(req) + (ms ? atoi(ms) : 30000) * 1000);
        return 0;
}

static const HttpRoute test_routes[] = {
        { .method = "GET", .pattern = "/t/wait/{v}", .handler = h_wait },
        { .method = "GET", .pattern = "/t/items/{id}", .handler = h_item },
        { .method = "PUT", .pattern = "/t/items/{id}", .handler = h_item_put },
        { .method = "POST", .pattern = "/t/items/{a}/sub/{b}", .handler = h_sub },
        { .method = "POST", .pattern = "/t/echo", .handler = h_echo },
        { .method = "GET", .pattern = "/t/text", .handler = h_text },
        { .method = "GET", .pattern = "/t/fail", .handler = h_fail },
        { .method = "GET", .pattern = "/t/peer", .handler = h_peer },
        { .method = "GET", .pattern = "/t/slow/{id}", .handler = h_slow },
        { .method = "GET", .pattern = "/t/page", .handler = h_text, .challenge = "Basic realm=\"t\"" },
};

/* ---- a test server ---- */

typedef struct TestServer {
        char *dir;
        char *socket;
        HttpServer *server;
} TestServer;

static char admin_group_buf[32];

/* The default options: as root, root only; otherwise our own primary group is the admin group
 * (so that the tests can talk to the server at all). */
static HttpServerOptions test_options(const char *socket) {
        HttpServerOptions o = { .socket_path = socket };
        if (geteuid() != 0) {
                snprintf(admin_group_buf, sizeof admin_group_buf, "%u", (unsigned) getegid());
                o.admin_group = admin_group_buf;
        }
        return o;
}

static void test_server_start(TestServer *t, HttpServerOptions *o) {
        g_autoptr(GError) error = NULL;
        int r = http_server_start(o, test_routes, G_N_ELEMENTS(test_routes), (void *) "ud", &t->server, &error);
        ck_assert_msg(r == 0, "http_server_start: %d %s", r, error ? error->message : "");
}

static void test_server_init(TestServer *t) {
        t->dir = unit_mkdtemp();
        ck_assert_int_eq(chmod(t->dir, 0755), 0);
        t->socket = g_build_filename(t->dir, "run", "api.sock", NULL);
        t->server = NULL;
        g_atomic_int_set(&handler_calls, 0);
        g_atomic_int_set(&slow_running, 0);
        g_atomic_int_set(&slow_max, 0);
}

static void test_server_done(TestServer *t) {
        http_server_stop(t->server);
        unit_rm_rf(t->dir);
        g_free(t->dir);
        g_free(t->socket);
}

/* ---- a libcurl client ---- */

typedef struct Reply {
        CURLcode code;
        long status;
        GString *body;
        GString *headers;
        json_object *json;
} Reply;

static void reply_free(Reply *r) {
        if (!r)
                return;
        g_string_free(r->body, true);
        g_string_free(r->headers, true);
        json_object_put(r->json);
        g_free(r);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Reply, reply_free)

static size_t write_cb(char *data, size_t size, size_t n, void *userdata) {
        g_string_append_len(userdata, data, (gssize) (size * n));
        return size * n;
}

typedef struct Upload {
        const char *data;
        size_t len, pos;
} Upload;

static size_t read_cb(char *buf, size_t size, size_t n, void *userdata) {
        Upload *u = userdata;
        size_t k = MIN(size * n, u->len - u->pos);
        memcpy(buf, u->data + u->pos, k);
        u->pos += k;
        return k;
}

typedef struct Request {
        const char *socket;      /* NULL: TCP on port */
        unsigned port;
        const char *method;
        const char *path;
        const char *body;        /* NULL: none */
        size_t body_len;         /* 0 with body: strlen */
        bool chunked;
        const char *header;      /* one extra header line */
} Request;

static Reply *request(const Request *q) {
        Reply *r = g_new0(Reply, 1);
        r->body = g_string_new(NULL);
        r->headers = g_string_new(NULL);
        CURL *c = curl_easy_init();
        ck_assert_ptr_nonnull(c);
        g_autofree char *url = q->socket ? g_strdup_printf("http://localhost%s", q->path)
                                         : g_strdup_printf("http://127.0.0.1:%u%s", q->port, q->path);
        curl_easy_setopt(c, CURLOPT_URL, url);
        if (q->socket)
                curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, q->socket);
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, q->method);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, r->body);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, write_cb);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, r->headers);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        struct curl_slist *hdrs = NULL;
        if (q->header)
                hdrs = curl_slist_append(hdrs, q->header);
        Upload up = {};
        if (q->body) {
                up.data = q->body;
                up.len = q->body_len ? q->body_len : strlen(q->body);
                hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
                curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
                curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
                curl_easy_setopt(c, CURLOPT_READDATA, &up);
                if (!q->chunked)
                        curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t) up.len);
                else
                        hdrs = curl_slist_append(hdrs, "Transfer-Encoding: chunked");
                curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, q->method);
        }
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
        r->code = curl_easy_perform(c);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
        curl_easy_cleanup(c);
        curl_slist_free_all(hdrs);
        if (r->body->len > 0)
                r->json = json_tokener_parse(r->body->str);
        return r;
}

static Reply *get(const char *socket, const char *path) {
        return request(&(Request) { .socket = socket, .method = "GET", .path = path });
}

static const char *jstr(json_object *o, const char *key) {
        json_object *v;
        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

static const char *error_code(const Reply *r) {
        json_object *e;
        ck_assert_msg(r->json && json_object_object_get_ex(r->json, "error", &e), "no error object in: %s",
                      r->body->str);
        return jstr(e, "code");
}

static const char *error_message(const Reply *r) {
        json_object *e;
        ck_assert_msg(r->json && json_object_object_get_ex(r->json, "error", &e), "no error object in: %s",
                      r->body->str);
        return jstr(e, "message");
}

static bool has_header(const Reply *r, const char *line) {
        g_autofree char *lower = g_ascii_strdown(r->headers->str, -1);
        g_autofree char *want = g_ascii_strdown(line, -1);
        return strstr(lower, want) != NULL;
}

/* ---- tests ---- */

START_TEST(test_routing_and_params) {
        TestServer t;
        test_server_init(&t);
        HttpServerOptions o = test_options(t.socket);
        test_server_start(&t, &o);

        g_autoptr(Reply) r = request(&(Request) {
                .socket = t.socket, .method = "GET", .path = "/t/items/abc-1?x=a%20b&flag", .header = "X-Test: hv" });
        ck_assert_int_eq(r->code, CURLE_OK);
        ck_assert_int_eq(r->status, 200);
        ck_assert(has_header(r, "content-type: application/json"));
        ck_assert_ptr_nonnull(r->json);
        ck_assert_str_eq(jstr(r->json, "id"), "abc-1");
        ck_assert_str_eq(jstr(r->json, "x"), "a b");
        ck_assert_str_eq(jstr(r->json, "h"), "hv");
        ck_assert_str_eq(jstr(r->json, "userdata"), "ud");
        json_object *v;
        ck_assert(json_object_object_get_ex(r->json, "flag", &v) && json_object_get_boolean(v));

        g_autoptr(Reply) r2 = get(t.socket, "/t/items/x?flag=false");
        ck_assert_int_eq(r2->status, 200);
        ck_assert(json_object_object_get_ex(r2->json, "flag", &v) && !json_object_get_boolean(v));
        ck_assert(json_object_object_get_ex(r2->json, "x", &v) && v == NULL);

        g_autoptr(Reply) r3 = get(t.socket, "/t/items/x?flag=maybe");
        ck_assert_int_eq(r3->status, 400);
        ck_assert_str_eq(error_code(r3), "invalid_input");
        ck_assert_ptr_nonnull(strstr(error_message(r3), "flag=\"maybe\""));

        g_autoptr(Reply) r4 = request(&(Request) {
                .socket = t.socket, .method = "POST", .path = "/t/items/one/sub/two", .body = "{\"k\": [1, 2]}" });
        ck_assert_int_eq(r4->status, 201);
        ck_assert(has_header(r4, "location: /t/somewhere"));
        ck_assert_str_eq(jstr(r4->json, "a"), "one");
        ck_assert_str_eq(jstr(r4->json, "b"), "two");
        ck_assert(json_object_object_get_ex(r4->json, "body", &v));
        ck_assert_str_eq(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN), "{\"k\":[1,2]}");

        g_autoptr(Reply) r5 = get(t.socket, "/t/text");
        ck_assert_int_eq(r5->status, 200);
        ck_assert(has_header(r5, "content-type: application/xml"));
        ck_assert_str_eq(r5->body->str, "<pool/>\n");

        g_autoptr(Reply) r6 = request(&(Request) { .socket = t.socket, .method = "PUT", .path = "/t/items/z" });
        ck_assert_int_eq(r6->status, 204);

        /* A handler that fails without a response: 500 "failed". */
        g_autoptr(Reply) r7 = get(t.socket, "/t/fail");
        ck_assert_int_eq(r7->status, 500);
        ck_assert_str_eq(error_code(r7), "failed");
        ck_assert_ptr_nonnull(strstr(error_message(r7), g_strerror(EIO)));

        test_server_done(&t);
}
END_TEST

START_TEST(test_not_found_and_method) {
        TestServer t;
        test_server_init(&t);
        HttpServerOptions o = test_options(t.socket);
        test_server_start(&t, &o);

        const char *missing[] = { "/nope", "/t/items", "/t/items/", "/t/items/a/b", "/t/items/a/sub/", "/" };
        for (size_t i = 0; i < G_N_ELEMENTS(missing); i++) {
                g_autoptr(Reply) r = get(t.socket, missing[i]);
                ck_assert_msg(r->status == 404, "%s: %ld", missing[i], r->status);
                ck_assert_str_eq(error_code(r), "not_found");
        }

        g_autoptr(Reply) r = request(&(Request) { .socket = t.socket, .method = "DELETE", .path = "/t/items/a" });
        ck_assert_int_eq(r->status, 405);
        ck_assert_msg(has_header(r, "allow: GET, PUT\r\n"), "headers: %s", r->headers->str);
        ck_assert_str_eq(error_code(r), "invalid_input");
        ck_assert_ptr_nonnull(strstr(error_message(r), "DELETE"));

        g_autoptr(Reply) r2 = get(t.socket, "/t/echo");
        ck_assert_int_eq(r2->status, 405);
        ck_assert(has_header(r2, "allow: POST\r\n"));

        ck_assert_int_eq(g_atomic_int_get(&handler_calls), 0);
        test_server_done(&t);
}
END_TEST

START_TEST(test_json_body) {
        TestServer t;
        test_server_init(&t);
        HttpServerOptions o = test_options(t.socket);
        test_server_start(&t, &o);

        const char *bad[] = { "{bad", "{\"a\":1} x", "{\"a\":}", "[1,2", "'single'", "{\"a\":1}{}" };
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                g_autoptr(Reply) r = request(&(Request) {
                        .socket = t.socket, .method = "POST", .path = "/t/echo", .body = bad[i] });
                ck_assert_msg(r->status == 400, "%s: %ld", bad[i], r->status);
                ck_assert_str_eq(error_code(r), "invalid_input");
                ck_assert_ptr_nonnull(strstr(error_message(r), "malformed JSON"));
        }
        /* A NUL byte inside the body. */
        g_autoptr(Reply) rn = request(&(Request) {
                .socket = t.socket, .method = "POST", .path = "/t/echo", .body = "{}\0{}", .body_len = 5 });
        ck_assert_int_eq(rn->status, 400);
        ck_assert_int_eq(g_atomic_int_get(&handler_calls), 0);

        g_autoptr(Reply) r1 = request(&(Request) { .socket = t.socket, .method = "POST", .path = "/t/echo",
                                                   .body = "123" });
        ck_assert_int_eq(r1->status, 200);
        json_object *v;
        ck_assert(json_object_object_get_ex(r1->json, "body", &v) && json_object_get_int(v) == 123);

        g_autoptr(Reply) r2 = request(&(Request) { .socket = t.socket, .method = "POST", .path = "/t/echo",
                                                   .body = " {\"a\": \"\\u00e9\"} \n" });
        ck_assert_int_eq(r2->status, 200);
        ck_assert(json_object_object_get_ex(r2->json, "body", &v));
        ck_assert_str_eq(jstr(v, "a"), "\xc3\xa9");

        /* No body: the handler gets NULL. */
        g_autoptr(Reply) r3 = request(&(Request) { .socket = t.socket, .method = "POST", .path = "/t/echo" });
        ck_assert_int_eq(r3->status, 200);
        ck_assert(json_object_object_get_ex(r3->json, "body", &v) && v == NULL);
        ck_assert_int_eq(g_atomic_int_get(&handler_calls), 3);

        test_server_done(&t);
}
END_TEST

START_TEST(test_body_limit) {
        TestServer t;
        test_server_init(&t);
        HttpServerOptions o = test_options(t.socket);
        test_server_start(&t, &o);

        /* Exactly 1 MiB of JSON: accepted. */
        size_t n = HTTP_MAX_BODY_DEFAULT;
        g_autofree char *big = g_malloc(n + 2);
        memset(big, 'a', n + 1);
        big[0] = '"';
        big[n - 1] = '"';
        big[n] = '\0';
        g_autoptr(Reply) r1 = request(&(Request) { .socket = t.socket, .method = "POST", .path = "/t/echo",
                                                   .body = big, .body_len = n });
        ck_assert_int_eq(r1->status, 200);
        json_object *v;
        ck_assert(json_object_object_get_ex(r1->json, "len", &v) && json_object_get_int64(v) == (int64_t) n);

        /* One byte more: 413, announced by Content-Length and also when sent chunked. */
        big[n - 1] = 'a';
        big[n] = '"';
        big[n + 1] = '\0';
        g_autoptr(Reply) r2 = request(&(Request) { .socket = t.socket, .method = "POST", .path = "/t/echo",
                                                   .body = big, .body_len = n + 1 });
        ck_assert_int_eq(r2->status, 413);
        ck_assert_str_eq(error_code(r2), "too_large");
        g_autoptr(Reply) r3 = request(&(Request) { .socket = t.socket, .method = "POST", .path = "/t/echo",
                                                   .body = big, .body_len = n + 1, .chunked = true });
        ck_assert_int_eq(r3->status, 413);
        ck_assert_str_eq(error_code(r3), "too_large");
        ck_assert_int_eq(g_atomic_int_get(&handler_calls), 1);

        /* The server still answers afterwards. */
        g_autoptr(Reply) r4 = get(t.socket, "/t/items/after");
        ck_assert_int_eq(r4->status, 200);
        test_server_done(&t);
}
END_TEST

START_TEST(test_peer_credentials) {
        TestServer t;
        test_server_init(&t);
        HttpServerOptions o = test_options(t.socket);
        test_server_start(&t, &o);

        g_autoptr(Reply) r = get(t.socket, "/t/peer");
        ck_assert_int_eq(r->status, 200);
        json_object *v;
        ck_assert(json_object_object_get_ex(r->json, "uid", &v));
        ck_assert_int_eq(json_object_get_int64(v), geteuid());
        ck_assert(json_object_object_get_ex(r->json, "gid", &v));
        ck_assert_int_eq(json_object_get_int64(v), getegid());
        ck_assert(json_object_object_get_ex(r->json, "pid", &v));
        ck_assert_int_eq(json_object_get_int64(v), getpid());
        ck_assert(json_object_object_get_ex(r->json, "unix", &v) && json_object_get_boolean(v));
        ck_assert(json_object_object_get_ex(r->json, "local", &v) && v == NULL);

        /* The socket: mode 0660, in a directory created 0755. */
        struct stat st;
        ck_assert_int_eq(lstat(t.socket, &st), 0);
        ck_assert(S_ISSOCK(st.st_mode));
        ck_assert_int_eq(st.st_mode & 07777, 0660);
        ck_assert_int_eq(st.st_gid, getegid()); /* the admin group when not root, else root's group */
        g_autofree char *dir = g_path_get_dirname(t.socket);
        ck_assert_int_eq(stat(dir, &st), 0);
        ck_assert_int_eq(st.st_mode & 07777, 0755);

        test_server_done(&t);
}
END_TEST

/* A raw request from a forked child with other credentials. Returns the HTTP status, or
 * -errno when connecting failed. The body is returned in *ret_body. */
static int child_request(const char *socket_path, uid_t uid, gid_t gid, const gid_t *groups, size_t n_groups,
                         char **ret_body) {
        int pfd[2];
        ck_assert_int_eq(pipe(pfd), 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                close(pfd[0]);
                if (setgroups(n_groups, groups) < 0 || setgid(gid) < 0 || setuid(uid) < 0)
                        _exit(10);
                int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                struct sockaddr_un sa = { .sun_family = AF_UNIX };
                strncpy(sa.sun_path, socket_path, sizeof sa.sun_path - 1);
                char buf[4096];
                if (connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
                        int n = snprintf(buf, sizeof buf, "ERR %d", errno);
                        (void) !write(pfd[1], buf, n);
                        _exit(0);
                }
                const char *q = "GET /t/peer HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
                if (write(fd, q, strlen(q)) != (ssize_t) strlen(q))
                        _exit(11);
                ssize_t k;
                while ((k = read(fd, buf, sizeof buf)) > 0)
                        if (write(pfd[1], buf, k) != k)
                                _exit(12);
                _exit(0);
        }
        close(pfd[1]);
        GString *out = g_string_new(NULL);
        char buf[4096];
        ssize_t k;
        while ((k = read(pfd[0], buf, sizeof buf)) > 0)
                g_string_append_len(out, buf, k);
        close(pfd[0]);
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child failed: %d", status);
        int ret;
        if (g_str_has_prefix(out->str, "ERR "))
                ret = -atoi(out->str + 4);
        else {
                ck_assert_msg(g_str_has_prefix(out->str, "HTTP/1.1 "), "reply: %s", out->str);
                ret = atoi(out->str + 9);
        }
        const char *body = strstr(out->str, "\r\n\r\n");
        *ret_body = g_strdup(body ? body + 4 : "");
        g_string_free(out, true);
        return ret;
}

/* Not an admin: without an admin group, a caller that is not root is refused (as root: the
 * request comes from a child running as nobody, through a socket of mode 0666). */
START_TEST(test_no_admin_group) {
        TestServer t;
        test_server_init(&t);
        HttpServerOptions o = { .socket_path = t.socket };
        if (geteuid() == 0)
                o.socket_mode = 0666; /* so that nobody can connect: the credential check refuses */
        test_server_start(&t, &o);
        long status;
        g_autofree char *body = NULL;
        g_autoptr(Reply) r = NULL;
        if (geteuid() == 0)
                status = child_request(t.socket, 65534, 65534, NULL, 0, &body);
        else {
                r = get(t.socket, "/t/peer");
                status = r->status;
                body = g_strdup(r->body->str);
        }
        ck_assert_msg(status == 403, "status %ld: %s", status, body);
        g_autoptr(json_object) j = json_tokener_parse(body);
        json_object *e;
        ck_assert_msg(j && json_object_object_get_ex(j, "error", &e), "no error object in: %s", body);
        ck_assert_str_eq(jstr(e, "code"), "forbidden");
        ck_assert_msg(strstr(jstr(e, "message"), "neither root nor a member of the admin group"), "%s", body);
        g_autofree char *who = g_strdup_printf("uid %u", (unsigned) (geteuid() == 0 ? 65534 : geteuid()));
        ck_assert_msg(strstr(jstr(e, "message"), who), "%s", body);
        ck_assert_int_eq(g_atomic_int_get(&handler_calls), 0);
        test_server_done(&t);
}
END_TEST

START_TEST(test_non_admin_peer) {
        if (geteuid() != 0)
                unit_skip("needs root: its clients run as uid 65534 with and without group 4242");
        TestServer t;
        test_server_init(&t);
        /* Mode 0666 so that anybody can connect: the credential check is what refuses. */
        HttpServerOptions o = { .socket_path = t.socket, .socket_mode = 0666, .admin_group = "4242" };
        test_server_start(&t, &o);

        g_autofree char *body1 = NULL;
        int st = child_request(t.socket, 65534, 65534, NULL, 0, &body1);
        ck_assert_msg(st == 403, "nobody: %d %s", st, body1);
        ck_assert_ptr_nonnull(strstr(body1, "\"forbidden\""));
        ck_assert_ptr_nonnull(strstr(body1, "uid 65534"));
        ck_assert_int_eq(g_atomic_int_get(&handler_calls), 0);

        /* nobody with the admin group as a supplementary group: allowed, and the handler sees it. */
        gid_t admin = 4242;
        g_autofree char *body2 = NULL;
        st = child_request(t.socket, 65534, 65534, &admin, 1, &body2);
        ck_assert_msg(st == 200, "nobody+admin: %d %s", st, body2);
        ck_assert_ptr_nonnull(strstr(body2, "\"uid\":65534"));
        ck_assert_int_eq(g_atomic_int_get(&handler_calls), 1);

        /* The admin group as primary group: allowed too. */
        g_autofree char *body3 = NULL;
        st = child_request(t.socket, 65534, 4242, NULL, 0, &body3);
        ck_assert_msg(st == 200, "nobody:admin: %d %s", st, body3);
        http_server_stop(t.server);
        t.server = NULL;

        /* With the default mode 0660 root:4242, nobody cannot even connect. */
        HttpServerOptions o2 = { .socket_path = t.socket, .admin_group = "4242" };
        test_server_start(&t, &o2);
        struct stat sst;
        ck_assert_int_eq(lstat(t.socket, &sst), 0);
        ck_assert_int_eq(sst.st_gid, 4242);
        ck_assert_int_eq(sst.st_mode & 07777, 0660);
        g_autofree char *body4 = NULL;
        st = child_request(t.socket, 65534, 65534, NULL, 0, &body4);
        ck_assert_int_eq(st, -EACCES);
        test_server_done(&t);
}
END_TEST

typedef struct Worker {
        const char *socket;
        int index;
        int ok;
} Worker;

static void *worker_run(void *p) {
        Worker *w = p;
        for (int i = 0; i < 10; i++) {
                g_autofree char *path = g_strdup_printf("/t/slow/w%d-%d", w->index, i);
                g_autoptr(Reply) r = get(w->socket, path);
                g_autofree char *want = g_strdup_printf("w%d-%d", w->index, i);
                if (r->status == 200 && r->json && g_strcmp0(jstr(r->json, "id"), want) == 0)
                        w->ok++;
        }
        return NULL;
}

START_TEST(test_concurrent) {
        TestServer t;
        test_server_init(&t);
        HttpServerOptions o = test_options(t.socket);
        test_server_start(&t, &o);

        enum { N = 8 };
        Worker w[N];
        pthread_t th[N];
        for (int i = 0; i < N; i++) {
                w[i] = (Worker) { .socket = t.socket, .index = i };
                ck_assert_int_eq(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
        }
        for (int i = 0; i < N; i++) {
                pthread_join(th[i], NULL);
                ck_assert_msg(w[i].ok == 10, "worker %d: %d of 10 answered correctly", i, w[i].ok);
        }
        ck_assert_int_eq(g_atomic_int_get(&handler_calls), N * 10);
        /* Requests were handled in parallel, not one after the other. */
        ck_assert_int_gt(g_atomic_int_get(&slow_max), 1);
        test_server_done(&t);
}
END_TEST

typedef struct Waiter {
        const char *socket;
        char path[64];
        long status;
        int value;
} Waiter;

static void *waiter_run(void *p) {
        Waiter *w = p;
        g_autoptr(Reply) r = get(w->socket, w->path);
        w->status = r->status;
        w->value = r->json ? json_object_get_int(json_object_object_get(r->json, "value")) : -1;
        return NULL;
}

/* wait until n handlers parked (a 30 s hang guard) */
static void wait_parked(int n) {
        for (int i = 0; i < 3000 && g_atomic_int_get(&wait_parks) < n; i++)
                g_usleep(10000);
        ck_assert_int_ge(g_atomic_int_get(&wait_parks), n);
}

/* Parked requests: woken together by a change, answered at their deadline, answered when the
 * server stops; a change before the park is not missed. */
START_TEST(test_long_poll) {
        TestServer t;
        test_server_init(&t);
        wait_queue = http_wait_queue_new();
        g_atomic_int_set(&wait_value, 0);
        g_atomic_int_set(&wait_parks, 0);
        HttpServerOptions o = test_options(t.socket);
        test_server_start(&t, &o);

        /* nothing to wait for: answered at once */
        g_autoptr(Reply) r0 = get(t.socket, "/t/wait/7");
        ck_assert_int_eq(r0->status, 200);
        ck_assert_int_eq(g_atomic_int_get(&wait_parks), 0);

        /* a deadline: 304 */
        g_autoptr(Reply) r1 = get(t.socket, "/t/wait/0?ms=100");
        ck_assert_int_eq(r1->status, 304);
        ck_assert_int_eq(g_atomic_int_get(&wait_parks), 1);

        /* 40 waiters, one change: every one answered 200 with the new value */
        enum { N = 40 };
        Waiter w[N];
        pthread_t th[N];
        for (int i = 0; i < N; i++) {
                w[i] = (Waiter) { .socket = t.socket };
                snprintf(w[i].path, sizeof w[i].path, "/t/wait/0?ms=60000");
                ck_assert_int_eq(pthread_create(&th[i], NULL, waiter_run, &w[i]), 0);
        }
        wait_parked(1 + N);
        /* a wake that changed nothing parks them again */
        http_wait_queue_wake(wait_queue);
        wait_parked(1 + 2 * N);
        g_atomic_int_set(&wait_value, 1);
        http_wait_queue_wake(wait_queue);
        for (int i = 0; i < N; i++) {
                pthread_join(th[i], NULL);
                ck_assert_msg(w[i].status == 200 && w[i].value == 1, "waiter %d: %ld %d", i, w[i].status, w[i].value);
        }

        /* parked when the server stops: answered (304), and the stop returns */
        g_atomic_int_set(&wait_parks, 0);
        for (int i = 0; i < 3; i++) {
                w[i] = (Waiter) { .socket = t.socket };
                snprintf(w[i].path, sizeof w[i].path, "/t/wait/1?ms=60000");
                ck_assert_int_eq(pthread_create(&th[i], NULL, waiter_run, &w[i]), 0);
        }
        wait_parked(3);
        http_server_stop(t.server);
        t.server = NULL;
        for (int i = 0; i < 3; i++) {
                pthread_join(th[i], NULL);
                ck_assert_msg(w[i].status == 304, "waiter %d at the stop: %ld", i, w[i].status);
        }
        http_wait_queue_free(wait_queue);
        wait_queue = NULL;
        test_server_done(&t);
}
END_TEST

START_TEST(test_socket_path) {
        TestServer t;
        test_server_init(&t);
        g_autofree char *dir = g_path_get_dirname(t.socket);
        ck_assert_int_eq(g_mkdir_with_parents(dir, 0755), 0);

        /* Something that is not a socket is left alone. */
        ck_assert(g_file_set_contents(t.socket, "keep", -1, NULL));
        HttpServerOptions o = test_options(t.socket);
        g_autoptr(GError) error = NULL;
        HttpServer *s = NULL;
        ck_assert_int_eq(http_server_start(&o, test_routes, G_N_ELEMENTS(test_routes), NULL, &s, &error), -EEXIST);
        ck_assert_ptr_nonnull(strstr(error->message, "is not a socket"));
        g_autofree char *contents = NULL;
        ck_assert(g_file_get_contents(t.socket, &contents, NULL, NULL));
        ck_assert_str_eq(contents, "keep");
        ck_assert_int_eq(unlink(t.socket), 0);
        g_clear_error(&error);

        /* A stale socket (nobody listening) is replaced. */
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        strncpy(sa.sun_path, t.socket, sizeof sa.sun_path - 1);
        ck_assert_int_eq(bind(fd, (struct sockaddr *) &sa, sizeof sa), 0);
        close(fd);
        test_server_start(&t, &o);
        g_autoptr(Reply) r = get(t.socket, "/t/items/a");
        ck_assert_int_eq(r->status, 200);

        /* A live server is not replaced. */
        ck_assert_int_eq(http_server_start(&o, test_routes, G_N_ELEMENTS(test_routes), NULL, &s, &error),
                         -EADDRINUSE);
        ck_assert_ptr_nonnull(strstr(error->message, "another server is listening"));
        g_autoptr(Reply) r2 = get(t.socket, "/t/items/a");
        ck_assert_int_eq(r2->status, 200);

        /* Stop removes the socket; afterwards connecting fails. */
        http_server_stop(t.server);
        t.server = NULL;
        struct stat st;
        ck_assert_int_eq(lstat(t.socket, &st), -1);
        g_autoptr(Reply) r3 = get(t.socket, "/t/items/a");
        ck_assert_int_eq(r3->code, CURLE_COULDNT_CONNECT);

        /* An unknown admin group is refused. */
        HttpServerOptions o2 = { .socket_path = t.socket, .admin_group = "no-such-group-nfsprov" };
        g_clear_error(&error);
        ck_assert_int_eq(http_server_start(&o2, test_routes, G_N_ELEMENTS(test_routes), NULL, &s, &error), -ENOENT);
        ck_assert_str_eq(error->message, "admin group \"no-such-group-nfsprov\" does not exist");
        ck_assert_int_eq(lstat(t.socket, &st), -1);
        test_server_done(&t);
}
END_TEST

typedef struct SlowCall {
        const char *socket;
        Reply *reply;
} SlowCall;

static void *slow_call(void *p) {
        SlowCall *c = p;
        c->reply = get(c->socket, "/t/slow/inflight?ms=700");
        return NULL;
}

START_TEST(test_stop_waits) {
        TestServer t;
        test_server_init(&t);
        HttpServerOptions o = test_options(t.socket);
        test_server_start(&t, &o);

        SlowCall c = { .socket = t.socket };
        pthread_t th;
        ck_assert_int_eq(pthread_create(&th, NULL, slow_call, &c), 0);
        for (int i = 0; i < 500 && g_atomic_int_get(&slow_running) == 0; i++)
                g_usleep(2000);
        ck_assert_int_eq(g_atomic_int_get(&slow_running), 1);

        gint64 t0 = g_get_monotonic_time();
        http_server_stop(t.server);
        t.server = NULL;
        gint64 waited = g_get_monotonic_time() - t0;
        pthread_join(th, NULL);
        /* The request in progress was answered before stop returned. */
        ck_assert_int_eq(c.reply->code, CURLE_OK);
        ck_assert_int_eq(c.reply->status, 200);
        ck_assert_str_eq(jstr(c.reply->json, "id"), "inflight");
        ck_assert_int_gt(waited, 300 * 1000);
        reply_free(c.reply);
        test_server_done(&t);
}
END_TEST

static unsigned authorize_token(HttpRequest *req, const HttpRoute *route, void *userdata, char **ret_message) {
        if (g_strcmp0(http_request_header(req, "Authorization"), "Bearer s3cret") == 0)
                return 0;
        *ret_message = g_strdup("wrong token");
        return 401;
}

START_TEST(test_tcp) {
        TestServer t;
        test_server_init(&t);
        HttpServerOptions o = test_options(t.socket);
        o.tcp_host = "127.0.0.1";
        o.tcp_port = 0;
        test_server_start(&t, &o);
        unsigned port = http_server_tcp_port(t.server);
        ck_assert_int_gt(port, 0);

        /* No authorize callback: every TCP request is refused. */
        g_autoptr(Reply) r = request(&(Request) { .port = port, .method = "GET", .path = "/t/peer" });
        ck_assert_int_eq(r->status, 403);
        ck_assert_str_eq(error_code(r), "forbidden");
        http_server_stop(t.server);
        t.server = NULL;

        o.tcp_authorize = authorize_token;
        test_server_start(&t, &o);
        port = http_server_tcp_port(t.server);
        g_autoptr(Reply) r2 = request(&(Request) { .port = port, .method = "GET", .path = "/t/peer",
                                                   .header = "Authorization: Bearer wrong" });
        ck_assert_int_eq(r2->status, 401);
        ck_assert_str_eq(error_code(r2), "forbidden");
        ck_assert_str_eq(error_message(r2), "wrong token");
        ck_assert_msg(has_header(r2, "www-authenticate: bearer\r\n"), "%s", r2->headers->str);
        g_autoptr(Reply) r3 = request(&(Request) { .port = port, .method = "GET", .path = "/t/peer",
                                                   .header = "Authorization: Bearer s3cret" });
        ck_assert_int_eq(r3->status, 200);
        json_object *v;
        ck_assert(json_object_object_get_ex(r3->json, "unix", &v) && !json_object_get_boolean(v));
        ck_assert_str_eq(jstr(r3->json, "local"), "127.0.0.1");
        ck_assert_str_eq(jstr(r3->json, "peer"), "127.0.0.1");
        ck_assert(!json_object_object_get_ex(r3->json, "uid", &v));
        /* A route's own challenge replaces "Bearer" in its 401. */
        g_autoptr(Reply) r6 = request(&(Request) { .port = port, .method = "GET", .path = "/t/page",
                                                   .header = "Authorization: Bearer wrong" });
        ck_assert_int_eq(r6->status, 401);
        ck_assert_msg(has_header(r6, "www-authenticate: basic realm=\"t\"\r\n"), "%s", r6->headers->str);
        ck_assert_msg(!has_header(r6, "www-authenticate: bearer\r\n"), "%s", r6->headers->str);
        g_autoptr(Reply) r7 = request(&(Request) { .port = port, .method = "GET", .path = "/t/page",
                                                   .header = "Authorization: Bearer s3cret" });
        ck_assert_int_eq(r7->status, 200);
        /* 404 over TCP as well (routing comes before authorization there). */
        g_autoptr(Reply) r4 = request(&(Request) { .port = port, .method = "GET", .path = "/nope",
                                                   .header = "Authorization: Bearer s3cret" });
        ck_assert_int_eq(r4->status, 404);
        /* The Unix socket still works alongside. */
        g_autoptr(Reply) r5 = get(t.socket, "/t/items/u");
        ck_assert_int_eq(r5->status, 200);
        test_server_done(&t);
}
END_TEST

/* A client that sends half a request and stalls holds only its own connection; a header block
 * beyond the memory limit is refused and the server keeps serving. */
START_TEST(test_slow_client_and_big_header) {
        TestServer t;
        test_server_init(&t);
        HttpServerOptions o = test_options(t.socket);
        o.tcp_host = "127.0.0.1";
        o.tcp_port = 0;
        o.tcp_authorize = authorize_token;
        test_server_start(&t, &o);
        unsigned port = http_server_tcp_port(t.server);

        int fds[2];
        for (int i = 0; i < 2; i++) {
                fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port),
                                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
                ck_assert_int_eq(connect(fds[i], (struct sockaddr *) &sin, sizeof sin), 0);
                const char *half = "GET /t/peer HTTP/1.1\r\nHost: x\r\nX-Slow: ";
                ck_assert_int_eq(write(fds[i], half, strlen(half)), (ssize_t) strlen(half));
        }
        /* Answered while both stalled connections stay open (the server keeps an idle connection
         * 60 s, longer than the client's 30 s limit): had the server waited for them, this request
         * would time out, or be answered only after they were dropped. */
        g_autoptr(Reply) r = request(&(Request) { .port = port, .method = "GET", .path = "/t/peer",
                                                  .header = "Authorization: Bearer s3cret" });
        ck_assert_msg(r->code == CURLE_OK && r->status == 200, "while two clients stalled: %s, status %ld",
                      curl_easy_strerror(r->code), r->status);
        g_autoptr(Reply) u = get(t.socket, "/t/items/u");
        ck_assert_int_eq(u->status, 200);
        /* The stalled connections were still open all along: each completes its request now and is
         * answered on the same connection. */
        for (int i = 0; i < 2; i++) {
                const char *rest = "1\r\nAuthorization: Bearer s3cret\r\nConnection: close\r\n\r\n";
                ck_assert_int_eq(write(fds[i], rest, strlen(rest)), (ssize_t) strlen(rest));
                struct timeval tv = { .tv_sec = 30 };
                ck_assert_int_eq(setsockopt(fds[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
                g_autoptr(GString) answer = g_string_new(NULL);
                char buf[4096];
                ssize_t k;
                while ((k = read(fds[i], buf, sizeof buf)) > 0)
                        g_string_append_len(answer, buf, k);
                ck_assert_msg(g_str_has_prefix(answer->str, "HTTP/1.1 200"), "stalled client %d: [%s]", i, answer->str);
                ck_assert_msg(strstr(answer->str, "\"peer\":\"127.0.0.1\""), "stalled client %d: [%s]", i,
                              answer->str);
        }

        g_autofree char *big = g_strnfill(100 * 1024, 'a');
        g_autofree char *line = g_strdup_printf("X-Big: %s", big);
        g_autoptr(Reply) b = request(&(Request) { .port = port, .method = "GET", .path = "/t/peer", .header = line });
        ck_assert_msg(b->status == 431 || b->status == 413, "a 100 KiB header: status %ld", b->status);
        g_autoptr(Reply) after = get(t.socket, "/t/items/u");
        ck_assert_int_eq(after->status, 200);
        close(fds[0]);
        close(fds[1]);
        test_server_done(&t);
}
END_TEST

static void setup(void) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        signal(SIGPIPE, SIG_IGN);
}

Suite *unit_suite(void) {
        Suite *s = suite_create("http");
        TCase *tc = tcase_create("http");
        tcase_add_checked_fixture(tc, setup, NULL);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_routing_and_params);
        tcase_add_test(tc, test_not_found_and_method);
        tcase_add_test(tc, test_json_body);
        tcase_add_test(tc, test_body_limit);
        tcase_add_test(tc, test_peer_credentials);
        tcase_add_test(tc, test_no_admin_group);
        tcase_add_test(tc, test_non_admin_peer);
        tcase_add_test(tc, test_concurrent);
        tcase_add_test(tc, test_long_poll);
        tcase_add_test(tc, test_socket_path);
        tcase_add_test(tc, test_stop_waits);
        tcase_add_test(tc, test_tcp);
        tcase_add_test(tc, test_slow_client_and_big_header);
        suite_add_tcase(s, tc);
        return s;
}

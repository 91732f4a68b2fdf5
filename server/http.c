/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <microhttpd.h>

#include "error.h"
#include "http.h"
#include "json_body.h"
#include "macro.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59
#endif

#define HTTP_STATUS_TOO_LARGE 413
#define HTTP_STATUS_UNAVAILABLE 503

typedef struct Listener {
        HttpServer *server;
        struct MHD_Daemon *daemon;
        int fd;
        bool is_unix;
} Listener;

typedef struct CompiledRoute {
        const HttpRoute *route;
        char **segments;   /* pattern split at "/" (without the leading one) */
        size_t n_segments;
        char **names;      /* n_segments entries: the parameter name of a "{name}" segment, else NULL */
} CompiledRoute;

struct HttpServer {
        CompiledRoute *routes;
        size_t n_routes;
        void *userdata;
        size_t max_body;
        bool has_admin_gid;
        gid_t admin_gid;
        HttpAuthorize tcp_authorize;

        Listener unix_listener;
        Listener tcp_listener;   /* daemon NULL when there is no TCP listener */
        unsigned tcp_port;

        char *socket_path;
        dev_t socket_dev;
        ino_t socket_ino;

        GMutex lock;
        GCond idle;
        unsigned in_flight;
        bool stopping;

        GThreadPool *workers;    /* handlers, stream openings and finishes: any number of threads */
        GThreadPool *rerun;      /* handlers of parked requests woken again: a few threads */
        GQueue parked;           /* HttpRequest*, parked now (park_lock) */
        bool parks_closed;       /* stopping: nothing parks any more (park_lock) */
};

/* The long polls: every HttpWaitQueue's sequence and parked requests, every request's park_*
 * fields, every server's parked list and parks_closed. */
static GMutex park_lock;

struct HttpWaitQueue {
        guint64 seq;             /* counts wakes */
        GSequence *parked;       /* HttpRequest*, by deadline */
        GCond cond;              /* wakes the timer: an earlier deadline, or closing */
        bool closing;
        GThread *timer;
};

/* What a worker thread does for a request (the connection is suspended meanwhile). */
typedef enum Job {
        JOB_HANDLE,   /* run the handler (again, for a parked request) */
        JOB_OPEN,     /* open a streaming route */
        JOB_FINISH,   /* finish a streamed body */
} Job;

struct HttpRequest {
        Listener *listener;
        struct MHD_Connection *connection;
        char *method;
        char *path;
        const HttpRoute *route;
        char **param_names;   /* borrowed from the compiled route */
        char **param_values;  /* owned */
        size_t n_params;

        GByteArray *body;
        bool too_large;
        json_object *json;

        bool streaming;        /* the route's stream took the body */
        HttpStream stream;
        GError *stream_error;  /* a write failed: the rest is dropped */

        bool has_cred;
        struct ucred cred;
        char *peer_address;
        char *local_address;

        gint64 started;          /* monotonic, when the headers arrived */
        Job job;
        HttpResponse *answer;    /* set by a worker: queued when the connection resumes */
        bool reentry;            /* resumed after JOB_OPEN: MHD calls the first call again */

        HttpWaitQueue *park_queue;  /* set by http_request_park() during the handler */
        guint64 park_seq;
        gint64 park_deadline;
        GSequenceIter *park_iter;   /* in park_queue->parked while parked */
        GList *park_link;           /* in the server's parked list while parked */
        bool wait_over;
};

typedef struct ResponseHeader {
        char *name;
        char *value;
} ResponseHeader;

struct HttpResponse {
        bool set;
        unsigned status;
        char *content_type;
        char *body;
        size_t len;
        GArray *headers;   /* ResponseHeader */
        int fd;            /* a file body (http_response_file), -1: none */
        uint64_t offset, length;
};

/* ---- responses ---- */

const char *http_error_code(unsigned status) {
        switch (status) {
        case 400:
        case 405:
                return "invalid_input";
        case 401:
        case 403:
                return "forbidden";
        case 404:
                return "not_found";
        case 409:
                return "conflict";
        case 411:
                return "length_required";
        case 413:
                return "too_large";
        case 416:
                return "range_not_satisfiable";
        default:
                return "failed";
        }
}

static void response_init(HttpResponse *resp) {
        *resp = (HttpResponse) { .fd = -1 };
        resp->headers = g_array_new(false, true, sizeof(ResponseHeader));
}

static void response_clear_body(HttpResponse *resp) {
        g_clear_pointer(&resp->content_type, g_free);
        g_clear_pointer(&resp->body, g_free);
        resp->len = 0;
        if (resp->fd >= 0)
                close(resp->fd);
        resp->fd = -1;
}

static void response_done(HttpResponse *resp) {
        response_clear_body(resp);
        for (guint i = 0; resp->headers && i < resp->headers->len; i++) {
                ResponseHeader *h = &g_array_index(resp->headers, ResponseHeader, i);
                g_free(h->name);
                g_free(h->value);
        }
        if (resp->headers)
                g_array_free(resp->headers, true);
        resp->headers = NULL;
}

void http_response_json(HttpResponse *resp, unsigned status, json_object *body) {
        response_clear_body(resp);
        resp->set = true;
        resp->status = status;
        resp->content_type = g_strdup("application/json");
        if (body) {
                const char *s = json_object_to_json_string_ext(
                                body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
                resp->body = g_strconcat(s, "\n", NULL);
                resp->len = strlen(resp->body);
                json_object_put(body);
        }
}

void http_response_text(HttpResponse *resp, unsigned status, const char *content_type, const char *text) {
        response_clear_body(resp);
        resp->set = true;
        resp->status = status;
        resp->content_type = g_strdup(content_type ? content_type : "text/plain; charset=utf-8");
        resp->body = g_strdup(text ? text : "");
        resp->len = strlen(resp->body);
}

void http_response_error(HttpResponse *resp, unsigned status, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        g_autofree char *message = g_strdup_vprintf(fmt, ap);
        va_end(ap);

        json_object *err = json_object_new_object();
        json_object_object_add(err, "code", json_object_new_string(http_error_code(status)));
        json_object_object_add(err, "message", json_object_new_string(message));
        json_object *o = json_object_new_object();
        json_object_object_add(o, "error", err);
        http_response_json(resp, status, o);
}

void http_response_file(HttpResponse *resp, unsigned status, const char *content_type, int fd, uint64_t offset,
                        uint64_t length) {
        response_clear_body(resp);
        resp->set = true;
        resp->status = status;
        resp->content_type = g_strdup(content_type ? content_type : "application/octet-stream");
        resp->fd = fd;
        resp->offset = offset;
        resp->length = length;
}

void http_response_header(HttpResponse *resp, const char *name, const char *value) {
        ResponseHeader h = { g_strdup(name), g_strdup(value) };
        g_array_append_val(resp->headers, h);
}

bool http_response_is_set(const HttpResponse *resp) {
        return resp->set;
}

void http_response_status(HttpResponse *resp, unsigned status) {
        response_clear_body(resp);
        resp->set = true;
        resp->status = status;
}

static HttpResponse *response_new(void) {
        HttpResponse *resp = g_new(HttpResponse, 1);
        response_init(resp);
        return resp;
}

static void response_free(HttpResponse *resp) {
        if (!resp)
                return;
        response_done(resp);
        g_free(resp);
}

/* ---- requests ---- */

const char *http_request_method(const HttpRequest *req) {
        return req->method;
}

const char *http_request_path(const HttpRequest *req) {
        return req->path;
}

const char *http_request_param(const HttpRequest *req, const char *name) {
        for (size_t i = 0; i < req->n_params; i++)
                if (strcmp(req->param_names[i], name) == 0)
                        return req->param_values[i];
        return NULL;
}

const char *http_request_query(const HttpRequest *req, const char *key) {
        const char *value = NULL;
        if (MHD_lookup_connection_value_n(req->connection, MHD_GET_ARGUMENT_KIND, key, strlen(key), &value,
                                          NULL) != MHD_YES)
                return NULL;
        return value ? value : "";
}

int http_request_query_bool(const HttpRequest *req, const char *key, bool def, bool *ret, GError **error) {
        const char *v = http_request_query(req, key);
        bool b;
        if (!v)
                b = def;
        else if (v[0] == '\0' || g_ascii_strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0 ||
                 g_ascii_strcasecmp(v, "yes") == 0)
                b = true;
        else if (g_ascii_strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0 || g_ascii_strcasecmp(v, "no") == 0)
                b = false;
        else
                return np_fail(error, EINVAL, "invalid query argument %s=\"%s\"; allowed: true, false, 1, 0, yes, no",
                               key, v);
        *ret = b;
        return 0;
}

const char *http_request_header(const HttpRequest *req, const char *name) {
        return MHD_lookup_connection_value(req->connection, MHD_HEADER_KIND, name);
}

json_object *http_request_json(const HttpRequest *req) {
        return req->json;
}

const char *http_request_body(const HttpRequest *req, size_t *ret_len) {
        if (ret_len)
                *ret_len = req->body ? req->body->len : 0;
        if (!req->body || req->body->len == 0)
                return "";
        return (const char *) req->body->data;
}

bool http_request_is_unix(const HttpRequest *req) {
        return req->listener->is_unix;
}

int http_request_peer_cred(const HttpRequest *req, uid_t *ret_uid, gid_t *ret_gid, pid_t *ret_pid) {
        if (!req->has_cred)
                return -ENODATA;
        if (ret_uid)
                *ret_uid = req->cred.uid;
        if (ret_gid)
                *ret_gid = req->cred.gid;
        if (ret_pid)
                *ret_pid = req->cred.pid;
        return 0;
}

const char *http_request_peer_address(const HttpRequest *req) {
        return req->peer_address;
}

const char *http_request_local_address(const HttpRequest *req) {
        return req->local_address;
}

typedef struct HeaderJoin {
        const char *name;
        GString *value;
} HeaderJoin;

static enum MHD_Result header_join(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
        HeaderJoin *j = cls;
        if (key && g_ascii_strcasecmp(key, j->name) == 0) {
                if (!j->value)
                        j->value = g_string_new(NULL);
                else
                        g_string_append(j->value, ", ");
                g_string_append(j->value, value ? value : "");
        }
        return MHD_YES;
}

char *http_request_header_list(const HttpRequest *req, const char *name) {
        HeaderJoin j = { name, NULL };
        MHD_get_connection_values(req->connection, MHD_HEADER_KIND, header_join, &j);
        return j.value ? g_string_free(j.value, false) : NULL;
}

gint64 http_request_started(const HttpRequest *req) {
        return req->started;
}

bool http_request_wait_over(const HttpRequest *req) {
        return req->wait_over;
}

void http_request_park(HttpRequest *req, HttpWaitQueue *q, guint64 seq, gint64 deadline) {
        req->park_queue = q;
        req->park_seq = seq;
        req->park_deadline = deadline;
}

static void request_free(HttpRequest *req) {
        if (!req)
                return;
        g_free(req->method);
        g_free(req->path);
        g_strfreev(req->param_values);
        g_free(req->param_names);
        if (req->body)
                g_byte_array_free(req->body, true);
        if (req->json)
                json_object_put(req->json);
        if (req->streaming) {
                /* the client went away before the body ended: the stream learns it had no end */
                req->stream.finish(req->stream.sink, false, NULL, NULL);
                req->stream.free(req->stream.sink);
        }
        g_clear_error(&req->stream_error);
        response_free(req->answer);
        g_free(req->peer_address);
        g_free(req->local_address);
        g_free(req);
}

/* ---- peer identity ---- */

static char *sockaddr_to_text(const struct sockaddr_storage *ss) {
        char buf[INET6_ADDRSTRLEN];
        if (ss->ss_family == AF_INET) {
                const struct sockaddr_in *in = (const struct sockaddr_in *) ss;
                if (inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf))
                        return g_strdup(buf);
        } else if (ss->ss_family == AF_INET6) {
                const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) ss;
                if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
                        if (inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], buf, sizeof buf))
                                return g_strdup(buf);
                } else if (inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof buf))
                        return g_strdup(buf);
        }
        return NULL;
}

static int connection_fd(struct MHD_Connection *connection) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
        return ci ? ci->connect_fd : -1;
}

/* Supplementary groups of the peer at connect time. Falls back to /proc/PID/status (Groups:)
 * on kernels without SO_PEERGROUPS. Returns the number of groups, or a negative errno. */
static int peer_groups(int fd, pid_t pid, gid_t **ret) {
        socklen_t len = 64 * sizeof(gid_t);
        for (int attempt = 0; attempt < 4; attempt++) {
                g_autofree gid_t *groups = g_malloc0(len);
                socklen_t l = len;
                if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &l) == 0) {
                        *ret = TAKE_PTR(groups);
                        return (int) (l / sizeof(gid_t));
                }
                if (errno == ERANGE && l > len) {
                        len = l;
                        continue;
                }
                if (errno != ENOPROTOOPT)
                        return -errno;
                break;
        }

        g_autofree char *path = g_strdup_printf("/proc/%d/status", (int) pid);
        g_autofree char *contents = NULL;
        if (!g_file_get_contents(path, &contents, NULL, NULL))
                return -ENOENT;
        const char *line = strstr(contents, "\nGroups:");
        if (!line)
                return -ENODATA;
        line += strlen("\nGroups:");
        g_autoptr(GArray) groups = g_array_new(false, false, sizeof(gid_t));
        while (*line && *line != '\n') {
                char *end;
                while (*line == ' ' || *line == '\t')
                        line++;
                if (!g_ascii_isdigit(*line))
                        break;
                gid_t g = (gid_t) strtoul(line, &end, 10);
                g_array_append_val(groups, g);
                line = end;
        }
        int n = (int) groups->len;
        *ret = (gid_t *) g_array_free(TAKE_PTR(groups), false);
        return n;
}

static bool peer_is_admin(const HttpServer *s, const HttpRequest *req) {
        if (!req->has_cred)
                return false;
        if (req->cred.uid == 0)
                return true;
        if (!s->has_admin_gid)
                return false;
        if (req->cred.gid == s->admin_gid)
                return true;
        g_autofree gid_t *groups = NULL;
        int n = peer_groups(connection_fd(req->connection), req->cred.pid, &groups);
        for (int i = 0; i < n; i++)
                if (groups[i] == s->admin_gid)
                        return true;
        return false;
}

static void request_identify(HttpRequest *req) {
        int fd = connection_fd(req->connection);
        if (fd < 0)
                return;
        if (req->listener->is_unix) {
                socklen_t l = sizeof req->cred;
                if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &req->cred, &l) == 0)
                        req->has_cred = true;
                return;
        }
        struct sockaddr_storage ss;
        socklen_t l = sizeof ss;
        if (getpeername(fd, (struct sockaddr *) &ss, &l) == 0)
                req->peer_address = sockaddr_to_text(&ss);
        l = sizeof ss;
        if (getsockname(fd, (struct sockaddr *) &ss, &l) == 0)
                req->local_address = sockaddr_to_text(&ss);
}

/* ---- routing ---- */

static bool segment_is_param(const char *seg) {
        size_t n = strlen(seg);
        return n > 2 && seg[0] == '{' && seg[n - 1] == '}';
}

static bool route_matches(const CompiledRoute *r, char *const *segs, size_t n_segs) {
        if (r->n_segments != n_segs)
                return false;
        for (size_t i = 0; i < n_segs; i++) {
                if (r->names[i]) {
                        if (segs[i][0] == '\0')
                                return false;
                } else if (strcmp(r->segments[i], segs[i]) != 0)
                        return false;
        }
        return true;
}

/* Find the route for method+path. Returns 200 (found, params set), 404, or 405 with *ret_allow. */
static unsigned route_find(HttpServer *s, HttpRequest *req, char **ret_allow) {
        if (req->path[0] != '/')
                return 404;
        g_auto(GStrv) segs = g_strsplit(req->path + 1, "/", -1);
        size_t n_segs = g_strv_length(segs);
        g_autoptr(GString) allow = NULL;

        for (size_t i = 0; i < s->n_routes; i++) {
                const CompiledRoute *r = &s->routes[i];
                if (!route_matches(r, segs, n_segs))
                        continue;
                if (strcmp(r->route->method, req->method) != 0) {
                        if (!allow)
                                allow = g_string_new(NULL);
                        g_auto(GStrv) have = g_strsplit(allow->str, ", ", -1);
                        if (!g_strv_contains((const char *const *) have, r->route->method))
                                g_string_append_printf(allow, "%s%s", allow->len ? ", " : "", r->route->method);
                        continue;
                }
                req->route = r->route;
                req->param_names = g_new0(char *, n_segs + 1);
                req->param_values = g_new0(char *, n_segs + 1);
                for (size_t k = 0; k < n_segs; k++) {
                        if (!r->names[k])
                                continue;
                        req->param_names[req->n_params] = r->names[k];
                        req->param_values[req->n_params] = g_strdup(segs[k]);
                        req->n_params++;
                }
                return 200;
        }
        if (allow) {
                *ret_allow = g_string_free(TAKE_PTR(allow), false);
                return 405;
        }
        return 404;
}

/* ---- libmicrohttpd glue ---- */

static enum MHD_Result queue(HttpRequest *req, HttpResponse *resp, const char *allow) {
        struct MHD_Response *r;
        if (resp->fd >= 0) {
                /* libmicrohttpd sends it from the file (sendfile where it can) and closes fd */
                r = MHD_create_response_from_fd_at_offset64(resp->length, resp->fd, resp->offset);
                if (r)
                        resp->fd = -1;
        } else
                r = MHD_create_response_from_buffer(resp->len, resp->body ? resp->body : (char *) "",
                                                    MHD_RESPMEM_MUST_COPY);
        if (!r)
                return MHD_NO;
        if (resp->content_type)
                MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
        if (allow)
                MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
        if (resp->status == 401)
                MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                        req->route && req->route->challenge ? req->route->challenge : "Bearer");
        for (guint i = 0; i < resp->headers->len; i++) {
                ResponseHeader *h = &g_array_index(resp->headers, ResponseHeader, i);
                MHD_add_response_header(r, h->name, h->value);
        }
        HttpServer *s = req->listener->server;
        g_mutex_lock(&s->lock);
        bool stopping = s->stopping;
        g_mutex_unlock(&s->lock);
        if (stopping)
                MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
        enum MHD_Result ret = MHD_queue_response(req->connection, resp->status, r);
        MHD_destroy_response(r);
        return ret;
}

static enum MHD_Result queue_error(HttpRequest *req, unsigned status, const char *allow, const char *fmt, ...)
        G_GNUC_PRINTF(4, 5);
static enum MHD_Result queue_error(HttpRequest *req, unsigned status, const char *allow, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        g_autofree char *message = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        HttpResponse resp;
        response_init(&resp);
        http_response_error(&resp, status, "%s", message);
        enum MHD_Result r = queue(req, &resp, allow);
        response_done(&resp);
        return r;
}

static void request_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
                              enum MHD_RequestTerminationCode toe) {
        Listener *l = cls;
        HttpRequest *req = *con_cls;
        if (!req)
                return;
        *con_cls = NULL;
        request_free(req);
        HttpServer *s = l->server;
        g_mutex_lock(&s->lock);
        s->in_flight--;
        if (s->in_flight == 0)
                g_cond_broadcast(&s->idle);
        g_mutex_unlock(&s->lock);
}

/* ---- workers and long polls ---- */

static gint by_deadline(gconstpointer a, gconstpointer b, gpointer unused) {
        const HttpRequest *x = a, *y = b;
        if (x->park_deadline != y->park_deadline)
                return x->park_deadline < y->park_deadline ? -1 : 1;
        return x < y ? -1 : x > y ? 1 : 0;
}

/* Take a parked request out of its queue and run its handler again (park_lock held). */
static void unpark_locked(HttpRequest *req, bool wait_over) {
        HttpServer *s = req->listener->server;
        g_sequence_remove(req->park_iter);
        req->park_iter = NULL;
        g_queue_delete_link(&s->parked, req->park_link);
        req->park_link = NULL;
        if (wait_over)
                req->wait_over = true;
        g_thread_pool_push(s->rerun, req, NULL);
}

/* After a handler asked to park: true when the request is parked (its connection stays
 * suspended); false when the handler must run again at once (the queue was woken since the
 * handler read its sequence, or the wait is over). */
static bool park(HttpRequest *req) {
        HttpServer *s = req->listener->server;
        HttpWaitQueue *q = req->park_queue;
        bool parked = false;
        g_mutex_lock(&park_lock);
        if (s->parks_closed || q->closing || g_get_monotonic_time() >= req->park_deadline)
                req->wait_over = true;
        else if (q->seq == req->park_seq) {
                req->park_iter = g_sequence_insert_sorted(q->parked, req, by_deadline, NULL);
                g_queue_push_tail(&s->parked, req);
                req->park_link = s->parked.tail;
                if (g_sequence_iter_is_begin(req->park_iter))
                        g_cond_signal(&q->cond); /* the earliest deadline now */
                parked = true;
        }
        g_mutex_unlock(&park_lock);
        return parked;
}

static HttpResponse *run_handler(HttpServer *s, HttpRequest *req) {
        for (;;) {
                HttpResponse *resp = response_new();
                bool was_over = req->wait_over;
                req->park_queue = NULL;
                int r = req->route->handler(req, resp, s->userdata);
                if (!resp->set && req->park_queue && !was_over) {
                        if (park(req)) {
                                response_free(resp);
                                return NULL;
                        }
                        response_free(resp);
                        continue;
                }
                if (!resp->set && req->park_queue)
                        http_response_error(resp, 500, "internal error: the handler waited again after its wait ended");
                else if (!resp->set && r < 0)
                        http_response_error(resp, 500, "internal error: %s", g_strerror(-r));
                else if (!resp->set)
                        http_response_error(resp, 500, "internal error: the handler gave no response");
                return resp;
        }
}

/* A worker thread: the job of a suspended connection, then its answer and the resume. */
static void worker_run(gpointer data, gpointer user_data) {
        HttpRequest *req = data;
        HttpServer *s = user_data;
        HttpResponse *resp = NULL;
        switch (req->job) {
        case JOB_HANDLE:
                resp = run_handler(s, req);
                if (!resp)
                        return; /* parked: the connection stays suspended */
                break;
        case JOB_OPEN: {
                resp = response_new();
                HttpStream opened = { 0 };
                int q = req->route->stream(req, resp, &opened, s->userdata);
                req->reentry = true;
                if (q >= 0 && !resp->set && opened.write) {
                        req->stream = opened;
                        req->streaming = true;
                        g_clear_pointer(&resp, response_free);
                } else if (!resp->set)
                        http_response_error(resp, 500, "internal error: %s", g_strerror(q < 0 ? -q : EIO));
                break;
        }
        case JOB_FINISH:
                resp = response_new();
                req->streaming = false;
                req->stream.finish(req->stream.sink, !req->stream_error, req->stream_error, resp);
                req->stream.free(req->stream.sink);
                if (!resp->set)
                        http_response_error(resp, 500, "internal error: the stream gave no response");
                break;
        }
        req->answer = resp;
        /* From here the request belongs to libmicrohttpd's thread again. */
        MHD_resume_connection(req->connection);
}

/* Hand the request to a worker: its connection is suspended (no thread holds it) until the
 * worker resumes it with an answer. */
static enum MHD_Result dispatch(HttpRequest *req, Job job) {
        req->job = job;
        MHD_suspend_connection(req->connection);
        g_thread_pool_push(req->listener->server->workers, req, NULL);
        return MHD_YES;
}

static gpointer queue_timer(gpointer data) {
        HttpWaitQueue *q = data;
        g_mutex_lock(&park_lock);
        while (!q->closing) {
                GSequenceIter *first = g_sequence_get_begin_iter(q->parked);
                if (g_sequence_iter_is_end(first)) {
                        g_cond_wait(&q->cond, &park_lock);
                        continue;
                }
                HttpRequest *req = g_sequence_get(first);
                if (req->park_deadline > g_get_monotonic_time()) {
                        g_cond_wait_until(&q->cond, &park_lock, req->park_deadline);
                        continue;
                }
                unpark_locked(req, true);
        }
        g_mutex_unlock(&park_lock);
        return NULL;
}

HttpWaitQueue *http_wait_queue_new(void) {
        HttpWaitQueue *q = g_new0(HttpWaitQueue, 1);
        q->parked = g_sequence_new(NULL);
        g_cond_init(&q->cond);
        q->timer = g_thread_new("http-wait", queue_timer, q);
        return q;
}

guint64 http_wait_queue_seq(HttpWaitQueue *q) {
        g_mutex_lock(&park_lock);
        guint64 seq = q->seq;
        g_mutex_unlock(&park_lock);
        return seq;
}

void http_wait_queue_wake(HttpWaitQueue *q) {
        g_mutex_lock(&park_lock);
        q->seq++;
        while (!g_sequence_is_empty(q->parked))
                unpark_locked(g_sequence_get(g_sequence_get_begin_iter(q->parked)), false);
        g_mutex_unlock(&park_lock);
}

void http_wait_queue_free(HttpWaitQueue *q) {
        if (!q)
                return;
        g_mutex_lock(&park_lock);
        q->closing = true;
        while (!g_sequence_is_empty(q->parked))
                unpark_locked(g_sequence_get(g_sequence_get_begin_iter(q->parked)), true);
        g_cond_signal(&q->cond);
        g_mutex_unlock(&park_lock);
        g_thread_join(q->timer);
        g_sequence_free(q->parked);
        g_cond_clear(&q->cond);
        g_free(q);
}

static enum MHD_Result first_call(Listener *l, HttpRequest *req) {
        HttpServer *s = l->server;

        g_mutex_lock(&s->lock);
        bool stopping = s->stopping;
        g_mutex_unlock(&s->lock);
        if (stopping)
                return queue_error(req, HTTP_STATUS_UNAVAILABLE, NULL, "the server is shutting down");

        request_identify(req);
        if (l->is_unix && !peer_is_admin(s, req)) {
                if (!req->has_cred)
                        return queue_error(req, 403, NULL, "access denied: the peer's credentials are unknown");
                return queue_error(req, 403, NULL,
                                   "access denied: uid %u is neither root nor a member of the admin group",
                                   (unsigned) req->cred.uid);
        }

        g_autofree char *allow = NULL;
        unsigned st = route_find(s, req, &allow);
        if (st == 404)
                return queue_error(req, 404, NULL, "no such resource: %s", req->path);
        if (st == 405)
                return queue_error(req, 405, allow, "method %s is not allowed for %s; allowed: %s", req->method,
                                   req->path, allow);

        if (!l->is_unix) {
                if (!s->tcp_authorize)
                        return queue_error(req, 403, NULL, "access denied: the API is not open on TCP");
                g_autofree char *msg = NULL;
                unsigned st_auth = s->tcp_authorize(req, req->route, s->userdata, &msg);
                if (st_auth != 0)
                        return queue_error(req, st_auth, NULL, "%s", msg ? msg : "access denied");
        }

        if (req->route->stream)
                /* A streamed body: the route decides now, before any of it arrives. */
                return dispatch(req, JOB_OPEN);

        const char *cl = MHD_lookup_connection_value(req->connection, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl) {
                char *end;
                errno = 0;
                unsigned long long n = strtoull(cl, &end, 10);
                if (errno == 0 && end != cl && n > s->max_body)
                        return queue_error(req, HTTP_STATUS_TOO_LARGE, NULL,
                                           "request body too large: %llu bytes; allowed: at most %zu", n,
                                           s->max_body);
        }
        req->body = g_byte_array_new();
        return MHD_YES;
}

static enum MHD_Result access_handler(void *cls, struct MHD_Connection *connection, const char *url,
                                      const char *method, const char *version, const char *upload_data,
                                      size_t *upload_data_size, void **con_cls) {
        Listener *l = cls;
        HttpServer *s = l->server;
        HttpRequest *req = *con_cls;

        if (!req) {
                req = g_new0(HttpRequest, 1);
                req->started = g_get_monotonic_time();
                req->listener = l;
                req->connection = connection;
                req->method = g_strdup(method);
                req->path = g_strdup(url);
                *con_cls = req;
                g_mutex_lock(&s->lock);
                s->in_flight++;
                g_mutex_unlock(&s->lock);
                return first_call(l, req);
        }

        if (req->answer) {
                /* a worker's answer: the connection resumed */
                HttpResponse *resp = TAKE_PTR(req->answer);
                req->reentry = false;
                enum MHD_Result ret = queue(req, resp, NULL);
                response_free(resp);
                return ret;
        }
        if (req->reentry) {
                /* resumed after the stream opened: libmicrohttpd repeats the first call */
                req->reentry = false;
                return MHD_YES;
        }

        if (req->streaming) {
                if (*upload_data_size > 0) {
                        if (!req->stream_error)
                                (void) req->stream.write(req->stream.sink, upload_data, *upload_data_size,
                                                         &req->stream_error);
                        *upload_data_size = 0;
                        return MHD_YES;
                }
                /* the end of the body */
                return dispatch(req, JOB_FINISH);
        }

        if (!req->body) {
                /* A response was queued in the first call; drop whatever still arrives. */
                *upload_data_size = 0;
                return MHD_YES;
        }

        if (*upload_data_size > 0) {
                if (!req->too_large) {
                        if (req->body->len + *upload_data_size > s->max_body) {
                                req->too_large = true;
                                g_byte_array_set_size(req->body, 0);
                        } else
                                g_byte_array_append(req->body, (const guint8 *) upload_data,
                                                    (guint) *upload_data_size);
                }
                *upload_data_size = 0;
                return MHD_YES;
        }

        if (req->too_large)
                return queue_error(req, HTTP_STATUS_TOO_LARGE, NULL,
                                   "request body too large; allowed: at most %zu bytes", s->max_body);
        /* NUL-terminate the body (not counted in its length). */
        g_byte_array_append(req->body, (const guint8 *) "", 1);
        g_byte_array_set_size(req->body, req->body->len - 1);
        /* The one read of the body: handlers get the value (http_request_json()). */
        g_autoptr(GError) bad = NULL;
        if (json_body_parse((const char *) req->body->data, req->body->len, &req->json, &bad) < 0)
                return queue_error(req, 400, NULL, "%s", bad->message);

        return dispatch(req, JOB_HANDLE);
}

/* ---- listeners ---- */

static int resolve_group(const char *name, gid_t *ret, GError **error) {
        const char *p = name;
        if (*p && strspn(p, "0123456789") == strlen(p)) {
                errno = 0;
                char *end;
                unsigned long v = strtoul(p, &end, 10);
                if (errno != 0 || *end || v >= UINT32_MAX)
                        return np_fail(error, EINVAL, "invalid admin group \"%s\": number out of range", name);
                *ret = (gid_t) v;
                return 0;
        }
        struct group grp, *res = NULL;
        char buf[16384];
        int r = getgrnam_r(name, &grp, buf, sizeof buf, &res);
        if (r != 0)
                return np_fail(error, r, "cannot look up admin group \"%s\": %s", name, g_strerror(r));
        if (!res)
                return np_fail(error, ENOENT, "admin group \"%s\" does not exist", name);
        *ret = res->gr_gid;
        return 0;
}

static int unix_socket_create(HttpServer *s, const char *path, unsigned mode, int *ret_fd, GError **error) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (!g_path_is_absolute(path))
                return np_fail(error, EINVAL, "socket path \"%s\" is not absolute", path);
        if (strlen(path) >= sizeof sa.sun_path)
                return np_fail(error, ENAMETOOLONG, "socket path \"%s\" is too long; allowed: at most %zu bytes",
                               path, sizeof sa.sun_path - 1);
        strcpy(sa.sun_path, path);

        g_autofree char *dir = g_path_get_dirname(path);
        if (g_mkdir_with_parents(dir, 0755) < 0)
                return np_fail(error, errno, "cannot create the socket directory %s: %s", dir, g_strerror(errno));

        struct stat st;
        if (lstat(path, &st) == 0) {
                if (!S_ISSOCK(st.st_mode))
                        return np_fail(error, EEXIST, "cannot listen on %s: it exists and is not a socket", path);
                _cleanup_close_ int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (probe < 0)
                        return np_fail(error, errno, "cannot create a socket: %s", g_strerror(errno));
                if (connect(probe, (struct sockaddr *) &sa, sizeof sa) == 0)
                        return np_fail(error, EADDRINUSE, "cannot listen on %s: another server is listening on it",
                                       path);
                if (errno != ECONNREFUSED)
                        return np_fail(error, errno, "cannot listen on %s: probing the existing socket: %s", path,
                                       g_strerror(errno));
                if (unlink(path) < 0 && errno != ENOENT)
                        return np_fail(error, errno, "cannot remove the stale socket %s: %s", path,
                                       g_strerror(errno));
        } else if (errno != ENOENT)
                return np_fail(error, errno, "cannot listen on %s: %s", path, g_strerror(errno));

        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return np_fail(error, errno, "cannot create a socket: %s", g_strerror(errno));
        if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                return np_fail(error, errno, "cannot bind %s: %s", path, g_strerror(errno));
        /* Not listening yet: nobody can connect before mode and owner are right. */
        int r = 0;
        if (chmod(path, mode) < 0)
                r = np_fail(error, errno, "cannot set mode %04o on %s: %s", mode, path, g_strerror(errno));
        else if (s->has_admin_gid && chown(path, (uid_t) -1, s->admin_gid) < 0)
                r = np_fail(error, errno, "cannot give %s to group %u: %s", path, (unsigned) s->admin_gid,
                            g_strerror(errno));
        else if (lstat(path, &st) < 0)
                r = np_fail(error, errno, "cannot stat %s: %s", path, g_strerror(errno));
        else if (listen(fd, SOMAXCONN) < 0)
                r = np_fail(error, errno, "cannot listen on %s: %s", path, g_strerror(errno));
        if (r < 0) {
                unlink(path);
                return r;
        }
        s->socket_path = g_strdup(path);
        s->socket_dev = st.st_dev;
        s->socket_ino = st.st_ino;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static int tcp_socket_create(HttpServer *s, const char *host, unsigned port, int *ret_fd, GError **error) {
        struct addrinfo hints = {
                .ai_family = AF_UNSPEC,
                .ai_socktype = SOCK_STREAM,
                .ai_flags = AI_PASSIVE | AI_NUMERICSERV,
        };
        char portbuf[16];
        snprintf(portbuf, sizeof portbuf, "%u", port);
        struct addrinfo *ai = NULL;
        int g = getaddrinfo(host, portbuf, &hints, &ai);
        if (g != 0)
                return np_fail(error, EADDRNOTAVAIL, "cannot listen on %s port %u: %s", host, port,
                               gai_strerror(g));

        int r = 0;
        _cleanup_close_ int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;
        if (fd < 0)
                r = np_fail(error, errno, "cannot create a socket: %s", g_strerror(errno));
        else if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
                r = np_fail(error, errno, "cannot set SO_REUSEADDR: %s", g_strerror(errno));
        else if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0)
                r = np_fail(error, errno, "cannot bind %s port %u: %s", host, port, g_strerror(errno));
        else if (listen(fd, SOMAXCONN) < 0)
                r = np_fail(error, errno, "cannot listen on %s port %u: %s", host, port, g_strerror(errno));
        freeaddrinfo(ai);
        if (r < 0)
                return r;

        struct sockaddr_storage ss;
        socklen_t l = sizeof ss;
        if (getsockname(fd, (struct sockaddr *) &ss, &l) < 0)
                return np_fail(error, errno, "cannot read the bound address: %s", g_strerror(errno));
        s->tcp_port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *) &ss)->sin6_port
                                                      : ((struct sockaddr_in *) &ss)->sin_port);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* A connection's memory (libmicrohttpd's pool: the request line and headers as read, the answer's
 * headers, the read buffer a request body passes through). On TCP 32 KiB, so that the pool is
 * malloc'ed: libmicrohttpd mmaps a pool above 32 KiB (MHD_pool_create in its memorypool.c:
 * max <= 32 * 1024 is malloc'ed) and munmaps it when the connection ends; at 64 KiB each new
 * connection cost ~0.7 ms of the polling thread, three times what it costs with 32 KiB, and
 * TCP is where hosts poll GET /v1/pools, each on a new connection (tests/bench/README.md). The
 * headers a client sends (a Bearer token, an If-None-Match with a tag) are well under a KiB; a
 * request line and headers of about 31 KiB still pass (431 beyond). On the Unix socket 64 KiB:
 * its clients are the admin's commands, a connection each, and a volume upload arrives in read
 * buffers of up to the pool's size: with 32 KiB nfsprovd spent ~1.5x the CPU on one (256 MiB:
 * 0.26-0.32 s -> 0.35-0.54 s). */
#define CONNECTION_MEMORY_TCP (32 * 1024)
#define CONNECTION_MEMORY_UNIX (64 * 1024)

static int listener_start(Listener *l, const HttpServerOptions *o, GError **error) {
        unsigned limit = o->connection_limit ? o->connection_limit : 64;
        unsigned timeout = o->connection_timeout ? o->connection_timeout : 60;
        /* One thread polls all of a listener's connections (epoll); requests run on the workers. */
        unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_ALLOW_SUSPEND_RESUME |
                         (MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES ? MHD_USE_EPOLL : MHD_USE_POLL);
        bool tls = !l->is_unix && o->tls_cert_pem;
        if (tls) {
                if (!o->tls_key_pem)
                        return np_fail(error, EINVAL, "a TLS certificate was given without its key");
                if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
                        return np_fail(error, EOPNOTSUPP, "this libmicrohttpd was built without TLS support");
                flags |= MHD_USE_TLS;
        }
        struct MHD_OptionItem tls_options[] = {
                { tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, (void *) o->tls_cert_pem },
                { MHD_OPTION_HTTPS_MEM_KEY, 0, (void *) o->tls_key_pem },
                { MHD_OPTION_END, 0, NULL },
        };
        l->daemon = MHD_start_daemon(flags, 0, NULL, NULL, access_handler, l,
                                     MHD_OPTION_LISTEN_SOCKET, (MHD_socket) l->fd,
                                     MHD_OPTION_ARRAY, tls_options,
                                     MHD_OPTION_CONNECTION_LIMIT, limit,
                                     MHD_OPTION_CONNECTION_TIMEOUT, timeout,
                                     MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                                     (size_t) (l->is_unix ? CONNECTION_MEMORY_UNIX : CONNECTION_MEMORY_TCP),
                                     MHD_OPTION_NOTIFY_COMPLETED, request_completed, l,
                                     MHD_OPTION_END);
        if (!l->daemon)
                return np_fail(error, EIO, "cannot start the HTTP server on %s%s",
                               l->is_unix ? o->socket_path : o->tcp_host,
                               tls ? " (is the TLS certificate or key invalid or not matching?)" : "");
        return 0;
}

static void listener_quiesce(Listener *l) {
        if (!l->daemon)
                return;
        MHD_socket fd = MHD_quiesce_daemon(l->daemon);
        if (fd != MHD_INVALID_SOCKET && fd >= 0)
                close(fd);
        l->fd = -1;
}

static void listener_stop(Listener *l) {
        if (l->daemon)
                MHD_stop_daemon(l->daemon);
        l->daemon = NULL;
        if (l->fd >= 0)
                close(l->fd);
        l->fd = -1;
}

static void server_free(HttpServer *s) {
        if (!s)
                return;
        /* No request is in flight: the workers end their last resume, then the daemons stop. */
        if (s->workers)
                g_thread_pool_free(s->workers, false, true);
        if (s->rerun)
                g_thread_pool_free(s->rerun, false, true);
        listener_stop(&s->unix_listener);
        listener_stop(&s->tcp_listener);
        if (s->socket_path) {
                struct stat st;
                /* Remove the socket only if it is still ours (not replaced by another server). */
                if (lstat(s->socket_path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == s->socket_dev &&
                    st.st_ino == s->socket_ino)
                        unlink(s->socket_path);
        }
        for (size_t i = 0; i < s->n_routes; i++) {
                for (size_t k = 0; k < s->routes[i].n_segments && s->routes[i].names; k++)
                        g_free(s->routes[i].names[k]);
                g_free(s->routes[i].names);
                g_strfreev(s->routes[i].segments);
        }
        g_free(s->routes);
        g_free(s->socket_path);
        g_mutex_clear(&s->lock);
        g_cond_clear(&s->idle);
        g_free(s);
}

int http_server_start(const HttpServerOptions *o, const HttpRoute *routes, size_t n_routes, void *userdata,
                      HttpServer **ret, GError **error) {
        if (!o || !o->socket_path)
                return np_fail(error, EINVAL, "no socket path given for the HTTP server");

        HttpServer *s = g_new0(HttpServer, 1);
        g_mutex_init(&s->lock);
        g_cond_init(&s->idle);
        s->unix_listener = (Listener) { .server = s, .fd = -1, .is_unix = true };
        s->tcp_listener = (Listener) { .server = s, .fd = -1, .is_unix = false };
        s->userdata = userdata;
        s->max_body = o->max_body ? o->max_body : HTTP_MAX_BODY_DEFAULT;
        s->tcp_authorize = o->tcp_authorize;
        g_queue_init(&s->parked);
        s->workers = g_thread_pool_new(worker_run, s, -1, false, NULL);
        s->rerun = g_thread_pool_new(worker_run, s, (gint) CLAMP(g_get_num_processors(), 2, 8), false, NULL);
        s->n_routes = n_routes;
        s->routes = g_new0(CompiledRoute, n_routes);
        int r = 0;
        for (size_t i = 0; i < n_routes; i++) {
                s->routes[i].route = &routes[i];
                if (!routes[i].pattern || routes[i].pattern[0] != '/' || !routes[i].method || (!routes[i].handler == !routes[i].stream)) {
                        r = np_fail(error, EINVAL, "invalid route %zu", i);
                        goto fail;
                }
                CompiledRoute *c = &s->routes[i];
                c->segments = g_strsplit(routes[i].pattern + 1, "/", -1);
                c->n_segments = g_strv_length(c->segments);
                c->names = g_new0(char *, c->n_segments + 1);
                for (size_t k = 0; k < c->n_segments; k++)
                        if (segment_is_param(c->segments[k]))
                                c->names[k] = g_strndup(c->segments[k] + 1, strlen(c->segments[k]) - 2);
        }

        if (o->admin_group) {
                r = resolve_group(o->admin_group, &s->admin_gid, error);
                if (r < 0)
                        goto fail;
                s->has_admin_gid = true;
        }

        r = unix_socket_create(s, o->socket_path, o->socket_mode ? o->socket_mode : 0660, &s->unix_listener.fd,
                               error);
        if (r < 0)
                goto fail;
        r = listener_start(&s->unix_listener, o, error);
        if (r < 0)
                goto fail;

        if (o->tcp_host) {
                r = tcp_socket_create(s, o->tcp_host, o->tcp_port, &s->tcp_listener.fd, error);
                if (r < 0)
                        goto fail;
                r = listener_start(&s->tcp_listener, o, error);
                if (r < 0)
                        goto fail;
        }

        *ret = s;
        return 0;
fail:
        server_free(s);
        return r;
}

unsigned http_server_tcp_port(const HttpServer *s) {
        return s && s->tcp_listener.daemon ? s->tcp_port : 0;
}

void http_server_stop(HttpServer *s) {
        if (!s)
                return;
        g_mutex_lock(&s->lock);
        s->stopping = true;
        g_mutex_unlock(&s->lock);

        listener_quiesce(&s->unix_listener);
        listener_quiesce(&s->tcp_listener);

        /* Parked requests are answered now, as if their wait ended. */
        g_mutex_lock(&park_lock);
        s->parks_closed = true;
        while (s->parked.head)
                unpark_locked(s->parked.head->data, true);
        g_mutex_unlock(&park_lock);

        g_mutex_lock(&s->lock);
        while (s->in_flight > 0)
                g_cond_wait(&s->idle, &s->lock);
        g_mutex_unlock(&s->lock);

        server_free(s);
}

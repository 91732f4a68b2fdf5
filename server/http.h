/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A small HTTP/1.1 + JSON server on libmicrohttpd, with no knowledge of what it serves.
 *
 * Contract:
 * - Listeners: a Unix socket (always) and optionally a TCP address. The Unix socket is created
 *   here: its directory is created (mode 0755) when missing, a stale socket left by a dead
 *   process is replaced (only when the path is a socket and nothing answers on it; anything else
 *   at the path, or a live server, is refused), then it is bound with mode socket_mode (0660)
 *   and owner root:admin_group when an admin group is given (and the process is root).
 *   http_server_stop() removes it again (when it is still the one this server created).
 * - Threads: one libmicrohttpd thread per listener polls all its connections (epoll) and reads
 *   requests; a request's connection is suspended while a worker thread (a pool that grows as
 *   needed, so a handler may block: it holds only its own worker) runs its handler, a streaming
 *   route's opening and its finish, and resumed with the answer. Handlers run concurrently and
 *   must do their own locking. An idle connection, or a parked one (long polls, below), holds no
 *   thread. A streamed body's chunks are written on the polling thread.
 * - Long polls: a handler with nothing to answer yet parks the request on an HttpWaitQueue
 *   (http_request_park) instead of filling the response. Its handler runs again (on one of a few
 *   threads kept for this) when the queue is woken, when the deadline passes and when the server
 *   stops: then http_request_wait_over() is true and it must answer. A handler that parks must
 *   not block. libmicrohttpd does not see a client go away while it is parked: the request ends
 *   at its deadline at the latest.
 * - Routes: a method plus a path pattern of literal segments and "{param}" segments, each
 *   matching one non-empty path segment. A path that no route matches gets 404; a path that
 *   matches only with another method gets 405 with an Allow header.
 * - Authorization, before anything else runs: on the Unix socket only the peer's uid 0 or a
 *   peer that has the admin group (primary or supplementary, as the kernel reports them for the
 *   connection with SO_PEERCRED / SO_PEERGROUPS) may talk; others get 403. On TCP the server's
 *   authorize callback decides; without one, every TCP request gets 403.
 * - Bounds: at most connection_limit connections per listener (a slow client holds only its own
 *   connection), closed after connection_timeout seconds without progress (not while parked);
 *   the request line and headers must fit in the connection's memory
 *   (MHD_OPTION_CONNECTION_MEMORY_LIMIT, see http.c): 32 KiB on TCP (measured: a 31 KiB header
 *   passes, a 32 KiB one gets 431), 64 KiB on the Unix socket (a 63 KiB header passes).
 * - TLS on the TCP listener when a certificate and key are given (libmicrohttpd with GnuTLS).
 * - Request bodies are read up to max_body bytes (default 1 MiB); a bigger one gets 413 (at once
 *   when Content-Length announces it); a streaming route (HttpRoute.stream) gets its body in
 *   chunks instead, with no bound here. A non-empty body must be JSON (server/json_body.h): it is
 *   read once, here; a malformed one gets 400 before the handler runs; the handler gets the parsed
 *   value (http_request_json()).
 * - Responses: a handler fills the HttpResponse with http_response_json() / _text() / _error()
 *   and returns 0. A handler that returns a negative errno without having set a response gets
 *   500. Errors have the body {"error":{"code":CODE,"message":"one line"}} with CODE one of
 *   invalid_input (400, 405), forbidden (401, 403), not_found (404), conflict (409),
 *   too_large (413), failed (everything else).
 * - http_server_stop() stops accepting connections, answers requests that arrive on open
 *   connections with 503, waits until every request being handled has been answered, then
 *   stops the threads and frees the server.
 *
 * Nothing here logs; http_server_start() reports through GError.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <glib.h>
#include <json-c/json.h>

#define HTTP_MAX_BODY_DEFAULT (1024 * 1024)

typedef struct HttpServer HttpServer;
typedef struct HttpRequest HttpRequest;
typedef struct HttpResponse HttpResponse;

/* Returns 0 when resp was filled, or a negative errno (500 unless resp was filled). */
typedef int (*HttpHandler)(HttpRequest *req, HttpResponse *resp, void *userdata);

/* A streamed request body (the upload of a file: never held in memory). write gets every chunk
 * in order (a negative errno stops it: the rest of the body is read and dropped); finish runs
 * once: after the body ended (complete = true unless a write failed: write_error) with resp to
 * fill, or, when the client went away first, with complete = false and resp NULL (nobody to
 * answer). Then free. */
typedef struct HttpStream {
        int (*write)(void *sink, const char *data, size_t len, GError **error);
        void (*finish)(void *sink, bool complete, const GError *write_error, HttpResponse *resp);
        void (*free)(void *sink);
        void *sink;
} HttpStream;

/* A streaming route's opening, once the headers arrived and the request was authorized, before
 * any of the body: either fill resp (refused: the body is dropped) or *ret_stream. */
typedef int (*HttpStreamOpen)(HttpRequest *req, HttpResponse *resp, HttpStream *ret_stream, void *userdata);

typedef struct HttpRoute {
        const char *method;    /* "GET", "POST", "PUT", "DELETE", ... */
        const char *pattern;   /* "/v1/shares/{name}/resize" */
        HttpHandler handler;
        HttpStreamOpen stream; /* instead of handler: the body is streamed (no max_body) */
        const char *challenge; /* the WWW-Authenticate of its 401 on TCP; NULL: "Bearer" */
} HttpRoute;

/* TCP requests: return 0 to let the request through, else the status to refuse it with (401 or
 * 403) and optionally one line in *ret_message (g_malloc'ed; NULL gives "access denied"). Called
 * before the body is read, with the route that matched (headers, peer address and local address
 * are available). A 401 carries "WWW-Authenticate: Bearer" (or the route's challenge). */
typedef unsigned (*HttpAuthorize)(HttpRequest *req, const HttpRoute *route, void *userdata, char **ret_message);

typedef struct HttpServerOptions {
        const char *socket_path;    /* required: absolute path of the Unix socket */
        unsigned socket_mode;       /* 0 = 0660 */
        const char *admin_group;    /* name or number; NULL = only root on the Unix socket */
        const char *tcp_host;       /* NULL = no TCP listener; "0.0.0.0", "::", an address or name */
        unsigned tcp_port;          /* 0 with tcp_host = any free port (see http_server_tcp_port) */
        HttpAuthorize tcp_authorize;/* NULL = refuse every TCP request */
        size_t max_body;            /* 0 = HTTP_MAX_BODY_DEFAULT */
        unsigned connection_limit;  /* 0 = 64 */
        unsigned connection_timeout;/* seconds an idle connection is kept; 0 = 60 */
        const char *tls_cert_pem;   /* TCP only: PEM certificate (chain) text; NULL = plain HTTP */
        const char *tls_key_pem;    /* its PEM private key; required with tls_cert_pem */
} HttpServerOptions;

/* Create the listeners and start serving routes[0..n_routes-1]; the routes array and userdata
 * must outlive the server. Fails with a negative errno and one line in error (e.g. -EADDRINUSE
 * when another server answers on the socket, -EEXIST when something that is not a socket is at
 * the path, -ENOENT for an unknown admin group). */
int http_server_start(const HttpServerOptions *options, const HttpRoute *routes, size_t n_routes,
                      void *userdata, HttpServer **ret, GError **error);
/* Stop (see above) and free. NULL is a no-op. */
void http_server_stop(HttpServer *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HttpServer, http_server_stop)

/* The TCP port actually bound (useful with tcp_port 0); 0 without a TCP listener. */
unsigned http_server_tcp_port(const HttpServer *s);

/* --- Requests (valid during the handler call) --- */

const char *http_request_method(const HttpRequest *req);
const char *http_request_path(const HttpRequest *req);   /* decoded, without the query */
/* The value of a "{param}" of the matched pattern (NULL when the pattern has none of that name). */
const char *http_request_param(const HttpRequest *req, const char *name);
/* A query argument (decoded); NULL when absent; "" for "?flag". */
const char *http_request_query(const HttpRequest *req, const char *key);
/* A boolean query argument: absent -> def; "true"/"1"/"yes"/"" -> true; "false"/"0"/"no" ->
 * false; anything else -> -EINVAL with one line naming the argument and the allowed values. */
int http_request_query_bool(const HttpRequest *req, const char *key, bool def, bool *ret, GError **error);
/* A request header (case-insensitive name); NULL when absent. */
const char *http_request_header(const HttpRequest *req, const char *name);
/* The parsed body; NULL when the body was empty. Owned by the request. */
json_object *http_request_json(const HttpRequest *req);
/* The raw body (NUL-terminated) and its length; "" when empty. */
const char *http_request_body(const HttpRequest *req, size_t *ret_len);

/* Every value of a request header (case-insensitive name), joined with ", " as RFC 9110 5.3
 * allows for list headers; NULL when absent. g_free() it. */
char *http_request_header_list(const HttpRequest *req, const char *name);
/* When the request's headers arrived (g_get_monotonic_time()). */
gint64 http_request_started(const HttpRequest *req);

/* --- Long polls --- */

typedef struct HttpWaitQueue HttpWaitQueue;

/* A queue and the one thread that ends its requests' waits at their deadlines. Free it only
 * after http_server_stop() of every server that parks requests on it, or with none parked. */
HttpWaitQueue *http_wait_queue_new(void);
void http_wait_queue_free(HttpWaitQueue *q);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HttpWaitQueue, http_wait_queue_free)
/* Counts the wakes: read it before looking at what the requests wait for. */
guint64 http_wait_queue_seq(HttpWaitQueue *q);
/* What the parked requests wait for may have changed: run their handlers again. Any thread. */
void http_wait_queue_wake(HttpWaitQueue *q);
/* From a handler, instead of filling the response: park the request until q is woken after seq
 * (read before the handler looked; a wake since then runs the handler again at once), or until
 * deadline (monotonic). */
void http_request_park(HttpRequest *req, HttpWaitQueue *q, guint64 seq, gint64 deadline);
/* The request was parked and its deadline passed, or the server stops: answer now. */
bool http_request_wait_over(const HttpRequest *req);

/* Whether the request came over the Unix socket. */
bool http_request_is_unix(const HttpRequest *req);
/* The peer's credentials (Unix socket): 0, or -ENODATA on TCP. */
int http_request_peer_cred(const HttpRequest *req, uid_t *ret_uid, gid_t *ret_gid, pid_t *ret_pid);
/* TCP: the address the client connected from / the local address it connected to, as numeric
 * text without brackets or port ("192.168.1.1", "fe80::1"); NULL on the Unix socket. */
const char *http_request_peer_address(const HttpRequest *req);
const char *http_request_local_address(const HttpRequest *req);

/* --- Responses --- */

/* JSON response; takes the reference to body (which may be NULL for an empty body). */
void http_response_json(HttpResponse *resp, unsigned status, json_object *body);
/* A text response of the given content type (text is copied). */
void http_response_text(HttpResponse *resp, unsigned status, const char *content_type, const char *text);
/* An error response: {"error":{"code":http_error_code(status),"message":...}}. */
void http_response_error(HttpResponse *resp, unsigned status, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
/* A response whose body is `length` bytes of the file open at fd, from offset; fd is taken (the
 * server closes it) and sent from the file (sendfile where possible), never read into memory. */
void http_response_file(HttpResponse *resp, unsigned status, const char *content_type, int fd, uint64_t offset,
                        uint64_t length);
/* Add a header to the response (e.g. Location). */
void http_response_header(HttpResponse *resp, const char *name, const char *value);
/* A response without a body (and without Content-Type), e.g. 304. */
void http_response_status(HttpResponse *resp, unsigned status);
/* Whether a response was set. */
bool http_response_is_set(const HttpResponse *resp);

/* The error code for an HTTP status (see above). */
const char *http_error_code(unsigned status);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The unix transport (server/cli_http.h): HTTP/1.1 over nfsprovd's Unix socket, one connection
 * per request ("Connection: close"). A streamed body waits for "100 Continue" (or a final
 * answer, which ends the request unsent) for at most CONTINUE_WAIT_MS, as curl does, then is
 * sent; when nfsprovd stops reading it (it answered early and closed), the answer is read.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli_http.h"
#include "error.h"
#include "http_answer.h"
#include "macro.h"

#define CONTINUE_WAIT_MS 1000
#define SEND_CHUNK (256U * 1024)
#define RECV_CHUNK (64U * 1024)

typedef struct Exchange {
        const CliTarget *target;
        const CliRequest *req;
        HttpAnswer *response;
        bool interim_continue; /* 100 Continue came */
        int64_t recv_start_us;
        uint64_t received;
} Exchange;

static int on_interim(void *userdata, long status) {
        Exchange *x = userdata;
        if (status == 100)
                x->interim_continue = true;
        return 0;
}

static int on_head(void *userdata, const HttpAnswerHead *h) {
        Exchange *x = userdata;
        CliAnswerHead head = { .status = h->status, .content_length = h->content_length, .etag = h->etag };
        x->recv_start_us = g_get_monotonic_time();
        return x->req->on_head ? x->req->on_head(x->req->userdata, &head) : 0;
}

static int on_body(void *userdata, const char *data, size_t len) {
        Exchange *x = userdata;
        int r = x->req->on_body ? x->req->on_body(x->req->userdata, data, len) : 0;
        if (r < 0)
                return r;
        x->received += len;
        http_pace(x->recv_start_us, x->received, x->req->max_recv_rate);
        return 0;
}

static int cut_short(const Exchange *x, GError **error) {
        return np_fail(error, EPIPE,
                       "nfsprovd at %s closed the connection without a complete answer (did it stop? see its log)",
                       http_target_where(x->target));
}

static int connect_socket(const char *path, int *ret_fd, GError **error) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(path) >= sizeof sa.sun_path)
                return np_fail(error, ENAMETOOLONG, "cannot reach nfsprovd at %s: %s", path, g_strerror(ENAMETOOLONG));
        memcpy(sa.sun_path, path, strlen(path) + 1);
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return np_fail(error, errno, "cannot reach nfsprovd at %s: %s", path, g_strerror(errno));
        int r;
        do
                r = connect(fd, (struct sockaddr *) &sa, sizeof sa);
        while (r < 0 && errno == EINTR);
        if (r < 0)
                return np_fail(error, errno, "cannot reach nfsprovd at %s: %s", path, g_strerror(errno));
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* All of data, or -errno (EPIPE, ECONNRESET: nfsprovd stopped reading). */
static int send_all(int fd, const char *data, size_t len) {
        while (len > 0) {
                ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                data += n;
                len -= (size_t) n;
        }
        return 0;
}

/* One read into the answer: 1 while it goes on, 0 at its end (complete), or an error. */
static int receive(Exchange *x, int fd, char *buf, GError **error) {
        ssize_t n;
        do
                n = read(fd, buf, RECV_CHUNK);
        while (n < 0 && errno == EINTR);
        if (n < 0 && errno != ECONNRESET)
                return np_fail(error, errno, "reading nfsprovd's answer at %s: %s", http_target_where(x->target),
                               g_strerror(errno));
        if (n <= 0) {
                if (http_answer_end(x->response, NULL) < 0)
                        return cut_short(x, error);
                return 0;
        }
        g_autoptr(GError) e = NULL;
        int r = http_answer_feed(x->response, buf, (size_t) n, &e);
        if (r < 0 && e)
                return np_fail(error, -r, "request to nfsprovd at %s failed: %s", http_target_where(x->target),
                               e->message);
        if (r < 0)
                return -ECANCELED; /* a callback stopped it */
        return http_answer_done(x->response) ? 0 : 1;
}

static GString *request_head(const CliRequest *req) {
        GString *h = g_string_new(NULL);
        g_string_append_printf(h, "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n", req->method, req->path);
        for (const char *const *l = req->headers; l && *l; l++)
                g_string_append_printf(h, "%s\r\n", *l);
        if (req->content_type) {
                uint64_t length = req->read_body ? req->body_length : req->body_len;
                g_string_append_printf(h, "Content-Type: %s\r\nContent-Length: %" PRIu64 "\r\n", req->content_type,
                                       length);
                if (req->read_body)
                        g_string_append(h, "Expect: 100-continue\r\n");
        }
        g_string_append(h, "\r\n");
        if (req->content_type && !req->read_body)
                g_string_append_len(h, req->body, (gssize) req->body_len);
        return h;
}

/* Wait for 100 Continue or a final answer, at most CONTINUE_WAIT_MS: 1 to send the body, 0 when
 * the answer came (or ended) instead, or an error. */
static int await_continue(Exchange *x, int fd, char *buf, GError **error) {
        int64_t deadline = g_get_monotonic_time() + CONTINUE_WAIT_MS * 1000;
        while (!x->interim_continue && !http_answer_has_head(x->response)) {
                int64_t left_ms = (deadline - g_get_monotonic_time()) / 1000;
                if (left_ms <= 0)
                        return 1;
                struct pollfd pfd = { .fd = fd, .events = POLLIN };
                int n = poll(&pfd, 1, (int) left_ms);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return np_fail(error, errno, "poll: %s", g_strerror(errno));
                if (n == 0)
                        return 1;
                int r = receive(x, fd, buf, error);
                if (r <= 0)
                        return r;
        }
        return http_answer_has_head(x->response) ? 0 : 1;
}

/* The streamed body: 0 when sent or when nfsprovd stopped reading it, -ECANCELED when
 * read_body failed. */
static int send_body(Exchange *x, int fd) {
        const CliRequest *req = x->req;
        g_autofree char *chunk = g_malloc(SEND_CHUNK);
        int64_t start = g_get_monotonic_time();
        for (uint64_t sent = 0; sent < req->body_length;) {
                size_t want = (size_t) MIN((uint64_t) SEND_CHUNK, req->body_length - sent);
                ssize_t n = req->read_body(req->userdata, chunk, want, sent);
                if (n <= 0)
                        return -ECANCELED;
                if (send_all(fd, chunk, (size_t) n) < 0)
                        return 0; /* its answer says why */
                sent += (uint64_t) n;
                http_pace(start, sent, req->max_send_rate);
        }
        return 0;
}

static int unix_perform(const CliTarget *target, const CliRequest *req, GError **error) {
        Exchange x = { .target = target, .req = req };
        HttpAnswerCallbacks cb = { .on_interim = on_interim, .on_head = on_head, .on_body = on_body, .userdata = &x };
        g_autoptr(HttpAnswer) response = x.response = http_answer_new(&cb);
        _cleanup_close_ int fd = -1;
        int r = connect_socket(target->socket_path, &fd, error);
        if (r < 0)
                return r;
        g_autofree char *buf = g_malloc(RECV_CHUNK);
        g_autoptr(GString) head = request_head(req);
        r = send_all(fd, head->str, head->len);
        if (r < 0 && r != -EPIPE && r != -ECONNRESET)
                return np_fail(error, -r, "request to nfsprovd at %s failed: %s", target->socket_path, g_strerror(-r));
        if (r == 0 && req->read_body) {
                r = await_continue(&x, fd, buf, error);
                if (r < 0)
                        return r;
                if (r > 0) {
                        r = send_body(&x, fd);
                        if (r < 0)
                                return r;
                }
        }
        r = 1;
        while (r > 0 && !http_answer_done(response))
                r = receive(&x, fd, buf, error);
        return r < 0 ? r : 0;
}

const CliTransport cli_transport_unix = {
        .name = "unix",
        .perform = unix_perform,
};

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "cli_api.h"
#include "cli_http.h"
#include "fdio.h"
#include "json_autoptr.h"
#include "log.h"
#include "macro.h"
#include "size.h"

#define ETAG_XATTR "user.nfsprov.etag"

static CliTarget target;

void cli_target_set(const CliTarget *t) {
        target = *t;
}

void reply_free(Reply *r) {
        if (!r)
                return;
        g_string_free(r->body, true);
        json_object_put(r->json);
        g_free(r);
}

static Reply *reply_new(void) {
        Reply *r = g_new0(Reply, 1);
        r->body = g_string_new(NULL);
        return r;
}

/* One request through the target's transport; the failure printed, as the exit status.
 * -ECANCELED (a callback stopped it) is the caller's to print: returned as is. */
static int perform(const CliRequest *req) {
        g_autoptr(GError) error = NULL;
        int r = cli_transport_for(&target)->perform(&target, req, &error);
        if (r == -ECANCELED)
                return r;
        if (r < 0)
                return log_exit(EXIT_FAILURE, "%s", error->message);
        return 0;
}

/* A whole answer into a Reply. */
static int reply_head(void *userdata, const CliAnswerHead *head) {
        Reply *r = userdata;
        r->status = head->status;
        return 0;
}

static int reply_body(void *userdata, const char *data, size_t len) {
        Reply *r = userdata;
        g_string_append_len(r->body, data, (gssize) len);
        return 0;
}

static void parse_body(Reply *r, const char *accept) {
        if (r->body->len > 0 && (!accept || !strstr(accept, "xml")))
                r->json = json_tokener_parse(r->body->str);
}

int cli_call(const char *method, const char *path, json_object *body, const char *accept, Reply **ret) {
        g_autoptr(Reply) r = reply_new();
        const char *headers[] = { accept ? accept : "Accept: application/json", NULL };
        CliRequest req = { .method = method, .path = path, .headers = headers,
                            .on_head = reply_head, .on_body = reply_body, .userdata = r };
        if (body) {
                req.content_type = "application/json";
                req.body = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN);
                req.body_len = strlen(req.body);
        }
        int st = perform(&req);
        if (st)
                return st;
        parse_body(r, accept);
        *ret = TAKE_PTR(r);
        return 0;
}

const char *jstr(json_object *o, const char *key) {
        json_object *v;
        if (!o || !json_object_object_get_ex(o, key, &v) || !v)
                return NULL;
        return json_object_get_string(v);
}

bool jbool(json_object *o, const char *key) {
        json_object *v;
        return o && json_object_object_get_ex(o, key, &v) && v && json_object_get_boolean(v);
}

bool jint(json_object *o, const char *key, int64_t *ret) {
        json_object *v;
        if (!o || !json_object_object_get_ex(o, key, &v) || !v || !json_object_is_type(v, json_type_int))
                return false;
        *ret = json_object_get_int64(v);
        return true;
}

static int failed_with(json_object *error_object, long status) {
        const char *msg = jstr(error_object, "message");
        int st = status == 400 ? CLI_EXIT_INVALID : EXIT_FAILURE;
        if (msg)
                return log_exit(st, "%s", msg);
        return log_exit(st, "nfsprovd answered with HTTP status %ld", status);
}

int reply_failed(const Reply *r) {
        json_object *e = NULL;
        if (r->json)
                json_object_object_get_ex(r->json, "error", &e);
        return failed_with(e, r->status);
}

bool reply_ok(const Reply *r) {
        return r->status >= 200 && r->status < 300;
}

static int must_be_json(Reply *r) {
        if (!reply_ok(r))
                return reply_failed(r);
        if (!r->json)
                return log_exit(EXIT_FAILURE, "nfsprovd answered without valid JSON (HTTP status %ld)", r->status);
        return 0;
}

int cli_call_json(const char *method, const char *path, json_object *body, Reply **ret) {
        g_autoptr(Reply) r = NULL;
        int st = cli_call(method, path, body, NULL, &r);
        if (st == 0)
                st = must_be_json(r);
        if (st)
                return st;
        *ret = TAKE_PTR(r);
        return 0;
}

int cli_call_list(const char *method, const char *path, const char *key, Reply **ret, json_object **ret_list) {
        g_autoptr(Reply) r = NULL;
        int st = cli_call_json(method, path, NULL, &r);
        if (st)
                return st;
        json_object *list = NULL;
        if (!json_object_object_get_ex(r->json, key, &list) || !json_object_is_type(list, json_type_array))
                return log_exit(EXIT_FAILURE, "nfsprovd's answer has no \"%s\" list", key);
        *ret_list = list;
        *ret = TAKE_PTR(r);
        return 0;
}

/* ---- progress on a terminal ---- */

typedef struct Progress {
        bool shown;             /* stderr is a terminal */
        const char *what;
        int64_t started_us;
        int64_t last_us;
        bool drawn;
} Progress;

static void progress_init(Progress *p, const char *what) {
        *p = (Progress) { .shown = isatty(STDERR_FILENO), .what = what, .started_us = g_get_monotonic_time() };
}

static void progress_line(Progress *p, const char *fmt, ...) _printf_(2, 3);
static void progress_line(Progress *p, const char *fmt, ...) {
        if (!p->shown)
                return;
        int64_t now = g_get_monotonic_time();
        if (p->drawn && now - p->last_us < 200000)
                return;
        p->last_us = now;
        va_list ap;
        va_start(ap, fmt);
        g_autofree char *text = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        fprintf(stderr, "\r\033[K%s: %s", p->what, text);
        fflush(stderr);
        p->drawn = true;
}

static void progress_end(Progress *p) {
        if (p->shown && p->drawn) {
                fputs("\r\033[K", stderr);
                fflush(stderr);
        }
}

static void progress_bytes(Progress *p, uint64_t done, uint64_t total) {
        if (!p->shown)
                return;
        double secs = (double) (g_get_monotonic_time() - p->started_us) / 1e6;
        g_autofree char *d = size_format(done);
        g_autofree char *t = size_format(total);
        g_autofree char *rate = size_format(secs > 0.1 ? (uint64_t) ((double) done / secs) : 0);
        progress_line(p, "%s of %s (%.0f%%), %s/s", d, t, total ? 100.0 * (double) done / (double) total : 100.0,
                      rate);
}

/* ---- operations ---- */

int cli_operation(const char *method, const char *path, json_object *body, const char *what, Reply **ret) {
        g_autoptr(Reply) r = NULL;
        if (!isatty(STDERR_FILENO)) {
                /* no one to show the steps to: one request that answers when it is done */
                g_autofree char *waiting = g_strdup_printf("%s%swait=true", path, strchr(path, '?') ? "&" : "?");
                int st = cli_call_json(method, waiting, body, &r);
                if (st)
                        return st;
                *ret = TAKE_PTR(r);
                return 0;
        }
        int st = cli_call(method, path, body, NULL, &r);
        if (st == 0)
                st = must_be_json(r);
        if (st)
                return st;
        if (r->status != 202) {
                *ret = TAKE_PTR(r);
                return 0;
        }
        const char *id = jstr(r->json, "id");
        if (!id)
                return log_exit(EXIT_FAILURE, "nfsprovd accepted the operation without an id");
        g_autofree char *op_path = g_strdup_printf("/v1/operations/%s", id);
        Progress p;
        progress_init(&p, what);
        unsigned delay_ms = 20;
        for (;;) {
                g_autoptr(Reply) o = NULL;
                st = cli_call_json("GET", op_path, NULL, &o);
                if (st) {
                        progress_end(&p);
                        return st;
                }
                const char *state = jstr(o->json, "state");
                if (state && strcmp(state, "running") != 0) {
                        progress_end(&p);
                        int64_t status = 0;
                        jint(o->json, "status", &status);
                        json_object *e = NULL, *result = NULL;
                        json_object_object_get_ex(o->json, "error", &e);
                        if (e && !json_object_is_type(e, json_type_null))
                                return failed_with(e, (long) status);
                        g_autoptr(Reply) done = reply_new();
                        done->status = (long) status;
                        if (json_object_object_get_ex(o->json, "result", &result) && result)
                                done->json = json_object_get(result);
                        else
                                done->json = json_object_new_object();
                        *ret = TAKE_PTR(done);
                        return 0;
                }
                json_object *prog = NULL;
                int64_t n = 0, total = 0;
                if (json_object_object_get_ex(o->json, "progress", &prog)) {
                        jint(prog, "done", &n);
                        jint(prog, "total", &total);
                }
                progress_line(&p, "step %" PRId64 "/%" PRId64 " %s", MIN(n + 1, total), total,
                              jstr(o->json, "step") ?: "");
                g_usleep(delay_ms * 1000);
                delay_ms = MIN(delay_ms * 2, 500u);
        }
}

/* ---- upload ---- */

typedef struct Source {
        Reply *reply;
        int fd;
        uint64_t length, sent;
        int error;
        Progress progress;
} Source;

static ssize_t source_read(void *userdata, char *buffer, size_t len, uint64_t offset) {
        Source *s = userdata;
        ssize_t got;
        do
                got = pread(s->fd, buffer, len, (off_t) offset);
        while (got < 0 && errno == EINTR);
        if (got <= 0) {
                s->sent = offset;
                s->error = got < 0 ? errno : ENODATA; /* shorter than it was: it changed under us */
                return -s->error;
        }
        s->sent = offset + (uint64_t) got;
        progress_bytes(&s->progress, s->sent, s->length);
        return got;
}

static int source_head(void *userdata, const CliAnswerHead *head) {
        Source *s = userdata;
        return reply_head(s->reply, head);
}

static int source_body(void *userdata, const char *data, size_t len) {
        Source *s = userdata;
        return reply_body(s->reply, data, len);
}

int cli_upload(const char *path, int fd, uint64_t length, const char *what, uint64_t max_rate, Reply **ret) {
        g_autoptr(Reply) r = reply_new();
        Source src = { .reply = r, .fd = fd, .length = length };
        progress_init(&src.progress, what);
        const char *headers[] = { "Accept: application/json", NULL };
        CliRequest req = { .method = "PUT", .path = path, .headers = headers,
                            .content_type = "application/octet-stream", .read_body = source_read,
                            .body_length = length, .max_send_rate = max_rate,
                            .on_head = source_head, .on_body = source_body, .userdata = &src };
        int st = perform(&req);
        progress_end(&src.progress);
        if (st == -ECANCELED)
                return log_exit(EXIT_FAILURE, "cannot read the file at byte %" PRIu64 ": %s", src.sent,
                                src.error == ENODATA ? "it became shorter while it was sent" : g_strerror(src.error));
        if (st)
                return st;
        parse_body(r, NULL);
        st = must_be_json(r);
        if (st)
                return st;
        *ret = TAKE_PTR(r);
        return 0;
}

/* ---- download ---- */

typedef struct Sink {
        int fd;
        uint64_t offset;      /* where the next byte goes */
        uint64_t resume_at;   /* the range asked for */
        uint64_t total;
        long status;
        bool to_file;         /* 200/206: the body is the content */
        int error;
        GString *error_body;  /* other statuses: nfsprovd's JSON error */
        Progress progress;
} Sink;

static int sink_head(void *userdata, const CliAnswerHead *head) {
        Sink *s = userdata;
        s->status = head->status;
        if (head->status != 200 && head->status != 206)
                return 0;
        s->to_file = true;
        if (head->status == 200 && s->resume_at > 0) {
                /* the content changed (If-Range): start over */
                s->offset = 0;
                if (ftruncate(s->fd, 0) < 0 || lseek(s->fd, 0, SEEK_SET) < 0) {
                        s->error = errno;
                        return -s->error;
                }
        }
        s->total = s->offset + (head->content_length > 0 ? (uint64_t) head->content_length : 0);
        /* the validator goes with the part before its first byte, so that a download stopped
         * anywhere (even killed) can be continued */
        if (head->etag && fsetxattr(s->fd, ETAG_XATTR, head->etag, strlen(head->etag), 0) < 0 && errno != ENOTSUP) {
                s->error = errno;
                return -s->error;
        }
        return 0;
}

static int sink_body(void *userdata, const char *data, size_t len) {
        Sink *s = userdata;
        if (!s->to_file) {
                g_string_append_len(s->error_body, data, (gssize) len);
                return 0;
        }
        int r = fd_write_all(s->fd, data, len);
        if (r < 0) {
                s->error = -r;
                return r;
        }
        s->offset += len;
        progress_bytes(&s->progress, s->offset, s->total);
        return 0;
}

static char *part_etag(int fd) {
        char buf[256];
        ssize_t n = fgetxattr(fd, ETAG_XATTR, buf, sizeof buf - 1);
        if (n <= 0)
                return NULL;
        buf[n] = 0;
        return g_strdup(buf);
}

int cli_download(const char *path, const char *file, const char *what, uint64_t max_rate, uint64_t *ret_bytes,
                 uint64_t *ret_resumed_at) {
        g_autofree char *part = g_strdup_printf("%s.part", file);
        _cleanup_close_ int fd = open(part, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return log_exit(EXIT_FAILURE, "cannot open %s: %s", part, g_strerror(errno));
        struct stat st;
        if (fstat(fd, &st) < 0)
                return log_exit(EXIT_FAILURE, "cannot stat %s: %s", part, g_strerror(errno));
        if (!S_ISREG(st.st_mode))
                return log_exit(CLI_EXIT_INVALID, "%s is not a regular file; it holds a partial download", part);
        g_autofree char *old_etag = part_etag(fd);
        g_autoptr(GString) error_body = g_string_new(NULL);
        Sink s = { .fd = fd, .error_body = error_body };
        if (old_etag && st.st_size > 0) {
                s.offset = s.resume_at = (uint64_t) st.st_size;
                if (lseek(fd, st.st_size, SEEK_SET) < 0)
                        return log_exit(EXIT_FAILURE, "cannot seek in %s: %s", part, g_strerror(errno));
        } else if (st.st_size > 0 && ftruncate(fd, 0) < 0)
                return log_exit(EXIT_FAILURE, "cannot truncate %s: %s", part, g_strerror(errno));
        progress_init(&s.progress, what);

        g_autofree char *range = NULL, *if_range = NULL;
        const char *headers[4] = { "Accept: application/octet-stream", NULL };
        if (s.resume_at > 0) {
                headers[1] = range = g_strdup_printf("Range: bytes=%" PRIu64 "-", s.resume_at);
                headers[2] = if_range = g_strdup_printf("If-Range: %s", old_etag);
        }
        CliRequest req = { .method = "GET", .path = path, .headers = headers, .max_recv_rate = max_rate,
                            .on_head = sink_head, .on_body = sink_body, .userdata = &s };
        int code = perform(&req);
        progress_end(&s.progress);
        if ((s.error || code || !s.to_file) && s.offset == 0)
                (void) unlink(part); /* nothing to continue from */
        if (s.error)
                return log_exit(EXIT_FAILURE, "cannot write %s at byte %" PRIu64 ": %s", part, s.offset,
                                g_strerror(s.error));
        if (code)
                return code;
        if (s.status == 416 && s.resume_at > 0) {
                /* the part is as long as the content or longer: it cannot be continued */
                if (ftruncate(fd, 0) < 0 || fremovexattr(fd, ETAG_XATTR) < 0)
                        return log_exit(EXIT_FAILURE, "cannot reset %s: %s", part, g_strerror(errno));
                return log_exit(EXIT_FAILURE, "%s does not fit the volume any more; it was emptied, run the download again",
                                part);
        }
        if (!s.to_file) {
                g_autoptr(Reply) r = reply_new();
                r->status = s.status;
                g_string_append_len(r->body, error_body->str, (gssize) error_body->len);
                parse_body(r, NULL);
                return reply_failed(r);
        }
        if (fsync(fd) < 0)
                return log_exit(EXIT_FAILURE, "cannot write %s: %s", part, g_strerror(errno));
        (void) fremovexattr(fd, ETAG_XATTR);
        if (rename(part, file) < 0)
                return log_exit(EXIT_FAILURE, "cannot rename %s to %s: %s", part, file, g_strerror(errno));
        *ret_bytes = s.offset;
        *ret_resumed_at = s.status == 206 ? s.resume_at : 0;
        return 0;
}

/* ---- output ---- */

void print_json(json_object *o) {
        printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                                 JSON_C_TO_STRING_NOSLASHESCAPE));
}

char *format_bytes(json_object *o, const char *key) {
        int64_t n;
        if (!jint(o, key, &n) || n < 0)
                return g_strdup("-");
        return size_format((uint64_t) n);
}

void print_columns(const char *const *titles, size_t n_cols, GPtrArray *cells) {
        size_t n_rows = cells->len / n_cols;
        g_autofree size_t *width = g_new0(size_t, n_cols);
        for (size_t c = 0; c < n_cols; c++) {
                width[c] = strlen(titles[c]);
                for (size_t i = 0; i < n_rows; i++)
                        width[c] = MAX(width[c], strlen(g_ptr_array_index(cells, i * n_cols + c)));
        }
        for (size_t i = 0; i <= n_rows; i++)
                for (size_t c = 0; c < n_cols; c++) {
                        const char *cell = i == 0 ? titles[c] : g_ptr_array_index(cells, (i - 1) * n_cols + c);
                        if (c + 1 < n_cols)
                                printf("%-*s  ", (int) width[c], cell);
                        else
                                printf("%s\n", cell);
                }
}

int cli_parse_size(const char *option, const char *text, uint64_t *ret) {
        g_autoptr(GError) error = NULL;
        uint64_t n;
        if (size_parse(text, &n, &error) < 0)
                return option ? log_exit(CLI_EXIT_INVALID, "%s: %s", option, error->message)
                              : log_exit(CLI_EXIT_INVALID, "%s", error->message);
        *ret = n;
        return 0;
}

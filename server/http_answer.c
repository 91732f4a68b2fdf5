/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "error.h"
#include "http_answer.h"
#include "macro.h"
#include "show.h"

#define CHUNK_LINE_MAX 4096
#define LENGTH_DIGITS_MAX 18 /* below 2^62: no overflow in any sum */

typedef enum State {
        S_HEAD,        /* the status line and the header lines */
        S_BODY_LENGTH, /* Content-Length bytes */
        S_BODY_EOF,    /* up to the end of the stream */
        S_CHUNK_SIZE,  /* a chunk's size line */
        S_CHUNK_DATA,
        S_CHUNK_END,   /* the CRLF after a chunk's data */
        S_TRAILERS,    /* after the last chunk, up to an empty line */
        S_DONE,
        S_FAILED,
} State;

struct HttpAnswer {
        HttpAnswerCallbacks cb;
        State state;
        GString *line;       /* the line being read (S_HEAD, S_CHUNK_*, S_TRAILERS) */
        size_t head_bytes;   /* bytes of the head (or trailers) so far */
        bool have_status;    /* the status line of this head was read */
        bool head_reported;  /* on_head was called for the final answer */
        HttpAnswerHead head;
        uint64_t remaining;  /* S_BODY_LENGTH, S_CHUNK_DATA */
};

HttpAnswer *http_answer_new(const HttpAnswerCallbacks *cb) {
        HttpAnswer *p = g_new0(HttpAnswer, 1);
        p->cb = *cb;
        p->line = g_string_new(NULL);
        p->head.content_length = -1;
        return p;
}

void http_answer_free(HttpAnswer *p) {
        if (!p)
                return;
        g_string_free(p->line, true);
        g_free(p->head.etag);
        g_free(p);
}

bool http_answer_done(const HttpAnswer *p) {
        return p->state == S_DONE;
}

bool http_answer_has_head(const HttpAnswer *p) {
        return p->head_reported;
}

static int refuse(HttpAnswer *p, GError **error, const char *fmt, ...) _printf_(3, 4);
static int refuse(HttpAnswer *p, GError **error, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        g_autofree char *text = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        p->state = S_FAILED;
        return np_fail(error, EBADMSG, "nfsprovd's answer is not HTTP nfsprov reads: %s", text);
}

static bool is_tchar(unsigned char c) {
        return g_ascii_isalnum(c) || strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static void head_reset(HttpAnswer *p) {
        g_free(p->head.etag);
        p->head = (HttpAnswerHead) { .content_length = -1 };
        p->have_status = false;
        p->head_bytes = 0;
}

/* "HTTP/1.x SSS[ reason]" */
static int status_line(HttpAnswer *p, const char *l, GError **error) {
        if (strncmp(l, "HTTP/1.", 7) != 0 || (l[7] != '0' && l[7] != '1') || l[8] != ' ') {
                g_autofree char *shown = show_text_max(l, 64);
                return refuse(p, error, "the status line \"%s\" does not start with HTTP/1.0 or HTTP/1.1", shown);
        }
        const char *s = l + 9;
        if (!g_ascii_isdigit(s[0]) || !g_ascii_isdigit(s[1]) || !g_ascii_isdigit(s[2]) || (s[3] && s[3] != ' ')) {
                g_autofree char *shown = show_text_max(l, 64);
                return refuse(p, error, "the status line \"%s\" has no 3-digit status", shown);
        }
        long status = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
        if (status < 100 || status > 599)
                return refuse(p, error, "status %ld is outside 100-599", status);
        if (status == 101)
                return refuse(p, error, "status 101 (switching protocols) was not asked for");
        p->head.status = status;
        p->have_status = true;
        return 0;
}

static int header_line(HttpAnswer *p, const char *l, size_t len, GError **error) {
        if (l[0] == ' ' || l[0] == '\t')
                return refuse(p, error, "a folded header line (obsolete line folding)");
        const char *colon = memchr(l, ':', len);
        if (!colon || colon == l) {
                g_autofree char *shown = show_text_max(l, 64);
                return refuse(p, error, "the header line \"%s\" has no \"Name:\"", shown);
        }
        for (const char *c = l; c < colon; c++)
                if (!is_tchar((unsigned char) *c)) {
                        g_autofree char *shown = show_text_max(l, 64);
                        return refuse(p, error, "the header line \"%s\" has a name with character %u", shown,
                                      (unsigned) (unsigned char) *c);
                }
        for (const char *c = colon + 1; c < l + len; c++)
                if ((unsigned char) *c < 0x20 && *c != '\t')
                        return refuse(p, error, "a header's value holds control character %u",
                                      (unsigned) (unsigned char) *c);
        size_t name_len = (size_t) (colon - l);
        g_autofree char *value = g_strstrip(g_strndup(colon + 1, len - name_len - 1));

        if (name_len == 14 && g_ascii_strncasecmp(l, "Content-Length", 14) == 0) {
                size_t n = strlen(value);
                if (n == 0 || n > LENGTH_DIGITS_MAX || strspn(value, "0123456789") != n) {
                        g_autofree char *shown = show_text_max(value, 32);
                        return refuse(p, error, "Content-Length \"%s\" is not a number of at most %d digits", shown,
                                      LENGTH_DIGITS_MAX);
                }
                int64_t v = (int64_t) g_ascii_strtoull(value, NULL, 10);
                if (p->head.content_length >= 0 && p->head.content_length != v)
                        return refuse(p, error, "two different Content-Length headers (%" G_GINT64_FORMAT " and %" G_GINT64_FORMAT ")",
                                      p->head.content_length, v);
                p->head.content_length = v;
        } else if (name_len == 17 && g_ascii_strncasecmp(l, "Transfer-Encoding", 17) == 0) {
                if (g_ascii_strcasecmp(value, "chunked") != 0 || p->head.chunked) {
                        g_autofree char *shown = show_text_max(value, 32);
                        return refuse(p, error, "Transfer-Encoding \"%s\": only one \"chunked\" is read", shown);
                }
                p->head.chunked = true;
        } else if (name_len == 4 && g_ascii_strncasecmp(l, "ETag", 4) == 0) {
                g_free(p->head.etag);
                p->head.etag = TAKE_PTR(value);
        }
        return 0;
}

/* The head ended (an empty line). */
static int head_end(HttpAnswer *p, GError **error) {
        if (!p->have_status)
                return refuse(p, error, "an empty line where the status line belongs");
        long status = p->head.status;
        if (status < 200) {
                int r = p->cb.on_interim ? p->cb.on_interim(p->cb.userdata, status) : 0;
                head_reset(p);
                if (r < 0)
                        p->state = S_FAILED;
                return r;
        }
        p->head_reported = true;
        int r = p->cb.on_head(p->cb.userdata, &p->head);
        if (r < 0) {
                p->state = S_FAILED;
                return r;
        }
        if (status == 204 || status == 304)
                p->state = S_DONE;
        else if (p->head.chunked)
                p->state = S_CHUNK_SIZE;
        else if (p->head.content_length == 0)
                p->state = S_DONE;
        else if (p->head.content_length > 0) {
                p->remaining = (uint64_t) p->head.content_length;
                p->state = S_BODY_LENGTH;
        } else
                p->state = S_BODY_EOF;
        return 0;
}

/* "HEX[;extensions]" */
static int chunk_size_line(HttpAnswer *p, const char *l, GError **error) {
        size_t n = strspn(l, "0123456789abcdefABCDEF");
        const char *rest = l + n;
        while (*rest == ' ' || *rest == '\t')
                rest++;
        if (n == 0 || n > 15 || (*rest && *rest != ';')) {
                g_autofree char *shown = show_text_max(l, 64);
                return refuse(p, error, "the chunk size line \"%s\" is not a hexadecimal size of at most 15 digits",
                              shown);
        }
        p->remaining = g_ascii_strtoull(l, NULL, 16);
        p->state = p->remaining ? S_CHUNK_DATA : S_TRAILERS;
        p->head_bytes = 0;
        return 0;
}

/* One whole line (without its end) in the state that reads lines. */
static int take_line(HttpAnswer *p, GError **error) {
        const char *l = p->line->str;
        size_t len = p->line->len;
        if (memchr(l, '\0', len))
                return refuse(p, error, "a NUL byte in a line");
        switch (p->state) {
        case S_HEAD:
                if (len == 0)
                        return head_end(p, error);
                return p->have_status ? header_line(p, l, len, error) : status_line(p, l, error);
        case S_CHUNK_SIZE:
                return chunk_size_line(p, l, error);
        case S_CHUNK_END:
                if (len != 0)
                        return refuse(p, error, "a chunk longer than its size");
                p->state = S_CHUNK_SIZE;
                return 0;
        case S_TRAILERS:
                if (len == 0)
                        p->state = S_DONE;
                return 0;
        default:
                g_assert_not_reached();
        }
}

static size_t line_limit(const HttpAnswer *p) {
        return p->state == S_CHUNK_SIZE || p->state == S_CHUNK_END ? CHUNK_LINE_MAX : HTTP_HEAD_MAX;
}

int http_answer_feed(HttpAnswer *p, const char *data, size_t len, GError **error) {
        size_t i = 0;
        while (i < len) {
                switch (p->state) {
                case S_DONE:
                        return 0;
                case S_FAILED:
                        return np_fail(error, EBADMSG, "nfsprovd's answer was refused before");
                case S_BODY_LENGTH:
                case S_CHUNK_DATA: {
                        size_t n = (size_t) MIN((uint64_t) (len - i), p->remaining);
                        int r = p->cb.on_body(p->cb.userdata, data + i, n);
                        if (r < 0) {
                                p->state = S_FAILED;
                                return r;
                        }
                        i += n;
                        p->remaining -= n;
                        if (p->remaining == 0)
                                p->state = p->state == S_BODY_LENGTH ? S_DONE : S_CHUNK_END;
                        break;
                }
                case S_BODY_EOF: {
                        int r = p->cb.on_body(p->cb.userdata, data + i, len - i);
                        if (r < 0) {
                                p->state = S_FAILED;
                                return r;
                        }
                        return 0;
                }
                default: {
                        /* a line: up to LF, its CR dropped */
                        const char *lf = memchr(data + i, '\n', len - i);
                        size_t n = lf ? (size_t) (lf - (data + i)) : len - i;
                        if (p->head_bytes + p->line->len + n + 1 > line_limit(p))
                                return refuse(p, error, "%s longer than %zu bytes",
                                              p->state == S_HEAD ? "a head" : p->state == S_TRAILERS ? "trailers" : "a chunk line",
                                              line_limit(p));
                        g_string_append_len(p->line, data + i, (gssize) n);
                        i += n;
                        if (!lf)
                                break;
                        i++;
                        if (p->line->len && p->line->str[p->line->len - 1] == '\r')
                                g_string_truncate(p->line, p->line->len - 1);
                        if (p->state == S_HEAD || p->state == S_TRAILERS)
                                p->head_bytes += p->line->len + 2;
                        int r = take_line(p, error);
                        g_string_truncate(p->line, 0);
                        if (r < 0)
                                return r;
                        break;
                }
                }
        }
        return 0;
}

int http_answer_end(HttpAnswer *p, GError **error) {
        if (p->state == S_BODY_EOF)
                p->state = S_DONE;
        if (p->state == S_DONE)
                return 0;
        p->state = S_FAILED;
        return np_fail(error, EPIPE, "the answer was cut short");
}

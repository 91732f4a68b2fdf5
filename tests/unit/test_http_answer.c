/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* server/http_answer.c: answers read whole, byte by byte and split at every position. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "error.h"
#include "http_answer.h"
#include "unit.h"

typedef struct Seen {
        long status;
        int64_t content_length;
        char *etag;
        unsigned heads, interims;
        GString *body;
        int fail_body; /* on_body returns this when not 0 */
} Seen;

static int seen_interim(void *userdata, long status) {
        Seen *s = userdata;
        ck_assert_int_ge(status, 100);
        ck_assert_int_lt(status, 200);
        s->interims++;
        return 0;
}

static int seen_head(void *userdata, const HttpAnswerHead *h) {
        Seen *s = userdata;
        s->heads++;
        s->status = h->status;
        s->content_length = h->content_length;
        g_free(s->etag);
        s->etag = g_strdup(h->etag);
        return 0;
}

static int seen_body(void *userdata, const char *data, size_t len) {
        Seen *s = userdata;
        ck_assert_int_eq(s->heads, 1);
        if (s->fail_body)
                return s->fail_body;
        g_string_append_len(s->body, data, (gssize) len);
        return 0;
}

static void seen_clear(Seen *s) {
        g_free(s->etag);
        if (s->body)
                g_string_free(s->body, true);
        *s = (Seen) { 0 };
}

/* Feed text in pieces of at most `piece` bytes (0: whole), then, when `end`, the end of the
 * stream. Returns the first failure (with *ret_error), or 0. */
static int feed(const char *text, size_t len, size_t split_at, size_t piece, bool end, Seen *s, GError **ret_error) {
        *s = (Seen) { .body = g_string_new(NULL) };
        HttpAnswerCallbacks cb = { .on_interim = seen_interim, .on_head = seen_head, .on_body = seen_body,
                                     .userdata = s };
        g_autoptr(HttpAnswer) p = http_answer_new(&cb);
        int r = 0;
        if (split_at) {
                r = http_answer_feed(p, text, split_at, ret_error);
                if (r == 0)
                        r = http_answer_feed(p, text + split_at, len - split_at, ret_error);
        } else if (piece) {
                for (size_t i = 0; i < len && r == 0; i += piece)
                        r = http_answer_feed(p, text + i, MIN(piece, len - i), ret_error);
        } else
                r = http_answer_feed(p, text, len, ret_error);
        if (r == 0 && end)
                r = http_answer_end(p, ret_error);
        if (r == 0 && !end)
                ck_assert_msg(http_answer_done(p), "the answer is not complete without the end of the stream");
        return r;
}

/* ---- read ---- */

static const struct {
        const char *text;
        bool needs_end; /* the body is framed by the end of the stream */
        long status;
        const char *body;
        const char *etag;
        unsigned interims;
        int64_t content_length;
} good[] = {
        { "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", false, 200, "hello", NULL, 0, 5 },
        { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\n",
          false, 200, "hello world", NULL, 0, -1 },
        { "HTTP/1.1 200 OK\r\ntransfer-encoding: CHUNKED\r\nContent-Length: 99\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n", false, 200,
          "0123456789", NULL, 0, 99 },
        { "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n{}", false, 201, "{}", NULL, 1, 2 },
        { "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\nX: y\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
          false, 200, "", NULL, 2, 0 },
        { "HTTP/1.0 200 OK\r\n\r\nabc", true, 200, "abc", NULL, 0, -1 },
        { "HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\nignored", false, 204, "", NULL, 0, 7 },
        { "HTTP/1.1 304 Not Modified\r\nETag: \"g42\"\r\n\r\n", false, 304, "", "\"g42\"", 0, -1 },
        { "HTTP/1.1 404 Not Found\nContent-Length: 2\n\nno", false, 404, "no", NULL, 0, 2 },
        { "HTTP/1.1 206 Partial Content\r\nETag:   \"a b\"  \r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nxyzTRAILING",
          false, 206, "xyz", "\"a b\"", 0, 3 },
        { "HTTP/1.1 200\r\nContent-Length: 1\r\n\r\n\0", false, 200, NULL /* one NUL */, NULL, 0, 1 },
        { "HTTP/1.1 500 Internal Server Error\r\nEtag: x\r\nETAG: y\r\nContent-Length: 0\r\n\r\n", false, 500, "", "y", 0, 0 },
        { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n00000003 ; a=b\r\nabc\r\n000\r\n\r\n", false, 200, "abc", NULL, 0,
          -1 },
};

static size_t good_len(size_t i) {
        /* the one with a NUL in its body: its length is the text before it plus the NUL */
        return good[i].body ? strlen(good[i].text) : strlen(good[i].text) + 1;
}

static void check_good(size_t i, const Seen *s) {
        ck_assert_int_eq(s->heads, 1);
        ck_assert_int_eq(s->status, good[i].status);
        ck_assert_int_eq(s->interims, good[i].interims);
        ck_assert_int_eq(s->content_length, good[i].content_length);
        ck_assert_str_eq(s->etag ? s->etag : "(none)", good[i].etag ? good[i].etag : "(none)");
        if (good[i].body) {
                ck_assert_uint_eq(s->body->len, strlen(good[i].body));
                ck_assert_str_eq(s->body->str, good[i].body);
        } else {
                ck_assert_uint_eq(s->body->len, 1);
                ck_assert_int_eq(s->body->str[0], 0);
        }
}

START_TEST(test_good) {
        size_t len = good_len((size_t) _i);
        const char *text = good[_i].text;
        for (size_t piece = 0; piece <= 3; piece++) {
                Seen s;
                g_autoptr(GError) e = NULL;
                int r = feed(text, len, 0, piece, good[_i].needs_end, &s, &e);
                ck_assert_msg(r == 0, "case %d, pieces of %zu: %d %s", _i, piece, r, e ? e->message : "");
                check_good((size_t) _i, &s);
                seen_clear(&s);
        }
        for (size_t at = 1; at < len; at++) {
                Seen s;
                g_autoptr(GError) e = NULL;
                int r = feed(text, len, at, 0, good[_i].needs_end, &s, &e);
                ck_assert_msg(r == 0, "case %d, split at %zu: %d %s", _i, at, r, e ? e->message : "");
                check_good((size_t) _i, &s);
                seen_clear(&s);
        }
}
END_TEST

/* ---- refused ---- */

static const struct {
        const char *text;
        const char *message;
} bad[] = {
        { "HTTP/2 200 OK\r\n\r\n", "does not start with HTTP/1.0 or HTTP/1.1" },
        { "ICY 200 OK\r\n\r\n", "does not start with HTTP/1.0 or HTTP/1.1" },
        { "HTTP/1.1 2x0 OK\r\n\r\n", "has no 3-digit status" },
        { "HTTP/1.1 2000 OK\r\n\r\n", "has no 3-digit status" },
        { "HTTP/1.1 099 Low\r\n\r\n", "status 99 is outside 100-599" },
        { "HTTP/1.1 600 High\r\n\r\n", "status 600 is outside 100-599" },
        { "HTTP/1.1 101 Switching Protocols\r\n\r\n", "status 101 (switching protocols) was not asked for" },
        { "\r\n", "an empty line where the status line belongs" },
        { "HTTP/1.1 200 OK\r\nA: b\r\n  folded\r\n\r\n", "a folded header line" },
        { "HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", "has no \"Name:\"" },
        { "HTTP/1.1 200 OK\r\n: empty name\r\n\r\n", "has no \"Name:\"" },
        { "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", "has a name with character 32" },
        { "HTTP/1.1 200 OK\r\nX: a\x01z\r\n\r\n", "control character 1" },
        { "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "Content-Length \"-1\" is not a number" },
        { "HTTP/1.1 200 OK\r\nContent-Length: 1e3\r\n\r\n", "is not a number" },
        { "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", "is not a number" },
        { "HTTP/1.1 200 OK\r\nContent-Length: 1234567890123456789\r\n\r\n", "at most 18 digits" },
        { "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", "two different Content-Length headers (5 and 6)" },
        { "HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n", "is not a number" },
        { "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "only one \"chunked\" is read" },
        { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", "only one" },
        { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "is not a hexadecimal size" },
        { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", "is not a hexadecimal size" },
        { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1000000000000000\r\n", "at most 15 digits" },
        { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n", "a chunk longer than its size" },
        { "HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n", "a NUL byte in a line" },
};

START_TEST(test_bad) {
        const char *text = bad[_i].text;
        size_t len = strlen(text);
        if (strstr(bad[_i].message, "NUL"))
                len = strlen(text) + 1 + strlen(text + strlen(text) + 1);
        for (size_t piece = 0; piece <= 1; piece++) {
                Seen s;
                g_autoptr(GError) e = NULL;
                int r = feed(text, len, 0, piece, true, &s, &e);
                ck_assert_msg(r == -EBADMSG, "case %d (pieces of %zu): %d instead of -EBADMSG", _i, piece, r);
                ck_assert_ptr_nonnull(e);
                ck_assert_msg(strstr(e->message, bad[_i].message), "case %d: \"%s\" lacks \"%s\"", _i, e->message,
                              bad[_i].message);
                ck_assert_msg(g_str_has_prefix(e->message, "nfsprovd's answer is not HTTP nfsprov reads: "), "%s",
                              e->message);
                ck_assert_ptr_null(strchr(e->message, '\n'));
                if (s.heads == 0)
                        ck_assert_uint_eq(s.body->len, 0); /* nothing of a refused head reaches the caller */
                seen_clear(&s);
        }
}
END_TEST

START_TEST(test_head_too_long) {
        g_autoptr(GString) t = g_string_new("HTTP/1.1 200 OK\r\n");
        while (t->len <= HTTP_HEAD_MAX)
                g_string_append(t, "X-Filler: 0123456789012345678901234567890123456789\r\n");
        g_string_append(t, "\r\n");
        Seen s;
        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(feed(t->str, t->len, 0, 0, true, &s, &e), -EBADMSG);
        ck_assert_msg(strstr(e->message, "a head longer than 65536 bytes"), "%s", e->message);
        ck_assert_int_eq(s.heads, 0);
        seen_clear(&s);

        /* one long line is refused as it grows, before its end arrives */
        g_autofree char *line = g_strnfill(HTTP_HEAD_MAX + 10, 'a');
        g_autoptr(GError) e2 = NULL;
        ck_assert_int_eq(feed(line, strlen(line), 0, 0, false, &s, &e2), -EBADMSG);
        seen_clear(&s);
}
END_TEST

/* ---- cut short, stopped ---- */

static const char *const cut[] = {
        "",
        "HTTP/1.1 200 OK\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n",
        "HTTP/1.1 100 Continue\r\n\r\n",
};

START_TEST(test_cut_short) {
        Seen s;
        g_autoptr(GError) e = NULL;
        int r = feed(cut[_i], strlen(cut[_i]), 0, 0, true, &s, &e);
        ck_assert_msg(r == -EPIPE, "case %d: %d", _i, r);
        ck_assert_str_eq(e->message, "the answer was cut short");
        seen_clear(&s);
}
END_TEST

START_TEST(test_callback_stops) {
        const char *text = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
        Seen s = { .body = g_string_new(NULL), .fail_body = -ENOSPC };
        HttpAnswerCallbacks cb = { .on_head = seen_head, .on_body = seen_body, .userdata = &s };
        g_autoptr(HttpAnswer) p = http_answer_new(&cb);
        GError *e = NULL;
        ck_assert_int_eq(http_answer_feed(p, text, strlen(text), &e), -ENOSPC);
        ck_assert_ptr_null(e); /* the callback's failure is the caller's to tell */
        ck_assert(!http_answer_done(p));
        ck_assert(http_answer_has_head(p));
        seen_clear(&s);
}
END_TEST

UNIT_ONE_PROCESS;

Suite *unit_suite(void) {
        Suite *s = suite_create("http_answer");
        TCase *tc = tcase_create("read");
        tcase_add_loop_test(tc, test_good, 0, G_N_ELEMENTS(good));
        suite_add_tcase(s, tc);
        tc = tcase_create("refused");
        tcase_add_loop_test(tc, test_bad, 0, G_N_ELEMENTS(bad));
        tcase_add_test(tc, test_head_too_long);
        tcase_add_loop_test(tc, test_cut_short, 0, G_N_ELEMENTS(cut));
        tcase_add_test(tc, test_callback_stops);
        suite_add_tcase(s, tc);
        return s;
}

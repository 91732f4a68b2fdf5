/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for the HTTP answer reader of nfsprov's own transport (server/http_answer.h):
 * every input is the byte stream nfsprovd's socket would send. It is read three ways: whole,
 * byte by byte, and split at the position the first input byte names; then the stream ends.
 * The contract is checked on the results:
 * - every failure is -EBADMSG (no HTTP nfsprov reads) or -EPIPE (cut short), carrying an NP_ERROR
 *   whose code is the errno, with one non-empty line of UTF-8 as message;
 * - the three readings agree: same outcome, same message, same interim count, same final head
 *   (status, Content-Length, ETag) and the same body bytes: how the stream is cut into reads
 *   changes nothing;
 * - a final status is 200-599 (1xx are interim, 101 refused), the body is never longer than
 *   the input, and a complete answer with Content-Length and no chunking has exactly that body.
 * A violated invariant aborts, which libFuzzer reports as a crash with the input saved.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <glib.h>

#include "error.h"
#include "fuzz_common.h"
#include "http_answer.h"

const char fuzz_target_name[] = "fuzz_http_answer";

typedef struct Reading {
        int r;
        char *message;
        unsigned interims, heads;
        long status;
        int64_t content_length;
        bool chunked;
        char *etag;
        GString *body;
} Reading;

static int on_interim(void *userdata, long status) {
        Reading *x = userdata;
        FUZZ_CHECK(status >= 100 && status < 200 && status != 101, "interim status %ld", status);
        x->interims++;
        return 0;
}

static int on_head(void *userdata, const HttpAnswerHead *h) {
        Reading *x = userdata;
        FUZZ_CHECK(x->heads == 0, "a second final head");
        FUZZ_CHECK(h->status >= 200 && h->status <= 599, "final status %ld", h->status);
        FUZZ_CHECK(h->content_length >= -1, "Content-Length %" G_GINT64_FORMAT, h->content_length);
        x->heads++;
        x->status = h->status;
        x->content_length = h->content_length;
        x->chunked = h->chunked;
        x->etag = g_strdup(h->etag);
        return 0;
}

static int on_body(void *userdata, const char *data, size_t len) {
        Reading *x = userdata;
        FUZZ_CHECK(x->heads == 1, "body before the head");
        FUZZ_CHECK(len > 0, "an empty piece of body");
        g_string_append_len(x->body, data, (gssize) len);
        return 0;
}

static void read_stream(const char *data, size_t size, size_t piece, size_t split_at, Reading *x) {
        *x = (Reading) { .body = g_string_new(NULL) };
        HttpAnswerCallbacks cb = { .on_interim = on_interim, .on_head = on_head, .on_body = on_body, .userdata = x };
        g_autoptr(HttpAnswer) p = http_answer_new(&cb);
        g_autoptr(GError) error = NULL;
        int r = 0;
        if (piece) {
                for (size_t i = 0; i < size && r == 0; i += piece) {
                        /* each read in its own buffer, so that ASan sees a read past it */
                        size_t n = MIN(piece, size - i);
                        g_autofree char *copy = g_memdup2(data + i, n);
                        r = http_answer_feed(p, copy, n, &error);
                }
        } else {
                r = http_answer_feed(p, data, split_at, &error);
                if (r == 0)
                        r = http_answer_feed(p, data + split_at, size - split_at, &error);
        }
        if (r == 0)
                r = http_answer_end(p, &error);
        static const int allowed[] = { -EBADMSG, -EPIPE, 0 };
        if (r < 0) {
                fuzz_check_failure("http_answer", r, error, allowed);
                x->message = g_strdup(error->message);
        } else {
                fuzz_check_success("http_answer", r, error);
                FUZZ_CHECK(http_answer_done(p), "the answer ended without being complete");
        }
        x->r = r;
}

static void reading_clear(Reading *x) {
        g_free(x->message);
        g_free(x->etag);
        g_string_free(x->body, true);
}

static void same(const Reading *a, const Reading *b, const char *how) {
        FUZZ_CHECK(a->r == b->r, "%s: %d, whole: %d", how, b->r, a->r);
        FUZZ_CHECK(g_strcmp0(a->message, b->message) == 0, "%s: \"%s\", whole: \"%s\"", how, b->message, a->message);
        FUZZ_CHECK(a->interims == b->interims && a->heads == b->heads, "%s: other heads", how);
        FUZZ_CHECK(a->status == b->status && a->content_length == b->content_length && a->chunked == b->chunked,
                   "%s: another head", how);
        FUZZ_CHECK(g_strcmp0(a->etag, b->etag) == 0, "%s: another ETag", how);
        /* a failure may come after a different share of the body was delivered only when the
         * reads differ; when both succeed the bodies are equal */
        if (a->r == 0)
                FUZZ_CHECK(a->body->len == b->body->len && memcmp(a->body->str, b->body->str, a->body->len) == 0,
                           "%s: another body", how);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        g_autofree char *copy = fuzz_copy(data, size);
        Reading whole, bytes, split;
        read_stream(copy, size, 0, size, &whole);
        read_stream(copy, size, 1, 0, &bytes);
        read_stream(copy, size, 0, size ? data[0] % (size + 1) : 0, &split);
        same(&whole, &bytes, "byte by byte");
        same(&whole, &split, "split");

        FUZZ_CHECK(whole.body->len <= size, "a body of %zu bytes from %zu", whole.body->len, size);
        if (whole.r == 0 && whole.heads && !whole.chunked && whole.content_length >= 0 && whole.status != 204 &&
            whole.status != 304)
                FUZZ_CHECK((int64_t) whole.body->len == whole.content_length, "a body of %zu bytes for Content-Length %" G_GINT64_FORMAT,
                           whole.body->len, whole.content_length);
        reading_clear(&whole);
        reading_clear(&bytes);
        reading_clear(&split);
        return 0;
}

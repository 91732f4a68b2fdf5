/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An HTTP/1.1 answer read from a byte stream (RFC 9112), incrementally: what nfsprov's own
 * transport on the Unix socket (server/cli_http_unix.c) reads back. Outside input: it is fuzzed
 * (tests/fuzz/fuzz_http_answer.c).
 *
 * The head: "HTTP/1.x SSS reason" (3-digit status 100-599), header lines "Name: value" (no
 * folded line, no NUL, a name of token characters), at most HTTP_HEAD_MAX bytes. Interim
 * answers (1xx but 101) are reported (on_interim) and skipped. The body of the final answer is
 * framed by Transfer-Encoding: chunked (chunk extensions and trailers read and ignored), else by
 * Content-Length (digits only; repeated only with the same value), else by the end of the
 * stream; none for 204 and 304. Anything else is refused with one line and the stream is not
 * read further.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#define HTTP_HEAD_MAX (64 * 1024)

typedef struct HttpAnswerHead {
        long status;
        int64_t content_length; /* -1: not given */
        bool chunked;
        char *etag;             /* the ETag header's value (trimmed), or NULL */
} HttpAnswerHead;

typedef struct HttpAnswerCallbacks {
        int (*on_interim)(void *userdata, long status);                 /* may be NULL */
        int (*on_head)(void *userdata, const HttpAnswerHead *head);   /* < 0 aborts */
        int (*on_body)(void *userdata, const char *data, size_t len);   /* < 0 aborts */
        void *userdata;
} HttpAnswerCallbacks;

typedef struct HttpAnswer HttpAnswer;

HttpAnswer *http_answer_new(const HttpAnswerCallbacks *cb);
void http_answer_free(HttpAnswer *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HttpAnswer, http_answer_free)

/* Read len bytes of the stream. 0 when they were taken (bytes after a complete answer are
 * ignored); a callback's negative value as it returned it; -EBADMSG with one line in error
 * when the stream is no HTTP answer nfsprov reads. */
int http_answer_feed(HttpAnswer *p, const char *data, size_t len, GError **error);

/* The stream ended. 0 when the answer is complete (a body framed by the end of the stream is
 * complete now); -EPIPE with one line when it is cut short. */
int http_answer_end(HttpAnswer *p, GError **error);

/* Whether the final answer was read whole. */
bool http_answer_done(const HttpAnswer *p);

/* Whether the final answer's head was read (on_head called). */
bool http_answer_has_head(const HttpAnswer *p);

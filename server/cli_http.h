/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * How nfsprov's requests reach nfsprovd: a table of transports, one per kind of target.
 *
 *   unix  nfsprovd's Unix socket: HTTP/1.1 spoken by nfsprov itself, one connection per
 *         request (server/cli_http_unix.c, answers read with server/http_answer.h). Needs no
 *         library beyond libc, so a command on the socket starts as fast as a process can.
 *   curl  a URL (http or https, a bearer token, a CA file): libcurl, loaded with dlopen when the
 *         first such request is made (server/cli_http_curl.c), so that the 29 libraries it
 *         brings (TLS, krb5, ldap, ...) are not loaded by every command on the socket.
 *
 * Contract of perform: send the request, then report the final answer's head once (on_head,
 * also for an answer without a body) and its body in order (on_body). Returns 0 once the whole
 * answer was read (whatever its status); -ECANCELED when a callback returned a negative value
 * (the callback keeps why); another negative errno with one line in error: "cannot reach
 * nfsprovd at WHERE: WHY" (connecting failed), "nfsprovd at WHERE closed the connection without
 * a complete answer (did it stop? see its log)", or what else went wrong.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <glib.h>

/* Where nfsprovd is: socket_path, or url (+ token, ca_file). The strings must outlive every
 * request. */
typedef struct CliTarget {
        const char *socket_path;
        const char *url;
        const char *token;
        const char *ca_file;
} CliTarget;

/* The final answer's head, as the callbacks see it. */
typedef struct CliAnswerHead {
        long status;
        int64_t content_length; /* -1 when the answer does not say */
        const char *etag;       /* the ETag header's value, or NULL */
} CliAnswerHead;

typedef struct CliRequest {
        const char *method;
        const char *path;            /* "/v1/..." with its query */
        const char *const *headers;  /* more header lines ("Name: value"), NULL-terminated, or NULL */
        /* A body: whole (body, body_len), or streamed (read_body, body_length bytes), or none
         * (both NULL). A streamed body is offered to the server with "Expect: 100-continue",
         * so that a refusal comes before it is sent. */
        const char *content_type;
        const char *body;
        size_t body_len;
        ssize_t (*read_body)(void *userdata, char *buf, size_t len, uint64_t offset); /* -errno aborts */
        uint64_t body_length;
        uint64_t max_send_rate, max_recv_rate; /* bytes a second, 0: no limit */
        int (*on_head)(void *userdata, const CliAnswerHead *head);             /* < 0 aborts */
        int (*on_body)(void *userdata, const char *data, size_t len);     /* < 0 aborts */
        void *userdata;
} CliRequest;

typedef struct CliTransport {
        const char *name;
        int (*perform)(const CliTarget *target, const CliRequest *req, GError **error);
} CliTransport;

extern const CliTransport cli_transport_unix;
extern const CliTransport cli_transport_curl;

/* The transport for target: curl for a URL, unix for the socket. */
const CliTransport *cli_transport_for(const CliTarget *target);

/* Where the target is, for messages: the URL or the socket's path. */
const char *http_target_where(const CliTarget *target);

/* Sleep as long as a transfer of `done` bytes started at start_us (g_get_monotonic_time) must
 * have taken at max_rate bytes a second (0: no limit). */
void http_pace(int64_t start_us, uint64_t done, uint64_t max_rate);

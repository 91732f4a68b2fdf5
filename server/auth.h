/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Who may use nfsprovd's API, and who asked.
 *
 * Contract:
 * - The Unix socket: only root or a member of the admin group gets past http.c (SO_PEERCRED and
 *   SO_PEERGROUPS, before routing; server/http.h); every route is open to them.
 * - TCP (auth_tcp_authorize, the HttpAuthorize of the TCP listener): GET /v1/health and the pool
 *   endpoints (/v1/pools...) are open to every host (which pools a host sees is the allowlist of
 *   each share's export clients: server/snapshot.h, exports/exports_client.h). Everything else
 *   (the admin endpoints and /metrics) needs "Authorization: Bearer TOKEN" with the token of
 *   [server] token_file: 401 when it is missing or wrong, 403 when no token is configured (the
 *   admin API is then off on TCP). A route for browsers (its HttpRoute.challenge asks for Basic
 *   credentials: the status page) also takes the token as the password of
 *   "Authorization: Basic" credentials, with any user name (server/basic_auth.h: malformed ones
 *   get 401 with basic_auth's line). Tokens are compared in constant time (of their SHA-256, so the
 *   time depends on neither the lengths nor the contents) and the copy taken for a comparison is
 *   wiped afterwards.
 * - auth_who(): who asked, for the log lines of mutating requests: "uid N" from the peer's
 *   credentials on the Unix socket, the peer's address on TCP.
 * - Thread-safe: the token may be replaced (SIGHUP) while requests are checked.
 */
#pragma once

#include <glib.h>

#include "http.h"

typedef struct Auth Auth;

Auth *auth_new(void);
void auth_free(Auth *a);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Auth, auth_free)

/* The bearer token admin requests over TCP must carry; NULL = admin over TCP off. Copied. */
void auth_set_token(Auth *a, const char *token);

/* 0 to let the request through, else 401 or 403 with one line in *ret_message (see above). */
unsigned auth_tcp_authorize(Auth *a, HttpRequest *req, const HttpRoute *route, char **ret_message);

/* "uid 0" on the Unix socket, the peer's address over TCP ("unknown peer" when neither is
 * known). Newly allocated. */
char *auth_who(HttpRequest *req);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "auth.h"
#include "basic_auth.h"

struct Auth {
        GMutex lock;          /* token */
        char *token;
};

Auth *auth_new(void) {
        Auth *a = g_new0(Auth, 1);
        g_mutex_init(&a->lock);
        return a;
}

void auth_free(Auth *a) {
        if (!a)
                return;
        if (a->token)
                explicit_bzero(a->token, strlen(a->token));
        g_free(a->token);
        g_mutex_clear(&a->lock);
        g_free(a);
}

void auth_set_token(Auth *a, const char *token) {
        g_mutex_lock(&a->lock);
        if (a->token)
                explicit_bzero(a->token, strlen(a->token));
        g_free(a->token);
        a->token = g_strdup(token);
        g_mutex_unlock(&a->lock);
}

/* Constant-time comparison: of the SHA-256 of both, so the time does not depend on the lengths. */
static bool token_equal(const char *given, const char *expected) {
        guint8 h1[32], h2[32];
        gsize l1 = sizeof h1, l2 = sizeof h2;
        g_autoptr(GChecksum) c1 = g_checksum_new(G_CHECKSUM_SHA256);
        g_autoptr(GChecksum) c2 = g_checksum_new(G_CHECKSUM_SHA256);
        g_checksum_update(c1, (const guchar *) given, (gssize) strlen(given));
        g_checksum_update(c2, (const guchar *) expected, (gssize) strlen(expected));
        g_checksum_get_digest(c1, h1, &l1);
        g_checksum_get_digest(c2, h2, &l2);
        volatile guint8 diff = 0;
        for (size_t i = 0; i < sizeof h1; i++)
                diff |= h1[i] ^ h2[i];
        return diff == 0;
}

/* The routes every host may use over TCP. */
static bool route_is_open(const HttpRoute *route) {
        return strcmp(route->pattern, "/v1/health") == 0 || g_str_has_prefix(route->pattern, "/v1/pools");
}

/* The routes a browser asks for: their 401 asks for Basic credentials (HttpRoute.challenge). */
static bool route_takes_basic(const HttpRoute *route) {
        return route->challenge && g_ascii_strncasecmp(route->challenge, "Basic ", 6) == 0;
}

unsigned auth_tcp_authorize(Auth *a, HttpRequest *req, const HttpRoute *route, char **ret_message) {
        if (route_is_open(route))
                return 0;
        g_mutex_lock(&a->lock);
        g_autofree char *token = g_strdup(a->token);
        g_mutex_unlock(&a->lock);
        if (!token) {
                *ret_message = g_strdup("access denied: the admin API is not open on TCP (no [server] token_file is "
                                        "configured); use the Unix socket");
                return 403;
        }
        const char *auth = http_request_header(req, "Authorization");
        g_autofree char *user = NULL, *password = NULL;
        const char *given = NULL;
        if (auth && g_ascii_strncasecmp(auth, "Bearer ", 7) == 0)
                given = auth + 7;
        else if (auth && route_takes_basic(route) && g_ascii_strncasecmp(auth, "Basic ", 6) == 0) {
                g_autoptr(GError) error = NULL;
                if (basic_auth_parse(auth + 6, &user, &password, &error) < 0) {
                        explicit_bzero(token, strlen(token));
                        *ret_message = g_strdup_printf("authentication failed: %s", error->message);
                        return 401;
                }
                given = password;
        }
        if (!given) {
                explicit_bzero(token, strlen(token));
                *ret_message = g_strdup(route_takes_basic(route)
                                                ? "authentication required: give the token of [server] token_file as "
                                                  "the password (any user name), or send \"Authorization: Bearer TOKEN\""
                                                : "authentication required: send \"Authorization: Bearer TOKEN\" with "
                                                  "the token of [server] token_file");
                return 401;
        }
        while (*given == ' ')
                given++;
        bool ok = token_equal(given, token);
        explicit_bzero(token, strlen(token));
        if (password)
                explicit_bzero(password, strlen(password));
        if (!ok) {
                *ret_message = g_strdup("authentication failed: wrong token");
                return 401;
        }
        return 0;
}

char *auth_who(HttpRequest *req) {
        uid_t uid;
        if (http_request_peer_cred(req, &uid, NULL, NULL) == 0)
                return g_strdup_printf("uid %u", (unsigned) uid);
        const char *peer = http_request_peer_address(req);
        return g_strdup(peer ? peer : "unknown peer");
}

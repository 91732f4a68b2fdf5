/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "error.h"
#include "server_url.h"

int server_url_check(const char *url, GError **error) {
        for (const char *c = url; *c; c++)
                if ((unsigned char) *c <= ' ' || *c == 0x7f) {
                        g_autofree char *shown = g_strescape(url, NULL);
                        return np_fail(error, EINVAL,
                                       "server \"%s\" contains blank space or a control character; use "
                                       "http://HOST[:PORT] or https://HOST[:PORT]",
                                       shown);
                }
        g_autoptr(GUri) uri = g_uri_parse(url, G_URI_FLAGS_NONE, NULL);
        const char *scheme = uri ? g_uri_get_scheme(uri) : NULL;
        if (!uri || !scheme || (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) ||
            !g_uri_get_host(uri) || !*g_uri_get_host(uri))
                return np_fail(error, EINVAL, "server \"%s\" is not a URL; use http://HOST[:PORT] or https://HOST[:PORT]",
                               url);
        if (g_uri_get_userinfo(uri) || g_uri_get_query(uri) || g_uri_get_fragment(uri))
                return np_fail(error, EINVAL,
                               "server \"%s\" has a user, query or fragment; use http://HOST[:PORT] or https://HOST[:PORT] "
                               "(a token goes in a token file)",
                               url);
        return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "basic_auth.h"
#include "error.h"

/* Wipe and free a buffer of len bytes. */
static void wipe_free(void *p, size_t len) {
        if (!p)
                return;
        explicit_bzero(p, len);
        g_free(p);
}

int basic_auth_parse(const char *value, char **ret_user, char **ret_password, GError **error) {
        while (*value == ' ' || *value == '\t')
                value++;
        size_t n = strlen(value);
        if (n == 0 || n % 4 != 0 || strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") != n)
                return np_fail(error, EINVAL, "Basic credentials: not base64 (RFC 4648 alphabet, padded)");
        gsize len = 0;
        guchar *raw = g_base64_decode(value, &len);
        char *again = g_base64_encode(raw, len);
        bool canonical = strcmp(again, value) == 0;
        wipe_free(again, strlen(again));
        const char *colon = len ? memchr(raw, ':', len) : NULL;
        int r = 0;
        if (!canonical)
                r = np_fail(error, EINVAL, "Basic credentials: not canonical base64");
        else if (memchr(raw, '\0', len))
                r = np_fail(error, EINVAL, "Basic credentials: a NUL byte in the user name or password");
        else if (!colon)
                r = np_fail(error, EINVAL, "Basic credentials: no ':' between user name and password");
        if (r >= 0) {
                *ret_user = g_strndup((const char *) raw, (gsize) (colon - (const char *) raw));
                *ret_password = g_strndup(colon + 1, len - (gsize) (colon + 1 - (const char *) raw));
        }
        wipe_free(raw, len);
        return r;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "error.h"
#include "json_body.h"

int json_body_parse(const char *text, size_t len, json_object **ret, GError **error) {
        if (len == 0) {
                *ret = NULL;
                return 0;
        }
        if (len > INT_MAX - 1)
                return np_fail(error, EINVAL, "the request body is too large");
        if (memchr(text, '\0', len))
                return np_fail(error, EINVAL, "malformed JSON in the request body: it contains a NUL byte");
        /* A NUL-terminated copy, read with its NUL so that a bare number at the very end is complete. */
        g_autofree char *copy = g_strndup(text, len);
        json_tokener *tok = json_tokener_new();
        if (!tok)
                return np_fail(error, ENOMEM, "out of memory");
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
        json_object *o = json_tokener_parse_ex(tok, copy, (int) len + 1);
        enum json_tokener_error jerr = json_tokener_get_error(tok);
        size_t end = json_tokener_get_parse_end(tok);
        json_tokener_free(tok);
        if (jerr != json_tokener_success || !o) {
                json_object_put(o);
                return np_fail(error, EINVAL, "malformed JSON in the request body at byte %zu: %s", end,
                               jerr != json_tokener_success ? json_tokener_error_desc(jerr) : "no value");
        }
        for (size_t i = end; i < len; i++)
                if (!g_ascii_isspace(copy[i])) {
                        json_object_put(o);
                        return np_fail(error, EINVAL,
                                       "malformed JSON in the request body at byte %zu: unexpected text after the value",
                                       i);
                }
        *ret = o;
        return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for the If-None-Match matcher of GET /v1/pools (server/http_etag.h): the
 * input up to its first newline is the header's value (as a client sends it), the rest a tag to
 * compare it with. The contract is checked on every input:
 * - a failure is -EINVAL, an NP_ERROR with one non-empty line of UTF-8; a tag that is not an
 *   entity-tag always fails, whatever the header;
 * - with a valid header and a valid tag: the header followed by ", TAG" matches, and so does
 *   "W/TAG" alone; empty list elements and spaces around the header change nothing; the weak and
 *   the strong form of the tag give the same answer (weak comparison);
 * - http_etag_of() gives a strong tag that matches itself.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <glib.h>

#include "error.h"
#include "fuzz_common.h"
#include "http_etag.h"

const char fuzz_target_name[] = "fuzz_http_etag";

static const int allowed[] = { -EINVAL, 0 };

static int match(const char *header, const char *tag, bool *ret) {
        g_autoptr(GError) error = NULL;
        int r = http_etag_none_match(header, tag, ret, &error);
        if (r < 0)
                fuzz_check_failure("http_etag_none_match", r, error, allowed);
        else
                fuzz_check_success("http_etag_none_match", r, error);
        return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        g_autofree char *text = fuzz_copy_string(data, size);
        char *nl = strchr(text, '\n');
        const char *tag = nl ? nl + 1 : "\"x\"";
        if (nl)
                *nl = '\0';
        const char *header = text;

        /* the tag is checked before the header: with "*" only the tag decides */
        bool any = false;
        bool tag_valid = match("*", tag, &any) == 0;
        FUZZ_CHECK(!tag_valid || any, "\"*\" does not match [%s]", fuzz_show(tag));

        bool m = false;
        int r = match(header, tag, &m);
        FUZZ_CHECK(tag_valid || r < 0, "[%s] accepted as a tag", fuzz_show(tag));

        if (tag_valid && r == 0 && strlen(header) + strlen(tag) + 8 <= HTTP_ETAG_HEADER_MAX) {
                if (header[strspn(header, " \t")] != '*') {
                        g_autofree char *more = g_strdup_printf("%s, %s", header, tag);
                        bool m2 = false;
                        FUZZ_CHECK(match(more, tag, &m2) == 0 && m2, "[%s] with the tag appended does not match it",
                                   fuzz_show(more));
                        g_autofree char *padded = g_strdup_printf(" ,%s, ", header);
                        bool m3 = false;
                        FUZZ_CHECK(match(padded, tag, &m3) == 0 && m3 == m, "[%s]: another answer than [%s]",
                                   fuzz_show(padded), fuzz_show(header));
                }
                const char *opaque = g_str_has_prefix(tag, "W/") ? tag + 2 : tag;
                g_autofree char *weak = g_strdup_printf("W/%s", opaque);
                bool mw = false, ms = false;
                FUZZ_CHECK(match(header, weak, &mw) == 0 && match(header, opaque, &ms) == 0 && mw == ms && ms == m,
                           "weak and strong forms of [%s] differ for [%s]", fuzz_show(tag), fuzz_show(header));
                bool self = false;
                FUZZ_CHECK(match(weak, opaque, &self) == 0 && self, "W/TAG does not match TAG [%s]", fuzz_show(tag));
        }

        g_autofree char *own = http_etag_of(data, size);
        bool o = false;
        FUZZ_CHECK(match(own, own, &o) == 0 && o, "http_etag_of gave [%s], which does not match itself", own);
        return 0;
}

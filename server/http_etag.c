/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "error.h"
#include "http_etag.h"

#define ETAG_HEX 32 /* 128 bits of the digest */

char *http_etag_of(const void *data, size_t len) {
        g_autoptr(GChecksum) c = g_checksum_new(G_CHECKSUM_SHA256);
        g_checksum_update(c, data, (gssize) len);
        return g_strdup_printf("\"%.*s\"", ETAG_HEX, g_checksum_get_string(c));
}

#define CACHE_SLOTS 8 /* the views of a few kinds of hosts (allowlists, addresses reached) */

typedef struct Slot {
        GBytes *body;
        char *etag;
} Slot;

struct HttpEtagCache {
        GMutex lock;
        Slot slots[CACHE_SLOTS];
        unsigned next; /* the slot replaced next: round robin */
};

HttpEtagCache *http_etag_cache_new(void) {
        HttpEtagCache *c = g_new0(HttpEtagCache, 1);
        g_mutex_init(&c->lock);
        return c;
}

void http_etag_cache_free(HttpEtagCache *c) {
        if (!c)
                return;
        for (unsigned i = 0; i < CACHE_SLOTS; i++) {
                if (c->slots[i].body)
                        g_bytes_unref(c->slots[i].body);
                g_free(c->slots[i].etag);
        }
        g_mutex_clear(&c->lock);
        g_free(c);
}

char *http_etag_cache_of(HttpEtagCache *c, const void *data, size_t len) {
        g_mutex_lock(&c->lock);
        for (unsigned i = 0; i < CACHE_SLOTS; i++) {
                const Slot *sl = &c->slots[i];
                size_t n;
                const void *b = sl->body ? g_bytes_get_data(sl->body, &n) : NULL;
                if (b && n == len && memcmp(b, data, len) == 0) {
                        char *etag = g_strdup(sl->etag);
                        g_mutex_unlock(&c->lock);
                        return etag;
                }
        }
        g_mutex_unlock(&c->lock);
        char *etag = http_etag_of(data, len);
        g_mutex_lock(&c->lock);
        Slot *sl = &c->slots[c->next];
        c->next = (c->next + 1) % CACHE_SLOTS;
        if (sl->body)
                g_bytes_unref(sl->body);
        g_free(sl->etag);
        sl->body = g_bytes_new(data, len);
        sl->etag = g_strdup(etag);
        g_mutex_unlock(&c->lock);
        return etag;
}

/* etagc = %x21 / %x23-7E / obs-text (%x80-FF) */
static bool is_etagc(unsigned char c) {
        return c == 0x21 || (c >= 0x23 && c <= 0x7e) || c >= 0x80;
}

static bool is_ows(char c) {
        return c == ' ' || c == '\t';
}

/* The opaque tag of an entity-tag at *p ("..." with an optional W/ before it): its start and
 * length in the quotes; *p moves past it. false when there is no valid entity-tag at *p. */
static bool opaque_tag(const char **p, const char **ret_start, size_t *ret_len) {
        const char *s = *p;
        if (s[0] == 'W' && s[1] == '/')
                s += 2;
        if (*s != '"')
                return false;
        const char *start = ++s;
        while (is_etagc((unsigned char) *s))
                s++;
        if (*s != '"')
                return false;
        *ret_start = start;
        *ret_len = (size_t) (s - start);
        *p = s + 1;
        return true;
}

static int malformed(GError **error, const char *why) {
        return np_fail(error, EINVAL,
                       "invalid If-None-Match header: %s; allowed: * or a comma-separated list of entity tags "
                       "(\"tag\" or W/\"tag\")",
                       why);
}

int http_etag_none_match(const char *header, const char *etag, bool *ret_match, GError **error) {
        g_return_val_if_fail(header && etag && ret_match, -EINVAL);
        if (strlen(header) > HTTP_ETAG_HEADER_MAX)
                return malformed(error, "longer than 8192 bytes");

        const char *want = etag, *want_start;
        size_t want_len;
        if (!opaque_tag(&want, &want_start, &want_len) || *want)
                return np_fail(error, EINVAL, "invalid entity tag to compare with; allowed: \"tag\" or W/\"tag\"");

        const char *p = header;
        while (is_ows(*p))
                p++;
        if (*p == '*') {
                p++;
                while (is_ows(*p))
                        p++;
                if (*p)
                        return malformed(error, "\"*\" followed by more");
                *ret_match = true;
                return 0;
        }

        bool match = false, any = false;
        for (;;) {
                while (is_ows(*p) || *p == ',')
                        p++;
                if (!*p)
                        break;
                const char *start;
                size_t len;
                if (!opaque_tag(&p, &start, &len))
                        return malformed(error, "an element is not a quoted entity tag");
                any = true;
                if (len == want_len && memcmp(start, want_start, len) == 0)
                        match = true;
                while (is_ows(*p))
                        p++;
                if (*p && *p != ',')
                        return malformed(error, "entity tags must be separated by commas");
        }
        if (!any)
                return malformed(error, "no entity tag");
        *ret_match = match;
        return 0;
}

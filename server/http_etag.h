/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Entity tags (RFC 9110, 8.8.3) and the If-None-Match precondition (13.1.2), for answers whose
 * tag is derived from their content.
 *
 * - http_etag_of(): a strong validator for a body: "\"" + the first 128 bits of the SHA-256 of
 *   the bytes in hex + "\"". Equal bodies get equal tags, in any process, across restarts; a
 *   changed body gets another tag (but for a SHA-256 collision).
 * - http_etag_none_match(): the header's value is "*" or a list of entity-tags
 *   (1#entity-tag: [W/]"etagc*", separated by commas with optional spaces and tabs; empty list
 *   elements are allowed, as RFC 9110 5.6.1 asks a recipient to accept). Weak comparison: the
 *   W/ prefixes are ignored and the opaque tags compared byte for byte. "*" matches any current
 *   representation. A value that is neither gives -EINVAL with one line (what is wrong and what
 *   is allowed): outside input, it is fuzzed (tests/fuzz/fuzz_http_etag.c).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <glib.h>

/* Longest header value examined; a longer one is refused (-EINVAL). */
#define HTTP_ETAG_HEADER_MAX 8192

/* The strong tag of data (quoted, 34 characters). */
char *http_etag_of(const void *data, size_t len);

/* The tags of the last bodies given (a few): http_etag_of() computed only for a body that is
 * not one of them byte for byte (comparing costs far less than hashing). Thread-safe. */
typedef struct HttpEtagCache HttpEtagCache;
HttpEtagCache *http_etag_cache_new(void);
void http_etag_cache_free(HttpEtagCache *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HttpEtagCache, http_etag_cache_free)
/* http_etag_of(data, len) (newly allocated). */
char *http_etag_cache_of(HttpEtagCache *c, const void *data, size_t len);

/* Whether header (an If-None-Match value) matches etag (a quoted entity-tag, strong or weak):
 * *ret_match true when one of its tags equals etag under weak comparison, or when it is "*".
 * -EINVAL with one line for a malformed value. */
int http_etag_none_match(const char *header, const char *etag, bool *ret_match, GError **error);

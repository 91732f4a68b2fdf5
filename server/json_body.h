/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The grammar of an API request body, in one place: http.c reads every body with it (once), and
 * the fuzz target of the bodies reads its input the same way.
 *
 * A body is empty, or exactly one JSON value read by json-c in strict mode (JSON_TOKENER_STRICT:
 * no comments, no single quotes, no trailing commas, ...) followed by nothing but white space.
 * It must not contain a NUL byte. Pure: no I/O, no logging.
 */
#pragma once

#include <stddef.h>

#include <glib.h>
#include <json-c/json.h>

/* Read len bytes of text (not necessarily NUL-terminated; may hold NULs). 0 and *ret = a new
 * reference, or NULL when len is 0 (no body); or -EINVAL with one line ("malformed JSON in the
 * request body at byte N: ...", "... it contains a NUL byte", "the request body is too large"). */
int json_body_parse(const char *text, size_t len, json_object **ret, GError **error);

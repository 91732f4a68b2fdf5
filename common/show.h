/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A value as a one-line message shows it: control characters and bytes that are not UTF-8 as
 * \xNN (so the message stays one valid line of UTF-8), cut after a number of characters ("...").
 */
#pragma once

#include <stddef.h>

#define SHOW_MAX 200

/* Newly allocated; v must not be NULL. At most max_chars characters, then "...". */
char *show_text_max(const char *v, size_t max_chars);

/* show_text_max(v, SHOW_MAX). */
char *show_text(const char *v);

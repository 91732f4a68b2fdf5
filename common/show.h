/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A value as a one-line message shows it: control characters and bytes that are not UTF-8 as
 * \xNN (so the message stays one valid line of UTF-8), cut after SHOW_MAX characters ("...").
 */
#pragma once

#define SHOW_MAX 200

/* Newly allocated; v must not be NULL. */
char *show_text(const char *v);

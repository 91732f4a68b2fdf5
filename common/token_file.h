/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The bearer token shared by nfsprovd (which checks it) and its clients (which send it).
 */
#pragma once

#include <glib.h>

/* Read a token file: owned by root (or by the running user when not root, for tests), not
 * readable or writable by group or others, one line of at least 16 printable ASCII characters
 * without blank space. 0 or a negative errno with one line. */
int token_file_read(const char *path, char **ret, GError **error);

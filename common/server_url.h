/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The base URL of an nfsprovd API, as nfsprov --url and nfsprov-client --server take it.
 */
#pragma once

#include <glib.h>

/* http:// or https://, a host, no user info, query or fragment, no blank space or control
 * character. 0 or -EINVAL with one line saying what is allowed. */
int server_url_check(const char *url, GError **error);

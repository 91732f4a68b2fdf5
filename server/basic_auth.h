/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * HTTP Basic credentials (RFC 7617) as nfsprovd reads them: a browser sends the status page's
 * token as the password of "Authorization: Basic B64" (server/auth.h). Outside input: fuzzed
 * (tests/fuzz/fuzz_basic_auth.c).
 *
 * Contract: basic_auth_parse() takes what follows "Basic " in the header (blanks before it are
 * skipped). It must be canonical base64 (RFC 4648: the standard alphabet, padded, nothing else,
 * the unused bits zero: exactly what encoding the decoded bytes gives back) of "USER:PASSWORD"
 * with no ':' in USER and no NUL byte anywhere. Then 0, with *ret_user and *ret_password newly
 * allocated (the caller wipes the password after use); else -EINVAL with one line that never
 * holds the credentials (they are a secret), and nothing set.
 */
#pragma once

#include <glib.h>

int basic_auth_parse(const char *value, char **ret_user, char **ret_password, GError **error);

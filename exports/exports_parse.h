/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Read an exports file the way nfs-utils 2.x (exportfs, support/nfs/exports.c and xio.c) reads it:
 *  - tokens are separated by blanks; a token may be double-quoted in parts ("/a b"/c);
 *  - \ooo octal escapes inside a token are decoded (\040 = space);
 *  - a backslash at the end of a line continues the entry on the next line (the newline and the
 *    leading blanks of the next line count as one blank);
 *  - '#' where a token could start begins a comment that runs to the end of the line
 *    (a '#' inside a token is part of it);
 *  - a line is: PATH [-DEFAULT_OPTIONS] [CLIENT[(OPTIONS)] ...]; blank lines are skipped.
 * Options are not interpreted (exportfs does that when the file is applied).
 */
#pragma once

#include <stddef.h>

#include <glib.h>

#include "exports_entry.h"

/* Parse `len` bytes of text. `filename` is used in messages only. On success *ret_entries is a
 * GPtrArray of ExportsEntry* (owned, with free func) in file order, each with its line number.
 * Fails with -EINVAL and one line "FILE:LINE: what is wrong" where nfs-utils would fail:
 * a client whose "(" has no matching ")" or has text after the ")" ("bad option list"),
 * a quote left open at the end of the line, a "-opts" field with no options. */
int exports_parse(const char *text, size_t len, const char *filename, GPtrArray **ret_entries,
                  GError **error);

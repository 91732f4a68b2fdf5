/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Apply the exports files: run `exportfs -r` (argv, no shell), which re-reads /etc/exports and
 * the *.exports files of /etc/exports.d and syncs /var/lib/nfs/etab (and the kernel's table, where nfsd runs).
 */
#pragma once

#include <glib.h>

/* exportfs's messages without the "exportfs: " prefix, e.g.
 * "/etc/exports:2: unknown keyword \"bogus\""; indented continuation lines are joined to the
 * message they continue (a new NULL-terminated vector). */
char **exports_apply_messages(const char *exportfs_stderr);

/* Run `exportfs -r`. On success *ret_warnings (optional) gets what exportfs warned about (may be
 * empty). When exportfs fails: -EINVAL with one line
 * "exportfs -r failed (exit status 1): MSG[; MSG...]" made of exportfs's own error messages
 * ("/etc/exports:2: unknown keyword ..."; all its messages when none is of that form);
 * -ENOENT when exportfs is not installed.
 * Note: exportfs's LINE does not count lines that end in a comment, so it can be lower than
 * the line an editor shows; the message is passed on as exportfs wrote it. */
int exports_apply(char ***ret_warnings, GError **error);

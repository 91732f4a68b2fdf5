/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nfsprov's exports on disk, in one of two places:
 *  - BLOCK mode: a marked block inside an admin-owned file (/etc/exports); every byte outside
 *    the block stays as the admin wrote it;
 *  - FILE mode: a whole file of nfsprov's own (/etc/exports.d/nfsprov.exports), which exportfs
 *    reads together with /etc/exports.
 * Files are replaced atomically (common/atomic_file.h).
 */
#pragma once

#include <stdbool.h>

#include <glib.h>

typedef enum ExportsMode {
        EXPORTS_MODE_BLOCK,
        EXPORTS_MODE_FILE,
} ExportsMode;

/* FILE when path names a "*.exports" file inside a directory called "exports.d", else BLOCK. */
ExportsMode exports_mode_for_path(const char *path);

/* Make path hold exactly `entries` (ExportsEntry*) as nfsprov's exports.
 * BLOCK: the block is replaced (or appended); refused with -EBADMSG on damaged markers and with
 *        -EEXIST when an admin line of the file, or of a *.exports file in the exports.d
 *        directory beside it, exports one of the paths (message "FILE:LINE: ...").
 * FILE:  the whole file is the block; refused with -EEXIST when the "exports" file of the parent
 *        directory or another *.exports file beside it exports one of the paths.
 * A file that does not exist yet is created with mode 0644. Nothing is written when the file
 * already holds exactly this content; *ret_changed (optional) says whether it was written. */
int exports_file_write(const char *path, ExportsMode mode, GPtrArray *entries, bool *ret_changed,
                       GError **error);

/* nfsprov's entries in path now (an empty array when the file or its block is absent). */
int exports_file_read(const char *path, GPtrArray **ret_entries, GError **error);

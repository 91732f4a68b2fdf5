/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nfsprov's entries in /etc/fstab: one line per share,
 *     UUID=<fs uuid> <mount point> ext4 defaults,nofail 0 2
 * so the shares come back at boot, and a missing disk does not stop the boot (nofail).
 *
 * Contract:
 *  - every byte of the file that is not an entry nfsprov adds or removes stays as it was: the
 *    admin's entries with their spacing, comments (whole-line and trailing), blank lines, a
 *    missing final newline. The file is read with libmount (mnt_table_parse_fstab, bad lines
 *    reported through mnt_table_set_parser_errcb with their line numbers) and each entry is tied
 *    to its line; an edit adds or drops whole lines. (libmount's own writer,
 *    mnt_table_write_file(), cannot be used for the whole file: even with comments enabled it
 *    re-spaces every entry to single spaces, adds "0 0" where dump/pass were left out, drops
 *    comments after an entry's fields and silently drops every line it cannot parse.) The new
 *    line itself is rendered by mnt_table_write_file(), so paths are escaped as libmount reads
 *    them ("\040" for a space).
 *  - a file with a line libmount cannot parse is not edited nor trusted: -EBADMSG with
 *    "FILE:LINE: ..." for the first such line (and the numbers of the others);
 *  - the file is replaced atomically (common/atomic_file.h), keeping its mode and owner; a file
 *    that does not exist is created with mode 0644 by fstab_set();
 *  - targets are compared as libmount does (a trailing slash does not matter, no symlink
 *    resolution).
 */
#pragma once

#include <glib.h>

/* Make fstab_path hold the entry "UUID=<fs_uuid> <target> ext4 defaults,nofail 0 2".
 * Idempotent: nothing is written when an entry for target with source UUID=<fs_uuid> (in any
 * spelling libmount accepts: UUID="...", upper-case hex) is already there — whatever its type and
 * options, which the admin may have tuned. Refused with -EEXIST and "FILE:LINE: ..." when target
 * already has an entry with any other source, or when UUID=<fs_uuid> is already mounted
 * elsewhere by an entry: nfsprov never replaces a line it did not write.
 * -EINVAL for a uuid not in the 8-4-4-4-12 hex form or a target that is not an absolute path
 * (or holds a newline). */
int fstab_set(const char *fstab_path, const char *fs_uuid, const char *target, GError **error);

/* Remove the entries whose mount point is target and whose source is UUID=<fs_uuid> (in any
 * spelling libmount accepts): a share's own entries. Any other entry for target (the admin's)
 * stays. Idempotent: 0 without writing when there is none or the file does not exist. -EINVAL
 * for a bad uuid or target. */
int fstab_remove(const char *fstab_path, const char *fs_uuid, const char *target, GError **error);

/* The source ("UUID=...", "/dev/sdb1", as written, unescaped) of the first entry whose mount
 * point is target. -ENOENT when there is none or the file does not exist. */
int fstab_find(const char *fstab_path, const char *target, char **ret_source, GError **error);

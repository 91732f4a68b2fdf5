/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Replace a configuration file (/etc/exports, /etc/fstab, /etc/nfs.conf) so that a reader or a
 * crash sees either the old or the new content, never a mix.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <glib.h>

/* Write data to a temporary file in the same directory, fsync it, rename it over path and fsync
 * the directory. An existing file keeps its mode and owner; a new one gets new_mode (root:root
 * as the caller is). When path is itself a mount point (a bind-mounted file, as in containers and
 * in the test sandbox) rename() cannot replace it (EBUSY): then the complete new content is first
 * fsynced to the temporary file, written over path in place and fsynced, and the temporary file
 * removed — the temporary file is a full copy until the in-place write is durable.
 * Returns 0 or -errno with one line in error naming the file and the step that failed. */
int atomic_file_replace(const char *path, const char *data, size_t len, mode_t new_mode, GError **error);

/* Read a whole file. -ENOENT (with error set) when it does not exist. */
int atomic_file_read(const char *path, char **ret_data, size_t *ret_len, GError **error);

/* Read a whole file that may be missing (a configuration file nobody wrote yet): a missing file
 * reads as "" (length 0) with *ret_exists false (ret_exists may be NULL); any other failure as
 * atomic_file_read. */
int atomic_file_read_optional(const char *path, char **ret_data, size_t *ret_len, bool *ret_exists,
                              GError **error);

/* Remove path and fsync its directory, so that the removal survives a crash. A path that does
 * not exist is fine (*ret_removed false; ret_removed may be NULL). */
int atomic_file_remove(const char *path, bool *ret_removed, GError **error);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The manifest of a quarantined directory (engine_quarantine.c): one record per entry of the
 * original tree as it was copied (its top first, a directory before what it holds), with what
 * the removal of the original checks (inode, kind, size, mtime) and what a restore puts back
 * (owner, mode, mtime). Kept as the file STATE_DIR/quarantine/SHARE/NAME/manifest beside the
 * copy (NAME/tree), written once the copy is complete, and fsynced.
 *
 * The file: NUL-terminated records, "nfsprov-quarantine-manifest 1", then per entry
 * "PARENT INO SIZE MTIME MTIME_NSEC UID GID MODE NAME" (PARENT: the index of the directory
 * holding it, counted from 0 in the file's order, -1 for the top; MODE in octal, with the file
 * type; NAME any bytes but NUL and '/'), then "end COUNT". Anything else is refused (-EBADMSG).
 */
#pragma once

#include <stdint.h>
#include <sys/stat.h>

#include <glib.h>

typedef struct QManifestEntry {
        int64_t parent; /* -1: the top */
        uint64_t ino, size;
        int64_t mtime;
        long mtime_nsec;
        uint32_t uid, gid, mode;
        char *name;
} QManifestEntry;

typedef struct QManifest QManifest;

QManifest *qmanifest_new(void);
void qmanifest_free(QManifest *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QManifest, qmanifest_free)

/* Append the entry `name` of the directory at index parent (-1: the top, first and once); its
 * index, or -1 when that directory has an entry `name` already. */
int64_t qmanifest_add(QManifest *m, int64_t parent, const char *name, const struct stat *st);
size_t qmanifest_count(const QManifest *m);
const QManifestEntry *qmanifest_get(const QManifest *m, int64_t index);
/* The index of the entry `name` of the directory at index parent, or -1. */
int64_t qmanifest_find(const QManifest *m, int64_t parent, const char *name);
/* The sum of the regular files' sizes. */
uint64_t qmanifest_bytes(const QManifest *m);

/* Write it as the new file `name` of dir_fd (root, 0600, fsynced; shown: its path for messages),
 * or read it back. */
int qmanifest_write(const QManifest *m, int dir_fd, const char *name, const char *shown, GError **error);
int qmanifest_read(int dir_fd, const char *name, const char *shown, QManifest **ret, GError **error);

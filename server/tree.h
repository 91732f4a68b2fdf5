/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A directory tree walked without recursion, following no symbolic link and entering no other
 * filesystem: the guard's removal of a foreign directory (engine_guard.c) and the quarantine's
 * copy, check and restore of one (engine_quarantine.c).
 *
 * The walk is depth first with an explicit stack (a directory deep below costs heap, never C
 * stack): each directory is listed whole before its entries are visited, a directory before what
 * it holds (visit) and once more after (leave). Descriptors of the last TREE_OPEN_DIRS levels
 * stay open; a directory further up is closed and reopened through ".." of its child when the
 * walk comes back to it, and must then be the same directory (device and inode), or the walk
 * fails with -EAGAIN. A walk may carry a mirror: a second tree the callbacks build or read
 * beside the first (visit opens the mirror of each directory it reads); its descriptors are kept
 * and reopened the same way.
 *
 * Entries are taken as they are (lstat): a symbolic link is an entry, never followed; a
 * directory is opened with O_NOFOLLOW and must be the one that was stat'ed. An entry that
 * vanishes between the listing and its stat is skipped. A directory on another filesystem than
 * the top's parent: -EBUSY (one line naming it); more than max_depth levels below the top:
 * -ELOOP (one line naming the top). Functions return 0 or a negative errno with one line in
 * *error.
 */
#pragma once

#include <stdint.h>
#include <sys/stat.h>

#include <glib.h>

#define TREE_OPEN_DIRS 64u

typedef struct TreeEntry {
        int dir_fd;          /* the directory holding it */
        int mirror_fd;       /* that directory's mirror, -1 without */
        const char *name;
        const char *path;    /* the top's path (as tree_walk got it), then "/NAME" for each level: messages */
        unsigned depth;      /* the top: 0 */
        uint64_t parent_tag; /* the tag visit gave the directory holding it; the top: tree_walk's tag */
        struct stat st;      /* not followed; a directory's taken from its open descriptor */
} TreeEntry;

typedef struct TreeOps {
        /* Every entry, a directory before what it holds; fd: the directory opened (-1 for another
         * kind). For a directory, 1: read it (*ret_mirror_fd: its mirror's descriptor, which the
         * walk then owns; *ret_tag: its tag, which its entries get as parent_tag), 0: do not read
         * it; < 0: stop the walk with that error. */
        int (*visit)(void *userdata, const TreeEntry *e, int fd, int *ret_mirror_fd, uint64_t *ret_tag, GError **error);
        /* A directory that was read, after all it holds (may be NULL); e->dir_fd and
         * e->mirror_fd are open again (its parent's). */
        int (*leave)(void *userdata, const TreeEntry *e, int fd, int mirror_fd, uint64_t tag, GError **error);
} TreeOps;

/* Walk the entry `name` of dir_fd (path: how messages name it). max_depth: 0 for no bound. */
int tree_walk(int dir_fd, int mirror_fd, const char *name, const char *path, uint64_t tag, unsigned max_depth,
              const TreeOps *ops, void *userdata, GError **error);

/* The final unlinkat(dir_fd, name, flags) of a removal's top (flags: 0 or AT_REMOVEDIR), so that
 * the caller can lift the share root's immutable attribute for that instant only. */
typedef int (*TreeUnlinkFn)(void *userdata, int dir_fd, const char *name, int flags, GError **error);

/* Remove the entry `name` of dir_fd with all it holds, at any depth, the top last (through
 * unlink_top when not NULL). Gone already: 0. */
int tree_remove(int dir_fd, const char *name, const char *path, TreeUnlinkFn unlink_top, void *userdata,
                GError **error);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nfsprov's block in an exports file. nfsprov owns exactly the lines between two marker lines
 *
 *   # BEGIN nfsprov managed block
 *   # Do not edit these lines: nfsprovd rewrites them. Manage shares with `nfsprov`.
 *   /home/NFS/NFSStorage_01 *(rw,no_root_squash,sync,no_subtree_check)
 *   # END nfsprov managed block
 *
 * and never changes a byte outside them. A marker line is one that, after leading blanks,
 * starts with EXPORTS_BLOCK_BEGIN or EXPORTS_BLOCK_END.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <glib.h>

#define EXPORTS_BLOCK_BEGIN "# BEGIN nfsprov"
#define EXPORTS_BLOCK_END "# END nfsprov"

typedef struct ExportsBlock {
        bool present;
        size_t start;        /* offset of the BEGIN line */
        size_t end;          /* offset just past the END line (and its newline, if any) */
        unsigned begin_line; /* 1-based */
        unsigned end_line;
} ExportsBlock;

/* Find the block. Absent is not an error (present = false). Damaged markers are: a BEGIN without
 * an END, an END without a BEGIN, a BEGIN inside the block (nested), a second block.
 * Those fail with -EBADMSG and one line "FILE:LINE: ..." naming the marker lines involved. */
int exports_block_find(const char *text, size_t len, const char *filename, ExportsBlock *ret,
                       GError **error);

/* The block's text for entries (ExportsEntry*): BEGIN, the note, one line per entry, END; each
 * line ends with a newline. */
char *exports_block_render(GPtrArray *entries);

/* The admin's part of the file: the text with the block's lines blanked (the line count is
 * kept, so parse errors and conflicts point at the right line). *ret_len (may be NULL) is its
 * length: the text may hold NUL bytes. */
char *exports_block_outside(const char *text, size_t len, const ExportsBlock *block, size_t *ret_len);

/* The entries inside the block (a new GPtrArray of ExportsEntry*, line numbers as in the file). */
int exports_block_entries(const char *text, size_t len, const char *filename, GPtrArray **ret_entries,
                          GError **error);

/* Check that no admin entry exports a path of `entries`: admin_text is parsed (as `filename`);
 * a clash fails with -EEXIST and "FILE:LINE: PATH is exported by an entry outside nfsprov's
 * block; remove that line or choose another share". Parse errors of admin_text fail with them.
 * Also refuses (-EINVAL) a path that appears twice in `entries`. */
int exports_block_check_conflicts(const char *admin_text, size_t admin_len, const char *filename,
                                  GPtrArray *entries, GError **error);

/* The text with the block replaced by one holding entries (appended at the end when there is
 * none; a newline is added first if the text does not end with one). Every byte outside the
 * block is kept. Fails on damaged markers and on conflicts (see above). */
int exports_block_replace(const char *text, size_t len, const char *filename, GPtrArray *entries,
                          char **ret_text, size_t *ret_len, GError **error);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One export line of /etc/exports: a path and the clients it is exported to.
 *
 *   /home/NFS/NFSStorage_01 *(rw,no_root_squash,sync,no_subtree_check) 10.0.0.0/24(ro)
 *   "/srv/with space" -ro,sync host1 host2(rw)     <- default options after the path
 */
#pragma once

#include <stdbool.h>

#include <glib.h>

typedef struct ExportsClient {
        char *host;    /* "*", "10.0.0.0/24", "host.example", "@netgroup"; "" = none given ("(rw)") */
        char *options; /* the text between the parentheses; NULL when the client had no "(...)" */
} ExportsClient;

typedef struct ExportsEntry {
        char *path;            /* unescaped, unquoted */
        char *default_options; /* "-opts" after the path, without the "-"; NULL if none */
        GPtrArray *clients;    /* of ExportsClient*, owned; may be empty ("/path" alone) */
        unsigned line;         /* 1-based line where the path stands (0 for entries built in memory) */
} ExportsEntry;

ExportsEntry *exports_entry_new(const char *path);
void exports_entry_free(ExportsEntry *e);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ExportsEntry, exports_entry_free)

/* Append a client; options may be NULL (no parentheses). */
void exports_entry_add_client(ExportsEntry *e, const char *host, const char *options);

/* One line, no newline: the path escaped the way nfs-utils reads it (white space, control
 * characters, bytes >= 0x80, '"', '\\' and '#' as \ooo octal), then each client as
 * "host(options)" separated by one space. A default-options field is written as " -opts". */
char *exports_entry_render(const ExportsEntry *e);

/* The path escaped as in exports_entry_render() (newly allocated). */
char *exports_path_escape(const char *path);

/* Normalized form of a path for comparison: duplicate and trailing slashes removed
 * ("/a//b/" -> "/a/b", "/" stays "/"). Newly allocated. */
char *exports_path_normalize(const char *path);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The format of nfsprovd's NFS-Ganesha files: one share's file (server/ganesha_store.h: one
 * file per share, with that share's EXPORT block alone) and the CONFIG of an older nfsprovd,
 * which held every share's block. Written whole and atomically (common/atomic_file.h) like
 * /etc/exports, and read back only as nfsprovd writes it; the "%dir" lines of CONFIG
 * (ganesha_store.h) are accepted and read as nothing.
 *
 *   # NFS-Ganesha exports of nfsprovd's shares (nfsprov.conf(5): [exports] ganesha_config).
 *   # nfsprovd rewrites this file whole; edits are lost.
 *   # nfsprov: update pending 1001
 *   # nfsprov: removed 1002
 *
 *   EXPORT {
 *           Export_Id = 1000;
 *           Path = "/home/NFS/NFSStorage_01";
 *           Pseudo = "/home/NFS/NFSStorage_01";
 *           Protocols = 3;
 *           Access_Type = None;
 *           Squash = No_Root_Squash;
 *           SecType = sys;
 *           Attr_Expiration_Time = 0;
 *           CLIENT {
 *                   Clients = 192.168.1.0/24, kvm01.example.com;
 *                   Access_Type = RW;
 *                   Squash = No_Root_Squash;
 *           }
 *           FSAL {
 *                   Name = VFS;
 *           }
 *   }
 *
 * The export admits nobody by itself (Access_Type = None): only the CLIENT block's clients, read-
 * write with root kept (seed 000). Clients are read by exports/exports_client.h, the one grammar
 * of both servers, and written as Ganesha reads them (a netmask as its prefix length). Attributes
 * are not cached (Attr_Expiration_Time = 0): nfsprovd changes the shares on the server itself.
 *
 * "update pending" lists the Export_Ids whose block changed after Ganesha was last told
 * (UpdateExport), "removed" those of exports dropped since (RemoveExport; a share's file with no
 * block left and that note is its removal still to apply): the change and the note are one atomic
 * write, so that a crash between the write and the D-Bus call leaves the update to the next
 * apply. An id of "removed" that is an export's again reads as "update pending".
 *
 * Functions return 0 or a negative errno with one line in error; ret_ parameters are set only on
 * success.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <glib.h>

#include "export_server.h"

typedef struct GaneshaExport {
        unsigned id;  /* Export_Id, 1-65535 */
        char *path;   /* Path (and Pseudo) */
        char *block;  /* the whole block, "EXPORT {\n" ... "}\n", as written */
} GaneshaExport;

typedef struct GaneshaFile {
        GPtrArray *exports; /* GaneshaExport*, sorted by path; ids and paths unique */
        GArray *pending;    /* unsigned: Export_Ids to UpdateExport, sorted, unique */
        GArray *removed;    /* unsigned: Export_Ids to RemoveExport (none of exports), sorted, unique */
} GaneshaFile;

GaneshaFile *ganesha_file_new(void);
void ganesha_file_free(GaneshaFile *f);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GaneshaFile, ganesha_file_free)

/* The EXPORT block of spec (spec->export_id and at least one valid client are required); with
 * nfsv4, Protocols = 3, 4. -EINVAL for a bad client, id or path. */
int ganesha_export_block(const ExportSpec *spec, bool nfsv4, char **ret, GError **error);

/* Read text as ganesha_file_render() writes it; `name` names it in errors
 * ("NAME:LINE: ..."). Anything else is -EBADMSG: the file is not nfsprovd's to rewrite. */
int ganesha_file_parse(const char *text, size_t len, const char *name, GaneshaFile **ret, GError **error);

/* The file's text. */
char *ganesha_file_render(const GaneshaFile *f);

/* Read path; one that does not exist is an empty file. */
int ganesha_file_read(const char *path, GaneshaFile **ret, GError **error);

/* Write f to path atomically when its text differs from what path holds (*ret_changed, may be
 * NULL, says whether it did). A new file gets mode 0644. */
int ganesha_file_write(const char *path, const GaneshaFile *f, bool *ret_changed, GError **error);

/* Sort what a caller added by hand: exports by path, ids in order. */
void ganesha_file_sort(GaneshaFile *f);

/* The export of path: NULL when none. */
const GaneshaExport *ganesha_file_find(const GaneshaFile *f, const char *path);

/* Make block (taken) the export `id` of path: a block of another id for path is replaced; an id
 * already used by another path is -EEXIST. A changed block of the same id is noted pending.
 * *ret_changed (may be NULL): whether anything changed. */
int ganesha_file_set(GaneshaFile *f, unsigned id, const char *path, char *block, bool *ret_changed,
                     GError **error);

/* Drop the export of path (and its pending note), noting its id removed; whether there was one. */
bool ganesha_file_remove(GaneshaFile *f, const char *path);

/* Whether id is noted pending. */
bool ganesha_file_pending(const GaneshaFile *f, unsigned id);

/* Clear id's pending note: Ganesha has its block. */
void ganesha_file_clear_pending(GaneshaFile *f, unsigned id);

/* Clear the pending and removed notes: Ganesha serves what f says. */
void ganesha_file_clear_notes(GaneshaFile *f);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Where nfsprovd keeps its NFS-Ganesha exports: one file per share, so that adding, changing or
 * removing a share writes that share's file alone (about 400 bytes) whatever the number of
 * shares, and Ganesha's AddExport is handed that file.
 *
 *   CONFIG        ([exports] ganesha_config, /etc/ganesha/nfsprov.conf), which ganesha.conf
 *                 %includes: comments and one line per subdirectory, written once,
 *                     %dir "/etc/ganesha/nfsprov.d/00/ *.conf"   (without the space)
 *                     ...
 *                     %dir "/etc/ganesha/nfsprov.d/ff/ *.conf"
 *   CONFIG.d/XX/  (CONFIG without ".conf", then ".d") one file per share, NAME.conf, in the format
 *                 of server/ganesha_file.h with that share's EXPORT block alone (and its "update
 *                 pending" note). NAME is the export's path without its first '/', each further
 *                 '/' written '-' and each byte other than [A-Za-z0-9_.] (and a leading '.')
 *                 written %XX: /srv/nfs/NFSStorage_01 is srv-nfs-NFSStorage_01.conf. XX is the
 *                 low byte of the FNV-1a hash of the path, in hex. Beside it, NAME.removed
 *                 ("# nfsprov: removed ID") while a removed export of the path is still to be
 *                 removed from Ganesha (its RemoveExport): a delete costs one export too, and a
 *                 crash before the call leaves the note. Ganesha's %dir does not read it.
 *
 * Why 256 subdirectories: Ganesha's %dir opens every file it matches before it parses the first
 * one (a stack of open files): with all shares in one directory its start fails at about 1,000
 * shares with the usual limit of 1,024 open files (measured with Ganesha 4.3). 256 directories
 * keep that at 256 files a directory at the 65,535 Export_Ids there can be. The pattern leaves
 * out atomic_file_replace's temporary files (".NAME.conf.nfsprov-XXXXXX").
 *
 * A CONFIG of an older nfsprovd, with the EXPORT blocks in it, is moved: every block to its file
 * first, then CONFIG rewritten (a crash in between leaves Ganesha the old CONFIG, complete, and
 * the next setup moves it again).
 *
 * Functions return 0 or a negative errno with one line in error; ret_ parameters are set only on
 * success.
 */
#pragma once

#include <stdbool.h>

#include <glib.h>

#include "ganesha_file.h"

/* CONFIG.d: the directory of the per-share files. */
char *ganesha_store_dir(const char *config);

/* The file of path's export; -ENAMETOOLONG when its name would pass NAME_MAX. */
int ganesha_store_file(const char *config, const char *path, char **ret, GError **error);

/* Make CONFIG the %dir lines, after making the directories and moving the blocks of an older
 * CONFIG to their files. Cheap when nothing changed since the last call (one stat). */
int ganesha_store_setup(const char *config, GError **error);

/* Every export: the per-share files (and the blocks of an older CONFIG not yet moved), with their
 * pending notes; *ret_noted (may be NULL): the paths that have removals to apply (char*, sorted).
 * Two files with the same path or Export_Id are -EBADMSG. */
int ganesha_store_read(const char *config, GaneshaFile **ret, GPtrArray **ret_noted, GError **error);

/* The paths of the exports (char*, sorted), from the names of the files alone (and the blocks of
 * an older CONFIG not yet moved): what the server is told to serve, without reading N files. */
int ganesha_store_paths(const char *config, GPtrArray **ret, GError **error);

/* What the files say of path: its export (and pending note) and the Export_Ids removed from it
 * and not yet removed from Ganesha (f->removed); an empty GaneshaFile when nothing. */
int ganesha_store_read_one(const char *config, const char *path, GaneshaFile **ret, GError **error);

/* Make the files of path say what f says (f holds path's export alone, or none, and the ids
 * removed): NAME.removed first when f has removed ids, then NAME.conf written or removed, then
 * NAME.removed removed when f has none; nothing when the files already say so. *ret_changed (may
 * be NULL): whether anything changed. */
int ganesha_store_write_one(const char *config, const char *path, const GaneshaFile *f, bool *ret_changed,
                            GError **error);

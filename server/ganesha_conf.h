/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * NFS-Ganesha's main configuration ([system] ganesha_conf, /etc/ganesha/ganesha.conf), read only
 * as far as nfsprov needs it:
 *   - the %include of nfsprovd's own file ([exports] ganesha_config), at the top level, with the
 *     path quoted or not: without it a restarted Ganesha would not serve the shares;
 *   - NFS_CORE_PARAM's Protocols: NFSv3 (with it Ganesha registers MOUNT, which NFSv3 clients
 *     need) must be on; Ganesha's default (no Protocols) is 3, 4 and 9P.
 * The syntax read: # comments to the end of the line, "quoted strings" (no escapes), words,
 * NAME { ... } blocks (names compared without case, as Ganesha does), KEY = VALUE, VALUE ...;
 * and %include PATH. Anything that does not tokenize or nest is -EBADMSG with "FILE:LINE: ...".
 *
 * Functions return 0 or a negative errno with one line in error; ret_ parameters are set only on
 * success.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <glib.h>

typedef struct GaneshaConfStatus {
        bool file_exists;
        bool includes;           /* %include of nfsprovd's file at the top level */
        bool protocols_explicit; /* NFS_CORE_PARAM sets Protocols */
        bool vers3, vers4;       /* what NFS_CORE_PARAM's Protocols (or its default) serves */
        bool mount;              /* the MOUNT protocol: served with NFSv3 */
} GaneshaConfStatus;

/* Read text (named `name` in errors) for the %include of `include`. */
int ganesha_conf_parse(const char *text, size_t len, const char *name, const char *include,
                       GaneshaConfStatus *ret, GError **error);

/* Read path; a missing file has no include and Ganesha's defaults (file_exists false). */
int ganesha_conf_read(const char *path, const char *include, GaneshaConfStatus *ret, GError **error);

/* The %include is there and NFSv3 (with MOUNT) is served. */
bool ganesha_conf_ok(const GaneshaConfStatus *s);

/* One line saying what is wrong, NULL when ok. */
char *ganesha_conf_problem(const GaneshaConfStatus *s, const char *path, const char *include);

/* The text with what ganesha_conf_ok() needs: 3 added to an explicit Protocols that lacks it,
 * and `%include "INCLUDE"` appended when missing; every other byte kept. *ret_text is NULL when
 * nothing needs to change. */
int ganesha_conf_edit(const char *text, size_t len, const char *name, const char *include, char **ret_text,
                      GError **error);

/* ganesha_conf_edit() on path, written atomically when it changes (a missing file is created with
 * mode 0644 holding the %include). */
int ganesha_conf_apply(const char *path, const char *include, bool *ret_changed, GError **error);

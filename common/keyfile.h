/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading a string value from a GKeyFile (nfsprov.conf, client.conf): the one place that
 * unescapes values, so that both configuration files refuse the same bad values the same way.
 */
#pragma once

#include <glib.h>

/* The value of [group] key, unescaped; -EINVAL with one line "[GROUP] KEY: WHAT" (file name left
 * to the caller) for a value GLib cannot read (not UTF-8, an invalid escape) or one ending in an
 * unpaired backslash. The last is refused before GLib reads the value: GLib 2.74 sets its GError
 * twice, with a warning on stderr, for a value that has an invalid escape and also ends in a
 * backslash. */
int keyfile_get_string(GKeyFile *kf, const char *group, const char *key, char **ret, GError **error);

/* The same for a list value (items separated by ';'): the items unescaped, and their number. */
int keyfile_get_string_list(GKeyFile *kf, const char *group, const char *key, char ***ret, size_t *ret_n,
                            GError **error);

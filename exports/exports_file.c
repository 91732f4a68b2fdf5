/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "atomic_file.h"
#include "error.h"
#include "exports_block.h"
#include "exports_entry.h"
#include "exports_file.h"

ExportsMode exports_mode_for_path(const char *path) {
        g_autofree char *dir = g_path_get_dirname(path);
        g_autofree char *dir_base = g_path_get_basename(dir);
        if (g_str_has_suffix(path, ".exports") && strcmp(dir_base, "exports.d") == 0)
                return EXPORTS_MODE_FILE;
        return EXPORTS_MODE_BLOCK;
}

/* Read path; a missing file reads as empty. */
static int read_or_empty(const char *path, char **ret, size_t *ret_len, GError **error) {
        g_autoptr(GError) e = NULL;
        int r = atomic_file_read_optional(path, ret, ret_len, NULL, &e);
        if (r < 0)
                return np_fail_prefix(error, g_steal_pointer(&e), "cannot read exports");
        return 0;
}

/* Check entries against every *.exports file in dir except `skip`. */
static int check_dropin_dir(const char *dir, const char *skip, GPtrArray *entries, GError **error) {
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        if (!d)
                return 0; /* no exports.d: nothing to clash with */

        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        const char *n;
        while ((n = g_dir_read_name(d)))
                if (g_str_has_suffix(n, ".exports"))
                        g_ptr_array_add(names, g_strdup(n));
        g_ptr_array_sort(names, (GCompareFunc) g_strcmp0);

        for (guint i = 0; i < names->len; i++) {
                g_autofree char *p = g_build_filename(dir, g_ptr_array_index(names, i), NULL);
                if (skip && strcmp(p, skip) == 0)
                        continue;
                g_autofree char *text = NULL;
                size_t len;
                int r = read_or_empty(p, &text, &len, error);
                if (r < 0)
                        return r;
                r = exports_block_check_conflicts(text, len, p, entries, error);
                if (r < 0)
                        return r;
        }
        return 0;
}

int exports_file_write(const char *path, ExportsMode mode, GPtrArray *entries, bool *ret_changed,
                       GError **error) {
        g_autofree char *old = NULL, *new_text = NULL;
        size_t old_len, new_len;
        int r;

        r = read_or_empty(path, &old, &old_len, error);
        if (r < 0)
                return r;

        g_autofree char *dir = g_path_get_dirname(path);
        if (mode == EXPORTS_MODE_BLOCK) {
                r = exports_block_replace(old, old_len, path, entries, &new_text, &new_len, error);
                if (r < 0)
                        return r;
                g_autofree char *dropins = g_build_filename(dir, "exports.d", NULL);
                r = check_dropin_dir(dropins, NULL, entries, error);
                if (r < 0)
                        return r;
        } else {
                g_autofree char *parent = g_path_get_dirname(dir);
                g_autofree char *main_file = g_build_filename(parent, "exports", NULL);
                g_autofree char *main_text = NULL;
                size_t main_len;
                r = read_or_empty(main_file, &main_text, &main_len, error);
                if (r < 0)
                        return r;
                /* nfsprov's own block in the main file (left from BLOCK mode) counts as admin's
                 * here: exportfs would see both. */
                r = exports_block_check_conflicts(main_text, main_len, main_file, entries, error);
                if (r < 0)
                        return r;
                r = check_dropin_dir(dir, path, entries, error);
                if (r < 0)
                        return r;
                new_text = exports_block_render(entries);
                new_len = strlen(new_text);
        }

        bool changed = old_len != new_len || memcmp(old, new_text, new_len) != 0;
        if (changed) {
                r = atomic_file_replace(path, new_text, new_len, 0644, error);
                if (r < 0)
                        return r;
        }
        if (ret_changed)
                *ret_changed = changed;
        return 0;
}

int exports_file_read(const char *path, GPtrArray **ret_entries, GError **error) {
        g_autofree char *text = NULL;
        size_t len;
        int r = read_or_empty(path, &text, &len, error);
        if (r < 0)
                return r;
        return exports_block_entries(text, len, path, ret_entries, error);
}

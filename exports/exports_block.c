/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "error.h"
#include "exports_block.h"
#include "exports_entry.h"
#include "exports_parse.h"

#define BLOCK_BEGIN_LINE EXPORTS_BLOCK_BEGIN " managed block"
#define BLOCK_NOTE_LINE "# Do not edit these lines: nfsprovd rewrites them. Manage shares with `nfsprov`."
#define BLOCK_END_LINE EXPORTS_BLOCK_END " managed block"

typedef enum { LINE_PLAIN, LINE_BEGIN, LINE_END } LineKind;

static LineKind classify(const char *line, size_t len) {
        size_t i = 0;
        while (i < len && (line[i] == ' ' || line[i] == '\t'))
                i++;
        size_t rest = len - i;
        if (rest >= strlen(EXPORTS_BLOCK_BEGIN) && memcmp(line + i, EXPORTS_BLOCK_BEGIN, strlen(EXPORTS_BLOCK_BEGIN)) == 0)
                return LINE_BEGIN;
        if (rest >= strlen(EXPORTS_BLOCK_END) && memcmp(line + i, EXPORTS_BLOCK_END, strlen(EXPORTS_BLOCK_END)) == 0)
                return LINE_END;
        return LINE_PLAIN;
}

int exports_block_find(const char *text, size_t len, const char *filename, ExportsBlock *ret,
                       GError **error) {
        ExportsBlock b = { 0 };
        bool inside = false;
        unsigned lineno = 0;

        for (size_t off = 0; off < len;) {
                const char *nl = memchr(text + off, '\n', len - off);
                size_t line_len = nl ? (size_t) (nl - (text + off)) : len - off;
                size_t next = nl ? off + line_len + 1 : len;
                lineno++;

                switch (classify(text + off, line_len)) {
                case LINE_BEGIN:
                        if (inside)
                                return np_fail(error, EBADMSG,
                                               "%s:%u: nfsprov block marker \"%s\" inside the block opened at line %u; "
                                               "repair the markers by hand (one BEGIN, then one END)",
                                               filename, lineno, EXPORTS_BLOCK_BEGIN, b.begin_line);
                        if (b.present)
                                return np_fail(error, EBADMSG,
                                               "%s:%u: second nfsprov block (the first is at lines %u-%u); "
                                               "remove one of them by hand",
                                               filename, lineno, b.begin_line, b.end_line);
                        inside = true;
                        b.start = off;
                        b.begin_line = lineno;
                        break;
                case LINE_END:
                        if (!inside && b.present)
                                return np_fail(error, EBADMSG,
                                               "%s:%u: nfsprov block marker \"%s\" without a BEGIN (the block "
                                               "already ended at line %u); remove it by hand",
                                               filename, lineno, EXPORTS_BLOCK_END, b.end_line);
                        if (!inside)
                                return np_fail(error, EBADMSG,
                                               "%s:%u: nfsprov block marker \"%s\" without a BEGIN before it; "
                                               "repair the markers by hand",
                                               filename, lineno, EXPORTS_BLOCK_END);
                        inside = false;
                        b.present = true;
                        b.end = next;
                        b.end_line = lineno;
                        break;
                case LINE_PLAIN:
                        break;
                }
                off = next;
        }

        if (inside)
                return np_fail(error, EBADMSG,
                               "%s:%u: nfsprov block marker \"%s\" has no \"%s\" line after it; repair the "
                               "markers by hand",
                               filename, b.begin_line, EXPORTS_BLOCK_BEGIN, EXPORTS_BLOCK_END);
        *ret = b;
        return 0;
}

char *exports_block_render(GPtrArray *entries) {
        GString *s = g_string_new(BLOCK_BEGIN_LINE "\n" BLOCK_NOTE_LINE "\n");
        for (guint i = 0; entries && i < entries->len; i++) {
                g_autofree char *line = exports_entry_render(g_ptr_array_index(entries, i));
                g_string_append(s, line);
                g_string_append_c(s, '\n');
        }
        g_string_append(s, BLOCK_END_LINE "\n");
        return g_string_free(s, FALSE);
}

char *exports_block_outside(const char *text, size_t len, const ExportsBlock *block, size_t *ret_len) {
        GString *s = g_string_sized_new(len);
        if (!block->present)
                g_string_append_len(s, text, (gssize) len);
        else {
                g_string_append_len(s, text, (gssize) block->start);
                for (size_t i = block->start; i < block->end; i++)
                        if (text[i] == '\n')
                                g_string_append_c(s, '\n');
                g_string_append_len(s, text + block->end, (gssize) (len - block->end));
        }
        if (ret_len)
                *ret_len = s->len;
        return g_string_free(s, FALSE);
}

int exports_block_entries(const char *text, size_t len, const char *filename, GPtrArray **ret_entries,
                          GError **error) {
        ExportsBlock b;
        int r = exports_block_find(text, len, filename, &b, error);
        if (r < 0)
                return r;
        if (!b.present) {
                *ret_entries = g_ptr_array_new_with_free_func((GDestroyNotify) exports_entry_free);
                return 0;
        }
        /* Blank everything but the block so line numbers stay those of the file. */
        GString *s = g_string_sized_new(len);
        for (size_t i = 0; i < b.start; i++)
                if (text[i] == '\n')
                        g_string_append_c(s, '\n');
        g_string_append_len(s, text + b.start, (gssize) (b.end - b.start));
        size_t inner_len = s->len;
        g_autofree char *inner = g_string_free(s, FALSE);
        return exports_parse(inner, inner_len, filename, ret_entries, error);
}

int exports_block_check_conflicts(const char *admin_text, size_t admin_len, const char *filename,
                                  GPtrArray *entries, GError **error) {
        g_autoptr(GHashTable) ours = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        for (guint i = 0; entries && i < entries->len; i++) {
                const ExportsEntry *e = g_ptr_array_index(entries, i);
                char *norm = exports_path_normalize(e->path);
                if (!g_hash_table_add(ours, norm))
                        return np_fail(error, EINVAL, "%s is listed twice in nfsprov's exports; each share is exported once",
                                       e->path);
        }

        g_autoptr(GPtrArray) admin = NULL;
        g_autoptr(GError) parse_error = NULL;
        int r = exports_parse(admin_text, admin_len, filename, &admin, &parse_error);
        if (r < 0)
                return np_fail_prefix(error, g_steal_pointer(&parse_error),
                                      "cannot check the admin's exports for conflicts");

        for (guint i = 0; i < admin->len; i++) {
                const ExportsEntry *a = g_ptr_array_index(admin, i);
                g_autofree char *norm = exports_path_normalize(a->path);
                if (g_hash_table_contains(ours, norm))
                        return np_fail(error, EEXIST,
                                       "%s:%u: %s is exported by an entry outside nfsprov's block; remove that "
                                       "line or choose another share",
                                       filename, a->line, a->path);
        }
        return 0;
}

int exports_block_replace(const char *text, size_t len, const char *filename, GPtrArray *entries,
                          char **ret_text, size_t *ret_len, GError **error) {
        ExportsBlock b;
        int r = exports_block_find(text, len, filename, &b, error);
        if (r < 0)
                return r;

        size_t outside_len = 0;
        g_autofree char *outside = exports_block_outside(text, len, &b, &outside_len);
        r = exports_block_check_conflicts(outside, outside_len, filename, entries, error);
        if (r < 0)
                return r;

        g_autofree char *block = exports_block_render(entries);
        g_autoptr(GString) s = g_string_sized_new(len + strlen(block) + 1);
        ExportsBlock nb = { .present = true }; /* where the new block lands */
        if (b.present) {
                g_string_append_len(s, text, (gssize) b.start);
                nb.start = s->len;
                g_string_append(s, block);
                /* A block that was the last line without a newline: keep the file ending as it did. */
                if (b.end == len && len > 0 && text[len - 1] != '\n')
                        g_string_truncate(s, s->len - 1);
                nb.end = s->len;
                g_string_append_len(s, text + b.end, (gssize) (len - b.end));
        } else {
                g_string_append_len(s, text, (gssize) len);
                if (len > 0 && text[len - 1] != '\n')
                        g_string_append_c(s, '\n');
                nb.start = s->len;
                g_string_append(s, block);
                nb.end = s->len;
        }

        /* What exportfs will read. The admin's part passed on its own, but the line before the
         * block can run into it: a backslash that ended the file becomes a line continuation once
         * a newline and the block follow it, and the line it continues can then export one of
         * these paths too, or not parse at all. So the new text's admin part is checked for
         * conflicts again, and the whole text must parse. */
        size_t new_outside_len = 0;
        g_autofree char *new_outside = exports_block_outside(s->str, s->len, &nb, &new_outside_len);
        g_autoptr(GPtrArray) all = NULL;
        g_autoptr(GError) check_error = NULL;
        r = exports_block_check_conflicts(new_outside, new_outside_len, filename, entries, &check_error);
        if (r >= 0)
                r = exports_parse(s->str, s->len, filename, &all, &check_error);
        if (r < 0)
                return np_fail_prefix(error, g_steal_pointer(&check_error),
                                      "with nfsprov's block added the file would not read as it should (a "
                                      "backslash that ends the line before the block continues that line into it)");

        if (ret_len)
                *ret_len = s->len;
        *ret_text = g_string_free(g_steal_pointer(&s), FALSE);
        return 0;
}

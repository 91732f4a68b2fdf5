/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for the exports file library (exports/exports_parse.h, exports_entry.h,
 * exports_block.h): every input is an exports file (/etc/exports, the *.exports files of
 * /etc/exports.d and /var/lib/nfs/etab are read with this parser) and is checked as follows:
 * - exports_parse(): on failure -EINVAL, *ret untouched, one line of UTF-8 starting with
 *   "exports:LINE: " where LINE is a line of the input; on success every entry has a non-empty
 *   path, a line number within the input, lines strictly increasing, default options NULL or
 *   non-empty, clients whose host holds no "(" and whose options hold no ")", and an empty host
 *   only with options;
 * - round trip: the entries rendered (exports_entry_render, one per line) parse again to the
 *   same entries on lines 1..n, and rendering those gives the same bytes (except for a token
 *   within 3 bytes of nfs-utils' buffer size, which written with escapes no longer fits it:
 *   then the parse must fail as "too long");
 * - the same bytes parse the same way twice, and the input is not modified;
 * - exports_block_find(): -EBADMSG with one line, or a block whose offsets and lines are those of
 *   its BEGIN and END marker lines; exports_block_outside() keeps the line count;
 *   exports_block_entries() gives entries on the block's lines;
 * - exports_block_replace() with two shares of nfsprov's: fails only with -EBADMSG (exactly when
 *   exports_block_find does), -EEXIST or -EINVAL; on success every byte outside the block is
 *   kept, the block holds exactly the two entries, the whole new file parses (what exportfs
 *   reads) and exports each share's path once, and replacing again changes nothing.
 * Leaks and memory errors are found by the sanitizers this is built with.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "exports_block.h"
#include "exports_entry.h"
#include "exports_parse.h"
#include "fuzz_common.h"

const char fuzz_target_name[] = "fuzz_exports";

#define FILENAME "exports"

static const int parse_errnos[] = { -EINVAL, 0 };

static size_t line_count(const char *text, size_t len) {
        return fuzz_count_newlines(text, len) + 1;
}

static void check_message_line(const GError *error, size_t lines) {
        unsigned line = 0;
        int n = 0;
        FUZZ_CHECK(sscanf(error->message, FILENAME ":%u: %n", &line, &n) == 1 && n > 0,
                   "message does not start with \"" FILENAME ":LINE: \": %s", error->message);
        FUZZ_CHECK(line >= 1 && line <= lines, "message names line %u of a %zu-line input: %s", line, lines,
                   error->message);
}

static void check_entries(GPtrArray *entries, size_t lines) {
        unsigned prev = 0;
        for (guint i = 0; i < entries->len; i++) {
                const ExportsEntry *e = g_ptr_array_index(entries, i);
                FUZZ_CHECK(e && e->path && e->path[0], "entry %u has no path", i);
                FUZZ_CHECK(e->line >= 1 && e->line <= lines, "entry %u is on line %u of a %zu-line input", i,
                           e->line, lines);
                FUZZ_CHECK(e->line > prev, "entry %u is on line %u, after an entry on line %u", i, e->line, prev);
                prev = e->line;
                FUZZ_CHECK(!e->default_options || e->default_options[0], "entry %u has empty default options",
                           i);
                FUZZ_CHECK(e->clients, "entry %u has no client array", i);
                for (guint j = 0; j < e->clients->len; j++) {
                        const ExportsClient *c = g_ptr_array_index(e->clients, j);
                        g_autofree char *host = fuzz_show(c->host), *opts = fuzz_show(c->options);
                        FUZZ_CHECK(c->host, "entry %u client %u has no host", i, j);
                        FUZZ_CHECK(!strchr(c->host, '('), "entry %u client %u: host %s holds a \"(\"", i, j, host);
                        FUZZ_CHECK(!c->options || !strchr(c->options, ')'),
                                   "entry %u client %u: options %s hold a \")\"", i, j, opts);
                        FUZZ_CHECK(c->host[0] || c->options, "entry %u client %u is empty", i, j);
                }
        }
}

static bool entry_equal(const ExportsEntry *a, const ExportsEntry *b) {
        if (strcmp(a->path, b->path) != 0 || g_strcmp0(a->default_options, b->default_options) != 0 ||
            a->clients->len != b->clients->len)
                return false;
        for (guint j = 0; j < a->clients->len; j++) {
                const ExportsClient *x = g_ptr_array_index(a->clients, j), *y = g_ptr_array_index(b->clients, j);
                if (strcmp(x->host, y->host) != 0 || g_strcmp0(x->options, y->options) != 0)
                        return false;
        }
        return true;
}

static void check_same_entries(const char *what, GPtrArray *a, GPtrArray *b) {
        FUZZ_CHECK(a->len == b->len, "%s: %u entries, then %u", what, a->len, b->len);
        for (guint i = 0; i < a->len; i++) {
                const ExportsEntry *x = g_ptr_array_index(a, i), *y = g_ptr_array_index(b, i);
                g_autofree char *rx = exports_entry_render(x), *ry = exports_entry_render(y);
                g_autofree char *sx = fuzz_show(rx), *sy = fuzz_show(ry);
                FUZZ_CHECK(entry_equal(x, y), "%s: entry %u differs: %s / %s", what, i, sx, sy);
        }
}

static char *render_all(GPtrArray *entries) {
        GString *s = g_string_new(NULL);
        for (guint i = 0; i < entries->len; i++) {
                g_autofree char *line = exports_entry_render(g_ptr_array_index(entries, i));
                FUZZ_CHECK(line && !strchr(line, '\n'), "exports_entry_render gave no line or several lines");
                g_string_append(s, line);
                g_string_append_c(s, '\n');
        }
        return g_string_free(s, FALSE);
}

/* nfs-utils' token buffers (exports_parse.c): a path fills 1025 bytes, any other token 512. It
 * counts the bytes of an escape as they come and decodes them only once complete, so a token
 * within 3 bytes of the limit that ends in an escape (exports_entry_render escapes blanks,
 * control characters, bytes >= 0x80, '"', '\\' and '#') is too long for it once written out. */
#define PATH_BUF 1025
#define TOKEN_BUF 512

static bool near_token_limit(GPtrArray *entries) {
        for (guint i = 0; i < entries->len; i++) {
                const ExportsEntry *e = g_ptr_array_index(entries, i);
                if (strlen(e->path) + 3 >= PATH_BUF ||
                    (e->default_options && 1 + strlen(e->default_options) + 3 >= TOKEN_BUF))
                        return true;
                for (guint j = 0; j < e->clients->len; j++) {
                        const ExportsClient *c = g_ptr_array_index(e->clients, j);
                        if (strlen(c->host) + (c->options ? strlen(c->options) + 2 : 0) + 3 >= TOKEN_BUF)
                                return true;
                }
        }
        return false;
}

static void check_round_trip(GPtrArray *entries) {
        g_autofree char *text = render_all(entries);
        g_autoptr(GPtrArray) again = NULL;
        g_autoptr(GError) error = NULL;
        int r = exports_parse(text, strlen(text), FILENAME, &again, &error);
        g_autofree char *shown = fuzz_show(text);
        if (r < 0 && near_token_limit(entries) && strstr(error->message, " is too long"))
                return; /* a limit of the format: see near_token_limit() */
        FUZZ_CHECK(r == 0, "the rendered entries do not parse again: %s; rendered: %s",
                   error ? error->message : "?", shown);
        check_same_entries("render and parse again", entries, again);
        for (guint i = 0; i < again->len; i++)
                FUZZ_CHECK(((ExportsEntry *) g_ptr_array_index(again, i))->line == i + 1,
                           "rendered entry %u is not on line %u", i, i + 1);
        g_autofree char *text2 = render_all(again);
        FUZZ_CHECK(strcmp(text, text2) == 0, "rendering is not stable: %s", shown);
}

static void check_parse(const char *text, size_t len) {
        size_t lines = line_count(text, len);
        GPtrArray *const sentinel = (GPtrArray *) (uintptr_t) 0x1;
        GPtrArray *entries = sentinel;
        g_autoptr(GError) error = NULL;
        int r = exports_parse(text, len, FILENAME, &entries, &error);

        g_autoptr(GPtrArray) again = NULL;
        g_autoptr(GError) error2 = NULL;
        int r2 = exports_parse(text, len, FILENAME, &again, &error2);
        FUZZ_CHECK(r2 == r, "exports_parse is not deterministic: %d then %d", r, r2);

        if (r < 0) {
                fuzz_check_failure("exports_parse", r, error, parse_errnos);
                FUZZ_CHECK(entries == sentinel, "exports_parse failed but set *ret");
                check_message_line(error, lines);
                FUZZ_CHECK(strcmp(error->message, error2->message) == 0, "exports_parse gives two messages: %s / %s",
                           error->message, error2->message);
                return;
        }
        fuzz_check_success("exports_parse", r, error);
        FUZZ_CHECK(entries && entries != sentinel, "exports_parse succeeded without entries");
        check_entries(entries, lines);
        check_same_entries("parse twice", entries, again);
        check_round_trip(entries);
        g_ptr_array_unref(entries);
}

/* nfsprov's two shares for exports_block_replace: a plain one and one whose path needs escapes. */
static GPtrArray *our_entries(void) {
        GPtrArray *a = g_ptr_array_new_with_free_func((GDestroyNotify) exports_entry_free);
        ExportsEntry *e = exports_entry_new("/home/NFS/NFSStorage_01");
        exports_entry_add_client(e, "*", "rw,no_root_squash,sync,no_subtree_check");
        g_ptr_array_add(a, e);
        e = exports_entry_new("/srv/nfs share/#2");
        exports_entry_add_client(e, "10.0.0.0/24", "rw,no_root_squash");
        exports_entry_add_client(e, "host.example", NULL);
        g_ptr_array_add(a, e);
        return a;
}

static bool starts_marker(const char *line, size_t n, const char *marker) {
        size_t i = 0;
        while (i < n && (line[i] == ' ' || line[i] == '\t'))
                i++;
        return n - i >= strlen(marker) && memcmp(line + i, marker, strlen(marker)) == 0;
}

static void check_block(const char *text, size_t len) {
        static const int find_errnos[] = { -EBADMSG, 0 };
        static const int entries_errnos[] = { -EBADMSG, -EINVAL, 0 };
        static const int replace_errnos[] = { -EBADMSG, -EEXIST, -EINVAL, 0 };

        ExportsBlock b = { .present = true, .start = 7, .end = 7 };
        const ExportsBlock untouched = b;
        g_autoptr(GError) error = NULL;
        int r_find = exports_block_find(text, len, FILENAME, &b, &error);
        if (r_find < 0) {
                fuzz_check_failure("exports_block_find", r_find, error, find_errnos);
                FUZZ_CHECK(memcmp(&b, &untouched, sizeof(b)) == 0, "exports_block_find failed but set *ret");
                check_message_line(error, line_count(text, len));
        } else {
                fuzz_check_success("exports_block_find", r_find, error);
                if (b.present) {
                        FUZZ_CHECK(b.start < b.end && b.end <= len, "block [%zu, %zu) in %zu bytes", b.start, b.end,
                                   len);
                        FUZZ_CHECK(b.start == 0 || text[b.start - 1] == '\n', "the block does not start a line");
                        FUZZ_CHECK(b.end == len || text[b.end - 1] == '\n', "the block does not end a line");
                        FUZZ_CHECK(starts_marker(text + b.start, b.end - b.start, EXPORTS_BLOCK_BEGIN),
                                   "the block does not start with its BEGIN marker");
                        FUZZ_CHECK(b.begin_line == fuzz_count_newlines(text, b.start) + 1,
                                   "BEGIN is on line %u, not on the line at offset %zu", b.begin_line, b.start);
                        FUZZ_CHECK(b.end_line == b.begin_line + fuzz_count_newlines(text + b.start, b.end - b.start) -
                                                         (text[b.end - 1] == '\n'),
                                   "END is not on line %u", b.end_line);
                        FUZZ_CHECK(b.end_line > b.begin_line, "END on line %u is not after BEGIN on line %u",
                                   b.end_line, b.begin_line);
                }
                size_t outside_len = 0;
                g_autofree char *outside = exports_block_outside(text, len, &b, &outside_len);
                FUZZ_CHECK(fuzz_count_newlines(outside, outside_len) == fuzz_count_newlines(text, len),
                           "exports_block_outside changed the number of lines");
                FUZZ_CHECK(!b.present || (outside_len == len - (b.end - b.start) + (b.end_line - b.begin_line) +
                                                                  (text[b.end - 1] == '\n') &&
                                          memcmp(outside, text, b.start) == 0 &&
                                          memcmp(outside + outside_len - (len - b.end), text + b.end, len - b.end) == 0),
                           "exports_block_outside did not blank exactly the block's lines");

                g_autoptr(GPtrArray) inner = NULL;
                g_clear_error(&error);
                int r = exports_block_entries(text, len, FILENAME, &inner, &error);
                if (r < 0)
                        fuzz_check_failure("exports_block_entries", r, error, entries_errnos);
                else {
                        fuzz_check_success("exports_block_entries", r, error);
                        for (guint i = 0; i < inner->len; i++) {
                                const ExportsEntry *e = g_ptr_array_index(inner, i);
                                FUZZ_CHECK(b.present && e->line > b.begin_line && e->line < b.end_line,
                                           "block entry %u is on line %u, outside the block", i, e->line);
                        }
                }
        }

        g_autoptr(GPtrArray) ours = our_entries();
        char *const sentinel = (char *) (uintptr_t) 0x1;
        char *out = sentinel;
        size_t out_len = 7;
        g_clear_error(&error);
        int r = exports_block_replace(text, len, FILENAME, ours, &out, &out_len, &error);
        if (r < 0) {
                fuzz_check_failure("exports_block_replace", r, error, replace_errnos);
                FUZZ_CHECK(out == sentinel && out_len == 7, "exports_block_replace failed but set its results");
                FUZZ_CHECK((r == -EBADMSG) == (r_find < 0),
                           "exports_block_replace failed with %d, exports_block_find with %d", r, r_find);
                return;
        }
        g_autofree char *new_text = out;
        fuzz_check_success("exports_block_replace", r, error);
        FUZZ_CHECK(r_find == 0, "exports_block_replace succeeded where exports_block_find failed");

        /* Every byte outside the block is kept. */
        if (b.present) {
                FUZZ_CHECK(out_len >= b.start && memcmp(new_text, text, b.start) == 0,
                           "the bytes before the block changed");
                size_t tail = len - b.end;
                FUZZ_CHECK(out_len >= tail && memcmp(new_text + out_len - tail, text + b.end, tail) == 0,
                           "the bytes after the block changed");
        } else
                FUZZ_CHECK(out_len >= len && memcmp(new_text, text, len) == 0, "the text before the new block changed");

        /* The block holds our entries. */
        g_autoptr(GPtrArray) inner = NULL;
        g_clear_error(&error);
        r = exports_block_entries(new_text, out_len, FILENAME, &inner, &error);
        FUZZ_CHECK(r == 0, "the new text's block cannot be read: %s", error ? error->message : "?");
        check_same_entries("the new block", ours, inner);

        /* What exportfs reads: the whole file parses and exports each of our paths exactly once. */
        g_autoptr(GPtrArray) all = NULL;
        g_clear_error(&error);
        r = exports_parse(new_text, out_len, FILENAME, &all, &error);
        g_autofree char *shown = fuzz_show(new_text);
        FUZZ_CHECK(r == 0, "the file exports_block_replace wrote does not parse: %s; file: %s",
                   error ? error->message : "?", shown);
        for (guint i = 0; i < ours->len; i++) {
                const ExportsEntry *o = g_ptr_array_index(ours, i);
                g_autofree char *norm = exports_path_normalize(o->path);
                unsigned n = 0;
                for (guint j = 0; j < all->len; j++) {
                        g_autofree char *p = exports_path_normalize(((ExportsEntry *) g_ptr_array_index(all, j))->path);
                        n += strcmp(p, norm) == 0;
                }
                FUZZ_CHECK(n == 1, "the file exports_block_replace wrote exports %s %u times; file: %s", o->path, n,
                           shown);
        }

        /* Replacing again changes nothing. */
        char *again = NULL;
        size_t again_len = 0;
        g_clear_error(&error);
        r = exports_block_replace(new_text, out_len, FILENAME, ours, &again, &again_len, &error);
        g_autofree char *again_text = again;
        FUZZ_CHECK(r == 0, "replacing the block again fails: %s", error ? error->message : "?");
        FUZZ_CHECK(again_len == out_len && memcmp(again_text, new_text, out_len) == 0,
                   "replacing the block again changes the text");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        g_autofree char *text = fuzz_copy(data, size);

        check_parse(text, size);
        check_block(text, size);

        FUZZ_CHECK(size == 0 || memcmp(text, data, size) == 0, "the input was modified");
        return 0;
}

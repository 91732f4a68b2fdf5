/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * exports-tool: drives the exports library from integration tests (not installed).
 *
 *   exports-tool write FILE   < ENTRIES   nfsprov's entries in FILE become ENTRIES; prints
 *                                         "changed" or "unchanged"
 *   exports-tool read FILE                nfsprov's entries in FILE, one per line
 *   exports-tool parse FILE               every entry of FILE as the parser reads it
 *   exports-tool apply                    exportfs -r; prints its warnings
 *
 * ENTRIES: one per line, "PATH<TAB>CLIENT(OPTS)[ CLIENT(OPTS)...]" (PATH may hold spaces).
 * Output lines: "LINE<TAB>PATH<TAB>HOST(OPTS)<TAB>HOST(OPTS)...". Errors: one line on stderr,
 * exit 1.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "atomic_file.h"
#include "error.h"
#include "exports_apply.h"
#include "exports_entry.h"
#include "exports_file.h"
#include "exports_parse.h"

static int fail(GError *e) {
        fprintf(stderr, "exports-tool: %s\n", e ? e->message : "failed");
        return 1;
}

static void print_entries(GPtrArray *entries) {
        for (guint i = 0; i < entries->len; i++) {
                const ExportsEntry *e = g_ptr_array_index(entries, i);
                printf("%u\t%s", e->line, e->path);
                for (guint j = 0; j < e->clients->len; j++) {
                        const ExportsClient *c = g_ptr_array_index(e->clients, j);
                        printf("\t%s(%s)", *c->host ? c->host : "*",
                               c->options ? c->options : (e->default_options ? e->default_options : ""));
                }
                printf("\n");
        }
}

static GPtrArray *read_entries_from_stdin(void) {
        GPtrArray *a = g_ptr_array_new_with_free_func((GDestroyNotify) exports_entry_free);
        char buf[8192];
        while (fgets(buf, sizeof buf, stdin)) {
                g_strchomp(buf);
                if (!*buf)
                        continue;
                char *tab = strchr(buf, '\t');
                if (!tab)
                        continue;
                *tab = '\0';
                ExportsEntry *e = exports_entry_new(buf);
                g_auto(GStrv) clients = g_strsplit(tab + 1, " ", -1);
                for (char **c = clients; *c; c++) {
                        if (!**c)
                                continue;
                        char *paren = strchr(*c, '(');
                        if (paren && g_str_has_suffix(*c, ")")) {
                                g_autofree char *host = g_strndup(*c, (gsize) (paren - *c));
                                g_autofree char *opts = g_strndup(paren + 1, strlen(paren + 1) - 1);
                                exports_entry_add_client(e, host, opts);
                        } else
                                exports_entry_add_client(e, *c, NULL);
                }
                g_ptr_array_add(a, e);
        }
        return a;
}

int main(int argc, char **argv) {
        g_autoptr(GError) e = NULL;
        if (argc == 3 && strcmp(argv[1], "write") == 0) {
                g_autoptr(GPtrArray) entries = read_entries_from_stdin();
                bool changed = false;
                if (exports_file_write(argv[2], exports_mode_for_path(argv[2]), entries, &changed, &e) < 0)
                        return fail(e);
                printf("%s\n", changed ? "changed" : "unchanged");
                return 0;
        }
        if (argc == 3 && strcmp(argv[1], "read") == 0) {
                g_autoptr(GPtrArray) entries = NULL;
                if (exports_file_read(argv[2], &entries, &e) < 0)
                        return fail(e);
                print_entries(entries);
                return 0;
        }
        if (argc == 3 && strcmp(argv[1], "parse") == 0) {
                g_autofree char *text = NULL;
                size_t len;
                g_autoptr(GPtrArray) entries = NULL;
                if (atomic_file_read(argv[2], &text, &len, &e) < 0 ||
                    exports_parse(text, len, argv[2], &entries, &e) < 0)
                        return fail(e);
                print_entries(entries);
                return 0;
        }
        if (argc == 2 && strcmp(argv[1], "apply") == 0) {
                g_auto(GStrv) warnings = NULL;
                if (exports_apply(&warnings, &e) < 0)
                        return fail(e);
                for (char **w = warnings; w && *w; w++)
                        printf("warning: %s\n", *w);
                return 0;
        }
        fprintf(stderr, "usage: exports-tool write FILE < ENTRIES | read FILE | parse FILE | apply\n");
        return 2;
}

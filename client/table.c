/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "table.h"

#define GAP 3

struct Table {
        size_t ncols;
        GPtrArray *rows; /* GStrv; rows->pdata[0] is the header */
};

Table *table_new(const char *const *header) {
        Table *t = g_new0(Table, 1);
        t->ncols = g_strv_length((char **) header);
        t->rows = g_ptr_array_new_with_free_func((GDestroyNotify) g_strfreev);
        table_add(t, header);
        return t;
}

void table_free(Table *t) {
        if (!t)
                return;
        g_ptr_array_unref(t->rows);
        g_free(t);
}

void table_add(Table *t, const char *const *cells) {
        char **row = g_new0(char *, t->ncols + 1);
        for (size_t i = 0; i < t->ncols; i++)
                row[i] = g_strdup(cells[i] ? cells[i] : "-");
        g_ptr_array_add(t->rows, row);
}

static size_t width(const char *s) {
        return g_utf8_validate(s, -1, NULL) ? (size_t) g_utf8_strlen(s, -1) : strlen(s);
}

static void print_row(FILE *f, char **row, const size_t *w, size_t ncols) {
        GString *line = g_string_new(" ");
        for (size_t i = 0; i < ncols; i++) {
                g_string_append(line, row[i]);
                if (i + 1 < ncols)
                        for (size_t k = width(row[i]); k < w[i] + GAP; k++)
                                g_string_append_c(line, ' ');
        }
        fprintf(f, "%s\n", line->str);
        g_string_free(line, TRUE);
}

void table_print(const Table *t, FILE *f) {
        g_autofree size_t *w = g_new0(size_t, t->ncols);
        for (size_t r = 0; r < t->rows->len; r++) {
                char **row = t->rows->pdata[r];
                for (size_t i = 0; i < t->ncols; i++)
                        w[i] = MAX(w[i], width(row[i]));
        }
        size_t total = 1;
        for (size_t i = 0; i < t->ncols; i++)
                total += w[i] + (i + 1 < t->ncols ? GAP : 0);

        print_row(f, t->rows->pdata[0], w, t->ncols);
        for (size_t i = 0; i < total + 1; i++)
                fputc('-', f);
        fputc('\n', f);
        for (size_t r = 1; r < t->rows->len; r++)
                print_row(f, t->rows->pdata[r], w, t->ncols);
}

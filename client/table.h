/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Text tables in the shape `virsh pool-list --all` prints: a header line, a line of dashes as
 * wide as the table, then one line per row; every line starts with a space and columns are
 * left-aligned, three spaces apart (widths counted in characters, not bytes).
 */
#pragma once

#include <stdio.h>

#include <glib.h>

typedef struct Table Table;

Table *table_new(const char *const *header); /* NULL-terminated column titles */
void table_free(Table *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Table, table_free)

/* Add a row of as many cells as the header has columns (copied; NULL prints as "-"). */
void table_add(Table *t, const char *const *cells);
void table_print(const Table *t, FILE *f);

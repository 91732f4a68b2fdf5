/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Checks on pool definitions (common/pooldef.h) that fuzz_pool_xml and fuzz_pool_json share.
 */
#pragma once

#include <stdbool.h>

#include "pooldef.h"

/* pooldef_equal() and also the sizes (has_sizes, capacity, allocation, available). */
bool fuzz_pooldef_same(const PoolDef *a, const PoolDef *b);

/* One line describing p, for messages (newly allocated). */
char *fuzz_pooldef_show(const PoolDef *p);

/* Every string field of a parsed definition is set. */
void fuzz_pooldef_check_complete(const char *what, const PoolDef *p);

/* pooldef_validate(): fails only with -EINVAL and one line of UTF-8; when it passes, the fields
 * have the documented form (checked here without pooldef's code). Returns whether it passed. */
bool fuzz_pooldef_check_validate(const PoolDef *p);

/* pooldef_to_xml() parses with pooldef_from_xml() (and is a netfs pool to pooldef_xml_type()).
 * exact (for a definition pooldef_validate() accepts): to the same definition, which renders the
 * same bytes again; else XML may normalize white space once, and a second round trip changes
 * nothing. */
void fuzz_pooldef_check_xml_round_trip(const PoolDef *p, bool exact);

/* pooldef_to_json() printed as text, parsed by json-c and read with pooldef_from_json() gives the
 * same definition, and rendering that gives the same text. */
void fuzz_pooldef_check_json_round_trip(const PoolDef *p);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Sizes of shares: parse what an admin types, print what a human reads.
 * Units are binary: K=2^10, M=2^20, G=2^30, T=2^40, P=2^50, E=2^60; each may be followed by
 * "iB" or "B" ("10G" = "10GiB" = "10GB"), upper or lower case. A bare number is bytes
 * ("1073741824", "1073741824B"). A fraction is allowed only when the result is a whole number
 * of bytes ("1.5G" yes, "0.1K" no).
 */
#pragma once

#include <stdint.h>

#include <glib.h>

/* Parse text into bytes. Returns 0 and sets *ret_bytes, or -EINVAL (zero, negative, junk,
 * empty, fraction that is not whole bytes) / -ERANGE (does not fit in 63 bits) with one line in
 * error: e.g.  invalid size "10X": unknown unit "X"; use a number with an optional unit K, M, G, T, P or E (e.g. 512M, 10G, 1T) */
int size_parse(const char *text, uint64_t *ret_bytes, GError **error);

/* Print bytes for humans: "512 MiB", "1.5 GiB", "10 GiB", "1023 B" (at most one decimal,
 * dropped when it is 0). Returns a newly allocated string. */
char *size_format(uint64_t bytes);

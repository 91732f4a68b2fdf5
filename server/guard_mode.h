/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The guard's modes, the one home of their grammar ([shares] guard, create's "guard", nfsprov
 * guard SHARE MODE, the state's shares.guard):
 *   enforce  the share's root directory is immutable (server/immutable.h): no entry can be made,
 *            renamed or removed there but by nfsprovd; changes are also detected and reported;
 *   detect   nothing is prevented; changes are detected and reported;
 *   off      neither.
 */
#pragma once

#include <glib.h>

typedef enum GuardMode {
        GUARD_ENFORCE,
        GUARD_DETECT,
        GUARD_OFF,
        _GUARD_MODE_MAX,
} GuardMode;

#define GUARD_MODES_ALLOWED "enforce, detect or off"

/* "enforce", "detect", "off"; NULL for a value out of range. */
const char *guard_mode_name(GuardMode m);

/* -EINVAL with one line (what is wrong, what is allowed) for anything but the three names. */
int guard_mode_parse(const char *s, GuardMode *ret, GError **error);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "error.h"
#include "guard_mode.h"
#include "macro.h"
#include "show.h"

static const char *const names[_GUARD_MODE_MAX] = {
        [GUARD_ENFORCE] = "enforce",
        [GUARD_DETECT] = "detect",
        [GUARD_OFF] = "off",
};

const char *guard_mode_name(GuardMode m) {
        return (unsigned) m < _GUARD_MODE_MAX ? names[m] : NULL;
}

int guard_mode_parse(const char *s, GuardMode *ret, GError **error) {
        for (unsigned m = 0; s && m < _GUARD_MODE_MAX; m++)
                if (strcmp(s, names[m]) == 0) {
                        *ret = (GuardMode) m;
                        return 0;
                }
        g_autofree char *shown = show_text(s ? s : "");
        return np_fail(error, EINVAL, "\"%s\" is not a guard mode; allowed: " GUARD_MODES_ALLOWED, shown);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "unit.h"

char *unit_mkdtemp(void) {
        char *d = g_strdup_printf("%s/nfsprov-unit-XXXXXX", g_get_tmp_dir());
        ck_assert_ptr_nonnull(g_mkdtemp(d));
        return d;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path);
}

void unit_rm_rf(const char *path) {
        if (path)
                nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "error.h"
#include "keyfile.h"
#include "show.h"

/* Whether a raw value ends in an unpaired backslash (an odd run of them at its end). */
static bool ends_in_escape(const char *v) {
        size_t n = strlen(v), run = 0;
        while (run < n && v[n - 1 - run] == '\\')
                run++;
        return run % 2 == 1;
}

/* GLib reads what the raw value allows; refused here: an unpaired backslash at the end. */
static int check_raw(GKeyFile *kf, const char *group, const char *key, GError **error) {
        g_autofree char *raw = g_key_file_get_value(kf, group, key, NULL);
        if (raw && ends_in_escape(raw))
                return np_fail(error, EINVAL,
                               "[%s] %s: the value ends in a backslash, an escape with nothing after it; write "
                               "\\\\ for a backslash",
                               group, key);
        return 0;
}

static int refused(const char *group, const char *key, const GError *e, GError **error) {
        g_autofree char *msg = show_text_max(e->message, SIZE_MAX);
        return np_fail(error, EINVAL, "[%s] %s: %s", group, key, msg);
}

int keyfile_get_string(GKeyFile *kf, const char *group, const char *key, char **ret, GError **error) {
        int r = check_raw(kf, group, key, error);
        if (r < 0)
                return r;
        g_autoptr(GError) e = NULL;
        char *v = g_key_file_get_string(kf, group, key, &e);
        if (!v)
                return refused(group, key, e, error);
        *ret = v;
        return 0;
}

int keyfile_get_string_list(GKeyFile *kf, const char *group, const char *key, char ***ret, size_t *ret_n,
                            GError **error) {
        int r = check_raw(kf, group, key, error);
        if (r < 0)
                return r;
        g_autoptr(GError) e = NULL;
        gsize n = 0;
        char **v = g_key_file_get_string_list(kf, group, key, &n, &e);
        if (!v)
                return refused(group, key, e, error);
        *ret = v;
        *ret_n = n;
        return 0;
}

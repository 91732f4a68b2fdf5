/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdarg.h>

#include "error.h"

G_DEFINE_QUARK(nfsprov-error-quark, np_error)

int np_fail(GError **error, int errnum, const char *fmt, ...) {
        g_assert(errnum > 0);
        if (error && !*error) {
                va_list ap;
                va_start(ap, fmt);
                g_autofree char *msg = g_strdup_vprintf(fmt, ap);
                va_end(ap);
                g_set_error_literal(error, NP_ERROR, errnum, msg);
        }
        return -errnum;
}

int np_fail_prefix(GError **error, GError *cause, const char *fmt, ...) {
        g_assert(cause);
        int r = np_error_errno(cause);
        if (error && !*error) {
                va_list ap;
                va_start(ap, fmt);
                g_autofree char *prefix = g_strdup_vprintf(fmt, ap);
                va_end(ap);
                g_set_error(error, NP_ERROR, -r, "%s: %s", prefix, cause->message);
        }
        g_error_free(cause);
        return r;
}

int np_error_errno(const GError *error) {
        if (error && error->domain == NP_ERROR && error->code > 0)
                return -error->code;
        return -EIO;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Errors carried to the place that handles them.
 *
 * Every nfsprov function returns 0 on success or a negative errno. When it fails it may
 * also fill a GError (domain NP_ERROR, code = the positive errno) with one line a user can
 * read: what is wrong and, for bad input, what is allowed. Nothing is logged where the
 * error is raised; the caller that handles it logs or prints it once.
 */
#pragma once

#include <glib.h>

#include "macro.h"

#define NP_ERROR (np_error_quark())
GQuark np_error_quark(void);

/* Set *error (when error is non-NULL and not yet set) and return -errnum.
 * errnum is a positive errno value. Usage: return np_fail(error, EINVAL, "...", ...); */
int np_fail(GError **error, int errnum, const char *fmt, ...) _printf_(3, 4);

/* Like np_fail(), but prefixes the message of an existing error `cause` (which is freed). */
int np_fail_prefix(GError **error, GError *cause, const char *fmt, ...) _printf_(3, 4);

/* The negative errno an error carries: -code for NP_ERROR errors, -EIO for any other domain. */
int np_error_errno(const GError *error);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Each tests/unit/test_*.c defines unit_suite(): the Check suite for its module. */
#pragma once

#include <check.h>
#include <glib.h>

Suite *unit_suite(void);

/* A fresh temporary directory for one test (removed by unit_rm_rf). */
char *unit_mkdtemp(void);
void unit_rm_rf(const char *path);

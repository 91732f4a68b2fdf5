/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Logging for the programs (not the libraries: library functions report through GError and
 * leave logging to the caller that handles the error).
 * Lines go to stderr as "PROGRAM: message" (or "<N>message" with syslog priorities when
 * stderr is the journal, so systemd keeps the level).
 */
#pragma once

#include <stdbool.h>
#include <syslog.h>

#include "macro.h"

void log_setup(const char *program_name);
void log_set_max_level(int level); /* LOG_ERR .. LOG_DEBUG; default LOG_INFO */
int log_get_max_level(void);

/* Returns -abs(error) when error != 0 so it can end a function: return log_error_errno(r, ...). */
int log_full(int level, int error, const char *fmt, ...) _printf_(3, 4);

/* For command-line programs: print one error line "PROGRAM: message" (line breaks in the
 * message become spaces, so it stays one line) and return `status`, the exit status. */
int log_exit(int status, const char *fmt, ...) _printf_(2, 3);

#define log_debug(...) log_full(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...) log_full(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...) log_full(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...) log_full(LOG_ERR, 0, __VA_ARGS__)
#define log_error_errno(e, ...) log_full(LOG_ERR, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_full(LOG_WARNING, (e), __VA_ARGS__)

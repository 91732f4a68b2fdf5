/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static const char *log_program = "nfsprov";
static int log_max_level = LOG_INFO;
static bool log_prefix_priority = false;

void log_setup(const char *program_name) {
        if (program_name)
                log_program = program_name;
        /* systemd sets JOURNAL_STREAM when stderr is connected to the journal. */
        log_prefix_priority = getenv("JOURNAL_STREAM") != NULL;
        const char *lvl = getenv("NFSPROV_LOG_LEVEL");
        if (lvl && strcmp(lvl, "debug") == 0)
                log_max_level = LOG_DEBUG;
}

void log_set_max_level(int level) {
        log_max_level = level;
}

int log_get_max_level(void) {
        return log_max_level;
}

int log_full(int level, int error, const char *fmt, ...) {
        int saved = errno;
        if (level <= log_max_level) {
                char buf[2048];
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(buf, sizeof buf, fmt, ap);
                va_end(ap);
                if (log_prefix_priority)
                        fprintf(stderr, "<%d>%s\n", level, buf);
                else
                        fprintf(stderr, "%s: %s\n", log_program, buf);
        }
        errno = saved;
        return error == 0 ? 0 : -abs(error);
}

int log_exit(int status, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        char *msg = NULL;
        int n = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (n < 0)
                return status;
        for (char *p = msg; *p; p++)
                if (*p == '\n' || *p == '\r')
                        *p = ' ';
        log_full(LOG_ERR, 0, "%s", msg);
        free(msg);
        return status;
}

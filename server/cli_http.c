/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "cli_http.h"

const CliTransport *cli_transport_for(const CliTarget *target) {
        return target->url ? &cli_transport_curl : &cli_transport_unix;
}

const char *http_target_where(const CliTarget *target) {
        return target->url ? target->url : target->socket_path;
}

void http_pace(int64_t start_us, uint64_t done, uint64_t max_rate) {
        if (!max_rate)
                return;
        int64_t due_us = start_us + (int64_t) ((double) done * 1e6 / (double) max_rate);
        int64_t now = g_get_monotonic_time();
        if (due_us > now)
                g_usleep((gulong) (due_us - now));
}

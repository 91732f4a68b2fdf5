/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/bench/bench-audit.sh's driver: audit_scan() of DIR against the volumes given as
 * NAME:CAPACITY (inode not compared). Prints one line: items, the stats, the scan's own time
 * in ms and the process's peak RSS in KiB. AUDIT_SCAN_MAX_FOREIGN=N in the environment sets
 * AuditOptions.max_foreign (default: the library's). Exit 0 when the scan ran (whatever it found), 1 when
 * it failed, 2 for bad usage.
 */
#include "config.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include "audit.h"

int main(int argc, char **argv) {
        if (argc < 2) {
                fprintf(stderr, "usage: %s DIR [NAME:CAPACITY...]\n", argv[0]);
                return 2;
        }
        g_autofree AuditVolume *vols = g_new0(AuditVolume, argc);
        size_t n = 0;
        for (int i = 2; i < argc; i++) {
                char *colon = strrchr(argv[i], ':');
                if (!colon) {
                        fprintf(stderr, "%s: not NAME:CAPACITY: %s\n", argv[0], argv[i]);
                        return 2;
                }
                *colon = '\0';
                vols[n++] = (AuditVolume) { .name = argv[i], .capacity = g_ascii_strtoull(colon + 1, NULL, 10) };
        }
        int fd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                perror(argv[1]);
                return 1;
        }
        g_autoptr(GPtrArray) items = NULL;
        g_autoptr(GError) error = NULL;
        AuditStats st;
        const char *mf = getenv("AUDIT_SCAN_MAX_FOREIGN");
        AuditOptions opt = { .max_foreign = mf ? (size_t) g_ascii_strtoull(mf, NULL, 10) : 0 };
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int r = audit_scan(fd, vols, n, &opt, &items, &st, &error);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        close(fd);
        if (r < 0) {
                fprintf(stderr, "%s: %s\n", argv[0], error ? error->message : g_strerror(-r));
                return 1;
        }
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        double ms = (double) (t1.tv_sec - t0.tv_sec) * 1e3 + (double) (t1.tv_nsec - t0.tv_nsec) / 1e6;
        printf("items %u entries %" PRIu64 " directories %" PRIu64 " foreign %" PRIu64 " omitted %" PRIu64
               " scan_ms %.1f maxrss_kib %ld\n",
               items->len, st.entries, st.directories, st.foreign, st.foreign_omitted, ms, ru.ru_maxrss);
        return 0;
}

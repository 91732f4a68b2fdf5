/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The main() every Check unit-test program shares: it runs the one suite its file defines.
 * Exit status: 1 when a test failed; else 77 (skipped, with "SKIP: ..." lines) when a test was
 * skipped (unit_skip); else 0. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "unit.h"

int main(void) {
        if (unit_skips_open() < 0) {
                fprintf(stderr, "%s: cannot create the file for skipped tests: %s\n",
                        program_invocation_short_name, g_strerror(errno));
                return EXIT_FAILURE;
        }
        SRunner *sr = srunner_create(unit_suite());
        if (&unit_one_process != NULL && !getenv("CK_FORK"))
                srunner_set_fork_status(sr, CK_NOFORK);
        unit_forks = srunner_fork_status(sr) == CK_FORK;
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        int run = srunner_ntests_run(sr);
        srunner_free(sr);

        g_autofree char *skips = unit_skips_read();
        g_auto(GStrv) lines = g_strsplit(skips ? skips : "", "\n", -1);
        int skipped = 0;
        for (char **l = lines; *l; l++)
                if (**l) {
                        printf("SKIP: %s: %s\n", program_invocation_short_name, *l);
                        skipped++;
                }
        if (!skips) {
                fprintf(stderr, "%s: cannot read the file for skipped tests\n", program_invocation_short_name);
                return EXIT_FAILURE;
        }
        if (failed > 0)
                return EXIT_FAILURE;
        if (skipped > 0) {
                printf("%s: %d of %d tests skipped (the other %d passed): reported as skipped\n",
                       program_invocation_short_name, skipped, run, run - skipped);
                return 77;
        }
        return EXIT_SUCCESS;
}

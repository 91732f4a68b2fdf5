/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The main() every Check unit-test program shares: it runs the one suite its file defines. */
#include "config.h"

#include <stdlib.h>

#include "unit.h"

int main(void) {
        SRunner *sr = srunner_create(unit_suite());
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* basic_auth.c: Basic credentials read only when canonical base64 of USER:PASSWORD. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "basic_auth.h"
#include "error.h"
#include "unit.h"

static void check_ok(const char *value, const char *want_user, const char *want_password) {
        g_autofree char *user = NULL, *password = NULL;
        g_autoptr(GError) error = NULL;
        ck_assert_msg(basic_auth_parse(value, &user, &password, &error) == 0, "%s: %s", value,
                      error ? error->message : "?");
        ck_assert_str_eq(user, want_user);
        ck_assert_str_eq(password, want_password);
}

static void check_refused(const char *value, const char *want_message) {
        char *user = NULL, *password = NULL;
        g_autoptr(GError) error = NULL;
        ck_assert_int_eq(basic_auth_parse(value, &user, &password, &error), -EINVAL);
        ck_assert_ptr_null(user);
        ck_assert_ptr_null(password);
        ck_assert_str_eq(error->message, want_message);
}

START_TEST(test_parse) {
        check_ok("YWRtaW46dG9rLTEyMzQ=", "admin", "tok-1234");           /* admin:tok-1234 */
        check_ok("  YWRtaW46dG9rLTEyMzQ=", "admin", "tok-1234");         /* blanks before it */
        check_ok("Og==", "", "");                                         /* ":" */
        check_ok("dTpwOmE6c3M=", "u", "p:a:ss");                          /* the password may hold ':' */
        check_refused("", "Basic credentials: not base64 (RFC 4648 alphabet, padded)");
        check_refused("YWRtaW46dG9rLTEyMzQ", "Basic credentials: not base64 (RFC 4648 alphabet, padded)");
        check_refused("YWRt aW46", "Basic credentials: not base64 (RFC 4648 alphabet, padded)");
        check_refused("YWRtaW46dG9rLTEyMzQ= ", "Basic credentials: not base64 (RFC 4648 alphabet, padded)");
        check_refused("QR==", "Basic credentials: not canonical base64");  /* unused bits set */
        check_refused("=AAA", "Basic credentials: not canonical base64");
        check_refused("bm9jb2xvbg==", "Basic credentials: no ':' between user name and password"); /* nocolon */
        check_refused("YQA6Yg==", "Basic credentials: a NUL byte in the user name or password");      /* a\0:b */
}
END_TEST

Suite *unit_suite(void) {
        Suite *s = suite_create("basic_auth");
        TCase *tc = tcase_create("basic_auth");
        tcase_add_test(tc, test_parse);
        suite_add_tcase(s, tc);
        return s;
}

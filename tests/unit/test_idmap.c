/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <grp.h>
#include <pwd.h>
#include <string.h>

#include "error.h"
#include "idmap.h"
#include "unit.h"

#define UNKNOWN "nfsprov-no-such-name"

static char *domain(void) {
        char *d = NULL;
        g_autoptr(GError) e = NULL;
        int r = idmap_get_domain(&d, &e);
        ck_assert_msg(r == 0, "idmap_get_domain: %d %s", r, e ? e->message : "");
        ck_assert(d && *d);
        ck_assert_ptr_null(strchr(d, '@'));
        return d;
}

static uid_t uid_ok(const char *name) {
        uid_t u = 4242;
        g_autoptr(GError) e = NULL;
        int r = idmap_user_to_uid(name, &u, &e);
        ck_assert_msg(r == 0, "user %s: %d %s", name, r, e ? e->message : "");
        return u;
}

static gid_t gid_ok(const char *name) {
        gid_t g = 4242;
        g_autoptr(GError) e = NULL;
        int r = idmap_group_to_gid(name, &g, &e);
        ck_assert_msg(r == 0, "group %s: %d %s", name, r, e ? e->message : "");
        return g;
}

START_TEST(test_root) {
        ck_assert_uint_eq(uid_ok("root"), 0);
        ck_assert_uint_eq(gid_ok("root"), 0);
        g_autofree char *d = domain();
        g_autofree char *full = g_strdup_printf("root@%s", d);
        ck_assert_uint_eq(uid_ok(full), 0);
        ck_assert_uint_eq(gid_ok(full), 0);
        /* Domains compare without case, as libnfsidmap does. */
        g_autofree char *upper = g_ascii_strup(full, -1);
        memcpy(upper, "root", 4);
        ck_assert_uint_eq(uid_ok(upper), 0);
}
END_TEST

START_TEST(test_numbers) {
        ck_assert_uint_eq(uid_ok("0"), 0);
        ck_assert_uint_eq(gid_ok("0"), 0);
        ck_assert_uint_eq(uid_ok("1000"), 1000);
        ck_assert_uint_eq(gid_ok("0065534"), 65534);
        ck_assert_uint_eq(uid_ok("4294967294"), 4294967294u);

        uid_t u = 7;
        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(idmap_user_to_uid("4294967295", &u, &e), -EINVAL);
        ck_assert_str_eq(e->message, "user id 4294967295 is out of range (allowed: 0 to 4294967294)");
        g_clear_error(&e);
        ck_assert_int_eq(idmap_user_to_uid("99999999999999999999999", &u, &e), -EINVAL);
        ck_assert_uint_eq(u, 7);
}
END_TEST

/* The same answers as the system's user and group database for accounts Debian always has. */
START_TEST(test_agrees_with_nss) {
        const char *users[] = { "root", "daemon", "bin", "sys", "nobody" };
        for (size_t i = 0; i < G_N_ELEMENTS(users); i++) {
                struct passwd *pw = getpwnam(users[i]);
                ck_assert_msg(pw, "this system has no user %s (Debian's base-passwd has it)", users[i]);
                ck_assert_uint_eq(uid_ok(users[i]), pw->pw_uid);
        }
        const char *groups[] = { "root", "daemon", "bin", "sys", "adm", "nogroup" };
        for (size_t i = 0; i < G_N_ELEMENTS(groups); i++) {
                struct group *gr = getgrnam(groups[i]);
                ck_assert_msg(gr, "this system has no group %s (Debian's base-passwd has it)", groups[i]);
                ck_assert_uint_eq(gid_ok(groups[i]), gr->gr_gid);
        }
}
END_TEST

START_TEST(test_nobody_resolves) {
        struct passwd *pw = getpwnam("nobody");
        struct group *gr = getgrnam("nogroup");
        ck_assert_msg(pw && gr, "this system has no nobody user or nogroup group");
        ck_assert_uint_eq(uid_ok("nobody"), pw->pw_uid);
        ck_assert_uint_eq(pw->pw_uid, 65534);
        ck_assert_uint_eq(gid_ok("nogroup"), gr->gr_gid);
        ck_assert_uint_eq(gr->gr_gid, 65534);
        g_autofree char *d = domain();
        g_autofree char *full = g_strdup_printf("nobody@%s", d);
        ck_assert_uint_eq(uid_ok(full), 65534);
}
END_TEST

START_TEST(test_unknown) {
        g_autofree char *d = domain();
        uid_t u = 7;
        gid_t g = 7;
        g_autoptr(GError) e = NULL;

        ck_assert_int_eq(idmap_user_to_uid(UNKNOWN, &u, &e), -ENOENT);
        ck_assert_int_eq(e->code, ENOENT);
        g_autofree char *want = g_strdup_printf("unknown user \"" UNKNOWN "\" (looked up as " UNKNOWN
                                                "@%s with libnfsidmap)", d);
        ck_assert_str_eq(e->message, want);
        ck_assert_uint_eq(u, 7); /* untouched on failure */

        g_clear_error(&e);
        ck_assert_int_eq(idmap_group_to_gid(UNKNOWN, &g, &e), -ENOENT);
        g_autofree char *wantg = g_strdup_printf("unknown group \"" UNKNOWN "\" (looked up as " UNKNOWN
                                                 "@%s with libnfsidmap)", d);
        ck_assert_str_eq(e->message, wantg);
        ck_assert_uint_eq(g, 7);

        /* Given with the domain: looked up as given. */
        g_clear_error(&e);
        g_autofree char *full = g_strdup_printf(UNKNOWN "@%s", d);
        ck_assert_int_eq(idmap_user_to_uid(full, &u, &e), -ENOENT);
        g_autofree char *wantf = g_strdup_printf("unknown user \"%s\" (looked up as %s with libnfsidmap)", full, full);
        ck_assert_str_eq(e->message, wantf);

        /* Not a number, so a name. */
        g_clear_error(&e);
        ck_assert_int_eq(idmap_user_to_uid("-1", &u, &e), -ENOENT);
        ck_assert_uint_eq(u, 7);
}
END_TEST

/* Not a nobody id for a name that is not nobody: a group name is no user name; and user names
 * are case-sensitive. */
START_TEST(test_not_a_user_name) {
        if (getpwnam("nogroup") || getpwnam("ROOT"))
                unit_skip("this system has a user named nogroup or ROOT");
        ck_assert_ptr_nonnull(getgrnam("nogroup"));
        uid_t u = 7;
        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(idmap_user_to_uid("nogroup", &u, &e), -ENOENT);
        ck_assert_msg(g_str_has_prefix(e->message, "unknown user \"nogroup\""), "%s", e->message);
        g_clear_error(&e);
        ck_assert_int_eq(idmap_user_to_uid("ROOT", &u, &e), -ENOENT);
        ck_assert_msg(g_str_has_prefix(e->message, "unknown user \"ROOT\""), "%s", e->message);
        ck_assert_uint_eq(u, 7);
}
END_TEST

START_TEST(test_bad_input) {
        uid_t u = 7;
        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(idmap_user_to_uid("", &u, &e), -EINVAL);
        ck_assert_str_eq(e->message, "no user name given (allowed: a name, name@domain or a numeric id)");
        g_clear_error(&e);
        ck_assert_int_eq(idmap_group_to_gid(NULL, NULL, &e), -EINVAL);

}
END_TEST

/* Another domain than the idmap domain. */
START_TEST(test_other_domain) {
        g_autofree char *d = domain();
        const char *other = g_ascii_strcasecmp(d, "nfsprov-other.example") != 0 ? "nfsprov-other.example"
                                                                                : "nfsprov-another.example";
        g_autofree char *name = g_strdup_printf("root@%s", other);
        uid_t u = 7;
        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(idmap_user_to_uid(name, &u, &e), -EINVAL);
        g_autofree char *want = g_strdup_printf("user \"%s\" cannot be looked up: libnfsidmap refused it "
                                                "(its domain is %s; allowed: a name, name@%s or a numeric id)",
                                                name, d, d);
        ck_assert_str_eq(e->message, want);
        ck_assert_uint_eq(u, 7);
}
END_TEST

Suite *unit_suite(void) {
        Suite *s = suite_create("idmap");
        TCase *tc = tcase_create("idmap");
        tcase_add_test(tc, test_root);
        tcase_add_test(tc, test_numbers);
        tcase_add_test(tc, test_agrees_with_nss);
        tcase_add_test(tc, test_nobody_resolves);
        tcase_add_test(tc, test_unknown);
        tcase_add_test(tc, test_not_a_user_name);
        tcase_add_test(tc, test_bad_input);
        tcase_add_test(tc, test_other_domain);
        suite_add_tcase(s, tc);
        return s;
}

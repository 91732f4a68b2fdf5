/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* client_conf: nfsprov-client's configuration file, and the text table its commands print. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "client_conf.h"
#include "table.h"
#include "unit.h"

static char *write_conf(const char *dir, const char *text) {
        char *p = g_build_filename(dir, "client.conf", NULL);
        ck_assert(g_file_set_contents(p, text, -1, NULL));
        return p;
}

START_TEST(test_defaults_and_values) {
        g_autofree char *dir = unit_mkdtemp();
        g_autofree char *missing = g_build_filename(dir, "nope.conf", NULL);
        g_autoptr(ClientConf) d = NULL;
        ck_assert_int_eq(client_conf_load(missing, false, &d, NULL), 0);
        ck_assert_str_eq(d->connect, "qemu:///system");
        ck_assert_ptr_null(d->servers[0]);
        ck_assert_int_eq(d->timeout_s, 30);
        g_autoptr(ClientConf) m = NULL;
        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(client_conf_load(missing, true, &m, &e), -ENOENT);

        g_autofree char *p = write_conf(dir, "[client]\n"
                                             "servers = http://10.0.0.1:8740; https://nfs2.example:8740/ ;\n"
                                             "connect = qemu+ssh://kvm1/system\n"
                                             "token_file = /etc/nfsprov/client.token\n"
                                             "timeout = 5\n");
        g_autoptr(ClientConf) c = NULL;
        ck_assert_int_eq(client_conf_load(p, true, &c, NULL), 0);
        ck_assert_uint_eq(g_strv_length(c->servers), 2);
        ck_assert_str_eq(c->servers[0], "http://10.0.0.1:8740");
        ck_assert_str_eq(c->servers[1], "https://nfs2.example:8740/");
        ck_assert_str_eq(c->connect, "qemu+ssh://kvm1/system");
        ck_assert_str_eq(c->token_file, "/etc/nfsprov/client.token");
        ck_assert_int_eq(c->timeout_s, 5);
        unit_rm_rf(dir);
}
END_TEST

START_TEST(test_bad_files) {
        static const struct {
                const char *text, *msg;
        } bad[] = {
                { "[client]\nserver = http://x\n", "unknown key \"server\"" },
                { "[clients]\n", "unknown group [clients]" },
                { "[client]\nservers = ftp://x\n", "is not a URL" },
                /* GLib 2.74 would set its error twice (a warning on stderr): refused first, one line */
                { "[client]\nservers = http://a\\z:1\\\n", "[client] servers: the value ends in a backslash" },
                { "[client]\ntoken_file = /var/\\z\\\n", "[client] token_file: the value ends in a backslash" },
                /* the servers read before the bad one are freed (a leak ASan reports; found by
                 * tests/fuzz/fuzz_client_conf) */
                { "[client]\nservers = http://10.0.0.1:8740; ftp://x\n", "is not a URL" },
                { "[client]\nservers = http://user:pw@x\n", "has a user, query or fragment" },
                { "[client]\nservers = http://a b:80\n", "contains blank space or a control character" },
                { "[client]\nconnect =\n", "connect is empty" },
                { "[client]\ntoken_file = relative/token\n", "is not an absolute path" },
                { "[client]\ntimeout = 0\n", "timeout \"0\" is not a number of seconds from 1 to 3600" },
                { "[client]\ntimeout = 10s\n", "is not a number of seconds" },
                { "not a key file\n", "cannot read" },
                /* the file's text in a message is escaped: one line of UTF-8 (found by
                 * tests/fuzz/fuzz_client_conf) */
                { "[client]\nco\x9c\x91nect = x\n", "unknown key \"co\\x9c\\x91nect\"" },
                { "[cl\x1bient]\n", "Invalid group name: cl\\x1bient" },
                { "[client]\ntoken_file = rel\\tx\n", "token_file \"rel\\x09x\" is not an absolute path" },
                { "[client]\ntimeout = 1\\n0\n", "timeout \"1\\x0a0\" is not a number" },
                { "[\xff\n", "cannot read" },
        };
        g_autofree char *dir = unit_mkdtemp();
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                g_autofree char *p = write_conf(dir, bad[i].text);
                ClientConf *c = NULL;
                g_autoptr(GError) e = NULL;
                ck_assert_int_eq(client_conf_load(p, true, &c, &e), -EINVAL);
                ck_assert_ptr_null(c);
                ck_assert_msg(strstr(e->message, bad[i].msg), "case %zu: %s", i, e->message);
                ck_assert_ptr_null(strchr(e->message, '\n'));
                ck_assert_msg(g_utf8_validate(e->message, -1, NULL), "case %zu: not UTF-8", i);
        }
        unit_rm_rf(dir);
}
END_TEST

/* A key that is there but whose value GKeyFile cannot read (not UTF-8) is refused, not dropped:
 * a servers line with one bad byte used to leave no servers at all (found by
 * tests/fuzz/fuzz_client_conf). */
START_TEST(test_unreadable_values_refused) {
        static const char *const keys[] = { "servers", "connect", "token_file", "ca_file", "timeout" };
        g_autofree char *dir = unit_mkdtemp();
        for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
                g_autofree char *text = g_strdup_printf("[client]\n%s = http://10.0.0.1:8740 \xbb\n", keys[i]);
                g_autofree char *p = write_conf(dir, text);
                ClientConf *c = NULL;
                g_autoptr(GError) e = NULL;
                ck_assert_int_eq(client_conf_load(p, true, &c, &e), -EINVAL);
                ck_assert_ptr_null(c);
                g_autofree char *want = g_strdup_printf("[client] %s: ", keys[i]);
                ck_assert_msg(strstr(e->message, want), "%s: %s", keys[i], e->message);
                ck_assert_msg(g_utf8_validate(e->message, -1, NULL), "%s: not UTF-8", keys[i]);
        }
        unit_rm_rf(dir);
}
END_TEST

START_TEST(test_table_shape) {
        static const char *const header[] = { "Name", "State", "Autostart", NULL };
        g_autoptr(Table) t = table_new(header);
        const char *r1[] = { "default", "active", "yes" };
        const char *r2[] = { "NFSStorage_01", "inactive", NULL };
        table_add(t, r1);
        table_add(t, r2);
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        table_print(t, f);
        fclose(f);
        ck_assert_str_eq(buf, " Name            State      Autostart\n"
                              "--------------------------------------\n"
                              " default         active     yes\n"
                              " NFSStorage_01   inactive   -\n");
        free(buf);
}
END_TEST

Suite *unit_suite(void) {
        Suite *s = suite_create("client_conf");
        TCase *tc = tcase_create("conf");
        tcase_add_test(tc, test_defaults_and_values);
        tcase_add_test(tc, test_bad_files);
        tcase_add_test(tc, test_unreadable_values_refused);
        tcase_add_test(tc, test_table_shape);
        suite_add_tcase(s, tc);
        return s;
}

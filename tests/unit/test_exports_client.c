/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "error.h"
#include "exports_client.h"
#include "unit.h"

static ExportsClientSpec *parse_ok(const char *text) {
        ExportsClientSpec *c = NULL;
        g_autoptr(GError) error = NULL;
        ck_assert_msg(exports_client_parse(text, &c, &error) == 0, "%s: %s", text, error ? error->message : "");
        ck_assert_ptr_nonnull(c);
        return c;
}

static ExportsAddress addr(const char *text) {
        ExportsAddress a;
        ck_assert_msg(exports_address_parse(text, &a) == 0, "%s is not an address", text);
        return a;
}

static bool admits(const char *spec, const char *address) {
        g_autoptr(ExportsClientSpec) c = parse_ok(spec);
        ExportsAddress a = addr(address);
        return exports_client_match(c, &a);
}

START_TEST(test_kinds) {
        static const struct {
                const char *text;
                ExportsClientKind kind;
                int family;
                unsigned prefix;
                const char *name;
        } t[] = {
                { "*", EXPORTS_CLIENT_ANYONE, 0, 0, NULL },
                { "10.1.2.3", EXPORTS_CLIENT_ADDRESS, AF_INET, 32, NULL },
                { "fd00::1", EXPORTS_CLIENT_ADDRESS, AF_INET6, 128, NULL },
                { "10.0.0.0/8", EXPORTS_CLIENT_NETWORK, AF_INET, 8, NULL },
                { "0.0.0.0/0", EXPORTS_CLIENT_NETWORK, AF_INET, 0, NULL },
                { "10.1.2.3/32", EXPORTS_CLIENT_NETWORK, AF_INET, 32, NULL },
                { "fd00::/64", EXPORTS_CLIENT_NETWORK, AF_INET6, 64, NULL },
                { "10.0.0.0/255.255.0.0", EXPORTS_CLIENT_NETWORK, AF_INET, 16, NULL },
                { "10.0.0.0/255.255.255.255", EXPORTS_CLIENT_NETWORK, AF_INET, 32, NULL },
                { "0.0.0.0/0.0.0.0", EXPORTS_CLIENT_NETWORK, AF_INET, 0, NULL },
                { "kvm01", EXPORTS_CLIENT_HOSTNAME, 0, 0, "kvm01" },
                { "kvm01.example.com", EXPORTS_CLIENT_HOSTNAME, 0, 0, "kvm01.example.com" },
                { "kvm0?.example.com", EXPORTS_CLIENT_HOSTNAME, 0, 0, "kvm0?.example.com" },
                { "*.example.com", EXPORTS_CLIENT_HOSTNAME, 0, 0, "*.example.com" },
                { "@kvm-hosts", EXPORTS_CLIENT_NETGROUP, 0, 0, "kvm-hosts" },
                { "@a_b.c", EXPORTS_CLIENT_NETGROUP, 0, 0, "a_b.c" },
        };
        for (size_t i = 0; i < G_N_ELEMENTS(t); i++) {
                g_autoptr(ExportsClientSpec) c = parse_ok(t[i].text);
                ck_assert_msg(c->kind == t[i].kind, "%s: kind %d", t[i].text, c->kind);
                if (t[i].family) {
                        ck_assert_int_eq(c->address.family, t[i].family);
                        ck_assert_uint_eq(c->prefix, t[i].prefix);
                }
                if (t[i].name)
                        ck_assert_str_eq(c->name, t[i].name);
                else
                        ck_assert_ptr_null(c->name);
                ck_assert_int_eq(exports_client_check(t[i].text, NULL), 0);
        }
}
END_TEST

typedef struct Bad {
        const char *text;
        const char *want; /* in the message */
} Bad;

static const Bad bad[] = {
        { "", "is not a valid client" },
        { "a b", "is not a valid client" },
        { "host_1", "is not a valid client" },
        { "-a", "is not a valid client" },
        { "a-", "is not a valid client" },
        { "a..b", "is not a valid client" },
        { "1.2.3.4.5", "is not a valid client" },
        { "10.0.0.256", "is not a valid client" },
        { "(rw)", "is not a valid client" },
        { "*(rw)", "is not a valid client" },
        { "fd00::1::2", "is not a valid IPv6 address" },
        { "fe80::1%eth0", "is not a valid IPv6 address" },
        { "@", "is not a valid netgroup" },
        { "@a b", "is not a valid netgroup" },
        { "10.0.0.1/8", "bits set beyond prefix length 8" },
        { "10.0.0.1/255.0.0.0", "bits set beyond prefix length 8" },
        { "fd00::1/64", "bits set beyond prefix length 64" },
        { "10.0.0.0/", "not a prefix length" },
        { "10.0.0.0/1234", "not a prefix length" },
        { "10.0.0.0/-8", "not a prefix length" },
        { "10.0.0.0/33", "too long for an IPv4 address (at most 32)" },
        { "fd00::/129", "too long for an IPv6 address (at most 128)" },
        { "host/24", "the part before the / is not an IPv4 or IPv6 address" },
        { "/24", "the part before the / is not an IPv4 or IPv6 address" },
        { "10.0.0.0/255.0.255.0", "not a contiguous IPv4 netmask" },
        { "10.0.0.0/255.0.0", "not a contiguous IPv4 netmask" },
        { "fd00::/255.255.0.0", "not a contiguous IPv4 netmask" },
        { "\x01\n", "\\x01\\x0a" },
};

START_TEST(test_bad) {
        const Bad *b = &bad[_i];
        ExportsClientSpec *const sentinel = (ExportsClientSpec *) (uintptr_t) 0x1;
        ExportsClientSpec *c = sentinel;
        g_autoptr(GError) error = NULL;
        ck_assert_int_eq(exports_client_parse(b->text, &c, &error), -EINVAL);
        ck_assert_ptr_eq(c, sentinel);
        ck_assert(error && error->domain == NP_ERROR && error->code == EINVAL);
        ck_assert_msg(g_str_has_prefix(error->message, "client \"") && strstr(error->message, "allowed: ") &&
                              !strchr(error->message, '\n'),
                      "%s", error->message);
        ck_assert_msg(strstr(error->message, b->want), "%s: \"%s\" lacks \"%s\"", b->text, error->message, b->want);
}
END_TEST

START_TEST(test_missing_and_long) {
        g_autoptr(GError) error = NULL;
        ck_assert_int_eq(exports_client_check(NULL, &error), -EINVAL);
        ck_assert_msg(strstr(error->message, "client is missing; allowed: "), "%s", error->message);

        /* A host name of 253 characters passes, 254 not; a label of 63 passes, 64 not. */
        g_autofree char *label63 = g_strnfill(63, 'a');
        g_autofree char *label64 = g_strnfill(64, 'a');
        g_autofree char *name253 = g_strjoin(".", label63, label63, label63, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                                             NULL);
        ck_assert_uint_eq(strlen(name253), 253);
        ck_assert_int_eq(exports_client_check(name253, NULL), 0);
        g_autofree char *name254 = g_strconcat(name253, "a", NULL);
        ck_assert_int_eq(exports_client_check(name254, NULL), -EINVAL);
        ck_assert_int_eq(exports_client_check(label64, NULL), -EINVAL);

        /* A netgroup of 255 characters passes, 256 not. */
        g_autofree char *g255 = g_strnfill(255, 'g');
        g_autofree char *ng255 = g_strconcat("@", g255, NULL);
        g_autofree char *ng256 = g_strconcat(ng255, "g", NULL);
        ck_assert_int_eq(exports_client_check(ng255, NULL), 0);
        ck_assert_int_eq(exports_client_check(ng256, NULL), -EINVAL);

        /* A long bad value is cut in the message. */
        g_autofree char *longbad = g_strnfill(1000, '_');
        g_clear_error(&error);
        ck_assert_int_eq(exports_client_check(longbad, &error), -EINVAL);
        ck_assert_msg(strstr(error->message, "...\"") && strlen(error->message) < 400, "%s", error->message);
}
END_TEST

START_TEST(test_hostname_valid) {
        ck_assert(exports_hostname_valid("nfs1.example.com", false));
        ck_assert(!exports_hostname_valid("*.example.com", false));
        ck_assert(exports_hostname_valid("*.example.com", true));
        ck_assert(!exports_hostname_valid("10.0.0", true)); /* last label all digits */
        ck_assert(exports_hostname_valid("10.0.0a", true));
        ck_assert(!exports_hostname_valid("", true));
        ck_assert(!exports_hostname_valid("a.", true));
}
END_TEST

START_TEST(test_match_ipv4) {
        ck_assert(admits("10.1.2.3", "10.1.2.3"));
        ck_assert(!admits("10.1.2.3", "10.1.2.4"));
        ck_assert(admits("10.0.0.0/8", "10.255.1.2"));
        ck_assert(!admits("10.0.0.0/8", "11.0.0.1"));
        ck_assert(admits("192.168.1.0/25", "192.168.1.127"));
        ck_assert(!admits("192.168.1.0/25", "192.168.1.128"));
        ck_assert(admits("0.0.0.0/0", "203.0.113.9"));
        ck_assert(!admits("0.0.0.0/0", "fd00::1"));
        ck_assert(!admits("10.1.2.3", "::1"));
}
END_TEST

START_TEST(test_match_netmask) {
        ck_assert(admits("10.1.0.0/255.255.0.0", "10.1.200.3"));
        ck_assert(!admits("10.1.0.0/255.255.0.0", "10.2.0.1"));
        ck_assert(admits("192.168.1.0/255.255.255.192", "192.168.1.63"));
        ck_assert(!admits("192.168.1.0/255.255.255.192", "192.168.1.64"));
}
END_TEST

START_TEST(test_match_ipv6) {
        ck_assert(admits("fd00::1", "fd00::1"));
        ck_assert(admits("fd00::1", "fd00:0:0::0:1")); /* compared as addresses, not as text */
        ck_assert(!admits("fd00::1", "fd00::2"));
        ck_assert(admits("fd00::/64", "fd00::abcd:1"));
        ck_assert(!admits("fd00::/64", "fd00:0:0:1::1"));
        ck_assert(admits("2001:db8::/33", "2001:db8:7fff::1"));
        ck_assert(!admits("2001:db8::/33", "2001:db8:8000::1"));
        ck_assert(!admits("fd00::/64", "10.0.0.1"));
}
END_TEST

START_TEST(test_match_ipv4_mapped_peer) {
        /* How an IPv6 socket shows an IPv4 peer: read as the IPv4 address. */
        ExportsAddress a = addr("::ffff:10.1.2.3");
        ck_assert_int_eq(a.family, AF_INET);
        ck_assert(admits("10.1.2.3", "::ffff:10.1.2.3"));
        ck_assert(admits("10.0.0.0/8", "::ffff:10.1.2.3"));
        ck_assert(!admits("fd00::/8", "::ffff:10.1.2.3"));
}
END_TEST

START_TEST(test_match_wildcard_and_names) {
        ck_assert(admits("*", "10.1.2.3"));
        ck_assert(admits("*", "fd00::1"));
        /* Names and netgroups need DNS / NIS: they admit no address. */
        ck_assert(!admits("kvm01", "10.1.2.3"));
        ck_assert(!admits("*.example.com", "10.1.2.3"));
        ck_assert(!admits("localhost", "127.0.0.1"));
        ck_assert(!admits("@kvm-hosts", "10.1.2.3"));
}
END_TEST

START_TEST(test_address_parse) {
        ExportsAddress a = { .family = 12345 };
        ck_assert_int_eq(exports_address_parse(NULL, &a), -EINVAL);
        ck_assert_int_eq(exports_address_parse("kvm01", &a), -EINVAL);
        ck_assert_int_eq(exports_address_parse("10.0.0.0/8", &a), -EINVAL);
        ck_assert_int_eq(exports_address_parse("", &a), -EINVAL);
        ck_assert_int_eq(a.family, 12345); /* untouched on failure */
        a = addr("fd00::1");
        ck_assert_int_eq(a.family, AF_INET6);
        a = addr("10.0.0.1");
        ck_assert_int_eq(a.family, AF_INET);
        ck_assert_uint_eq(a.bytes[0], 10);
        ck_assert_uint_eq(a.bytes[3], 1);
}
END_TEST

UNIT_ONE_PROCESS;

Suite *unit_suite(void) {
        Suite *s = suite_create("exports_client");
        TCase *tc = tcase_create("exports_client");
        tcase_add_test(tc, test_kinds);
        tcase_add_loop_test(tc, test_bad, 0, G_N_ELEMENTS(bad));
        tcase_add_test(tc, test_missing_and_long);
        tcase_add_test(tc, test_hostname_valid);
        tcase_add_test(tc, test_match_ipv4);
        tcase_add_test(tc, test_match_netmask);
        tcase_add_test(tc, test_match_ipv6);
        tcase_add_test(tc, test_match_ipv4_mapped_peer);
        tcase_add_test(tc, test_match_wildcard_and_names);
        tcase_add_test(tc, test_address_parse);
        suite_add_tcase(s, tc);
        return s;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "error.h"
#include "netaddr.h"
#include "unit.h"

static GPtrArray *list_ok(void) {
        GPtrArray *list = NULL;
        ck_assert_int_eq(netaddr_list(&list), 0);
        ck_assert_ptr_nonnull(list);
        return list;
}

static bool listed(GPtrArray *list, const char *ifname, const char *address) {
        for (guint i = 0; i < list->len; i++) {
                const NetAddr *a = g_ptr_array_index(list, i);
                if ((!ifname || strcmp(a->ifname, ifname) == 0) && strcmp(a->address, address) == 0)
                        return true;
        }
        return false;
}

static void assert_local(const char *address) {
        g_autoptr(GError) e = NULL;
        int r = netaddr_check_local(address, &e);
        ck_assert_msg(r == 0, "%s: %d %s", address, r, e ? e->message : "");
}

START_TEST(test_list_includes_lo) {
        g_autoptr(GPtrArray) list = list_ok();
        bool lo4 = false;
        for (guint i = 0; i < list->len; i++) {
                const NetAddr *a = g_ptr_array_index(list, i);
                ck_assert(a->ifname && *a->ifname);
                ck_assert(a->family == AF_INET || a->family == AF_INET6);
                unsigned char buf[16];
                ck_assert_int_eq(inet_pton(a->family, a->address, buf), 1); /* plain text, no prefix */
                ck_assert_uint_le(a->prefixlen, a->family == AF_INET ? 32 : 128);
                if (strcmp(a->ifname, "lo") == 0 && strcmp(a->address, "127.0.0.1") == 0) {
                        ck_assert_int_eq(a->family, AF_INET);
                        ck_assert_uint_eq(a->prefixlen, 8);
                        lo4 = true;
                }
        }
        ck_assert_msg(lo4, "127.0.0.1/8 on lo is not listed");
}
END_TEST

START_TEST(test_loopback_is_local) {
        assert_local("127.0.0.1");
        /* An IPv6 socket reports an IPv4 peer as IPv4-mapped: the same address. */
        assert_local("::ffff:127.0.0.1");
}
END_TEST

/* Bring lo up in a network namespace of this test process's own: the kernel gives it 127.0.0.1
 * and, unless IPv6 is off in the kernel, ::1. 0 or -errno. */
static int private_loopback(void) {
        if (unshare(CLONE_NEWNET) < 0)
                return -errno;
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        struct ifreq ifr = { 0 };
        strncpy(ifr.ifr_name, "lo", sizeof ifr.ifr_name - 1);
        int r = 0;
        if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
                r = -errno;
        else {
                ifr.ifr_flags |= IFF_UP;
                if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
                        r = -errno;
        }
        close(fd);
        return r;
}

START_TEST(test_ipv6_loopback_is_local) {
        g_autoptr(GPtrArray) list = list_ok();
        if (!listed(list, "lo", "::1")) {
                /* IPv6 is off on this machine's lo (sysctl disable_ipv6): as root, a private
                 * network namespace (this test runs in its own process) has it on by default. */
                if (geteuid() != 0)
                        unit_skip("lo has no ::1 here (IPv6 off) and only root can make a network namespace with it");
                if (!unit_forks)
                        unit_skip("lo has no ::1 here (IPv6 off); a private network namespace needs Check's fork mode");
                int r = private_loopback();
                if (r < 0)
                        unit_skip("lo has no ::1 here (IPv6 off) and no private network namespace: %s", g_strerror(-r));
                g_clear_pointer(&list, g_ptr_array_unref);
                list = list_ok();
                if (!listed(list, "lo", "::1"))
                        unit_skip("the kernel gives lo no ::1, not even in a new network namespace (IPv6 off)");
        }
        assert_local("::1");
        /* Compared as addresses, not strings. */
        assert_local("::0:1");
        assert_local("0:0:0:0:0:0:0:1");
        assert_local("0000:0000:0000:0000:0000:0000:0000:0001");
        assert_local("0:0:0:0:0:0:0:0001");
}
END_TEST

START_TEST(test_every_listed_address_is_local) {
        g_autoptr(GPtrArray) list = list_ok();
        ck_assert_uint_gt(list->len, 0);
        for (guint i = 0; i < list->len; i++) {
                const NetAddr *a = g_ptr_array_index(list, i);
                assert_local(a->address);
                if (a->family == AF_INET6) {
                        /* Upper-case hex spells the same address. */
                        g_autofree char *up = g_ascii_strup(a->address, -1);
                        assert_local(up);
                }
        }
}
END_TEST

START_TEST(test_foreign_address) {
        g_autoptr(GPtrArray) list = list_ok();
        /* Documentation addresses (RFC 5737, RFC 3849): the first this machine does not carry. */
        const char *candidates[] = { "192.0.2.1", "198.51.100.1", "203.0.113.1" };
        const char *foreign = NULL;
        for (size_t i = 0; i < G_N_ELEMENTS(candidates) && !foreign; i++)
                if (!listed(list, NULL, candidates[i]))
                        foreign = candidates[i];
        ck_assert_ptr_nonnull(foreign);

        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(netaddr_check_local(foreign, &e), -EADDRNOTAVAIL);
        ck_assert_int_eq(e->code, EADDRNOTAVAIL);
        g_autofree char *start = g_strdup_printf("%s is not an address of this machine; its addresses are: ", foreign);
        ck_assert_msg(g_str_has_prefix(e->message, start), "%s", e->message);
        ck_assert_ptr_nonnull(strstr(e->message, "127.0.0.1 (lo)"));
        ck_assert_ptr_null(strchr(e->message, '\n'));
        /* Every local address is named. */
        for (guint i = 0; i < list->len; i++) {
                const NetAddr *a = g_ptr_array_index(list, i);
                g_autofree char *item = g_strdup_printf("%s (%s)", a->address, a->ifname);
                ck_assert_msg(strstr(e->message, item), "%s missing in: %s", item, e->message);
        }

}
END_TEST

START_TEST(test_foreign_ipv6_address) {
        g_autoptr(GPtrArray) list = list_ok();
        /* Documentation addresses (RFC 3849): the first this machine does not carry. */
        const char *candidates[] = { "2001:db8::1", "2001:db8::2", "2001:db8:ffff::1" };
        const char *foreign = NULL;
        for (size_t i = 0; i < G_N_ELEMENTS(candidates) && !foreign; i++)
                if (!listed(list, NULL, candidates[i]))
                        foreign = candidates[i];
        ck_assert_ptr_nonnull(foreign);

        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(netaddr_check_local(foreign, &e), -EADDRNOTAVAIL);
        ck_assert_int_eq(e->code, EADDRNOTAVAIL);
        g_autofree char *start = g_strdup_printf("%s is not an address of this machine; its addresses are: ", foreign);
        ck_assert_msg(g_str_has_prefix(e->message, start), "%s", e->message);
        ck_assert_ptr_nonnull(strstr(e->message, "127.0.0.1 (lo)"));
}
END_TEST

/* A local address of the other family is not a match: 127.0.0.1 is not ::127.0.0.1. */
START_TEST(test_other_family_is_not_local) {
        g_autoptr(GPtrArray) list = list_ok();
        ck_assert_msg(listed(list, "lo", "127.0.0.1"), "127.0.0.1 is not on lo");
        if (listed(list, NULL, "::7f00:1"))
                unit_skip("this machine carries ::127.0.0.1 (::7f00:1) itself");
        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(netaddr_check_local("::127.0.0.1", &e), -EADDRNOTAVAIL);
        ck_assert_msg(g_str_has_prefix(e->message, "::127.0.0.1 is not an address of this machine"), "%s", e->message);
}
END_TEST

START_TEST(test_not_an_address) {
        const char *bad[] = { "junk", "", "127.0.0.1/8", "127.1", " 127.0.0.1", "127.0.0.1 ", "1.2.3.4.5",
                              "256.0.0.1", "::1::", "fe80::1%lo", "localhost", "[::1]" };
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                g_autoptr(GError) e = NULL;
                ck_assert_msg(netaddr_check_local(bad[i], &e) == -EINVAL, "%s", bad[i]);
                g_autofree char *start = g_strdup_printf("\"%s\" is not an IP address (allowed: ", bad[i]);
                ck_assert_msg(g_str_has_prefix(e->message, start), "%s", e->message);
        }
        ck_assert_int_eq(netaddr_check_local(NULL, NULL), -EINVAL);
}
END_TEST

Suite *unit_suite(void) {
        Suite *s = suite_create("netaddr");
        TCase *tc = tcase_create("netaddr");
        tcase_add_test(tc, test_list_includes_lo);
        tcase_add_test(tc, test_loopback_is_local);
        tcase_add_test(tc, test_ipv6_loopback_is_local);
        tcase_add_test(tc, test_every_listed_address_is_local);
        tcase_add_test(tc, test_foreign_address);
        tcase_add_test(tc, test_foreign_ipv6_address);
        tcase_add_test(tc, test_other_family_is_not_local);
        tcase_add_test(tc, test_not_an_address);
        suite_add_tcase(s, tc);
        return s;
}

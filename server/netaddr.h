/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The machine's own IP addresses, read from the kernel with libnl-route-3 (netlink), and the
 * check that an address is one of them. The server address written into pool definitions must
 * be an address of this machine (configured, or the one a client reached the server on).
 *
 * Addresses are compared as parsed binary addresses, never as strings: "::0:1" is "::1", and an
 * IPv4-mapped IPv6 address (::ffff:192.168.1.1, as an IPv6 socket reports an IPv4 peer) is the
 * IPv4 address. An IPv6 zone ("fe80::1%eth0") is not accepted.
 */
#pragma once

#include <glib.h>

typedef struct NetAddr {
        char *ifname;       /* the interface it is assigned to ("lo", "eth0") */
        char *address;      /* text form (inet_ntop), without prefix length */
        int family;         /* AF_INET or AF_INET6 */
        unsigned prefixlen;
} NetAddr;

void netaddr_free(NetAddr *a);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NetAddr, netaddr_free)

/* All IPv4 and IPv6 addresses assigned to local interfaces, in the kernel's order (by interface,
 * then as listed): a GPtrArray of NetAddr* that frees them. Returns 0 or a negative errno when
 * the netlink socket or the dump fails. */
int netaddr_list(GPtrArray **ret);

/* 0 when `address` (an IPv4 or IPv6 literal) is assigned to a local interface; -EADDRNOTAVAIL
 * with one line naming the local addresses otherwise; -EINVAL when it is not an IP literal;
 * another negative errno when the addresses cannot be read. */
int netaddr_check_local(const char *address, GError **error);

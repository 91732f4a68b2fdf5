/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * IP address literals: the one place that turns "192.168.1.1" or "fd00::1" into an address and
 * back (inet_pton/inet_ntop). No host names, no prefix length, no zone ("%eth0"), no brackets.
 */
#pragma once

#include <stdbool.h>

typedef struct IpAddr {
        int family;              /* AF_INET or AF_INET6 */
        unsigned char bytes[16]; /* IPv4 in the first 4 bytes */
} IpAddr;

/* true when text is an IPv4 or IPv6 literal; *ret set only then. */
bool ipaddr_parse(const char *text, IpAddr *ret);

/* An IPv4-mapped IPv6 address (::ffff:192.168.1.1, as an IPv6 socket reports an IPv4 peer)
 * as the IPv4 address; any other address unchanged. */
void ipaddr_unmap(IpAddr *a);

bool ipaddr_equal(const IpAddr *a, const IpAddr *b);
bool ipaddr_is_any(const IpAddr *a);       /* 0.0.0.0, :: */
bool ipaddr_is_multicast(const IpAddr *a); /* 224.0.0.0/4, ff00::/8 */

/* The canonical text (inet_ntop), newly allocated (g_free). */
char *ipaddr_to_string(const IpAddr *a);

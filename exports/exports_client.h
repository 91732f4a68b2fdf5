/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The client specification of an export (exports(5), "Machine Name Formats"): who a share is
 * exported to. The one place that reads it: [shares] clients, the clients given per share (API
 * and CLI) and the API's pool allowlist all go through here.
 *
 *   *                     anyone                          EXPORTS_CLIENT_ANYONE
 *   10.1.2.3, fd00::1     one IPv4 or IPv6 address        EXPORTS_CLIENT_ADDRESS
 *   10.0.0.0/8, fd00::/64 ADDRESS/PREFIX                  EXPORTS_CLIENT_NETWORK
 *   10.0.0.0/255.0.0.0    IPv4ADDRESS/NETMASK             EXPORTS_CLIENT_NETWORK (prefix 8)
 *   kvm01, *.example.com  a host name of RFC 1123 labels, EXPORTS_CLIENT_HOSTNAME
 *                         wildcards * and ? allowed
 *   @kvm-hosts            an NIS netgroup                 EXPORTS_CLIENT_NETGROUP
 *
 * Rules beyond the shapes: a netmask must be contiguous and is IPv4 only; a network has no bits
 * set beyond its prefix (10.0.0.1/8 is refused); a prefix is 0-32 (IPv4) or 0-128 (IPv6), written
 * in at most 3 digits; addresses are numeric as inet_pton(3) reads them (no IPv6 zone); a host
 * name is at most 253 characters, labels 1-63 of letters, digits and '-' (not at either end) and
 * its last label is not all digits (that is a broken IPv4 address); a netgroup is "@" and 1-255
 * of letters, digits, _ . -. Options ("(rw)") are not part of a client specification.
 *
 * Matching an address (the API's allowlist): "*" admits everyone; an address admits itself; a
 * network admits the addresses of its family under its prefix. Peers are compared as
 * exports_address_parse() reads them (an IPv4 peer on an IPv6 socket as IPv4), so a client
 * written as an IPv4-mapped IPv6 address (::ffff:10.1.2.3) admits no peer. A host name, a wildcard name or a
 * netgroup admits nobody: telling whether an address belongs to them needs DNS or NIS, which
 * the allowlist does not ask (a share exported only to names is not offered to any host over the
 * API; its pool is still served over the Unix socket).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

/* What a message says is allowed. */
#define EXPORTS_CLIENT_ALLOWED                                                                        \
        "allowed: *, an IPv4 or IPv6 address, ADDRESS/PREFIX or IPv4ADDRESS/NETMASK, a host name (RFC " \
        "1123, wildcards * and ? allowed) or @netgroup"

typedef enum ExportsClientKind {
        EXPORTS_CLIENT_ANYONE,
        EXPORTS_CLIENT_ADDRESS,
        EXPORTS_CLIENT_NETWORK,
        EXPORTS_CLIENT_HOSTNAME,
        EXPORTS_CLIENT_NETGROUP,
} ExportsClientKind;

/* A numeric IPv4 or IPv6 address. */
typedef struct ExportsAddress {
        int family;        /* AF_INET or AF_INET6 */
        uint8_t bytes[16]; /* network order; the first 4 for AF_INET */
} ExportsAddress;

typedef struct ExportsClientSpec {
        ExportsClientKind kind;
        ExportsAddress address; /* ADDRESS: the address; NETWORK: the network address */
        unsigned prefix;        /* NETWORK: the prefix length (a netmask as its length);
                                 * ADDRESS: 32 or 128 */
        char *name;             /* HOSTNAME: the name as written; NETGROUP: the group, without "@" */
} ExportsClientSpec;

void exports_client_spec_free(ExportsClientSpec *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ExportsClientSpec, exports_client_spec_free)

/* Parse and validate one client specification. 0, or -EINVAL with one line saying what is wrong
 * and what is allowed: client "x" is not ...; allowed: ... */
int exports_client_parse(const char *text, ExportsClientSpec **ret, GError **error);

/* exports_client_parse() without keeping the result. */
int exports_client_check(const char *text, GError **error);

/* Whether a client at this address is admitted (see above). */
bool exports_client_match(const ExportsClientSpec *c, const ExportsAddress *address);

/* A peer's numeric address ("10.1.2.3", "fd00::1"), as a socket reports it: an IPv4-mapped IPv6
 * address (::ffff:10.1.2.3, how an IPv6 socket shows an IPv4 peer) is read as the IPv4 address.
 * 0, or -EINVAL when it is not a numeric address. */
int exports_address_parse(const char *text, ExportsAddress *ret);

/* A host name of RFC 1123 labels as described above; with wildcards, labels may also hold * and
 * ? as exports(5) allows. */
bool exports_hostname_valid(const char *name, bool wildcards);

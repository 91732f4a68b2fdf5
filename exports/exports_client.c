/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "error.h"
#include "exports_client.h"
#include "show.h"

#define NETGROUP_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-"
#define NETGROUP_MAX 255

void exports_client_spec_free(ExportsClientSpec *c) {
        if (!c)
                return;
        g_free(c->name);
        g_free(c);
}

/* A numeric address exactly as written (no IPv4-mapped rewriting). */
static int address_parse(const char *text, ExportsAddress *ret) {
        ExportsAddress a = { 0 };
        if (inet_pton(AF_INET, text, a.bytes) == 1)
                a.family = AF_INET;
        else if (inet_pton(AF_INET6, text, a.bytes) == 1)
                a.family = AF_INET6;
        else
                return -EINVAL;
        *ret = a;
        return 0;
}

static unsigned address_bits(const ExportsAddress *a) {
        return a->family == AF_INET ? 32 : 128;
}

/* Whether the first `prefix` bits of a and b are the same (same family). */
static bool prefix_equal(const ExportsAddress *a, const ExportsAddress *b, unsigned prefix) {
        if (a->family != b->family)
                return false;
        unsigned whole = prefix / 8, rest = prefix % 8;
        if (memcmp(a->bytes, b->bytes, whole) != 0)
                return false;
        if (rest == 0)
                return true;
        uint8_t mask = (uint8_t) (0xff << (8 - rest));
        return (a->bytes[whole] & mask) == (b->bytes[whole] & mask);
}

/* Whether every bit of a after the first `prefix` is 0. */
static bool host_bits_zero(const ExportsAddress *a, unsigned prefix) {
        for (unsigned bit = prefix; bit < address_bits(a); bit++)
                if (a->bytes[bit / 8] & (0x80 >> (bit % 8)))
                        return false;
        return true;
}

/* The prefix length of a contiguous IPv4 netmask in dotted form, or -1. */
static int ipv4_mask_prefix(const char *text) {
        ExportsAddress m;
        if (address_parse(text, &m) < 0 || m.family != AF_INET)
                return -1;
        uint32_t bits = ((uint32_t) m.bytes[0] << 24) | ((uint32_t) m.bytes[1] << 16) |
                        ((uint32_t) m.bytes[2] << 8) | m.bytes[3];
        int len = 0;
        while (len < 32 && (bits & (UINT32_C(1) << (31 - len))))
                len++;
        if (len < 32 && (bits & (UINT32_MAX >> len)) != 0) /* bits after the ones: not contiguous */
                return -1;
        return len;
}

bool exports_hostname_valid(const char *v, bool wildcards) {
        size_t n = strlen(v);
        if (n == 0 || n > 253)
                return false;

        g_auto(GStrv) labels = g_strsplit(v, ".", -1);
        const char *last = NULL;
        for (char **l = labels; *l; l++) {
                size_t len = strlen(*l);
                if (len == 0 || len > 63)
                        return false;
                for (const char *p = *l; *p; p++) {
                        if (g_ascii_isalnum(*p) || *p == '-')
                                continue;
                        if (wildcards && (*p == '*' || *p == '?'))
                                continue;
                        return false;
                }
                if ((*l)[0] == '-' || (*l)[len - 1] == '-')
                        return false;
                last = *l;
        }
        return last && strspn(last, "0123456789") != strlen(last);
}

/* ADDRESS/PREFIX or IPv4ADDRESS/NETMASK; slash points into v. */
static int parse_network(const char *v, const char *slash, const char *shown, ExportsClientSpec *c,
                         GError **error) {
        g_autofree char *addr = g_strndup(v, slash - v);
        const char *len = slash + 1;

        if (address_parse(addr, &c->address) < 0)
                return np_fail(error, EINVAL, "client \"%s\": the part before the / is not an IPv4 or IPv6 address; %s",
                               shown, EXPORTS_CLIENT_ALLOWED);
        if (strchr(len, '.')) {
                int prefix = ipv4_mask_prefix(len);
                if (prefix < 0 || c->address.family != AF_INET)
                        return np_fail(error, EINVAL,
                                       "client \"%s\": the part after the / is not a contiguous IPv4 netmask; %s", shown,
                                       EXPORTS_CLIENT_ALLOWED);
                c->prefix = (unsigned) prefix;
        } else {
                if (*len == 0 || strlen(len) > 3 || strspn(len, "0123456789") != strlen(len))
                        return np_fail(error, EINVAL, "client \"%s\": the part after the / is not a prefix length; %s",
                                       shown, EXPORTS_CLIENT_ALLOWED);
                c->prefix = (unsigned) atoi(len);
                if (c->prefix > address_bits(&c->address))
                        return np_fail(error, EINVAL, "client \"%s\": prefix length %u is too long for an %s address "
                                                      "(at most %u); %s",
                                       shown, c->prefix, c->address.family == AF_INET ? "IPv4" : "IPv6",
                                       address_bits(&c->address), EXPORTS_CLIENT_ALLOWED);
        }
        if (!host_bits_zero(&c->address, c->prefix))
                return np_fail(error, EINVAL, "client \"%s\": the address has bits set beyond prefix length %u; %s",
                               shown, c->prefix, EXPORTS_CLIENT_ALLOWED);
        c->kind = EXPORTS_CLIENT_NETWORK;
        return 0;
}

int exports_client_parse(const char *v, ExportsClientSpec **ret, GError **error) {
        if (!v)
                return np_fail(error, EINVAL, "client is missing; %s", EXPORTS_CLIENT_ALLOWED);
        g_autofree char *shown = show_text(v);
        g_autoptr(ExportsClientSpec) c = g_new0(ExportsClientSpec, 1);

        if (strcmp(v, "*") == 0)
                c->kind = EXPORTS_CLIENT_ANYONE;
        else if (v[0] == '@') {
                const char *g = v + 1;
                if (!*g || strlen(g) > NETGROUP_MAX || strspn(g, NETGROUP_CHARS) != strlen(g))
                        return np_fail(error, EINVAL,
                                       "client \"%s\" is not a valid netgroup; allowed: @ followed by letters, digits, "
                                       "_ . -",
                                       shown);
                c->kind = EXPORTS_CLIENT_NETGROUP;
                c->name = g_strdup(g);
        } else if (strchr(v, '/')) {
                int r = parse_network(v, strchr(v, '/'), shown, c, error);
                if (r < 0)
                        return r;
        } else if (address_parse(v, &c->address) == 0) {
                c->kind = EXPORTS_CLIENT_ADDRESS;
                c->prefix = address_bits(&c->address);
        } else if (strchr(v, ':'))
                return np_fail(error, EINVAL, "client \"%s\" is not a valid IPv6 address; %s", shown, EXPORTS_CLIENT_ALLOWED);
        else if (exports_hostname_valid(v, true)) {
                c->kind = EXPORTS_CLIENT_HOSTNAME;
                c->name = g_strdup(v);
        } else
                return np_fail(error, EINVAL, "client \"%s\" is not a valid client; %s", shown, EXPORTS_CLIENT_ALLOWED);

        *ret = g_steal_pointer(&c);
        return 0;
}

int exports_client_check(const char *text, GError **error) {
        g_autoptr(ExportsClientSpec) c = NULL;
        return exports_client_parse(text, &c, error);
}

bool exports_client_match(const ExportsClientSpec *c, const ExportsAddress *address) {
        switch (c->kind) {
        case EXPORTS_CLIENT_ANYONE:
                return true;
        case EXPORTS_CLIENT_ADDRESS:
        case EXPORTS_CLIENT_NETWORK:
                return prefix_equal(&c->address, address, c->prefix);
        case EXPORTS_CLIENT_HOSTNAME:
        case EXPORTS_CLIENT_NETGROUP:
                return false; /* needs DNS / NIS: see the header */
        }
        return false;
}

int exports_address_parse(const char *text, ExportsAddress *ret) {
        ExportsAddress a;
        if (!text || address_parse(text, &a) < 0)
                return -EINVAL;
        static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
        if (a.family == AF_INET6 && memcmp(a.bytes, mapped, sizeof mapped) == 0) {
                memmove(a.bytes, a.bytes + 12, 4);
                memset(a.bytes + 4, 0, 12);
                a.family = AF_INET;
        }
        *ret = a;
        return 0;
}

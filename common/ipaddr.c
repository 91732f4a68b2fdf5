/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include <glib.h>

#include "ipaddr.h"

bool ipaddr_parse(const char *text, IpAddr *ret) {
        IpAddr a = { 0 };
        if (!text)
                return false;
        if (inet_pton(AF_INET, text, a.bytes) == 1)
                a.family = AF_INET;
        else if (inet_pton(AF_INET6, text, a.bytes) == 1)
                a.family = AF_INET6;
        else
                return false;
        *ret = a;
        return true;
}

void ipaddr_unmap(IpAddr *a) {
        static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
        if (a->family != AF_INET6 || memcmp(a->bytes, mapped, sizeof mapped) != 0)
                return;
        a->family = AF_INET;
        memmove(a->bytes, a->bytes + 12, 4);
        memset(a->bytes + 4, 0, 12);
}

static size_t length(const IpAddr *a) {
        return a->family == AF_INET ? 4 : 16;
}

bool ipaddr_equal(const IpAddr *a, const IpAddr *b) {
        return a->family == b->family && memcmp(a->bytes, b->bytes, length(a)) == 0;
}

bool ipaddr_is_any(const IpAddr *a) {
        static const unsigned char zero[16];
        return memcmp(a->bytes, zero, length(a)) == 0;
}

bool ipaddr_is_multicast(const IpAddr *a) {
        return a->family == AF_INET ? (a->bytes[0] & 0xf0) == 0xe0 : a->bytes[0] == 0xff;
}

char *ipaddr_to_string(const IpAddr *a) {
        char text[INET6_ADDRSTRLEN];
        if (!inet_ntop(a->family, a->bytes, text, sizeof text))
                return NULL;
        return g_strdup(text);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>

#include "error.h"
#include "ipaddr.h"
#include "macro.h"
#include "netaddr.h"

typedef struct nl_sock NlSock;
typedef struct nl_cache NlCache;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NlSock, nl_socket_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NlCache, nl_cache_free)

/* How often a dump interrupted by a concurrent address change is retried. */
#define DUMP_ATTEMPTS 5

void netaddr_free(NetAddr *a) {
        if (!a)
                return;
        g_free(a->ifname);
        g_free(a->address);
        g_free(a);
}

/* libnl reports its own error numbers (NLE_*); nfsprov speaks errno. */
static int nl_to_errno(int nlerr) {
        switch (nlerr < 0 ? -nlerr : nlerr) {
        case NLE_NOMEM:
                return ENOMEM;
        case NLE_INTR:
                return EINTR;
        case NLE_AGAIN:
        case NLE_DUMP_INTR:
                return EAGAIN;
        case NLE_BAD_SOCK:
                return EBADF;
        case NLE_BUSY:
                return EBUSY;
        case NLE_PERM:
                return EPERM;
        case NLE_NOACCESS:
                return EACCES;
        case NLE_AF_NOSUPPORT:
                return EAFNOSUPPORT;
        case NLE_PROTO_MISMATCH:
                return EPROTONOSUPPORT;
        case NLE_OPNOTSUPP:
                return EOPNOTSUPP;
        case NLE_INVAL:
                return EINVAL;
        case NLE_NODEV:
                return ENODEV;
        default:
                return EIO;
        }
}

static int nl_fail(GError **error, int nlerr, const char *what) {
        return np_fail(error, nl_to_errno(nlerr), "cannot read the local addresses: %s: %s", what,
                       nl_geterror(nlerr));
}

static int alloc_caches(struct nl_sock *sk, struct nl_cache **ret_links, struct nl_cache **ret_addrs,
                        GError **error) {
        int r = 0;
        for (int attempt = 0; attempt < DUMP_ATTEMPTS; attempt++) {
                g_autoptr(NlCache) links = NULL, addrs = NULL;
                r = rtnl_link_alloc_cache(sk, AF_UNSPEC, &links);
                if (r == 0)
                        r = rtnl_addr_alloc_cache(sk, &addrs);
                if (r == 0) {
                        *ret_links = TAKE_PTR(links);
                        *ret_addrs = TAKE_PTR(addrs);
                        return 0;
                }
                if (r != -NLE_DUMP_INTR)
                        break;
        }
        return nl_fail(error, r, "netlink dump of links and addresses");
}

static int list_addresses(GPtrArray **ret, GError **error) {
        g_autoptr(NlSock) sk = nl_socket_alloc();
        if (!sk)
                return np_fail(error, ENOMEM, "cannot read the local addresses: cannot allocate a netlink socket");
        int r = nl_connect(sk, NETLINK_ROUTE);
        if (r < 0)
                return nl_fail(error, r, "cannot connect a NETLINK_ROUTE socket");

        g_autoptr(NlCache) links = NULL, addrs = NULL;
        r = alloc_caches(sk, &links, &addrs, error);
        if (r < 0)
                return r;

        g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func((GDestroyNotify) netaddr_free);
        for (struct nl_object *o = nl_cache_get_first(addrs); o; o = nl_cache_get_next(o)) {
                struct rtnl_addr *ra = (struct rtnl_addr *) o;
                int family = rtnl_addr_get_family(ra);
                if (family != AF_INET && family != AF_INET6)
                        continue;
                struct nl_addr *local = rtnl_addr_get_local(ra);
                if (!local)
                        continue;
                size_t want = family == AF_INET ? sizeof(struct in_addr) : sizeof(struct in6_addr);
                if (nl_addr_get_family(local) != family || nl_addr_get_len(local) != want)
                        continue;

                char text[INET6_ADDRSTRLEN];
                if (!inet_ntop(family, nl_addr_get_binary_addr(local), text, sizeof(text)))
                        continue;

                int ifindex = rtnl_addr_get_ifindex(ra);
                g_autofree char *ifname = NULL;
                struct rtnl_link *link = rtnl_link_get(links, ifindex);
                if (link) {
                        ifname = g_strdup(rtnl_link_get_name(link));
                        rtnl_link_put(link);
                }
                if (!ifname) /* the link appeared after the link dump */
                        ifname = g_strdup_printf("if%d", ifindex);

                NetAddr *a = g_new0(NetAddr, 1);
                a->ifname = TAKE_PTR(ifname);
                a->address = g_strdup(text);
                a->family = family;
                a->prefixlen = (unsigned) rtnl_addr_get_prefixlen(ra);
                g_ptr_array_add(list, a);
        }
        *ret = TAKE_PTR(list);
        return 0;
}

int netaddr_list(GPtrArray **ret) {
        return list_addresses(ret, NULL);
}

/* An address as compared: an IPv4-mapped IPv6 address is the IPv4 address. */
static bool parse_ip(const char *text, IpAddr *ret) {
        IpAddr a;
        if (!ipaddr_parse(text, &a))
                return false;
        ipaddr_unmap(&a);
        *ret = a;
        return true;
}

int netaddr_check_local(const char *address, GError **error) {
        IpAddr want;
        if (!address || !parse_ip(address, &want))
                return np_fail(error, EINVAL,
                               "\"%s\" is not an IP address (allowed: an IPv4 address like 192.168.1.1 or an "
                               "IPv6 address like fd00::1, without prefix length or zone)",
                               address ?: "");

        g_autoptr(GPtrArray) list = NULL;
        int r = list_addresses(&list, error);
        if (r < 0)
                return r;

        for (guint i = 0; i < list->len; i++) {
                const NetAddr *a = g_ptr_array_index(list, i);
                IpAddr have;
                if (parse_ip(a->address, &have) && ipaddr_equal(&have, &want))
                        return 0;
        }

        g_autoptr(GString) known = g_string_new(NULL);
        for (guint i = 0; i < list->len; i++) {
                const NetAddr *a = g_ptr_array_index(list, i);
                g_string_append_printf(known, "%s%s (%s)", i > 0 ? ", " : "", a->address, a->ifname);
        }
        return np_fail(error, EADDRNOTAVAIL, "%s is not an address of this machine; its addresses are: %s", address,
                       known->len > 0 ? known->str : "none");
}

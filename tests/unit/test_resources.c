/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* resources_from_pools: seed 000's naming rules for virtual storage resources. */
#include "config.h"

#include <string.h>

#include "host_pools.h"
#include "resources.h"
#include "unit.h"

static HostPool *pool(const char *name, const char *type, const char *host, const char *dir) {
        static unsigned n;
        HostPool *p = g_new0(HostPool, 1);
        p->name = g_strdup(name);
        p->uuid = g_strdup_printf("00000000-0000-4000-8000-%012u", n++);
        p->type = g_strdup(type);
        p->active = true;
        p->capacity = 1000;
        p->allocation = 400;
        p->available = 600;
        if (strcmp(type, "netfs") == 0) {
                p->def = pooldef_new();
                p->def->name = g_strdup(name);
                p->def->uuid = g_strdup(p->uuid);
                p->def->host = g_strdup(host);
                p->def->source_dir = g_strdup(dir);
                p->def->target_path = g_strdup_printf("/var/lib/libvirt/nfsprov/%u", n);
        }
        return p;
}

static const Resource *find(GPtrArray *res, const char *pool_name) {
        for (size_t i = 0; i < res->len; i++)
                if (strcmp(((Resource *) res->pdata[i])->pool, pool_name) == 0)
                        return res->pdata[i];
        return NULL;
}

START_TEST(test_naming) {
        g_autoptr(GPtrArray) host = g_ptr_array_new_with_free_func((GDestroyNotify) host_pool_free);
        /* given out of order: resources come in pool-name order */
        g_ptr_array_add(host, pool("rcx.nfs", "netfs", "192.168.1.1", "/root/b"));
        g_ptr_array_add(host, pool("rcx-nfs", "netfs", "192.168.1.1", "/root/a"));
        g_ptr_array_add(host, pool("rcx+nfs", "netfs", "192.168.1.1", "/root/c"));
        g_ptr_array_add(host, pool("rcx-nfs_1", "netfs", "192.168.1.1", "/root/d"));
        g_ptr_array_add(host, pool("NFSStorage_01", "netfs", "192.168.1.1", "/home/NFS/NFSStorage_01"));
        g_ptr_array_add(host, pool("local", "dir", NULL, NULL));
        g_ptr_array_add(host, pool("データ", "netfs", "192.168.1.1", "/root/e"));
        g_ptr_array_add(host, pool("quoted", "netfs", "192.168.1.1", "/root/it's"));
        g_ptr_array_add(host, pool("spaced", "netfs", "192.168.1.1", "/root/my share"));

        g_autoptr(GPtrArray) res = resources_from_pools(host);
        ck_assert_uint_eq(res->len, 8); /* every netfs pool, the dir pool is not a resource */
        ck_assert_ptr_null(find(res, "local"));
        ck_assert_str_eq(((Resource *) res->pdata[0])->pool, "NFSStorage_01");

        ck_assert_str_eq(find(res, "NFSStorage_01")->resource, "NFSStorage_01");
        /* byte order: "rcx+nfs" < "rcx-nfs" < "rcx-nfs_1" < "rcx.nfs" */
        ck_assert_str_eq(find(res, "rcx+nfs")->resource, "rcx-nfs");
        ck_assert_str_eq(find(res, "rcx-nfs")->resource, "rcx-nfs_1");
        /* "rcx-nfs_1" is taken by then: its own name gets a serial too */
        ck_assert_str_eq(find(res, "rcx-nfs_1")->resource, "rcx-nfs_1_1");
        ck_assert_str_eq(find(res, "rcx.nfs")->resource, "rcx-nfs_2");
        const Resource *r = find(res, "rcx.nfs");
        ck_assert_uint_eq(r->capacity, 1000);
        ck_assert_uint_eq(r->allocation, 400);
        ck_assert_uint_eq(r->available, 600);

        const Resource *mb = find(res, "データ");
        ck_assert_ptr_null(mb->resource);
        ck_assert_ptr_nonnull(strstr(mb->skipped, "multi-byte character"));
        const Resource *q = find(res, "quoted");
        ck_assert_ptr_null(q->resource);
        ck_assert_ptr_nonnull(strstr(q->skipped, "source path"));
        ck_assert_ptr_nonnull(strstr(q->skipped, "single quote"));
        ck_assert_ptr_nonnull(strstr(find(res, "spaced")->skipped, "blank space"));
}
END_TEST

START_TEST(test_unreadable_definition) {
        g_autoptr(GPtrArray) host = g_ptr_array_new_with_free_func((GDestroyNotify) host_pool_free);
        HostPool *p = pool("broken", "netfs", "h", "/d");
        pooldef_free(p->def);
        p->def = NULL;
        p->def_error = g_strdup("invalid pool XML: missing <source><host name='...'/>");
        g_ptr_array_add(host, p);
        g_autoptr(GPtrArray) res = resources_from_pools(host);
        ck_assert_uint_eq(res->len, 1);
        ck_assert_ptr_nonnull(strstr(((Resource *) res->pdata[0])->skipped, "cannot be read"));
}
END_TEST

Suite *unit_suite(void) {
        Suite *s = suite_create("resources");
        TCase *tc = tcase_create("naming");
        tcase_add_test(tc, test_naming);
        tcase_add_test(tc, test_unreadable_definition);
        suite_add_tcase(s, tc);
        return s;
}

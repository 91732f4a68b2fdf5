/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pool_sync and pool_check against libvirt's test:///default driver (in-process: every test
 * runs in its own forked process, so each starts from the driver's default state with only
 * "default-pool"). The test driver does not mount anything, so the mount table the checks read
 * is a file the test writes in /proc/self/mountinfo's format.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libvirt/libvirt.h>

#include "error.h"
#include "host_pools.h"
#include "pool_check.h"
#include "pool_sync.h"
#include "server_pools.h"
#include "unit.h"

#define UUID_A "0b6a3c4e-8d1f-4a52-9f63-0123456789ab"
#define UUID_B "1c7b4d5f-9e20-4b63-8a74-123456789abc"
#define UUID_C "2d8c5e60-af31-4c74-9b85-23456789abcd"

typedef struct Env {
        char *dir;        /* temp dir: targets live here */
        char *mountinfo;  /* the fake mount table */
        Host *host;
} Env;

static Env env;

static void setup(void) {
        env.dir = unit_mkdtemp();
        env.mountinfo = g_build_filename(env.dir, "mountinfo", NULL);
        g_file_set_contents(env.mountinfo, "", 0, NULL);
        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(host_open("test:///default", &env.host, &e), 0);
}

static void teardown(void) {
        host_close(env.host);
        unit_rm_rf(env.dir);
        g_free(env.dir);
        g_free(env.mountinfo);
}

static char *target_of(const char *name) {
        return g_build_filename(env.dir, "pools", name, NULL);
}

static WantedPool *wanted(const char *name, const char *uuid, const char *dir) {
        WantedPool *w = g_new0(WantedPool, 1);
        w->def = pooldef_new();
        w->def->name = g_strdup(name);
        w->def->uuid = g_strdup(uuid);
        w->def->host = g_strdup("192.0.2.10");
        w->def->source_dir = g_strdup(dir);
        w->def->target_path = target_of(name);
        w->server = g_strdup("http://192.0.2.10:8740");
        return w;
}

/* The mount table says `source` is mounted on the pool's target. */
static void mount_fake(const WantedPool *w, const char *source) {
        g_autofree char *old = NULL;
        g_file_get_contents(env.mountinfo, &old, NULL, NULL);
        static int id = 100;
        g_autofree char *all = g_strdup_printf("%s%d 1 0:%d / %s rw,relatime - nfs %s rw,vers=3\n", old, id, id,
                                               w->def->target_path, source);
        id++;
        ck_assert(g_file_set_contents(env.mountinfo, all, -1, NULL));
}

static void mount_right(const WantedPool *w) {
        g_autofree char *src = g_strdup_printf("%s:%s", w->def->host, w->def->source_dir);
        mount_fake(w, src);
}

static GPtrArray *host_pools(void) {
        GPtrArray *list = NULL;
        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(host_list_pools(env.host, &list, &e), 0);
        return list;
}

static HostPool *get(const char *name) {
        HostPool *p = NULL;
        if (host_get_pool(env.host, name, &p, NULL) < 0)
                return NULL;
        return p;
}

static SyncResult *sync_one(const WantedPool *w, bool dry_run, bool fix) {
        g_autoptr(GPtrArray) list = host_pools();
        SyncOptions o = { .dry_run = dry_run, .fix = fix, .mountinfo = env.mountinfo };
        SyncResult *r = NULL;
        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(pool_sync(env.host, w, list, &o, &r, &e), 0);
        return r;
}

static char *actions(const SyncResult *r) {
        g_autoptr(GString) s = g_string_new(NULL);
        for (size_t i = 0; i < r->actions->len; i++)
                g_string_append_printf(s, "%s%s", i ? "," : "", (char *) r->actions->pdata[i]);
        return g_string_free(g_steal_pointer(&s), FALSE);
}

/* Define a pool on the host directly (someone else's, or a drifted copy). */
static void define_raw(const char *name, const char *uuid, const char *dir, const char *target) {
        g_autoptr(PoolDef) d = pooldef_new();
        d->name = g_strdup(name);
        d->uuid = g_strdup(uuid);
        d->host = g_strdup("192.0.2.10");
        d->source_dir = g_strdup(dir);
        d->target_path = g_strdup(target);
        ck_assert_int_eq(host_define(env.host, d, NULL), 0);
}

/* Pool P synced onto the host, active and (in the mount table) mounted. */
static WantedPool *synced(void) {
        WantedPool *w = wanted("P", UUID_A, "/srv/NFS/P");
        mount_right(w);
        g_autoptr(SyncResult) r = sync_one(w, false, false);
        ck_assert_int_eq(r->status, SYNC_CHANGED);
        return w;
}

START_TEST(test_absent_is_defined_autostarted_built_started) {
        g_autoptr(WantedPool) w = wanted("NFSStorage_01", UUID_A, "/srv/NFS/NFSStorage_01");
        mount_right(w);
        g_autoptr(SyncResult) r = sync_one(w, false, false);
        g_autofree char *a = actions(r);
        ck_assert_str_eq(a, "define,autostart,build,start");
        ck_assert_str_eq(sync_status_to_string(r->status), "changed");

        g_autoptr(HostPool) p = get("NFSStorage_01");
        ck_assert_ptr_nonnull(p);
        ck_assert(p->persistent && p->autostart && p->active);
        ck_assert_str_eq(p->uuid, UUID_A);
        ck_assert_str_eq(p->type, "netfs");
        ck_assert(pooldef_equal(p->def, w->def));
}
END_TEST

START_TEST(test_second_sync_changes_nothing) {
        g_autoptr(WantedPool) w = wanted("P", UUID_A, "/srv/NFS/P");
        mount_right(w);
        g_autoptr(SyncResult) r1 = sync_one(w, false, false);
        ck_assert_int_eq(r1->status, SYNC_CHANGED);
        g_autoptr(SyncResult) r2 = sync_one(w, false, false);
        ck_assert_int_eq(r2->status, SYNC_IN_SYNC);
        ck_assert_uint_eq(r2->actions->len, 0);
        ck_assert(pool_status_ok(r2->checks));
}
END_TEST

START_TEST(test_dry_run_changes_nothing) {
        g_autoptr(WantedPool) w = wanted("P", UUID_A, "/srv/NFS/P");
        g_autoptr(SyncResult) r = sync_one(w, true, false);
        ck_assert_int_eq(r->status, SYNC_WOULD_CHANGE);
        g_autofree char *a = actions(r);
        ck_assert_str_eq(a, "define,autostart,build,start");
        g_autoptr(HostPool) p = get("P");
        ck_assert_ptr_null(p);

        /* inactive with autostart off: dry run plans autostart and start, does neither */
        define_raw("P", UUID_A, "/srv/NFS/P", w->def->target_path);
        g_autoptr(SyncResult) r2 = sync_one(w, true, false);
        g_autofree char *a2 = actions(r2);
        ck_assert_str_eq(a2, "autostart,build,start");
        g_autoptr(HostPool) q = get("P");
        ck_assert(!q->active && !q->autostart);
}
END_TEST

START_TEST(test_same_name_other_uuid_is_a_conflict) {
        g_autoptr(WantedPool) w = wanted("P", UUID_A, "/srv/NFS/P");
        define_raw("P", UUID_B, "/srv/other", "/var/lib/other");
        g_autoptr(SyncResult) r = sync_one(w, false, true);
        ck_assert_int_eq(r->status, SYNC_CONFLICT);
        ck_assert_uint_eq(r->actions->len, 0);
        ck_assert_ptr_nonnull(strstr(r->checks->conflict, "already exists on this host with uuid " UUID_B));
        g_autoptr(HostPool) p = get("P");
        ck_assert_str_eq(p->uuid, UUID_B);
        ck_assert_str_eq(p->def->source_dir, "/srv/other");
        ck_assert(!p->active);
}
END_TEST

START_TEST(test_uuid_under_other_name_is_a_conflict) {
        g_autoptr(WantedPool) w = wanted("P", UUID_A, "/srv/NFS/P");
        define_raw("Q", UUID_A, "/srv/q", "/var/lib/q");
        g_autoptr(SyncResult) r = sync_one(w, false, true);
        ck_assert_int_eq(r->status, SYNC_CONFLICT);
        ck_assert_ptr_nonnull(strstr(r->checks->conflict, "pool Q on this host already has uuid " UUID_A));
        g_autoptr(HostPool) p = get("P");
        ck_assert_ptr_null(p);
}
END_TEST

START_TEST(test_same_source_or_target_is_a_conflict) {
        g_autoptr(WantedPool) w = wanted("P", UUID_A, "/srv/NFS/P");
        define_raw("Other", UUID_B, "/srv/NFS/P/", "/var/lib/other"); /* trailing slash: same dir */
        g_autoptr(SyncResult) r = sync_one(w, false, false);
        ck_assert_int_eq(r->status, SYNC_CONFLICT);
        ck_assert_ptr_nonnull(strstr(r->checks->conflict, "Storage source conflict"));

        g_autoptr(WantedPool) w2 = wanted("P2", UUID_C, "/srv/NFS/P2");
        define_raw("Third", "3e9d6f71-b042-4d85-8c96-3456789abcde", "/srv/elsewhere", w2->def->target_path);
        g_autoptr(SyncResult) r2 = sync_one(w2, false, false);
        ck_assert_int_eq(r2->status, SYNC_CONFLICT);
        ck_assert_ptr_nonnull(strstr(r2->checks->conflict, "already uses target path"));
}
END_TEST

START_TEST(test_inactive_is_started_and_autostart_turned_on) {
        g_autoptr(WantedPool) w = wanted("P", UUID_A, "/srv/NFS/P");
        mount_right(w);
        define_raw("P", UUID_A, "/srv/NFS/P", w->def->target_path);
        g_autoptr(SyncResult) r = sync_one(w, false, false);
        g_autofree char *a = actions(r);
        ck_assert_str_eq(a, "autostart,build,start"); /* the target dir did not exist yet */
        ck_assert_int_eq(r->status, SYNC_CHANGED);
        g_autoptr(HostPool) p = get("P");
        ck_assert(p->active && p->autostart && p->persistent);
}
END_TEST

START_TEST(test_drift_reported_without_fix_redefined_with_fix) {
        g_autoptr(WantedPool) w = wanted("P", UUID_A, "/srv/NFS/P");
        define_raw("P", UUID_A, "/srv/NFS/old", w->def->target_path);
        g_autoptr(SyncResult) r = sync_one(w, false, false);
        ck_assert_int_eq(r->status, SYNC_DRIFT);
        ck_assert_uint_eq(r->actions->len, 0);
        ck_assert_int_eq(r->checks->check[CHECK_SOURCE], CHECK_FAIL);
        const Problem *pb = r->checks->problems->pdata[0];
        ck_assert_str_eq(pb->text, "source: server has /srv/NFS/P, host has /srv/NFS/old");
        g_autoptr(HostPool) before = get("P");
        ck_assert_str_eq(before->def->source_dir, "/srv/NFS/old");
        ck_assert(!before->autostart && !before->active); /* nothing else was done either */

        mount_right(w);
        g_autoptr(SyncResult) f = sync_one(w, false, true);
        g_autofree char *a = actions(f);
        ck_assert_str_eq(a, "redefine,autostart,build,start");
        ck_assert_int_eq(f->status, SYNC_CHANGED);
        g_autoptr(HostPool) after = get("P");
        ck_assert_str_eq(after->def->source_dir, "/srv/NFS/P");
        ck_assert_str_eq(after->uuid, UUID_A);
}
END_TEST

START_TEST(test_active_drift_restarted_only_with_fix) {
        g_autoptr(WantedPool) w = synced();

        /* the server's source changes while the pool runs */
        g_free(w->def->source_dir);
        w->def->source_dir = g_strdup("/srv/NFS/moved");
        g_autoptr(SyncResult) d = sync_one(w, false, false);
        ck_assert_int_eq(d->status, SYNC_DRIFT);
        ck_assert_int_eq(d->checks->check[CHECK_MOUNTED], CHECK_FAIL);

        mount_right(w); /* what the restarted pool will have mounted */
        g_autoptr(SyncResult) f = sync_one(w, false, true);
        g_autofree char *a = actions(f);
        ck_assert_str_eq(a, "redefine,restart");
        ck_assert_ptr_null(f->error);
        g_autoptr(HostPool) p = get("P");
        ck_assert(p->active);
        /* The test driver shows only the running definition of an active pool and keeps it across
         * a stop and start, so the redefined source is not visible here; the real daemon's
         * behaviour (new source mounted after the restart) is checked in client-drift.sh. */
        ck_assert_int_eq(f->status, SYNC_DRIFT);
}
END_TEST

START_TEST(test_active_but_not_mounted) {
        g_autoptr(WantedPool) w = synced();

        /* unmounted behind libvirt's back; then something else mounted there */
        ck_assert(g_file_set_contents(env.mountinfo, "", 0, NULL));
        g_autoptr(SyncResult) v = sync_one(w, false, false);
        ck_assert_int_eq(v->status, SYNC_DRIFT);
        ck_assert_int_eq(v->checks->check[CHECK_ACTIVE], CHECK_OK);
        ck_assert_int_eq(v->checks->check[CHECK_MOUNTED], CHECK_FAIL);
        ck_assert_str_eq(v->note, "run sync --fix to restart it");

        mount_fake(w, "tmpfs");
        g_autoptr(SyncResult) f = sync_one(w, false, true);
        g_autofree char *a = actions(f);
        ck_assert_str_eq(a, "restart");
        /* libvirt says started, the mount table disagrees: a failure, with the reason */
        ck_assert_int_eq(f->status, SYNC_FAILED);
        ck_assert_ptr_nonnull(strstr(f->error, "has tmpfs mounted, not 192.0.2.10:/srv/NFS/P"));
}
END_TEST

START_TEST(test_busy_pool_is_not_restarted) {
        g_autoptr(WantedPool) w = synced();

        /* a running domain with a disk in the pool's target */
        virConnectPtr conn = virConnectOpen("test:///default");
        g_autofree char *xml = g_strdup_printf(
                "<domain type='test'><name>vm1</name><memory>65536</memory><os><type>hvm</type></os>"
                "<devices><disk type='file' device='disk'><source file='%s/disk0.qcow2'/>"
                "<target dev='vda'/></disk></devices></domain>",
                w->def->target_path);
        virDomainPtr dom = virDomainCreateXML(conn, xml, 0);
        ck_assert_ptr_nonnull(dom);

        ck_assert(g_file_set_contents(env.mountinfo, "", 0, NULL));
        g_autoptr(SyncResult) f = sync_one(w, false, true);
        ck_assert_int_eq(f->status, SYNC_DRIFT);
        ck_assert_uint_eq(f->actions->len, 0);
        ck_assert_str_eq(f->note, "needs a restart, but domain vm1 uses a volume of it");
        virDomainFree(dom);
        virConnectClose(conn);
}
END_TEST

START_TEST(test_transient_pool_made_persistent) {
        g_autoptr(WantedPool) w = wanted("P", UUID_A, "/srv/NFS/P");
        mount_right(w);
        virConnectPtr conn = virConnectOpen("test:///default");
        g_autofree char *xml = pooldef_to_xml(w->def);
        virStoragePoolPtr pool = virStoragePoolCreateXML(conn, xml, 0);
        ck_assert_ptr_nonnull(pool);
        g_autoptr(HostPool) before = get("P");
        ck_assert(!before->persistent && before->active);

        g_autoptr(SyncResult) r = sync_one(w, false, false);
        g_autofree char *a = actions(r);
        ck_assert_str_eq(a, "define,autostart");
        ck_assert_int_eq(r->status, SYNC_CHANGED);
        g_autoptr(HostPool) after = get("P");
        ck_assert(after->persistent && after->autostart && after->active);
        virStoragePoolFree(pool);
        virConnectClose(conn);
}
END_TEST

START_TEST(test_other_pool_type_with_the_name) {
        g_autoptr(WantedPool) w = wanted("default-pool", UUID_A, "/srv/NFS/x");
        /* test:///default's dir pool "default-pool" has another uuid: a conflict, untouched */
        g_autoptr(SyncResult) r = sync_one(w, false, true);
        ck_assert_int_eq(r->status, SYNC_CONFLICT);
        g_autoptr(HostPool) p = get("default-pool");
        ck_assert_str_eq(p->type, "dir");
}
END_TEST

START_TEST(test_servers_disagree) {
        g_autoptr(PoolDef) a = pooldef_new(), b = NULL, c = NULL;
        a->name = g_strdup("P");
        a->uuid = g_strdup(UUID_A);
        a->host = g_strdup("192.0.2.1");
        a->source_dir = g_strdup("/srv/P");
        a->target_path = g_strdup("/var/lib/libvirt/nfsprov/P");
        b = pooldef_copy(a);
        c = pooldef_copy(a);
        g_free(c->host);
        c->host = g_strdup("192.0.2.2");

        /* the same definition twice (one server, two URLs): kept once, no conflict */
        g_autoptr(GPtrArray) s1 = g_ptr_array_new(), s2 = g_ptr_array_new(), s3 = g_ptr_array_new();
        g_ptr_array_add(s1, a);
        g_ptr_array_add(s2, b);
        g_ptr_array_add(s3, c);
        const char *urls[] = { "http://one", "http://two", "http://three" };
        GPtrArray *ans12[] = { s1, s2 };
        g_autoptr(GPtrArray) m = server_merge_pools(urls, ans12, 2);
        ck_assert_uint_eq(m->len, 1);
        ck_assert_ptr_null(((WantedPool *) m->pdata[0])->conflict);

        /* different definitions under one name: a conflict naming both servers; sync leaves it */
        GPtrArray *ans13[] = { s1, NULL, s3 };
        g_autoptr(GPtrArray) m2 = server_merge_pools(urls, ans13, 3);
        ck_assert_uint_eq(m2->len, 1);
        const WantedPool *w = m2->pdata[0];
        ck_assert_str_eq(w->conflict, "servers http://one and http://three both offer pool P, with different definitions");
        g_autoptr(SyncResult) r = sync_one(w, false, true);
        ck_assert_int_eq(r->status, SYNC_CONFLICT);
        g_autoptr(HostPool) p = get("P");
        ck_assert_ptr_null(p);

        /* one uuid under two names: both reported */
        g_autoptr(PoolDef) d = pooldef_copy(a);
        g_free(d->name);
        d->name = g_strdup("Q");
        g_autoptr(GPtrArray) s4 = g_ptr_array_new();
        g_ptr_array_add(s4, d);
        GPtrArray *ans14[] = { s1, s4 };
        g_autoptr(GPtrArray) m3 = server_merge_pools(urls, ans14, 2);
        ck_assert_uint_eq(m3->len, 2);
        ck_assert_ptr_nonnull(((WantedPool *) m3->pdata[0])->conflict);
        ck_assert_ptr_nonnull(((WantedPool *) m3->pdata[1])->conflict);
}
END_TEST

START_TEST(test_local_checks) {
        g_autoptr(WantedPool) w = wanted("P", UUID_A, "/srv/NFS/P");
        mount_right(w);
        g_autoptr(SyncResult) r = sync_one(w, false, false);
        ck_assert_ptr_nonnull(r);
        g_autoptr(GPtrArray) list = host_pools();
        ck_assert_uint_eq(list->len, 2); /* default-pool and P, by name */
        ck_assert_str_eq(((HostPool *) list->pdata[0])->name, "P");

        g_autoptr(PoolStatus) s = NULL;
        ck_assert_int_eq(pool_check_local(list->pdata[0], env.mountinfo, &s, NULL), 0);
        ck_assert(pool_status_ok(s));
        g_autoptr(PoolStatus) d = NULL;
        ck_assert_int_eq(pool_check_local(list->pdata[1], env.mountinfo, &d, NULL), 0);
        ck_assert_int_eq(d->check[CHECK_AUTOSTART], CHECK_FAIL); /* the test driver's pool */
        ck_assert_int_eq(d->check[CHECK_MOUNTED], CHECK_NA);     /* a dir pool mounts nothing */
}
END_TEST

START_TEST(test_unreachable_libvirt) {
        Host *h = NULL;
        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(host_open("storage+unix:///system?socket=/nonexistent/sock", &h, &e), -ECONNREFUSED);
        ck_assert_ptr_nonnull(strstr(e->message, "cannot connect to libvirt at storage+unix:///system"));
        ck_assert_ptr_null(h);
}
END_TEST

Suite *unit_suite(void) {
        Suite *s = suite_create("pool_sync");
        TCase *tc = tcase_create("test:///default");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_absent_is_defined_autostarted_built_started);
        tcase_add_test(tc, test_second_sync_changes_nothing);
        tcase_add_test(tc, test_dry_run_changes_nothing);
        tcase_add_test(tc, test_same_name_other_uuid_is_a_conflict);
        tcase_add_test(tc, test_uuid_under_other_name_is_a_conflict);
        tcase_add_test(tc, test_same_source_or_target_is_a_conflict);
        tcase_add_test(tc, test_inactive_is_started_and_autostart_turned_on);
        tcase_add_test(tc, test_drift_reported_without_fix_redefined_with_fix);
        tcase_add_test(tc, test_active_drift_restarted_only_with_fix);
        tcase_add_test(tc, test_active_but_not_mounted);
        tcase_add_test(tc, test_busy_pool_is_not_restarted);
        tcase_add_test(tc, test_transient_pool_made_persistent);
        tcase_add_test(tc, test_other_pool_type_with_the_name);
        tcase_add_test(tc, test_servers_disagree);
        tcase_add_test(tc, test_local_checks);
        tcase_add_test(tc, test_unreachable_libvirt);
        suite_add_tcase(s, tc);
        return s;
}

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
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "error.h"
#include "host_pools.h"
#include "pool_check.h"
#include "pool_sync.h"
#include "pool_users.h"
#include "server_pools.h"
#include "unit.h"
#include "volume_compare.h"

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
        g_autofree char *note = g_strdup_printf("needs a restart, but running domain vm1 uses it: disk %s/disk0.qcow2",
                                                w->def->target_path);
        ck_assert_str_eq(f->note, note);
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


/* ---- which running domain uses a pool (pool_users) ---- */

START_TEST(test_path_normalize) {
        static const char *const t[][2] = {
                { "/", "/" },
                { "//", "/" },
                { "/a/b", "/a/b" },
                { "/a//b/", "/a/b" },
                { "/a/./b/.", "/a/b" },
                { "/a/b/../c", "/a/c" },
                { "/a/b/../../..", "/" },
                { "/../a", "/a" },
                { "/var/lib//nfsprov/P/./vm.qcow2", "/var/lib/nfsprov/P/vm.qcow2" },
                { "/a/..b/c", "/a/..b/c" },
                { "/a/.../c", "/a/.../c" },
        };
        for (size_t i = 0; i < G_N_ELEMENTS(t); i++) {
                g_autofree char *n = path_normalize(t[i][0]);
                ck_assert_msg(n && strcmp(n, t[i][1]) == 0, "%s: got %s, expected %s", t[i][0], n, t[i][1]);
        }
        ck_assert_ptr_null(path_normalize("relative/path"));
        ck_assert_ptr_null(path_normalize(""));
        ck_assert_ptr_null(path_normalize(NULL));
}
END_TEST

/* Start a transient test-driver domain with `devices` (and `os`, extra <os> children). */
static virDomainPtr run_domain(virConnectPtr conn, const char *name, const char *os, const char *devices) {
        g_autofree char *xml = g_strdup_printf("<domain type='test'><name>%s</name><memory>65536</memory>"
                                               "<os><type>hvm</type>%s</os><devices>%s</devices></domain>",
                                               name, os ? os : "", devices);
        virDomainPtr d = virDomainCreateXML(conn, xml, 0);
        ck_assert_msg(d, "domain %s did not start: %s", name, virGetLastErrorMessage());
        return d;
}

static PoolUse *use_of(const char *pool, int timeout_ms) {
        g_autoptr(HostPool) p = get(pool);
        ck_assert_ptr_nonnull(p);
        bool known = false;
        PoolUse *use = NULL;
        g_autoptr(GError) e = NULL;
        ck_assert_msg(pool_users_find(env.host, p, timeout_ms, &known, &use, &e) == 0, "%s", e ? e->message : "");
        ck_assert(known);
        return use;
}

static char *disk_xml(const char *path) {
        return g_strdup_printf("<disk type='file' device='disk'><source file='%s'/><target dev='vda'/></disk>", path);
}

START_TEST(test_users_however_spelled) {
        g_autoptr(WantedPool) w = synced();
        const char *t = w->def->target_path; /* DIR/pools/P */
        virConnectPtr conn = virConnectOpen("test:///default");

        g_autofree char *pools = g_build_filename(env.dir, "pools", NULL);
        g_autofree char *link = g_build_filename(env.dir, "link-to-P", NULL);
        g_autofree char *plink = g_build_filename(env.dir, "link-to-pools", NULL);
        g_autofree char *rel = g_build_filename(env.dir, "rel", NULL);
        g_autofree char *chain1 = g_build_filename(env.dir, "chain1", NULL);
        g_autofree char *chain2 = g_build_filename(env.dir, "chain2", NULL);
        ck_assert_int_eq(g_mkdir_with_parents(t, 0700), 0);
        ck_assert_int_eq(symlink(t, link), 0);
        ck_assert_int_eq(symlink(pools, plink), 0);
        ck_assert_int_eq(symlink("pools/P", rel), 0);     /* relative link */
        ck_assert_int_eq(symlink(chain2, chain1), 0);     /* two links in a row */
        ck_assert_int_eq(symlink(t, chain2), 0);
        g_autofree char *deep = g_build_filename(env.dir, "deep", "a", NULL);
        g_autofree char *up = g_build_filename(env.dir, "up", NULL);
        ck_assert_int_eq(g_mkdir_with_parents(deep, 0700), 0);
        ck_assert_int_eq(symlink(deep, up), 0);           /* DIR/up/../.. is DIR, not DIR/.. */

        g_autofree char *p_slash = g_strdup_printf("%s//P/./vm.qcow2", pools);
        g_autofree char *p_dotdot = g_strdup_printf("%s/Q/../P/vm.qcow2", pools);
        g_autofree char *p_trailing = g_strdup_printf("%s/", t);
        g_autofree char *p_link = g_strdup_printf("%s/vm.qcow2", link);
        g_autofree char *p_plink = g_strdup_printf("%s//P/vm.qcow2", plink);
        g_autofree char *p_rel = g_strdup_printf("%s/vm.qcow2", rel);
        g_autofree char *p_chain = g_strdup_printf("%s/sub/vm.qcow2", chain1);
        g_autofree char *p_up = g_strdup_printf("%s/../../pools/P/vm.qcow2", up);
        g_autofree char *p_elsewhere = g_build_filename(env.dir, "images", "overlay.qcow2", NULL);
        g_autofree char *p_mid = g_build_filename(env.dir, "images", "mid.qcow2", NULL);

        struct {
                const char *what;
                const char *os;
                char *devices;
                const char *expect; /* start of PoolUse.what */
        } cases[] = {
                { "doubled slash and dot", NULL, disk_xml(p_slash), "disk " },
                { "dot-dot", NULL, disk_xml(p_dotdot), "disk " },
                { "a symbolic link to the target", NULL, disk_xml(p_link), "disk " },
                { "a symbolic link to its parent", NULL, disk_xml(p_plink), "disk " },
                { "a relative symbolic link", NULL, disk_xml(p_rel), "disk " },
                { "a chain of links, below the target", NULL, disk_xml(p_chain), "disk " },
                { "dot-dot after a symbolic link", NULL, disk_xml(p_up), "disk " },
                { "9p filesystem of the target", NULL,
                  g_strdup_printf("<filesystem type='mount' accessmode='passthrough'><source dir='%s'/>"
                                  "<target dir='share'/></filesystem>", p_trailing),
                  "filesystem " },
                { "virtiofs filesystem below the target", NULL,
                  g_strdup_printf("<filesystem type='mount'><driver type='virtiofs'/><source dir='%s/sub'/>"
                                  "<target dir='share'/></filesystem>", link),
                  "filesystem " },
                { "filesystem of a directory holding the target", NULL,
                  g_strdup_printf("<filesystem type='mount'><source dir='%s'/><target dir='share'/></filesystem>",
                                  env.dir),
                  "filesystem " },
                { "backing file in the pool", NULL,
                  g_strdup_printf("<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
                                  "<source file='%s'/><backingStore type='file'><format type='qcow2'/>"
                                  "<source file='%s/base.qcow2'/><backingStore/></backingStore>"
                                  "<target dev='vda'/></disk>",
                                  p_elsewhere, link),
                  "backing file " },
                { "second backing file in the pool", NULL,
                  g_strdup_printf("<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
                                  "<source file='%s'/><backingStore type='file'><format type='qcow2'/>"
                                  "<source file='%s'/><backingStore type='file'><format type='raw'/>"
                                  "<source file='%s//P/base.raw'/><backingStore/></backingStore></backingStore>"
                                  "<target dev='vda'/></disk>",
                                  p_elsewhere, p_mid, pools),
                  "backing file " },
                { "a serial log file", NULL,
                  g_strdup_printf("<serial type='file'><source path='%s/console.log'/><target port='0'/></serial>", link),
                  "serial " },
                { "a kernel", g_strdup_printf("<kernel>%s/vmlinuz</kernel>", p_trailing), g_strdup(""), "kernel " },
        };
        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *name = g_strdup_printf("vm%zu", i);
                virDomainPtr d = run_domain(conn, name, cases[i].os, cases[i].devices);
                g_autoptr(PoolUse) use = use_of("P", 0);
                ck_assert_msg(use, "%s: not seen as a user", cases[i].what);
                ck_assert_str_eq(use->domain, name);
                ck_assert(!use->unsure);
                ck_assert_msg(g_str_has_prefix(use->what, cases[i].expect), "%s: %s", cases[i].what, use->what);
                ck_assert_int_eq(virDomainDestroy(d), 0);
                virDomainFree(d);
                g_free(cases[i].devices);
                g_free((char *) cases[i].os);
        }

        /* nothing that only looks alike: a sibling with the target as prefix, another pool's
         * files, a link elsewhere, a network disk, a relative path */
        g_autofree char *sibling = g_strdup_printf("%s-other/vm.qcow2", t);
        g_autofree char *away = g_build_filename(env.dir, "link-away", NULL);
        ck_assert_int_eq(symlink(env.dir, away), 0);
        g_autofree char *via_away = g_strdup_printf("%s/images/x.qcow2", away);
        g_autofree char *devices = g_strdup_printf(
                "<disk type='file' device='disk'><source file='%s'/><target dev='vda'/></disk>"
                "<disk type='file' device='disk'><source file='%s'/><target dev='vdb'/></disk>"
                "<disk type='network' device='disk'><source protocol='nfs' name='%s/vm.qcow2'>"
                "<host name='192.0.2.10'/></source><target dev='vdc'/></disk>"
                "<disk type='file' device='disk'><source file='rel/vm.qcow2'/><target dev='vdd'/></disk>",
                sibling, via_away, w->def->source_dir);
        virDomainPtr other = run_domain(conn, "bystander", NULL, devices);
        g_autoptr(PoolUse) none = use_of("P", 0);
        ck_assert_msg(!none, "bystander seen as a user: %s", none ? none->what : "");
        virDomainFree(other);
        virConnectClose(conn);
}
END_TEST

/* A walk that never ends in time: a dead NFS mount on the way. */
static char *slow_resolver(const char *path, const char *const *stops) {
        g_usleep(2 * G_USEC_PER_SEC);
        return g_strdup(path);
}

START_TEST(test_users_unresolved_in_time_count) {
        g_autoptr(WantedPool) w = synced();
        virConnectPtr conn = virConnectOpen("test:///default");
        virDomainPtr builtin = virDomainLookupByName(conn, "test"); /* the driver's own, with a disk */
        ck_assert_ptr_nonnull(builtin);
        ck_assert_int_eq(virDomainDestroy(builtin), 0);
        virDomainFree(builtin);
        g_autofree char *devices = disk_xml("/elsewhere/vm.qcow2");
        virDomainPtr d = run_domain(conn, "slow", NULL, devices);

        pool_users_set_resolver(slow_resolver);
        gint64 t0 = g_get_monotonic_time();
        g_autoptr(PoolUse) use = use_of("P", 100);
        pool_users_set_resolver(NULL);
        ck_assert_ptr_nonnull(use);
        ck_assert(use->unsure);
        ck_assert_str_eq(use->domain, "slow");
        ck_assert_str_eq(use->what, "a path that could not be resolved within 100 ms: /elsewhere/vm.qcow2");
        ck_assert_int_lt(g_get_monotonic_time() - t0, 2 * G_USEC_PER_SEC); /* the deadline, not the walk */

        /* sync --fix does not restart the pool then, and says why */
        ck_assert(g_file_set_contents(env.mountinfo, "", 0, NULL));
        pool_users_set_resolver(slow_resolver);
        g_autoptr(GPtrArray) list = host_pools();
        SyncOptions o = { .fix = true, .mountinfo = env.mountinfo, .users_timeout_ms = 100 };
        g_autoptr(SyncResult) f = NULL;
        ck_assert_int_eq(pool_sync(env.host, w, list, &o, &f, NULL), 0);
        pool_users_set_resolver(NULL);
        ck_assert_int_eq(f->status, SYNC_DRIFT);
        ck_assert_uint_eq(f->actions->len, 0);
        ck_assert_str_eq(f->note, "needs a restart, but running domain slow may use it: a path that could not be "
                                  "resolved within 100 ms: /elsewhere/vm.qcow2");
        virDomainFree(d);
        virConnectClose(conn);
}
END_TEST

START_TEST(test_users_pool_reference_and_none) {
        g_autoptr(WantedPool) w = synced();
        ck_assert_str_eq(w->def->name, "P");
        g_autoptr(PoolUse) nobody = use_of("P", 0);
        ck_assert_ptr_null(nobody);

        virConnectPtr conn = virConnectOpen("test:///default");
        virDomainPtr d = run_domain(conn, "byref", NULL,
                                    "<disk type='volume' device='disk'><source pool='P' volume='vm.qcow2'/>"
                                    "<target dev='vda'/></disk>");
        g_autoptr(PoolUse) use = use_of("P", 0);
        ck_assert_ptr_nonnull(use);
        ck_assert_str_eq(use->what, "volume P/vm.qcow2");
        virDomainFree(d);
        virConnectClose(conn);
}
END_TEST

/* ---- volumes: libvirt's list beside the server's manifest ---- */

static void create_volume(const char *pool, const char *name, uint64_t capacity, const char *format) {
        virConnectPtr conn = virConnectOpen("test:///default");
        virStoragePoolPtr p = virStoragePoolLookupByName(conn, pool);
        ck_assert_ptr_nonnull(p);
        g_autofree char *xml = g_strdup_printf("<volume><name>%s</name><capacity unit='bytes'>%" G_GUINT64_FORMAT
                                               "</capacity><allocation>0</allocation>"
                                               "<target><format type='%s'/></target></volume>",
                                               name, capacity, format);
        virStorageVolPtr v = virStorageVolCreateXML(p, xml, 0);
        ck_assert_msg(v, "volume %s: %s", name, virGetLastErrorMessage());
        virStorageVolFree(v);
        virStoragePoolFree(p);
        virConnectClose(conn);
}

static void manifest_add(WantedPool *w, const char *name, uint64_t capacity) {
        if (!w->def->volumes)
                w->def->volumes = g_ptr_array_new_with_free_func((GDestroyNotify) pool_volume_free);
        g_ptr_array_add(w->def->volumes, pool_volume_new(name, capacity, "qcow2"));
}

static PoolStatus *verify_one(const WantedPool *w) {
        g_autoptr(GPtrArray) list = host_pools();
        PoolStatus *s = NULL;
        ck_assert_int_eq(pool_check_wanted(w->def, w->conflict, list, env.mountinfo, &s, NULL), 0);
        g_autoptr(GPtrArray) vols = NULL;
        ck_assert_int_eq(host_list_volumes(env.host, w->def->name, &vols, NULL), 0);
        pool_check_volumes(s, w->def, vols);
        s->pool = NULL; /* the list is gone */
        return s;
}

START_TEST(test_host_volumes_listed) {
        g_autoptr(WantedPool) w = synced();
        ck_assert_str_eq(w->def->name, "P");
        create_volume("P", "vm2.qcow2", 2147483648, "qcow2");
        create_volume("P", "vm1.qcow2", 1073741824, "qcow2");
        create_volume("P", "disk.img", 4096, "raw");
        g_autoptr(GPtrArray) vols = NULL;
        g_autoptr(GError) e = NULL;
        ck_assert_msg(host_list_volumes(env.host, "P", &vols, &e) == 0, "%s", e ? e->message : "");
        ck_assert_uint_eq(vols->len, 3);
        const HostVolume *v0 = vols->pdata[0], *v1 = vols->pdata[1];
        ck_assert_str_eq(v0->name, "disk.img"); /* by name */
        ck_assert_str_eq(v0->format, "raw");
        ck_assert_str_eq(v1->name, "vm1.qcow2");
        ck_assert_str_eq(v1->format, "qcow2");
        ck_assert_uint_eq(v1->capacity, 1073741824);
        ck_assert_ptr_nonnull(strstr(v1->path, "vm1.qcow2"));

        /* an inactive pool has no list; an unknown one neither */
        GPtrArray *none = NULL;
        g_autoptr(GError) e2 = NULL;
        ck_assert_int_eq(host_list_volumes(env.host, "nonexistent", &none, &e2), -ENOENT);
        ck_assert_ptr_null(none);
        define_raw("Idle", UUID_B, "/srv/NFS/Idle", "/nonexistent/Idle");
        g_autoptr(GError) e3 = NULL;
        ck_assert_int_eq(host_list_volumes(env.host, "Idle", &none, &e3), -EBUSY);
        ck_assert_ptr_nonnull(strstr(e3->message, "cannot list the volumes of pool Idle"));
}
END_TEST

START_TEST(test_volumes_check) {
        g_autoptr(WantedPool) w = synced();
        create_volume("P", "vm1.qcow2", 1073741824, "qcow2");
        create_volume("P", "vm3.qcow2", 3221225472, "qcow2");

        /* the server does not report volumes: unknown, not a failure */
        g_autoptr(PoolStatus) u = verify_one(w);
        ck_assert_int_eq(u->check[CHECK_VOLUMES], CHECK_UNKNOWN);
        ck_assert(pool_status_ok(u));
        json_object *cj = pool_status_checks_json(u);
        ck_assert_str_eq(json_object_to_json_string_ext(json_object_object_get(cj, "volumes"), JSON_C_TO_STRING_PLAIN),
                         "\"unknown\"");
        json_object_put(cj);

        /* the same list: ok */
        manifest_add(w, "vm1.qcow2", 1073741824);
        manifest_add(w, "vm3.qcow2", 3221225472);
        g_autoptr(PoolStatus) ok = verify_one(w);
        ck_assert_int_eq(ok->check[CHECK_VOLUMES], CHECK_OK);
        ck_assert(pool_status_ok(ok));

        /* one more on the server, one foreign file on the host, a capacity that differs */
        manifest_add(w, "vm2.qcow2", 2147483648);
        ((PoolVolume *) w->def->volumes->pdata[1])->capacity = 4294967296;
        create_volume("P", "foreign.img", 4096, "raw");
        g_autoptr(PoolStatus) bad = verify_one(w);
        ck_assert_int_eq(bad->check[CHECK_VOLUMES], CHECK_FAIL);
        ck_assert(!pool_status_ok(bad));
        g_autoptr(GString) all = g_string_new(NULL);
        for (size_t i = 0; i < bad->problems->len; i++)
                g_string_append_printf(all, "%s|", ((Problem *) bad->problems->pdata[i])->text);
        ck_assert_str_eq(all->str, "volume foreign.img is listed by libvirt but not on the server|"
                                   "volume vm2.qcow2 is on the server but libvirt does not list it|"
                                   "volume vm3.qcow2 differs: capacity: server has 4294967296, libvirt has 3221225472|");
        ck_assert(!pool_status_has_drift(bad)); /* not a definition difference */
}
END_TEST

START_TEST(test_volumes_compare_rows) {
        g_autoptr(GPtrArray) server = g_ptr_array_new_with_free_func((GDestroyNotify) pool_volume_free);
        g_ptr_array_add(server, pool_volume_new("b.qcow2", 10, "qcow2"));
        g_ptr_array_add(server, pool_volume_new("a.qcow2", 10, "qcow2"));
        g_ptr_array_add(server, pool_volume_new("c.qcow2", 10, "qcow2"));
        g_autoptr(GPtrArray) host = g_ptr_array_new_with_free_func((GDestroyNotify) host_volume_free);
        const struct {
                const char *name, *format;
                uint64_t capacity;
        } hv[] = { { "a.qcow2", "qcow2", 10 }, { "c.qcow2", "raw", 10 }, { "lost+found", "dir", 16384 }, { "z", NULL, 1 } };
        for (size_t i = 0; i < G_N_ELEMENTS(hv); i++) {
                HostVolume *v = g_new0(HostVolume, 1);
                v->name = g_strdup(hv[i].name);
                v->format = g_strdup(hv[i].format);
                v->capacity = hv[i].capacity;
                v->path = g_strdup_printf("/t/%s", hv[i].name);
                g_ptr_array_add(host, v);
        }
        g_autoptr(GPtrArray) rows = volumes_compare(server, host);
        ck_assert_uint_eq(rows->len, 4); /* lost+found is not a volume */
        const char *expect[][2] = {
                { "a.qcow2", "ok" }, { "b.qcow2", "missing on host" }, { "c.qcow2", "differs" }, { "z", "not on server" },
        };
        for (size_t i = 0; i < rows->len; i++) {
                const VolumeRow *r = rows->pdata[i];
                ck_assert_str_eq(r->name, expect[i][0]);
                ck_assert_str_eq(volume_state_to_string(r->state), expect[i][1]);
        }
        ck_assert_str_eq(((VolumeRow *) rows->pdata[2])->why, "format: server has qcow2, libvirt has raw");
        ck_assert(!volumes_all_ok(rows));
        json_object *j = volume_row_json(rows->pdata[2]);
        ck_assert_str_eq(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
                         "{\"name\":\"c.qcow2\",\"state\":\"differs\",\"server\":{\"capacity\":10,\"format\":\"qcow2\"},"
                         "\"host\":{\"capacity\":10,\"allocation\":0,\"format\":\"raw\",\"path\":\"/t/c.qcow2\"},"
                         "\"why\":\"format: server has qcow2, libvirt has raw\"}");
        json_object_put(j);
        g_autoptr(GPtrArray) empty = volumes_compare(NULL, NULL);
        ck_assert_uint_eq(empty->len, 0);
        ck_assert(volumes_all_ok(empty));
}
END_TEST

START_TEST(test_sync_refreshes_active_pools) {
        g_autoptr(WantedPool) w = wanted("P", UUID_A, "/srv/NFS/P");
        mount_right(w);
        /* a dry run refreshes nothing */
        g_autoptr(SyncResult) d = sync_one(w, true, false);
        ck_assert(!d->refreshed);
        /* started, then refreshed */
        g_autoptr(SyncResult) r = sync_one(w, false, false);
        ck_assert_int_eq(r->status, SYNC_CHANGED);
        ck_assert(r->refreshed);
        /* in sync: refreshed, and still "in sync" (a refresh is not an action) */
        g_autoptr(SyncResult) again = sync_one(w, false, false);
        ck_assert_int_eq(again->status, SYNC_IN_SYNC);
        ck_assert_uint_eq(again->actions->len, 0);
        ck_assert(again->refreshed);
        /* not mounted as defined: not refreshed */
        ck_assert(g_file_set_contents(env.mountinfo, "", 0, NULL));
        g_autoptr(SyncResult) nm = sync_one(w, false, false);
        ck_assert_int_eq(nm->status, SYNC_DRIFT);
        ck_assert(!nm->refreshed);
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
        tcase_add_test(tc, test_path_normalize);
        tcase_add_test(tc, test_users_however_spelled);
        tcase_add_test(tc, test_users_unresolved_in_time_count);
        tcase_add_test(tc, test_users_pool_reference_and_none);
        tcase_add_test(tc, test_host_volumes_listed);
        tcase_add_test(tc, test_volumes_check);
        tcase_add_test(tc, test_volumes_compare_rows);
        tcase_add_test(tc, test_sync_refreshes_active_pools);
        suite_add_tcase(s, tc);
        return s;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* client/pool_cache.c: entries kept across a save and a load, a missing or corrupt file taken as
 * empty, the file's mode, and one holder at a time (the lock). */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pool_cache.h"
#include "unit.h"

START_TEST(test_round_trip) {
        g_autofree char *dir = unit_mkdtemp();
        g_autofree char *path = g_build_filename(dir, "sub", "pools.json", NULL);
        const char *etag, *body;
        {
                g_autoptr(PoolCache) c = pool_cache_load(path); /* missing: empty */
                ck_assert_int_eq(pool_cache_get(c, "http://a:1", &etag, &body), -ENOENT);
                pool_cache_set(c, "http://a:1", "\"t1\"", "{\"pools\":[]}\n");
                pool_cache_set(c, "http://b:2", "\"t2\"", "{\"pools\":[1]}\n");
                pool_cache_set(c, "http://c:3", NULL, "{}"); /* no ETag: not kept */
                g_autoptr(GError) e = NULL;
                ck_assert_int_eq(pool_cache_save(c, &e), 0);
        }
        struct stat st;
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert_int_eq(st.st_mode & 07777, 0644);
        {
                g_autoptr(PoolCache) c = pool_cache_load(path);
                ck_assert_int_eq(pool_cache_get(c, "http://a:1", &etag, &body), 0);
                ck_assert_str_eq(etag, "\"t1\"");
                ck_assert_str_eq(body, "{\"pools\":[]}\n");
                ck_assert_int_eq(pool_cache_get(c, "http://b:2", &etag, NULL), 0);
                ck_assert_str_eq(etag, "\"t2\"");
                ck_assert_int_eq(pool_cache_get(c, "http://c:3", NULL, NULL), -ENOENT);
                /* a replaced entry, a dropped one */
                pool_cache_set(c, "http://a:1", "\"t3\"", "x");
                pool_cache_set(c, "http://b:2", NULL, NULL);
                ck_assert_int_eq(pool_cache_save(c, NULL), 0);
        }
        {
                g_autoptr(PoolCache) c = pool_cache_load(path);
                ck_assert_int_eq(pool_cache_get(c, "http://a:1", &etag, &body), 0);
                ck_assert_str_eq(etag, "\"t3\"");
                ck_assert_int_eq(pool_cache_get(c, "http://b:2", NULL, NULL), -ENOENT);
        }
        /* corrupt or foreign files: empty */
        static const char *const bad[] = { "", "{", "[]", "{\"version\":2,\"servers\":[]}",
                                           "{\"version\":1,\"servers\":[{\"url\":\"http://a:1\",\"etag\":1,\"body\":\"x\"}]}" };
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                ck_assert(g_file_set_contents(path, bad[i], -1, NULL));
                g_autoptr(PoolCache) c = pool_cache_load(path);
                ck_assert_msg(pool_cache_get(c, "http://a:1", NULL, NULL) == -ENOENT, "[%s]", bad[i]);
        }
        unit_rm_rf(dir);
}
END_TEST

/* While a child holds the cache, loading it waits; it returns once the child let go. */
START_TEST(test_lock) {
        g_autofree char *dir = unit_mkdtemp();
        g_autofree char *path = g_build_filename(dir, "pools.json", NULL);
        g_autofree char *flag = g_build_filename(dir, "released", NULL);
        int ready[2];
        ck_assert_int_eq(pipe(ready), 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                PoolCache *c = pool_cache_load(path);
                (void) !write(ready[1], "x", 1);
                g_usleep(300 * 1000);
                /* the flag before the release: the parent's load must come after it */
                (void) g_file_set_contents(flag, "1", -1, NULL);
                pool_cache_free(c);
                _exit(0);
        }
        char x;
        ck_assert_int_eq(read(ready[0], &x, 1), 1);
        g_autoptr(PoolCache) c = pool_cache_load(path);
        ck_assert_ptr_nonnull(c);
        ck_assert_msg(g_file_test(flag, G_FILE_TEST_EXISTS), "the load did not wait for the holder");
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        close(ready[0]);
        close(ready[1]);
        unit_rm_rf(dir);
}
END_TEST

Suite *unit_suite(void) {
        Suite *s = suite_create("pool_cache");
        TCase *tc = tcase_create("cache");
        tcase_add_test(tc, test_round_trip);
        tcase_add_test(tc, test_lock);
        suite_add_tcase(s, tc);
        return s;
}

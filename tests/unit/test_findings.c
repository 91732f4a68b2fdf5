/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* findings.c: what the guard keeps of a share's audits: since carried over, new and resolved. */
#include "config.h"

#include <string.h>

#include "findings.h"
#include "unit.h"

static GPtrArray *items(const char *const *paths, const AuditFinding *kinds) {
        GPtrArray *a = g_ptr_array_new_with_free_func((GDestroyNotify) audit_item_free);
        for (size_t i = 0; paths[i]; i++) {
                AuditItem *it = g_new0(AuditItem, 1);
                it->path = g_strdup(paths[i]);
                it->finding = kinds[i];
                it->kind = "file";
                it->detail = g_strdup("not in the manifest");
                it->size = 7;
                g_ptr_array_add(a, it);
        }
        return a;
}

static const char *path_at(GPtrArray *a, guint i) {
        return ((const Finding *) g_ptr_array_index(a, i))->path;
}

START_TEST(test_since_new_resolved) {
        static const char *const p1[] = { "a", "b", "c", NULL };
        static const AuditFinding k1[] = { AUDIT_FOREIGN, AUDIT_CHANGED, AUDIT_FOREIGN };
        g_autoptr(GPtrArray) i1 = items(p1, k1);
        AuditStats st1 = { .foreign = 2, .headers_read = 3 };
        g_autoptr(GPtrArray) n1 = NULL, r1 = NULL;
        g_autoptr(Findings) f1 = findings_update(NULL, "S", i1, &st1, 100, &n1, &r1);
        ck_assert_uint_eq(n1->len, 3);
        ck_assert_uint_eq(r1->len, 0);
        ck_assert_uint_eq(f1->count[AUDIT_FOREIGN], 2);
        ck_assert_uint_eq(f1->count[AUDIT_CHANGED], 1);
        ck_assert_uint_eq(findings_total(f1), 3);
        ck_assert_int_eq(((Finding *) g_ptr_array_index(f1->items, 0))->since, 100);
        ck_assert_uint_eq(f1->audits, 1);

        /* b resolved, c kept (since 100), d new (since 200); b reported changed again later is new */
        static const char *const p2[] = { "a", "c", "d", NULL };
        static const AuditFinding k2[] = { AUDIT_FOREIGN, AUDIT_FOREIGN, AUDIT_MISSING };
        g_autoptr(GPtrArray) i2 = items(p2, k2);
        AuditStats st2 = { .foreign = 2, .foreign_omitted = 5, .headers_read = 4 };
        g_autoptr(GPtrArray) n2 = NULL, r2 = NULL;
        g_autoptr(Findings) f2 = findings_update(f1, "S", i2, &st2, 200, &n2, &r2);
        ck_assert_uint_eq(n2->len, 1);
        ck_assert_str_eq(path_at(n2, 0), "d");
        ck_assert_uint_eq(r2->len, 1);
        ck_assert_str_eq(path_at(r2, 0), "b");
        ck_assert_int_eq(((Finding *) g_ptr_array_index(f2->items, 0))->since, 100);
        ck_assert_int_eq(((Finding *) g_ptr_array_index(f2->items, 1))->since, 100);
        ck_assert_int_eq(((Finding *) g_ptr_array_index(f2->items, 2))->since, 200);
        ck_assert_uint_eq(f2->omitted, 5);
        ck_assert_uint_eq(f2->count[AUDIT_MISSING], 1);
        ck_assert_uint_eq(f2->audits, 2); /* counted across audits, with the headers they read */
        ck_assert_uint_eq(f2->headers_read, st1.headers_read + st2.headers_read);

        /* the same path with another finding is a new finding (and the old one resolved) */
        static const char *const p3[] = { "a", "c", "d", NULL };
        static const AuditFinding k3[] = { AUDIT_CHANGED, AUDIT_FOREIGN, AUDIT_MISSING };
        g_autoptr(GPtrArray) i3 = items(p3, k3);
        g_autoptr(GPtrArray) n3 = NULL, r3 = NULL;
        g_autoptr(Findings) f3 = findings_update(f2, "S", i3, &st1, 300, &n3, &r3);
        ck_assert_uint_eq(n3->len, 1);
        ck_assert_str_eq(path_at(n3, 0), "a");
        ck_assert_uint_eq(r3->len, 1);
        ck_assert_str_eq(path_at(r3, 0), "a");

        /* everything resolved */
        g_autoptr(GPtrArray) none = g_ptr_array_new();
        g_autoptr(GPtrArray) n4 = NULL, r4 = NULL;
        g_autoptr(Findings) f4 = findings_update(f3, "S", none, NULL, 400, &n4, &r4);
        ck_assert_uint_eq(findings_total(f4), 0);
        ck_assert_uint_eq(r4->len, 3);
}
END_TEST

START_TEST(test_failed_keeps_last) {
        static const char *const p[] = { "x", NULL };
        static const AuditFinding k[] = { AUDIT_FOREIGN };
        g_autoptr(GPtrArray) i = items(p, k);
        AuditStats st = { .foreign = 1 };
        g_autoptr(Findings) f = findings_update(NULL, "S", i, &st, 10, NULL, NULL);
        g_autoptr(Findings) failed = findings_failed(f, "S", "S: the share is not mounted", 20);
        ck_assert_str_eq(failed->error, "S: the share is not mounted");
        ck_assert_uint_eq(failed->items->len, 1);
        ck_assert_str_eq(path_at(failed->items, 0), "x");
        ck_assert_int_eq(failed->audited_at, 20);
        ck_assert_uint_eq(failed->audits, 2); /* a failed audit is an audit */
        ck_assert_uint_eq(findings_total(failed), 1);
        g_autoptr(Findings) first = findings_failed(NULL, "S", "no", 30);
        ck_assert_uint_eq(first->items->len, 0);
        ck_assert_uint_eq(findings_total(NULL), 0);
}
END_TEST

/* A cut listing (more foreign entries than listed): nothing is concluded past its last path. */
START_TEST(test_cut_listing) {
        static const char *const p1[] = { "a", "m", NULL };
        static const AuditFinding k1[] = { AUDIT_FOREIGN, AUDIT_FOREIGN };
        g_autoptr(GPtrArray) i1 = items(p1, k1);
        AuditStats st1 = { .foreign = 7, .foreign_omitted = 5 };
        g_autoptr(Findings) f1 = findings_update(NULL, "S", i1, &st1, 100, NULL, NULL);

        /* b is new (before the old cut at m); m is past the new cut at b: not resolved */
        static const char *const p2[] = { "a", "b", NULL };
        static const AuditFinding k2[] = { AUDIT_FOREIGN, AUDIT_FOREIGN };
        g_autoptr(GPtrArray) i2 = items(p2, k2);
        AuditStats st2 = { .foreign = 8, .foreign_omitted = 6 };
        g_autoptr(GPtrArray) n2 = NULL, r2 = NULL;
        g_autoptr(Findings) f2 = findings_update(f1, "S", i2, &st2, 200, &n2, &r2);
        ck_assert_uint_eq(n2->len, 1);
        ck_assert_str_eq(path_at(n2, 0), "b");
        ck_assert_uint_eq(r2->len, 0);

        /* complete again: z lay past the cut at b, so it is not new; nothing past it is unknown */
        static const char *const p3[] = { "a", "z", NULL };
        static const AuditFinding k3[] = { AUDIT_FOREIGN, AUDIT_FOREIGN };
        g_autoptr(GPtrArray) i3 = items(p3, k3);
        AuditStats st3 = { .foreign = 2 };
        g_autoptr(GPtrArray) n3 = NULL, r3 = NULL;
        g_autoptr(Findings) f3 = findings_update(f2, "S", i3, &st3, 300, &n3, &r3);
        ck_assert_uint_eq(n3->len, 0);
        ck_assert_uint_eq(r3->len, 1);
        ck_assert_str_eq(path_at(r3, 0), "b");
        ck_assert_uint_eq(findings_total(f3), 2);
        ck_assert_uint_eq(f3->omitted, 0);
}
END_TEST

Suite *unit_suite(void) {
        Suite *s = suite_create("findings");
        TCase *tc = tcase_create("findings");
        tcase_add_test(tc, test_since_new_resolved);
        tcase_add_test(tc, test_failed_keeps_last);
        tcase_add_test(tc, test_cut_listing);
        suite_add_tcase(s, tc);
        return s;
}

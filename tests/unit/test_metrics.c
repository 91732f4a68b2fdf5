/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* metrics.c: the Prometheus text of a snapshot, the operation counters and the last reconcile. */
#include "config.h"

#include <string.h>

#include "metrics.h"
#include "unit.h"

START_TEST(test_text) {
        Share s1 = { .name = (char *) "A1", .status = SHARE_READY };
        Share s2 = { .name = (char *) "B2", .status = SHARE_CREATING };
        Share s3 = { .name = (char *) "C3", .status = SHARE_READY };
        ShareInfo i1 = { .share = &s1, .has_usage = true, .capacity = 1000, .used = 10, .available = 990,
                         .served = true, .guard = GUARD_ENFORCE, .guard_active = GUARD_DETECT };
        ShareInfo i2 = { .share = &s2, .guard = GUARD_DETECT, .guard_active = GUARD_DETECT };
        ShareInfo i3 = { .share = &s3, .has_usage = true, .capacity = 5368709120, .used = 0, .available = 5 };
        Volume v1 = { .name = (char *) "vm1", .capacity = 2000 }, v2 = { .name = (char *) "vm2", .capacity = 500 };
        g_autoptr(GPtrArray) vols1 = g_ptr_array_new();
        g_ptr_array_add(vols1, &v1);
        g_ptr_array_add(vols1, &v2);
        g_autoptr(GPtrArray) vols3 = g_ptr_array_new();
        Findings found = { .count = { [AUDIT_FOREIGN] = 3, [AUDIT_CHANGED] = 1 }, .audits = 12, .headers_read = 40 };
        i1.findings = &found;
        i1.volumes = vols1;
        i1.provisioned = 2500;
        i3.volumes = vols3;
        g_autoptr(GPtrArray) shares = g_ptr_array_new();
        g_ptr_array_add(shares, &i1);
        g_ptr_array_add(shares, &i2);
        g_ptr_array_add(shares, &i3);
        Snapshot snap = { .shares = shares };
        OpStats ops = { .pending = 2 };
        ops.ended[OP_CREATE][0] = 4;
        ops.ended[OP_RESIZE][1] = 1;
        ops.ended[OP_DELETE][0] = 7;
        ops.ended[OP_VOL_CREATE][0] = 3;
        ops.ended[OP_VOL_RESIZE][1] = 2;
        MetricsReconcile rec = { .finished_at = 1700000000, .drift = 3, .problems = 1 };

        g_autofree char *text = metrics_text(&snap, &ops, &rec);
        static const char want[] =
                "# HELP nfsprov_share_capacity_bytes Size of the share's filesystem.\n"
                "# TYPE nfsprov_share_capacity_bytes gauge\n"
                "nfsprov_share_capacity_bytes{share=\"A1\"} 1000\n"
                "nfsprov_share_capacity_bytes{share=\"C3\"} 5368709120\n"
                "# HELP nfsprov_share_used_bytes Bytes used on the share's filesystem.\n"
                "# TYPE nfsprov_share_used_bytes gauge\n"
                "nfsprov_share_used_bytes{share=\"A1\"} 10\n"
                "nfsprov_share_used_bytes{share=\"C3\"} 0\n"
                "# HELP nfsprov_share_available_bytes Bytes available on the share's filesystem.\n"
                "# TYPE nfsprov_share_available_bytes gauge\n"
                "nfsprov_share_available_bytes{share=\"A1\"} 990\n"
                "nfsprov_share_available_bytes{share=\"C3\"} 5\n"
                "# HELP nfsprov_share_volumes Volumes recorded in the share.\n"
                "# TYPE nfsprov_share_volumes gauge\n"
                "nfsprov_share_volumes{share=\"A1\"} 2\n"
                "nfsprov_share_volumes{share=\"C3\"} 0\n"
                "# HELP nfsprov_share_provisioned_bytes Sum of the virtual sizes of the share's volumes.\n"
                "# TYPE nfsprov_share_provisioned_bytes gauge\n"
                "nfsprov_share_provisioned_bytes{share=\"A1\"} 2500\n"
                "nfsprov_share_provisioned_bytes{share=\"C3\"} 0\n"
                "# HELP nfsprov_share_overcommit_ratio Provisioned bytes over the filesystem's capacity.\n"
                "# TYPE nfsprov_share_overcommit_ratio gauge\n"
                "nfsprov_share_overcommit_ratio{share=\"A1\"} 2.5\n"
                "nfsprov_share_overcommit_ratio{share=\"C3\"} 0\n"
                "# HELP nfsprov_shares Number of shares by state.\n"
                "# TYPE nfsprov_shares gauge\n"
                "nfsprov_shares{state=\"creating\"} 1\n"
                "nfsprov_shares{state=\"ready\"} 2\n"
                "nfsprov_shares{state=\"resizing\"} 0\n"
                "nfsprov_shares{state=\"deleting\"} 0\n"
                "nfsprov_shares{state=\"failed\"} 0\n"
                "# HELP nfsprov_share_served Whether the NFS server serves the share now (1) or not (0).\n"
                "# TYPE nfsprov_share_served gauge\n"
                "nfsprov_share_served{share=\"A1\"} 1\n"
                "nfsprov_share_served{share=\"C3\"} 0\n"
                "# HELP nfsprov_guard_mode The guard's mode of each share (1 for its mode).\n"
                "# TYPE nfsprov_guard_mode gauge\n"
                "nfsprov_guard_mode{share=\"A1\",mode=\"enforce\"} 1\n"
                "nfsprov_guard_mode{share=\"A1\",mode=\"detect\"} 0\n"
                "nfsprov_guard_mode{share=\"A1\",mode=\"off\"} 0\n"
                "nfsprov_guard_mode{share=\"B2\",mode=\"enforce\"} 0\n"
                "nfsprov_guard_mode{share=\"B2\",mode=\"detect\"} 1\n"
                "nfsprov_guard_mode{share=\"B2\",mode=\"off\"} 0\n"
                "nfsprov_guard_mode{share=\"C3\",mode=\"enforce\"} 1\n"
                "nfsprov_guard_mode{share=\"C3\",mode=\"detect\"} 0\n"
                "nfsprov_guard_mode{share=\"C3\",mode=\"off\"} 0\n"
                "# HELP nfsprov_guard_active What the guard runs for each share: enforce, or detect where the "
                "immutable attribute cannot be set.\n"
                "# TYPE nfsprov_guard_active gauge\n"
                "nfsprov_guard_active{share=\"A1\",mode=\"enforce\"} 0\n"
                "nfsprov_guard_active{share=\"A1\",mode=\"detect\"} 1\n"
                "nfsprov_guard_active{share=\"A1\",mode=\"off\"} 0\n"
                "nfsprov_guard_active{share=\"B2\",mode=\"enforce\"} 0\n"
                "nfsprov_guard_active{share=\"B2\",mode=\"detect\"} 1\n"
                "nfsprov_guard_active{share=\"B2\",mode=\"off\"} 0\n"
                "nfsprov_guard_active{share=\"C3\",mode=\"enforce\"} 1\n"
                "nfsprov_guard_active{share=\"C3\",mode=\"detect\"} 0\n"
                "nfsprov_guard_active{share=\"C3\",mode=\"off\"} 0\n"
                "# HELP nfsprov_guard_findings Findings of the last audit of each share, by kind.\n"
                "# TYPE nfsprov_guard_findings gauge\n"
                "nfsprov_guard_findings{share=\"A1\",finding=\"foreign\"} 3\n"
                "nfsprov_guard_findings{share=\"A1\",finding=\"changed\"} 1\n"
                "nfsprov_guard_findings{share=\"A1\",finding=\"missing\"} 0\n"
                "# HELP nfsprov_guard_audits_total Audits of each share since nfsprovd started.\n"
                "# TYPE nfsprov_guard_audits_total counter\n"
                "nfsprov_guard_audits_total{share=\"A1\"} 12\n"
                "# HELP nfsprov_guard_headers_read_total Volume headers those audits read (each other volume's was "
                "remembered unchanged).\n"
                "# TYPE nfsprov_guard_headers_read_total counter\n"
                "nfsprov_guard_headers_read_total{share=\"A1\"} 40\n"
                "# HELP nfsprov_operations_total Operations ended, by kind and result.\n"
                "# TYPE nfsprov_operations_total counter\n"
                "nfsprov_operations_total{kind=\"create\",result=\"succeeded\"} 4\n"
                "nfsprov_operations_total{kind=\"create\",result=\"failed\"} 0\n"
                "nfsprov_operations_total{kind=\"resize\",result=\"succeeded\"} 0\n"
                "nfsprov_operations_total{kind=\"resize\",result=\"failed\"} 1\n"
                "nfsprov_operations_total{kind=\"delete\",result=\"succeeded\"} 7\n"
                "nfsprov_operations_total{kind=\"delete\",result=\"failed\"} 0\n"
                "nfsprov_operations_total{kind=\"vol-create\",result=\"succeeded\"} 3\n"
                "nfsprov_operations_total{kind=\"vol-create\",result=\"failed\"} 0\n"
                "nfsprov_operations_total{kind=\"vol-clone\",result=\"succeeded\"} 0\n"
                "nfsprov_operations_total{kind=\"vol-clone\",result=\"failed\"} 0\n"
                "nfsprov_operations_total{kind=\"vol-resize\",result=\"succeeded\"} 0\n"
                "nfsprov_operations_total{kind=\"vol-resize\",result=\"failed\"} 2\n"
                "nfsprov_operations_total{kind=\"vol-wipe\",result=\"succeeded\"} 0\n"
                "nfsprov_operations_total{kind=\"vol-wipe\",result=\"failed\"} 0\n"
                "nfsprov_operations_total{kind=\"vol-delete\",result=\"succeeded\"} 0\n"
                "nfsprov_operations_total{kind=\"vol-delete\",result=\"failed\"} 0\n"
                "nfsprov_operations_total{kind=\"guard\",result=\"succeeded\"} 0\n"
                "nfsprov_operations_total{kind=\"guard\",result=\"failed\"} 0\n"
                "nfsprov_operations_total{kind=\"vol-adopt\",result=\"succeeded\"} 0\n"
                "nfsprov_operations_total{kind=\"vol-adopt\",result=\"failed\"} 0\n"
                "nfsprov_operations_total{kind=\"guard-remove\",result=\"succeeded\"} 0\n"
                "nfsprov_operations_total{kind=\"guard-remove\",result=\"failed\"} 0\n"
                "nfsprov_operations_total{kind=\"quarantine\",result=\"succeeded\"} 0\n"
                "nfsprov_operations_total{kind=\"quarantine\",result=\"failed\"} 0\n"
                "nfsprov_operations_total{kind=\"restore\",result=\"succeeded\"} 0\n"
                "nfsprov_operations_total{kind=\"restore\",result=\"failed\"} 0\n"
                "# HELP nfsprov_operations_running Operations running or queued.\n"
                "# TYPE nfsprov_operations_running gauge\n"
                "nfsprov_operations_running 2\n"
                "# HELP nfsprov_last_reconcile_timestamp_seconds When the last reconcile finished.\n"
                "# TYPE nfsprov_last_reconcile_timestamp_seconds gauge\n"
                "nfsprov_last_reconcile_timestamp_seconds 1700000000\n"
                "# HELP nfsprov_last_reconcile_drift Changes the last reconcile had to make.\n"
                "# TYPE nfsprov_last_reconcile_drift gauge\n"
                "nfsprov_last_reconcile_drift 3\n"
                "# HELP nfsprov_last_reconcile_problems Problems the last reconcile could not fix.\n"
                "# TYPE nfsprov_last_reconcile_problems gauge\n"
                "nfsprov_last_reconcile_problems 1\n";
        /* line by line: Check cannot print a message this long */
        g_auto(GStrv) got_lines = g_strsplit(text, "\n", -1), want_lines = g_strsplit(want, "\n", -1);
        for (guint i = 0; got_lines[i] || want_lines[i]; i++)
                ck_assert_msg(g_strcmp0(got_lines[i], want_lines[i]) == 0, "line %u: got [%s], want [%s]", i + 1,
                              got_lines[i] ? got_lines[i] : "(end)", want_lines[i] ? want_lines[i] : "(end)");
        ck_assert_str_eq(text, want);
}
END_TEST

START_TEST(test_empty) {
        g_autoptr(GPtrArray) shares = g_ptr_array_new();
        Snapshot snap = { .shares = shares };
        OpStats ops = { 0 };
        MetricsReconcile rec = { 0 };
        g_autofree char *text = metrics_text(&snap, &ops, &rec);
        ck_assert_ptr_nonnull(strstr(text, "nfsprov_shares{state=\"ready\"} 0\n"));
        ck_assert_ptr_nonnull(strstr(text, "nfsprov_last_reconcile_timestamp_seconds 0\n"));
        ck_assert_ptr_null(strstr(text, "{share="));
}
END_TEST

Suite *unit_suite(void) {
        Suite *s = suite_create("metrics");
        TCase *tc = tcase_create("metrics");
        tcase_add_test(tc, test_text);
        tcase_add_test(tc, test_empty);
        suite_add_tcase(s, tc);
        return s;
}

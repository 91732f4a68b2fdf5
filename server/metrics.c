/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <inttypes.h>

#include "metrics.h"

typedef struct UsageMetric {
        const char *metric, *help;
        size_t offset; /* of the uint64_t in ShareInfo */
} UsageMetric;

static const UsageMetric usage_metrics[] = {
        { "nfsprov_share_capacity_bytes", "Size of the share's filesystem.", G_STRUCT_OFFSET(ShareInfo, capacity) },
        { "nfsprov_share_used_bytes", "Bytes used on the share's filesystem.", G_STRUCT_OFFSET(ShareInfo, used) },
        { "nfsprov_share_available_bytes", "Bytes available on the share's filesystem.",
          G_STRUCT_OFFSET(ShareInfo, available) },
};

static void append_usage(GString *m, const Snapshot *s) {
        for (size_t k = 0; k < G_N_ELEMENTS(usage_metrics); k++) {
                const UsageMetric *u = &usage_metrics[k];
                g_string_append_printf(m, "# HELP %s %s\n# TYPE %s gauge\n", u->metric, u->help, u->metric);
                for (guint i = 0; i < s->shares->len; i++) {
                        const ShareInfo *info = g_ptr_array_index(s->shares, i);
                        if (info->has_usage)
                                g_string_append_printf(m, "%s{share=\"%s\"} %" PRIu64 "\n", u->metric,
                                                       info->share->name,
                                                       G_STRUCT_MEMBER(uint64_t, info, u->offset));
                }
        }
}

/* Thin provisioning: the volumes' virtual sizes against the filesystem. */
/* One value of a share (false: the share has none to show). */
typedef bool (*ShareValue)(const ShareInfo *info, uint64_t *ret);

/* A metric with one line per share that has a value. */
static void append_per_share(GString *m, const Snapshot *s, const char *name, const char *type, const char *help,
                             ShareValue value) {
        g_string_append_printf(m, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
        for (guint i = 0; i < s->shares->len; i++) {
                const ShareInfo *info = g_ptr_array_index(s->shares, i);
                uint64_t v;
                if (value(info, &v))
                        g_string_append_printf(m, "%s{share=\"%s\"} %" PRIu64 "\n", name, info->share->name, v);
        }
}

static bool volume_count(const ShareInfo *info, uint64_t *ret) {
        *ret = info->volumes ? info->volumes->len : 0;
        return info->volumes != NULL;
}

static bool provisioned(const ShareInfo *info, uint64_t *ret) {
        *ret = info->provisioned;
        return info->volumes != NULL;
}

static bool audits(const ShareInfo *info, uint64_t *ret) {
        *ret = info->findings ? info->findings->audits : 0;
        return info->findings != NULL;
}

static bool headers_read(const ShareInfo *info, uint64_t *ret) {
        *ret = info->findings ? info->findings->headers_read : 0;
        return info->findings != NULL;
}

static void append_volumes(GString *m, const Snapshot *s) {
        append_per_share(m, s, "nfsprov_share_volumes", "gauge", "Volumes recorded in the share.", volume_count);
        append_per_share(m, s, "nfsprov_share_provisioned_bytes", "gauge",
                         "Sum of the virtual sizes of the share's volumes.", provisioned);
        g_string_append(m, "# HELP nfsprov_share_overcommit_ratio Provisioned bytes over the filesystem's capacity.\n"
                           "# TYPE nfsprov_share_overcommit_ratio gauge\n");
        for (guint i = 0; i < s->shares->len; i++) {
                const ShareInfo *info = g_ptr_array_index(s->shares, i);
                if (info->volumes && info->has_usage && info->capacity)
                        g_string_append_printf(m, "nfsprov_share_overcommit_ratio{share=\"%s\"} %.6g\n",
                                               info->share->name,
                                               (double) info->provisioned / (double) info->capacity);
        }
}

static void append_states(GString *m, const Snapshot *s) {
        unsigned count[_SHARE_STATUS_MAX] = { 0 };
        for (guint i = 0; i < s->shares->len; i++) {
                const ShareInfo *info = g_ptr_array_index(s->shares, i);
                if (info->share->status < _SHARE_STATUS_MAX)
                        count[info->share->status]++;
        }
        g_string_append(m, "# HELP nfsprov_shares Number of shares by state.\n# TYPE nfsprov_shares gauge\n");
        for (ShareStatus st = 0; st < _SHARE_STATUS_MAX; st++)
                g_string_append_printf(m, "nfsprov_shares{state=\"%s\"} %u\n", share_status_to_string(st), count[st]);
}

/* Whether the export server serves each ready share now (NFS-Ganesha not running: 0). */
static void append_served(GString *m, const Snapshot *s) {
        g_string_append(m, "# HELP nfsprov_share_served Whether the NFS server serves the share now (1) or not (0).\n"
                           "# TYPE nfsprov_share_served gauge\n");
        for (guint i = 0; i < s->shares->len; i++) {
                const ShareInfo *info = g_ptr_array_index(s->shares, i);
                if (info->share->status == SHARE_READY || info->share->status == SHARE_RESIZING)
                        g_string_append_printf(m, "nfsprov_share_served{share=\"%s\"} %d\n", info->share->name,
                                               info->served);
        }
}

/* The guard's mode of each share, and what runs (detect when enforce cannot set the attribute). */
static void append_guard(GString *m, const Snapshot *s) {
        g_string_append(m, "# HELP nfsprov_guard_mode The guard's mode of each share (1 for its mode).\n"
                           "# TYPE nfsprov_guard_mode gauge\n");
        for (guint i = 0; i < s->shares->len; i++) {
                const ShareInfo *info = g_ptr_array_index(s->shares, i);
                for (GuardMode g = 0; g < _GUARD_MODE_MAX; g++)
                        g_string_append_printf(m, "nfsprov_guard_mode{share=\"%s\",mode=\"%s\"} %d\n", info->share->name,
                                               guard_mode_name(g), info->guard == g);
        }
        g_string_append(m, "# HELP nfsprov_guard_active What the guard runs for each share: enforce, or detect where "
                           "the immutable attribute cannot be set.\n# TYPE nfsprov_guard_active gauge\n");
        for (guint i = 0; i < s->shares->len; i++) {
                const ShareInfo *info = g_ptr_array_index(s->shares, i);
                for (GuardMode g = 0; g < _GUARD_MODE_MAX; g++)
                        g_string_append_printf(m, "nfsprov_guard_active{share=\"%s\",mode=\"%s\"} %d\n",
                                               info->share->name, guard_mode_name(g), info->guard_active == g);
        }
}

/* What the last audit of each share found (shares whose guard is off or never audited: none). */
static void append_findings(GString *m, const Snapshot *s) {
        g_string_append(m, "# HELP nfsprov_guard_findings Findings of the last audit of each share, by kind.\n"
                           "# TYPE nfsprov_guard_findings gauge\n");
        for (guint i = 0; i < s->shares->len; i++) {
                const ShareInfo *info = g_ptr_array_index(s->shares, i);
                if (!info->findings)
                        continue;
                for (AuditFinding f = 0; f < _AUDIT_FINDING_MAX; f++)
                        g_string_append_printf(m, "nfsprov_guard_findings{share=\"%s\",finding=\"%s\"} %u\n",
                                               info->share->name, audit_finding_to_string(f), info->findings->count[f]);
        }
        append_per_share(m, s, "nfsprov_guard_audits_total", "counter", "Audits of each share since nfsprovd started.",
                         audits);
        append_per_share(m, s, "nfsprov_guard_headers_read_total", "counter",
                         "Volume headers those audits read (each other volume's was remembered unchanged).",
                         headers_read);
}

static void append_operations(GString *m, const OpStats *ops) {
        g_string_append(m, "# HELP nfsprov_operations_total Operations ended, by kind and result.\n"
                           "# TYPE nfsprov_operations_total counter\n");
        for (OpKind k = 0; k < _OP_KIND_MAX; k++)
                for (int r = 0; r < 2; r++)
                        g_string_append_printf(m, "nfsprov_operations_total{kind=\"%s\",result=\"%s\"} %" G_GUINT64_FORMAT "\n",
                                               op_kind_to_string(k), r ? "failed" : "succeeded", ops->ended[k][r]);
        g_string_append_printf(m,
                               "# HELP nfsprov_operations_running Operations running or queued.\n"
                               "# TYPE nfsprov_operations_running gauge\nnfsprov_operations_running %u\n",
                               ops->pending);
}

static void append_reconcile(GString *m, const MetricsReconcile *rec) {
        g_string_append_printf(m,
                               "# HELP nfsprov_last_reconcile_timestamp_seconds When the last reconcile finished.\n"
                               "# TYPE nfsprov_last_reconcile_timestamp_seconds gauge\n"
                               "nfsprov_last_reconcile_timestamp_seconds %" PRId64 "\n"
                               "# HELP nfsprov_last_reconcile_drift Changes the last reconcile had to make.\n"
                               "# TYPE nfsprov_last_reconcile_drift gauge\nnfsprov_last_reconcile_drift %u\n"
                               "# HELP nfsprov_last_reconcile_problems Problems the last reconcile could not fix.\n"
                               "# TYPE nfsprov_last_reconcile_problems gauge\nnfsprov_last_reconcile_problems %u\n",
                               rec->finished_at, rec->drift, rec->problems);
}

char *metrics_text(const Snapshot *s, const OpStats *ops, const MetricsReconcile *reconcile) {
        GString *m = g_string_new(NULL);
        append_usage(m, s);
        append_volumes(m, s);
        append_states(m, s);
        append_served(m, s);
        append_guard(m, s);
        append_findings(m, s);
        append_operations(m, ops);
        append_reconcile(m, reconcile);
        return g_string_free(m, false);
}

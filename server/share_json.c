/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <stdint.h>

#include "share_json.h"
#include "show.h"

static void add_str(json_object *o, const char *key, const char *v) {
        json_object_object_add(o, key, v ? json_object_new_string(v) : NULL);
}

static void add_bool(json_object *o, const char *key, bool v) {
        json_object_object_add(o, key, json_object_new_boolean(v));
}

static void add_u64(json_object *o, const char *key, uint64_t v) {
        json_object_object_add(o, key, json_object_new_int64((int64_t) v));
}

static json_object *string_array(char **v) {
        json_object *a = json_object_new_array();
        for (char **p = v; p && *p; p++)
                if (**p)
                        json_object_array_add(a, json_object_new_string(*p));
        return a;
}

static json_object *ptr_array_strings(const GPtrArray *v) {
        json_object *a = json_object_new_array();
        for (guint i = 0; i < v->len; i++)
                json_object_array_add(a, json_object_new_string(g_ptr_array_index(v, i)));
        return a;
}

const char *share_info_status(const ShareInfo *i) {
        /* a ready share whose audit found something is shown "tainted" (the recorded status stays) */
        bool tainted = i->share->status == SHARE_READY && findings_total(i->findings) > 0;
        return tainted ? "tainted" : share_status_to_string(i->share->status);
}

json_object *share_json(const ShareInfo *i) {
        const Share *s = i->share;
        json_object *o = json_object_new_object();
        add_str(o, "name", s->name);
        add_str(o, "status", share_info_status(i));
        add_u64(o, "size", s->size);
        add_str(o, "backend", s->backend);
        add_str(o, "source", s->source);
        add_str(o, "device", i->device);
        add_str(o, "fs_uuid", s->fs_uuid);
        add_str(o, "pool_uuid", s->pool_uuid);
        add_str(o, "export_path", i->export_path);
        json_object_object_add(o, "clients", string_array(i->clients));
        add_str(o, "options", s->options);
        add_bool(o, "mounted", i->mounted);
        add_bool(o, "exported", i->exported);
        add_bool(o, "served", i->served);
        if (s->export_id)
                json_object_object_add(o, "export_id", json_object_new_int64(s->export_id));
        if (i->has_usage) {
                add_u64(o, "capacity", i->capacity);
                add_u64(o, "used", i->used);
                add_u64(o, "available", i->available);
        }
        if (i->volumes) {
                add_u64(o, "volume_count", i->volumes->len);
                add_u64(o, "provisioned", i->provisioned);
                if (i->has_usage && i->capacity)
                        json_object_object_add(o, "overcommit",
                                               json_object_new_double((double) i->provisioned / (double) i->capacity));
        }
        json_object *g = json_object_new_object();
        add_str(g, "mode", guard_mode_name(i->guard));
        add_str(g, "active", guard_mode_name(i->guard_active));
        add_bool(g, "protected", i->guard_protected);
        if (i->guard_note)
                add_str(g, "note", i->guard_note);
        if (i->findings) {
                json_object *c = json_object_new_object();
                for (AuditFinding f = 0; f < _AUDIT_FINDING_MAX; f++)
                        add_u64(c, audit_finding_to_string(f), i->findings->count[f]);
                json_object_object_add(g, "findings", c);
                json_object_object_add(g, "audited_at", json_object_new_int64(i->findings->audited_at));
                if (i->findings->error)
                        add_str(g, "audit_error", i->findings->error);
        }
        json_object_object_add(o, "guard", g);
        if (s->operation)
                add_str(o, "operation", s->operation);
        if (s->step)
                add_str(o, "step", s->step);
        if (s->error)
                add_str(o, "error", s->error);
        return o;
}

/* Names as on disk may hold any byte: shown as one line of UTF-8 (common/show.h). */
static void add_shown(json_object *o, const char *key, const char *v) {
        g_autofree char *shown = show_text_max(v, SIZE_MAX);
        add_str(o, key, shown);
}

json_object *quarantine_json(const QuarantineItem *q, const char *file) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "id", json_object_new_int64(q->id));
        add_str(o, "share", q->share);
        add_shown(o, "path", q->path);
        add_str(o, "name", q->name);
        add_shown(o, "file", file);
        add_str(o, "kind", q->kind);
        add_u64(o, "size", q->size);
        add_u64(o, "uid", q->uid);
        add_u64(o, "gid", q->gid);
        g_autofree char *mode = g_strdup_printf("%04o", q->mode & 07777);
        add_str(o, "mode", mode);
        json_object_object_add(o, "mtime", json_object_new_int64(q->mtime));
        json_object_object_add(o, "quarantined_at", json_object_new_int64(q->quarantined_at));
        add_str(o, "status", quarantine_status_to_string(q->status));
        if (q->operation && q->status != QUARANTINE_READY) {
                add_str(o, "operation", q->operation);
                add_str(o, "step", q->step);
        }
        if (q->error)
                add_str(o, "error", q->error);
        return o;
}

json_object *audit_json(const char *share, const Findings *f) {
        json_object *o = json_object_new_object();
        add_str(o, "share", share);
        json_object *list = json_object_new_array();
        json_object *counts = json_object_new_object();
        for (AuditFinding k = 0; k < _AUDIT_FINDING_MAX; k++)
                add_u64(counts, audit_finding_to_string(k), f ? f->count[k] : 0);
        for (guint i = 0; f && i < f->items->len; i++) {
                const Finding *x = g_ptr_array_index(f->items, i);
                json_object *j = json_object_new_object();
                add_shown(j, "path", x->path);
                add_str(j, "kind", x->kind);
                add_str(j, "finding", audit_finding_to_string(x->finding));
                add_shown(j, "detail", x->detail);
                json_object_object_add(j, "since", json_object_new_int64(x->since));
                add_u64(j, "size", x->size);
                add_u64(j, "uid", x->uid);
                add_u64(j, "gid", x->gid);
                json_object_object_add(j, "mtime", json_object_new_int64(x->mtime));
                json_object_array_add(list, j);
        }
        json_object_object_add(o, "audited", json_object_new_boolean(f != NULL));
        json_object_object_add(o, "audited_at", f ? json_object_new_int64(f->audited_at) : NULL);
        json_object_object_add(o, "counts", counts);
        add_u64(o, "omitted", f ? f->omitted : 0);
        add_str(o, "error", f ? f->error : NULL);
        json_object_object_add(o, "findings", list);
        return o;
}

json_object *volume_json(const VolumeInfo *i) {
        const Volume *v = i->volume;
        json_object *o = json_object_new_object();
        add_str(o, "name", v->name);
        add_str(o, "share", v->share);
        add_str(o, "status", volume_status_to_string(v->status));
        add_u64(o, "capacity", v->capacity);
        add_str(o, "format", v->format);
        add_str(o, "backing", v->backing);
        add_bool(o, "present", i->present);
        if (i->present) {
                add_u64(o, "allocation", i->allocation);
                add_u64(o, "size", i->size);
        }
        json_object_object_add(o, "created_at", json_object_new_int64(v->created_at));
        if (v->operation) {
                add_str(o, "operation", v->operation);
                if (v->step)
                        add_str(o, "step", v->step);
        }
        if (v->error)
                add_str(o, "error", v->error);
        return o;
}

json_object *reconcile_report_json(const ReconcileReport *r) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "changes", ptr_array_strings(r->changes));
        json_object_object_add(o, "problems", ptr_array_strings(r->problems));
        json_object_object_add(o, "finished_at", json_object_new_int64(r->finished_at));
        return o;
}

json_object *nfs_config_json(const ExportServer *server, const ExportServerConfig *c) {
        json_object *o = json_object_new_object();
        add_str(o, "server", server->name);
        add_str(o, "description", server->description);
        add_str(o, "file", c->file);
        add_bool(o, "vers3", c->vers3);
        add_bool(o, "vers4", c->vers4);
        add_bool(o, "ok", c->ok);
        add_bool(o, "changed", c->changed);
        if (c->problem)
                add_str(o, "problem", c->problem);
        if (c->running)
                add_str(o, "proc_versions", c->running);
        if (c->has_legacy)
                add_bool(o, "sysconfig_nfs_v4_disabled", c->legacy_v4_disabled);
        return o;
}

unsigned error_http_status(int r) {
        switch (-r) {
        case EINVAL:
                return 400;
        case ENOENT:
                return 404;
        case EEXIST:
        case ENOTEMPTY:
        case EBUSY:
        case ESTALE:
        case EDQUOT:
                return 409;
        default:
                return 500;
        }
}

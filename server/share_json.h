/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the engine reports, as the API's JSON (the engine itself knows no JSON), and the HTTP
 * status of an engine error. Every function returns a new reference.
 */
#pragma once

#include <json-c/json.h>

#include "engine.h"

/* The status a share is shown with: its recorded status, but "tainted" for a ready share whose
 * last audit found something. Static. */
const char *share_info_status(const ShareInfo *i);

/* {"name","status","size","backend","source","device","fs_uuid","pool_uuid","export_path",
 *  "clients":[...],"options","mounted","exported","capacity","used","available",
 *  "volume_count","provisioned","overcommit","operation","step","error"} (usage keys only when
 *  has_usage; overcommit = provisioned / capacity; operation/step/error only when set) */
json_object *share_json(const ShareInfo *i);

/* {"name","share","status","capacity","format","backing","present","allocation","size",
 *  "created_at","operation"?,"step"?,"error"?} (allocation and size only when present) */
json_object *volume_json(const VolumeInfo *i);

/* AUDIT of a share: {"share", "audited" (false: never audited, e.g. guard off), "audited_at",
 * "counts": {"foreign", "changed", "missing"}, "omitted" (foreign entries beyond the listed),
 * "error", "findings": [{"path", "kind", "finding", "detail", "since", "size", "uid", "gid",
 * "mtime"}]}; f may be NULL. Paths and details as one line of UTF-8 (common/show.h). */
json_object *audit_json(const char *share, const Findings *f);

/* A quarantined item: {"id", "share", "path", "name", "file" (where it is kept), "kind", "size",
 * "uid", "gid", "mode" (permission bits, e.g. "0644"), "mtime", "quarantined_at", "status",
 * "operation"?, "step"?, "error"?}; path as one line of UTF-8 (common/show.h). */
json_object *quarantine_json(const QuarantineItem *q, const char *file);

/* {"changes":[...],"problems":[...],"finished_at":UNIXTIME} */
json_object *reconcile_report_json(const ReconcileReport *r);

/* {"server","description","file","vers3","vers4","ok","changed","problem"?,"proc_versions"?,
 *  "sysconfig_nfs_v4_disabled"?} */
json_object *nfs_config_json(const ExportServer *server, const ExportServerConfig *c);

/* 400 -EINVAL, 404 -ENOENT, 409 -EEXIST/-ENOTEMPTY/-EBUSY/-ESTALE/-EDQUOT, 500 otherwise. */
unsigned error_http_status(int r);

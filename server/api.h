/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nfsprovd's admin API: the HTTP routes (server/http.h) mapped onto the engine (server/engine.h).
 *
 * Contract:
 * - Every engine call runs under one mutex held by the Api, so requests that arrive together on
 *   several connections run one after the other (the engine is not thread-safe). GET /v1/health
 *   does not touch the engine and answers even while a long operation runs.
 * - Input from outside is checked before the engine is called: share names (name_validate_share,
 *   also in paths), sizes (size_parse text like "50G", or a positive integer of bytes), the JSON
 *   body's keys and types (an unknown key is refused). Bad input gets 400 and changes nothing.
 * - Engine errors become the status engine_error_http_status() gives (400, 404, 409, 500) with
 *   the engine's one-line message.
 * - Mutating requests (create, resize, delete, reconcile, nfs-config apply) are logged with who
 *   asked and how it ended; read-only requests are not logged.
 *
 * Endpoints (JSON unless said otherwise; errors: {"error":{"code","message"}}):
 *   GET    /v1/health                 200 {"status":"ok","reconciled":true,"version","last_reconcile",
 *                                         "problems":N}
 *   GET    /v1/shares                 200 {"shares":[SHARE...]}        (share_info_to_json)
 *   POST   /v1/shares                 body {"name","size","disk","clients":[...],"force"}
 *                                      201 SHARE (created; Location: /v1/shares/NAME)
 *                                      200 SHARE (an identical share existed), 409 other spec
 *   GET    /v1/shares/{name}          200 SHARE
 *   POST   /v1/shares/{name}/resize   body {"size"}  200 {"share":SHARE,"offline":bool}
 *   DELETE /v1/shares/{name}[?force=true]            200 {"deleted":"NAME"}
 *   GET    /v1/pools                  200 {"pools":[POOL...]} for the shares that are ready (or
 *                                         resizing): what client hosts should define
 *   GET    /v1/pools/{name}           200 POOL; with "Accept: application/xml" (or ?format=xml)
 *                                         the libvirt XML alone (application/xml)
 *   POST   /v1/reconcile              200 {"changes":[...],"problems":[...],"finished_at"}
 *   GET    /v1/nfs-config             200 {"file","vers3","vers4","ok","changed","proc_versions"}
 *   POST   /v1/nfs-config[?apply=BOOL] the same after setting vers3=y vers4=n (apply defaults to true)
 * POOL = pooldef_to_json() + "xml" (pooldef_to_xml) + "status" (the share's status). The pool's
 * host is the configured [server] address, else the local address the client reached us on
 * (none on the Unix socket: then the request fails unless an address is configured).
 */
#pragma once

#include <stddef.h>

#include <glib.h>

#include "engine.h"
#include "http.h"

typedef struct Api Api;

/* engine is borrowed and must outlive the Api. startup: the report of the reconcile that ran
 * before the API was opened (NULL if none ran). */
Api *api_new(Engine *engine, const ReconcileReport *startup);
void api_free(Api *a);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Api, api_free)

/* The routes to pass to http_server_start() with the Api as userdata. */
const HttpRoute *api_routes(size_t *ret_n);

/* engine_set_config() under the API's lock (SIGHUP). Takes config in every case, as
 * engine_set_config() does. */
int api_set_config(Api *a, Config *config, GError **error);

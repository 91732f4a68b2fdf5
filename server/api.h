/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nfsprovd's API: the HTTP routes (server/http.h) mapped onto the engine (server/engine.h).
 * api.c holds the route table and the handlers; the pieces they stand on have a file each:
 * snapshot.h (what reads are served from), opqueue.h (the operations and their progress),
 * auth.h (who may ask), metrics.h (/metrics), api_body.h (request bodies), share_json.h.
 *
 * Contract:
 * - Operations that change shares (POST /v1/shares for a new share, resize, delete) run one at a
 *   time in the Api's worker thread (the engine is not thread-safe); the request answers 202 with
 *   an operation resource and "Location: /v1/operations/ID" at once, unless it asked ?wait=true:
 *   then it answers when the operation ended, exactly as a synchronous call would (201/200 or the
 *   error). An operation is kept (GET /v1/operations/ID) for 15 minutes after it ended (at most
 *   1000 are kept) (server/opqueue.h). Reconcile and nfs-config run synchronously under the same
 *   engine lock. So does the reconcile of the exports each time the export server appears
 *   (Ganesha started or restarted: server/export_watch.h), in a thread of its own.
 * - Reads (GET /v1/shares, /v1/pools, /v1/health, /metrics) never wait for an operation: they are
 *   served from a snapshot, an immutable refcounted document of every share and pool definition
 *   published under a short lock after every operation and reconcile, and refreshed on a read
 *   when it is older than one second and the engine is idle (so sizes stay live)
 *   (server/snapshot.h).
 * - Create is idempotent and stays synchronous for a share that exists: the same spec answers
 *   200 with the share, another spec 409. Bad input answers 400 before anything runs
 *   (api_body_parse, name_validate_share in paths).
 * - Over TCP (api_tcp_authorize): GET /v1/health is open to everyone; the pool endpoints to every
 *   host, each share filtered by its export clients ("*", an IP, a CIDR / netmask admit; a host
 *   name, wildcard or @netgroup admits nobody over the API): a pool the peer may not mount is left
 *   out of GET /v1/pools and answers 403 for GET /v1/pools/NAME. Everything else (admin endpoints
 *   and /metrics) needs "Authorization: Bearer TOKEN" with the token of [server] token_file,
 *   compared in constant time: 401 when missing or wrong, 403 when no token is configured
 *   (server/auth.h). On the Unix socket http.c checks the peer's credentials and every share is
 *   visible. Client specifications are read by exports/exports_client.h.
 * - The pool host is the configured [server] address, else the local address the client reached
 *   (over the Unix socket without an address: 400).
 * - Mutating requests are logged with who asked and how they ended; reads are not logged.
 *
 * Endpoints (JSON unless said otherwise; errors: {"error":{"code","message"}}):
 *   GET    /                          200 the status page, HTML (server/status_page.h); over TCP
 *                                         the token also as the password of Basic credentials
 *   GET    /v1/health                 200 {"status":"ok",...} / 503 {"status":"degraded",...}:
 *                                         "reconciled","state_writable","exports_applied",
 *                                         "version","last_reconcile","problems","drift"
 *   GET    /metrics                   200 Prometheus text format (text/plain; version=0.0.4)
 *   GET    /v1/shares                 200 {"shares":[SHARE...]}        (share_json)
 *   POST   /v1/shares[?wait=true]     body {"name","size","disk","clients":[...],"force"}
 *                                      202 OPERATION (new share), 200 SHARE (identical share
 *                                      exists), 409 (another spec); with wait: 201 SHARE
 *   GET    /v1/shares/{name}          200 SHARE
 *   POST   /v1/shares/{name}/resize[?wait=true]  body {"size"}  202 OPERATION; with wait: 200
 *                                         {"share":SHARE,"offline":bool}
 *   DELETE /v1/shares/{name}[?force=true][&wait=true]  202 OPERATION; with wait: 200 {"deleted"}
 *   GET    /v1/operations/{id}        200 OPERATION = {"id","kind","share","state":"running|
 *                                         succeeded|failed","step","progress":{"done","total"},
 *                                         "error":{"code","message"}|null,"result"|null,
 *                                         "status" (the HTTP status of the result)}
 *   GET    /v1/pools                  200 {"pools":[POOL...]} for the shares that are ready (or
 *                                         resizing) and that the asking host may mount
 *   GET    /v1/pools/{name}           200 POOL; with "Accept: application/xml" (or ?format=xml)
 *                                         the libvirt XML alone (application/xml)
 *   POST   /v1/reconcile              200 {"changes":[...],"problems":[...],"finished_at"}
 *   GET    /v1/nfs-config             200 {"file","vers3","vers4","ok","changed","proc_versions"}
 *   POST   /v1/nfs-config[?apply=BOOL] the same after setting vers3=y vers4=n (apply defaults to true)
 * POOL = pooldef_to_json() + "xml" (pooldef_to_xml) + "status" (the share's status).
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

/* Stop the worker thread after the running operation (queued ones are dropped). Called by
 * api_free(); call it before http_server_stop() so no request waits on an operation forever. */
void api_shutdown(Api *a);

/* The bearer token admin requests over TCP must carry; NULL = admin over TCP off. Copied. */
void api_set_token(Api *a, const char *token);

/* The HttpAuthorize callback for TCP (see above); userdata is the Api. */
unsigned api_tcp_authorize(HttpRequest *req, const HttpRoute *route, void *userdata, char **ret_message);

/* The routes to pass to http_server_start() with the Api as userdata. */
const HttpRoute *api_routes(size_t *ret_n);

/* engine_set_config() under the API's lock (SIGHUP). Takes config in every case, as
 * engine_set_config() does. */
int api_set_config(Api *a, Config *config, GError **error);

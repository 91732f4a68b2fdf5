/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What nfsprovd's reads (GET /v1/shares, /v1/pools, /v1/health, /metrics) are served from: the
 * snapshot, an immutable refcounted picture of every share and every pool definition, so that a
 * read never waits for an operation.
 *
 * Contract:
 * - A Snapshot never changes once published; readers take a reference (snapshot_store_get) and
 *   may keep it as long as they like. Everything in it is read-only.
 * - The SnapshotStore holds the current one. snapshot_store_publish() builds a new one from the
 *   engine and swaps it in under a short lock; its caller holds the engine lock (operations and
 *   reconcile publish when they end, SIGHUP after the new configuration is set). An operation
 *   answers its client before it publishes (snapshot_store_expect): reads wait for that publish,
 *   so what an answer reported is in every snapshot read after it.
 * - Freshness: snapshot_store_peek() answers the current snapshot as it is, and asks for nothing.
 *   snapshot_store_get() answers the current snapshot. While reads keep coming, the
 *   store's refresher thread rebuilds it once it is 1 s old, so no request pays for a rebuild; it
 *   rebuilds only when a read asked for a fresher one since its last round (an idle daemon does no
 *   work). The first read after 2 s without reads rebuilds it itself, as the daemon is idle then.
 *   Neither rebuilds while an operation is pending (snapshot_store_hold: the operation publishes
 *   when it ends) nor ever waits for the engine lock (trylock).
 * - A snapshot whose state could not be read has error set and no shares or pools: every read
 *   of it answers 500 with that message, never an empty list and never a 404.
 * - Pools: the shares that are ready or resizing and whose pool definition could be made. With a
 *   configured [server] address each pool's JSON is rendered once per snapshot (json); without
 *   one the host is the local address the asking client reached (snapshot_pool_render).
 * - Pool generation: pools_generation counts the snapshots whose pool definitions differ from
 *   the previous one's, ignoring the live sizes (capacity, allocation, available): names, uuids,
 *   sources, targets, statuses, export clients, volume manifests, the configured address. When
 *   it changes, the store calls its on_pools_changed callback (after the swap, from the thread
 *   that published), so long polls can answer (GET /v1/pools?wait=).
 */
#pragma once

#include <stdbool.h>

#include <glib.h>
#include <json-c/json.h>

#include "engine.h"
#include "exports_client.h"
#include "pooldef.h"

typedef struct SnapshotPool {
        char *name;
        PoolDef *def;        /* host is a placeholder: see snapshot_pool_render() */
        char *status;        /* the share's status */
        GPtrArray *clients;  /* ExportsClientSpec*: the share's export clients that parse */
        char *json_defs;     /* the pool's JSON text for the configured address without the live
                              * sizes (see snapshot_pool_json), rendered with the snapshot (its
                              * digest is made of it); NULL when the host depends on the client */
        char *json;          /* the same with the sizes: snapshot_pool_text() renders it at its
                              * first use (operations publish far more often than hosts read) */
        gsize json_once;
} SnapshotPool;

typedef struct Snapshot {
        gint refs;
        gint64 taken;        /* monotonic */
        GPtrArray *shares;   /* ShareInfo*, by name (engine_list) */
        json_object *shares_json; /* array: share_json() of each of shares, in the same order */
        GPtrArray *pools;    /* SnapshotPool* */
        char *address;       /* configured [server] address or NULL */
        char *config_path;
        const char *export_server; /* the export server's name ("kernel", "ganesha"): static */
        bool exports_ok;     /* every ready share is in the exports block */
        char *error;         /* the state could not be read (see above); NULL when it was */
        char *pools_digest;  /* SHA-256 of the pool definitions without live sizes */
        guint64 pools_generation;
} Snapshot;

Snapshot *snapshot_ref(Snapshot *s);
void snapshot_unref(Snapshot *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Snapshot, snapshot_unref)

/* The share of that name, and its JSON in *ret_json (borrowed; ret_json may be NULL); NULL when
 * the snapshot has no such share. */
const ShareInfo *snapshot_share(const Snapshot *s, const char *name, json_object **ret_json);

/* The pool of that name; NULL when the share has no pool (not ready, or no such share). */
const SnapshotPool *snapshot_pool(const Snapshot *s, const char *name);

/* The pool's JSON text for the configured [server] address, with or without the live sizes,
 * rendered once per snapshot (the one with sizes at its first use, by whichever thread asks
 * first); NULL without a configured address or when it cannot be rendered. */
const char *snapshot_pool_text(const Snapshot *s, const SnapshotPool *p, bool sizes);

/* Whether a host at this address may mount the pool: one of the share's export clients admits it
 * (exports_client_match: host names and netgroups admit no address). */
bool snapshot_pool_admits(const SnapshotPool *p, const ExportsAddress *address);

/* The pool with the host a client should use: the configured address, else host_hint (the local
 * address the client reached); -EINVAL with one line when there is neither. xml_only: only
 * *ret_xml is set (the libvirt XML); else only *ret_json (pooldef_to_json + "xml" + "status"). */
int snapshot_pool_render(const Snapshot *s, const SnapshotPool *p, const char *host_hint, bool xml_only,
                         json_object **ret_json, char **ret_xml, GError **error);

/* Like snapshot_pool_render's JSON; without sizes the capacity, allocation and available are
 * left out (of the JSON and of its "xml"): what changes only when the definition does. */
int snapshot_pool_json(const Snapshot *s, const SnapshotPool *p, const char *host_hint, bool sizes,
                       json_object **ret_json, GError **error);

typedef struct SnapshotStore SnapshotStore;

/* Build the first snapshot (nothing else may use the engine yet) and start the refresher thread.
 * engine and engine_lock are borrowed and must outlive the store. */
SnapshotStore *snapshot_store_new(Engine *engine, GMutex *engine_lock);
/* Stop the refresher thread (waits for a rebuild in progress). Called by snapshot_store_free(). */
void snapshot_store_stop(SnapshotStore *st);
void snapshot_store_free(SnapshotStore *st);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SnapshotStore, snapshot_store_free)

/* The current snapshot (a new reference), fresh as described above. */
Snapshot *snapshot_store_get(SnapshotStore *st);
/* The current snapshot as it is (a new reference), asking for no rebuild: it may be older than
 * 1 s, as old as the last publish or rebuild (one whose state could not be read: as
 * snapshot_store_get, which retries). For reads of what only operations, reconcile and a new
 * configuration change, which publish when they end: the pool definitions without live sizes
 * (GET /v1/pools?sizes=false), so that hosts polling them cost no rebuild, and the guard's list
 * of shares to watch (read every second; an idle daemon does no work). Not for live values
 * (sizes, usage, mount state changed by hand): those need snapshot_store_get. */
Snapshot *snapshot_store_peek(SnapshotStore *st);

/* Call fn(data) after each publish that changes pools_generation (set it before requests come). */
void snapshot_store_on_pools_changed(SnapshotStore *st, void (*fn)(void *data), void *data);

/* Build a new snapshot and publish it. The caller holds the engine lock. */
void snapshot_store_publish(SnapshotStore *st);

/* An operation ended and the caller (holding the engine lock) publishes next: every read that
 * starts from now on (snapshot_store_get, snapshot_store_peek) waits for that publish, so that
 * the operation's outcome can be answered before the rebuild and a client that reads after the
 * answer still sees what the operation did. The caller must not read the store before it
 * publishes. */
void snapshot_store_expect(SnapshotStore *st);

/* An operation was queued that will publish when it ends: no rebuild on reads until the matching
 * snapshot_store_release() (after its publish). Counted: one release per hold. */
void snapshot_store_hold(SnapshotStore *st);
void snapshot_store_release(SnapshotStore *st);

/* Since when no operation has been pending (monotonic µs, the last release); 0 while one is. */
gint64 snapshot_store_quiet_since(SnapshotStore *st);

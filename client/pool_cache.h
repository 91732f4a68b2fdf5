/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What nfsprov-client sync keeps between runs: each server's last /v1/pools answer (its text) and
 * its ETag, so the next sync asks with If-None-Match and, on 304, works from the kept text.
 *
 * The file (default POOL_CACHE_DEFAULT) is JSON: {"version":1,"servers":[{"url":URL,"etag":TAG,
 * "body":TEXT},...]}. It is a cache: a missing, unreadable or malformed file, or an entry that is
 * not as above, is the same as no entry (the next sync asks without If-None-Match). It is replaced
 * atomically (common/atomic_file), mode 0644, its directory created when missing (0755).
 *
 * One sync at a time: pool_cache_load() takes an exclusive lock (flock) on PATH.lock, waiting for
 * another holder (the timer's sync while watch syncs), and pool_cache_free() releases it. Where
 * the lock file cannot be made, the cache is used without it.
 */
#pragma once

#include <glib.h>

#define POOL_CACHE_DEFAULT "/var/cache/nfsprov/client-pools.json"

typedef struct PoolCache PoolCache;

/* Lock and read path (NULL: an empty cache that is never saved, no lock). Never fails. */
PoolCache *pool_cache_load(const char *path);
void pool_cache_free(PoolCache *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PoolCache, pool_cache_free)

/* The entry of url: 0 with *ret_etag and *ret_body borrowed, or -ENOENT. */
int pool_cache_get(const PoolCache *c, const char *url, const char **ret_etag, const char **ret_body);
/* Set (or replace) the entry of url; etag NULL drops it (an answer without ETag is not kept). */
void pool_cache_set(PoolCache *c, const char *url, const char *etag, const char *body);
/* Write the file when an entry changed since the load: 0 or -errno with one line. */
int pool_cache_save(PoolCache *c, GError **error);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The pools the servers define: GET URL/v1/pools from each nfsprovd (libcurl), every definition
 * parsed and validated (common/pooldef), then merged into one list for this host.
 *
 * Merging: a pool offered by two servers with the same definition (one server reached by two
 * URLs) is kept once. Two servers offering the same pool name, or the same uuid, with different
 * definitions is a conflict: the pool is kept with `conflict` set, and no server's version is
 * applied.
 */
#pragma once

#include <glib.h>

#include "pooldef.h"

typedef struct FetchOptions {
        const char *token;    /* bearer token, or NULL */
        const char *ca_file;  /* CA bundle for https, or NULL (system default) */
        long timeout_s;       /* whole request; 0 = 30 s (plus the wait of a long poll) */
        const gint *cancel;   /* when set and non-zero (g_atomic_int_get), a request in progress ends
                               * at once (within about a second) with -ECANCELED */
} FetchOptions;

/* GET url + "/v1/pools". Returns a GPtrArray of PoolDef*, in the server's order.
 * -ECONNREFUSED/-ETIMEDOUT/-EHOSTUNREACH (cannot reach; libcurl's reason in the message),
 * -EACCES (HTTP 401/403, with the server's own message), -EPROTO (another status or not JSON
 * of the documented shape), -EINVAL (a definition fails validation: it names the pool and the
 * field). On failure nothing is returned: one bad definition discards that server's answer. */
int server_fetch_pools(const char *url, const FetchOptions *opts, GPtrArray **ret, GError **error);

/* A conditional GET (server_fetch_pools_if). */
typedef struct PoolsAnswer {
        bool not_modified;    /* 304: the definitions the ETag given names are current */
        GPtrArray *pools;     /* PoolDef*, parsed and validated; NULL when not_modified */
        char *etag;           /* the answer's ETag (also with 304), or NULL when it sent none */
        char *body;           /* the answer's text (200), what server_parse_pools() reads again */
} PoolsAnswer;

void pools_answer_free(PoolsAnswer *a);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PoolsAnswer, pools_answer_free)

/* GET url + "/v1/pools?sizes=false" (the definitions without the live sizes: they change only
 * when a definition does), with "If-None-Match: etag" when etag is not NULL, and "&wait=wait_s"
 * when wait_s > 0 (the server answers when the definitions change, or 304 after wait_s
 * seconds). Errors as server_fetch_pools(), and -ECANCELED (opts->cancel). */
int server_fetch_pools_if(const char *url, const FetchOptions *opts, const char *etag, unsigned wait_s,
                          PoolsAnswer **ret, GError **error);

/* The text of a /v1/pools answer from url, parsed and validated as server_fetch_pools() does. */
int server_parse_pools(const char *url, const char *body, GPtrArray **ret, GError **error);

typedef struct WantedPool {
        PoolDef *def;     /* the server's definition (of the first server, for a conflict) */
        char *server;     /* URL of the server that offers it (the first, for a conflict) */
        char *conflict;   /* NULL, or one line: which servers disagree, and how */
} WantedPool;

void wanted_pool_free(WantedPool *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(WantedPool, wanted_pool_free)

/* Merge the answers: `urls[i]` gave `answers[i]` (GPtrArray of PoolDef*, NULL for a server that
 * could not be asked). Returns a GPtrArray of WantedPool* sorted by pool name. */
GPtrArray *server_merge_pools(const char *const *urls, GPtrArray *const *answers, size_t n);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Seed 000's confirmation steps for one pool, as data: how this host's pools compare with the
 * definition a server gives (pool_check_wanted), or, for a pool no server is asked about, with
 * its own definition (pool_check_local). Pure: reads only the pools given and the mount table.
 *
 * Conflicts are the cases the client must never "fix" because the pool in the way is someone
 * else's: a pool of that name with another uuid, a pool with that uuid under another name,
 * another pool on the same HOST:DIR (libvirt's "Storage source conflict") or on the same target
 * path, and two servers disagreeing (set by the caller from server_merge_pools).
 */
#pragma once

#include <stdbool.h>

#include <glib.h>
#include <json-c/json.h>

#include "host_pools.h"
#include "pooldef.h"

typedef enum Check {
        CHECK_DEFINED,    /* a pool of that name exists */
        CHECK_PERSISTENT, /* ... and is persistent (storage/NAME.xml) */
        CHECK_TYPE,       /* type netfs */
        CHECK_UUID,
        CHECK_HOST,
        CHECK_SOURCE,     /* source dir */
        CHECK_FORMAT,     /* source format nfs */
        CHECK_PROTOCOL,   /* protocol version */
        CHECK_TARGET,     /* target path */
        CHECK_AUTOSTART,
        CHECK_ACTIVE,
        CHECK_MOUNTED,    /* the target has HOST:DIR mounted (in the mount table) */
        CHECK_VOLUMES,    /* libvirt's volume list of the pool is the server's manifest (pool_check_volumes) */
        CHECK_NFS3,       /* --nfs-check: HOST:DIR served rw to root over NFSv3 (nfs_probe) */
        _CHECK_MAX,
} Check;

/* The fields sync compares for drift: a difference there needs a redefinition. */
#define CHECK_IS_DEFINITION(c) ((c) >= CHECK_TYPE && (c) <= CHECK_TARGET && (c) != CHECK_UUID)

typedef enum CheckState {
        CHECK_NA = 0, /* not applicable (e.g. the pool is not defined) */
        CHECK_OK,
        CHECK_FAIL,
        CHECK_UNKNOWN, /* cannot be told, and not a failure (a server that does not report volumes) */
} CheckState;

/* "defined", "persistent", "type", "uuid", "host", "source", "format", "protocol", "target",
 * "autostart", "active", "mounted", "volumes", "nfs3" */
const char *check_to_string(Check c);

typedef struct Problem {
        Check check;
        char *want;   /* the server's value, or NULL */
        char *have;   /* this host's value, or NULL */
        char *text;   /* one line, e.g. "source: server has /a, host has /b" */
} Problem;

typedef struct PoolStatus {
        char *name;
        char *uuid;               /* the server's (wanted) or the host's (local) */
        const HostPool *pool;     /* the host's pool of that name (borrowed), or NULL */
        CheckState check[_CHECK_MAX];
        GPtrArray *problems;      /* Problem*, in check order */
        char *conflict;           /* one line, or NULL */
} PoolStatus;

void pool_status_free(PoolStatus *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PoolStatus, pool_status_free)

/* Compare `want` with the host's pools (`host`: GPtrArray of HostPool*, borrowed by the result,
 * which must not outlive it). `server_conflict`: the merge's conflict line, or NULL. `mountinfo`:
 * NULL for /proc/self/mountinfo. -errno only when the mount table cannot be read. */
int pool_check_wanted(const PoolDef *want, const char *server_conflict, GPtrArray *host, const char *mountinfo,
                      PoolStatus **ret, GError **error);

/* The checks that need no server: persistent, autostart, active, and for a netfs pool that its
 * target has its own source mounted. */
int pool_check_local(const HostPool *p, const char *mountinfo, PoolStatus **ret, GError **error);

/* The Volumes check, for a pool whose libvirt volume list was read (`host_volumes`: HostVolume*,
 * NULL when it was not: the pool is not active, so the check does not apply): OK when libvirt
 * lists exactly the server's volumes with the server's capacity and format (volume_compare.h),
 * else FAIL with one problem per volume naming it ("volume vm2.qcow2 is on the server but libvirt
 * does not list it"); UNKNOWN when the server does not report volumes (want->volumes NULL). */
void pool_check_volumes(PoolStatus *s, const PoolDef *want, const GPtrArray *host_volumes);

/* Record the result of a check made elsewhere (nfs_probe): OK, or FAIL with one line. */
void pool_status_set(PoolStatus *s, Check c, const char *failure);

/* All checks that apply passed, and no conflict. */
bool pool_status_ok(const PoolStatus *s);
/* Some field of the persistent definition differs from the server's (drift to redefine). */
bool pool_status_has_drift(const PoolStatus *s);

/* {"defined":true,...} with null for not applicable and "unknown" for unknown (new reference);
 * "nfs3" only when it was checked. */
json_object *pool_status_checks_json(const PoolStatus *s);
/* ["not active", ...] (new reference). */
json_object *pool_status_problems_json(const PoolStatus *s);

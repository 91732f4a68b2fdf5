/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A pool's volumes as the server records them (its manifest: PoolDef.volumes) beside the volumes
 * libvirt on this host lists (host_list_volumes), matched by name. Pure.
 *
 * Per name, one row:
 *   ok              on both, same capacity, libvirt's format is the server's
 *   missing on host the server has it, libvirt does not list it (the pool was not refreshed
 *                   since the volume was made: nfsprov-client sync refreshes)
 *   not on server   libvirt lists it, the server does not (a file nfsprov did not make, or one
 *                   deleted on the server since libvirt's last refresh)
 *   differs         on both, but the capacity or the format differs (say which)
 * "lost+found" in libvirt's list (the share filesystem's own directory) is not a volume and is
 * left out.
 */
#pragma once

#include <stdbool.h>

#include <glib.h>
#include <json-c/json.h>

#include "host_pools.h"
#include "pooldef.h"

typedef enum VolumeState {
        VOLUME_OK,
        VOLUME_MISSING_ON_HOST,
        VOLUME_NOT_ON_SERVER,
        VOLUME_DIFFERS,
} VolumeState;

/* "ok", "missing on host", "not on server", "differs" */
const char *volume_state_to_string(VolumeState s);

typedef struct VolumeRow {
        const char *name;
        const PoolVolume *server; /* borrowed; NULL when not on the server */
        const HostVolume *host;   /* borrowed; NULL when libvirt does not list it */
        VolumeState state;
        char *why;                /* DIFFERS: "capacity: server has N, libvirt has M" (and/or format) */
} VolumeRow;

void volume_row_free(VolumeRow *r);

/* Rows sorted by name (byte order), borrowing from both lists (which must outlive them).
 * `server`: PoolVolume*; `host`: HostVolume*. */
GPtrArray *volumes_compare(const GPtrArray *server, const GPtrArray *host);

/* All rows ok. */
bool volumes_all_ok(const GPtrArray *rows);

/* One line per row that is not ok, e.g. "volume vm2.qcow2 is on the server but libvirt does not
 * list it". */
char *volume_row_problem(const VolumeRow *r);

/* {"name","state","server":{"capacity","format"}|null,"host":{"capacity","allocation","format",
 * "path"}|null[,"why"]} (new reference). */
json_object *volume_row_json(const VolumeRow *r);

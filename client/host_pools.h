/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The storage pools of this KVM host, through the libvirt C API (never virsh).
 *
 * host_open() connects to a libvirt URI (qemu:///system on a real host; test:///default in unit
 * tests; a private daemon's storage+unix://...?socket=... in integration tests) and silences
 * libvirt's default error printer: every failure comes back as a GError carrying libvirt's own
 * message text, and is printed once by the caller that handles it.
 *
 * host_list_pools() reads every pool once: name, uuid, type, persistent (inactive) definition,
 * running definition, state, autostart and sizes. Pools come sorted by name (byte order).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>
#include <libvirt/libvirt.h>

#include "pooldef.h"

typedef struct HostPool {
        char *name;
        char *uuid;
        char *type;        /* "netfs", "dir", ... ; NULL if libvirt's XML could not be read */
        PoolDef *def;      /* netfs only: the persistent definition (the inactive XML) */
        PoolDef *live;     /* netfs only, active only: the definition the pool runs with */
        char *def_error;   /* netfs only: why def is NULL (libvirt's XML did not parse) */
        bool active;
        bool persistent;
        bool autostart;
        uint64_t capacity, allocation, available; /* virStoragePoolGetInfo; 0 when inactive */
} HostPool;

void host_pool_free(HostPool *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HostPool, host_pool_free)

typedef struct Host Host;

/* Connect to `uri`. -ECONNREFUSED (or the errno libvirt gives) with libvirt's message on failure. */
int host_open(const char *uri, Host **ret, GError **error);
void host_close(Host *h);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Host, host_close)

/* Every pool on the host, as a GPtrArray of HostPool* (owned, freed with the array), sorted by
 * name. -EIO with libvirt's message when listing fails; a pool that vanishes while it is being
 * read (another client undefined it) is left out. */
int host_list_pools(Host *h, GPtrArray **ret, GError **error);

/* Re-read one pool by name. -ENOENT when there is no such pool. */
int host_get_pool(Host *h, const char *name, HostPool **ret, GError **error);

/* The libvirt connection, for the modules that ask it about more than pools (pool_users). */
virConnectPtr host_connection(Host *h);

/* Define (or redefine: same name and uuid) a pool persistently from `def` (sizes are not sent).
 * libvirt writes its config dir's storage/NAME.xml. Errors carry libvirt's text, e.g. "operation
 * failed: Storage source conflict with pool: 'X'". */
int host_define(Host *h, const PoolDef *def, GError **error);
int host_set_autostart(Host *h, const char *name, GError **error);
/* virStoragePoolBuild: create the target directory with the pool's permissions. */
int host_build(Host *h, const char *name, GError **error);
/* virStoragePoolCreate: start (for netfs: mount HOST:DIR on the target). */
int host_start(Host *h, const char *name, GError **error);
/* virStoragePoolDestroy: stop (for netfs: unmount). libvirt refuses while jobs run on the pool,
 * and the kernel refuses to unmount a busy target; both come back as the error. */
int host_stop(Host *h, const char *name, GError **error);

/* virStoragePoolRefresh: libvirt re-reads the pool's target directory, so its volume list is
 * what is on the share now. libvirt refuses while the pool has jobs running (the error comes
 * back); note that libvirt stops a pool whose refresh fails. */
int host_refresh(Host *h, const char *name, GError **error);

/* One volume of a pool as libvirt lists it. */
typedef struct HostVolume {
        char *name;
        char *path;         /* libvirt's key: the file's path under the target */
        char *format;       /* <target><format type='...'/> of the volume's XML ("qcow2", "raw", "dir"...), or NULL */
        uint64_t capacity;  /* virStorageVolGetInfo: virtual size for qcow2 */
        uint64_t allocation;
} HostVolume;

void host_volume_free(HostVolume *v);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HostVolume, host_volume_free)

/* The volumes libvirt lists for the active pool `name` (virStoragePoolListAllVolumes: libvirt's
 * view as of its last refresh or start; nothing is re-read here), as a GPtrArray of HostVolume*
 * sorted by name (byte order). -ENOENT (no such pool), -EBUSY (the pool is not active) or -EIO,
 * with libvirt's text. A volume deleted while it is being read is left out. */
int host_list_volumes(Host *h, const char *name, GPtrArray **ret, GError **error);

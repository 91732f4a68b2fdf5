/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Is a netfs pool's target really mounted from its source? libvirt can report a netfs pool
 * active while its mount is gone (unmounted behind its back), so the client looks for itself,
 * in the mount table (libmount reading /proc/self/mountinfo: the caller must run in the mount
 * namespace libvirtd mounts in, as it does on a real host).
 *
 * The source is compared the way libvirt 9 does (virStorageBackendFileSystemIsMounted): the
 * topmost mount on the target must have the source "HOST:DIR" ("[HOST]:DIR" for an IPv6 host).
 */
#pragma once

#include <stdbool.h>

#include <glib.h>

#include "pooldef.h"

/* The source string libvirt mounts for `def`: "HOST:DIR", or "[HOST]:DIR" when HOST has a ':'. */
char *target_mount_source(const PoolDef *def);

/* Look up def->target_path in `mountinfo` (NULL: /proc/self/mountinfo). *ret_mounted: something
 * is mounted there; *ret_source: that mount's source (NULL when nothing is mounted; may differ
 * from target_mount_source(def)). -errno with one line when the table cannot be read. */
int target_mount_lookup(const char *mountinfo, const PoolDef *def, bool *ret_mounted, char **ret_source,
                        GError **error);

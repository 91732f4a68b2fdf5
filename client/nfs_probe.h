/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * NFSv3 preflight, from this host, with libnfs (a userspace NFS client: no kernel NFS, no mount):
 * is HOST:DIR exported to this host over NFSv3, and may root on this host read and write its
 * root directory? The answer comes from the server itself (MOUNT3 + NFSv3 ACCESS): a read-only
 * export, an export with root_squash on a root-owned share root, or a server without NFSv3
 * fails here with one line, before libvirt would fail to mount it (or mount it unusable).
 * Nothing is written to the share.
 */
#pragma once

#include <glib.h>

#include "pooldef.h"

/* 0 when the export is served over NFSv3 and root has read, write and search access to its root;
 * else -errno with one line: -EHOSTUNREACH/-ECONNREFUSED (no MOUNT/NFS service reachable; libnfs's
 * reason), -EACCES (mounted but no write access: read-only export or root squashed), or the
 * mount's error. timeout_ms bounds each call (0: 10 s). */
int nfs_probe(const PoolDef *def, int timeout_ms, GError **error);

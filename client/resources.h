/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The orchestrator's view of this host (seed 000): every netfs pool as the virtual storage
 * resource it becomes.
 *   - The resource name is the pool name with every character other than 0-9 A-Z a-z - _
 *     replaced by "-" (name_to_resource).
 *   - A pool whose name has a multi-byte character is not detected; nor is one whose name, uuid,
 *     server address, source path or target path holds a character seed 000 forbids (blank
 *     space, double-byte, yen mark or backslash, quotes, semicolon, parentheses). Such pools are
 *     listed as skipped, with the reason.
 *   - Pools are taken in name order; when a resource name is already taken, "_1", "_2", ... is
 *     appended (the first free one).
 */
#pragma once

#include <stdint.h>

#include <glib.h>

typedef struct Resource {
        char *resource;  /* NULL when skipped */
        char *pool;
        char *uuid;
        uint64_t capacity, allocation, available;
        char *skipped;   /* the reason, or NULL */
} Resource;

void resource_free(Resource *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Resource, resource_free)

/* From a GPtrArray of HostPool* (any order; non-netfs pools are ignored): a GPtrArray of
 * Resource*, in pool-name order. */
GPtrArray *resources_from_pools(GPtrArray *host_pools);

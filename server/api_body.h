/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The request bodies of nfsprovd's API, parsed and validated without touching anything else
 * (pure: no engine, no I/O, no logging), so that it can be fuzzed on its own.
 *
 * Contract:
 * - The bytes of a body are read once, by http.c with json_body_parse() (server/json_body.h: one
 *   strict JSON value); api_body_parse() takes that value (borrowed; NULL for an empty body) and
 *   either fills a new ApiShareRequest or fails with -EINVAL and one line in error saying what is
 *   wrong and what is allowed. It never crashes and never leaks on any value.
 * - The body must be a JSON object whose keys are all allowed for the kind:
 *     API_BODY_CREATE: "name" (required, a valid share name, name_validate_share), "size" (text
 *                      like "50G" (size_parse) or a positive integer of bytes), "disk" (a
 *                      non-empty string), "clients" (a non-empty array of exports(5) client
 *                      specifications, each checked with exports_client_check), "force" (bool).
 *     API_BODY_RESIZE: "size" (required, as above).
 *   A key given as null counts as absent. Strings must not contain NUL characters.
 * - Result: name is NULL for API_BODY_RESIZE; size 0 when absent; disk NULL when absent;
 *   clients NULL when absent, else NULL-terminated.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>
#include <json-c/json.h>

typedef struct ApiShareRequest {
        char *name;
        uint64_t size;
        char *disk;
        char **clients;
        bool force;
        char *guard;            /* create (optional), guard (required): a guard mode name */
        char *path;             /* finding: a path in the share, as the audit names it */
                                /* restore: the quarantined item in name */
} ApiShareRequest;

void api_share_request_free(ApiShareRequest *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ApiShareRequest, api_share_request_free)

typedef enum ApiBodyKind {
        API_BODY_CREATE, /* POST /v1/shares */
        API_BODY_RESIZE, /* POST /v1/shares/NAME/resize: only "size" */
        API_BODY_GUARD,  /* POST /v1/shares/NAME/guard: only "mode" */
        API_BODY_FINDING, /* POST /v1/shares/NAME/audit/{adopt,remove,quarantine}: only "path" (non-empty) */
        API_BODY_RESTORE, /* POST /v1/shares/NAME/audit/restore: only "name" (a quarantined item, non-empty) */
} ApiBodyKind;

/* Validate the JSON body of POST /v1/shares (kind API_BODY_CREATE) or POST
 * /v1/shares/NAME/resize (API_BODY_RESIZE: only "size"); body as http_request_json() gives it.
 * 0, or -EINVAL with one line; never crashes on any value. */
int api_body_parse(ApiBodyKind kind, json_object *body, ApiShareRequest **ret, GError **error);

/* Volumes:
 *     API_BODY_VOL_CREATE: "name" (required, name_validate_volume), "capacity" (a size as "size"
 *                          above; required unless "backing"), "backing" (a volume name).
 *     API_BODY_VOL_CLONE:  "name" (required: the new volume), "linked" (bool).
 *     API_BODY_VOL_RESIZE: "capacity" (required), "shrink" (bool).
 * Same rules as above: unknown keys refused, null is absent, -EINVAL with one line. */
typedef struct ApiVolumeRequest {
        char *name;
        uint64_t capacity;
        char *backing;
        bool linked;
        bool shrink;
} ApiVolumeRequest;

void api_volume_request_free(ApiVolumeRequest *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ApiVolumeRequest, api_volume_request_free)

typedef enum ApiVolumeBodyKind {
        API_BODY_VOL_CREATE, /* POST /v1/shares/NAME/volumes */
        API_BODY_VOL_CLONE,  /* POST /v1/shares/NAME/volumes/VOL/clone */
        API_BODY_VOL_RESIZE, /* POST /v1/shares/NAME/volumes/VOL/resize */
} ApiVolumeBodyKind;

int api_volume_body_parse(ApiVolumeBodyKind kind, json_object *body, ApiVolumeRequest **ret, GError **error);

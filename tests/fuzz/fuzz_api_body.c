/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for the API's request bodies: every input is read as nfsprovd reads a body
 * (json_body_parse(), server/json_body.h, as http.c does) and handed to api_body_parse()
 * (server/api_body.h) as a create body and as a resize body, and the contract is checked on the
 * result:
 * - on success *ret is set and error is not; on failure *ret is left untouched and error is an
 *   NP_ERROR whose code is the errno returned, with a non-empty message; unless
 *   FUZZ_API_BODY_STRICT=0, also: the errno is EINVAL and the message is one line of UTF-8;
 * - create: name is a valid share name (name_validate_share), disk is NULL or a non-empty
 *   string, clients NULL or a non-empty NULL-terminated list of valid client specifications
 *   (config_check_client); size is > 0 whenever the body has a non-null "size";
 * - resize: size > 0, and nothing else is set; guard (POST .../guard): a valid guard mode and
 *   nothing else; create's "guard", when set, a valid mode; finding (.../audit/adopt and
 *   .../remove): a non-empty path and nothing else;
 * - and as the three volume bodies (api_volume_body_parse()), with the same failure contract:
 *   vol-create has a valid volume name (name_validate_volume) and a capacity > 0 or a valid
 *   backing volume; clone a valid name and no capacity, backing or shrink; resize a capacity
 *   > 0 and no name, backing or linked;
 * - parsing is deterministic: the same bytes give the same result twice;
 * - the input bytes are not modified.
 * A violated invariant aborts, which libFuzzer reports as a crash with the input saved.
 * Leaks and memory errors are found by the sanitizers this is built with.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <json-c/json.h>

#include "api_body.h"
#include "error.h"
#include "json_autoptr.h"
#include "json_body.h"
#include "fuzz_common.h"
#include "guard_mode.h"
#include "name.h"
#include "settings.h"

/* For fuzz_common.c, linked for its fatal GLib warnings. */
const char fuzz_target_name[] = "fuzz_api_body";


/* The checks on failures beyond "an NP_ERROR whose code is the errno returned": the errno is
 * -EINVAL and the message is one line of UTF-8 (it goes into a JSON error response). On unless
 * the environment has FUZZ_API_BODY_STRICT=0 (see tests/fuzz/run-fuzz.sh for why it may be off). */
static bool strict_messages = true;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) {
        const char *v = getenv("FUZZ_API_BODY_STRICT");
        strict_messages = !(v && strcmp(v, "0") == 0);
        return 0;
}

static const char *kind_name(ApiBodyKind kind) {
        return kind == API_BODY_CREATE   ? "create"
               : kind == API_BODY_RESIZE ? "resize"
               : kind == API_BODY_GUARD  ? "guard"
                                         : "finding";
}

static bool guard_valid(const char *mode) {
        GuardMode m;
        return guard_mode_parse(mode, &m, NULL) == 0;
}

/* Whether the body, read by json-c as a whole, is an object with a non-null "size". -1 when
 * json-c does not read it as one complete object (then nothing is concluded). */
static int body_has_size(const char *body, size_t len) {
        if (len > INT32_MAX)
                return -1;
        json_tokener *tok = json_tokener_new();
        if (!tok)
                return -1;
        json_object *o = json_tokener_parse_ex(tok, body, (int) len);
        int r = -1;
        if (o && json_tokener_get_error(tok) == json_tokener_success && json_object_is_type(o, json_type_object)) {
                json_object *v = NULL;
                r = json_object_object_get_ex(o, "size", &v) && v;
        }
        json_object_put(o);
        json_tokener_free(tok);
        return r;
}

static void check_request(ApiBodyKind kind, const ApiShareRequest *req, const char *body, size_t len) {
        g_autoptr(GError) error = NULL;
        if (kind == API_BODY_RESIZE) {
                FUZZ_CHECK(req->size > 0, "resize succeeded without a size");
                FUZZ_CHECK(!req->name && !req->disk && !req->clients && !req->force && !req->guard,
                      "resize succeeded with create-only fields set");
                return;
        }
        if (kind == API_BODY_FINDING) {
                FUZZ_CHECK(req->path && req->path[0], "finding succeeded without a path");
                FUZZ_CHECK(!req->name && !req->disk && !req->clients && !req->force && req->size == 0 && !req->guard,
                           "finding succeeded with other fields set");
                return;
        }
        if (kind == API_BODY_GUARD) {
                FUZZ_CHECK(req->guard && guard_valid(req->guard), "guard succeeded without a valid mode");
                FUZZ_CHECK(!req->name && !req->disk && !req->clients && !req->force && req->size == 0,
                           "guard succeeded with other fields set");
                return;
        }
        FUZZ_CHECK(!req->guard || guard_valid(req->guard), "create accepted the guard mode \"%s\"", req->guard);
        FUZZ_CHECK(req->name, "create succeeded without a name");
        FUZZ_CHECK(name_validate_share(req->name, &error) == 0, "create accepted the share name \"%s\": %s",
              req->name, error ? error->message : "?");
        FUZZ_CHECK(!req->disk || req->disk[0], "create accepted an empty disk");
        if (req->clients) {
                FUZZ_CHECK(req->clients[0], "create accepted an empty client list");
                for (char **c = req->clients; *c; c++) {
                        FUZZ_CHECK(**c, "create accepted an empty client");
                        g_clear_error(&error);
                        FUZZ_CHECK(config_check_client(*c, &error) == 0, "create accepted the client \"%s\": %s", *c,
                              error ? error->message : "?");
                }
        }
        if (req->size == 0)
                FUZZ_CHECK(body_has_size(body, len) != 1, "create accepted a \"size\" that parsed to 0 bytes");
}

static bool same_request(const ApiShareRequest *a, const ApiShareRequest *b) {
        if (g_strcmp0(a->name, b->name) != 0 || a->size != b->size || g_strcmp0(a->disk, b->disk) != 0 ||
            a->force != b->force || !a->clients != !b->clients || g_strcmp0(a->guard, b->guard) != 0 ||
            g_strcmp0(a->path, b->path) != 0)
                return false;
        return !a->clients || g_strv_equal((const char *const *) a->clients, (const char *const *) b->clients);
}

/* The bytes of a body as nfsprovd reads them: once, in http.c, then api_body_parse(). */
static int parse_request(ApiBodyKind kind, const char *body, size_t len, ApiShareRequest **ret, GError **error) {
        g_autoptr(json_object) o = NULL;
        int r = json_body_parse(body, len, &o, error);
        return r < 0 ? r : api_body_parse(kind, o, ret, error);
}

static void run_one(ApiBodyKind kind, const char *body, size_t len) {
        ApiShareRequest *const sentinel = (ApiShareRequest *) (uintptr_t) 0x1;
        ApiShareRequest *req = sentinel;
        g_autoptr(GError) error = NULL;
        int r = parse_request(kind, body, len, &req, &error);

        FUZZ_CHECK(r <= 0, "%s returned %d", kind_name(kind), r);
        if (strict_messages)
                FUZZ_CHECK(r == 0 || r == -EINVAL, "%s returned %d, not 0 or -EINVAL", kind_name(kind), r);
        if (r < 0) {
                FUZZ_CHECK(req == sentinel, "%s failed but set *ret", kind_name(kind));
                FUZZ_CHECK(error, "%s failed without an error message", kind_name(kind));
                FUZZ_CHECK(error->domain == NP_ERROR && error->code == -r,
                      "%s failed with %d but an error of another domain or code (%d): %s", kind_name(kind), r,
                      error->code, error->message);
                FUZZ_CHECK(error->message && error->message[0], "%s failed with an empty message", kind_name(kind));
                if (strict_messages) {
                        FUZZ_CHECK(!strchr(error->message, '\n'), "%s failed with a message of several lines: %s",
                              kind_name(kind), error->message);
                        FUZZ_CHECK(g_utf8_validate(error->message, -1, NULL),
                              "%s failed with a message that is not UTF-8 (it goes into a JSON response)",
                              kind_name(kind));
                }
        } else {
                FUZZ_CHECK(!error, "%s succeeded but set an error: %s", kind_name(kind), error->message);
                FUZZ_CHECK(req && req != sentinel, "%s succeeded without a result", kind_name(kind));
                check_request(kind, req, body, len);
        }

        /* The same bytes again: the same outcome. */
        ApiShareRequest *again = NULL;
        g_autoptr(GError) error2 = NULL;
        int r2 = parse_request(kind, body, len, &again, &error2);
        FUZZ_CHECK(r2 == r, "%s is not deterministic: %d then %d", kind_name(kind), r, r2);
        if (r == 0) {
                FUZZ_CHECK(same_request(req, again), "%s is not deterministic: two parses differ", kind_name(kind));
                api_share_request_free(again);
                api_share_request_free(req);
        } else
                FUZZ_CHECK(g_strcmp0(error->message, error2->message) == 0, "%s gives two messages: %s / %s",
                      kind_name(kind), error->message, error2->message);
}

static const char *vol_kind_name(ApiVolumeBodyKind kind) {
        return kind == API_BODY_VOL_CREATE ? "vol-create" : kind == API_BODY_VOL_CLONE ? "vol-clone" : "vol-resize";
}

static void check_volume_request(ApiVolumeBodyKind kind, const ApiVolumeRequest *req) {
        const char *k = vol_kind_name(kind);
        g_autoptr(GError) error = NULL;
        if (kind != API_BODY_VOL_RESIZE) {
                FUZZ_CHECK(req->name, "%s succeeded without a name", k);
                FUZZ_CHECK(name_validate_volume(req->name, &error) == 0, "%s accepted the volume name \"%s\": %s", k,
                      req->name, error ? error->message : "?");
        } else
                FUZZ_CHECK(!req->name, "%s succeeded with a name", k);
        switch (kind) {
        case API_BODY_VOL_CREATE:
                FUZZ_CHECK(req->capacity > 0 || req->backing, "%s succeeded without a capacity or a backing volume", k);
                if (req->backing) {
                        g_clear_error(&error);
                        FUZZ_CHECK(name_validate_volume(req->backing, &error) == 0, "%s accepted the backing \"%s\": %s",
                              k, req->backing, error ? error->message : "?");
                }
                FUZZ_CHECK(!req->linked && !req->shrink, "%s succeeded with clone or resize fields set", k);
                break;
        case API_BODY_VOL_CLONE:
                FUZZ_CHECK(!req->capacity && !req->backing && !req->shrink, "%s succeeded with other fields set", k);
                break;
        case API_BODY_VOL_RESIZE:
                FUZZ_CHECK(req->capacity > 0, "%s succeeded without a capacity", k);
                FUZZ_CHECK(!req->backing && !req->linked, "%s succeeded with other fields set", k);
                break;
        }
}

static bool same_volume_request(const ApiVolumeRequest *a, const ApiVolumeRequest *b) {
        return g_strcmp0(a->name, b->name) == 0 && a->capacity == b->capacity &&
               g_strcmp0(a->backing, b->backing) == 0 && a->linked == b->linked && a->shrink == b->shrink;
}

static int parse_volume_request(ApiVolumeBodyKind kind, const char *body, size_t len, ApiVolumeRequest **ret,
                                GError **error) {
        g_autoptr(json_object) o = NULL;
        int r = json_body_parse(body, len, &o, error);
        return r < 0 ? r : api_volume_body_parse(kind, o, ret, error);
}

static void run_volume(ApiVolumeBodyKind kind, const char *body, size_t len) {
        const char *k = vol_kind_name(kind);
        ApiVolumeRequest *const sentinel = (ApiVolumeRequest *) (uintptr_t) 0x1;
        ApiVolumeRequest *req = sentinel;
        g_autoptr(GError) error = NULL;
        int r = parse_volume_request(kind, body, len, &req, &error);

        FUZZ_CHECK(r <= 0, "%s returned %d", k, r);
        if (strict_messages)
                FUZZ_CHECK(r == 0 || r == -EINVAL, "%s returned %d, not 0 or -EINVAL", k, r);
        if (r < 0) {
                FUZZ_CHECK(req == sentinel, "%s failed but set *ret", k);
                FUZZ_CHECK(error && error->domain == NP_ERROR && error->code == -r && error->message && error->message[0],
                      "%s failed with %d without an NP_ERROR of that code and a message", k, r);
                if (strict_messages)
                        FUZZ_CHECK(!strchr(error->message, '\n') && g_utf8_validate(error->message, -1, NULL),
                              "%s failed with a message that is not one line of UTF-8", k);
        } else {
                FUZZ_CHECK(!error, "%s succeeded but set an error: %s", k, error->message);
                FUZZ_CHECK(req && req != sentinel, "%s succeeded without a result", k);
                check_volume_request(kind, req);
        }

        ApiVolumeRequest *again = NULL;
        g_autoptr(GError) error2 = NULL;
        int r2 = parse_volume_request(kind, body, len, &again, &error2);
        FUZZ_CHECK(r2 == r, "%s is not deterministic: %d then %d", k, r, r2);
        if (r == 0) {
                FUZZ_CHECK(same_volume_request(req, again), "%s is not deterministic: two parses differ", k);
                api_volume_request_free(again);
                api_volume_request_free(req);
        } else
                FUZZ_CHECK(g_strcmp0(error->message, error2->message) == 0, "%s gives two messages: %s / %s", k,
                      error->message, error2->message);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        /* An exact-size heap copy, so that reading past len is caught by ASan (the body need not
         * be NUL-terminated). */
        char *body = malloc(size ? size : 1);
        if (!body)
                return 0;
        if (size)
                memcpy(body, data, size);
        run_one(API_BODY_CREATE, body, size);
        run_one(API_BODY_RESIZE, body, size);
        run_one(API_BODY_GUARD, body, size);
        run_one(API_BODY_FINDING, body, size);
        run_volume(API_BODY_VOL_CREATE, body, size);
        run_volume(API_BODY_VOL_CLONE, body, size);
        run_volume(API_BODY_VOL_RESIZE, body, size);
        FUZZ_CHECK(size == 0 || memcmp(body, data, size) == 0, "parsing modified its input");
        free(body);
        return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for pool definitions in JSON (common/pooldef.h: pooldef_from_json;
 * nfsprov-client reads them from every server's GET /v1/pools). Each input is read as
 * nfsprov-client reads an answer (json_tokener_parse() of the body as a C string); then
 * pooldef_from_json() reads every element of its "pools" array when it has one, else the value
 * itself. Checked:
 * - on failure -EINVAL with one line of UTF-8 (nfsprov-client prints it as "server URL: pool
 *   NAME: MESSAGE") and *ret untouched; anything but an object fails;
 * - on success every string field is set and the sizes are all absent or come from the input;
 * - round trip: pooldef_to_json() printed, parsed and read again gives the same definition (sizes
 *   too) and the same text;
 * - pooldef_validate(): -EINVAL with one line of UTF-8, or fields of the documented form; a valid
 *   definition also goes through libvirt XML (pooldef_to_xml, pooldef_from_xml) unchanged;
 * - the same value is read the same way twice.
 * Leaks and memory errors are found by the sanitizers this is built with.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <json-c/json.h>

#include "fuzz_common.h"
#include "fuzz_pooldef.h"
#include "json_autoptr.h"
#include "pooldef.h"

const char fuzz_target_name[] = "fuzz_pool_json";

/* Pools read from one input at most (an array may be long; each element costs the same). */
#define MAX_POOLS 64

static const int errnos[] = { -EINVAL, 0 };

static void check_one(json_object *o) {
        PoolDef *const sentinel = (PoolDef *) (uintptr_t) 0x1;
        PoolDef *def = sentinel;
        g_autoptr(GError) error = NULL;
        int r = pooldef_from_json(o, &def, &error);

        g_autoptr(PoolDef) again = NULL;
        g_autoptr(GError) error2 = NULL;
        int r2 = pooldef_from_json(o, &again, &error2);
        FUZZ_CHECK(r2 == r, "pooldef_from_json is not deterministic: %d then %d", r, r2);

        if (r < 0) {
                fuzz_check_failure("pooldef_from_json", r, error, errnos);
                FUZZ_CHECK(def == sentinel, "pooldef_from_json failed but set *ret");
                FUZZ_CHECK(strcmp(error->message, error2->message) == 0,
                           "pooldef_from_json gives two messages: %s / %s", error->message, error2->message);
                return;
        }
        g_autoptr(PoolDef) p = def;
        fuzz_check_success("pooldef_from_json", r, error);
        FUZZ_CHECK(p && p != sentinel, "pooldef_from_json succeeded without a result");
        FUZZ_CHECK(json_object_is_type(o, json_type_object), "pooldef_from_json read a value that is not an object");
        fuzz_pooldef_check_complete("pooldef_from_json", p);
        FUZZ_CHECK(fuzz_pooldef_same(p, again), "pooldef_from_json is not deterministic");

        json_object *v = NULL;
        bool sizes = false;
        for (const char *const *k = (const char *const[]) { "capacity", "allocation", "available", NULL }; *k; k++)
                sizes = sizes || (json_object_object_get_ex(o, *k, &v) && v);
        FUZZ_CHECK(p->has_sizes == sizes, "has_sizes is %d for a value %s sizes", p->has_sizes,
                   sizes ? "with" : "without");

        fuzz_pooldef_check_json_round_trip(p);
        if (fuzz_pooldef_check_validate(p))
                fuzz_pooldef_check_xml_round_trip(p, true);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        g_autofree char *text = fuzz_copy_string(data, size);
        g_autoptr(json_object) j = json_tokener_parse(text);

        json_object *list = NULL;
        if (json_object_is_type(j, json_type_object) && json_object_object_get_ex(j, "pools", &list) &&
            json_object_is_type(list, json_type_array)) {
                size_t n = json_object_array_length(list);
                for (size_t i = 0; i < n && i < MAX_POOLS; i++)
                        check_one(json_object_array_get_idx(list, i));
        } else
                check_one(j);
        return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for libvirt pool XML (common/pooldef.h: pooldef_from_xml, pooldef_xml_type;
 * nfsprov-client reads every pool of a host with them). Each input, as a C string (bytes after a
 * NUL are not seen, as with libvirt's strings), is checked as follows:
 * - pooldef_xml_type(): -EINVAL with one line of UTF-8, or a type that is valid UTF-8;
 * - pooldef_from_xml(): on failure -EINVAL with one line of UTF-8 and *ret untouched; on success
 *   every field is set, and pooldef_xml_type() agrees that the pool is "netfs";
 * - round trip: pooldef_to_xml() parses back, for a valid definition (below) to the same one
 *   (sizes too) that renders the same bytes again; for any other one XML may normalize white
 *   space in the first round trip (a newline in an attribute reads as a blank), and a second one
 *   changes nothing;
 * - pooldef_validate(): -EINVAL with one line of UTF-8, or fields of the documented form
 *   (share name, lower-case uuid, canonical absolute paths, nothing seed 000 forbids, format
 *   nfs, protocol 3 or 0, mode <= 07777, ids -1..2^32-2); a valid definition also goes through
 *   JSON (pooldef_to_json, json-c, pooldef_from_json) unchanged;
 * - the same bytes parse the same way twice.
 * Leaks and memory errors are found by the sanitizers this is built with.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "fuzz_common.h"
#include "fuzz_pooldef.h"
#include "pooldef.h"

const char fuzz_target_name[] = "fuzz_pool_xml";

static const int errnos[] = { -EINVAL, 0 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        g_autofree char *xml = fuzz_copy_string(data, size);

        g_autofree char *type = NULL;
        g_autoptr(GError) type_error = NULL;
        int rt = pooldef_xml_type(xml, &type, &type_error);
        if (rt < 0) {
                fuzz_check_failure("pooldef_xml_type", rt, type_error, errnos);
                FUZZ_CHECK(!type, "pooldef_xml_type failed but set *ret_type");
        } else {
                fuzz_check_success("pooldef_xml_type", rt, type_error);
                FUZZ_CHECK(type && g_utf8_validate(type, -1, NULL), "pooldef_xml_type gave no UTF-8 type");
        }

        PoolDef *const sentinel = (PoolDef *) (uintptr_t) 0x1;
        PoolDef *def = sentinel;
        g_autoptr(GError) error = NULL;
        int r = pooldef_from_xml(xml, &def, &error);

        g_autoptr(PoolDef) again = NULL;
        g_autoptr(GError) error2 = NULL;
        int r2 = pooldef_from_xml(xml, &again, &error2);
        FUZZ_CHECK(r2 == r, "pooldef_from_xml is not deterministic: %d then %d", r, r2);

        if (r < 0) {
                fuzz_check_failure("pooldef_from_xml", r, error, errnos);
                FUZZ_CHECK(def == sentinel, "pooldef_from_xml failed but set *ret");
                FUZZ_CHECK(strcmp(error->message, error2->message) == 0, "pooldef_from_xml gives two messages: %s / %s",
                           error->message, error2->message);
                return 0;
        }
        g_autoptr(PoolDef) p = def;
        fuzz_check_success("pooldef_from_xml", r, error);
        FUZZ_CHECK(p && p != sentinel, "pooldef_from_xml succeeded without a result");
        fuzz_pooldef_check_complete("pooldef_from_xml", p);
        FUZZ_CHECK(fuzz_pooldef_same(p, again), "pooldef_from_xml is not deterministic");
        FUZZ_CHECK(rt == 0 && strcmp(type, "netfs") == 0,
                   "pooldef_from_xml read a netfs pool, pooldef_xml_type says %s",
                   rt == 0 ? type : type_error->message);

        bool valid = fuzz_pooldef_check_validate(p);
        fuzz_pooldef_check_xml_round_trip(p, valid);
        if (valid)
                fuzz_pooldef_check_json_round_trip(p);
        return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <json-c/json.h>

#include "fuzz_common.h"
#include "fuzz_pooldef.h"

bool fuzz_pooldef_same(const PoolDef *a, const PoolDef *b) {
        return pooldef_equal(a, b) && a->has_sizes == b->has_sizes && a->capacity == b->capacity &&
               a->allocation == b->allocation && a->available == b->available;
}

char *fuzz_pooldef_show(const PoolDef *p) {
        g_autofree char *name = fuzz_show(p->name), *uuid = fuzz_show(p->uuid), *host = fuzz_show(p->host),
                        *dir = fuzz_show(p->source_dir), *format = fuzz_show(p->format),
                        *target = fuzz_show(p->target_path);
        return g_strdup_printf("{name %s uuid %s host %s dir %s format %s protocol %d target %s mode %#o owner %ld "
                               "group %ld sizes %d %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT "}",
                               name, uuid, host, dir, format, p->protocol_ver, target, p->mode, p->owner, p->group,
                               p->has_sizes, p->capacity, p->allocation, p->available);
}

void fuzz_pooldef_check_complete(const char *what, const PoolDef *p) {
        FUZZ_CHECK(p->name && p->uuid && p->host && p->source_dir && p->format && p->target_path,
                   "%s succeeded with a field left unset", what);
        if (!p->has_sizes)
                FUZZ_CHECK(p->capacity == 0 && p->allocation == 0 && p->available == 0,
                           "%s set sizes without has_sizes", what);
}

/* Characters seed 000 forbids (name.h), and control characters. */
static bool seed_safe(const char *s) {
        for (const unsigned char *c = (const unsigned char *) s; *c; c++)
                if (*c <= 0x20 || *c >= 0x7f || strchr("\\\"';()", *c))
                        return false;
        return true;
}

static bool canonical_absolute(const char *path) {
        if (path[0] != '/')
                return false;
        if (strcmp(path, "/") == 0)
                return true;
        if (g_str_has_suffix(path, "/") || strstr(path, "//") || strstr(path, "/./") || strstr(path, "/../") ||
            g_str_has_suffix(path, "/.") || g_str_has_suffix(path, "/.."))
                return false;
        return seed_safe(path);
}

static bool uuid_form(const char *u) {
        if (strlen(u) != 36)
                return false;
        for (size_t i = 0; i < 36; i++) {
                bool dash = i == 8 || i == 13 || i == 18 || i == 23;
                if (dash ? u[i] != '-' : !g_ascii_isxdigit(u[i]) || g_ascii_isupper(u[i]))
                        return false;
        }
        return true;
}

bool fuzz_pooldef_check_validate(const PoolDef *p) {
        static const int errnos[] = { -EINVAL, 0 };
        g_autoptr(GError) error = NULL;
        int r = pooldef_validate(p, &error);
        if (r < 0) {
                fuzz_check_failure("pooldef_validate", r, error, errnos);
                return false;
        }
        fuzz_check_success("pooldef_validate", r, error);

        g_autofree char *shown = fuzz_pooldef_show(p);
        size_t n = strlen(p->name);
        FUZZ_CHECK(n >= 1 && n <= 64 && strspn(p->name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == n,
                   "validated a pool name outside [A-Za-z0-9_-]{1,64}: %s", shown);
        FUZZ_CHECK(uuid_form(p->uuid), "validated a uuid not in lower-case 8-4-4-4-12 form: %s", shown);
        FUZZ_CHECK(p->host[0] && seed_safe(p->host), "validated a host seed 000 forbids: %s", shown);
        FUZZ_CHECK(canonical_absolute(p->source_dir), "validated a source path that is not canonical: %s", shown);
        FUZZ_CHECK(canonical_absolute(p->target_path), "validated a target path that is not canonical: %s", shown);
        FUZZ_CHECK(strcmp(p->format, "nfs") == 0, "validated format %s", shown);
        FUZZ_CHECK(p->protocol_ver == 3 || p->protocol_ver == 0, "validated protocol %d", p->protocol_ver);
        FUZZ_CHECK(p->mode <= 07777, "validated mode %#o", p->mode);
        FUZZ_CHECK(p->owner >= -1 && p->owner <= 4294967294L && p->group >= -1 && p->group <= 4294967294L,
                   "validated owner/group out of range: %s", shown);
        return true;
}

/* pooldef_to_xml() then pooldef_from_xml(), which must succeed. */
static PoolDef *xml_again(const PoolDef *p) {
        g_autofree char *xml = pooldef_to_xml(p);
        g_autofree char *shown = fuzz_pooldef_show(p);
        FUZZ_CHECK(xml && g_utf8_validate(xml, -1, NULL), "pooldef_to_xml gave no UTF-8 text for %s", shown);

        PoolDef *again = NULL;
        g_autoptr(GError) error = NULL;
        int r = pooldef_from_xml(xml, &again, &error);
        g_autofree char *xml_shown = fuzz_show(xml);
        FUZZ_CHECK(r == 0, "pooldef_to_xml's output does not parse: %s; definition %s; XML %s",
                   error ? error->message : "?", shown, xml_shown);

        g_autofree char *type = NULL;
        g_clear_error(&error);
        r = pooldef_xml_type(xml, &type, &error);
        FUZZ_CHECK(r == 0 && strcmp(type, "netfs") == 0, "pooldef_xml_type of pooldef_to_xml's output: %d %s", r,
                   error ? error->message : type);
        return again;
}

void fuzz_pooldef_check_xml_round_trip(const PoolDef *p, bool exact) {
        g_autoptr(PoolDef) again = xml_again(p);
        g_autofree char *shown = fuzz_pooldef_show(p), *again_shown = fuzz_pooldef_show(again);
        if (exact) {
                FUZZ_CHECK(fuzz_pooldef_same(p, again), "XML round trip changed %s into %s", shown, again_shown);
                g_autofree char *xml = pooldef_to_xml(p), *xml2 = pooldef_to_xml(again);
                FUZZ_CHECK(strcmp(xml, xml2) == 0, "rendering XML is not stable for %s", shown);
                return;
        }
        /* XML normalizes some white space (a newline in an attribute reads as a blank), so only
         * the first round trip may change the definition. */
        g_autoptr(PoolDef) third = xml_again(again);
        g_autofree char *third_shown = fuzz_pooldef_show(third);
        FUZZ_CHECK(fuzz_pooldef_same(again, third), "XML round trips do not settle: %s, then %s, then %s", shown,
                   again_shown, third_shown);
}

void fuzz_pooldef_check_json_round_trip(const PoolDef *p) {
        json_object *o = pooldef_to_json(p);
        g_autofree char *shown = fuzz_pooldef_show(p);
        FUZZ_CHECK(o, "pooldef_to_json gave nothing for %s", shown);
        g_autofree char *text = g_strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        json_object_put(o);

        json_object *parsed = json_tokener_parse(text);
        g_autofree char *text_shown = fuzz_show(text);
        FUZZ_CHECK(parsed, "json-c cannot read pooldef_to_json's output %s", text_shown);
        g_autoptr(PoolDef) again = NULL;
        g_autoptr(GError) error = NULL;
        int r = pooldef_from_json(parsed, &again, &error);
        json_object_put(parsed);
        FUZZ_CHECK(r == 0, "pooldef_to_json's output is not read back: %s; JSON %s", error ? error->message : "?",
                   text_shown);
        g_autofree char *again_shown = fuzz_pooldef_show(again);
        FUZZ_CHECK(fuzz_pooldef_same(p, again), "JSON round trip changed %s into %s", shown, again_shown);

        json_object *o2 = pooldef_to_json(again);
        FUZZ_CHECK(strcmp(text, json_object_to_json_string_ext(o2, JSON_C_TO_STRING_PLAIN)) == 0,
                   "rendering JSON is not stable for %s", shown);
        json_object_put(o2);
}

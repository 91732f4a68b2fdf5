/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "api_body.h"
#include "error.h"
#include "json_autoptr.h"
#include "json_body.h"
#include "unit.h"

/* A body as nfsprovd reads it: json_body_parse() in http.c, then api_body_parse(). */
static int parse_bytes(ApiBodyKind kind, const char *text, size_t len, ApiShareRequest **ret, GError **error) {
        g_autoptr(json_object) o = NULL;
        int r = json_body_parse(text, len, &o, error);
        return r < 0 ? r : api_body_parse(kind, o, ret, error);
}

static int parse(ApiBodyKind kind, const char *text, ApiShareRequest **ret, GError **error) {
        return parse_bytes(kind, text, strlen(text), ret, error);
}

START_TEST(test_create_full) {
        g_autoptr(ApiShareRequest) r = NULL;
        g_autoptr(GError) error = NULL;
        ck_assert_int_eq(parse(API_BODY_CREATE,
                               "{\"name\":\"NFSStorage_01\",\"size\":\"50G\",\"disk\":\"/dev/vdb\","
                               "\"clients\":[\"10.0.0.0/24\",\"*\"],\"force\":true,\"guard\":\"detect\"} \n",
                               &r, &error),
                         0);
        ck_assert_str_eq(r->name, "NFSStorage_01");
        ck_assert_uint_eq(r->size, 50ULL << 30);
        ck_assert_str_eq(r->disk, "/dev/vdb");
        ck_assert_str_eq(r->clients[0], "10.0.0.0/24");
        ck_assert_str_eq(r->clients[1], "*");
        ck_assert_ptr_null(r->clients[2]);
        ck_assert(r->force);
        ck_assert_str_eq(r->guard, "detect");
}
END_TEST

START_TEST(test_create_minimal_and_nulls) {
        g_autoptr(ApiShareRequest) r = NULL;
        ck_assert_int_eq(parse(API_BODY_CREATE, "{\"name\":\"A\",\"size\":4096,\"disk\":null,\"clients\":null}", &r,
                               NULL),
                         0);
        ck_assert_str_eq(r->name, "A");
        ck_assert_uint_eq(r->size, 4096);
        ck_assert_ptr_null(r->disk);
        ck_assert_ptr_null(r->clients);
        ck_assert(!r->force);
        g_autoptr(ApiShareRequest) q = NULL;
        ck_assert_int_eq(parse(API_BODY_CREATE, "{\"name\":\"B\"}", &q, NULL), 0);
        ck_assert_uint_eq(q->size, 0);
}
END_TEST

START_TEST(test_resize) {
        g_autoptr(ApiShareRequest) r = NULL;
        ck_assert_int_eq(parse(API_BODY_RESIZE, "{\"size\":\"100G\"}", &r, NULL), 0);
        ck_assert_ptr_null(r->name);
        ck_assert_uint_eq(r->size, 100ULL << 30);
}
END_TEST

START_TEST(test_guard) {
        g_autoptr(ApiShareRequest) r = NULL;
        ck_assert_int_eq(parse(API_BODY_GUARD, "{\"mode\":\"off\"}", &r, NULL), 0);
        ck_assert_str_eq(r->guard, "off");
        ck_assert_ptr_null(r->name);
        ck_assert_uint_eq(r->size, 0);
        g_autoptr(ApiShareRequest) c = NULL;
        ck_assert_int_eq(parse(API_BODY_CREATE, "{\"name\":\"A\"}", &c, NULL), 0);
        ck_assert_ptr_null(c->guard); /* absent: [shares] guard */
        g_autoptr(ApiShareRequest) f = NULL;
        ck_assert_int_eq(parse(API_BODY_FINDING, "{\"path\":\"dir/x.txt\"}", &f, NULL), 0);
        ck_assert_str_eq(f->path, "dir/x.txt");
        ck_assert_ptr_null(f->guard);
}
END_TEST

typedef struct Bad {
        ApiBodyKind kind;
        const char *body;
        size_t len; /* 0: strlen */
        const char *want;
} Bad;

static const Bad bad[] = {
        { API_BODY_CREATE, "", 0, "no body" },
        { API_BODY_CREATE, "   ", 0, "malformed JSON" },
        { API_BODY_CREATE, "[]", 0, "must be a JSON object" },
        { API_BODY_CREATE, "\"x\"", 0, "must be a JSON object" },
        { API_BODY_CREATE, "{\"name\":\"A\"} x", 0, "malformed JSON" },
        { API_BODY_CREATE, "{\"name\":\"A\"} {}", 0, "malformed JSON" },
        { API_BODY_CREATE, "{\"name\":\"A\",", 0, "malformed JSON" },
        { API_BODY_CREATE, "{'name':'A'}", 0, "malformed JSON" },
        { API_BODY_CREATE, "{\"name\":\"A\",\"color\":1}", 0, "unknown key \"color\"" },
        { API_BODY_CREATE, "{}", 0, "no \"name\"" },
        { API_BODY_CREATE, "{\"name\":5}", 0, "\"name\" must be a string" },
        { API_BODY_CREATE, "{\"name\":\"NFS Storage\"}", 0, "blank space" },
        { API_BODY_CREATE, "{\"name\":\"A\\u0000B\"}", 0, "NUL" },
        { API_BODY_CREATE, "{\"name\":\"A\",\"size\":0}", 0, "invalid size" },
        { API_BODY_CREATE, "{\"name\":\"A\",\"size\":-5}", 0, "invalid size" },
        { API_BODY_CREATE, "{\"name\":\"A\",\"size\":1.5}", 0, "\"size\" must be text" },
        { API_BODY_CREATE, "{\"name\":\"A\",\"size\":\"10X\"}", 0, "10X" },
        { API_BODY_CREATE, "{\"name\":\"A\",\"size\":99999999999999999999}", 0, "" },
        { API_BODY_CREATE, "{\"name\":\"A\",\"disk\":\"\"}", 0, "\"disk\" is empty" },
        { API_BODY_CREATE, "{\"name\":\"A\",\"disk\":[]}", 0, "\"disk\" must be a string" },
        { API_BODY_CREATE, "{\"name\":\"A\",\"clients\":\"*\"}", 0, "must be an array" },
        { API_BODY_CREATE, "{\"name\":\"A\",\"clients\":[]}", 0, "\"clients\" is empty" },
        { API_BODY_CREATE, "{\"name\":\"A\",\"clients\":[\"\"]}", 0, "item 1 must be a non-empty string" },
        { API_BODY_CREATE, "{\"name\":\"A\",\"clients\":[\"*\",3]}", 0, "item 2" },
        { API_BODY_CREATE, "{\"name\":\"A\",\"clients\":[\"10.0.0.1/99\"]}", 0, "10.0.0.1/99" },
        { API_BODY_CREATE, "{\"name\":\"A\",\"force\":\"yes\"}", 0, "must be true or false" },
        { API_BODY_CREATE, "{\"name\":\"A\"}\0{}", 14, "NUL" },
        { API_BODY_RESIZE, "{}", 0, "no \"size\"" },
        { API_BODY_RESIZE, "{\"size\":\"1G\",\"name\":\"A\"}", 0, "unknown key \"name\"" },
        { API_BODY_RESIZE, "{\"size\":true}", 0, "\"size\" must be text" },
        { API_BODY_CREATE, "{\"name\":\"A\",\"guard\":\"Enforce\"}", 0,
          "\"Enforce\" is not a guard mode; allowed: enforce, detect or off" },
        { API_BODY_CREATE, "{\"name\":\"A\",\"guard\":true}", 0, "\"guard\" must be a string" },
        { API_BODY_GUARD, "{}", 0, "no \"mode\" (enforce, detect or off)" },
        { API_BODY_GUARD, "{\"mode\":\"off\",\"size\":\"1G\"}", 0, "unknown key \"size\"" },
        { API_BODY_GUARD, "{\"mode\":\"detect\\n\"}", 0, "is not a guard mode" },
        { API_BODY_GUARD, "{\"mode\":1}", 0, "\"mode\" must be a string" },
        { API_BODY_FINDING, "{}", 0, "no \"path\"" },
        { API_BODY_FINDING, "{\"path\":\"\"}", 0, "no \"path\"" },
        { API_BODY_FINDING, "{\"path\":\"a\",\"mode\":\"off\"}", 0, "unknown key \"mode\"" },
        { API_BODY_FINDING, "{\"path\":[]}", 0, "\"path\" must be a string" },
        { API_BODY_RESTORE, "{}", 0, "no \"name\" (a quarantined item" },
        { API_BODY_RESTORE, "{\"name\":\"a/b\"}", 0, "no \"name\" (a quarantined item" },
        { API_BODY_RESTORE, "{\"name\":\"a\",\"path\":\"x\"}", 0, "unknown key \"path\"" },
};

START_TEST(test_bad) {
        const Bad *b = &bad[_i];
        g_autoptr(ApiShareRequest) r = NULL;
        g_autoptr(GError) error = NULL;
        int ret = parse_bytes(b->kind, b->body, b->len ? b->len : strlen(b->body), &r, &error);
        ck_assert_msg(ret == -EINVAL, "%s: returned %d", b->body, ret);
        ck_assert_ptr_null(r);
        ck_assert_ptr_nonnull(error);
        ck_assert(error->domain == NP_ERROR && error->code == EINVAL);
        ck_assert_msg(!strchr(error->message, '\n'), "not one line: %s", error->message);
        ck_assert_msg(strstr(error->message, b->want), "%s: message \"%s\" lacks \"%s\"", b->body, error->message,
                      b->want);
}
END_TEST

/* ---- volume bodies ---- */

static int vparse(ApiVolumeBodyKind kind, const char *text, ApiVolumeRequest **ret, GError **error) {
        g_autoptr(json_object) o = NULL;
        int r = json_body_parse(text, strlen(text), &o, error);
        return r < 0 ? r : api_volume_body_parse(kind, o, ret, error);
}

START_TEST(test_volume_bodies) {
        g_autoptr(GError) error = NULL;
        g_autoptr(ApiVolumeRequest) c = NULL;
        ck_assert_int_eq(vparse(API_BODY_VOL_CREATE, "{\"name\":\"vm1.qcow2\",\"capacity\":\"20G\",\"backing\":\"base\"}", &c,
                                &error),
                         0);
        ck_assert_str_eq(c->name, "vm1.qcow2");
        ck_assert_uint_eq(c->capacity, 20ULL << 30);
        ck_assert_str_eq(c->backing, "base");
        g_autoptr(ApiVolumeRequest) b = NULL; /* a backing alone: its capacity */
        ck_assert_int_eq(vparse(API_BODY_VOL_CREATE, "{\"name\":\"vm2\",\"backing\":\"base\"}", &b, &error), 0);
        ck_assert_uint_eq(b->capacity, 0);
        g_autoptr(ApiVolumeRequest) k = NULL;
        ck_assert_int_eq(vparse(API_BODY_VOL_CLONE, "{\"name\":\"copy\",\"linked\":true}", &k, &error), 0);
        ck_assert_str_eq(k->name, "copy");
        ck_assert(k->linked);
        g_autoptr(ApiVolumeRequest) z = NULL;
        ck_assert_int_eq(vparse(API_BODY_VOL_RESIZE, "{\"capacity\":1073741824,\"shrink\":true}", &z, &error), 0);
        ck_assert_uint_eq(z->capacity, 1ULL << 30);
        ck_assert(z->shrink);
}
END_TEST

static const struct {
        ApiVolumeBodyKind kind;
        const char *body, *want;
} vbad[] = {
        { API_BODY_VOL_CREATE, "{\"capacity\":\"1G\"}", "no \"name\"" },
        { API_BODY_VOL_CREATE, "{\"name\":\"vm1\"}", "no \"capacity\"" },
        { API_BODY_VOL_CREATE, "{\"name\":\"../x\",\"capacity\":\"1G\"}", "invalid volume name" },
        { API_BODY_VOL_CREATE, "{\"name\":\".x\",\"capacity\":\"1G\"}", "starts with a dot" },
        { API_BODY_VOL_CREATE, "{\"name\":\"vm1\",\"capacity\":true}", "\"capacity\" must be text" },
        { API_BODY_VOL_CREATE, "{\"name\":\"vm1\",\"capacity\":0}", "invalid capacity 0" },
        { API_BODY_VOL_CREATE, "{\"name\":\"vm1\",\"capacity\":\"1G\",\"backing\":\"/etc/shadow\"}", "slash" },
        { API_BODY_VOL_CREATE, "{\"name\":\"vm1\",\"capacity\":\"1G\",\"preallocation\":\"full\"}",
          "unknown key \"preallocation\"" },
        { API_BODY_VOL_CLONE, "{}", "no \"name\"" },
        { API_BODY_VOL_CLONE, "{\"name\":\"c\",\"linked\":\"yes\"}", "linked" },
        { API_BODY_VOL_RESIZE, "{}", "no \"capacity\"" },
        { API_BODY_VOL_RESIZE, "{\"capacity\":\"1G\",\"shrink\":1}", "shrink" },
        { API_BODY_VOL_RESIZE, "{\"capacity\":\"1G\",\"name\":\"x\"}", "unknown key \"name\"" },
};

START_TEST(test_volume_bad) {
        g_autoptr(ApiVolumeRequest) r = NULL;
        g_autoptr(GError) error = NULL;
        int ret = vparse(vbad[_i].kind, vbad[_i].body, &r, &error);
        ck_assert_msg(ret == -EINVAL, "%s: returned %d", vbad[_i].body, ret);
        ck_assert_ptr_null(r);
        ck_assert_msg(!strchr(error->message, '\n'), "not one line: %s", error->message);
        ck_assert_msg(strstr(error->message, vbad[_i].want), "%s: message \"%s\" lacks \"%s\"", vbad[_i].body,
                      error->message, vbad[_i].want);
}
END_TEST

/* Not NUL-terminated input, and truncations of a valid body at every length. */
START_TEST(test_unterminated_and_truncated) {
        static const char full[] = "{\"name\":\"NFSStorage_01\",\"size\":\"50G\",\"clients\":[\"*\"],\"force\":false}";
        for (size_t n = 0; n < strlen(full); n++) {
                char *copy = g_memdup2(full, n ? n : 1);
                g_autoptr(ApiShareRequest) r = NULL;
                g_autoptr(GError) error = NULL;
                ck_assert_int_eq(parse_bytes(API_BODY_CREATE, copy, n, &r, &error), -EINVAL);
                g_free(copy);
        }
        char *copy = g_memdup2(full, strlen(full));
        g_autoptr(ApiShareRequest) r = NULL;
        ck_assert_int_eq(parse_bytes(API_BODY_CREATE, copy, strlen(full), &r, NULL), 0);
        g_free(copy);
        /* NULL body */
        g_autoptr(ApiShareRequest) q = NULL;
        ck_assert_int_eq(api_body_parse(API_BODY_RESIZE, NULL, &q, NULL), -EINVAL);
}
END_TEST

/* Deep nesting is refused, not a crash. */
START_TEST(test_deep_nesting) {
        GString *s = g_string_new("{\"name\":\"A\",\"clients\":");
        for (int i = 0; i < 100000; i++)
                g_string_append_c(s, '[');
        g_autoptr(ApiShareRequest) r = NULL;
        g_autoptr(GError) error = NULL;
        ck_assert_int_eq(parse_bytes(API_BODY_CREATE, s->str, s->len, &r, &error), -EINVAL);
        g_string_free(s, true);
}
END_TEST

/* The grammar of a body (json_body.h), which http.c reads every body with. */
START_TEST(test_json_body) {
        json_object *const sentinel = (json_object *) (uintptr_t) 0x1;
        json_object *o = sentinel;
        ck_assert_int_eq(json_body_parse("", 0, &o, NULL), 0);
        ck_assert_ptr_null(o); /* no body */
        ck_assert_int_eq(json_body_parse("42", 2, &o, NULL), 0); /* a bare number at the very end */
        ck_assert_int_eq(json_object_get_int(o), 42);
        json_object_put(o);
        ck_assert_int_eq(json_body_parse(" [1] \r\n\t", 8, &o, NULL), 0);
        ck_assert(json_object_is_type(o, json_type_array));
        json_object_put(o);

        static const struct {
                const char *text;
                size_t len;
                const char *want;
        } bad_json[] = {
                { " ", 1, "at byte 1: " },
                { "{} x", 4, "malformed JSON in the request body at byte 3" },
                { "{\"a\":1,}", 8, "malformed JSON in the request body at byte" },
                { "/* c */ {}", 10, "malformed JSON in the request body at byte" },
                { "{}\0", 3, "it contains a NUL byte" },
        };
        for (size_t i = 0; i < G_N_ELEMENTS(bad_json); i++) {
                g_autoptr(GError) error = NULL;
                o = sentinel;
                ck_assert_int_eq(json_body_parse(bad_json[i].text, bad_json[i].len, &o, &error), -EINVAL);
                ck_assert_ptr_eq(o, sentinel);
                ck_assert_msg(strstr(error->message, bad_json[i].want), "%s: %s", bad_json[i].text, error->message);
                ck_assert(!strchr(error->message, '\n'));
        }
}
END_TEST

UNIT_ONE_PROCESS;

Suite *unit_suite(void) {
        Suite *s = suite_create("api_body");
        TCase *tc = tcase_create("api_body");
        tcase_add_test(tc, test_create_full);
        tcase_add_test(tc, test_create_minimal_and_nulls);
        tcase_add_test(tc, test_resize);
        tcase_add_test(tc, test_guard);
        tcase_add_loop_test(tc, test_bad, 0, G_N_ELEMENTS(bad));
        tcase_add_test(tc, test_unterminated_and_truncated);
        tcase_add_test(tc, test_deep_nesting);
        tcase_add_test(tc, test_json_body);
        tcase_add_test(tc, test_volume_bodies);
        tcase_add_loop_test(tc, test_volume_bad, 0, G_N_ELEMENTS(vbad));
        suite_add_tcase(s, tc);
        return s;
}

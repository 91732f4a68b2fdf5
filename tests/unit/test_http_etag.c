/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* server/http_etag.c: content tags, and If-None-Match values matched (RFC 9110 13.1.2, weak
 * comparison) or refused with one line. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "error.h"
#include "http_etag.h"
#include "unit.h"

#define TAG "\"0123456789abcdef0123456789abcdef\""

static const struct {
        const char *header;
        bool match;
} good[] = {
        { TAG, true },
        { "W/" TAG, true },
        { "*", true },
        { " * ", true },
        { "\"other\"", false },
        { "\"other\", " TAG, true },
        { "\"a\",W/\"b\" ,\t" TAG "  ", true },
        { ", ,\"a\", ,", false },
        { "\"\"", false },
        { "\"0123456789abcdef0123456789abcde\"", false },          /* a prefix */
        { "\"0123456789ABCDEF0123456789ABCDEF\"", false },         /* case counts */
        { "\"a,b\", \"c\"", false },                                /* a comma inside a tag */
        { "\"\x80\xff\"", false },                                  /* obs-text */
};

static const char *const bad[] = {
        "",
        " ",
        ",",
        "abc",
        "\"abc",
        "W/abc",
        "w/\"abc\"",
        "\"a\" \"b\"",
        "\"a\";\"b\"",
        "*, \"a\"",
        "\"a\", *",
        "\"a b\"",
        "\"a\\\"b\"",
        "\"a\x01\"",
};

START_TEST(test_good) {
        bool m = !good[_i].match;
        g_autoptr(GError) e = NULL;
        ck_assert_msg(http_etag_none_match(good[_i].header, TAG, &m, &e) == 0, "[%s]: %s", good[_i].header,
                      e ? e->message : "");
        ck_assert_msg(m == good[_i].match, "[%s]: match %d", good[_i].header, m);
        /* the tag compared with may be weak too */
        m = !good[_i].match;
        ck_assert_int_eq(http_etag_none_match(good[_i].header, "W/" TAG, &m, NULL), 0);
        ck_assert(m == good[_i].match);
}
END_TEST

START_TEST(test_bad) {
        bool m = true;
        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(http_etag_none_match(bad[_i], TAG, &m, &e), -EINVAL);
        ck_assert(m); /* untouched */
        ck_assert(g_error_matches(e, NP_ERROR, EINVAL));
        ck_assert_msg(g_str_has_prefix(e->message, "invalid If-None-Match header: "), "%s", e->message);
        ck_assert_ptr_null(strchr(e->message, '\n'));
        ck_assert_ptr_nonnull(strstr(e->message, "allowed: "));
}
END_TEST

START_TEST(test_too_long) {
        g_autoptr(GString) h = g_string_new(TAG);
        while (h->len <= HTTP_ETAG_HEADER_MAX)
                g_string_append(h, ", \"x\"");
        bool m = false;
        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(http_etag_none_match(h->str, TAG, &m, &e), -EINVAL);
        ck_assert_ptr_nonnull(strstr(e->message, "longer than 8192 bytes"));
}
END_TEST

START_TEST(test_bad_tag) {
        bool m = false;
        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(http_etag_none_match("*", "abc", &m, &e), -EINVAL);
        ck_assert_int_eq(http_etag_none_match(TAG, TAG " ", &m, NULL), -EINVAL);
}
END_TEST

START_TEST(test_etag_of) {
        g_autofree char *a = http_etag_of("{\"pools\":[]}\n", 13);
        g_autofree char *b = http_etag_of("{\"pools\":[]}\n", 13);
        g_autofree char *c = http_etag_of("{\"pools\":[ ]}\n", 14);
        g_autofree char *empty = http_etag_of("", 0);
        ck_assert_str_eq(a, b);
        ck_assert_str_ne(a, c);
        ck_assert_int_eq(strlen(a), 34);
        ck_assert(a[0] == '"' && a[33] == '"');
        /* SHA-256 of "": e3b0c442 98fc1c14 9afbf4c8 996fb924 ... */
        ck_assert_str_eq(empty, "\"e3b0c44298fc1c149afbf4c8996fb924\"");
        bool m = false;
        ck_assert_int_eq(http_etag_none_match(a, a, &m, NULL), 0);
        ck_assert(m);
        ck_assert_int_eq(http_etag_none_match(c, a, &m, NULL), 0);
        ck_assert(!m);
}
END_TEST

START_TEST(test_cache) {
        g_autoptr(HttpEtagCache) c = http_etag_cache_new();
        /* more bodies than slots, twice: always the tag of the body itself */
        for (int round = 0; round < 2; round++)
                for (int i = 0; i < 20; i++) {
                        g_autofree char *body = g_strdup_printf("{\"pools\":[%d]}\n", i % 11);
                        g_autofree char *want = http_etag_of(body, strlen(body));
                        g_autofree char *got = http_etag_cache_of(c, body, strlen(body));
                        ck_assert_str_eq(got, want);
                }
        /* same length, other bytes */
        g_autofree char *a = http_etag_cache_of(c, "abc", 3);
        g_autofree char *b = http_etag_cache_of(c, "abd", 3);
        ck_assert_str_ne(a, b);
}
END_TEST

UNIT_ONE_PROCESS;

Suite *unit_suite(void) {
        Suite *s = suite_create("http_etag");
        TCase *tc = tcase_create("if-none-match");
        tcase_add_loop_test(tc, test_good, 0, G_N_ELEMENTS(good));
        tcase_add_loop_test(tc, test_bad, 0, G_N_ELEMENTS(bad));
        tcase_add_test(tc, test_too_long);
        tcase_add_test(tc, test_bad_tag);
        suite_add_tcase(s, tc);
        tc = tcase_create("etag");
        tcase_add_test(tc, test_etag_of);
        tcase_add_test(tc, test_cache);
        suite_add_tcase(s, tc);
        return s;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "error.h"
#include "name.h"
#include "unit.h"

/* Check that an error is one NP_ERROR/EINVAL line holding every string in `want`. */
static void assert_error(int row, const char *input, int r, GError *error, const char *const *want) {
        ck_assert_msg(r == -EINVAL, "row %d (%s): returned %d, expected -EINVAL", row, input, r);
        ck_assert_msg(error, "row %d (%s): no error set", row, input);
        ck_assert_msg(error->domain == NP_ERROR && error->code == EINVAL, "row %d (%s): domain/code %s/%d", row,
                      input, g_quark_to_string(error->domain), error->code);
        ck_assert_msg(!strchr(error->message, '\n') && !strchr(error->message, '\r'),
                      "row %d (%s): message is not one line: %s", row, input, error->message);
        for (const char *const *w = want; *w; w++)
                ck_assert_msg(strstr(error->message, *w), "row %d (%s): message \"%s\" lacks \"%s\"", row, input,
                              error->message, *w);
}

/* ---- name_validate_share: valid names ---- */

static const char *const valid_share[] = {
        "a",
        "Z",
        "0",
        "_",
        "-",
        "NFSStorage_01",
        "a-b_c",
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-",   /* 64 */
        "0000000000000000000000000000000000000000000000000000000000000000",   /* 64 */
        "share-2024_backup",
};

START_TEST(test_share_valid) {
        g_autoptr(GError) error = NULL;
        int r = name_validate_share(valid_share[_i], &error);
        ck_assert_msg(r == 0, "%s: %d %s", valid_share[_i], r, error ? error->message : "");
        ck_assert_ptr_null(error);
}
END_TEST

/* ---- name_validate_share: a rejected character, its position and its class ---- */

typedef struct BadChar {
        const char *input;
        size_t position;       /* 1-based, in characters */
        const char *shown;     /* how the character appears in the message, with its quotes */
        const char *phrase;    /* what the message says it is */
        NameCharClass klass;   /* only used to make sure every class is covered */
} BadChar;

static const BadChar bad_share[] = {
        { "a b", 2, "(\" \")", "is a blank space", NAME_CHAR_BLANK },
        { " ab", 1, "(\" \")", "is a blank space", NAME_CHAR_BLANK },
        { "ab ", 3, "(\" \")", "is a blank space", NAME_CHAR_BLANK },
        { "a\tb", 2, "(\"\\x09\")", "is a blank space", NAME_CHAR_BLANK },
        { "ab\n", 3, "(\"\\x0a\")", "is a blank space", NAME_CHAR_BLANK },
        { "ab\r", 3, "(\"\\x0d\")", "is a blank space", NAME_CHAR_BLANK },
        { "x y z", 2, "(\" \")", "is a blank space", NAME_CHAR_BLANK },
        { "ab日c", 3, "(\"日\")", "is a double-byte character", NAME_CHAR_DOUBLE_BYTE },
        { "日本", 1, "(\"日\")", "is a double-byte character", NAME_CHAR_DOUBLE_BYTE },
        { "pool_あ", 6, "(\"あ\")", "is a double-byte character", NAME_CHAR_DOUBLE_BYTE },
        { "caf\xc3\xa9", 4, "(\"é\")", "is a double-byte character", NAME_CHAR_DOUBLE_BYTE },
        { "\xef\xbc\xa1", 1, "(\"Ａ\")", "is a double-byte character", NAME_CHAR_DOUBLE_BYTE },
        { "a\xe3\x80\x80z", 2, "(\"\\u3000\")", "is a double-byte character", NAME_CHAR_DOUBLE_BYTE },
        { "abc\xf0\x9f\x98\x80", 4, "(\"\xf0\x9f\x98\x80\")", "is a double-byte character", NAME_CHAR_DOUBLE_BYTE },
        { "a\\b", 2, "(\"\\\")", "is a yen mark or backslash", NAME_CHAR_YEN },
        { "a\xc2\xa5" "b", 2, "(\"¥\")", "is a yen mark or backslash", NAME_CHAR_YEN },
        { "ab\xef\xbf\xa5", 3, "(\"￥\")", "is a yen mark or backslash", NAME_CHAR_YEN },
        { "a\"b", 2, "('\"')", "is a double quote", NAME_CHAR_DOUBLE_QUOTE },
        { "\"", 1, "('\"')", "is a double quote", NAME_CHAR_DOUBLE_QUOTE },
        { "a'b", 2, "(\"'\")", "is a single quote", NAME_CHAR_SINGLE_QUOTE },
        { "a;b", 2, "(\";\")", "is a semicolon", NAME_CHAR_SEMICOLON },
        { "abc;rm", 4, "(\";\")", "is a semicolon", NAME_CHAR_SEMICOLON },
        { "a(b", 2, "(\"(\")", "is a parenthesis", NAME_CHAR_PARENTHESIS },
        { "ab)", 3, "(\")\")", "is a parenthesis", NAME_CHAR_PARENTHESIS },
        { "a.b", 2, "(\".\")", "is not allowed", NAME_CHAR_OTHER },
        { "a/b", 2, "(\"/\")", "is not allowed", NAME_CHAR_OTHER },
        { "host:1", 5, "(\":\")", "is not allowed", NAME_CHAR_OTHER },
        { "a@b", 2, "(\"@\")", "is not allowed", NAME_CHAR_OTHER },
        { "a\x01", 2, "(\"\\x01\")", "is a control character", NAME_CHAR_OTHER },
        { "a\x7f", 2, "(\"\\x7f\")", "is a control character", NAME_CHAR_OTHER },
        { "a\xff" "b", 2, "(\"\\xff\")", "is not valid UTF-8", NAME_CHAR_OTHER },
        { "ab\xe6\x97", 3, "(\"\\xe6\")", "is not valid UTF-8", NAME_CHAR_OTHER },    /* cut-off 日 */
        { "a\xc0\x80", 2, "(\"\\xc0\")", "is not valid UTF-8", NAME_CHAR_OTHER },     /* overlong NUL */
        { "a\xed\xa0\x80", 2, "(\"\\xed\")", "is not valid UTF-8", NAME_CHAR_OTHER }, /* surrogate */
        /* 64 good characters, then a bad one: the bad one is reported, not the length */
        { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa b", 65, "(\" \")", "is a blank space",
          NAME_CHAR_BLANK },
};

START_TEST(test_share_bad_char) {
        const BadChar *t = &bad_share[_i];
        g_autoptr(GError) error = NULL;
        g_autofree char *pos = g_strdup_printf(": character %zu ", t->position);
        const char *const want[] = { "invalid share name \"", pos, t->shown, t->phrase,
                                     "allowed: A-Z a-z 0-9 _ - (1-64 characters)", NULL };

        int r = name_validate_share(t->input, &error);
        assert_error(_i, t->input, r, error, want);
}
END_TEST

/* Every class from BLANK to OTHER appears in the table above. */
START_TEST(test_share_table_covers_classes) {
        for (NameCharClass k = NAME_CHAR_BLANK; k <= NAME_CHAR_OTHER; k++) {
                bool found = false;
                for (size_t i = 0; i < ELEMENTSOF(bad_share); i++)
                        found = found || bad_share[i].klass == k;
                ck_assert_msg(found, "no test row for class %s", name_char_class_to_string(k));
        }
}
END_TEST

START_TEST(test_share_exact_message) {
        g_autoptr(GError) error = NULL;
        ck_assert_int_eq(name_validate_share("a b", &error), -EINVAL);
        ck_assert_str_eq(error->message,
                         "invalid share name \"a b\": character 2 (\" \") is a blank space; "
                         "allowed: A-Z a-z 0-9 _ - (1-64 characters)");
}
END_TEST

START_TEST(test_share_empty) {
        g_autoptr(GError) e1 = NULL, e2 = NULL;
        const char *const want[] = { "empty", "allowed: A-Z a-z 0-9 _ -", NULL };

        int r = name_validate_share("", &e1);
        assert_error(0, "\"\"", r, e1, want);
        r = name_validate_share(NULL, &e2);
        assert_error(1, "NULL", r, e2, want);
}
END_TEST

START_TEST(test_share_length) {
        g_autofree char *n64 = g_strnfill(64, 'x');
        g_autofree char *n65 = g_strnfill(65, 'x');
        g_autofree char *n1000 = g_strnfill(1000, 'y');
        g_autoptr(GError) error = NULL, e1000 = NULL;

        ck_assert_int_eq(name_validate_share(n64, NULL), 0);

        const char *const want65[] = { "too long", "65 characters", "at most 64", "(1-64 characters)", NULL };
        int r = name_validate_share(n65, &error);
        assert_error(0, "65 x", r, error, want65);

        /* The message shows the start of a long name, not all of it. */
        const char *const want1000[] = { "too long", "1000 characters", "...", NULL };
        r = name_validate_share(n1000, &e1000);
        assert_error(1, "1000 y", r, e1000, want1000);
        ck_assert_ptr_null(strstr(e1000->message, n65));
}
END_TEST

START_TEST(test_share_no_error_pointer) {
        ck_assert_int_eq(name_validate_share("a b", NULL), -EINVAL);
        ck_assert_int_eq(name_validate_share("", NULL), -EINVAL);
        ck_assert_int_eq(name_validate_share("ok", NULL), 0);
}
END_TEST

/* An error already set is kept (np_fail does not overwrite). */
START_TEST(test_share_error_already_set) {
        g_autoptr(GError) error = g_error_new_literal(NP_ERROR, EIO, "earlier");
        ck_assert_int_eq(name_validate_share("a;b", &error), -EINVAL);
        ck_assert_str_eq(error->message, "earlier");
}
END_TEST

/* ---- name_char_class_to_string ---- */

START_TEST(test_class_strings) {
        static const struct {
                NameCharClass k;
                const char *s;
        } t[] = {
                { NAME_CHAR_BLANK, "blank space" },
                { NAME_CHAR_DOUBLE_BYTE, "double-byte character" },
                { NAME_CHAR_YEN, "yen mark or backslash" },
                { NAME_CHAR_DOUBLE_QUOTE, "double quote" },
                { NAME_CHAR_SINGLE_QUOTE, "single quote" },
                { NAME_CHAR_SEMICOLON, "semicolon" },
                { NAME_CHAR_PARENTHESIS, "parenthesis" },
                { NAME_CHAR_OTHER, "other character" },
        };
        for (size_t i = 0; i < ELEMENTSOF(t); i++)
                ck_assert_str_eq(name_char_class_to_string(t[i].k), t[i].s);
        ck_assert_ptr_nonnull(name_char_class_to_string(NAME_CHAR_OK));
        ck_assert_ptr_nonnull(name_char_class_to_string((NameCharClass) 99));
}
END_TEST

/* ---- name_validate_seed_safe ---- */

static const char *const seed_safe_ok[] = {
        "/home/NFS/NFSStorage_01",
        "/var/lib/libvirt/nfsprov/NFSStorage_01",
        "192.168.1.1",
        "fe80::1",
        "[2001:db8::1]",
        "nfs-server.example.com",
        "/a-b_c/d.e:f@g+h=i,j~k%l#m!n$&*[]{}<>?|`^",
        "/",
        "",
};

START_TEST(test_seed_safe_ok) {
        g_autoptr(GError) error = NULL;
        int r = name_validate_seed_safe("source path", seed_safe_ok[_i], &error);
        ck_assert_msg(r == 0, "%s: %d %s", seed_safe_ok[_i], r, error ? error->message : "");
        ck_assert_ptr_null(error);
}
END_TEST

static const BadChar seed_safe_bad[] = {
        { "/a b", 3, "(\" \")", "is a blank space", NAME_CHAR_BLANK },
        { "/a\tb", 3, "(\"\\x09\")", "is a blank space", NAME_CHAR_BLANK },
        { "/a\nb", 3, "(\"\\x0a\")", "is a blank space", NAME_CHAR_BLANK },
        { "/home/日本", 7, "(\"日\")", "is a double-byte character", NAME_CHAR_DOUBLE_BYTE },
        { "/x/ab日c", 6, "(\"日\")", "is a double-byte character", NAME_CHAR_DOUBLE_BYTE },
        { "/\xe3\x80\x80", 2, "(\"\\u3000\")", "is a double-byte character", NAME_CHAR_DOUBLE_BYTE },
        { "/caf\xc3\xa9", 5, "(\"é\")", "is a double-byte character", NAME_CHAR_DOUBLE_BYTE },
        { "C:\\share", 3, "(\"\\\")", "is a yen mark or backslash", NAME_CHAR_YEN },
        { "/a\xc2\xa5", 3, "(\"¥\")", "is a yen mark or backslash", NAME_CHAR_YEN },
        { "/a\xef\xbf\xa5", 3, "(\"￥\")", "is a yen mark or backslash", NAME_CHAR_YEN },
        { "/a\"b", 3, "('\"')", "is a double quote", NAME_CHAR_DOUBLE_QUOTE },
        { "/a'b", 3, "(\"'\")", "is a single quote", NAME_CHAR_SINGLE_QUOTE },
        { "/a;reboot", 3, "(\";\")", "is a semicolon", NAME_CHAR_SEMICOLON },
        { "/a(b)", 3, "(\"(\")", "is a parenthesis", NAME_CHAR_PARENTHESIS },
        { "/ab)", 4, "(\")\")", "is a parenthesis", NAME_CHAR_PARENTHESIS },
        { "/a\x01" "b", 3, "(\"\\x01\")", "is a control character", NAME_CHAR_OTHER },
        { "/a\x1b[0m", 3, "(\"\\x1b\")", "is a control character", NAME_CHAR_OTHER },
        { "/a\x7f", 3, "(\"\\x7f\")", "is a control character", NAME_CHAR_OTHER },
        { "/a\xff", 3, "(\"\\xff\")", "is not valid UTF-8", NAME_CHAR_OTHER },
};

START_TEST(test_seed_safe_bad) {
        const BadChar *t = &seed_safe_bad[_i];
        g_autoptr(GError) error = NULL;
        g_autofree char *pos = g_strdup_printf(": character %zu ", t->position);
        const char *const want[] = { "invalid source path \"", pos, t->shown, t->phrase, "not allowed: blank space",
                                     NULL };

        int r = name_validate_seed_safe("source path", t->input, &error);
        assert_error(_i, t->input, r, error, want);
}
END_TEST

START_TEST(test_seed_safe_what) {
        g_autoptr(GError) e1 = NULL, e2 = NULL, e3 = NULL;
        const char *const want_server[] = { "invalid server address \"10.0.0.1;x\"", "character 9 (\";\")",
                                            "is a semicolon", NULL };
        const char *const want_default[] = { "invalid value \"a b\"", NULL };
        const char *const want_missing[] = { "target path is missing", NULL };

        int r = name_validate_seed_safe("server address", "10.0.0.1;x", &e1);
        assert_error(0, "server", r, e1, want_server);
        r = name_validate_seed_safe(NULL, "a b", &e2);
        assert_error(1, "what NULL", r, e2, want_default);
        r = name_validate_seed_safe("target path", NULL, &e3);
        assert_error(2, "value NULL", r, e3, want_missing);
        ck_assert_int_eq(name_validate_seed_safe("x", "a b", NULL), -EINVAL);
}
END_TEST

/* A control character in the value never reaches the message raw. */
START_TEST(test_seed_safe_escapes_value) {
        g_autoptr(GError) error = NULL;
        ck_assert_int_eq(name_validate_seed_safe("source path", "/a\nb\x01", &error), -EINVAL);
        ck_assert_str_eq(error->message,
                         "invalid source path \"/a\\x0ab\\x01\": character 3 (\"\\x0a\") is a blank space; "
                         "not allowed: blank space, double-byte characters, yen marks and backslashes, double "
                         "and single quotes, semicolons, parentheses and control characters");
}
END_TEST

/* ---- name_to_resource ---- */

static const struct {
        const char *pool;
        const char *resource;
} resource_ok[] = {
        { "NFSStorage_01", "NFSStorage_01" },
        { "a-b_c", "a-b_c" },
        { "a.b", "a-b" },
        { "a b/c:d", "a-b-c-d" },
        { "a@b!", "a-b-" },
        { "a\\b", "a-b" },
        { "(x);'y'\"", "-x---y--" },
        { "a\tb\x01", "a-b-" },
        { "", "" },
};

START_TEST(test_resource_ok) {
        g_autoptr(GError) error = NULL;
        g_autofree char *r = name_to_resource(resource_ok[_i].pool, &error);
        ck_assert_msg(r, "%s: %s", resource_ok[_i].pool, error ? error->message : "");
        ck_assert_str_eq(r, resource_ok[_i].resource);
        ck_assert_ptr_null(error);
}
END_TEST

static const struct {
        const char *pool;
        const char *where;
} resource_bad[] = {
        { "日本", "character 1, \"日\"" },
        { "ab日c", "character 3, \"日\"" },
        { "a\xc2\xa5", "character 2, \"¥\"" },
        { "x\xef\xbf\xa5", "character 2, \"￥\"" },
        { "caf\xc3\xa9", "character 4, \"é\"" },
        { "a\xff", "character 2, \"\\xff\"" },
};

START_TEST(test_resource_bad) {
        g_autoptr(GError) error = NULL;
        const char *const want[] = { "not detected: contains a multi-byte character", resource_bad[_i].where,
                                     NULL };
        char *r = name_to_resource(resource_bad[_i].pool, &error);
        ck_assert_ptr_null(r);
        assert_error(_i, resource_bad[_i].pool, -EINVAL, error, want);
        ck_assert_ptr_null(name_to_resource(resource_bad[_i].pool, NULL));
}
END_TEST

START_TEST(test_resource_null) {
        g_autoptr(GError) error = NULL;
        ck_assert_ptr_null(name_to_resource(NULL, &error));
        ck_assert_int_eq(error->code, EINVAL);
}
END_TEST

/* Every valid share name is its own resource name. */
START_TEST(test_resource_of_valid_share) {
        g_autofree char *r = name_to_resource(valid_share[_i], NULL);
        ck_assert_str_eq(r, valid_share[_i]);
}
END_TEST

/* ---- name_validate_volume ---- */

static const char *const valid_volume[] = {
        "a",
        "vm01.qcow2",
        "base-image_2024.01.qcow2",
        "x.",
        "a..b",
        "-",
        "_",
        "0",
        "lost-found",
        "NFSStorage_01",
};

START_TEST(test_volume_valid) {
        g_autoptr(GError) error = NULL;
        int r = name_validate_volume(valid_volume[_i], &error);
        ck_assert_msg(r == 0, "%s: %d %s", valid_volume[_i], r, error ? error->message : "");
        ck_assert_ptr_null(error);
}
END_TEST

static const struct {
        const char *input;
        const char *want1, *want2;
} bad_volume[] = {
        { "", "the name is empty", NULL },
        { ".", "\".\": it names a directory, not a volume", NULL },
        { "..", "\"..\": it names a directory, not a volume", NULL },
        { ".hidden", "it starts with a dot (a hidden file)", NULL },
        { ".qcow2", "it starts with a dot", NULL },
        { "lost+found", "\"lost+found\": it is the file system's own directory", NULL },
        { "/etc/shadow", "character 1 (\"/\") is a slash (a volume is named without a directory)", NULL },
        { "../base.qcow2", "character 3 (\"/\") is a slash", NULL },
        { "dir/vm.qcow2", "character 4 (\"/\") is a slash", NULL },
        { "a+b", "character 2 (\"+\") is not allowed", NULL },
        { "a b", "character 2 (\" \") is a blank space", NULL },
        { "vm\t", "character 3 (\"\\x09\") is a blank space", NULL },
        { "vm\x01", "character 3 (\"\\x01\") is a control character", NULL },
        { "vm\x7f", "character 3 (\"\\x7f\") is a control character", NULL },
        { "vm\xff.qcow2", "character 3 (\"\\xff\") is not valid UTF-8", NULL },
        { "vm\xc3", "character 3 (\"\\xc3\") is not valid UTF-8", NULL },
        { "日本.qcow2", "character 1 (\"日\") is a double-byte character", NULL },
        { "a\\b", "is a yen mark or backslash", NULL },
        { "a\xc2\xa5", "is a yen mark or backslash", NULL },
        { "a\"b", "character 2 ('\"') is a double quote", NULL },
        { "a'b", "is a single quote", NULL },
        { "a;b", "is a semicolon", NULL },
        { "a(b)", "is a parenthesis", NULL },
        { "a:b", "character 2 (\":\") is not allowed", NULL },
};

START_TEST(test_volume_bad) {
        g_autoptr(GError) error = NULL;
        const char *const want[] = { "invalid volume name", bad_volume[_i].want1,
                                     "allowed: A-Z a-z 0-9 _ . - (1-255 characters, not starting with a dot)", NULL };
        int r = name_validate_volume(bad_volume[_i].input, &error);
        assert_error(_i, bad_volume[_i].input, r, error, want);
        ck_assert_msg(g_utf8_validate(error->message, -1, NULL), "row %d: message is not UTF-8", _i);
        ck_assert_int_eq(name_validate_volume(bad_volume[_i].input, NULL), -EINVAL);
}
END_TEST

START_TEST(test_volume_exact_message) {
        g_autoptr(GError) error = NULL;
        ck_assert_int_eq(name_validate_volume("/etc/shadow", &error), -EINVAL);
        ck_assert_str_eq(error->message,
                         "invalid volume name \"/etc/shadow\": character 1 (\"/\") is a slash (a volume is named "
                         "without a directory); allowed: A-Z a-z 0-9 _ . - (1-255 characters, not starting with a dot)");
}
END_TEST

START_TEST(test_volume_length_null) {
        g_autofree char *n255 = g_strnfill(255, 'v');
        g_autofree char *n256 = g_strnfill(256, 'v');
        g_autoptr(GError) error = NULL, enull = NULL;
        ck_assert_int_eq(name_validate_volume(n255, NULL), 0);
        const char *const want[] = { "too long", "256 characters", "at most 255", "...", NULL };
        int r = name_validate_volume(n256, &error);
        assert_error(0, "256 v", r, error, want);
        ck_assert_ptr_null(strstr(error->message, n255));
        const char *const wantnull[] = { "the name is empty", NULL };
        r = name_validate_volume(NULL, &enull);
        assert_error(1, "NULL", r, enull, wantnull);
}
END_TEST

/* A share name is always a valid volume name (the volume grammar only adds the dot). */
START_TEST(test_volume_of_valid_share) {
        ck_assert_int_eq(name_validate_volume(valid_share[_i], NULL), 0);
}
END_TEST

UNIT_ONE_PROCESS;

Suite *unit_suite(void) {
        Suite *s = suite_create("name");

        TCase *tc = tcase_create("share");
        tcase_add_loop_test(tc, test_share_valid, 0, ELEMENTSOF(valid_share));
        tcase_add_loop_test(tc, test_share_bad_char, 0, ELEMENTSOF(bad_share));
        tcase_add_test(tc, test_share_table_covers_classes);
        tcase_add_test(tc, test_share_exact_message);
        tcase_add_test(tc, test_share_empty);
        tcase_add_test(tc, test_share_length);
        tcase_add_test(tc, test_share_no_error_pointer);
        tcase_add_test(tc, test_share_error_already_set);
        tcase_add_test(tc, test_class_strings);
        suite_add_tcase(s, tc);

        tc = tcase_create("seed_safe");
        tcase_add_loop_test(tc, test_seed_safe_ok, 0, ELEMENTSOF(seed_safe_ok));
        tcase_add_loop_test(tc, test_seed_safe_bad, 0, ELEMENTSOF(seed_safe_bad));
        tcase_add_test(tc, test_seed_safe_what);
        tcase_add_test(tc, test_seed_safe_escapes_value);
        suite_add_tcase(s, tc);

        tc = tcase_create("resource");
        tcase_add_loop_test(tc, test_resource_ok, 0, ELEMENTSOF(resource_ok));
        tcase_add_loop_test(tc, test_resource_bad, 0, ELEMENTSOF(resource_bad));
        tcase_add_test(tc, test_resource_null);
        tcase_add_loop_test(tc, test_resource_of_valid_share, 0, ELEMENTSOF(valid_share));
        suite_add_tcase(s, tc);

        tc = tcase_create("volume");
        tcase_add_loop_test(tc, test_volume_valid, 0, ELEMENTSOF(valid_volume));
        tcase_add_loop_test(tc, test_volume_bad, 0, ELEMENTSOF(bad_volume));
        tcase_add_test(tc, test_volume_exact_message);
        tcase_add_test(tc, test_volume_length_null);
        tcase_add_loop_test(tc, test_volume_of_valid_share, 0, ELEMENTSOF(valid_share));
        suite_add_tcase(s, tc);

        return s;
}

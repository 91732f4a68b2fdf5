/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "error.h"
#include "exports_block.h"
#include "exports_entry.h"
#include "exports_parse.h"
#include "unit.h"

static GPtrArray *entries_new(void) {
        return g_ptr_array_new_with_free_func((GDestroyNotify) exports_entry_free);
}

static GPtrArray *share_entries(unsigned n, const char *prefix) {
        GPtrArray *a = entries_new();
        for (unsigned i = 0; i < n; i++) {
                g_autofree char *p = g_strdup_printf("/home/NFS/%s_%02u", prefix, i + 1);
                ExportsEntry *e = exports_entry_new(p);
                exports_entry_add_client(e, "*", "rw,no_root_squash,sync,no_subtree_check");
                if (i % 2)
                        exports_entry_add_client(e, "10.77.0.0/24", "rw,no_root_squash,sync,no_subtree_check");
                g_ptr_array_add(a, e);
        }
        return a;
}

static char *replace_ok(const char *text, GPtrArray *entries) {
        char *out = NULL;
        size_t len = 0;
        g_autoptr(GError) e = NULL;
        int r = exports_block_replace(text, strlen(text), "/etc/exports", entries, &out, &len, &e);
        ck_assert_msg(r == 0, "replace failed: %s", e ? e->message : "?");
        ck_assert_uint_eq(len, strlen(out));
        return out;
}

static int replace_err(const char *text, GPtrArray *entries, char **ret_msg) {
        char *out = NULL;
        size_t len = 0;
        g_autoptr(GError) e = NULL;
        int r = exports_block_replace(text, strlen(text), "/etc/exports", entries, &out, &len, &e);
        ck_assert_int_lt(r, 0);
        ck_assert_ptr_null(out);
        ck_assert_ptr_nonnull(e);
        *ret_msg = g_strdup(e->message);
        return r;
}

START_TEST(test_append_to_empty_and_admin_file) {
        g_autoptr(GPtrArray) a = share_entries(1, "NFSStorage");
        g_autofree char *out = replace_ok("", a);
        ck_assert_str_eq(out,
                         "# BEGIN nfsprov managed block\n"
                         "# Do not edit these lines: nfsprovd rewrites them. Manage shares with `nfsprov`.\n"
                         "/home/NFS/NFSStorage_01 *(rw,no_root_squash,sync,no_subtree_check)\n"
                         "# END nfsprov managed block\n");

        const char *admin = "# admin's own\n/srv/data 192.168.0.0/16(ro)"; /* no final newline */
        g_autofree char *out2 = replace_ok(admin, a);
        ck_assert(g_str_has_prefix(out2, "# admin's own\n/srv/data 192.168.0.0/16(ro)\n# BEGIN nfsprov"));
}
END_TEST

START_TEST(test_replace_in_middle_keeps_outside) {
        const char *before = "/srv/a *(ro)\n\n";
        const char *after = "\n# tail comment\n/srv/b host(rw)\n";
        g_autofree char *text = g_strconcat(before,
                                            "# BEGIN nfsprov managed block\n/home/NFS/old *(rw)\n"
                                            "# END nfsprov managed block\n",
                                            after, NULL);
        g_autoptr(GPtrArray) a = share_entries(3, "S");
        g_autofree char *out = replace_ok(text, a);
        g_autofree char *block = exports_block_render(a);
        g_autofree char *expect = g_strconcat(before, block, after, NULL);
        ck_assert_str_eq(out, expect);

        /* Empty entries keep an empty block. */
        g_autoptr(GPtrArray) none = entries_new();
        g_autofree char *out2 = replace_ok(out, none);
        ck_assert_str_eq(out2, "/srv/a *(ro)\n\n# BEGIN nfsprov managed block\n"
                               "# Do not edit these lines: nfsprovd rewrites them. Manage shares with `nfsprov`.\n"
                               "# END nfsprov managed block\n\n# tail comment\n/srv/b host(rw)\n");
}
END_TEST

START_TEST(test_block_at_eof_without_newline) {
        const char *text = "/srv/a *(ro)\n# BEGIN nfsprov managed block\n# END nfsprov managed block";
        g_autoptr(GPtrArray) a = share_entries(1, "X");
        g_autofree char *out = replace_ok(text, a);
        ck_assert(g_str_has_suffix(out, "no_subtree_check)\n# END nfsprov managed block"));
}
END_TEST

START_TEST(test_damaged_markers) {
        static const struct {
                const char *text;
                const char *expect;
        } cases[] = {
                { "/a *(ro)\n# BEGIN nfsprov managed block\n/b *(rw)\n", "/etc/exports:2: " },
                { "/a *(ro)\n\n# END nfsprov managed block\n", "/etc/exports:3: " },
                { "# BEGIN nfsprov\n# BEGIN nfsprov\n# END nfsprov\n", "/etc/exports:2: " },
                { "# BEGIN nfsprov\n# END nfsprov\n/a *(ro)\n# BEGIN nfsprov\n# END nfsprov\n", "/etc/exports:4: second" },
                { "# BEGIN nfsprov\n# END nfsprov\n# END nfsprov\n", "/etc/exports:3: " },
                { "  \t# END nfsprov managed block\n", "/etc/exports:1: " },
        };
        g_autoptr(GPtrArray) a = share_entries(1, "X");
        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *msg = NULL;
                ck_assert_int_eq(replace_err(cases[i].text, a, &msg), -EBADMSG);
                ck_assert_msg(g_str_has_prefix(msg, cases[i].expect), "case %zu: %s", i, msg);
                ExportsBlock b = { .present = true, .start = 99 };
                ck_assert_int_eq(exports_block_find(cases[i].text, strlen(cases[i].text), "/etc/exports", &b, NULL),
                                 -EBADMSG);
        }
}
END_TEST

START_TEST(test_admin_conflict_with_line_number) {
        const char *text = "# mine\n/srv/x *(ro)\n/home/NFS//S_01/ 10.0.0.1(rw)\n";
        g_autoptr(GPtrArray) a = share_entries(2, "S");
        g_autofree char *msg = NULL;
        ck_assert_int_eq(replace_err(text, a, &msg), -EEXIST);
        ck_assert_msg(g_str_has_prefix(msg, "/etc/exports:3: /home/NFS//S_01/ is exported"), "%s", msg);

        /* A conflict after the block counts too, with its real line number. */
        const char *text2 = "# BEGIN nfsprov\n/home/NFS/S_01 *(rw)\n# END nfsprov\n\n\"/home/NFS/S_02\" *(rw)\n";
        g_autofree char *msg2 = NULL;
        ck_assert_int_eq(replace_err(text2, a, &msg2), -EEXIST);
        ck_assert_msg(g_str_has_prefix(msg2, "/etc/exports:5: "), "%s", msg2);

        /* Our own old entries inside the block are not conflicts. */
        g_autofree char *ok = replace_ok("# BEGIN nfsprov\n/home/NFS/S_01 *(rw)\n# END nfsprov\n", a);
        ck_assert_ptr_nonnull(ok);
}
END_TEST

START_TEST(test_duplicate_entries_refused) {
        g_autoptr(GPtrArray) a = share_entries(1, "S");
        ExportsEntry *dup = exports_entry_new("/home/NFS/S_01/");
        exports_entry_add_client(dup, "*", "rw");
        g_ptr_array_add(a, dup);
        g_autofree char *msg = NULL;
        ck_assert_int_eq(replace_err("", a, &msg), -EINVAL);
        ck_assert_ptr_nonnull(strstr(msg, "listed twice"));
}
END_TEST

START_TEST(test_admin_parse_error_refused) {
        g_autoptr(GPtrArray) a = share_entries(1, "S");
        g_autofree char *msg = NULL;
        ck_assert_int_lt(replace_err("/srv/a host(rw\n", a, &msg), 0);
        ck_assert_ptr_nonnull(strstr(msg, "/etc/exports:1:"));
}
END_TEST

/* A NUL byte does not hide what follows it: the admin's part is checked, and the block read, to
 * the end (found by tests/fuzz/fuzz_exports; nfs-utils reads a NUL where a token may start as
 * a blank). */
START_TEST(test_nul_hides_nothing) {
        static const char text[] = "# mine\0\n/home/NFS/S_01 10.0.0.1(rw)\n";
        g_autoptr(GPtrArray) a = share_entries(1, "S");
        char *out = NULL;
        size_t len = 0;
        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(exports_block_replace(text, sizeof(text) - 1, "/etc/exports", a, &out, &len, &e), -EEXIST);
        ck_assert_ptr_null(out);
        ck_assert_msg(g_str_has_prefix(e->message, "/etc/exports:2: /home/NFS/S_01 is exported"), "%s", e->message);

        static const char block[] = "# BEGIN nfsprov\n/home/NFS/S_01 *(rw)\n\0/home/NFS/S_02 *(rw)\n# END nfsprov\n";
        g_autoptr(GPtrArray) back = NULL;
        ck_assert_int_eq(exports_block_entries(block, sizeof(block) - 1, "/etc/exports", &back, NULL), 0);
        ck_assert_uint_eq(back->len, 2);
        ck_assert_str_eq(((ExportsEntry *) g_ptr_array_index(back, 1))->path, "/home/NFS/S_02");
}
END_TEST

/* The line before the block must not run into it: a backslash that ends the file becomes a line
 * continuation once the block is appended. Refused where the result would not parse (found by
 * tests/fuzz/fuzz_exports); harmless where it joins the BEGIN comment to a complete entry. */
START_TEST(test_backslash_before_block) {
        g_autoptr(GPtrArray) a = share_entries(1, "S");
        g_autofree char *msg = NULL;
        ck_assert_int_eq(replace_err("/srv/a -\\", a, &msg), -EINVAL);
        ck_assert_msg(g_str_has_prefix(msg, "with nfsprov's block added the file would not read as it should"), "%s",
                      msg);
        ck_assert_ptr_nonnull(strstr(msg, "/etc/exports:1: "));

        /* On its own the last line exports "/home/NFS/S_01\"; continued, it exports nfsprov's path. */
        g_autofree char *msg2 = NULL;
        ck_assert_int_eq(replace_err("\\\n/home/NFS/S_01\\", a, &msg2), -EEXIST);
        ck_assert_msg(strstr(msg2, "/etc/exports:2: /home/NFS/S_01 is exported by an entry outside"), "%s", msg2);

        g_autofree char *out = replace_ok("/srv/a h(rw) \\", a);
        g_autoptr(GPtrArray) all = NULL;
        ck_assert_int_eq(exports_parse(out, strlen(out), "/etc/exports", &all, NULL), 0);
        ck_assert_uint_eq(all->len, 2);
}
END_TEST

START_TEST(test_entries_read_back) {
        g_autoptr(GPtrArray) a = share_entries(4, "R");
        g_autofree char *out = replace_ok("/srv/a *(ro)\n", a);
        g_autoptr(GPtrArray) back = NULL;
        ck_assert_int_eq(exports_block_entries(out, strlen(out), "/etc/exports", &back, NULL), 0);
        ck_assert_uint_eq(back->len, 4);
        for (guint i = 0; i < back->len; i++) {
                ExportsEntry *x = g_ptr_array_index(a, i), *y = g_ptr_array_index(back, i);
                ck_assert_str_eq(x->path, y->path);
                ck_assert_uint_eq(y->line, i + 4); /* admin line, BEGIN, note, then entries */
                ck_assert_uint_eq(x->clients->len, y->clients->len);
        }
}
END_TEST

/* ---- property: random admin files ---- */

static void random_admin_line(GRand *rnd, GString *s, unsigned idx) {
        switch (g_rand_int_range(rnd, 0, 9)) {
        case 0:
                g_string_append(s, "# a comment with BEGIN and END words");
                break;
        case 1:
                break; /* blank */
        case 2:
                g_string_append(s, "   \t  ");
                break;
        case 3:
                g_string_append_printf(s, "/srv/admin/%u *(ro,sync) 10.1.%u.0/24(rw)", idx, idx % 256);
                break;
        case 4:
                g_string_append_printf(s, "\"/srv/admin/q %u\" -sync host%u(rw) @group(ro)", idx, idx);
                break;
        case 5:
                g_string_append_printf(s, "/srv/admin/c%u \\\n\t192.168.%u.1(rw,no_root_squash)", idx, idx % 256);
                break;
        case 6:
                g_string_append_printf(s, "/srv/admin/e\\040%u *(rw) # trailing comment", idx);
                break;
        case 7:
                g_string_append_printf(s, "/srv/admin/crlf%u *(ro)\r", idx);
                break;
        default:
                g_string_append_printf(s, "  /srv/admin/indented%u\t*(rw)", idx);
                break;
        }
}

static char *random_admin_file(GRand *rnd, bool with_block, size_t *ret_block_at) {
        GString *s = g_string_new(NULL);
        unsigned n = (unsigned) g_rand_int_range(rnd, 0, 12);
        unsigned block_at = with_block ? (unsigned) g_rand_int_range(rnd, 0, (gint32) n + 1) : UINT_MAX;
        for (unsigned i = 0; i <= n; i++) {
                if (i == block_at) {
                        if (s->len > 0 && s->str[s->len - 1] != '\n')
                                g_string_append_c(s, '\n');
                        *ret_block_at = s->len;
                        g_string_append(s, "# BEGIN nfsprov managed block\n/home/NFS/stale *(rw)\n"
                                           "# END nfsprov managed block\n");
                }
                if (i == n)
                        break;
                random_admin_line(rnd, s, i);
                if (i + 1 < n || g_rand_boolean(rnd))
                        g_string_append_c(s, '\n');
        }
        return g_string_free(s, FALSE);
}

START_TEST(test_property_outside_bytes_identical) {
        g_autoptr(GRand) rnd = g_rand_new_with_seed(20261123);
        for (unsigned iter = 0; iter < 2000; iter++) {
                bool with_block = g_rand_boolean(rnd);
                size_t block_at = 0;
                g_autofree char *orig = random_admin_file(rnd, with_block, &block_at);
                size_t orig_len = strlen(orig);

                ExportsBlock ob;
                ck_assert_int_eq(exports_block_find(orig, orig_len, "f", &ob, NULL), 0);
                ck_assert(ob.present == with_block);
                /* The bytes outside nfsprov's block in the original. */
                g_autofree char *pre = g_strndup(orig, with_block ? ob.start : orig_len);
                g_autofree char *post = g_strdup(with_block ? orig + ob.end : "");

                g_autoptr(GPtrArray) a = share_entries((unsigned) g_rand_int_range(rnd, 0, 5), "A");
                g_autoptr(GPtrArray) b = share_entries((unsigned) g_rand_int_range(rnd, 0, 5), "B");
                g_autofree char *once = replace_ok(orig, a);
                g_autofree char *twice = replace_ok(once, b);

                ExportsBlock nb;
                ck_assert_int_eq(exports_block_find(twice, strlen(twice), "f", &nb, NULL), 0);
                ck_assert(nb.present);
                g_autofree char *block_b = exports_block_render(b);
                if (with_block) {
                        ck_assert_uint_eq(nb.start, strlen(pre));
                        ck_assert_int_eq(memcmp(twice, pre, strlen(pre)), 0);
                        ck_assert_str_eq(twice + nb.end, post);
                } else {
                        /* appended: the original is an untouched prefix (plus a newline if it lacked one) */
                        ck_assert_int_eq(memcmp(twice, orig, orig_len), 0);
                        size_t expect_start = orig_len + (orig_len > 0 && orig[orig_len - 1] != '\n');
                        ck_assert_uint_eq(nb.start, expect_start);
                        ck_assert_uint_eq(nb.end, strlen(twice));
                }
                /* the block holds exactly what was written */
                ck_assert_int_eq(memcmp(twice + nb.start, block_b, nb.end - nb.start), 0);

                g_autoptr(GPtrArray) back = NULL;
                ck_assert_int_eq(exports_block_entries(twice, strlen(twice), "f", &back, NULL), 0);
                ck_assert_uint_eq(back->len, b->len);
                for (guint i = 0; i < b->len; i++)
                        ck_assert_str_eq(((ExportsEntry *) g_ptr_array_index(back, i))->path,
                                         ((ExportsEntry *) g_ptr_array_index(b, i))->path);

                /* replacing with the same entries again is a no-op */
                g_autofree char *thrice = replace_ok(twice, b);
                ck_assert_str_eq(thrice, twice);
        }
}
END_TEST

Suite *unit_suite(void) {
        Suite *s = suite_create("exports_block");
        TCase *tc = tcase_create("block");
        tcase_add_test(tc, test_append_to_empty_and_admin_file);
        tcase_add_test(tc, test_replace_in_middle_keeps_outside);
        tcase_add_test(tc, test_block_at_eof_without_newline);
        tcase_add_test(tc, test_damaged_markers);
        tcase_add_test(tc, test_admin_conflict_with_line_number);
        tcase_add_test(tc, test_duplicate_entries_refused);
        tcase_add_test(tc, test_admin_parse_error_refused);
        tcase_add_test(tc, test_entries_read_back);
        tcase_add_test(tc, test_nul_hides_nothing);
        tcase_add_test(tc, test_backslash_before_block);
        suite_add_tcase(s, tc);
        TCase *prop = tcase_create("property");
        tcase_set_timeout(prop, 60);
        tcase_add_test(prop, test_property_outside_bytes_identical);
        suite_add_tcase(s, prop);
        return s;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The cases marked "exportfs:" were checked against nfs-utils 2.6.2 (Debian 12): the file was
 * bind-mounted over /etc/exports in a private mount namespace, "exportfs -ra" run, and
 * /var/lib/nfs/etab read back.
 */
#include "config.h"

#include <string.h>

#include "error.h"
#include "exports_entry.h"
#include "exports_parse.h"
#include "unit.h"

#define FILENAME "/etc/exports"

static GPtrArray *parse_len_ok(const char *text, size_t len) {
        g_autoptr(GError) error = NULL;
        GPtrArray *entries = NULL;

        int r = exports_parse(text, len, FILENAME, &entries, &error);
        ck_assert_msg(r == 0, "parse failed (%d): %s", r, error ? error->message : "(no message)");
        ck_assert_ptr_null(error);
        ck_assert_ptr_nonnull(entries);
        return entries;
}

static GPtrArray *parse_ok(const char *text) {
        return parse_len_ok(text, strlen(text));
}

/* Expects failure with "FILENAME:line: <message containing what>". */
static void parse_len_fails(const char *text, size_t len, unsigned line, const char *what) {
        g_autoptr(GError) error = NULL;
        GPtrArray *entries = (GPtrArray *) &error; /* must stay untouched */

        int r = exports_parse(text, len, FILENAME, &entries, &error);
        ck_assert_int_eq(r, -EINVAL);
        ck_assert_ptr_eq(entries, (GPtrArray *) &error);
        ck_assert_ptr_nonnull(error);
        ck_assert(error->domain == NP_ERROR);
        ck_assert_int_eq(error->code, EINVAL);

        g_autofree char *prefix = g_strdup_printf(FILENAME ":%u: ", line);
        ck_assert_msg(g_str_has_prefix(error->message, prefix), "message \"%s\" does not start with \"%s\"",
                      error->message, prefix);
        ck_assert_msg(strstr(error->message, what), "message \"%s\" does not contain \"%s\"", error->message,
                      what);
        ck_assert_ptr_null(strchr(error->message, '\n'));
}

static void parse_fails(const char *text, unsigned line, const char *what) {
        parse_len_fails(text, strlen(text), line, what);
}

static const ExportsEntry *entry_at(GPtrArray *entries, guint i) {
        ck_assert_uint_lt(i, entries->len);
        return g_ptr_array_index(entries, i);
}

static void check_entry(GPtrArray *entries, guint i, const char *path, unsigned line,
                        const char *default_options, guint n_clients) {
        const ExportsEntry *e = entry_at(entries, i);
        ck_assert_str_eq(e->path, path);
        ck_assert_uint_eq(e->line, line);
        ck_assert_pstr_eq(e->default_options, default_options);
        ck_assert_uint_eq(e->clients->len, n_clients);
}

static void check_client(GPtrArray *entries, guint i, guint j, const char *host, const char *options) {
        const ExportsEntry *e = entry_at(entries, i);
        ck_assert_uint_lt(j, e->clients->len);
        const ExportsClient *c = g_ptr_array_index(e->clients, j);
        ck_assert_str_eq(c->host, host);
        ck_assert_pstr_eq(c->options, options);
}

/* ---- files that parse ---- */

START_TEST(test_empty) {
        static const char *const texts[] = {
                "", "\n", "\n\n\n", "   \t \n\t\n", "# only a comment", "# a\n  # b\n\t#c\n\n",
                "#\n", "\\\n", " \\\n\t\\\n",
        };
        for (size_t i = 0; i < G_N_ELEMENTS(texts); i++) {
                g_autoptr(GPtrArray) entries = parse_ok(texts[i]);
                ck_assert_uint_eq(entries->len, 0);
        }

        g_autoptr(GPtrArray) entries = parse_len_ok(NULL, 0);
        ck_assert_uint_eq(entries->len, 0);
}
END_TEST

START_TEST(test_simple) {
        g_autoptr(GPtrArray) entries = parse_ok("/home/NFS/NFSStorage_01 *(rw,no_root_squash,sync,no_subtree_check)\n");

        ck_assert_uint_eq(entries->len, 1);
        check_entry(entries, 0, "/home/NFS/NFSStorage_01", 1, NULL, 1);
        check_client(entries, 0, 0, "*", "rw,no_root_squash,sync,no_subtree_check");
}
END_TEST

START_TEST(test_comments_everywhere) {
        /* exportfs: only /x/a and its "*" client; "#notcomment" belongs to the path, "h#2" is a
         * host, the comment after the path alone ends that entry. */
        g_autoptr(GPtrArray) entries = parse_ok(
                "# leading comment\n"                             /* 1 */
                "\n"                                              /* 2 */
                "   # indented comment\n"                         /* 3 */
                "/x/a *(rw,sync) # trailing comment *(ro)\n"      /* 4 */
                "/x/b#notcomment h#2(sync) \"#h\"*(rw)\n"         /* 5 */
                "/x/c # comment right after the path h(rw)\n"     /* 6 */
                "/x/d -ro # after default options\n"              /* 7 */
                "\t#/x/e *(rw)\n"                                 /* 8 */
                "/x/f\t#\n"                                       /* 9 */
                "#");                                             /* 10 */

        ck_assert_uint_eq(entries->len, 5);
        check_entry(entries, 0, "/x/a", 4, NULL, 1);
        check_client(entries, 0, 0, "*", "rw,sync");
        check_entry(entries, 1, "/x/b#notcomment", 5, NULL, 2);
        check_client(entries, 1, 0, "h#2", "sync");
        check_client(entries, 1, 1, "#h*", "rw");
        check_entry(entries, 2, "/x/c", 6, NULL, 0);
        check_entry(entries, 3, "/x/d", 7, "ro", 0);
        check_entry(entries, 4, "/x/f", 9, NULL, 0);
}
END_TEST

START_TEST(test_comment_glued_to_client) {
        /* exportfs: "/etc/exports:2: syntax error: bad option list" - its line counter skips comment
         * lines; the token is on line 5. */
        parse_fails("# leading comment\n"
                    "\n"
                    "   # indented comment\n"
                    "/x/a *(rw,sync) # trailing comment *(ro)\n"
                    "/x/b#notcomment h1*(rw,sync)#x\n",
                    5, "bad option list");
}
END_TEST

START_TEST(test_blank_lines_and_tabs) {
        g_autoptr(GPtrArray) entries = parse_ok(
                "\n"
                "\t\n"
                "   \n"
                "\t/x/a\th1*(rw,sync)\t\th2*(ro,sync)\t\n"
                "\n"
                "  /x/b   \t  h3(rw)  \n"
                "\n\n");

        ck_assert_uint_eq(entries->len, 2);
        check_entry(entries, 0, "/x/a", 4, NULL, 2);
        check_client(entries, 0, 0, "h1*", "rw,sync");
        check_client(entries, 0, 1, "h2*", "ro,sync");
        check_entry(entries, 1, "/x/b", 6, NULL, 1);
        check_client(entries, 1, 0, "h3", "rw");
}
END_TEST

START_TEST(test_no_trailing_newline) {
        g_autoptr(GPtrArray) entries = parse_ok("/x/a *(rw)\n/x/d h4*(sync)");

        ck_assert_uint_eq(entries->len, 2);
        check_entry(entries, 1, "/x/d", 2, NULL, 1);
        check_client(entries, 1, 0, "h4*", "sync");

        g_autoptr(GPtrArray) alone = parse_ok("/x/e");
        ck_assert_uint_eq(alone->len, 1);
        check_entry(alone, 0, "/x/e", 1, NULL, 0);
}
END_TEST

START_TEST(test_continuation) {
        /* exportfs: /x/a exported to * and 10.1.0.0/16, /x/b to *. */
        g_autoptr(GPtrArray) entries = parse_ok(
                "/x/a\\\n"
                "   *(rw,sync) \\\n"
                "\t10.1.0.0/16(ro,sync)\n"
                "/x/b *(ro,sync)\n"
                "\n"
                "/x/c \\\n"
                "\\\n"
                "   \\\n"
                "h(rw)\n"
                "/x/d h(ro)\n");

        ck_assert_uint_eq(entries->len, 4);
        check_entry(entries, 0, "/x/a", 1, NULL, 2);
        check_client(entries, 0, 0, "*", "rw,sync");
        check_client(entries, 0, 1, "10.1.0.0/16", "ro,sync");
        check_entry(entries, 1, "/x/b", 4, NULL, 1);
        check_entry(entries, 2, "/x/c", 6, NULL, 1);
        check_client(entries, 2, 0, "h", "rw");
        check_entry(entries, 3, "/x/d", 10, NULL, 1);
}
END_TEST

START_TEST(test_continuation_splits_token) {
        /* The newline and the next line's leading blanks read as one blank, also inside a token. */
        g_autoptr(GPtrArray) entries = parse_ok("/x/a\\\n  b *(rw)\n");

        ck_assert_uint_eq(entries->len, 1);
        check_entry(entries, 0, "/x/a", 1, NULL, 2);
        check_client(entries, 0, 0, "b", NULL);
        check_client(entries, 0, 1, "*", "rw");
}
END_TEST

START_TEST(test_continuation_then_comment) {
        /* exportfs: a comment after a continuation ends the entry; the next line is a new entry
         * whose path is "h1*(rw,sync)". */
        g_autoptr(GPtrArray) entries = parse_ok(
                "/x/a \\\n"
                "# comment after continuation\n"
                "  h1*(rw,sync)\n"
                "/x/b\n");

        ck_assert_uint_eq(entries->len, 3);
        check_entry(entries, 0, "/x/a", 1, NULL, 0);
        check_entry(entries, 1, "h1*(rw,sync)", 3, NULL, 0);
        check_entry(entries, 2, "/x/b", 4, NULL, 0);
}
END_TEST

START_TEST(test_comment_ends_at_newline) {
        /* A backslash at the end of a comment does not continue it. */
        g_autoptr(GPtrArray) entries = parse_ok("/x/a *(rw) # comment \\\n/x/b *(ro)\n");

        ck_assert_uint_eq(entries->len, 2);
        check_entry(entries, 0, "/x/a", 1, NULL, 1);
        check_entry(entries, 1, "/x/b", 2, NULL, 1);
}
END_TEST

START_TEST(test_quoted_path) {
        /* exportfs: paths "/x/b c" and "/x/de fg". */
        g_autoptr(GPtrArray) entries = parse_ok(
                "\"/x/b c\" *(rw,sync)\n"
                "/x/d\"e f\"g *(ro,sync)\n"
                "\"/x/h\"\"\" \"*\"(rw)\n"
                "/x/\"a\\\n   b\" *(rw,sync)\n"
                "\"/x/# not a comment\" h\"(r\"w)\n");

        ck_assert_uint_eq(entries->len, 5);
        check_entry(entries, 0, "/x/b c", 1, NULL, 1);
        check_client(entries, 0, 0, "*", "rw,sync");
        check_entry(entries, 1, "/x/de fg", 2, NULL, 1);
        check_entry(entries, 2, "/x/h", 3, NULL, 1);
        check_client(entries, 2, 0, "*", "rw");
        /* exportfs: a continuation inside quotes is one space ("/x/a b"). */
        check_entry(entries, 3, "/x/a b", 4, NULL, 1);
        check_entry(entries, 4, "/x/# not a comment", 6, NULL, 1);
        check_client(entries, 4, 0, "h", "rw");
}
END_TEST

START_TEST(test_quoted_options) {
        /* exportfs: h1* gets rw,sync (it skips the blanks after commas itself). */
        g_autoptr(GPtrArray) entries = parse_ok("/x/a h1*(r\"w,  s\"ync) \"h 2\"\n");

        check_entry(entries, 0, "/x/a", 1, NULL, 2);
        check_client(entries, 0, 0, "h1*", "rw,  sync");
        check_client(entries, 0, 1, "h 2", NULL);
}
END_TEST

START_TEST(test_octal_escapes) {
        /* exportfs: "/x/sp ace", "/x/t x" (the decoded backslash of \134 starts another escape
         * with "040"), "/x/u\400" (not a byte, left alone), "/x/été". */
        g_autoptr(GPtrArray) entries = parse_ok(
                "/x/sp\\040ace *(rw,sync)\n"
                "/x/t\\134040x *(rw,sync)\n"
                "/x/u\\400 *(rw,sync)\n"
                "/x/\\303\\251t\\303\\251 *(rw,sync)\n"
                "/x/\\11\\0401 *(rw)\n"
                "/x/\\\\ *(rw)\n"
                "/x/\\043\\042\\134 *(rw)\n"
                "/x/\\08\\1a \\052(rw\\054sync\\051\n");

        ck_assert_uint_eq(entries->len, 8);
        check_entry(entries, 0, "/x/sp ace", 1, NULL, 1);
        check_entry(entries, 1, "/x/t x", 2, NULL, 1);
        check_entry(entries, 2, "/x/u\\400", 3, NULL, 1);
        check_entry(entries, 3, "/x/\xc3\xa9t\xc3\xa9", 4, NULL, 1);
        check_entry(entries, 4, "/x/\\11 1", 5, NULL, 1);
        check_entry(entries, 5, "/x/\\\\", 6, NULL, 1);
        check_entry(entries, 6, "/x/#\"\\", 7, NULL, 1);
        /* Escapes are decoded before the parentheses are looked for: \051 closes the options. */
        check_entry(entries, 7, "/x/\\08\\1a", 8, NULL, 1);
        check_client(entries, 7, 0, "*", "rw,sync");
}
END_TEST

START_TEST(test_escape_across_quote) {
        /* exportfs: quotes are dropped before escapes are decoded, so \"040 is a space - and the
         * quote stays open (here it is closed again). */
        g_autoptr(GPtrArray) entries = parse_ok("/x/v\\\"040\" *(rw)\n");

        check_entry(entries, 0, "/x/v ", 1, NULL, 1);
        check_client(entries, 0, 0, "*", "rw");
}
END_TEST

START_TEST(test_many_clients) {
        g_autoptr(GPtrArray) entries = parse_ok(
                "/x/a 10.0.0.0/24(ro,sync) @ng(rw) fe80::1/64(rw) host1 *.example.org(ro) "
                "192.168.1.7/255.255.255.0(rw) [ab]*(sync) gss/krb5i(sec=krb5i) 2001:db8::/32\n");

        check_entry(entries, 0, "/x/a", 1, NULL, 9);
        check_client(entries, 0, 0, "10.0.0.0/24", "ro,sync");
        check_client(entries, 0, 1, "@ng", "rw");
        check_client(entries, 0, 2, "fe80::1/64", "rw");
        check_client(entries, 0, 3, "host1", NULL);
        check_client(entries, 0, 4, "*.example.org", "ro");
        check_client(entries, 0, 5, "192.168.1.7/255.255.255.0", "rw");
        check_client(entries, 0, 6, "[ab]*", "sync");
        check_client(entries, 0, 7, "gss/krb5i", "sec=krb5i");
        check_client(entries, 0, 8, "2001:db8::/32", NULL);
}
END_TEST

START_TEST(test_default_options) {
        /* exportfs: /x/a to h* (ro) and 10.0.0.1 (rw, from the defaults); /x/b to everybody with
         * async; "(rw,sync)" exports /x/c to "*"; /x/d alone to everybody. */
        g_autoptr(GPtrArray) entries = parse_ok(
                "/x/a -rw,no_root_squash h*(ro) 10.0.0.1\n"
                "/x/b -async\n"
                "/x/c (rw,sync)\n"
                "/x/d\n"
                "/x/e \"-ro\" ()\n"
                "/x/f -ro( h\n");

        ck_assert_uint_eq(entries->len, 6);
        check_entry(entries, 0, "/x/a", 1, "rw,no_root_squash", 2);
        check_client(entries, 0, 0, "h*", "ro");
        check_client(entries, 0, 1, "10.0.0.1", NULL);
        check_entry(entries, 1, "/x/b", 2, "async", 0);
        check_entry(entries, 2, "/x/c", 3, NULL, 1);
        check_client(entries, 2, 0, "", "rw,sync");
        check_entry(entries, 3, "/x/d", 4, NULL, 0);
        check_entry(entries, 4, "/x/e", 5, "ro", 1);
        check_client(entries, 4, 0, "", "");
        /* The default-options field is taken whole; exportfs itself would reject "ro(". */
        check_entry(entries, 5, "/x/f", 6, "ro(", 1);
}
END_TEST

START_TEST(test_parentheses) {
        g_autoptr(GPtrArray) entries = parse_ok("/x/a h(a(b) x)y(rw) h() ((rw)\n");

        /* The first "(" starts the options, the first ")" after it must end the token. */
        check_client(entries, 0, 0, "h", "a(b");
        check_client(entries, 0, 1, "x)y", "rw");
        check_client(entries, 0, 2, "h", "");
        check_client(entries, 0, 3, "", "(rw");
}
END_TEST

START_TEST(test_crlf) {
        /* exportfs: \r ends a token like a blank and is harmless right before the newline. */
        g_autoptr(GPtrArray) entries = parse_ok(
                "/x/a\th1*(rw,sync)\t\th2*(ro,sync)\r\n"
                "/x/b h3*(rw,sync) \r\n"
                "/x/c\r\n"
                "# comment\r\n"
                "/x/d h4*(sync) \t\r");

        ck_assert_uint_eq(entries->len, 4);
        check_entry(entries, 0, "/x/a", 1, NULL, 2);
        check_client(entries, 0, 1, "h2*", "ro,sync");
        check_entry(entries, 1, "/x/b", 2, NULL, 1);
        check_client(entries, 1, 0, "h3*", "rw,sync");
        check_entry(entries, 2, "/x/c", 3, NULL, 0);
        check_entry(entries, 3, "/x/d", 5, NULL, 1);
        check_client(entries, 3, 0, "h4*", "sync");
}
END_TEST

START_TEST(test_nul_separates) {
        /* exportfs: a NUL byte outside quotes separates tokens like a blank. */
        static const char text[] = "/x/a\0/x/b h1*(rw,sync)\0h2*(ro)\n";
        g_autoptr(GPtrArray) entries = parse_len_ok(text, sizeof(text) - 1);

        check_entry(entries, 0, "/x/a", 1, NULL, 3);
        check_client(entries, 0, 0, "/x/b", NULL);
        check_client(entries, 0, 1, "h1*", "rw,sync");
        check_client(entries, 0, 2, "h2*", "ro");
}
END_TEST

START_TEST(test_len_not_strlen) {
        /* Only len bytes are read. */
        g_autoptr(GPtrArray) entries = parse_len_ok("/x/a *(rw) /x/b", 10);

        check_entry(entries, 0, "/x/a", 1, NULL, 1);
        check_client(entries, 0, 0, "*", "rw");
}
END_TEST

START_TEST(test_line_numbers_after_continuations) {
        g_autoptr(GPtrArray) entries = parse_ok(
                "# 1\n"
                "\n"
                "/l3 a \\\n"
                "  b \\\n"
                "  c\n"
                "# 6\n"
                "   /l7 \"x\\\n"
                "y\"\n"
                "\n"
                "\\\n"
                "  /l11\n"
                "\n"
                "/l13 # c\n"
                "/l14");

        ck_assert_uint_eq(entries->len, 5);
        check_entry(entries, 0, "/l3", 3, NULL, 3);
        check_entry(entries, 1, "/l7", 7, NULL, 1);
        check_client(entries, 1, 0, "x y", NULL);
        check_entry(entries, 2, "/l11", 11, NULL, 0);
        check_entry(entries, 3, "/l13", 13, NULL, 0);
        check_entry(entries, 4, "/l14", 14, NULL, 0);
}
END_TEST

static char *repeat(char c, size_t n) {
        char *s = g_malloc(n + 1);
        memset(s, c, n);
        s[n] = '\0';
        return s;
}

START_TEST(test_long_path) {
        /* exportfs: a 1024-byte path is read, 1025 bytes stop the reading (silently). */
        g_autofree char *p1024 = repeat('p', 1023);
        g_autofree char *p1025 = repeat('q', 1024);
        g_autofree char *ok = g_strdup_printf("/%s *(rw,sync)\n", p1024);
        g_autofree char *bad = g_strdup_printf("/%s *(rw,sync)\n/%s *(rw,sync)\n", p1024, p1025);

        g_autoptr(GPtrArray) entries = parse_ok(ok);
        ck_assert_uint_eq(strlen(entry_at(entries, 0)->path), 1024);

        parse_fails(bad, 2, "path is too long");
}
END_TEST

START_TEST(test_long_client) {
        /* exportfs: a 511-byte client is read, 512 bytes are "syntax error" / "expected
         * client(options...)". */
        g_autofree char *h506 = repeat('h', 511 - strlen("*(rw)"));
        g_autofree char *k507 = repeat('k', 512 - strlen("*(rw)"));
        g_autofree char *ok = g_strdup_printf("/x/a %s*(rw)\n", h506);
        g_autofree char *bad = g_strdup_printf("/x/a %s*(rw)\n/x/b\n/x/b %s*(rw)\n", h506, k507);

        g_autoptr(GPtrArray) entries = parse_ok(ok);
        const ExportsClient *c = g_ptr_array_index(entry_at(entries, 0)->clients, 0);
        ck_assert_uint_eq(strlen(c->host), 507);

        parse_fails(bad, 3, "client is too long");
}
END_TEST

START_TEST(test_long_client_raw_bytes) {
        /* exportfs counts bytes as they are stored, before an escape is complete: with 509 bytes
         * read, "\05" fills the buffer although "\051" would have made it 510 bytes long. */
        g_autofree char *m505 = repeat('m', 505);
        g_autofree char *n504 = repeat('n', 504);
        g_autofree char *bad = g_strdup_printf("/x/a %s*(rw\\051\n", m505);
        g_autofree char *ok = g_strdup_printf("/x/a %s*(rw\\051\n", n504);

        parse_fails(bad, 1, "client is too long");

        g_autoptr(GPtrArray) entries = parse_ok(ok);
        g_autofree char *host = g_strconcat(n504, "*", NULL);
        check_client(entries, 0, 0, host, "rw");
}
END_TEST

/* ---- files that fail ---- */

START_TEST(test_bad_option_list) {
        parse_fails("/x/a h(rw\n", 1, "bad option list");
        parse_fails("/x/a h(rw,sync)x\n", 1, "bad option list");
        /* exportfs: "bad option list" for both. */
        parse_fails("/x/a h1*(rw,sync) h2*(rw)x\n/x/b *(rw,sync)\n", 1, "bad option list");
        parse_fails("/x/a h1*(rw,sync(x))\n", 1, "bad option list");
        parse_fails("/x/a h(rw))\n", 1, "bad option list");
        parse_fails("/x/a h(\n", 1, "bad option list");
        parse_fails("/x/a (\n", 1, "bad option list");
        parse_fails("/x/a *(rw)\n\n/x/b h(rw)\t(ro)\n/x/c x(rw)y\n", 4, "bad option list");
        /* A quoted blank inside the option list does not hide the text after ")". */
        parse_fails("/x/a \"h(rw) x\"\n", 1, "bad option list");
}
END_TEST

START_TEST(test_error_line_after_continuations) {
        parse_fails("# c\n"
                    "\n"
                    "/a \\\n"
                    "  *(rw) \\\n"
                    "  h(rw\n",
                    5, "bad option list");
        parse_fails("/a \\\n"
                    "  *(rw) \\\n"
                    "\\\n"
                    "  -ro\n",
                    4, "default options");
}
END_TEST

START_TEST(test_open_quote) {
        /* exportfs reads on across the newline: the path of c5 became "/x/v  *(rw,sync)\n". */
        parse_fails("/x/a *(rw)\n/x/v\\\"040 *(rw,sync)\n/x/w *(rw)\n", 2, "quote");
        parse_fails("\"/x/a *(rw)\n", 1, "quote");
        parse_fails("/x/a \"*(rw)\n/x/b\n", 1, "quote");
        parse_fails("/x/a *(rw)\n\n/x/b \"h\"\"(rw)", 3, "quote");
        parse_fails("/x/a *(\"rw", 1, "quote");
}
END_TEST

START_TEST(test_empty_default_options) {
        /* exportfs accepts "-" (no default options); the contract makes it an error. */
        parse_fails("/x/a -\n/x/b *(rw,sync)\n", 1, "\"-\" without default options");
        parse_fails("/x/a\n/x/b - *(rw)\n", 2, "\"-\" without default options");
}
END_TEST

START_TEST(test_misplaced_default_options) {
        /* exportfs: "-ro" after a client sets new defaults for the clients after it (d3: h2* got
         * ro) and, at the end of the line, adds an export to everybody (d4). */
        parse_fails("/x/a h1*(rw,sync) -ro h2*(sync)\n/x/b *(rw,sync)\n", 1, "must directly follow the path");
        parse_fails("/x/a h1*(rw,sync) -ro\n/x/b *(rw,sync)\n", 1, "must directly follow the path");
        /* exportfs takes a second "-..." token right after the defaults for a host. */
        parse_fails("/x/a -ro -rw\n/x/b\n", 1, "must directly follow the path");
        parse_fails("/x/a\n\n/x/b -ro h(rw) -bad(rw)\n", 3, "\"-bad(rw)\"");
}
END_TEST

START_TEST(test_empty_token) {
        /* exportfs: "" as the path stops the reading (g2: /x/b missing) */
        parse_fails("/x/a *(rw,sync)\n\"\" *(rw)\n/x/b *(rw,sync)\n", 2, "empty quoted token");
        /* right after the path it adds an export to everybody (d5) */
        parse_fails("/x/a \"\" h1*(rw,sync)\n/x/b *(rw,sync)\n", 1, "empty quoted token");
        /* later it ends the entry and "/x/c" becomes a new path (d6) */
        parse_fails("/x/a h1*(rw,sync) \"\" /x/c h2*(sync)\n/x/b *(rw,sync)\n", 1, "empty quoted token");
        parse_fails("/x/a -ro \"\"\"\"\n", 1, "empty quoted token");
}
END_TEST

START_TEST(test_crlf_blank_line) {
        /* exportfs: a line holding only "\r" ends the reading (e2: /x/b missing), so does one
         * holding a form feed (e5). */
        parse_fails("/x/a h1*(rw,sync)\r\n\r\n/x/b *(rw,sync)\n", 2, "carriage return at the start of a line");
        parse_fails("/x/a h1*(rw,sync)\n  \r\n/x/b *(rw,sync)\n", 2, "carriage return at the start of a line");
        parse_fails("/x/a h1*(rw,sync)\n \f\n/x/b *(rw,sync)\n", 2, "form feed at the start of a line");
        parse_fails("\v/x/a\n", 1, "vertical tab at the start of a line");
}
END_TEST

START_TEST(test_cr_mid_line) {
        /* exportfs: "/x/a \r h1*(rw,sync)" exports /x/a to everybody and to h1* (e4). */
        parse_fails("/x/a \r h1*(rw,sync)\n/x/b *(rw,sync)\n", 1, "carriage return in the middle of a line");
        parse_fails("/x/a h1*(rw) \r /x/c\n", 1, "carriage return in the middle of a line");
        parse_fails("/x/a\n/x/b h1*(rw) \f\n", 2, "form feed in the middle of a line");
}
END_TEST

START_TEST(test_backslash_crlf) {
        /* exportfs: no continuation; "\" becomes a host and the next line a path "h2*(ro,sync)" (e3). */
        parse_fails("/x/a h1*(rw,sync) \\\r\n  h2*(ro,sync)\r\n/x/b *(rw,sync)\n", 1, "CRLF");
        parse_fails("/x/a\n/x/b\\\r\n", 2, "CRLF");
        /* Inside a comment it does not matter. */
        g_autoptr(GPtrArray) entries = parse_ok("/x/a # c \\\r\n/x/b\r\n");
        ck_assert_uint_eq(entries->len, 2);
}
END_TEST

START_TEST(test_nul_in_token) {
        /* exportfs cuts the token at the NUL (e6: client "h3*"). */
        static const char quoted[] = "/x/a\n/x/c \"h3*\0x\"(rw)\n";
        parse_len_fails(quoted, sizeof(quoted) - 1, 2, "NUL");
        parse_fails("/x/a\\000b *(rw)\n", 1, "NUL");
}
END_TEST

START_TEST(test_error_message) {
        g_autoptr(GError) error = NULL;
        GPtrArray *entries = NULL;

        int r = exports_parse("/a h(rw\n", 8, "/tmp/some exports", &entries, &error);
        ck_assert_int_eq(r, -EINVAL);
        ck_assert_ptr_null(entries);
        ck_assert_str_eq(error->message,
                         "/tmp/some exports:1: bad option list in \"h(rw\": \"(\" needs one \")\" that "
                         "ends the client");
        ck_assert_int_eq(np_error_errno(error), -EINVAL);

        /* Without a GError the result is the same. */
        r = exports_parse("/a h(rw\n", 8, "x", &entries, NULL);
        ck_assert_int_eq(r, -EINVAL);
        ck_assert_ptr_null(entries);
}
END_TEST

/* ---- render -> parse ---- */

static void assert_same_entry(const ExportsEntry *a, const ExportsEntry *b) {
        ck_assert_str_eq(a->path, b->path);
        ck_assert_pstr_eq(a->default_options, b->default_options);
        ck_assert_uint_eq(a->clients->len, b->clients->len);
        for (guint i = 0; i < a->clients->len; i++) {
                const ExportsClient *x = g_ptr_array_index(a->clients, i);
                const ExportsClient *y = g_ptr_array_index(b->clients, i);
                ck_assert_str_eq(x->host, y->host);
                ck_assert_pstr_eq(x->options, y->options);
        }
}

static void assert_round_trip(const ExportsEntry *e) {
        g_autofree char *line = exports_entry_render(e);
        g_autofree char *text = g_strconcat(line, "\n", NULL);
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) entries = NULL;

        int r = exports_parse(text, strlen(text), FILENAME, &entries, &error);
        ck_assert_msg(r == 0, "\"%s\" does not parse: %s", line, error ? error->message : "?");
        ck_assert_msg(entries->len == 1, "\"%s\" gives %u entries", line, entries->len);
        assert_same_entry(e, g_ptr_array_index(entries, 0));
        ck_assert_uint_eq(entry_at(entries, 0)->line, 1);
}

static const char *const round_trip_paths[] = {
        "/srv/nfs",
        "/",
        "/with space",
        "/  two  spaces  ",
        "/tab\there",
        "/new\nline",
        "/cr\rlf",
        "/quote\"d",
        "/\"quoted\"",
        "/back\\slash",
        "/\\",
        "/\\\\",
        "/\\040",
        "/\\134",
        "/\\0401",
        "/a\\1234\\567\\",
        "/\\\\\\0777",
        "/hash#tag",
        "#leading-hash",
        "/#",
        "-dash",
        "/(paren)",
        "/a,b=c:d",
        "/\xc3\xa9t\xc3\xa9/\xe2\x82\xac/\xf0\x9f\x92\xbe",
        "/\x80\xff\xfe",
        "/\x01\x02\x1f\x7f",
        "/\v\f",
        "/a b\"c\\d#e\tf\xc3\xa9",
};

START_TEST(test_round_trip_paths) {
        g_autoptr(ExportsEntry) e = exports_entry_new(round_trip_paths[_i]);
        exports_entry_add_client(e, "*", "rw,sync");
        assert_round_trip(e);

        exports_entry_add_client(e, "10.0.0.0/24", NULL);
        e->default_options = g_strdup("ro");
        assert_round_trip(e);

        g_autoptr(ExportsEntry) alone = exports_entry_new(round_trip_paths[_i]);
        assert_round_trip(alone);
}
END_TEST

START_TEST(test_round_trip_clients) {
        g_autoptr(ExportsEntry) e = exports_entry_new("/srv");
        e->default_options = g_strdup("rw, sync #x");
        exports_entry_add_client(e, "", "rw");
        exports_entry_add_client(e, "#host", "a b");
        exports_entry_add_client(e, "h\"q", "x\\y");
        exports_entry_add_client(e, "fe80::1/64", "rw");
        exports_entry_add_client(e, "@netgroup", NULL);
        exports_entry_add_client(e, "x)y", "a(b");
        exports_entry_add_client(e, "h\\040", "\\134");
        exports_entry_add_client(e, "\xc3\xa4", "");
        assert_round_trip(e);
}
END_TEST

/* ---- randomized: render entries into a messy file and read them back ---- */

static const char *const rand_path_pieces[] = {
        "a", "b", "Z", "0", "4", "7", "8", " ", "\t", "\"", "\\", "#", "(", ")", "-", ",", ".",
        "\xc3\xa9", "\xe2\x82\xac", "\x01", "\x7f", "\xff", "\r", "\n", "\v", "\\0", "\\04", "\\040",
        "\\134", "\\777", "nfs", "NFSStorage_01",
};
static const char *const rand_hosts[] = {
        "*", "10.0.0.0/24", "192.168.1.7", "fe80::1/64", "2001:db8::/32", "@netgroup", "host.example",
        "*.example.org", "[ab]*", "h?", "gss/krb5i", "", "#h", "a b", "h\\040", "x)y", "\xc3\xa4",
};
static const char *const rand_options[] = {
        "rw", "ro", "sync", "async", "no_root_squash", "no_subtree_check", "sec=krb5:krb5i", "fsid=0",
        "anonuid=65534", "crossmnt", " sync", "a(b", "#x", "\"q\"", "\\134", "\xc3\xa9",
};
static const char *const rand_separators[] = {
        " ", "\t", "  \t ", " \\\n", "\\\n   ", "\t\\\n\t", " \\\n\\\n ",
};
static const char *const rand_line_ends[] = {
        "\n", " \n", "\t\n", " # comment \\\n", "\t#c#\"x\n", "\r\n", " \r\n", " #\r\n",
};
static const char *const rand_between[] = {
        "", "", "", "\n", "   \n", "\t\n", "# comment\n", "  # indented \\\n", "#\n\n", "\\\n",
        "# \"unbalanced\n",
};

#define PICK(r, array) ((array)[g_rand_int_range((r), 0, G_N_ELEMENTS(array))])

static char *rand_options_string(GRand *r) {
        GString *s = g_string_new(NULL);
        int n = g_rand_int_range(r, 1, 4);
        for (int i = 0; i < n; i++) {
                if (i > 0)
                        g_string_append_c(s, ',');
                g_string_append(s, PICK(r, rand_options));
        }
        return g_string_free(s, FALSE);
}

static ExportsEntry *rand_entry(GRand *r, int index) {
        GString *path = g_string_new(NULL);
        g_string_append_printf(path, "/%d", index);
        int n = g_rand_int_range(r, 0, 4);
        for (int i = 0; i < n; i++) {
                g_string_append_c(path, '/');
                int m = g_rand_int_range(r, 1, 6);
                for (int j = 0; j < m; j++)
                        g_string_append(path, PICK(r, rand_path_pieces));
        }
        g_autofree char *p = g_string_free(path, FALSE);

        ExportsEntry *e = exports_entry_new(p);
        if (g_rand_int_range(r, 0, 4) == 0)
                e->default_options = rand_options_string(r);

        n = g_rand_int_range(r, 0, 5);
        for (int i = 0; i < n; i++) {
                const char *host = PICK(r, rand_hosts);
                g_autofree char *options = NULL;
                if (!host[0] || g_rand_int_range(r, 0, 5) > 0)
                        options = rand_options_string(r);
                exports_entry_add_client(e, host, options);
        }
        return e;
}

static unsigned count_newlines(const char *s) {
        unsigned n = 0;
        for (; *s; s++)
                n += *s == '\n';
        return n;
}

/* Puts quotes into a rendered token without changing what it reads as. */
static char *rand_quote(GRand *r, const char *token) {
        GString *s = g_string_new(NULL);
        bool open = false;
        for (const char *c = token; *c; c++) {
                if (g_rand_int_range(r, 0, 8) == 0) {
                        g_string_append_c(s, '"');
                        open = !open;
                }
                g_string_append_c(s, *c);
        }
        if (open)
                g_string_append_c(s, '"');
        return g_string_free(s, FALSE);
}

START_TEST(test_random_files) {
        g_autoptr(GRand) r = g_rand_new_with_seed(20240611);

        for (int iter = 0; iter < 1000; iter++) {
                g_autoptr(GPtrArray) expected = g_ptr_array_new_with_free_func((GDestroyNotify) exports_entry_free);
                GString *text = g_string_new(PICK(r, rand_between));
                int n = g_rand_int_range(r, 0, 6);
                const char *between = "";

                for (int i = 0; i < n; i++) {
                        ExportsEntry *e = rand_entry(r, i);
                        g_ptr_array_add(expected, e);

                        g_autofree char *line = exports_entry_render(e);
                        g_auto(GStrv) tokens = g_strsplit(line, " ", -1);

                        g_string_append(text, PICK(r, ((const char *const[]) { "", "", " ", "\t" })));
                        for (guint t = 0; tokens[t]; t++) {
                                if (t > 0)
                                        g_string_append(text, PICK(r, rand_separators));
                                if (t == 0)
                                        e->line = count_newlines(text->str) + 1;
                                g_autofree char *quoted = rand_quote(r, tokens[t]);
                                g_string_append(text, quoted);
                        }
                        g_string_append(text, PICK(r, rand_line_ends));
                        between = PICK(r, rand_between);
                        g_string_append(text, between);
                }
                /* Sometimes no newline at the end (not after a lone "\\\n", which would leave a
                 * backslash token behind). */
                if (n > 0 && !between[0] && g_rand_boolean(r))
                        g_string_truncate(text, text->len - 1);

                g_autoptr(GError) error = NULL;
                g_autoptr(GPtrArray) got = NULL;
                int ret = exports_parse(text->str, text->len, "random", &got, &error);
                ck_assert_msg(ret == 0, "iteration %d: %s\n---\n%s---", iter, error ? error->message : "?",
                              text->str);
                ck_assert_msg(got->len == expected->len, "iteration %d: %u entries instead of %u\n---\n%s---",
                              iter, got->len, expected->len, text->str);
                for (guint i = 0; i < got->len; i++) {
                        const ExportsEntry *want = g_ptr_array_index(expected, i);
                        const ExportsEntry *have = g_ptr_array_index(got, i);
                        assert_same_entry(want, have);
                        ck_assert_msg(want->line == have->line, "iteration %d entry %u: line %u instead of %u",
                                      iter, i, have->line, want->line);
                }
                g_string_free(text, TRUE);
        }
}
END_TEST

/* ---- randomized: garbage never crashes, and whatever parses renders back to the same ---- */

static const char *const fuzz_pieces[] = {
        " ", "\t", "\n", "\r", "\r\n", "\\", "\\\n", "\"", "#", "(", ")", "-", "*", "/a", "/b c", "h",
        "rw", ",", "\\040", "\\134", "\\0", "7", "\xc3\xa9", "\f", "@ng", "10.0.0.0/24", "\x00",
};

START_TEST(test_random_garbage) {
        g_autoptr(GRand) r = g_rand_new_with_seed(4711);
        unsigned parsed = 0;

        for (int iter = 0; iter < 3000; iter++) {
                GString *text = g_string_new(NULL);
                int n = g_rand_int_range(r, 0, 40);
                for (int i = 0; i < n; i++) {
                        const char *piece = PICK(r, fuzz_pieces);
                        g_string_append_len(text, piece, piece[0] ? (gssize) strlen(piece) : 1);
                }

                g_autoptr(GError) error = NULL;
                g_autoptr(GPtrArray) got = NULL;
                int ret = exports_parse(text->str, text->len, "fuzz", &got, &error);
                if (ret < 0) {
                        ck_assert_int_eq(ret, -EINVAL);
                        ck_assert(g_str_has_prefix(error->message, "fuzz:"));
                        ck_assert_ptr_null(got);
                        g_string_free(text, TRUE);
                        continue;
                }
                parsed++;

                /* Whatever was read can be written so that it reads the same. */
                GString *again = g_string_new(NULL);
                for (guint i = 0; i < got->len; i++) {
                        g_autofree char *line = exports_entry_render(g_ptr_array_index(got, i));
                        g_string_append_printf(again, "%s\n", line);
                }
                g_autoptr(GError) error2 = NULL;
                g_autoptr(GPtrArray) got2 = NULL;
                ret = exports_parse(again->str, again->len, "again", &got2, &error2);
                ck_assert_msg(ret == 0, "%s", error2 ? error2->message : "?");
                ck_assert_uint_eq(got2->len, got->len);
                for (guint i = 0; i < got->len; i++) {
                        assert_same_entry(g_ptr_array_index(got, i), g_ptr_array_index(got2, i));
                        ck_assert_uint_eq(entry_at(got2, i)->line, i + 1);
                }
                g_string_free(again, TRUE);
                g_string_free(text, TRUE);
        }
        /* The alphabet is chosen so that a fair share of the files is valid. */
        ck_assert_uint_gt(parsed, 300);
}
END_TEST

UNIT_ONE_PROCESS;

Suite *unit_suite(void) {
        Suite *s = suite_create("exports_parse");

        TCase *tc = tcase_create("parse");
        tcase_add_test(tc, test_empty);
        tcase_add_test(tc, test_simple);
        tcase_add_test(tc, test_comments_everywhere);
        tcase_add_test(tc, test_comment_glued_to_client);
        tcase_add_test(tc, test_blank_lines_and_tabs);
        tcase_add_test(tc, test_no_trailing_newline);
        tcase_add_test(tc, test_continuation);
        tcase_add_test(tc, test_continuation_splits_token);
        tcase_add_test(tc, test_continuation_then_comment);
        tcase_add_test(tc, test_comment_ends_at_newline);
        tcase_add_test(tc, test_quoted_path);
        tcase_add_test(tc, test_quoted_options);
        tcase_add_test(tc, test_octal_escapes);
        tcase_add_test(tc, test_escape_across_quote);
        tcase_add_test(tc, test_many_clients);
        tcase_add_test(tc, test_default_options);
        tcase_add_test(tc, test_parentheses);
        tcase_add_test(tc, test_crlf);
        tcase_add_test(tc, test_nul_separates);
        tcase_add_test(tc, test_len_not_strlen);
        tcase_add_test(tc, test_line_numbers_after_continuations);
        tcase_add_test(tc, test_long_path);
        tcase_add_test(tc, test_long_client);
        tcase_add_test(tc, test_long_client_raw_bytes);
        suite_add_tcase(s, tc);

        tc = tcase_create("errors");
        tcase_add_test(tc, test_bad_option_list);
        tcase_add_test(tc, test_error_line_after_continuations);
        tcase_add_test(tc, test_open_quote);
        tcase_add_test(tc, test_empty_default_options);
        tcase_add_test(tc, test_misplaced_default_options);
        tcase_add_test(tc, test_empty_token);
        tcase_add_test(tc, test_crlf_blank_line);
        tcase_add_test(tc, test_cr_mid_line);
        tcase_add_test(tc, test_backslash_crlf);
        tcase_add_test(tc, test_nul_in_token);
        tcase_add_test(tc, test_error_message);
        suite_add_tcase(s, tc);

        tc = tcase_create("round_trip");
        tcase_add_loop_test(tc, test_round_trip_paths, 0, G_N_ELEMENTS(round_trip_paths));
        tcase_add_test(tc, test_round_trip_clients);
        suite_add_tcase(s, tc);

        tc = tcase_create("random");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_random_files);
        tcase_add_test(tc, test_random_garbage);
        suite_add_tcase(s, tc);

        return s;
}

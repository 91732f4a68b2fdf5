/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <malloc.h>
#include <string.h>
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

#include "exports_entry.h"
#include "unit.h"

static const ExportsClient *client_at(const ExportsEntry *e, guint i) {
        ck_assert_uint_lt(i, e->clients->len);
        return g_ptr_array_index(e->clients, i);
}

START_TEST(test_entry_new) {
        g_autoptr(ExportsEntry) e = exports_entry_new("/srv/nfs");

        ck_assert_str_eq(e->path, "/srv/nfs");
        ck_assert_ptr_null(e->default_options);
        ck_assert_ptr_nonnull(e->clients);
        ck_assert_uint_eq(e->clients->len, 0);
        ck_assert_uint_eq(e->line, 0);
}
END_TEST

START_TEST(test_entry_add_client) {
        g_autoptr(ExportsEntry) e = exports_entry_new("/srv");
        g_autofree char *host = g_strdup("10.0.0.0/24");
        g_autofree char *opts = g_strdup("ro");

        exports_entry_add_client(e, "*", "rw,no_root_squash");
        exports_entry_add_client(e, host, opts);
        exports_entry_add_client(e, "@netgroup", NULL);
        exports_entry_add_client(e, "", "rw");

        /* The entry keeps its own copies. */
        host[0] = 'X';
        opts[0] = 'X';

        ck_assert_uint_eq(e->clients->len, 4);
        ck_assert_str_eq(client_at(e, 0)->host, "*");
        ck_assert_str_eq(client_at(e, 0)->options, "rw,no_root_squash");
        ck_assert_str_eq(client_at(e, 1)->host, "10.0.0.0/24");
        ck_assert_str_eq(client_at(e, 1)->options, "ro");
        ck_assert_str_eq(client_at(e, 2)->host, "@netgroup");
        ck_assert_ptr_null(client_at(e, 2)->options);
        ck_assert_str_eq(client_at(e, 3)->host, "");
        ck_assert_str_eq(client_at(e, 3)->options, "rw");
}
END_TEST

static ExportsEntry *full_entry(void) {
        ExportsEntry *e = exports_entry_new("/srv/nfs/a share");
        e->default_options = g_strdup("ro,sync"); /* set by the caller: the entry owns it */
        exports_entry_add_client(e, "*", "rw,no_root_squash");
        exports_entry_add_client(e, "10.0.0.0/24", NULL);
        exports_entry_add_client(e, "@netgroup", "ro");
        return e;
}

#if !defined(__SANITIZE_ADDRESS__)
/* Bytes in use on the heap (glibc), to see that a free gives back everything. */
static size_t heap_in_use(void) {
        return mallinfo2().uordblks;
}
#endif

/* Freeing NULL does nothing; freeing an entry gives back everything it owns (path, default
 * options, every client with its host and options, the list) and nothing its caller holds. */
START_TEST(test_entry_free) {
        exports_entry_free(NULL);
        {
                g_autoptr(ExportsEntry) none = NULL; /* the autoptr cleanup on NULL */
                ck_assert_ptr_null(none);
        }

        g_autofree char *host = g_strdup("h");
        g_autofree char *opts = g_strdup("rw");
        ExportsEntry *first = full_entry(); /* GLib sets up what it keeps for good on first use */
        exports_entry_add_client(first, host, opts);
        exports_entry_free(first);
        ck_assert_str_eq(host, "h"); /* the caller's strings were copied, not taken */
        ck_assert_str_eq(opts, "rw");

#if defined(__SANITIZE_ADDRESS__)
        /* ASan's allocator: glibc's counters do not move; LeakSanitizer says what is left. */
        ExportsEntry *e = full_entry();
        ck_assert_str_eq(e->default_options, "ro,sync");
        exports_entry_free(e);
        ck_assert_msg(__lsan_do_recoverable_leak_check() == 0, "exports_entry_free leaked (report above)");
#else
        /* 1000 entries made and freed: the heap does not grow with them (one string of one entry
         * left behind would be 32 kB; GLib's slice caches make single frees hard to count). */
        enum { N = 1000 };
        size_t before = heap_in_use();
        for (int i = 0; i < N; i++) {
                ExportsEntry *e = full_entry();
                ck_assert_uint_eq(e->clients->len, 3);
                exports_entry_free(e);
        }
        size_t after = heap_in_use();
        ck_assert_msg(after < before + 2048, "%d entries made and freed left %zd bytes in use", N,
                      (ssize_t) (after - before));
#endif
}
END_TEST

static const struct {
        const char *in;
        const char *out;
} escape_cases[] = {
        { "", "" },
        { "/srv/nfs", "/srv/nfs" },
        { "/", "/" },
        { "/a b", "/a\\040b" },
        { "/a\tb", "/a\\011b" },
        { "/a\nb", "/a\\012b" },
        { "/a\rb", "/a\\015b" },
        { "/a\vb\fc", "/a\\013b\\014c" },
        { "/\001/\037/\177", "/\\001/\\037/\\177" },
        { "/a\"b", "/a\\042b" },
        { "/a\\b", "/a\\134b" },
        { "/a#b", "/a\\043b" },
        { "#a", "\\043a" },
        { "/\xc3\xa9t\xc3\xa9", "/\\303\\251t\\303\\251" },
        { "/\xff\x80", "/\\377\\200" },
        /* Characters exportfs has no trouble with stay as they are. */
        { "/a(b)c,d-e=f:g@h*i?j[k]l'm$n%o", "/a(b)c,d-e=f:g@h*i?j[k]l'm$n%o" },
        { "/0123/4567/89", "/0123/4567/89" },
        /* A backslash followed by octal digits: the third digit is escaped as well, or nfs-utils
         * would decode "\134" and then "\" + "040" again. */
        { "/\\040", "/\\13404\\060" },
        { "\\777x", "\\13477\\067x" },
        { "\\08", "\\13408" },
        { "\\12", "\\13412" },
        { "\\\\040", "\\134\\13404\\060" },
        { "/a\\1234", "/a\\13412\\0634" },
};

START_TEST(test_path_escape) {
        const char *in = escape_cases[_i].in;
        g_autofree char *out = exports_path_escape(in);
        ck_assert_msg(strcmp(out, escape_cases[_i].out) == 0, "escape(\"%s\") = \"%s\", expected \"%s\"",
                      in, out, escape_cases[_i].out);
}
END_TEST

START_TEST(test_render_plain) {
        g_autoptr(ExportsEntry) e = exports_entry_new("/home/NFS/NFSStorage_01");
        exports_entry_add_client(e, "*", "rw,no_root_squash,sync,no_subtree_check");
        exports_entry_add_client(e, "10.0.0.0/24", "ro");

        g_autofree char *s = exports_entry_render(e);
        ck_assert_str_eq(s, "/home/NFS/NFSStorage_01 *(rw,no_root_squash,sync,no_subtree_check) "
                            "10.0.0.0/24(ro)");
}
END_TEST

START_TEST(test_render_no_clients) {
        g_autoptr(ExportsEntry) e = exports_entry_new("/srv");
        g_autofree char *s = exports_entry_render(e);
        ck_assert_str_eq(s, "/srv");
}
END_TEST

START_TEST(test_render_default_options) {
        g_autoptr(ExportsEntry) e = exports_entry_new("/srv/with space");
        e->default_options = g_strdup("ro,sync");
        exports_entry_add_client(e, "host1", NULL);
        exports_entry_add_client(e, "host2", "rw");

        g_autofree char *s = exports_entry_render(e);
        ck_assert_str_eq(s, "/srv/with\\040space -ro,sync host1 host2(rw)");
}
END_TEST

START_TEST(test_render_default_options_only) {
        g_autoptr(ExportsEntry) e = exports_entry_new("/srv");
        e->default_options = g_strdup("rw");

        g_autofree char *s = exports_entry_render(e);
        ck_assert_str_eq(s, "/srv -rw");
}
END_TEST

START_TEST(test_render_empty_default_options) {
        /* "-" alone would not parse back; "" is written like NULL. */
        g_autoptr(ExportsEntry) e = exports_entry_new("/srv");
        e->default_options = g_strdup("");
        exports_entry_add_client(e, "*", "ro");

        g_autofree char *s = exports_entry_render(e);
        ck_assert_str_eq(s, "/srv *(ro)");
}
END_TEST

START_TEST(test_render_empty_host) {
        g_autoptr(ExportsEntry) e = exports_entry_new("/srv");
        exports_entry_add_client(e, "", "rw");
        exports_entry_add_client(e, "", NULL);
        exports_entry_add_client(e, "h", "");

        g_autofree char *s = exports_entry_render(e);
        ck_assert_str_eq(s, "/srv (rw) () h()");
}
END_TEST

START_TEST(test_render_special_hosts) {
        g_autoptr(ExportsEntry) e = exports_entry_new("/srv");
        exports_entry_add_client(e, "fe80::1/64", "rw");
        exports_entry_add_client(e, "@netgroup", "ro");
        exports_entry_add_client(e, "*.example.org", NULL);
        exports_entry_add_client(e, "gss/krb5i", "sec=krb5i");

        g_autofree char *s = exports_entry_render(e);
        ck_assert_str_eq(s, "/srv fe80::1/64(rw) @netgroup(ro) *.example.org gss/krb5i(sec=krb5i)");
}
END_TEST

START_TEST(test_render_escapes_clients) {
        /* Blanks, quotes, '#' and backslashes in hosts and options are escaped like in the path
         * (exportfs decodes the whole token before it looks for the parentheses). */
        g_autoptr(ExportsEntry) e = exports_entry_new("/a#b");
        e->default_options = g_strdup("ro, sync");
        exports_entry_add_client(e, "#h", "rw,\tsync");
        exports_entry_add_client(e, "a\"b", "x\\y");

        g_autofree char *s = exports_entry_render(e);
        ck_assert_str_eq(s, "/a\\043b -ro,\\040sync \\043h(rw,\\011sync) a\\042b(x\\134y)");
}
END_TEST

START_TEST(test_render_no_newline) {
        g_autoptr(ExportsEntry) e = exports_entry_new("/a\nb");
        exports_entry_add_client(e, "*", "rw");

        g_autofree char *s = exports_entry_render(e);
        ck_assert_ptr_null(strchr(s, '\n'));
        ck_assert_str_eq(s, "/a\\012b *(rw)");
}
END_TEST

static const struct {
        const char *in;
        const char *out;
} normalize_cases[] = {
        { "/", "/" },
        { "//", "/" },
        { "///", "/" },
        { "/a", "/a" },
        { "/a/", "/a" },
        { "/a//", "/a" },
        { "/a//b/", "/a/b" },
        { "//a///b//c///", "/a/b/c" },
        { "/home/NFS/NFSStorage_01", "/home/NFS/NFSStorage_01" },
        { "/a b//c d/", "/a b/c d" },
        { "/a/./b/", "/a/./b" },
        { "/a/../b", "/a/../b" },
        { "a//b/", "a/b" },
        { "a", "a" },
        { "", "" },
};

START_TEST(test_path_normalize) {
        g_autofree char *out = exports_path_normalize(normalize_cases[_i].in);
        ck_assert_msg(strcmp(out, normalize_cases[_i].out) == 0,
                      "normalize(\"%s\") = \"%s\", expected \"%s\"", normalize_cases[_i].in, out,
                      normalize_cases[_i].out);
}
END_TEST

START_TEST(test_path_normalize_idempotent) {
        for (size_t i = 0; i < G_N_ELEMENTS(normalize_cases); i++) {
                g_autofree char *once = exports_path_normalize(normalize_cases[i].in);
                g_autofree char *twice = exports_path_normalize(once);
                ck_assert_str_eq(once, twice);
        }
}
END_TEST

UNIT_ONE_PROCESS;

Suite *unit_suite(void) {
        Suite *s = suite_create("exports_entry");

        TCase *tc = tcase_create("entry");
        tcase_add_test(tc, test_entry_new);
        tcase_add_test(tc, test_entry_add_client);
        tcase_add_test(tc, test_entry_free);
        suite_add_tcase(s, tc);

        tc = tcase_create("escape");
        tcase_add_loop_test(tc, test_path_escape, 0, G_N_ELEMENTS(escape_cases));
        suite_add_tcase(s, tc);

        tc = tcase_create("render");
        tcase_add_test(tc, test_render_plain);
        tcase_add_test(tc, test_render_no_clients);
        tcase_add_test(tc, test_render_default_options);
        tcase_add_test(tc, test_render_default_options_only);
        tcase_add_test(tc, test_render_empty_default_options);
        tcase_add_test(tc, test_render_empty_host);
        tcase_add_test(tc, test_render_special_hosts);
        tcase_add_test(tc, test_render_escapes_clients);
        tcase_add_test(tc, test_render_no_newline);
        suite_add_tcase(s, tc);

        tc = tcase_create("normalize");
        tcase_add_loop_test(tc, test_path_normalize, 0, G_N_ELEMENTS(normalize_cases));
        tcase_add_test(tc, test_path_normalize_idempotent);
        suite_add_tcase(s, tc);

        return s;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "server/nfsconf.h"
#include "unit.h"

/* Debian 12's /etc/nfs.conf as nfs-common 1:2.6.2-4+deb12u1 installs it
 * (/usr/share/nfs-common/conffiles/nfs.conf), byte for byte. */
static const char debian12_nfs_conf[] =
        "#\n"
        "# This is a general configuration for the\n"
        "# NFS daemons and tools\n"
        "#\n"
        "[general]\n"
        "pipefs-directory=/run/rpc_pipefs\n"
        "#\n"
        "[nfsrahead]\n"
        "# nfs=15000\n"
        "# nfs4=16000\n"
        "#\n"
        "[exports]\n"
        "# rootdir=/export\n"
        "#\n"
        "[exportfs]\n"
        "# debug=0\n"
        "#\n"
        "[gssd]\n"
        "# verbosity=0\n"
        "# rpc-verbosity=0\n"
        "# use-memcache=0\n"
        "# use-machine-creds=1\n"
        "# use-gss-proxy=0\n"
        "# avoid-dns=1\n"
        "# limit-to-legacy-enctypes=0\n"
        "# context-timeout=0\n"
        "# rpc-timeout=5\n"
        "# keytab-file=/etc/krb5.keytab\n"
        "# cred-cache-directory=\n"
        "# preferred-realm=\n"
        "# set-home=1\n"
        "# upcall-timeout=30\n"
        "# cancel-timed-out-upcalls=0\n"
        "#\n"
        "[lockd]\n"
        "# port=0\n"
        "# udp-port=0\n"
        "#\n"
        "[exportd]\n"
        "# debug=\"all|auth|call|general|parse\"\n"
        "# manage-gids=n\n"
        "# state-directory-path=/var/lib/nfs\n"
        "# threads=1\n"
        "# cache-use-ipaddr=n\n"
        "# ttl=1800\n"
        "[mountd]\n"
        "# debug=\"all|auth|call|general|parse\"\n"
        "manage-gids=y\n"
        "# descriptors=0\n"
        "# port=0\n"
        "# threads=1\n"
        "# reverse-lookup=n\n"
        "# state-directory-path=/var/lib/nfs\n"
        "# ha-callout=\n"
        "# cache-use-ipaddr=n\n"
        "# ttl=1800\n"
        "#\n"
        "[nfsdcld]\n"
        "# debug=0\n"
        "# storagedir=/var/lib/nfs/nfsdcld\n"
        "#\n"
        "[nfsdcltrack]\n"
        "# debug=0\n"
        "# storagedir=/var/lib/nfs/nfsdcltrack\n"
        "#\n"
        "[nfsd]\n"
        "# debug=0\n"
        "# threads=8\n"
        "# host=\n"
        "# port=0\n"
        "# grace-time=90\n"
        "# lease-time=90\n"
        "# udp=n\n"
        "# tcp=y\n"
        "# vers3=y\n"
        "# vers4=y\n"
        "# vers4.0=y\n"
        "# vers4.1=y\n"
        "# vers4.2=y\n"
        "# rdma=n\n"
        "# rdma-port=20049\n"
        "\n"
        "[statd]\n"
        "# debug=0\n"
        "# port=0\n"
        "# outgoing-port=0\n"
        "# name=\n"
        "# state-directory-path=/var/lib/nfs/statd\n"
        "# ha-callout=\n"
        "# no-notify=0\n"
        "#\n"
        "[sm-notify]\n"
        "# debug=0\n"
        "# force=0\n"
        "# retry-time=900\n"
        "# outgoing-port=\n"
        "# outgoing-addr=\n"
        "# lift-grace=y\n"
        "#\n"
        "[svcgssd]\n"
        "# principal=\n";

/* The 1-based line of Debian's "[nfsd]" header. */
#define DEBIAN12_NFSD_LINE 66

static char *dir;

static void setup(void) {
        dir = unit_mkdtemp();
}

static void teardown(void) {
        unit_rm_rf(dir);
        g_clear_pointer(&dir, g_free);
}

static char *path_in(const char *name) {
        return g_build_filename(dir, name, NULL);
}

static char *write_file(const char *name, const char *text) {
        char *p = path_in(name);
        ck_assert(g_file_set_contents(p, text, -1, NULL));
        return p;
}

static char *read_file(const char *p) {
        char *data = NULL;
        ck_assert_msg(g_file_get_contents(p, &data, NULL, NULL), "cannot read %s", p);
        return data;
}

static void read_ok(const char *p, NfsConfStatus *s) {
        g_autoptr(GError) error = NULL;
        int r = nfsconf_read(p, s, &error);
        ck_assert_msg(r == 0, "nfsconf_read(%s): %d %s", p, r, error ? error->message : "");
}

static bool apply_ok(const char *p) {
        g_autoptr(GError) error = NULL;
        bool changed = false;
        int r = nfsconf_apply(p, &changed, &error);
        ck_assert_msg(r == 0, "nfsconf_apply(%s): %d %s", p, r, error ? error->message : "");
        return changed;
}

/* Apply to a file holding `before`; the file must then hold exactly `after`, satisfy
 * nfsconf_ok(), and a second apply must change nothing. */
static void assert_apply(const char *before, const char *after) {
        g_autofree char *p = write_file("nfs.conf", before);
        ck_assert_msg(apply_ok(p) == !g_str_equal(before, after), "changed reported wrongly for: %s", before);
        g_autofree char *got = read_file(p);
        ck_assert_str_eq(got, after);

        NfsConfStatus s = { 0 };
        read_ok(p, &s);
        ck_assert_msg(nfsconf_ok(&s), "not ok after apply: %s", got);

        struct stat st1, st2;
        ck_assert_int_eq(stat(p, &st1), 0);
        ck_assert(!apply_ok(p));
        ck_assert_int_eq(stat(p, &st2), 0);
        ck_assert_uint_eq(st1.st_ino, st2.st_ino); /* not even rewritten */
        g_autofree char *again = read_file(p);
        ck_assert_str_eq(again, after);
}

/* ---- reading ---- */

START_TEST(test_debian12_default_reads_as_defaults) {
        g_autofree char *p = write_file("nfs.conf", debian12_nfs_conf);
        NfsConfStatus s = { 0 };
        read_ok(p, &s);
        ck_assert(s.file_exists);
        ck_assert_int_eq(s.vers3, 1);
        ck_assert_int_eq(s.vers4, 1);
        ck_assert_int_eq(s.vers4_1, 1);
        ck_assert_int_eq(s.vers4_2, 1);
        ck_assert_int_eq(s.tcp, 1);
        ck_assert_int_eq(s.udp, 0);
        ck_assert_int_eq(s.threads, 8);
        ck_assert(!s.vers3_explicit && !s.vers4_explicit && !s.threads_explicit);
        ck_assert_str_eq(s.vers3_source, "");
        ck_assert_str_eq(s.vers4_source, "");
        ck_assert(!nfsconf_ok(&s));
        g_autofree char *problem = nfsconf_problem(&s);
        ck_assert_msg(problem && strstr(problem, "NFSv4 is on (the nfs-utils default"), "%s", problem);
        ck_assert_msg(!strstr(problem, "NFSv3"), "%s", problem);
}
END_TEST

START_TEST(test_missing_file_reads_as_defaults) {
        g_autofree char *p = path_in("absent.conf");
        NfsConfStatus s = { 0 };
        read_ok(p, &s);
        ck_assert(!s.file_exists);
        ck_assert_int_eq(s.vers3, 1);
        ck_assert_int_eq(s.vers4, 1);
        ck_assert(!nfsconf_ok(&s));
}
END_TEST

/* A main file that exists but cannot be read is an error, not "all defaults". */
START_TEST(test_unreadable_file_is_an_error) {
        NfsConfStatus s = { .vers3 = 42 };
        g_autoptr(GError) error = NULL;
        ck_assert_int_lt(nfsconf_read(dir, &s, &error), 0); /* a directory */
        ck_assert_msg(strstr(error->message, dir), "%s", error->message);
        ck_assert_int_eq(s.vers3, 42); /* untouched on failure */
}
END_TEST

/* Run as an unprivileged user (root reads any file): a file of mode 0 that user owns. */
static void read_denied(void *data) {
        const char *p = data;
        struct stat st;
        ck_assert_msg(stat(p, &st) == 0, "%s not reachable as uid %u: %s", p, (unsigned) geteuid(), g_strerror(errno));
        NfsConfStatus s = { .vers3 = 42 };
        g_autoptr(GError) error = NULL;
        ck_assert_int_eq(nfsconf_read(p, &s, &error), -EACCES);
        ck_assert_int_eq(error->code, EACCES);
        ck_assert_msg(strstr(error->message, p) && strstr(error->message, "Permission denied"), "%s", error->message);
        ck_assert_int_eq(s.vers3, 42);
}

START_TEST(test_permission_denied_is_an_error) {
        g_autofree char *p = write_file("nfs.conf", "[nfsd]\nvers4=n\n");
        ck_assert_int_eq(chmod(p, 0), 0);
        unit_give_to_unprivileged(dir);
        unit_give_to_unprivileged(p);
        unit_run_unprivileged(read_denied, p);
}
END_TEST

START_TEST(test_vers3_off) {
        g_autofree char *p = write_file("nfs.conf", "[general]\n[nfsd]\n# threads=8\nvers3=n\nvers4=n\n");
        NfsConfStatus s = { 0 };
        read_ok(p, &s);
        ck_assert_int_eq(s.vers3, 0);
        ck_assert(s.vers3_explicit);
        g_autofree char *src = g_strdup_printf("%s:4", p);
        ck_assert_str_eq(s.vers3_source, src);
        ck_assert_int_eq(s.vers4, 0);
        ck_assert(!nfsconf_ok(&s));
        g_autofree char *problem = nfsconf_problem(&s);
        ck_assert_msg(strstr(problem, "NFSv3 is off") && strstr(problem, src), "%s", problem);
}
END_TEST

START_TEST(test_ok_file) {
        g_autofree char *p = write_file("nfs.conf", "[nfsd]\nvers3=y\nvers4=n\nthreads = 16\n");
        NfsConfStatus s = { 0 };
        read_ok(p, &s);
        ck_assert(nfsconf_ok(&s));
        ck_assert_ptr_null(nfsconf_problem(&s));
        ck_assert_int_eq(s.vers4_0, 0); /* minor versions follow vers4 */
        ck_assert_int_eq(s.vers4_1, 0);
        ck_assert_int_eq(s.vers4_2, 0);
        ck_assert_int_eq(s.threads, 16);
        ck_assert(s.threads_explicit);
}
END_TEST

START_TEST(test_commented_keys_do_not_count) {
        g_autofree char *p = write_file("nfs.conf", "[nfsd]\n# vers3=n\n; vers3=n\n   #vers4=n\n\t;vers4=n\n");
        NfsConfStatus s = { 0 };
        read_ok(p, &s);
        ck_assert_int_eq(s.vers3, 1);
        ck_assert_int_eq(s.vers4, 1);
        ck_assert(!s.vers3_explicit && !s.vers4_explicit);
}
END_TEST

START_TEST(test_case_variants) {
        g_autofree char *p = write_file("nfs.conf", "[ NFSD ]\nVERS3 = No\nVers4=YES\n");
        NfsConfStatus s = { 0 };
        read_ok(p, &s);
        ck_assert_int_eq(s.vers3, 0);
        ck_assert_int_eq(s.vers4, 1);
        ck_assert(s.vers3_explicit && s.vers4_explicit);

        g_autofree char *p2 = write_file("nfs2.conf", "[Nfsd]\nvers3=ON\nvers4=off\n");
        NfsConfStatus s2 = { 0 };
        read_ok(p2, &s2);
        ck_assert(nfsconf_ok(&s2));
}
END_TEST

/* Values as nfs-utils reads them: every boolean spelling, quotes, inline comments, an ignored
 * empty value, a value that is not a boolean (the default), the last assignment winning. */
typedef struct ValueCase {
        const char *text;
        int vers3, vers4;
} ValueCase;

static const ValueCase value_cases[] = {
        { "[nfsd]\nvers3=1\nvers4=0\n", 1, 0 },
        { "[nfsd]\nvers3=t\nvers4=f\n", 1, 0 },
        { "[nfsd]\nvers3=true\nvers4=false\n", 1, 0 },
        { "[nfsd]\nvers3=yes\nvers4=no\n", 1, 0 },
        { "[nfsd]\nvers3=on\nvers4=off\n", 1, 0 },
        { "[nfsd]\nvers3=0\nvers4=1\n", 0, 1 },
        { "[nfsd]\n  vers3  =  \"n\"  \nvers4 = 'n'\n", 0, 0 },
        { "[nfsd]\nvers3 = n # v3 off\nvers4 = n;v4 off\n", 0, 0 },
        { "[nfsd]\nvers3 = \"n # not a comment\"\n", 1, 1 }, /* quoted: not a boolean */
        { "[nfsd]\nvers3 =\nvers4 =   \n", 1, 1 },             /* empty: ignored */
        { "[nfsd]\nvers3 = n\nvers3 =\n", 0, 1 },               /* empty does not reset */
        { "[nfsd]\nvers3 = maybe\nvers4 = maybe\n", 1, 1 },     /* not a boolean: default */
        { "[nfsd]\nvers3 = n\nvers3 = y\nvers4 = y\nvers4 = n\n", 1, 0 },
        { "[nfsd]\nvers3 = n\n[mountd]\nvers3 = y\n[nfsd]\nvers4 = n\n", 0, 0 },
        { "[nfsd \"x\"]\nvers3 = n\n", 1, 1 },                 /* a subsection is another section */
        { "[nfsd \"x\n[nfsd]\nvers3 = n\n", 0, 1 },
        { "vers3 = n\n[nfsd]\n", 1, 1 },                        /* outside any section */
        { "[nfsd\nvers3 = n\n", 1, 1 },                         /* header without ]: ignored until next */
        { "[nfsd] trailing words\nvers3 = n\n", 0, 1 },
        { "[nfsd]\nvers3 = \\\nn\n", 0, 1 },                    /* escaped newline joins lines */
        { "[nfsd]\nvers3 = n", 1, 1 },                          /* unterminated last line: ignored */
        { "[nfsd]\r\nvers3 = n\r\nvers4=n\r\n", 0, 0 },
        { "[nfsd]\nvers 3 = n\n", 1, 1 },
};

START_TEST(test_values) {
        const ValueCase *c = &value_cases[_i];
        g_autofree char *p = write_file("nfs.conf", c->text);
        NfsConfStatus s = { 0 };
        read_ok(p, &s);
        ck_assert_msg(s.vers3 == c->vers3 && s.vers4 == c->vers4, "case %d: vers3=%d vers4=%d, expected %d %d",
                      _i, s.vers3, s.vers4, c->vers3, c->vers4);
}
END_TEST

START_TEST(test_explicit_minor_version_is_not_ok) {
        g_autofree char *p = write_file("nfs.conf", "[nfsd]\nvers4=n\nvers4.2=y\n");
        NfsConfStatus s = { 0 };
        read_ok(p, &s);
        ck_assert_int_eq(s.vers4, 0);
        ck_assert_int_eq(s.vers4_1, 0);
        ck_assert_int_eq(s.vers4_2, 1);
        ck_assert(s.vers4_2_explicit);
        ck_assert(!nfsconf_ok(&s));
        g_autofree char *problem = nfsconf_problem(&s);
        ck_assert_msg(strstr(problem, "vers4.2 is set on explicitly"), "%s", problem);
}
END_TEST

START_TEST(test_last_assignment_is_the_source) {
        g_autofree char *p = write_file("nfs.conf", "[nfsd]\nvers4=y\n\n[nfsd]\nvers4=n\n");
        NfsConfStatus s = { 0 };
        read_ok(p, &s);
        g_autofree char *src = g_strdup_printf("%s:5", p);
        ck_assert_str_eq(s.vers4_source, src);
}
END_TEST

START_TEST(test_threads_as_atoi) {
        g_autofree char *p = write_file("nfs.conf", "[nfsd]\nthreads = 12abc\n");
        NfsConfStatus s = { 0 };
        read_ok(p, &s);
        ck_assert_int_eq(s.threads, 12);
        ck_assert(s.threads_explicit);
}
END_TEST

START_TEST(test_dollar_expansion) {
        g_autofree char *p = write_file("nfs.conf", "[environment]\nNFSPROV_TEST_V3 = n\n[nfsd]\nvers3 = $NFSPROV_TEST_V3\n");
        ck_assert_int_eq(unsetenv("NFSPROV_TEST_V3"), 0);
        NfsConfStatus s = { 0 };
        read_ok(p, &s);
        ck_assert_int_eq(s.vers3, 0);

        ck_assert_int_eq(setenv("NFSPROV_TEST_V3", "y", 1), 0);
        read_ok(p, &s);
        ck_assert_int_eq(s.vers3, 1);
        unsetenv("NFSPROV_TEST_V3");
}
END_TEST

START_TEST(test_dropins_override_in_version_order) {
        g_autofree char *p = write_file("nfs.conf", "[nfsd]\nvers3=y\nvers4=n\n");
        g_autofree char *d = path_in("nfs.conf.d");
        ck_assert_int_eq(mkdir(d, 0755), 0);
        /* versionsort: 9 before 10 (alphabetical order would read 10 first) */
        g_autofree char *f9 = write_file("nfs.conf.d/9-a.conf", "[nfsd]\nvers4=y\n");
        g_autofree char *f10 = write_file("nfs.conf.d/10-b.conf", "[nfsd]\nvers4=n\nvers3=n\n");
        g_autofree char *ign1 = write_file("nfs.conf.d/99-c.conf.bak", "[nfsd]\nvers3=y\n");
        g_autofree char *ign2 = write_file("nfs.conf.d/.99-d.conf", "[nfsd]\nvers3=y\n");
        g_autofree char *ign3 = write_file("nfs.conf.d/.conf", "[nfsd]\nvers3=y\n");
        ck_assert(f9 && ign1 && ign2 && ign3); /* written; each must be skipped or read in order */

        NfsConfStatus s = { 0 };
        read_ok(p, &s);
        ck_assert_int_eq(s.vers4, 0);
        ck_assert_int_eq(s.vers3, 0);
        g_autofree char *src = g_strdup_printf("%s:3", f10);
        ck_assert_str_eq(s.vers3_source, src);
}
END_TEST

START_TEST(test_include) {
        g_autofree char *p = write_file("nfs.conf", "[nfsd]\ninclude = inc/versions.conf\ninclude = -missing.conf\n");
        g_autofree char *d = path_in("inc");
        ck_assert_int_eq(mkdir(d, 0755), 0);
        g_autofree char *inc = write_file("inc/versions.conf", "# included\nvers4 = n\n");
        NfsConfStatus s = { 0 };
        read_ok(p, &s);
        ck_assert_int_eq(s.vers4, 0);
        g_autofree char *src = g_strdup_printf("%s:2", inc);
        ck_assert_str_eq(s.vers4_source, src);
}
END_TEST

/* A file that includes itself, under any spelling, or through another file, is read once: the
 * loop is skipped (nfs-utils crashes on it; following it to the depth limit took k^10 reads for k
 * self-includes; found by tests/fuzz/fuzz_nfsconf). */
START_TEST(test_include_loop) {
        g_autofree char *p = write_file("nfs.conf", "[nfsd]\nvers4 = n\ninclude = nfs.conf\ninclude = ./nfs.conf\n"
                                                    "include = nfs.conf\ninclude = loop.conf\ninclude = nfs.conf\n"
                                                    "include = ./nfs.conf\n");
        g_autofree char *loop = write_file("loop.conf", "vers3 = n\ninclude = nfs.conf\ninclude = loop.conf\n");
        NfsConfStatus s = { 0 };
        read_ok(p, &s);
        ck_assert_int_eq(s.vers3, 0);
        g_autofree char *src3 = g_strdup_printf("%s:1", loop);
        ck_assert_str_eq(s.vers3_source, src3);
        ck_assert_int_eq(s.vers4, 0);
        g_autofree char *src4 = g_strdup_printf("%s:2", p);
        ck_assert_str_eq(s.vers4_source, src4);
}
END_TEST

/* ---- apply ---- */

START_TEST(test_apply_debian12_default) {
        const char *hdr = strstr(debian12_nfs_conf, "\n[nfsd]\n");
        ck_assert_ptr_nonnull(hdr);
        size_t cut = (size_t) (hdr - debian12_nfs_conf) + strlen("\n[nfsd]\n");
        g_autofree char *want = g_strdup_printf("%.*svers3=y\nvers4=n\n%s", (int) cut, debian12_nfs_conf,
                                                debian12_nfs_conf + cut);
        assert_apply(debian12_nfs_conf, want);

        g_autofree char *p = path_in("nfs.conf");
        NfsConfStatus s = { 0 };
        read_ok(p, &s);
        ck_assert(s.vers3_explicit && s.vers4_explicit);
        g_autofree char *src3 = g_strdup_printf("%s:%d", p, DEBIAN12_NFSD_LINE + 1);
        g_autofree char *src4 = g_strdup_printf("%s:%d", p, DEBIAN12_NFSD_LINE + 2);
        ck_assert_str_eq(s.vers3_source, src3);
        ck_assert_str_eq(s.vers4_source, src4);
}
END_TEST

START_TEST(test_apply_replaces_in_place) {
        assert_apply("[general]\npipefs-directory=/run/rpc_pipefs\n[nfsd]\n# threads=8\nvers3=n\nthreads=4\nvers4=y\n[statd]\n",
                     "[general]\npipefs-directory=/run/rpc_pipefs\n[nfsd]\n# threads=8\nvers3=y\nthreads=4\nvers4=n\n[statd]\n");
        /* spacing, case, quotes and comments around the value are kept */
        assert_apply("[NFSD]\n  VERS3 =  No   # off\nVers4 = \"yes\" ; on\n",
                     "[NFSD]\n  VERS3 =  y   # off\nVers4 = \"n\" ; on\n");
        /* a value that is already right stays as written */
        assert_apply("[nfsd]\nvers3 = YES\nvers4 = off\n", "[nfsd]\nvers3 = YES\nvers4 = off\n");
        /* every assignment that nfs-utils would see is fixed, not only the last */
        assert_apply("[nfsd]\nvers3=n\n[nfsd]\nvers3=n\nvers4=n\n", "[nfsd]\nvers3=y\n[nfsd]\nvers3=y\nvers4=n\n");
        /* empty and non-boolean values */
        assert_apply("[nfsd]\nvers3=\nvers4=maybe\n", "[nfsd]\nvers3=y\nvers4=n\n");
        /* an explicit minor version that is on is turned off */
        assert_apply("[nfsd]\nvers4=n\nvers4.0=on\nvers4.1=y\nvers4.2=n\n",
                     "[nfsd]\nvers3=y\nvers4=n\nvers4.0=n\nvers4.1=n\nvers4.2=n\n");
        /* an escaped newline inside the assignment */
        assert_apply("[nfsd]\nvers3 = \\\nn\nvers4=n\n", "[nfsd]\nvers3 = \\\ny\nvers4=n\n");
        /* CRLF lines keep their ends; added lines follow the header's */
        assert_apply("[nfsd]\r\nvers3=n\r\n", "[nfsd]\r\nvers4=n\r\nvers3=y\r\n");
}
END_TEST

START_TEST(test_apply_adds_after_header) {
        assert_apply("[nfsd]\n# vers3=y\n# vers4=y\n", "[nfsd]\nvers3=y\nvers4=n\n# vers3=y\n# vers4=y\n");
        assert_apply("[nfsd] # the server\nvers4=n\n", "[nfsd] # the server\nvers3=y\nvers4=n\n");
        /* the first [nfsd] header; a subsection is another section */
        assert_apply("[nfsd \"x\"]\nvers3=n\n[nfsd]\nthreads=8\n[nfsd]\n",
                     "[nfsd \"x\"]\nvers3=n\n[nfsd]\nvers3=y\nvers4=n\nthreads=8\n[nfsd]\n");
}
END_TEST

START_TEST(test_apply_adds_section) {
        assert_apply("", "[nfsd]\nvers3=y\nvers4=n\n");
        assert_apply("[general]\npipefs-directory=/run/rpc_pipefs\n",
                     "[general]\npipefs-directory=/run/rpc_pipefs\n[nfsd]\nvers3=y\nvers4=n\n");
        /* no newline at the end: one is added before the section */
        assert_apply("[general]\n# last line", "[general]\n# last line\n[nfsd]\nvers3=y\nvers4=n\n");
        /* an unterminated header is not seen by nfs-utils, so a new section follows it */
        assert_apply("[nfsd]", "[nfsd]\n[nfsd]\nvers3=y\nvers4=n\n");
        /* a last line ending in a backslash would continue onto "[nfsd]": an empty line ends it
         * first (found by tests/fuzz/fuzz_nfsconf) */
        assert_apply("[general]\nx=1 \\\n", "[general]\nx=1 \\\n\n[nfsd]\nvers3=y\nvers4=n\n");
        assert_apply("[general]\nx=1 \\", "[general]\nx=1 \\\n\n[nfsd]\nvers3=y\nvers4=n\n");
}
END_TEST

START_TEST(test_apply_creates_missing_file) {
        g_autofree char *p = path_in("nfs.conf");
        ck_assert(apply_ok(p));
        g_autofree char *got = read_file(p);
        ck_assert_str_eq(got, "[nfsd]\nvers3=y\nvers4=n\n");
        struct stat st;
        ck_assert_int_eq(stat(p, &st), 0);
        ck_assert_uint_eq(st.st_mode & 07777, 0644);
        ck_assert(!apply_ok(p));
}
END_TEST

START_TEST(test_apply_keeps_mode) {
        const mode_t modes[] = { 0600, 0640, 0644, 0444 };
        for (size_t i = 0; i < G_N_ELEMENTS(modes); i++) {
                g_autofree char *p = write_file("nfs.conf", debian12_nfs_conf);
                ck_assert_int_eq(chmod(p, modes[i]), 0);
                ck_assert(apply_ok(p));
                struct stat st;
                ck_assert_int_eq(stat(p, &st), 0);
                ck_assert_uint_eq(st.st_mode & 07777, modes[i]);
                ck_assert_uint_eq(st.st_uid, geteuid());
                ck_assert_int_eq(unlink(p), 0);
        }
}
END_TEST

START_TEST(test_apply_leaves_no_temporary_file) {
        g_autofree char *p = write_file("nfs.conf", debian12_nfs_conf);
        ck_assert(apply_ok(p));
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        const char *name;
        unsigned n = 0;
        while ((name = g_dir_read_name(d))) {
                ck_assert_str_eq(name, "nfs.conf");
                n++;
        }
        ck_assert_uint_eq(n, 1);
}
END_TEST

START_TEST(test_apply_refuses_when_dropin_overrides) {
        g_autofree char *p = write_file("nfs.conf", debian12_nfs_conf);
        g_autofree char *d = path_in("nfs.conf.d");
        ck_assert_int_eq(mkdir(d, 0755), 0);
        g_autofree char *f = write_file("nfs.conf.d/local.conf", "[nfsd]\n\nvers4 = y\n");

        g_autoptr(GError) error = NULL;
        bool changed = true;
        ck_assert_int_eq(nfsconf_apply(p, &changed, &error), -EEXIST);
        ck_assert(changed); /* untouched on failure */
        g_autofree char *src = g_strdup_printf("%s:3", f);
        ck_assert_msg(strstr(error->message, src) && strstr(error->message, "vers4") &&
                              !strchr(error->message, '\n'),
                      "%s", error->message);
        g_autofree char *got = read_file(p);
        ck_assert_str_eq(got, debian12_nfs_conf); /* nothing written */
}
END_TEST

START_TEST(test_apply_refuses_when_include_overrides) {
        g_autofree char *p = write_file("nfs.conf", "[nfsd]\ninclude = local.inc\n");
        g_autofree char *inc = write_file("local.inc", "vers3 = n\n");
        g_autoptr(GError) error = NULL;
        ck_assert_int_eq(nfsconf_apply(p, NULL, &error), -EEXIST);
        g_autofree char *src = g_strdup_printf("%s:1", inc);
        ck_assert_msg(strstr(error->message, src) && strstr(error->message, "vers3"), "%s", error->message);
}
END_TEST

START_TEST(test_apply_refuses_nul) {
        g_autofree char *p = path_in("nfs.conf");
        ck_assert(g_file_set_contents(p, "[nfsd]\n\0vers3=n\n", 16, NULL));
        g_autoptr(GError) error = NULL;
        ck_assert_int_eq(nfsconf_apply(p, NULL, &error), -EINVAL);
        ck_assert_msg(strstr(error->message, "NUL byte"), "%s", error->message);
}
END_TEST

START_TEST(test_apply_refuses_non_regular_file) {
        g_autofree char *p = path_in("nfs.conf");
        ck_assert_int_eq(mkdir(p, 0755), 0);
        g_autoptr(GError) error = NULL;
        ck_assert_int_lt(nfsconf_apply(p, NULL, &error), 0);
        ck_assert_ptr_nonnull(error);
}
END_TEST

/* ---- /proc/fs/nfsd/versions ---- */

START_TEST(test_proc_versions_file) {
        g_autofree char *p = write_file("versions", "-2 +3 +4 +4.1 +4.2\n");
        g_autofree char *text = NULL;
        ck_assert_int_eq(nfsconf_read_proc_versions(p, &text, NULL), 0);
        ck_assert_str_eq(text, "-2 +3 +4 +4.1 +4.2");
        ck_assert_int_eq(nfsconf_proc_version_enabled(text, "3"), 1);
        ck_assert_int_eq(nfsconf_proc_version_enabled(text, "2"), 0);
        ck_assert_int_eq(nfsconf_proc_version_enabled(text, "4"), 1);
        ck_assert_int_eq(nfsconf_proc_version_enabled(text, "4.1"), 1);
        ck_assert_int_eq(nfsconf_proc_version_enabled(text, "4.0"), -ENOENT);
        ck_assert_int_eq(nfsconf_proc_version_enabled("+3 -4 -4.0 -4.1 -4.2", "4"), 0);
}
END_TEST

START_TEST(test_proc_versions_absent) {
        g_autofree char *p = path_in("no-such-versions");
        g_autofree char *text = NULL;
        g_autoptr(GError) error = NULL;
        ck_assert_int_eq(nfsconf_read_proc_versions(p, &text, &error), -ENOENT);
        ck_assert_ptr_null(text);
        ck_assert_msg(strstr(error->message, "nfsd is not running"), "%s", error->message);
}
END_TEST

/* The machine's own file: absent without nfsd (as on the build machine), else it lists v3. */
START_TEST(test_proc_versions_real) {
        g_autofree char *text = NULL;
        g_autoptr(GError) error = NULL;
        int r = nfsconf_read_proc_versions(NULL, &text, &error);
        if (access(NFSCONF_PROC_VERSIONS, F_OK) < 0)
                ck_assert_int_eq(r, -ENOENT);
        else {
                ck_assert_msg(r == 0, "%s", error ? error->message : "");
                ck_assert_int_ge(nfsconf_proc_version_enabled(text, "3"), 0);
        }
}
END_TEST

/* ---- /etc/sysconfig/nfs ---- */

/* The rpc.nfsd part of RHEL 6's /etc/sysconfig/nfs as installed (everything commented). */
static const char rhel6_sysconfig[] =
        "#\n"
        "# Optional arguments passed to rpc.nfsd. See rpc.nfsd(8)\n"
        "# Turn off v2 and v3 protocol support\n"
        "#RPCNFSDARGS=\"-N 2 -N 3\"\n"
        "# Turn off v4 protocol support\n"
        "#RPCNFSDARGS=\"-N 4\"\n"
        "# Number of nfs server processes to be started.\n"
        "# The default is 8. \n"
        "#RPCNFSDCOUNT=8\n";

typedef struct SysconfigCase {
        const char *text;
        bool v4_off, v3_off;
} SysconfigCase;

static const SysconfigCase sysconfig_cases[] = {
        { "", false, false },
        { "RPCNFSDARGS=\"-N 4\"\n", true, false },
        { "  RPCNFSDARGS=\"-N 4\"  # seed 000\n", true, false },
        { "export RPCNFSDARGS='-N 4'\n", true, false },
        { "RPCNFSDARGS=\"-N4\"\n", true, false },
        { "RPCNFSDARGS=\"--no-nfs-version 4\"\n", true, false },
        { "RPCNFSDARGS=\"--no-nfs-version=4\"\n", true, false },
        { "RPCNFSDARGS=\"-d -N 4 16\"\n", true, false },
        { "RPCNFSDARGS=\"-sN4\"\n", true, false },
        { "RPCNFSDARGS=\"-N 4.1\"\n", false, false },
        { "RPCNFSDARGS=\"-N 4 -V 4\"\n", false, false },
        { "RPCNFSDARGS=\"-N 2 -N 3\"\n", false, true },
        { "RPCNFSDARGS=\"-H -N -p 2049\"\n", false, false }, /* "-N" is -H's argument */
        { "RPCNFSDARGS=\"-N 4\"\nRPCNFSDARGS=\"\"\n", false, false },
        { "RPCNFSDARGS=\"\"\nRPCNFSDARGS=\"-N 4\"\n", true, false },
        { "#RPCNFSDARGS=\"-N 4\"\n", false, false },
        { "MY_RPCNFSDARGS=\"-N 4\"\n", false, false },
        { "RPCNFSDOPTS=\"-N 4\"\n", true, false }, /* Debian's /etc/default/nfs-kernel-server */
        { "RPCNFSDARGS=\"-- -N 4\"\n", false, false },
};

START_TEST(test_sysconfig_rhel6_default) {
        g_autofree char *p = write_file("nfs", rhel6_sysconfig);
        bool off = true;
        ck_assert_int_eq(nfsconf_sysconfig_v4_disabled(p, &off, NULL), 0);
        ck_assert(!off);
        off = true;
        ck_assert_int_eq(nfsconf_sysconfig_v3_disabled(p, &off, NULL), 0);
        ck_assert(!off);

        /* the admin step seed 000 describes: enable the RPCNFSDARGS="-N 4" line */
        g_autofree char *text = g_strdup(rhel6_sysconfig);
        char *line = strstr(text, "#RPCNFSDARGS=\"-N 4\"");
        ck_assert_ptr_nonnull(line);
        memmove(line, line + 1, strlen(line));
        g_autofree char *p2 = write_file("nfs2", text);
        ck_assert_int_eq(nfsconf_sysconfig_v4_disabled(p2, &off, NULL), 0);
        ck_assert(off);
}
END_TEST

START_TEST(test_sysconfig_cases) {
        const SysconfigCase *c = &sysconfig_cases[_i];
        g_autofree char *p = write_file("nfs", c->text);
        bool v4 = !c->v4_off, v3 = !c->v3_off;
        g_autoptr(GError) error = NULL;
        ck_assert_msg(nfsconf_sysconfig_v4_disabled(p, &v4, &error) == 0, "%s", error ? error->message : "");
        ck_assert_msg(nfsconf_sysconfig_v3_disabled(p, &v3, &error) == 0, "%s", error ? error->message : "");
        ck_assert_msg(v4 == c->v4_off && v3 == c->v3_off, "case %d (%s): v4_off=%d v3_off=%d", _i, c->text, v4, v3);
}
END_TEST

START_TEST(test_sysconfig_errors) {
        g_autofree char *absent = path_in("absent");
        bool off = false;
        g_autoptr(GError) error = NULL;
        ck_assert_int_eq(nfsconf_sysconfig_v4_disabled(absent, &off, &error), -ENOENT);
        g_clear_error(&error);

        g_autofree char *p = write_file("nfs", "# x\nRPCNFSDARGS=\"-N 4\n");
        ck_assert_int_eq(nfsconf_sysconfig_v4_disabled(p, &off, &error), -EINVAL);
        g_autofree char *where = g_strdup_printf("%s:2", p);
        ck_assert_msg(strstr(error->message, where), "%s", error->message);
}
END_TEST

Suite *unit_suite(void) {
        Suite *s = suite_create("nfsconf");
        TCase *tc = tcase_create("nfsconf");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_debian12_default_reads_as_defaults);
        tcase_add_test(tc, test_missing_file_reads_as_defaults);
        tcase_add_test(tc, test_unreadable_file_is_an_error);
        tcase_add_test(tc, test_permission_denied_is_an_error);
        tcase_add_test(tc, test_vers3_off);
        tcase_add_test(tc, test_ok_file);
        tcase_add_test(tc, test_commented_keys_do_not_count);
        tcase_add_test(tc, test_case_variants);
        tcase_add_loop_test(tc, test_values, 0, G_N_ELEMENTS(value_cases));
        tcase_add_test(tc, test_explicit_minor_version_is_not_ok);
        tcase_add_test(tc, test_last_assignment_is_the_source);
        tcase_add_test(tc, test_threads_as_atoi);
        tcase_add_test(tc, test_dollar_expansion);
        tcase_add_test(tc, test_dropins_override_in_version_order);
        tcase_add_test(tc, test_include);
        tcase_add_test(tc, test_include_loop);
        tcase_add_test(tc, test_apply_debian12_default);
        tcase_add_test(tc, test_apply_replaces_in_place);
        tcase_add_test(tc, test_apply_adds_after_header);
        tcase_add_test(tc, test_apply_adds_section);
        tcase_add_test(tc, test_apply_creates_missing_file);
        tcase_add_test(tc, test_apply_keeps_mode);
        tcase_add_test(tc, test_apply_leaves_no_temporary_file);
        tcase_add_test(tc, test_apply_refuses_when_dropin_overrides);
        tcase_add_test(tc, test_apply_refuses_when_include_overrides);
        tcase_add_test(tc, test_apply_refuses_nul);
        tcase_add_test(tc, test_apply_refuses_non_regular_file);
        tcase_add_test(tc, test_proc_versions_file);
        tcase_add_test(tc, test_proc_versions_absent);
        tcase_add_test(tc, test_proc_versions_real);
        tcase_add_test(tc, test_sysconfig_rhel6_default);
        tcase_add_loop_test(tc, test_sysconfig_cases, 0, G_N_ELEMENTS(sysconfig_cases));
        tcase_add_test(tc, test_sysconfig_errors);
        suite_add_tcase(s, tc);
        return s;
}

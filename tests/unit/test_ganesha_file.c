/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ganesha_file.c: nfsprovd's NFS-Ganesha file of EXPORT blocks; ganesha_conf.c: ganesha.conf's
 * %include and NFSv3. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "ganesha_conf.h"
#include "ganesha_file.h"
#include "unit.h"

static char *dir;

static void setup(void) {
        dir = unit_mkdtemp();
}

static void teardown(void) {
        unit_rm_rf(dir);
        g_clear_pointer(&dir, g_free);
}

static char *slurp(const char *p) {
        char *d = NULL;
        ck_assert(g_file_get_contents(p, &d, NULL, NULL));
        return d;
}

static char *block_for(unsigned id, const char *path, const char *const *clients, bool v4) {
        ExportSpec spec = { .path = path, .export_id = id, .clients = (char **) clients };
        char *b = NULL;
        g_autoptr(GError) e = NULL;
        ck_assert_msg(ganesha_export_block(&spec, v4, &b, &e) == 0, "%s", e ? e->message : "");
        return b;
}

START_TEST(test_block) {
        g_autofree char *b = block_for(1000, "/home/NFS/NFSStorage_01",
                                       (const char *const[]){ "192.168.1.0/24", "10.0.0.0/255.0.0.0", "fd00::0:7",
                                                              "*.example.com", "@kvm-hosts", "", NULL },
                                       false);
        ck_assert_str_eq(b, "EXPORT {\n"
                            "\tExport_Id = 1000;\n"
                            "\tPath = \"/home/NFS/NFSStorage_01\";\n"
                            "\tPseudo = \"/home/NFS/NFSStorage_01\";\n"
                            "\tProtocols = 3;\n"
                            "\tAccess_Type = None;\n"
                            "\tSquash = No_Root_Squash;\n"
                            "\tSecType = sys;\n"
                            "\tAttr_Expiration_Time = 0;\n"
                            "\tCLIENT {\n"
                            "\t\tClients = 192.168.1.0/24, 10.0.0.0/8, fd00::7, *.example.com, @kvm-hosts;\n"
                            "\t\tAccess_Type = RW;\n"
                            "\t\tSquash = No_Root_Squash;\n"
                            "\t}\n"
                            "\tFSAL {\n"
                            "\t\tName = VFS;\n"
                            "\t}\n"
                            "}\n");
        g_autofree char *v4 = block_for(7, "/s", (const char *const[]){ "*", NULL }, true);
        ck_assert_ptr_nonnull(strstr(v4, "\tProtocols = 3, 4;\n"));
        ck_assert_ptr_nonnull(strstr(v4, "\t\tClients = *;\n"));
}
END_TEST

START_TEST(test_block_refused) {
        static const struct {
                unsigned id;
                const char *path;
                const char *client;
                int r;
                const char *want;
        } cases[] = {
                { 0, "/s", "*", -EINVAL, "Export_Id 0 is not 1-65535" },
                { 65536, "/s", "*", -EINVAL, "Export_Id 65536" },
                { 1, "s", "*", -EINVAL, "is not absolute" },
                { 1, "/a\"b", "*", -EINVAL, "double quote" },
                { 1, "/a\nb", "*", -EINVAL, "control character" },
                { 1, "/s", "10.0.0.1/8", -EINVAL, "bits set beyond prefix" },
                { 1, "/s", "", -EINVAL, "no export clients" },
        };
        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                const char *clients[] = { cases[i].client, NULL };
                ExportSpec spec = { .path = cases[i].path, .export_id = cases[i].id, .clients = (char **) clients };
                char *b = NULL;
                g_autoptr(GError) e = NULL;
                ck_assert_int_eq(ganesha_export_block(&spec, false, &b, &e), cases[i].r);
                ck_assert_ptr_null(b);
                ck_assert_msg(strstr(e->message, cases[i].want), "case %zu: %s", i, e->message);
        }
}
END_TEST

/* set, write, read back, update (pending), remove: the file round-trips exactly. */
START_TEST(test_file_set_write_read) {
        g_autofree char *p = g_build_filename(dir, "nfsprov.conf", NULL);
        g_autoptr(GaneshaFile) f = NULL;
        ck_assert_int_eq(ganesha_file_read(p, &f, NULL), 0); /* missing: empty */
        ck_assert_uint_eq(f->exports->len, 0);

        bool changed = false;
        ck_assert_int_eq(ganesha_file_set(f, 1001, "/NFS/B", block_for(1001, "/NFS/B", (const char *const[]){ "*", NULL }, false),
                                          &changed, NULL),
                         0);
        ck_assert(changed);
        ck_assert_int_eq(ganesha_file_set(f, 1000, "/NFS/A", block_for(1000, "/NFS/A", (const char *const[]){ "*", NULL }, false),
                                          &changed, NULL),
                         0);
        ck_assert_uint_eq(f->pending->len, 0); /* new exports: AddExport, not pending */
        ck_assert_int_eq(ganesha_file_write(p, f, &changed, NULL), 0);
        ck_assert(changed);
        struct stat st;
        ck_assert_int_eq(stat(p, &st), 0);
        ck_assert_uint_eq(st.st_mode & 07777, 0644);
        ck_assert_int_eq(ganesha_file_write(p, f, &changed, NULL), 0);
        ck_assert(!changed);

        g_autofree char *text = slurp(p);
        ck_assert(g_str_has_prefix(text, "# NFS-Ganesha exports of nfsprovd's shares"));
        ck_assert(strstr(text, "/NFS/A") < strstr(text, "/NFS/B")); /* sorted by path */

        g_autoptr(GaneshaFile) g = NULL;
        g_autoptr(GError) e = NULL;
        ck_assert_msg(ganesha_file_read(p, &g, &e) == 0, "%s", e ? e->message : "");
        ck_assert_uint_eq(g->exports->len, 2);
        ck_assert_uint_eq(ganesha_file_find(g, "/NFS/A")->id, 1000);
        ck_assert_uint_eq(ganesha_file_find(g, "/NFS/B")->id, 1001);
        g_autofree char *again = ganesha_file_render(g);
        ck_assert_str_eq(again, text);

        /* the same block again: nothing changes; another block of the same id: pending */
        ck_assert_int_eq(ganesha_file_set(g, 1000, "/NFS/A", block_for(1000, "/NFS/A", (const char *const[]){ "*", NULL }, false),
                                          &changed, NULL),
                         0);
        ck_assert(!changed);
        ck_assert_int_eq(ganesha_file_set(g, 1000, "/NFS/A",
                                          block_for(1000, "/NFS/A", (const char *const[]){ "10.0.0.0/8", NULL }, false),
                                          &changed, NULL),
                         0);
        ck_assert(changed);
        ck_assert(ganesha_file_pending(g, 1000));
        ck_assert_int_eq(ganesha_file_write(p, g, NULL, NULL), 0);
        g_autofree char *pending = slurp(p);
        ck_assert_ptr_nonnull(strstr(pending, "\n# nfsprov: update pending 1000\n"));
        g_autoptr(GaneshaFile) h = NULL;
        ck_assert_int_eq(ganesha_file_read(p, &h, NULL), 0);
        ck_assert(ganesha_file_pending(h, 1000));
        ck_assert(!ganesha_file_pending(h, 1001));

        /* an id another path has: refused */
        ck_assert_int_eq(ganesha_file_set(h, 1001, "/NFS/C", block_for(1001, "/NFS/C", (const char *const[]){ "*", NULL }, false),
                                          &changed, &e),
                         -EEXIST);
        ck_assert_ptr_nonnull(strstr(e->message, "Export_Id 1001 is already the export of /NFS/B"));

        ck_assert(ganesha_file_remove(h, "/NFS/A"));
        ck_assert(!ganesha_file_remove(h, "/NFS/A"));
        ck_assert(!ganesha_file_pending(h, 1000));
        ck_assert_uint_eq(h->exports->len, 1);
}
END_TEST

/* A read returns what the file holds now, whoever wrote it last (an in-place rewrite of the same
 * size within the same timestamp tick too); what a caller changes in a read result never reaches
 * the next read. */
START_TEST(test_file_read_sees_other_writers) {
        g_autofree char *p = g_build_filename(dir, "nfsprov.conf", NULL);
        g_autoptr(GaneshaFile) f = ganesha_file_new();
        ck_assert_int_eq(ganesha_file_set(f, 1000, "/NFS/A", block_for(1000, "/NFS/A", (const char *const[]){ "*", NULL }, false),
                                          NULL, NULL),
                         0);
        ck_assert_int_eq(ganesha_file_write(p, f, NULL, NULL), 0);
        g_autoptr(GaneshaFile) r1 = NULL;
        ck_assert_int_eq(ganesha_file_read(p, &r1, NULL), 0);
        ck_assert_uint_eq(ganesha_file_find(r1, "/NFS/A")->id, 1000);
        ck_assert(ganesha_file_remove(r1, "/NFS/A")); /* the caller's copy only */
        g_autoptr(GaneshaFile) r2 = NULL;
        ck_assert_int_eq(ganesha_file_read(p, &r2, NULL), 0);
        ck_assert_ptr_nonnull(ganesha_file_find(r2, "/NFS/A"));

        /* the same file rewritten in place by another writer: same size, same inode, at once */
        g_autofree char *text = slurp(p);
        char *id = strstr(text, "Export_Id = 1000;");
        ck_assert_ptr_nonnull(id);
        memcpy(id, "Export_Id = 1009;", strlen("Export_Id = 1009;"));
        FILE *out = fopen(p, "r+");
        ck_assert_ptr_nonnull(out);
        ck_assert_uint_eq(fwrite(text, 1, strlen(text), out), strlen(text));
        ck_assert_int_eq(fclose(out), 0);
        g_autoptr(GaneshaFile) r3 = NULL;
        ck_assert_int_eq(ganesha_file_read(p, &r3, NULL), 0);
        ck_assert_uint_eq(ganesha_file_find(r3, "/NFS/A")->id, 1009);

        /* an empty file, read twice */
        ck_assert(g_file_set_contents(p, "", 0, NULL));
        for (int i = 0; i < 2; i++) {
                g_autoptr(GaneshaFile) empty = NULL;
                ck_assert_int_eq(ganesha_file_read(p, &empty, NULL), 0);
                ck_assert_uint_eq(empty->exports->len, 0);
        }

        /* and a file nfsprovd cannot read is refused */
        ck_assert(g_file_set_contents(p, "EXPORT { garbage", -1, NULL));
        g_autoptr(GaneshaFile) r4 = NULL;
        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(ganesha_file_read(p, &r4, &e), -EBADMSG);
        ck_assert_ptr_null(r4);
}
END_TEST

/* A removed export leaves its id noted "removed" until Ganesha is told; the same id set again is an
 * update (pending), not a removal; the notes round-trip and clear. */
START_TEST(test_removed_notes) {
        g_autoptr(GaneshaFile) f = ganesha_file_new();
        ck_assert_int_eq(ganesha_file_set(f, 1000, "/NFS/A", block_for(1000, "/NFS/A", (const char *const[]){ "*", NULL }, false),
                                          NULL, NULL),
                         0);
        ck_assert(ganesha_file_remove(f, "/NFS/A"));
        ck_assert_uint_eq(f->exports->len, 0);
        ck_assert_uint_eq(f->removed->len, 1);
        ck_assert_uint_eq(g_array_index(f->removed, unsigned, 0), 1000);
        g_autofree char *text = ganesha_file_render(f);
        ck_assert_ptr_nonnull(strstr(text, "\n# nfsprov: removed 1000\n"));
        g_autoptr(GaneshaFile) g = NULL;
        ck_assert_int_eq(ganesha_file_parse(text, strlen(text), "t.conf", &g, NULL), 0);
        ck_assert_uint_eq(g->removed->len, 1);

        /* set again under the same id: Ganesha may serve the old block: an update */
        ck_assert_int_eq(ganesha_file_set(g, 1000, "/NFS/A", block_for(1000, "/NFS/A", (const char *const[]){ "*", NULL }, false),
                                          NULL, NULL),
                         0);
        ck_assert_uint_eq(g->removed->len, 0);
        ck_assert(ganesha_file_pending(g, 1000));
        /* another id at the same path: the old one noted removed */
        ck_assert_int_eq(ganesha_file_set(g, 1001, "/NFS/A", block_for(1001, "/NFS/A", (const char *const[]){ "*", NULL }, false),
                                          NULL, NULL),
                         0);
        ck_assert_uint_eq(g->removed->len, 1);
        ck_assert_uint_eq(g_array_index(g->removed, unsigned, 0), 1000);
        ck_assert(!ganesha_file_pending(g, 1000) && !ganesha_file_pending(g, 1001));

        /* a file saying both: the block's id is pending, not removed */
        const char *both = "# nfsprov: removed 7 9\nEXPORT {\n\tExport_Id = 7;\n\tPath = \"/a\";\n}\n";
        g_autoptr(GaneshaFile) h = NULL;
        ck_assert_int_eq(ganesha_file_parse(both, strlen(both), "t.conf", &h, NULL), 0);
        ck_assert(ganesha_file_pending(h, 7));
        ck_assert_uint_eq(h->removed->len, 1);
        ck_assert_uint_eq(g_array_index(h->removed, unsigned, 0), 9);
        ganesha_file_clear_notes(h);
        ck_assert_uint_eq(h->removed->len + h->pending->len, 0);
}
END_TEST

/* CONFIG's %dir lines (ganesha_store.h) read as nothing; an older CONFIG's blocks beside them. */
START_TEST(test_parse_dir_lines) {
        const char *text = "# c\n%dir \"/etc/ganesha/nfsprov.d/00/*.conf\"\n"
                           "EXPORT {\n\tExport_Id = 1;\n\tPath = \"/a\";\n}\n";
        g_autoptr(GaneshaFile) f = NULL;
        g_autoptr(GError) e = NULL;
        ck_assert_msg(ganesha_file_parse(text, strlen(text), "t.conf", &f, &e) == 0, "%s", e ? e->message : "");
        ck_assert_uint_eq(f->exports->len, 1);
        g_autofree char *again = ganesha_file_render(f);
        ck_assert_ptr_null(strstr(again, "%dir"));
}
END_TEST

/* Anything nfsprovd does not write is refused: it would not rewrite an admin's file. */
START_TEST(test_parse_refuses) {
        static const struct {
                const char *text, *want;
        } cases[] = {
                { "NFS_CORE_PARAM { Protocols = 3; }\n", "t.conf:1: a line outside the EXPORT blocks" },
                { "EXPORT {\n\tPath = \"/a\";\n}\n", "t.conf:1: an EXPORT block without its Export_Id or Path" },
                { "EXPORT {\n\tExport_Id = 0;\n}\n", "t.conf:2: a second or bad Export_Id" },
                { "EXPORT {\n\tExport_Id = 1;\n\tPath = \"/a\";\n", "t.conf:1: an EXPORT block without its end" },
                { "EXPORT {\n\tExport_Id = 1;\n\tPath = \"/a\";\n}\nEXPORT {\n\tExport_Id = 1;\n\tPath = \"/b\";\n}\n",
                  "t.conf:5: a second EXPORT block with the same Export_Id" },
                { "EXPORT {\n\tExport_Id = 1;\n\tPath = \"/a\";\nx\n}\n", "t.conf:4: a line of an EXPORT block" },
                { "# nfsprov: update pending x\n", "t.conf:1: \"update pending\" lists" },
                { "%dir \"/x\n", "t.conf:1: a line outside the EXPORT blocks" },
                { "# nfsprov: removed 0\n", "t.conf:1: \"removed\" lists" },
                { "%include \"/x\"\n", "t.conf:1: a line outside the EXPORT blocks" },
        };
        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                GaneshaFile *f = NULL;
                g_autoptr(GError) e = NULL;
                ck_assert_int_eq(ganesha_file_parse(cases[i].text, strlen(cases[i].text), "t.conf", &f, &e), -EBADMSG);
                ck_assert_ptr_null(f);
                ck_assert_msg(strstr(e->message, cases[i].want), "case %zu: %s", i, e->message);
                ck_assert_ptr_nonnull(strstr(e->message, "set [exports] ganesha_config to another file"));
        }
}
END_TEST

static GaneshaConfStatus conf_status(const char *text) {
        GaneshaConfStatus st;
        g_autoptr(GError) e = NULL;
        ck_assert_msg(ganesha_conf_parse(text, strlen(text), "g.conf", "/etc/ganesha/nfsprov.conf", &st, &e) == 0, "%s",
                      e ? e->message : "");
        return st;
}

START_TEST(test_conf_read) {
        GaneshaConfStatus st = conf_status("");
        ck_assert(!st.includes && st.vers3 && st.vers4 && st.mount && !st.protocols_explicit);
        st = conf_status("# %include \"/etc/ganesha/nfsprov.conf\"\nNFS_CORE_PARAM {\n  protocols = 4, 9P; # v3: no\n}\n");
        ck_assert(!st.includes && !st.vers3 && st.vers4 && !st.mount && st.protocols_explicit);
        st = conf_status("nfs_core_param { Protocols = NFSv3; MNT_Port = 20048; }\n%include /etc/ganesha/nfsprov.conf\n");
        ck_assert(st.includes && st.vers3 && !st.vers4 && st.mount);
        ck_assert(ganesha_conf_ok(&st));
        /* inside a block, or another file: not the include */
        st = conf_status("LOG { %include \"/etc/ganesha/nfsprov.conf\" }\n%include \"/etc/ganesha/other.conf\"\n");
        ck_assert(!st.includes);
        /* Protocols of another block is not NFS_CORE_PARAM's */
        st = conf_status("EXPORT { Protocols = 4; }\n");
        ck_assert(st.vers3 && !st.protocols_explicit);

        static const char *const bad[] = { "A {\n", "}\n", "A { B = \"x; }\n", "{ }\n", "NFS_CORE_PARAM { Protocols 3; }",
                                           "NFS_CORE_PARAM { Protocols = 3 }", "%include\n" };
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                GaneshaConfStatus x;
                g_autoptr(GError) e = NULL;
                ck_assert_int_eq(ganesha_conf_parse(bad[i], strlen(bad[i]), "g.conf", "/x", &x, &e), -EBADMSG);
                ck_assert_msg(g_str_has_prefix(e->message, "g.conf:"), "%s", e->message);
        }
}
END_TEST

START_TEST(test_conf_apply) {
        g_autofree char *p = g_build_filename(dir, "ganesha.conf", NULL);
        const char *inc = "/etc/ganesha/nfsprov.conf";
        bool changed = false;
        /* missing: created with the include */
        ck_assert_int_eq(ganesha_conf_apply(p, inc, &changed, NULL), 0);
        ck_assert(changed);
        g_autofree char *t1 = slurp(p);
        ck_assert_str_eq(t1, "%include \"/etc/ganesha/nfsprov.conf\"\n");

        static const char text[] = "# admin's\nNFS_CORE_PARAM {\n\tProtocols = 4 ; # only v4\n}\nLOG { }";
        ck_assert(g_file_set_contents(p, text, -1, NULL));
        ck_assert_int_eq(ganesha_conf_apply(p, inc, &changed, NULL), 0);
        ck_assert(changed);
        g_autofree char *t2 = slurp(p);
        ck_assert_str_eq(t2, "# admin's\nNFS_CORE_PARAM {\n\tProtocols = 4 , 3; # only v4\n}\nLOG { }\n"
                             "%include \"/etc/ganesha/nfsprov.conf\"\n");
        GaneshaConfStatus st;
        ck_assert_int_eq(ganesha_conf_read(p, inc, &st, NULL), 0);
        ck_assert(ganesha_conf_ok(&st));
        ck_assert_ptr_null(ganesha_conf_problem(&st, p, inc));
        ck_assert_int_eq(ganesha_conf_apply(p, inc, &changed, NULL), 0);
        ck_assert(!changed);

        ck_assert(g_file_set_contents(p, "NFS_CORE_PARAM { Protocols = ; }\n", -1, NULL));
        ck_assert_int_eq(ganesha_conf_read(p, inc, &st, NULL), 0);
        g_autofree char *problem = ganesha_conf_problem(&st, p, inc);
        ck_assert_ptr_nonnull(strstr(problem, "Protocols leaves NFSv3 (and its MOUNT protocol) off"));
        ck_assert_int_eq(ganesha_conf_apply(p, inc, &changed, NULL), 0);
        g_autofree char *t3 = slurp(p);
        ck_assert_str_eq(t3, "NFS_CORE_PARAM { Protocols = 3; }\n%include \"/etc/ganesha/nfsprov.conf\"\n");

        /* a file that does not parse is left as it is */
        ck_assert(g_file_set_contents(p, "A {\n", -1, NULL));
        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(ganesha_conf_apply(p, inc, &changed, &e), -EBADMSG);
        g_autofree char *t4 = slurp(p);
        ck_assert_str_eq(t4, "A {\n");
}
END_TEST

Suite *unit_suite(void) {
        Suite *s = suite_create("ganesha_file");
        TCase *tc = tcase_create("ganesha_file");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_block);
        tcase_add_test(tc, test_block_refused);
        tcase_add_test(tc, test_file_set_write_read);
        tcase_add_test(tc, test_file_read_sees_other_writers);
        tcase_add_test(tc, test_removed_notes);
        tcase_add_test(tc, test_parse_dir_lines);
        tcase_add_test(tc, test_parse_refuses);
        tcase_add_test(tc, test_conf_read);
        tcase_add_test(tc, test_conf_apply);
        suite_add_tcase(s, tc);
        return s;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "fstab.h"
#include "unit.h"

#define U1 "6b229839-f029-46aa-be63-051ae41aaa61"
#define U2 "0b3c7d4e-1f2a-4c5b-9d6e-7f8091a2b3c4"
#define U1_UPPER "6B229839-F029-46AA-BE63-051AE41AAA61"
#define LINE_A "UUID=" U1 " /home/NFS/NFSStorage_01 ext4 defaults,nofail 0 2\n"
#define LINE_B "UUID=" U2 " /home/NFS/NFSStorage_02 ext4 defaults,nofail 0 2\n"

/* Debian 12's installer fstab, with an admin's additions: aligned columns, tabs, a comment after
 * an entry (libmount accepts one only after the pass field), an entry without dump/pass, a blank
 * line. */
static const char debian[] =
        "# /etc/fstab: static file system information.\n"
        "#\n"
        "# Use 'blkid' to print the universally unique identifier for a\n"
        "# device; this may be used with UUID= as a more robust way to name devices\n"
        "# that works even if disks are added and removed. See fstab(5).\n"
        "#\n"
        "# systemd generates mount units based on this file, see systemd.mount(5).\n"
        "# Please run 'systemctl daemon-reload' after you make changes to this file.\n"
        "#\n"
        "# <file system> <mount point>   <type>  <options>       <dump>  <pass>\n"
        "# / was on /dev/vda1 during installation\n"
        "UUID=3f1b0c4e-5d6a-4b1c-9c2a-1a2b3c4d5e6f /               ext4    errors=remount-ro 0       1\n"
        "# swap was on /dev/vda5 during installation\n"
        "UUID=a1b2c3d4-0000-4000-8000-00000000abcd none            swap    sw              0       0\n"
        "/dev/sr0        /media/cdrom0   udf,iso9660 user,noauto     0       0\n"
        "\n"
        "\ttmpfs\t/tmp\ttmpfs\tdefaults 0 0   # the admin's tmpfs\n"
        "/dev/vdb1 /srv/data xfs noatime\n";

static char *dir;
static char *path;

static void setup(void) {
        dir = unit_mkdtemp();
        path = g_build_filename(dir, "fstab", NULL);
}

static void teardown(void) {
        unit_rm_rf(dir);
        g_clear_pointer(&dir, g_free);
        g_clear_pointer(&path, g_free);
}

static void put(const char *text) {
        ck_assert(g_file_set_contents(path, text, -1, NULL));
}

static char *slurp(void) {
        char *d = NULL;
        ck_assert(g_file_get_contents(path, &d, NULL, NULL));
        return d;
}

static ino_t inode(void) {
        struct stat st;
        ck_assert_int_eq(stat(path, &st), 0);
        return st.st_ino;
}

START_TEST(test_empty_file) {
        put("");
        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(fstab_find(path, "/home/NFS/NFSStorage_01", NULL, &e), -ENOENT);
        g_clear_error(&e);
        ck_assert_int_eq(fstab_remove(path, U1, "/home/NFS/NFSStorage_01", NULL), 0);

        ck_assert_int_eq(fstab_set(path, U1, "/home/NFS/NFSStorage_01", &e), 0);
        g_autofree char *t = slurp();
        ck_assert_str_eq(t, LINE_A);

        g_autofree char *src = NULL;
        ck_assert_int_eq(fstab_find(path, "/home/NFS/NFSStorage_01", &src, NULL), 0);
        ck_assert_str_eq(src, "UUID=" U1);

        ck_assert_int_eq(fstab_remove(path, U1, "/home/NFS/NFSStorage_01", NULL), 0);
        g_autofree char *t2 = slurp();
        ck_assert_str_eq(t2, "");
}
END_TEST

START_TEST(test_missing_file) {
        ck_assert_int_eq(fstab_find(path, "/home/NFS/NFSStorage_01", NULL, NULL), -ENOENT);
        ck_assert_int_eq(fstab_remove(path, U1, "/home/NFS/NFSStorage_01", NULL), 0);
        ck_assert(!g_file_test(path, G_FILE_TEST_EXISTS));

        mode_t old = umask(077);
        ck_assert_int_eq(fstab_set(path, U1, "/home/NFS/NFSStorage_01", NULL), 0);
        umask(old);
        struct stat st;
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert_uint_eq(st.st_mode & 07777, 0644);
        g_autofree char *t = slurp();
        ck_assert_str_eq(t, LINE_A);
}
END_TEST

START_TEST(test_debian_fstab_kept_byte_for_byte) {
        put(debian);
        ck_assert_int_eq(chmod(path, 0600), 0);

        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(fstab_set(path, U1, "/home/NFS/NFSStorage_01", &e), 0);
        ck_assert_int_eq(fstab_set(path, U2, "/home/NFS/NFSStorage_02", &e), 0);
        g_autofree char *t = slurp();
        g_autofree char *want = g_strconcat(debian, LINE_A, LINE_B, NULL);
        ck_assert_str_eq(t, want);

        struct stat st;
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert_uint_eq(st.st_mode & 07777, 0600);

        /* The admin's entries are read as libmount reads them. */
        g_autofree char *src = NULL;
        ck_assert_int_eq(fstab_find(path, "/tmp", &src, NULL), 0);
        ck_assert_str_eq(src, "tmpfs");
        g_autofree char *src2 = NULL;
        ck_assert_int_eq(fstab_find(path, "/media/cdrom0/", &src2, NULL), 0);
        ck_assert_str_eq(src2, "/dev/sr0");

        /* Removing the first of nfsprov's lines leaves everything else as it was. */
        ck_assert_int_eq(fstab_remove(path, U1, "/home/NFS/NFSStorage_01", &e), 0);
        g_autofree char *t2 = slurp();
        g_autofree char *want2 = g_strconcat(debian, LINE_B, NULL);
        ck_assert_str_eq(t2, want2);
        ck_assert_int_eq(fstab_remove(path, U2, "/home/NFS/NFSStorage_02", &e), 0);
        g_autofree char *t3 = slurp();
        ck_assert_str_eq(t3, debian);
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert_uint_eq(st.st_mode & 07777, 0600);
}
END_TEST

START_TEST(test_idempotent) {
        put(debian);
        ck_assert_int_eq(fstab_set(path, U1, "/home/NFS/NFSStorage_01", NULL), 0);
        ino_t i1 = inode();
        /* Same entry again, also with a trailing slash: nothing is written (same inode). */
        ck_assert_int_eq(fstab_set(path, U1, "/home/NFS/NFSStorage_01", NULL), 0);
        ck_assert_int_eq(fstab_set(path, U1, "/home/NFS/NFSStorage_01/", NULL), 0);
        ck_assert_uint_eq(inode(), i1);
        g_autofree char *t = slurp();
        g_autofree char *want = g_strconcat(debian, LINE_A, NULL);
        ck_assert_str_eq(t, want);

        ck_assert_int_eq(fstab_remove(path, U1, "/home/NFS/NFSStorage_01", NULL), 0);
        ino_t i2 = inode();
        ck_assert_int_eq(fstab_remove(path, U1, "/home/NFS/NFSStorage_01", NULL), 0);
        ck_assert_uint_eq(inode(), i2);
        g_autofree char *t2 = slurp();
        ck_assert_str_eq(t2, debian);
}
END_TEST

START_TEST(test_admin_spelling_of_same_uuid_is_kept) {
        /* An admin re-typed nfsprov's line: quoted, upper-case, other options. It is the same
         * filesystem on the same target, so it stays as it is. */
        g_autofree char *upper = g_ascii_strup(U1, -1);
        g_autofree char *text = g_strdup_printf("UUID=\"%s\"\t/home/NFS/NFSStorage_01  ext4 noatime,nofail 0 0\n",
                                                upper);
        put(text);
        ino_t i1 = inode();
        ck_assert_int_eq(fstab_set(path, U1, "/home/NFS/NFSStorage_01", NULL), 0);
        ck_assert_uint_eq(inode(), i1);
        g_autofree char *t = slurp();
        ck_assert_str_eq(t, text);
}
END_TEST

START_TEST(test_conflicts_refused_with_line) {
        g_autofree char *text = g_strconcat(debian, "/dev/sdb1 /home/NFS/NFSStorage_01 ext4 defaults 0 2\n", NULL);
        put(text);
        g_autoptr(GError) e = NULL;
        /* the admin's entry for the target: line 18 */
        ck_assert_int_eq(fstab_set(path, U1, "/home/NFS/NFSStorage_01", &e), -EEXIST);
        ck_assert_int_eq(e->code, EEXIST);
        g_autofree char *want = g_strdup_printf("%s:19: /home/NFS/NFSStorage_01 already has an entry, for /dev/sdb1",
                                                path);
        ck_assert_msg(g_str_has_prefix(e->message, want), "message: %s", e->message);
        g_clear_error(&e);
        g_autofree char *t = slurp();
        ck_assert_str_eq(t, text);

        /* nfsprov's own entry with another uuid is not replaced either: remove, then set */
        put(debian);
        ck_assert_int_eq(fstab_set(path, U1, "/home/NFS/NFSStorage_01", NULL), 0);
        ck_assert_int_eq(fstab_set(path, U2, "/home/NFS/NFSStorage_01", &e), -EEXIST);
        ck_assert_ptr_nonnull(strstr(e->message, ":19: "));
        ck_assert_ptr_nonnull(strstr(e->message, "UUID=" U1));
        g_clear_error(&e);
        ck_assert_int_eq(fstab_remove(path, U1, "/home/NFS/NFSStorage_01", NULL), 0);
        ck_assert_int_eq(fstab_set(path, U2, "/home/NFS/NFSStorage_01", NULL), 0);
        g_autofree char *t2 = slurp();
        g_autofree char *want2 = g_strconcat(debian, "UUID=" U2 " /home/NFS/NFSStorage_01 ext4 defaults,nofail 0 2\n",
                                             NULL);
        ck_assert_str_eq(t2, want2);

        /* the same filesystem on a second target */
        ck_assert_int_eq(fstab_set(path, U2, "/home/NFS/other", &e), -EEXIST);
        g_autofree char *want3 =
                g_strdup_printf("%s:19: UUID=%s is already mounted on /home/NFS/NFSStorage_01", path, U2);
        ck_assert_msg(g_str_has_prefix(e->message, want3), "message: %s", e->message);
}
END_TEST

START_TEST(test_bad_lines_reported) {
        const char *text = "# comment\n"
                           "/dev/sda1 / ext4 defaults 0 1\n"
                           "/dev/sdz9\n"
                           "\n"
                           "/dev/sdb1 /srv ext4 defaults zero 2\n"
                           "/dev/sdc1 /data xfs defaults 0 2\n"
                           "tmpfs /tmp tmpfs defaults # a comment where DUMP belongs\n";
        put(text);
        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(fstab_set(path, U1, "/home/NFS/NFSStorage_01", &e), -EBADMSG);
        g_autofree char *want = g_strdup_printf("%s:3: cannot parse \"/dev/sdz9\" as an fstab entry", path);
        ck_assert_msg(g_str_has_prefix(e->message, want), "message: %s", e->message);
        ck_assert_msg(g_str_has_suffix(e->message, "lines that cannot be parsed either: 5, 7"), "message: %s",
                      e->message);
        g_clear_error(&e);
        g_autofree char *t = slurp();
        ck_assert_str_eq(t, text);

        ck_assert_int_eq(fstab_find(path, "/data", NULL, &e), -EBADMSG);
        g_clear_error(&e);
        ck_assert_int_eq(fstab_remove(path, U1, "/data", &e), -EBADMSG);
        g_autofree char *t2 = slurp();
        ck_assert_str_eq(t2, text);
}
END_TEST

/* The bad line is quoted as one line of UTF-8, whatever its bytes (found by tests/fuzz/fuzz_fstab):
 * invalid UTF-8 and control characters as \xNN (common/show.h), cut after 77 characters. */
START_TEST(test_bad_line_shown_as_utf8) {
        put("/dev/x\xf0\x1b\xff\n");
        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(fstab_find(path, "/data", NULL, &e), -EBADMSG);
        g_autofree char *want = g_strdup_printf("%s:1: cannot parse \"/dev/x\\xf0\\x1b\\xff\" as", path);
        ck_assert_msg(g_str_has_prefix(e->message, want), "message: %s", e->message);
        ck_assert(g_utf8_validate(e->message, -1, NULL));
        g_clear_error(&e);

        g_autofree char *line = g_strdup_printf("/dev/x%s\n", "\xf0\xf0\xf0\xf0\xf0\xf0\xf0\xf0\xf0\xf0\xf0\xf0"
                                                          "\xf0\xf0\xf0\xf0\xf0\xf0\xf0\xf0\xf0\xf0\xf0\xf0"
                                                          "\xf0\xf0\xf0\xf0\xf0\xf0\xf0\xf0\xf0\xf0\xf0\xf0"
                                                          "\xf0\xf0\xf0\xf0\xf0\xf0\xf0\xf0\xf0\xf0\xf0\xf0"
                                                          "\xf0\xf0\xf0\xf0\xf0\xf0\xf0\xf0\xf0\xf0\xf0\xf0"
                                                          "\xf0\xf0\xf0\xf0\xf0\xf0\xf0\xf0\xf0\xf0\xf0\xf0"
                                                          "\xf0\xf0\xf0\xf0\xf0\xf0\xf0\xf0\xf0\xf0\xf0\xf0");
        put(line);
        ck_assert_int_eq(fstab_find(path, "/data", NULL, &e), -EBADMSG);
        ck_assert(g_utf8_validate(e->message, -1, NULL));
        ck_assert_ptr_nonnull(strstr(e->message, "\\xf0...\" as an fstab entry"));
}
END_TEST

/* So is an entry a conflict names: libmount decodes "\012" to a newline. */
START_TEST(test_conflict_shown_as_utf8) {
        put("UUID=" U1 " /srv/a\\012b\\377 ext4 defaults 0 2\n/dev/sdb1 /home/NFS/NFSStorage_02\\033 ext4 defaults 0 2\n");
        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(fstab_set(path, U1, "/home/NFS/NFSStorage_01", &e), -EEXIST);
        ck_assert_msg(strstr(e->message, "is already mounted on /srv/a\\x0ab\\xff by this entry"), "message: %s",
                      e->message);
        g_clear_error(&e);
        ck_assert_int_eq(fstab_set(path, U2, "/home/NFS/NFSStorage_02\033", &e), -EEXIST);
        ck_assert_msg(strstr(e->message, "already has an entry, for /dev/sdb1;"), "message: %s", e->message);
        ck_assert(g_utf8_validate(e->message, -1, NULL));
}
END_TEST

START_TEST(test_no_final_newline) {
        put("/dev/sda1 / ext4 defaults 0 1");
        ck_assert_int_eq(fstab_set(path, U1, "/home/NFS/NFSStorage_01", NULL), 0);
        g_autofree char *t = slurp();
        ck_assert_str_eq(t, "/dev/sda1 / ext4 defaults 0 1\n" LINE_A);
        ck_assert_int_eq(fstab_remove(path, U1, "/home/NFS/NFSStorage_01", NULL), 0);
        g_autofree char *t2 = slurp();
        ck_assert_str_eq(t2, "/dev/sda1 / ext4 defaults 0 1\n");

        /* an admin's last line without a newline is never removed */
        put("# x\n/dev/sdb1 /srv ext4 defaults");
        ck_assert_int_eq(fstab_remove(path, U1, "/srv", NULL), 0);
        g_autofree char *t3 = slurp();
        ck_assert_str_eq(t3, "# x\n/dev/sdb1 /srv ext4 defaults");
}
END_TEST

START_TEST(test_path_with_space_escaped) {
        put("");
        ck_assert_int_eq(fstab_set(path, U1, "/home/NFS/with space", NULL), 0);
        g_autofree char *t = slurp();
        ck_assert_str_eq(t, "UUID=" U1 " /home/NFS/with\\040space ext4 defaults,nofail 0 2\n");
        g_autofree char *src = NULL;
        ck_assert_int_eq(fstab_find(path, "/home/NFS/with space", &src, NULL), 0);
        ck_assert_str_eq(src, "UUID=" U1);
        ck_assert_int_eq(fstab_find(path, "/home/NFS/with", NULL, NULL), -ENOENT);
        ck_assert_int_eq(fstab_remove(path, U1, "/home/NFS/with space", NULL), 0);
        g_autofree char *t2 = slurp();
        ck_assert_str_eq(t2, "");
}
END_TEST

/* Only the share's own entries go: the target with UUID=<its filesystem>, in any spelling
 * libmount accepts; the admin's entries for the same target (another source) stay. */
START_TEST(test_remove_only_own_entries) {
        const char *text = "/dev/sdb1 /srv ext4 defaults 0 2\n"
                           "# between\n"
                           "UUID=\"" U1_UPPER "\" /srv/ ext4 defaults 0 2\n"
                           "UUID=" U2 " /srv ext4 defaults 0 2\n"
                           "UUID=" U1 " /srv2 xfs defaults 0 2\n";
        put(text);
        ck_assert_int_eq(fstab_remove(path, U1, "/srv", NULL), 0);
        g_autofree char *t = slurp();
        ck_assert_str_eq(t, "/dev/sdb1 /srv ext4 defaults 0 2\n"
                            "# between\n"
                            "UUID=" U2 " /srv ext4 defaults 0 2\n"
                            "UUID=" U1 " /srv2 xfs defaults 0 2\n");
        ino_t i = inode();
        ck_assert_int_eq(fstab_remove(path, U1, "/srv", NULL), 0); /* nothing left of ours: not written */
        ck_assert_uint_eq(inode(), i);
}
END_TEST

START_TEST(test_invalid_input) {
        put(debian);
        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(fstab_set(path, "not-a-uuid", "/home/NFS/A", &e), -EINVAL);
        ck_assert_ptr_nonnull(strstr(e->message, "invalid filesystem uuid \"not-a-uuid\""));
        g_clear_error(&e);
        ck_assert_int_eq(fstab_set(path, U1, "home/NFS/A", &e), -EINVAL);
        ck_assert_ptr_nonnull(strstr(e->message, "must be an absolute path"));
        g_clear_error(&e);
        ck_assert_int_eq(fstab_set(path, U1, "/home/NFS/A\nB", NULL), -EINVAL);
        ck_assert_int_eq(fstab_remove(path, U1, "", NULL), -EINVAL);
        ck_assert_int_eq(fstab_remove(path, "not-a-uuid", "/home/NFS/A", NULL), -EINVAL);
        ck_assert_int_eq(fstab_find(path, NULL, NULL, NULL), -EINVAL);
        g_autofree char *t = slurp();
        ck_assert_str_eq(t, debian);
}
END_TEST

Suite *unit_suite(void) {
        Suite *s = suite_create("fstab");
        TCase *tc = tcase_create("fstab");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_empty_file);
        tcase_add_test(tc, test_missing_file);
        tcase_add_test(tc, test_debian_fstab_kept_byte_for_byte);
        tcase_add_test(tc, test_idempotent);
        tcase_add_test(tc, test_admin_spelling_of_same_uuid_is_kept);
        tcase_add_test(tc, test_conflicts_refused_with_line);
        tcase_add_test(tc, test_bad_lines_reported);
        tcase_add_test(tc, test_bad_line_shown_as_utf8);
        tcase_add_test(tc, test_conflict_shown_as_utf8);
        tcase_add_test(tc, test_no_final_newline);
        tcase_add_test(tc, test_path_with_space_escaped);
        tcase_add_test(tc, test_remove_only_own_entries);
        tcase_add_test(tc, test_invalid_input);
        suite_add_tcase(s, tc);
        return s;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * server/audit.c on a temporary directory standing for a share: volumes made by the real
 * qemu-img (each test is skipped with the reason when it is not installed), then each finding
 * made by hand: foreign entries of every kind and depth, volumes replaced, truncated, resized,
 * hard-linked, setuid, turned into a directory or a fifo, missing; what is allowed; the bound on
 * items; the errors.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib.h>

#include "audit.h"
#include "unit.h"

#define GiB (UINT64_C(1) << 30)

/* Run qemu-img (argv, no shell) in dir; fails the test when it fails. */
static void qemu_img(const char *dir, const char *const *args) {
        g_free(unit_qemu_img(dir, args));
}

static char *at(const char *dir, const char *name) {
        return g_build_filename(dir, name, NULL);
}

static uint64_t ino_of(const char *dir, const char *name) {
        g_autofree char *p = at(dir, name);
        struct stat st;
        ck_assert_msg(lstat(p, &st) == 0, "stat %s: %s", p, g_strerror(errno));
        return (uint64_t) st.st_ino;
}

static void write_file(const char *dir, const char *name, const char *content) {
        g_autofree char *p = at(dir, name);
        g_autoptr(GError) error = NULL;
        ck_assert_msg(g_file_set_contents(p, content, -1, &error), "%s", error ? error->message : "");
}

/* A share: a.qcow2 (1 GiB) and b.qcow2 (backed by a.qcow2), empty lost+found, nfsprov's
 * temporary file; vols gets their manifest (names static). */
typedef struct Share {
        char *dir;
        AuditVolume vols[2];
} Share;

static void share_make(Share *s) {
        s->dir = unit_mkdtemp();
        qemu_img(s->dir, (const char *const[]) { "create", "-q", "-f", "qcow2", "-o", "compat=1.1", "a.qcow2", "1G", NULL });
        qemu_img(s->dir, (const char *const[]) { "create", "-q", "-f", "qcow2", "-o", "compat=1.1", "-b", "a.qcow2", "-F",
                                                 "qcow2", "b.qcow2", NULL });
        g_autofree char *lf = at(s->dir, "lost+found");
        ck_assert(mkdir(lf, 0700) == 0);
        write_file(s->dir, ".nfsprov-0123456789abcdef.part", "half made");
        s->vols[0] = (AuditVolume) { "a.qcow2", ino_of(s->dir, "a.qcow2"), GiB, NULL };
        s->vols[1] = (AuditVolume) { "b.qcow2", ino_of(s->dir, "b.qcow2"), GiB, "a.qcow2" };
}

static void share_done(Share *s) {
        unit_rm_rf(s->dir);
        g_free(s->dir);
}

static GPtrArray *scan_opt(const Share *s, const AuditOptions *opt, AuditStats *stats) {
        int fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ck_assert(fd >= 0);
        GPtrArray *items = NULL;
        g_autoptr(GError) error = NULL;
        int r = audit_scan(fd, s->vols, G_N_ELEMENTS(s->vols), opt, &items, stats, &error);
        close(fd);
        ck_assert_msg(r == 0, "audit_scan: %d %s", r, error ? error->message : "");
        ck_assert(items);
        for (guint i = 1; i < items->len; i++)
                ck_assert_msg(strcmp(((AuditItem *) items->pdata[i - 1])->path, ((AuditItem *) items->pdata[i])->path) < 0,
                              "items not sorted at %u", i);
        return items;
}

static GPtrArray *scan(const Share *s) {
        return scan_opt(s, NULL, NULL);
}

static const AuditItem *find(GPtrArray *items, const char *path) {
        for (guint i = 0; i < items->len; i++)
                if (strcmp(((AuditItem *) items->pdata[i])->path, path) == 0)
                        return items->pdata[i];
        return NULL;
}

/* Assert the item at path: its finding, kind and detail (exact, or a prefix when it ends in "*"). */
static void expect(GPtrArray *items, const char *path, AuditFinding finding, const char *kind, const char *detail) {
        const AuditItem *it = find(items, path);
        ck_assert_msg(it, "no item for %s", path);
        ck_assert_str_eq(audit_finding_to_string(it->finding), audit_finding_to_string(finding));
        ck_assert_str_eq(it->kind, kind);
        size_t n = strlen(detail);
        if (n && detail[n - 1] == '*')
                ck_assert_msg(strncmp(it->detail, detail, n - 1) == 0, "%s: detail \"%s\", expected \"%s\"", path,
                              it->detail, detail);
        else
                ck_assert_str_eq(it->detail, detail);
}

#define FOREIGN "not in the manifest"

START_TEST(test_clean) {
        UNIT_NEED_QEMU_IMG;
        Share s;
        share_make(&s);
        AuditStats st;
        g_autoptr(GPtrArray) items = scan_opt(&s, NULL, &st);
        ck_assert_uint_eq(items->len, 0);
        ck_assert_uint_eq(st.entries, 4);
        ck_assert_uint_eq(st.directories, 2); /* the root and lost+found */
        ck_assert_uint_eq(st.foreign, 0);
        share_done(&s);
}
END_TEST

START_TEST(test_foreign_kinds) {
        UNIT_NEED_QEMU_IMG;
        Share s;
        share_make(&s);
        write_file(s.dir, "x.txt", "hello");
        g_autofree char *d = at(s.dir, "dir"), *sub = at(s.dir, "dir/sub"), *fifo = at(s.dir, "pipe"),
                        *link = at(s.dir, "etc"), *sock = at(s.dir, "sock");
        ck_assert(mkdir(d, 0755) == 0 && mkdir(sub, 0755) == 0);
        write_file(s.dir, "dir/sub/f", "nested");
        ck_assert(mkfifo(fifo, 0600) == 0);
        ck_assert(symlink("/etc", link) == 0);
        int so = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        ck_assert(strlen(sock) < sizeof sa.sun_path);
        strcpy(sa.sun_path, sock);
        ck_assert(so >= 0 && bind(so, (struct sockaddr *) &sa, sizeof sa) == 0);
        close(so);

        AuditStats st;
        g_autoptr(GPtrArray) items = scan_opt(&s, NULL, &st);
        ck_assert_uint_eq(items->len, 7);
        expect(items, "x.txt", AUDIT_FOREIGN, "file", FOREIGN);
        ck_assert_uint_eq(find(items, "x.txt")->size, 5);
        ck_assert_uint_eq(find(items, "x.txt")->uid, geteuid());
        expect(items, "dir", AUDIT_FOREIGN, "directory", FOREIGN);
        expect(items, "dir/sub", AUDIT_FOREIGN, "directory", FOREIGN);
        expect(items, "dir/sub/f", AUDIT_FOREIGN, "file", FOREIGN);
        expect(items, "pipe", AUDIT_FOREIGN, "fifo", FOREIGN);
        expect(items, "etc", AUDIT_FOREIGN, "symlink", FOREIGN); /* not followed: nothing of /etc */
        expect(items, "sock", AUDIT_FOREIGN, "socket", FOREIGN);
        ck_assert_uint_eq(st.foreign, 7);
        ck_assert_uint_eq(st.foreign_omitted, 0);
        ck_assert_uint_eq(st.directories, 4);
        share_done(&s);
}
END_TEST

START_TEST(test_lost_found_and_temp) {
        UNIT_NEED_QEMU_IMG;
        Share s;
        share_make(&s);
        write_file(s.dir, "lost+found/#12", "recovered");
        g_autofree char *tmpdir = at(s.dir, ".nfsprov-dir");
        ck_assert(mkdir(tmpdir, 0700) == 0); /* nfsprov makes only files so */
        write_file(s.dir, ".hidden", "");
        g_autoptr(GPtrArray) items = scan(&s);
        ck_assert_uint_eq(items->len, 3);
        expect(items, "lost+found/#12", AUDIT_FOREIGN, "file", FOREIGN);
        expect(items, ".nfsprov-dir", AUDIT_FOREIGN, "directory", FOREIGN);
        expect(items, ".hidden", AUDIT_FOREIGN, "file", FOREIGN);
        share_done(&s);
}
END_TEST

START_TEST(test_lost_found_not_directory) {
        UNIT_NEED_QEMU_IMG;
        Share s;
        share_make(&s);
        g_autofree char *lf = at(s.dir, "lost+found");
        ck_assert(rmdir(lf) == 0);
        write_file(s.dir, "lost+found", "");
        write_file(s.dir, ".nfsprov-0123456789abcdef.part", "");
        g_autoptr(GPtrArray) items = scan(&s);
        ck_assert_uint_eq(items->len, 1);
        expect(items, "lost+found", AUDIT_FOREIGN, "file", FOREIGN);
        share_done(&s);
}
END_TEST

START_TEST(test_changed_replaced) {
        UNIT_NEED_QEMU_IMG;
        Share s;
        share_make(&s);
        write_file(s.dir, "a.qcow2", "raw bytes, no qcow2 header"); /* a new file renamed over it */
        uint64_t now = ino_of(s.dir, "a.qcow2");
        g_autoptr(GPtrArray) items = scan(&s);
        ck_assert_uint_eq(items->len, 1);
        g_autofree char *want = g_strdup_printf("inode %" PRIu64 " replaced by %" PRIu64 "; qcow2 header: *", s.vols[0].ino, now);
        expect(items, "a.qcow2", AUDIT_CHANGED, "file", want);
        ck_assert_uint_eq(find(items, "a.qcow2")->size, strlen("raw bytes, no qcow2 header"));
        share_done(&s);
}
END_TEST

START_TEST(test_changed_truncated) {
        UNIT_NEED_QEMU_IMG;
        Share s;
        share_make(&s);
        g_autofree char *p = at(s.dir, "a.qcow2");
        ck_assert(truncate(p, 50) == 0);
        g_autoptr(GPtrArray) items = scan(&s);
        ck_assert_uint_eq(items->len, 1);
        expect(items, "a.qcow2", AUDIT_CHANGED, "file", "qcow2 header: *");
        ck_assert(strchr(find(items, "a.qcow2")->detail, '\n') == NULL);
        share_done(&s);
}
END_TEST

START_TEST(test_changed_resized) {
        UNIT_NEED_QEMU_IMG;
        Share s;
        share_make(&s);
        qemu_img(s.dir, (const char *const[]) { "resize", "-q", "-f", "qcow2", "a.qcow2", "2G", NULL });
        g_autoptr(GPtrArray) items = scan(&s);
        ck_assert_uint_eq(items->len, 1);
        expect(items, "a.qcow2", AUDIT_CHANGED, "file", "virtual size 2147483648, manifest 1073741824");
        share_done(&s);
}
END_TEST

/* The cache of checked headers: a volume not changed since a scan that found its header right
 * (and whose change time was settled then: two ticks of the coarse clock old) is not read again;
 * a change of the file (here qemu-img resize, in place) or of the manifest makes the next scan
 * read it. (Whether a file changed a few milliseconds before a scan is kept depends on the
 * clock's tick: not asserted.) */
START_TEST(test_cache) {
        UNIT_NEED_QEMU_IMG;
        Share s;
        share_make(&s);
        g_autoptr(AuditCache) cache = audit_cache_new();
        AuditOptions opt = { .cache = cache };
        AuditStats st;
        g_autoptr(GPtrArray) fresh = scan_opt(&s, &opt, &st); /* nothing kept yet: both read */
        ck_assert_uint_eq(fresh->len, 0);
        ck_assert_uint_eq(st.headers_read, 2);

        g_usleep(1100 * 1000); /* the files' change time settled whatever the tick (1 s if unknown) */
        audit_cache_free(cache); /* what the fresh scan kept, if anything: not this test's point */
        cache = audit_cache_new();
        opt.cache = cache;
        g_autoptr(GPtrArray) first = scan_opt(&s, &opt, &st);
        ck_assert_uint_eq(first->len, 0);
        ck_assert_uint_eq(st.headers_read, 2);
        ck_assert_uint_eq(audit_cache_size(cache), 2);
        g_autoptr(GPtrArray) second = scan_opt(&s, &opt, &st);
        ck_assert_uint_eq(second->len, 0);
        ck_assert_uint_eq(st.headers_read, 0);

        /* the file changed in place: read again, and the change found */
        qemu_img(s.dir, (const char *const[]) { "resize", "-q", "-f", "qcow2", "a.qcow2", "2G", NULL });
        g_autoptr(GPtrArray) resized = scan_opt(&s, &opt, &st);
        ck_assert_uint_eq(st.headers_read, 1);
        ck_assert_uint_eq(resized->len, 1);
        expect(resized, "a.qcow2", AUDIT_CHANGED, "file", "virtual size 2147483648, manifest 1073741824");
        ck_assert_uint_eq(audit_cache_size(cache), 1); /* a volume found changed is not kept */

        /* the manifest changed (b's backing): read again */
        s.vols[1].backing = "other.qcow2";
        g_autoptr(GPtrArray) rebacked = scan_opt(&s, &opt, &st);
        ck_assert_uint_eq(st.headers_read, 2);
        expect(rebacked, "b.qcow2", AUDIT_CHANGED, "file", "backing a.qcow2, manifest other.qcow2");
        share_done(&s);
}
END_TEST

START_TEST(test_changed_backing) {
        UNIT_NEED_QEMU_IMG;
        Share s;
        share_make(&s);
        s.vols[1].backing = NULL;
        s.vols[0].capacity = 2 * GiB;
        g_autoptr(GPtrArray) items = scan(&s);
        ck_assert_uint_eq(items->len, 2);
        expect(items, "a.qcow2", AUDIT_CHANGED, "file", "virtual size 1073741824, manifest 2147483648");
        expect(items, "b.qcow2", AUDIT_CHANGED, "file", "backing a.qcow2, manifest none");
        /* every problem, joined */
        g_autofree char *b = at(s.dir, "b.qcow2");
        ck_assert(chmod(b, 02644) == 0);
        s.vols[1].capacity = 3 * GiB;
        g_autoptr(GPtrArray) again = scan(&s);
        expect(again, "b.qcow2", AUDIT_CHANGED, "file",
               "setuid/setgid bits (mode 2644); virtual size 1073741824, manifest 3221225472; backing a.qcow2, manifest none");
        share_done(&s);
}
END_TEST

START_TEST(test_changed_max_capacity) {
        UNIT_NEED_QEMU_IMG;
        Share s;
        share_make(&s);
        AuditOptions opt = { .max_capacity = GiB / 2 };
        g_autoptr(GPtrArray) items = scan_opt(&s, &opt, NULL);
        ck_assert_uint_eq(items->len, 2);
        expect(items, "a.qcow2", AUDIT_CHANGED, "file", "qcow2 header: *");
        share_done(&s);
}
END_TEST

START_TEST(test_changed_hard_link) {
        UNIT_NEED_QEMU_IMG;
        Share s;
        share_make(&s);
        g_autofree char *a = at(s.dir, "a.qcow2"), *copy = at(s.dir, "copy.img");
        ck_assert(link(a, copy) == 0);
        g_autoptr(GPtrArray) items = scan(&s);
        ck_assert_uint_eq(items->len, 2);
        expect(items, "a.qcow2", AUDIT_CHANGED, "file", "2 hard links");
        expect(items, "copy.img", AUDIT_FOREIGN, "file", FOREIGN);
        share_done(&s);
}
END_TEST

START_TEST(test_changed_setuid) {
        UNIT_NEED_QEMU_IMG;
        Share s;
        share_make(&s);
        g_autofree char *a = at(s.dir, "a.qcow2");
        ck_assert(chmod(a, 04644) == 0);
        g_autoptr(GPtrArray) items = scan(&s);
        ck_assert_uint_eq(items->len, 1);
        expect(items, "a.qcow2", AUDIT_CHANGED, "file", "setuid/setgid bits (mode 4644)");
        share_done(&s);
}
END_TEST

START_TEST(test_changed_directory) {
        UNIT_NEED_QEMU_IMG;
        Share s;
        share_make(&s);
        g_autofree char *a = at(s.dir, "a.qcow2");
        ck_assert(unlink(a) == 0 && mkdir(a, 0755) == 0);
        write_file(s.dir, "a.qcow2/inner", "");
        g_autoptr(GPtrArray) items = scan(&s);
        ck_assert_uint_eq(items->len, 2);
        expect(items, "a.qcow2", AUDIT_CHANGED, "directory", "not a regular file (directory)");
        expect(items, "a.qcow2/inner", AUDIT_FOREIGN, "file", FOREIGN);
        share_done(&s);
}
END_TEST

START_TEST(test_changed_fifo) {
        UNIT_NEED_QEMU_IMG;
        Share s;
        share_make(&s);
        g_autofree char *a = at(s.dir, "a.qcow2");
        ck_assert(unlink(a) == 0 && mkfifo(a, 0644) == 0); /* no writer: an open would block */
        g_autoptr(GPtrArray) items = scan(&s);
        ck_assert_uint_eq(items->len, 1);
        expect(items, "a.qcow2", AUDIT_CHANGED, "fifo", "not a regular file (fifo)");
        share_done(&s);
}
END_TEST

START_TEST(test_missing) {
        UNIT_NEED_QEMU_IMG;
        Share s;
        share_make(&s);
        g_autofree char *b = at(s.dir, "b.qcow2");
        ck_assert(unlink(b) == 0);
        g_autoptr(GPtrArray) items = scan(&s);
        ck_assert_uint_eq(items->len, 1);
        expect(items, "b.qcow2", AUDIT_MISSING, "file", "the file is gone");
        ck_assert_uint_eq(find(items, "b.qcow2")->size, 0);
        share_done(&s);
}
END_TEST

/* 100 levels: more than the descriptors the scan keeps open, so it goes back up through "..". */
static void make_deep(const char *dir, unsigned levels) {
        g_autoptr(GString) p = g_string_new(dir);
        for (unsigned i = 0; i < levels; i++) {
                g_string_append(p, "/d");
                ck_assert(mkdir(p->str, 0755) == 0);
        }
        g_string_append(p, "/bottom");
        ck_assert(g_file_set_contents(p->str, "", 0, NULL));
}

START_TEST(test_deep) {
        UNIT_NEED_QEMU_IMG;
        Share s;
        share_make(&s);
        make_deep(s.dir, 100);
        write_file(s.dir, "z", "");
        AuditStats st;
        g_autoptr(GPtrArray) items = scan_opt(&s, &(AuditOptions) { .max_foreign = 1000 }, &st);
        ck_assert_uint_eq(items->len, 102);
        g_autoptr(GString) p = g_string_new("d");
        for (unsigned i = 1; i < 100; i++)
                g_string_append(p, "/d");
        expect(items, p->str, AUDIT_FOREIGN, "directory", FOREIGN);
        g_string_append(p, "/bottom");
        expect(items, p->str, AUDIT_FOREIGN, "file", FOREIGN);
        expect(items, "z", AUDIT_FOREIGN, "file", FOREIGN);
        ck_assert_uint_eq(st.directories, 102);
        ck_assert_uint_eq(st.unread, 0);

        /* Bounded: the directory at level 11 is reported, not read. */
        g_autoptr(GPtrArray) bounded = scan_opt(&s, &(AuditOptions) { .max_depth = 10 }, &st);
        ck_assert_uint_eq(bounded->len, 12);
        g_string_assign(p, "d");
        for (unsigned i = 1; i < 11; i++)
                g_string_append(p, "/d");
        expect(bounded, p->str, AUDIT_FOREIGN, "directory", FOREIGN "; more than 10 levels deep: not read");
        ck_assert_uint_eq(st.unread, 1);
        share_done(&s);
}
END_TEST

START_TEST(test_bound) {
        UNIT_NEED_QEMU_IMG;
        Share s;
        share_make(&s);
        g_autofree char *d = at(s.dir, "many");
        ck_assert(mkdir(d, 0755) == 0);
        for (unsigned i = 0; i < 50; i++) {
                g_autofree char *n = g_strdup_printf("many/f%02u", 49 - i);
                write_file(s.dir, n, "");
        }
        g_autofree char *a = at(s.dir, "a.qcow2");
        ck_assert(unlink(a) == 0);
        AuditStats st;
        g_autoptr(GPtrArray) items = scan_opt(&s, &(AuditOptions) { .max_foreign = 10 }, &st);
        /* the first 10 foreign items by path, and the missing volume, which is never bounded */
        ck_assert_uint_eq(items->len, 11);
        expect(items, "a.qcow2", AUDIT_MISSING, "file", "the file is gone");
        expect(items, "many", AUDIT_FOREIGN, "directory", FOREIGN);
        for (unsigned i = 0; i < 9; i++) {
                g_autofree char *n = g_strdup_printf("many/f%02u", i);
                expect(items, n, AUDIT_FOREIGN, "file", FOREIGN);
        }
        ck_assert_uint_eq(st.foreign, 51);
        ck_assert_uint_eq(st.foreign_omitted, 41);
        ck_assert_uint_eq(st.entries, 4 - 1 + 1 + 50);
        share_done(&s);
}
END_TEST

START_TEST(test_not_directory) {
        g_autofree char *dir = unit_mkdtemp();
        write_file(dir, "f", "");
        g_autofree char *f = at(dir, "f");
        int fd = open(f, O_RDONLY | O_CLOEXEC);
        ck_assert(fd >= 0);
        GPtrArray *items = NULL;
        AuditStats st = { .entries = 7 };
        g_autoptr(GError) error = NULL;
        ck_assert_int_eq(audit_scan(fd, NULL, 0, NULL, &items, &st, &error), -ENOTDIR);
        close(fd);
        ck_assert_ptr_null(items);
        ck_assert_uint_eq(st.entries, 7);
        ck_assert_str_eq(error->message, "the share's root is not a directory");
        unit_rm_rf(dir);
}
END_TEST

START_TEST(test_bad_manifest) {
        g_autofree char *dir = unit_mkdtemp();
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        GPtrArray *items = NULL;
        g_autoptr(GError) error = NULL;
        AuditVolume bad[] = { { "../x", 0, GiB, NULL } };
        ck_assert_int_eq(audit_scan(fd, bad, 1, NULL, &items, NULL, &error), -EINVAL);
        ck_assert_msg(g_str_has_prefix(error->message, "manifest: invalid volume name"), "%s", error->message);
        g_clear_error(&error);
        AuditVolume twice[] = { { "a", 0, GiB, NULL }, { "a", 0, GiB, NULL } };
        ck_assert_int_eq(audit_scan(fd, twice, 2, NULL, &items, NULL, &error), -EINVAL);
        ck_assert_str_eq(error->message, "manifest: the volume a is listed twice");
        ck_assert_ptr_null(items);
        close(fd);
        unit_rm_rf(dir);
}
END_TEST

static void unreadable_checks(void *data) {
        int fd = open(data, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ck_assert(fd >= 0);
        GPtrArray *items = NULL;
        g_autoptr(GError) error = NULL;
        ck_assert_int_eq(audit_scan(fd, NULL, 0, NULL, &items, NULL, &error), -EACCES);
        ck_assert_str_eq(error->message, "cannot open the directory top/closed: Permission denied");
        ck_assert_ptr_null(items);
        close(fd);
}

START_TEST(test_unreadable_directory) {
        g_autofree char *dir = unit_mkdtemp();
        g_autofree char *top = at(dir, "top"), *closed = at(dir, "top/closed");
        ck_assert(mkdir(top, 0755) == 0 && mkdir(closed, 0) == 0);
        unit_give_to_unprivileged(dir);
        unit_give_to_unprivileged(top);
        unit_give_to_unprivileged(closed);
        unit_run_unprivileged(unreadable_checks, dir);
        unit_rm_rf(dir);
}
END_TEST

START_TEST(test_finding_names) {
        ck_assert_str_eq(audit_finding_to_string(AUDIT_FOREIGN), "foreign");
        ck_assert_str_eq(audit_finding_to_string(AUDIT_CHANGED), "changed");
        ck_assert_str_eq(audit_finding_to_string(AUDIT_MISSING), "missing");
        ck_assert_ptr_null(audit_finding_to_string(_AUDIT_FINDING_MAX));
}
END_TEST

Suite *unit_suite(void) {
        Suite *s = suite_create("audit");

        TCase *tc = tcase_create("foreign");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_clean);
        tcase_add_test(tc, test_foreign_kinds);
        tcase_add_test(tc, test_lost_found_and_temp);
        tcase_add_test(tc, test_lost_found_not_directory);
        tcase_add_test(tc, test_deep);
        tcase_add_test(tc, test_bound);
        suite_add_tcase(s, tc);

        tc = tcase_create("volumes");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_changed_replaced);
        tcase_add_test(tc, test_changed_truncated);
        tcase_add_test(tc, test_changed_resized);
        tcase_add_test(tc, test_cache);
        tcase_add_test(tc, test_changed_backing);
        tcase_add_test(tc, test_changed_max_capacity);
        tcase_add_test(tc, test_changed_hard_link);
        tcase_add_test(tc, test_changed_setuid);
        tcase_add_test(tc, test_changed_directory);
        tcase_add_test(tc, test_changed_fifo);
        tcase_add_test(tc, test_missing);
        suite_add_tcase(s, tc);

        tc = tcase_create("errors");
        tcase_add_test(tc, test_not_directory);
        tcase_add_test(tc, test_bad_manifest);
        tcase_add_test(tc, test_unreadable_directory);
        tcase_add_test(tc, test_finding_names);
        suite_add_tcase(s, tc);

        return s;
}

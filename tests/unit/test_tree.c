/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * server/tree.c and server/qmanifest.c on temporary directories: the walk's order (a directory
 * before and after what it holds), a mirror built beside it through more levels than it keeps
 * open, symbolic links never followed, the depth bound, removal of a tree 5000 levels deep
 * (no recursion, bounded descriptors); the manifest written, read back and refused when it is
 * cut short, has data after its end, or names an entry twice.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "macro.h"
#include "qmanifest.h"
#include "tree.h"
#include "unit.h"

static int open_dir(const char *path) {
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ck_assert_msg(fd >= 0, "open %s: %s", path, g_strerror(errno));
        return fd;
}

/* The new directory `name` of parent, opened. */
static int make_dir(int parent, const char *name) {
        ck_assert_msg(mkdirat(parent, name, 0755) == 0, "mkdir %s: %s", name, g_strerror(errno));
        int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        return fd;
}

static void make_file(int dir, const char *name, const char *content) {
        int fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        ck_assert_msg(fd >= 0, "create %s: %s", name, g_strerror(errno));
        ck_assert_int_eq(write(fd, content, strlen(content)), (ssize_t) strlen(content));
        close(fd);
}

/* The new directory `name` of parent with a chain of n directories "d" below it (made through
 * descriptors: no path length limit), opened. */
static int make_chain(int parent, const char *name, unsigned n) {
        int top = make_dir(parent, name);
        int fd = dup(top);
        for (unsigned i = 0; i < n; i++) {
                int next = make_dir(fd, "d");
                close(fd);
                fd = next;
        }
        close(fd);
        return top;
}

/* ---- order, and a mirror ---- */

typedef struct Log {
        GString *s;
        unsigned deepest;
} Log;

static int log_visit(void *userdata, const TreeEntry *e, int fd, int *ret_mirror_fd, uint64_t *ret_tag,
                     GError **error) {
        Log *l = userdata;
        (void) error;
        g_string_append_printf(l->s, "+%s%s ", e->name, fd >= 0 ? "/" : S_ISLNK(e->st.st_mode) ? "@" : "");
        l->deepest = MAX(l->deepest, e->depth);
        if (fd < 0)
                return 0;
        *ret_tag = e->parent_tag + 1;
        if (e->mirror_fd >= 0) { /* the mirror: the same directories */
                ck_assert_int_eq(mkdirat(e->mirror_fd, e->name, 0700), 0);
                *ret_mirror_fd = openat(e->mirror_fd, e->name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        }
        return 1;
}

static int log_leave(void *userdata, const TreeEntry *e, int fd, int mirror_fd, uint64_t tag, GError **error) {
        Log *l = userdata;
        (void) error;
        ck_assert_int_ge(fd, 0);
        ck_assert_uint_eq(tag, e->parent_tag + 1);
        if (e->mirror_fd >= 0) { /* the mirror's directory is this one's: a file made there is found */
                ck_assert_int_ge(mirror_fd, 0);
                make_file(mirror_fd, "mark", "");
        }
        g_string_append_printf(l->s, "-%s ", e->name);
        return 0;
}

static const TreeOps log_ops = { log_visit, log_leave };

START_TEST(walk_order_and_links) {
        g_autofree char *dir = unit_mkdtemp();
        _cleanup_close_ int fd = open_dir(dir);
        _cleanup_close_ int top = make_dir(fd, "top");
        close(make_dir(top, "sub"));
        ck_assert_int_eq(symlinkat("/", top, "root-link"), 0);
        ck_assert_int_eq(symlinkat(".", top, "self-link"), 0);
        Log l = { g_string_new(NULL), 0 };
        g_autoptr(GError) error = NULL;
        ck_assert_int_eq(tree_walk(fd, -1, "top", "top", 0, 0, &log_ops, &l, &error), 0);
        /* a directory before and after what it holds; links are entries, never followed */
        ck_assert_msg(g_str_has_prefix(l.s->str, "+top/ ") && g_str_has_suffix(l.s->str, "-top "), "%s", l.s->str);
        ck_assert_msg(strstr(l.s->str, "+root-link@ ") && strstr(l.s->str, "+self-link@ "), "%s", l.s->str);
        ck_assert_msg(strstr(l.s->str, "+sub/ -sub "), "%s", l.s->str);
        g_string_free(l.s, TRUE);
        unit_rm_rf(dir);
}
END_TEST

START_TEST(walk_mirror_deeper_than_open_dirs) {
        g_autofree char *dir = unit_mkdtemp();
        _cleanup_close_ int fd = open_dir(dir);
        _cleanup_close_ int src = make_dir(fd, "src");
        _cleanup_close_ int dst = make_dir(fd, "dst");
        unsigned n = 3 * TREE_OPEN_DIRS;
        close(make_chain(src, "top", n));
        Log l = { g_string_new(NULL), 0 };
        g_autoptr(GError) error = NULL;
        ck_assert_int_eq(tree_walk(src, dst, "top", "src/top", 0, 0, &log_ops, &l, &error), 0);
        ck_assert_uint_eq(l.deepest, n);
        /* every directory of the mirror got its mark from leave: the descriptors reopened through
         * ".." were the right ones */
        _cleanup_close_ int m = openat(dst, "top", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        for (unsigned i = 0; i <= n; i++) {
                ck_assert_msg(faccessat(m, "mark", F_OK, AT_SYMLINK_NOFOLLOW) == 0, "no mark at level %u", i);
                if (i == n)
                        break;
                int next = openat(m, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                ck_assert_int_ge(next, 0);
                close(m);
                m = next;
        }
        g_string_free(l.s, TRUE);
        unit_rm_rf(dir);
}
END_TEST

START_TEST(walk_depth_bound) {
        g_autofree char *dir = unit_mkdtemp();
        _cleanup_close_ int fd = open_dir(dir);
        close(make_chain(fd, "top", 10));
        Log l = { g_string_new(NULL), 0 };
        g_autoptr(GError) error = NULL;
        ck_assert_int_eq(tree_walk(fd, -1, "top", "S/top", 0, 10, &log_ops, &l, &error), 0);
        ck_assert_int_eq(tree_walk(fd, -1, "top", "S/top", 0, 9, &log_ops, &l, &error), -ELOOP);
        ck_assert_str_eq(error->message, "S/top holds directories more than 9 levels deep");
        g_string_free(l.s, TRUE);
        unit_rm_rf(dir);
}
END_TEST

START_TEST(remove_5000_deep) {
        g_autofree char *dir = unit_mkdtemp();
        _cleanup_close_ int fd = open_dir(dir);
        _cleanup_close_ int top = make_chain(fd, "deep", 5000);
        make_file(top, "f", "x");
        ck_assert_int_eq(symlinkat(dir, top, "out"), 0); /* removed as a link; its target stays */
        g_autoptr(GError) error = NULL;
        ck_assert_int_eq(tree_remove(fd, "deep", "deep", NULL, NULL, &error), 0);
        ck_assert_int_eq(faccessat(fd, "deep", F_OK, AT_SYMLINK_NOFOLLOW), -1);
        ck_assert_int_eq(access(dir, F_OK), 0);
        ck_assert_int_eq(tree_remove(fd, "deep", "deep", NULL, NULL, &error), 0); /* gone already */
        unit_rm_rf(dir);
}
END_TEST

/* ---- the manifest ---- */

static void write_raw(int dir, const char *name, const char *data, size_t len) {
        (void) unlinkat(dir, name, 0);
        int fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, data, len), (ssize_t) len);
        close(fd);
}

START_TEST(manifest_round_trip) {
        g_autofree char *dir = unit_mkdtemp();
        _cleanup_close_ int fd = open_dir(dir);
        g_autoptr(QManifest) m = qmanifest_new();
        struct stat d = { .st_ino = 7, .st_mode = S_IFDIR | 0755, .st_size = 4096, .st_uid = 1, .st_gid = 2 };
        struct stat f = { .st_ino = 8, .st_mode = S_IFREG | 04640, .st_size = 300, .st_mtim = { 5, 999999999 } };
        ck_assert_int_eq(qmanifest_add(m, -1, "top", &d), 0);
        ck_assert_int_eq(qmanifest_add(m, 0, "a file with spaces\nand a newline", &f), 1);
        ck_assert_int_eq(qmanifest_add(m, 0, "a file with spaces\nand a newline", &f), -1);
        ck_assert_int_eq(qmanifest_add(m, 0, "sub", &d), 2);
        ck_assert_int_eq(qmanifest_add(m, 2, "x", &f), 3);
        g_autoptr(GError) error = NULL;
        ck_assert_int_eq(qmanifest_write(m, fd, "manifest", "manifest", &error), 0);
        ck_assert_int_eq(qmanifest_write(m, fd, "manifest", "manifest", &error), -EEXIST);
        g_clear_error(&error);
        g_autoptr(QManifest) back = NULL;
        ck_assert_int_eq(qmanifest_read(fd, "manifest", "manifest", &back, &error), 0);
        ck_assert_uint_eq(qmanifest_count(back), 4);
        ck_assert_uint_eq(qmanifest_bytes(back), 600);
        ck_assert_int_eq(qmanifest_find(back, 0, "a file with spaces\nand a newline"), 1);
        ck_assert_int_eq(qmanifest_find(back, 2, "x"), 3);
        ck_assert_int_eq(qmanifest_find(back, 0, "x"), -1);
        const QManifestEntry *e = qmanifest_get(back, 1);
        ck_assert_uint_eq(e->ino, 8);
        ck_assert_uint_eq(e->mode, S_IFREG | 04640);
        ck_assert_int_eq(e->mtime, 5);
        ck_assert_int_eq(e->mtime_nsec, 999999999);
        ck_assert_ptr_null(qmanifest_get(back, 4));
        unit_rm_rf(dir);
}
END_TEST

START_TEST(manifest_refused) {
        g_autofree char *dir = unit_mkdtemp();
        _cleanup_close_ int fd = open_dir(dir);
        static const struct {
                const char *data;
                size_t len;
        } bad[] = {
#define RAW(s) { s, sizeof(s) - 1 }
                RAW(""),
                RAW("nfsprov-quarantine-manifest 1\0"),                                       /* cut short */
                RAW("nfsprov-quarantine-manifest 1\0-1 1 0 0 0 0 0 40755 t\0end 1"),          /* no NUL */
                RAW("nfsprov-quarantine-manifest 1\0-1 1 0 0 0 0 0 40755 t\0end 2\0"),        /* count */
                RAW("nfsprov-quarantine-manifest 1\0-1 1 0 0 0 0 0 40755 t\0end 1\0x\0"),     /* after */
                RAW("nfsprov-quarantine-manifest 1\0-1 1 0 0 0 0 0 40755 t\0"
                    "0 2 0 0 0 0 0 100644 f\0" "0 3 0 0 0 0 0 100644 f\0end 3\0"),            /* twice */
                RAW("nfsprov-quarantine-manifest 1\0-1 1 0 0 0 0 0 100644 t\0"
                    "0 2 0 0 0 0 0 100644 f\0end 2\0"),                                       /* in a file */
                RAW("nfsprov-quarantine-manifest 1\0-1 1 0 0 0 0 0 40755 t\0"
                    "0 2 0 0 0 0 0 10644 f\0end 2\0"),                                        /* a fifo */
                RAW("nfsprov-quarantine-manifest 1\0-1 1 0 0 0 0 0 40755 t\0"
                    "0 2 0 0 0 0 0 100644 a/b\0end 2\0"),                                     /* a slash */
                RAW("nfsprov-quarantine-manifest 1\0-1 1 0 0 0 0 0 40755 t\0"
                    "1 2 0 0 0 0 0 100644 f\0end 2\0"),                                       /* itself */
#undef RAW
        };
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                write_raw(fd, "manifest", bad[i].data, bad[i].len);
                g_autoptr(GError) error = NULL;
                g_autoptr(QManifest) m = NULL;
                ck_assert_msg(qmanifest_read(fd, "manifest", "M", &m, &error) == -EBADMSG, "case %zu read", i);
                ck_assert_msg(g_str_has_prefix(error->message, "M: "), "case %zu: %s", i, error->message);
        }
        unit_rm_rf(dir);
}
END_TEST

Suite *unit_suite(void) {
        Suite *s = suite_create("tree");
        TCase *tc = tcase_create("tree");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, walk_order_and_links);
        tcase_add_test(tc, walk_mirror_deeper_than_open_dirs);
        tcase_add_test(tc, walk_depth_bound);
        tcase_add_test(tc, remove_5000_deep);
        tcase_add_test(tc, manifest_round_trip);
        tcase_add_test(tc, manifest_refused);
        suite_add_tcase(s, tc);
        return s;
}

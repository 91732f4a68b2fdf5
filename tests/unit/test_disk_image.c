/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The image backend's allocate on its failure paths: nothing is left behind and nothing is
 * freed that was not allocated (run under ASan in the sanitizer pass of scripts/test). */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "disk.h"
#include "error.h"
#include "unit.h"

static char *root, *images;

static void setup(void) {
        root = unit_mkdtemp();
        images = g_build_filename(root, "images", NULL);
}

static void teardown(void) {
        unit_rm_rf(root);
        g_clear_pointer(&root, g_free);
        g_clear_pointer(&images, g_free);
}

static int allocate(const char *name, uint64_t size, GError **error) {
        DiskContext ctx = { .image_dir = images };
        g_autofree char *source = NULL, *device = NULL;
        uint64_t ino = 0;
        DiskRequest req = { .share = name, .size = size };
        return disk_backend_image.allocate(&ctx, &req, &source, &ino, &device, error);
}

/* ftruncate fails (a file size limit below the image size): the error says so, the half-made
 * image is removed, and no cleanup touches memory that was never set. */
START_TEST(test_ftruncate_fails) {
        signal(SIGXFSZ, SIG_IGN); /* EFBIG instead of the signal */
        struct rlimit lim = { .rlim_cur = 1 << 20, .rlim_max = RLIM_INFINITY };
        ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);

        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(allocate("vol_01", 64ULL << 20, &e), -EFBIG);
        g_autofree char *path = g_build_filename(images, "vol_01.img", NULL);
        g_autofree char *want = g_strdup_printf("image %s: cannot make it 67108864 bytes: %s", path, g_strerror(EFBIG));
        ck_assert_str_eq(e->message, want);
        ck_assert(!g_file_test(path, G_FILE_TEST_EXISTS));
        ck_assert(g_file_test(images, G_FILE_TEST_IS_DIR));
}
END_TEST

/* An existing file, or a symbolic link (even a dangling one), at the image's name is refused
 * and left as it was. */
START_TEST(test_existing_name_refused) {
        ck_assert_int_eq(mkdir(images, 0700), 0);
        g_autofree char *path = g_build_filename(images, "vol_02.img", NULL);
        ck_assert(g_file_set_contents(path, "admin", -1, NULL));
        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(allocate("vol_02", 1 << 20, &e), -EEXIST);
        ck_assert_ptr_nonnull(strstr(e->message, "already exists"));
        g_autofree char *text = NULL;
        ck_assert(g_file_get_contents(path, &text, NULL, NULL));
        ck_assert_str_eq(text, "admin");

        g_autofree char *link = g_build_filename(images, "vol_03.img", NULL);
        g_autofree char *nowhere = g_build_filename(root, "nowhere", NULL);
        ck_assert_int_eq(symlink(nowhere, link), 0);
        g_clear_error(&e);
        ck_assert_int_eq(allocate("vol_03", 1 << 20, &e), -EEXIST);
        ck_assert(!g_file_test(nowhere, G_FILE_TEST_EXISTS));
        ck_assert(g_file_test(link, G_FILE_TEST_IS_SYMLINK));
}
END_TEST

Suite *unit_suite(void) {
        Suite *s = suite_create("disk_image");
        TCase *tc = tcase_create("disk_image");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_ftruncate_fails);
        tcase_add_test(tc, test_existing_name_refused);
        suite_add_tcase(s, tc);
        return s;
}

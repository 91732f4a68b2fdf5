/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * disk-tool: drives the disk backends and the loop-device code from integration tests
 * (not installed).
 *
 *   disk-tool check DEV                      prints "blank", or the reason on stderr (exit 1)
 *   disk-tool wipe DEV UUID                  erases every signature when DEV carries the
 *                                            filesystem UUID (or nothing); prints "wiped"
 *   disk-tool allocate image IMAGE_DIR NAME SIZE
 *   disk-tool allocate disk "DEV1 DEV2 ..." NAME SIZE [REQUESTED] [--force] [--in-use "DEV ..."]
 *                                            prints "SOURCE<TAB>DEVICE"
 *                                            (allocate prints "SOURCE<TAB>DEVICE<TAB>INO")
 *   disk-tool attach  BACKEND WHERE SOURCE   prints the block device, and a tab and the source
 *                                            it was found under when that is not SOURCE
 *   disk-tool grow    BACKEND WHERE SOURCE DEVICE|- SIZE
 *   disk-tool release BACKEND WHERE SOURCE
 *   disk-tool size    BACKEND WHERE SOURCE   prints the size in bytes
 *     attach, grow, release and size take the share's record as options:
 *     --share NAME (default "share"), --fs-uuid UUID (the share's filesystem), --ino N (image)
 *   disk-tool loop-find FILE                 prints the loop device backed by FILE
 *   disk-tool loop-backing DEV               prints the file backing the loop device DEV
 *   disk-tool loop-detach DEV                detaches the loop device DEV; prints "detached"
 *   disk-tool loop-steps STEP...             in one process (one lookup cache, loopdev.h), a
 *                                            line per step: attach=FILE prints the new device,
 *                                            find=FILE the device backed by FILE or "none",
 *                                            detach=FILE detaches that device ("detached")
 *
 * WHERE is the image directory (image) or the inventory, a space-separated list (disk).
 * SIZE is bytes or a size with a unit (10M, 1G); 0 (disk only) means "any size".
 * Errors: one line on stderr, exit 1; usage errors exit 2.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "disk.h"
#include "error.h"
#include "loopdev.h"
#include "size.h"

static int fail(GError *e) {
        fprintf(stderr, "disk-tool: %s\n", e ? e->message : "failed");
        return 1;
}

static int fail_errno(const char *what, int r) {
        fprintf(stderr, "disk-tool: %s: %s\n", what, g_strerror(-r));
        return 1;
}

static int usage(void) {
        fprintf(stderr, "usage: disk-tool check DEV | wipe DEV UUID | allocate BACKEND WHERE NAME SIZE [REQUESTED] [--force] "
                        "[--in-use LIST] | attach|release|size BACKEND WHERE SOURCE | grow BACKEND WHERE SOURCE DEVICE|- SIZE "
                        "| loop-find FILE | loop-backing DEV | loop-detach DEV | loop-steps STEP...\n");
        return 2;
}

static int parse_size(const char *text, uint64_t *ret, GError **error) {
        if (strcmp(text, "0") == 0) {
                *ret = 0;
                return 0;
        }
        return size_parse(text, ret, error);
}

int main(int argc, char **argv) {
        g_autoptr(GError) e = NULL;
        g_autoptr(GPtrArray) pos = g_ptr_array_new();
        const char *in_use_text = NULL;
        bool force = false;
        DiskRef ref = { .share = "share" };

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--force") == 0)
                        force = true;
                else if (strcmp(argv[i], "--share") == 0 && i + 1 < argc)
                        ref.share = argv[++i];
                else if (strcmp(argv[i], "--fs-uuid") == 0 && i + 1 < argc)
                        ref.fs_uuid = argv[++i];
                else if (strcmp(argv[i], "--ino") == 0 && i + 1 < argc)
                        ref.ino = g_ascii_strtoull(argv[++i], NULL, 10);
                else if (strcmp(argv[i], "--in-use") == 0 && i + 1 < argc)
                        in_use_text = argv[++i];
                else
                        g_ptr_array_add(pos, argv[i]);
        }
        guint n = pos->len;
        const char *cmd = n > 0 ? g_ptr_array_index(pos, 0) : "";
#define ARG(i) ((const char *) g_ptr_array_index(pos, (i)))

        if (strcmp(cmd, "check") == 0 && n == 2) {
                if (disk_check_blank(ARG(1), &e) < 0)
                        return fail(e);
                printf("blank\n");
                return 0;
        }
        if (strcmp(cmd, "wipe") == 0 && n == 3) {
                if (disk_wipe_share(ARG(1), "share", ARG(2), &e) < 0)
                        return fail(e);
                printf("wiped\n");
                return 0;
        }
        if (strcmp(cmd, "loop-find") == 0 && n == 2) {
                g_autofree char *dev = NULL;
                int r = loopdev_find(ARG(1), &dev);
                if (r == -ENOENT) {
                        fprintf(stderr, "disk-tool: no loop device is backed by %s\n", ARG(1));
                        return 1;
                }
                if (r < 0)
                        return fail_errno(ARG(1), r);
                printf("%s\n", dev);
                return 0;
        }
        if (strcmp(cmd, "loop-backing") == 0 && n == 2) {
                g_autofree char *path = NULL;
                int r = loopdev_backing_file(ARG(1), &path);
                if (r < 0)
                        return fail_errno(ARG(1), r);
                printf("%s\n", path);
                return 0;
        }

        if (strcmp(cmd, "loop-steps") == 0 && n >= 2) {
                for (guint i = 1; i < n; i++) {
                        const char *step = ARG(i), *file = strchr(step, '=');
                        if (!file)
                                return usage();
                        file++;
                        g_autofree char *dev = NULL;
                        int r;
                        if (g_str_has_prefix(step, "attach=")) {
                                if (loopdev_attach(file, &dev, &e) < 0)
                                        return fail(e);
                                printf("%s\n", dev);
                        } else if (g_str_has_prefix(step, "find=") || g_str_has_prefix(step, "detach=")) {
                                r = loopdev_find(file, &dev);
                                if (r < 0 && r != -ENOENT)
                                        return fail_errno(file, r);
                                if (step[0] == 'f')
                                        printf("%s\n", r < 0 ? "none" : dev);
                                else if (r < 0) {
                                        fprintf(stderr, "disk-tool: no loop device is backed by %s\n", file);
                                        return 1;
                                } else if (loopdev_detach(dev, &e) < 0)
                                        return fail(e);
                                else
                                        printf("detached\n");
                        } else
                                return usage();
                }
                return 0;
        }

        if (strcmp(cmd, "loop-detach") == 0 && n == 2) {
                if (loopdev_detach(ARG(1), &e) < 0)
                        return fail(e);
                printf("detached\n");
                return 0;
        }

        if (n < 4)
                return usage();
        const DiskBackend *b = disk_backend_by_name(ARG(1));
        if (!b) {
                fprintf(stderr, "disk-tool: unknown backend \"%s\"; use image or disk\n", ARG(1));
                return 2;
        }
        g_auto(GStrv) inventory = NULL, in_use = NULL;
        DiskContext ctx = { 0 };
        if (strcmp(b->name, "image") == 0)
                ctx.image_dir = ARG(2);
        else {
                inventory = g_strsplit_set(ARG(2), " ", -1);
                /* drop empty words */
                char **w = inventory;
                for (char **r = inventory; *r; r++) {
                        if (**r)
                                *w++ = *r;
                        else
                                g_free(*r);
                }
                *w = NULL;
                ctx.inventory = inventory;
        }
        if (in_use_text) {
                in_use = g_strsplit(in_use_text, " ", -1);
                ctx.in_use = in_use;
        }

        if (strcmp(cmd, "allocate") == 0 && (n == 5 || n == 6)) {
                uint64_t size;
                if (parse_size(ARG(4), &size, &e) < 0)
                        return fail(e);
                g_autofree char *source = NULL, *device = NULL;
                uint64_t ino = 0;
                DiskRequest req = { .share = ARG(3), .size = size, .device = n == 6 ? ARG(5) : NULL, .force = force };
                if (b->allocate(&ctx, &req, &source, &ino, &device, &e) < 0)
                        return fail(e);
                printf("%s\t%s\t%" PRIu64 "\n", source, device, ino);
                return 0;
        }
        ref.source = n > 3 ? ARG(3) : NULL;
        if (strcmp(cmd, "attach") == 0 && n == 4) {
                g_autofree char *device = NULL, *source = NULL;
                if (b->attach(&ctx, &ref, &device, &source, &e) < 0)
                        return fail(e);
                if (strcmp(source, ref.source) != 0)
                        printf("%s\t%s\n", device, source);
                else
                        printf("%s\n", device);
                return 0;
        }
        if (strcmp(cmd, "grow") == 0 && n == 6) {
                uint64_t size;
                if (parse_size(ARG(5), &size, &e) < 0)
                        return fail(e);
                if (b->grow(&ctx, &ref, strcmp(ARG(4), "-") == 0 ? NULL : ARG(4), size, &e) < 0)
                        return fail(e);
                printf("grown\n");
                return 0;
        }
        if (strcmp(cmd, "release") == 0 && n == 4) {
                if (b->release(&ctx, &ref, true, &e) < 0)
                        return fail(e);
                printf("released\n");
                return 0;
        }
        if (strcmp(cmd, "size") == 0 && n == 4) {
                uint64_t size;
                if (b->size(&ctx, &ref, &size, &e) < 0)
                        return fail(e);
                printf("%" PRIu64 "\n", size);
                return 0;
        }
        return usage();
}

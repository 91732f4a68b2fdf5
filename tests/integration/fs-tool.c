/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fs-tool: drives the host's ShareFs (server/share_fs.h: what the engine does to the host for a
 * share), server/fs.h and server/fstab.h from integration tests (not installed).
 *
 *   fs-tool mkfs DEVICE LABEL UUID               mkfs.ext4 (fs.h)
 *   fs-tool format DEVICE NAME UUID [--force]   the checked format of a share's disk
 *   fs-tool probe DEVICE                         prints UUID<TAB>WHAT ("-" for none)
 *   fs-tool check-dir BASE NAME                  before create: no link, nothing mounted
 *   fs-tool mkdir BASE NAME                      prints the inode made (0: an empty one was there)
 *   fs-tool rmdir BASE NAME INO
 *   fs-tool mount BASE NAME DEVICE UUID
 *   fs-tool mounted BASE NAME DEVICE             prints yes or no
 *   fs-tool umount BASE NAME DEVICE|-
 *   fs-tool grow-online BASE NAME DEVICE
 *   fs-tool resize DEVICE [BYTES]                resize2fs; BYTES 0 or absent: fill the device
 *   fs-tool e2fsck DEVICE
 *   fs-tool usage BASE NAME                      prints CAPACITY USED AVAILABLE (bytes)
 *   fs-tool fstab-set FILE UUID TARGET
 *   fs-tool fstab-remove FILE UUID TARGET
 *   fs-tool fstab-find FILE TARGET               prints the entry's source
 *
 * Errors: one line on stderr, "fs-tool: ENAME: message" (the errno name the function returned),
 * exit 1; usage errors exit 2.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "disk.h"
#include "error.h"
#include "fs.h"
#include "fstab.h"
#include "settings.h"
#include "share_fs.h"

static int fail(int r, GError *e) {
        const char *name = strerrorname_np(-r);
        fprintf(stderr, "fs-tool: %s: %s\n", name ? name : "E?", e ? e->message : g_strerror(-r));
        return 1;
}

static int usage(void) {
        fprintf(stderr, "usage: fs-tool mkfs|format|probe|check-dir|mkdir|rmdir|mount|mounted|umount|grow-online|"
                        "resize|e2fsck|usage|fstab-set|fstab-remove|fstab-find ARGS (see the comment at the top of "
                        "fs-tool.c)\n");
        return 2;
}

/* A configuration whose [shares] base is `base`. */
static Config *config_with_base(const char *base) {
        Config *c = config_new_default();
        g_free(c->base);
        c->base = g_strdup(base);
        return c;
}

int main(int argc, char **argv) {
        g_autoptr(GError) e = NULL;
        const ShareFs *fs = &share_fs_host;
        int r;

        if (argc < 3)
                return usage();
        const char *cmd = argv[1];
        g_autoptr(Config) c = config_with_base(argv[2]);
#define IS(name, n) (strcmp(cmd, name) == 0 && argc == (n))
        if (IS("mkfs", 5)) {
                r = fs_mkfs_ext4(argv[2], argv[3], argv[4], &e);
        } else if (IS("format", 5) || (IS("format", 6) && strcmp(argv[5], "--force") == 0)) {
                r = fs->format(argv[2], argv[3], argv[4], argc == 6, &e);
        } else if (IS("probe", 3)) {
                g_autofree char *uuid = NULL, *desc = NULL;
                r = disk_fs_uuid(argv[2], &uuid, &desc, &e);
                if (r >= 0)
                        printf("%s\t%s\n", uuid ? uuid : "-", desc ? desc : "-");
        } else if (IS("check-dir", 4)) {
                r = fs->check_dir(c, argv[3], &e);
        } else if (IS("mkdir", 4)) {
                uint64_t ino = 0;
                r = fs->make_dir(c, argv[3], &ino, &e);
                if (r >= 0)
                        printf("%" PRIu64 "\n", ino);
        } else if (IS("rmdir", 5)) {
                r = fs->remove_dir(c, argv[3], g_ascii_strtoull(argv[4], NULL, 10), &e);
        } else if (IS("mount", 6)) {
                r = fs->mount(c, argv[3], argv[4], argv[5], &e);
        } else if (IS("mounted", 5)) {
                printf("%s\n", fs->mounted(c, argv[3], argv[4]) ? "yes" : "no");
                r = 0;
        } else if (IS("umount", 5)) {
                r = fs->umount(c, argv[3], strcmp(argv[4], "-") == 0 ? NULL : argv[4], &e);
        } else if (IS("grow-online", 5)) {
                r = fs->grow_online(c, argv[3], argv[4], &e);
        } else if (IS("resize", 3) || IS("resize", 4)) {
                uint64_t size = 0;
                if (argc == 4) {
                        char *end = NULL;
                        size = g_ascii_strtoull(argv[3], &end, 10);
                        if (!end || *end)
                                return usage();
                }
                r = fs_resize2fs(argv[2], size, &e);
        } else if (IS("e2fsck", 3)) {
                r = fs->check(argv[2], &e);
        } else if (IS("usage", 4)) {
                ShareUsage u;
                r = fs->usage(c, argv[3], &u, &e);
                if (r >= 0)
                        printf("%" PRIu64 " %" PRIu64 " %" PRIu64 "\n", u.capacity, u.used, u.available);
        } else if (IS("fstab-set", 5)) {
                r = fstab_set(argv[2], argv[3], argv[4], &e);
        } else if (IS("fstab-remove", 5)) {
                r = fstab_remove(argv[2], argv[3], argv[4], &e);
        } else if (IS("fstab-find", 4)) {
                g_autofree char *src = NULL;
                r = fstab_find(argv[2], argv[3], &src, &e);
                if (r >= 0)
                        printf("%s\n", src);
        } else
                return usage();

        if (r < 0)
                return fail(r, e);
        return 0;
}

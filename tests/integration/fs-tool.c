/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fs-tool: drives server/fs.h and server/fstab.h from integration tests (not installed).
 *
 *   fs-tool mkfs DEVICE LABEL UUID
 *   fs-tool probe DEVICE              prints TYPE<TAB>UUID<TAB>LABEL ("-" for none)
 *   fs-tool find-uuid UUID            prints the device
 *   fs-tool mount SOURCE TARGET [OPTIONS]
 *   fs-tool umount TARGET
 *   fs-tool source TARGET             prints the device mounted on TARGET
 *   fs-tool resize-online DEVICE MOUNTPOINT
 *   fs-tool resize DEVICE [BYTES]     BYTES 0 or absent: fill the device
 *   fs-tool e2fsck DEVICE
 *   fs-tool usage PATH                prints CAPACITY USED AVAILABLE (bytes)
 *   fs-tool fstab-set FILE UUID TARGET
 *   fs-tool fstab-remove FILE UUID TARGET
 *   fs-tool fstab-find FILE TARGET    prints the entry's source
 *
 * Errors: one line on stderr, "fs-tool: ENAME: message" (the errno name the function returned),
 * exit 1; usage errors exit 2.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "fs.h"
#include "fstab.h"

static int fail(int r, GError *e) {
        const char *name = strerrorname_np(-r);
        fprintf(stderr, "fs-tool: %s: %s\n", name ? name : "E?", e ? e->message : g_strerror(-r));
        return 1;
}

static int usage(void) {
        fprintf(stderr, "usage: fs-tool mkfs|probe|find-uuid|mount|umount|source|resize-online|resize|e2fsck|usage|"
                        "fstab-set|fstab-remove|fstab-find ARGS (see the comment at the top of fs-tool.c)\n");
        return 2;
}

int main(int argc, char **argv) {
        g_autoptr(GError) e = NULL;
        int r;

        if (argc < 3)
                return usage();
        const char *cmd = argv[1];

        if (strcmp(cmd, "mkfs") == 0 && argc == 5) {
                r = fs_mkfs_ext4(argv[2], argv[3], argv[4], &e);
        } else if (strcmp(cmd, "probe") == 0 && argc == 3) {
                g_autofree char *type = NULL, *uuid = NULL, *label = NULL;
                r = fs_probe(argv[2], &type, &uuid, &label, &e);
                if (r >= 0)
                        printf("%s\t%s\t%s\n", type, uuid ? uuid : "-", label ? label : "-");
        } else if (strcmp(cmd, "find-uuid") == 0 && argc == 3) {
                g_autofree char *dev = NULL;
                r = fs_find_by_uuid(argv[2], &dev, &e);
                if (r >= 0)
                        printf("%s\n", dev);
        } else if (strcmp(cmd, "mount") == 0 && (argc == 4 || argc == 5)) {
                r = fs_mount(argv[2], argv[3], argc == 5 ? argv[4] : NULL, &e);
        } else if (strcmp(cmd, "umount") == 0 && argc == 3) {
                r = fs_umount(argv[2], &e);
        } else if (strcmp(cmd, "source") == 0 && argc == 3) {
                g_autofree char *dev = NULL;
                r = fs_mount_source(argv[2], &dev);
                if (r >= 0)
                        printf("%s\n", dev);
        } else if (strcmp(cmd, "resize-online") == 0 && argc == 4) {
                r = fs_resize_online(argv[2], argv[3], &e);
        } else if (strcmp(cmd, "resize") == 0 && (argc == 3 || argc == 4)) {
                uint64_t size = 0;
                if (argc == 4) {
                        char *end = NULL;
                        size = g_ascii_strtoull(argv[3], &end, 10);
                        if (!end || *end)
                                return usage();
                }
                r = fs_resize2fs(argv[2], size, &e);
        } else if (strcmp(cmd, "e2fsck") == 0 && argc == 3) {
                r = fs_e2fsck(argv[2], &e);
        } else if (strcmp(cmd, "usage") == 0 && argc == 3) {
                uint64_t cap = 0, used = 0, avail = 0;
                r = fs_usage(argv[2], &cap, &used, &avail, &e);
                if (r >= 0)
                        printf("%" PRIu64 " %" PRIu64 " %" PRIu64 "\n", cap, used, avail);
        } else if (strcmp(cmd, "fstab-set") == 0 && argc == 5) {
                r = fstab_set(argv[2], argv[3], argv[4], &e);
        } else if (strcmp(cmd, "fstab-remove") == 0 && argc == 5) {
                r = fstab_remove(argv[2], argv[3], argv[4], &e);
        } else if (strcmp(cmd, "fstab-find") == 0 && argc == 4) {
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

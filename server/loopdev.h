/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Loop devices through the kernel API (linux/loop.h): what `losetup -f --show FILE`,
 * `losetup -j FILE`, `losetup -d DEV` and `losetup -c DEV` do, without running losetup.
 *
 * Devices are named by their node ("/dev/loop3"). Every descriptor is opened with O_CLOEXEC.
 * Attached devices never carry the autoclear flag: they stay attached until loopdev_detach()
 * (or a reboot), so a share's disk does not vanish when the last user closes it.
 * Functions return 0 or a negative errno; ret_ parameters are set only on success.
 */
#pragma once

#include <sys/stat.h>

#include <glib.h>

/* Attach `file` (opened read-write) to a free loop device: LOOP_CTL_GET_FREE on
 * /dev/loop-control, then LOOP_CONFIGURE (or LOOP_SET_FD + LOOP_SET_STATUS64 on kernels
 * without it). When another process takes the same free device first (EBUSY), it asks for the
 * next free one, so parallel callers get distinct devices. lo_file_name is set to the file's
 * path (the kernel keeps its first 63 bytes; /sys/block/loopN/loop/backing_file has it whole).
 * Each call attaches a new device: use loopdev_find() first to reuse an existing one. */
int loopdev_attach(const char *file, char **ret_device, GError **error);

/* The same for a file already open (read-write) as ffd: what was opened (and checked) is what
 * gets attached. name is what lo_file_name and messages show. */
int loopdev_attach_fd(int ffd, const char *name, char **ret_device, GError **error);

/* The loop device whose backing file is `file`, found through /sys/block/loopN/loop/backing_file
 * and compared by st_dev/st_ino (LOOP_GET_STATUS64), by path where the file no longer exists
 * (the kernel then reports "PATH (deleted)"). The lowest-numbered one when several are.
 * Returns 0, -ENOENT when no loop device is backed by `file`, or another -errno. */
int loopdev_find(const char *file, char **ret_device);

/* A loop device backed by the file st describes (st_dev/st_ino): the lowest-numbered one as of
 * the last pass over all devices, checked on that device now. Cost: one device when its answer
 * from the last pass still holds, else a pass over every device (and always when none is). */
int loopdev_find_inode(const struct stat *st, char **ret_device);

/* Detach `device` (LOOP_CLR_FD), retrying for about two seconds while the kernel says EBUSY.
 * A device that is not attached is fine (returns 0). When someone else still holds the device
 * open (mounted, held by another driver), the kernel only marks it for detaching at the last
 * close: this returns -EBUSY and says so. */
int loopdev_detach(const char *device, GError **error);

/* Tell the kernel the backing file changed size (LOOP_SET_CAPACITY), after growing it. */
int loopdev_set_capacity(const char *device, GError **error);

/* The path of the file backing `device` (/sys/dev/block/MAJ:MIN/loop/backing_file; may end in
 * " (deleted)"). Returns 0, -ENXIO when the device is a loop device with nothing attached,
 * -ENOTBLK when it is not a loop device, or another -errno. */
int loopdev_backing_file(const char *device, char **ret_path);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemu-img (Debian qemu-utils), the one home of how nfsprov runs it: from an argv, never a
 * shell; on files named through a directory descriptor (a share's root) that qemu-img inherits,
 * as /proc/self/fd/DIRFD/NAME, so that no path is looked up from / and a backing file recorded
 * as a bare name resolves next to the image, as it does on every KVM host. Errors carry
 * qemu-img's own first line: "qemu-img create of NAME failed (exit status 1): ...".
 *
 * Volumes are qcow2 version 3 (compat=1.1), thin (no preallocation).
 * Functions return 0 or a negative errno (-ENOENT when qemu-img is not installed, -EIO when it
 * failed) with one line in error.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

/* qemu-img create -f qcow2 -o compat=1.1 DIR/NAME CAPACITY; with backing (a bare name of a file
 * in the same directory): -b BACKING -F qcow2 -u (the backing is not opened: its name goes into
 * the header as given). NAME must exist already (made empty by the caller with O_EXCL, so that
 * nothing planted at the name is followed); it is overwritten. */
int qemu_img_create(int dirfd, const char *name, uint64_t capacity, const char *backing, GError **error);

/* qemu-img convert -O qcow2 -o compat=1.1 DIR/SRC DIR/DST: a full copy, thin (runs of zeros
 * stay holes), without a backing file. DST must exist (empty) as for qemu_img_create(). */
int qemu_img_convert(int dirfd, const char *src, const char *dst, GError **error);

/* qemu-img resize -f qcow2 [--shrink] DIR/NAME CAPACITY. */
int qemu_img_resize(int dirfd, const char *name, uint64_t capacity, bool shrink, GError **error);

/* qemu-img check -f qcow2 --output=json DIR/NAME, for a file nfsprov did not make (an upload),
 * once its header passed qcow2_check(): its stderr is discarded (one line per bad cluster has
 * no bound) and its address space is limited to QEMU_IMG_CHECK_MAX_MEMORY. 0 when qemu-img
 * finds no corruption (exit status 0, or 3: leaked clusters only, which waste space and
 * nothing else); -EBADMSG when it finds corruptions (exit status 2; its count in the message:
 * a file cut short shows as clusters past its end); -EIO when the check could not complete. */
#define QEMU_IMG_CHECK_MAX_MEMORY (UINT64_C(2) << 30)
int qemu_img_check(int dirfd, const char *name, GError **error);

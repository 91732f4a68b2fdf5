/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The immutable attribute (FS_IMMUTABLE_FL) of a directory, through the FS_IOC_GETFLAGS and
 * FS_IOC_SETFLAGS ioctls on an open file descriptor (what chattr +i / -i do, without running
 * it). On an immutable directory no entry can be created, renamed or removed, by root either;
 * files already in it stay writable. Setting or clearing it needs CAP_LINUX_IMMUTABLE and a
 * filesystem that supports it (ext4 does).
 *
 * Errors, each with one line naming `what`: -EPERM (no CAP_LINUX_IMMUTABLE), -EOPNOTSUPP (the
 * filesystem has no such attribute: ENOTTY and EOPNOTSUPP from the ioctl), others as the ioctl
 * gives them.
 */
#pragma once

#include <stdbool.h>

#include <glib.h>

/* Whether fd's inode carries FS_IMMUTABLE_FL. */
int immutable_get(int fd, const char *what, bool *ret, GError **error);

/* Set (on) or clear it, keeping every other flag; nothing is written when it already is so.
 * *ret_changed (may be NULL): it was changed now. */
int immutable_set(int fd, const char *what, bool on, bool *ret_changed, GError **error);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Paths reached without following symbolic links.
 *
 * Every path nfsprovd creates, mounts on, exports, writes or removes (mount points under the
 * share base, image files, the state directory) is opened with openat2(2) and
 * RESOLVE_NO_SYMLINKS: a symbolic link planted anywhere on the way (BASE/NAME pointing at
 * /etc/cron.d, IMAGE_DIR/NAME.img pointing at another file) makes the call fail with -ELOOP and
 * one line naming the link and where it points, instead of redirecting nfsprovd. Work then goes
 * on through the returned descriptor (mkdirat, unlinkat, fchown, the new mount API), so the
 * path is not looked up again and cannot be swapped in between.
 *
 * Functions return 0 or a negative errno; ret_ parameters are set only on success. Every
 * descriptor is O_CLOEXEC.
 */
#pragma once

#include <sys/types.h>

#include <glib.h>

/* open(path) for an absolute path, following no symbolic link in any component (mount points
 * are crossed). flags are open(2) flags (O_CLOEXEC is added); mode is used with O_CREAT.
 * -ELOOP when a component is a symbolic link, with a message naming it. */
int safepath_open(const char *path, int flags, mode_t mode, int *ret_fd, GError **error);

/* openat(dirfd, name) for one entry name (no '/'), not following it if it is a symbolic link;
 * -ELOOP with a message naming DIR/NAME and its target. `dir` is the directory's path, for
 * messages only. */
int safepath_openat(int dirfd, const char *dir, const char *name, int flags, mode_t mode, int *ret_fd,
                    GError **error);

/* Make sure the absolute directory path exists, creating missing components with `mode`
 * (mkdirat through descriptors, following no symbolic link), and return it opened as
 * O_PATH|O_DIRECTORY. -ELOOP for a symbolic link on the way, -ENOTDIR for a component that is
 * not a directory. */
int safepath_mkdir_p(const char *path, mode_t mode, int *ret_fd, GError **error);

/* The message for -ELOOP on path: which component is a symbolic link and where it points,
 * e.g. "/home/NFS/evil is a symbolic link (to /etc/cron.d); nfsprov never follows one here".
 * Only for messages: decisions are made on openat2's answer. */
char *safepath_describe_link(const char *path);

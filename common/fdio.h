/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Plain file-descriptor I/O that the C library leaves to every caller. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Write all len bytes of data to fd, retrying short writes and EINTR. 0 or -errno. */
int fd_write_all(int fd, const void *data, size_t len);

/* read(2) retried on EINTR: the bytes read (0 at the end), or -errno. */
ssize_t fd_read_some(int fd, void *buf, size_t len);

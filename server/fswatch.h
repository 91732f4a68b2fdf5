/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The live watch of the shares' filesystems: which watched filesystem changed, within
 * milliseconds, whoever changed it (a local process, NFS-Ganesha serving a client, the kernel's
 * nfsd). Each share is its own filesystem; one fanotify group (FAN_CLASS_NOTIF |
 * FAN_REPORT_DFID_NAME) marks each whole filesystem (FAN_MARK_FILESYSTEM) for FAN_CREATE,
 * FAN_DELETE, FAN_MOVED_FROM, FAN_MOVED_TO, FAN_ATTRIB and FAN_CLOSE_WRITE, on files and
 * directories (FAN_ONDIR), at any depth. Needs CAP_SYS_ADMIN (nfsprovd runs as root).
 *
 * Contract:
 * - Events are mapped to a key (the share's name) by the filesystem id (statfs f_fsid) recorded
 *   when the key was added; two keys cannot watch one filesystem (-EEXIST), and a filesystem
 *   without an fsid cannot be watched (-EINVAL).
 * - Delivery: fn is called from the watcher's own thread, at most once per coalesce_ms per key.
 *   The first event after a quiet window is delivered at once (only the events read in the same
 *   batch are merged into it); the events that follow within coalesce_ms of a delivery are merged
 *   and delivered when that window ends. n_events counts the merged events as the kernel queued
 *   them (fanotify itself merges identical unread events on one object, e.g. a create and its
 *   close_write, so it is not a count of system calls). names is NULL or a NULL-terminated array
 *   of up to FSWATCH_MAX_NAMES distinct bare entry names (the last path component, e.g. "f" for
 *   d1/d2/f; "." for an event on a directory itself, e.g. its chmod), valid during the call only.
 * - newest_us: when the newest of the delivered events was read from the kernel
 *   (g_get_monotonic_time); the change it reports was made before that, so that a rescan of the
 *   filesystem begun later has seen it (a delivery at the end of a window may come after such a
 *   rescan). With only flags to deliver, the time of the delivery.
 * - flags say what the events do not: FSWATCH_LOST, events were lost because the kernel's queue
 *   overflowed (/proc/sys/fs/fanotify/max_queued_events; every key is told); FSWATCH_MOUNT, what
 *   is mounted where the key was added changed (the share was unmounted, mounted again, or
 *   something was mounted over it). Either way the caller must rescan that filesystem.
 * - Mounts: a watch keeps no file descriptor (root_fd is used during fswatch_add only), so the
 *   share can still be unmounted. The kernel's mark lives as long as the filesystem is mounted
 *   (its superblock); the watcher follows /proc/self/mountinfo and, when the mount at the path
 *   root_fd had changes, tells the key (FSWATCH_MOUNT) and, if the same filesystem (same fsid) is
 *   mounted there again, marks it again: the key keeps being watched across an unmount and mount
 *   (offline resize) without being added again. Changes made while it was not mounted there are
 *   not seen (hence the rescan). Without /proc/self/mountinfo nothing reports mount changes.
 * - fn runs with the watcher's lock held: keep it short. It may call fswatch_add() and
 *   fswatch_remove() itself; never fswatch_free(). Once fswatch_remove() (or an fswatch_add()
 *   replacing the key) returns, fn is not called for the old watch again, from any thread.
 * - fswatch_remove() stops delivery at once and removes the kernel's mark when the filesystem is
 *   still mounted where it was added (an unmounted one has no mark left).
 * - Thread safety: fswatch_add() and fswatch_remove() may be called from any thread.
 * - Errors: negative errno and one line in *error; nothing is logged here.
 */
#pragma once

#include <glib.h>

#define FSWATCH_MAX_NAMES 8

typedef struct FsWatch FsWatch;

typedef enum FsWatchFlags {
        FSWATCH_LOST = 1 << 0,   /* events were lost (queue overflow): rescan */
        FSWATCH_MOUNT = 1 << 1,  /* the mount at the key's path changed: rescan */
} FsWatchFlags;

typedef void (*FsWatchFn)(const char *key, unsigned n_events, const char *const *names, FsWatchFlags flags,
                          gint64 newest_us, void *userdata);

/* Start the watcher thread. -ENOSYS (no fanotify), -EINVAL (no FAN_REPORT_DFID_NAME: kernel
 * older than 5.9), -EPERM (not privileged), each with one line saying why. coalesce_ms may be 0
 * (every batch of events delivered at once). */
int fswatch_new(FsWatchFn fn, void *userdata, unsigned coalesce_ms, FsWatch **ret, GError **error);

/* Watch the filesystem whose root directory (any directory of it, in fact) is open as root_fd,
 * under key; the mount is followed at the path root_fd has now (see "Mounts" above). Adding a
 * key again replaces its watch (events pending for the old one are dropped).
 * -EEXIST: another key watches that filesystem; -EINVAL: no fsid; fanotify_mark's errors. */
int fswatch_add(FsWatch *w, const char *key, int root_fd, GError **error);

/* Stop watching key. -ENOENT when it is not watched. */
int fswatch_remove(FsWatch *w, const char *key, GError **error);

/* Stop and join the thread, close the fanotify group (dropping every mark). NULL is fine. */
void fswatch_free(FsWatch *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FsWatch, fswatch_free)

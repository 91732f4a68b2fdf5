/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The live watch of the shares' filesystems with fanotify: see fswatch.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "error.h"
#include "fswatch.h"

#define WATCH_MASK (FAN_CREATE | FAN_DELETE | FAN_MOVED_FROM | FAN_MOVED_TO | FAN_ONDIR | FAN_ATTRIB | FAN_CLOSE_WRITE)
/* One read takes up to this many bytes of events (an event with a name is ~60-300 bytes). */
#define READ_BUFFER_SIZE (256 * 1024)
/* Reads in a row before pending deliveries are looked at again, so a storm cannot delay them. */
#define READS_PER_ROUND 8

typedef struct Watched {
        char *key;
        uint64_t fsid;                         /* statfs f_fsid as one value; never 0 */
        char *path;                            /* where root_fd was (mounts, unmark); or NULL */
        uint64_t mnt_id;                       /* the mount at path (statx); 0: none or unknown */
        unsigned pending;                      /* events since the last delivery */
        gint64 newest;                         /* monotonic µs when the newest of them was read */
        bool overflow;                         /* events lost since the last delivery */
        bool mount_changed;                    /* the mount at path changed since the last delivery */
        char *names[FSWATCH_MAX_NAMES + 1];    /* NULL-terminated */
        unsigned n_names;
        gint64 last;                           /* monotonic µs of the last delivery; 0: none yet */
} Watched;

struct FsWatch {
        GRecMutex lock;                        /* everything below but the constants; held around fn */
        int fan_fd;
        int wake_fd;                           /* eventfd: wakes the thread to stop */
        int mounts_fd;                         /* /proc/self/mountinfo (POLLPRI on changes) or -1 */
        GThread *thread;
        FsWatchFn fn;
        void *userdata;
        gint64 window;                         /* coalesce_ms in µs */
        GPtrArray *watched;                    /* Watched* */
        bool stop;
};

static void watched_clear_names(Watched *wd) {
        for (unsigned i = 0; i < wd->n_names; i++)
                g_clear_pointer(&wd->names[i], g_free);
        wd->n_names = 0;
}

static void watched_free(Watched *wd) {
        if (!wd)
                return;
        watched_clear_names(wd);
        g_free(wd->key);
        g_free(wd->path);
        g_free(wd);
}

static uint64_t fsid_value(const void *fsid) {
        uint64_t v;
        memcpy(&v, fsid, sizeof(v));   /* fsid_t and __kernel_fsid_t: two ints, same layout */
        return v;
}

/* The id of the mount dirfd/path is on (statx STATX_MNT_ID); 0 when it cannot be told. */
static uint64_t mount_id(int dirfd, const char *path, int flags) {
        struct statx stx;

        if (statx(dirfd, path, flags | AT_NO_AUTOMOUNT, STATX_MNT_ID, &stx) < 0 || !(stx.stx_mask & STATX_MNT_ID))
                return 0;
        return stx.stx_mnt_id;
}

static Watched *find_key(FsWatch *w, const char *key, unsigned *ret_index) {
        for (unsigned i = 0; i < w->watched->len; i++) {
                Watched *wd = g_ptr_array_index(w->watched, i);
                if (strcmp(wd->key, key) == 0) {
                        if (ret_index)
                                *ret_index = i;
                        return wd;
                }
        }
        return NULL;
}

static Watched *find_fsid(FsWatch *w, uint64_t fsid) {
        for (unsigned i = 0; i < w->watched->len; i++) {
                Watched *wd = g_ptr_array_index(w->watched, i);
                if (wd->fsid == fsid)
                        return wd;
        }
        return NULL;
}

/* Remove the kernel's mark of wd's filesystem if it is still mounted where it was added. An
 * unmounted filesystem took its mark with it; anything else there is not ours to unmark. */
static void unmark(FsWatch *w, const Watched *wd) {
        struct statfs sf;

        if (!wd->path || statfs(wd->path, &sf) < 0 || fsid_value(&sf.f_fsid) != wd->fsid)
                return;
        (void) fanotify_mark(w->fan_fd, FAN_MARK_REMOVE | FAN_MARK_FILESYSTEM, WATCH_MASK, AT_FDCWD, wd->path);
}

static void note_event(Watched *wd, const char *name) {
        wd->pending++;
        wd->newest = g_get_monotonic_time();
        if (!name || wd->n_names >= FSWATCH_MAX_NAMES)
                return;
        for (unsigned i = 0; i < wd->n_names; i++)
                if (strcmp(wd->names[i], name) == 0)
                        return;
        wd->names[wd->n_names++] = g_strdup(name);
}

static void note_overflow(FsWatch *w) {
        for (unsigned i = 0; i < w->watched->len; i++)
                ((Watched *) g_ptr_array_index(w->watched, i))->overflow = true;
}

/* The mount table changed: look at each watch's path. A changed mount is news for the key; when
 * the key's own filesystem is mounted there (again), mark it (again: a no-op if the mark lived). */
static void check_mounts(FsWatch *w) {
        g_rec_mutex_lock(&w->lock);
        for (unsigned i = 0; i < w->watched->len; i++) {
                Watched *wd = g_ptr_array_index(w->watched, i);
                if (!wd->path)
                        continue;
                uint64_t id = mount_id(AT_FDCWD, wd->path, 0);
                if (id == wd->mnt_id)
                        continue;
                wd->mnt_id = id;
                wd->mount_changed = true;
                struct statfs sf;
                if (id != 0 && statfs(wd->path, &sf) == 0 && fsid_value(&sf.f_fsid) == wd->fsid)
                        (void) fanotify_mark(w->fan_fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, WATCH_MASK, AT_FDCWD,
                                             wd->path);
        }
        g_rec_mutex_unlock(&w->lock);
}

/* One event of a read buffer: its fsid and name (NULL when it has none). The buffer's records
 * are only 4-byte aligned (FANOTIFY_EVENT_ALIGN), hence the copies. */
static void parse_event(FsWatch *w, const uint8_t *ev, uint32_t len) {
        struct fanotify_event_metadata meta;
        const char *name = NULL;
        uint64_t fsid = 0;
        bool have_fsid = false;

        memcpy(&meta, ev, sizeof(meta));
        if (meta.fd >= 0)
                close(meta.fd);   /* not in FID mode; never leak one */
        if (meta.mask & FAN_Q_OVERFLOW) {
                note_overflow(w);
                return;
        }
        for (uint32_t off = meta.metadata_len; off + sizeof(struct fanotify_event_info_header) <= len;) {
                struct fanotify_event_info_header hdr;
                memcpy(&hdr, ev + off, sizeof(hdr));
                if (hdr.len < sizeof(hdr) || off + hdr.len > len)
                        break;
                size_t fid_len = sizeof(struct fanotify_event_info_fid) + sizeof(struct file_handle);
                if ((hdr.info_type == FAN_EVENT_INFO_TYPE_DFID_NAME || hdr.info_type == FAN_EVENT_INFO_TYPE_DFID ||
                     hdr.info_type == FAN_EVENT_INFO_TYPE_FID) && hdr.len >= fid_len) {
                        const uint8_t *fid = ev + off;
                        fsid = fsid_value(fid + offsetof(struct fanotify_event_info_fid, fsid));
                        have_fsid = true;
                        if (hdr.info_type == FAN_EVENT_INFO_TYPE_DFID_NAME) {
                                const uint8_t *fh = fid + offsetof(struct fanotify_event_info_fid, handle);
                                unsigned handle_bytes;
                                memcpy(&handle_bytes, fh + offsetof(struct file_handle, handle_bytes), sizeof(handle_bytes));
                                size_t name_off = fid_len + handle_bytes;
                                if (name_off < hdr.len && memchr(fid + name_off, '\0', hdr.len - name_off))
                                        name = (const char *) fid + name_off;
                        }
                        break;
                }
                off += hdr.len;
        }
        if (!have_fsid)
                return;
        Watched *wd = find_fsid(w, fsid);
        if (wd)
                note_event(wd, name);
}

/* Read what is queued (the fd is non-blocking), a few buffers at the most. */
static void read_events(FsWatch *w, uint8_t *buf) {
        for (unsigned round = 0; round < READS_PER_ROUND; round++) {
                ssize_t n = read(w->fan_fd, buf, READ_BUFFER_SIZE);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno != EAGAIN) {
                                /* nothing expected here; say events may be lost rather than spin */
                                g_rec_mutex_lock(&w->lock);
                                note_overflow(w);
                                g_rec_mutex_unlock(&w->lock);
                                g_usleep(10000);
                        }
                        return;
                }
                if (n == 0)
                        return;
                g_rec_mutex_lock(&w->lock);
                size_t left = (size_t) n;
                const uint8_t *ev = buf;
                while (left >= FAN_EVENT_METADATA_LEN) {
                        uint32_t event_len;
                        memcpy(&event_len, ev + offsetof(struct fanotify_event_metadata, event_len), sizeof(event_len));
                        if (event_len < FAN_EVENT_METADATA_LEN || event_len > left)
                                break;
                        parse_event(w, ev, event_len);
                        ev += event_len;
                        left -= event_len;
                }
                g_rec_mutex_unlock(&w->lock);
                if ((size_t) n < READ_BUFFER_SIZE / 2)
                        return;   /* most likely drained */
        }
}

static bool has_news(const Watched *wd) {
        return wd->pending > 0 || wd->overflow || wd->mount_changed;
}

static gint64 due(const FsWatch *w, const Watched *wd) {
        return wd->last ? wd->last + w->window : 0;
}

/* Call fn for the first watch whose news are due; false when none is. Lock held. */
static bool deliver_one(FsWatch *w, gint64 now) {
        for (unsigned i = 0; i < w->watched->len; i++) {
                Watched *wd = g_ptr_array_index(w->watched, i);
                if (!has_news(wd) || due(w, wd) > now)
                        continue;

                /* take the news out first: fn may remove or replace this watch */
                g_autofree char *key = g_strdup(wd->key);
                char *names[FSWATCH_MAX_NAMES + 1] = { NULL };
                unsigned n_names = wd->n_names;
                memcpy(names, wd->names, sizeof(names));
                memset(wd->names, 0, sizeof(wd->names));
                wd->n_names = 0;
                unsigned n_events = wd->pending;
                gint64 newest = wd->newest ? wd->newest : now;
                FsWatchFlags flags = (wd->overflow ? FSWATCH_LOST : 0) | (wd->mount_changed ? FSWATCH_MOUNT : 0);
                wd->pending = 0;
                wd->newest = 0;
                wd->overflow = false;
                wd->mount_changed = false;
                wd->last = now;

                w->fn(key, n_events, n_names > 0 ? (const char *const *) names : NULL, flags, newest, w->userdata);
                for (unsigned j = 0; j < n_names; j++)
                        g_free(names[j]);
                return true;
        }
        return false;
}

/* Deliver what is due; answer the poll timeout (ms) until the next delivery, -1 for none. */
static int deliver_due(FsWatch *w) {
        gint64 now = g_get_monotonic_time(), next = -1;

        g_rec_mutex_lock(&w->lock);
        while (deliver_one(w, now))
                ;
        for (unsigned i = 0; i < w->watched->len; i++) {
                Watched *wd = g_ptr_array_index(w->watched, i);
                if (has_news(wd) && (next < 0 || due(w, wd) < next))
                        next = due(w, wd);
        }
        g_rec_mutex_unlock(&w->lock);
        if (next < 0)
                return -1;
        return (int) ((MAX(next - now, 0) + 999) / 1000);
}

static gpointer watcher_main(gpointer data) {
        FsWatch *w = data;
        g_autofree uint8_t *buf = g_malloc(READ_BUFFER_SIZE);
        int timeout = -1;

        for (;;) {
                struct pollfd p[3] = {
                        { .fd = w->fan_fd, .events = POLLIN },
                        { .fd = w->wake_fd, .events = POLLIN },
                        { .fd = w->mounts_fd, .events = POLLPRI },   /* ignored when -1 */
                };
                int r = poll(p, ELEMENTSOF(p), timeout);
                if (r < 0 && errno != EINTR)
                        g_usleep(10000);   /* EINVAL/ENOMEM: never a busy loop */
                if (r > 0 && (p[1].revents & POLLIN)) {
                        uint64_t v;
                        (void) !read(w->wake_fd, &v, sizeof(v));
                }
                g_rec_mutex_lock(&w->lock);
                bool stop = w->stop;
                g_rec_mutex_unlock(&w->lock);
                if (stop)
                        break;
                if (r > 0 && (p[2].revents & (POLLPRI | POLLERR)))
                        check_mounts(w);
                if (r > 0 && (p[0].revents & POLLIN))
                        read_events(w, buf);
                timeout = deliver_due(w);
        }
        return NULL;
}

int fswatch_new(FsWatchFn fn, void *userdata, unsigned coalesce_ms, FsWatch **ret, GError **error) {
        g_return_val_if_fail(fn && ret, -EINVAL);

        _cleanup_close_ int fan_fd = fanotify_init(FAN_CLASS_NOTIF | FAN_REPORT_DFID_NAME | FAN_CLOEXEC | FAN_NONBLOCK,
                                                   O_RDONLY | O_LARGEFILE | O_CLOEXEC);
        if (fan_fd < 0) {
                int e = errno;
                switch (e) {
                case ENOSYS:
                        return np_fail(error, e, "the kernel has no fanotify (CONFIG_FANOTIFY): cannot watch the shares");
                case EINVAL:
                        return np_fail(error, e, "fanotify here cannot report names (FAN_REPORT_DFID_NAME needs Linux 5.9 "
                                                 "or later): cannot watch the shares");
                case EPERM:
                        return np_fail(error, e, "watching whole filesystems with fanotify needs CAP_SYS_ADMIN (run as root)");
                default:
                        return np_fail(error, e, "fanotify_init failed: %s", g_strerror(e));
                }
        }
        _cleanup_close_ int wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (wake_fd < 0) {
                int e = errno;
                return np_fail(error, e, "eventfd failed: %s", g_strerror(e));
        }

        FsWatch *w = g_new0(FsWatch, 1);
        g_rec_mutex_init(&w->lock);
        w->fan_fd = TAKE_FD(fan_fd);
        w->wake_fd = TAKE_FD(wake_fd);
        w->mounts_fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);   /* -1: mounts not followed */
        w->fn = fn;
        w->userdata = userdata;
        w->window = (gint64) coalesce_ms * 1000;
        w->watched = g_ptr_array_new_with_free_func((GDestroyNotify) watched_free);

        GError *thread_error = NULL;
        w->thread = g_thread_try_new("nfsprovd-fswatch", watcher_main, w, &thread_error);
        if (!w->thread) {
                int r = np_fail(error, EAGAIN, "cannot start the watcher thread: %s", thread_error->message);
                g_error_free(thread_error);
                fswatch_free(w);
                return r;
        }
        *ret = w;
        return 0;
}

int fswatch_add(FsWatch *w, const char *key, int root_fd, GError **error) {
        g_return_val_if_fail(w && key && root_fd >= 0, -EINVAL);

        g_autofree char *fd_path = g_strdup_printf("/proc/self/fd/%d", root_fd);
        g_autofree char *path = g_file_read_link(fd_path, NULL);   /* for messages and unmark() */
        const char *where = path ? path : fd_path;

        struct statfs sf;
        if (fstatfs(root_fd, &sf) < 0) {
                int e = errno;
                return np_fail(error, e, "cannot watch %s for %s: statfs failed: %s", where, key, g_strerror(e));
        }
        uint64_t fsid = fsid_value(&sf.f_fsid);
        if (fsid == 0)
                return np_fail(error, EINVAL, "cannot watch %s for %s: its filesystem has no id (f_fsid is 0)", where, key);

        g_rec_mutex_lock(&w->lock);
        Watched *other = find_fsid(w, fsid);
        if (other && strcmp(other->key, key) != 0) {
                int r = np_fail(error, EEXIST, "cannot watch %s for %s: that filesystem is already watched for %s", where,
                                key, other->key);
                g_rec_mutex_unlock(&w->lock);
                return r;
        }
        if (fanotify_mark(w->fan_fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, WATCH_MASK, root_fd, NULL) < 0) {
                int e = errno;
                g_rec_mutex_unlock(&w->lock);
                return np_fail(error, e, "cannot watch %s for %s: fanotify_mark failed: %s", where, key, g_strerror(e));
        }
        unsigned index;
        Watched *old = find_key(w, key, &index);
        if (old) {
                if (old->fsid != fsid)
                        unmark(w, old);
                g_ptr_array_remove_index(w->watched, index);
        }
        Watched *wd = g_new0(Watched, 1);
        wd->key = g_strdup(key);
        wd->fsid = fsid;
        wd->path = TAKE_PTR(path);
        wd->mnt_id = mount_id(root_fd, "", AT_EMPTY_PATH);
        g_ptr_array_add(w->watched, wd);
        g_rec_mutex_unlock(&w->lock);
        return 0;
}

int fswatch_remove(FsWatch *w, const char *key, GError **error) {
        g_return_val_if_fail(w && key, -EINVAL);

        g_rec_mutex_lock(&w->lock);
        unsigned index;
        Watched *wd = find_key(w, key, &index);
        if (!wd) {
                g_rec_mutex_unlock(&w->lock);
                return np_fail(error, ENOENT, "%s is not watched", key);
        }
        unmark(w, wd);
        g_ptr_array_remove_index(w->watched, index);
        g_rec_mutex_unlock(&w->lock);
        return 0;
}

void fswatch_free(FsWatch *w) {
        if (!w)
                return;
        if (w->thread) {
                g_rec_mutex_lock(&w->lock);
                w->stop = true;
                g_rec_mutex_unlock(&w->lock);
                uint64_t one = 1;
                (void) !write(w->wake_fd, &one, sizeof(one));
                g_thread_join(w->thread);
        }
        close(w->fan_fd);   /* drops every mark */
        close(w->wake_fd);
        if (w->mounts_fd >= 0)
                close(w->mounts_fd);
        g_ptr_array_unref(w->watched);
        g_rec_mutex_clear(&w->lock);
        g_free(w);
}

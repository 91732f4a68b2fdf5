/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The audit scan (see audit.h). One pass, depth first, with an explicit stack: each directory
 * is listed whole with getdents64 (one shared buffer) before any of its subdirectories is read;
 * its other entries are judged as they are listed, the names of its subdirectories are kept
 * (NUL-separated in one array per directory) and read afterwards. Descriptors of the last
 * OPEN_DIRS directories of the current path stay open; a directory further up is closed and
 * reopened through ".." of its child when the scan comes back to it, and must then be the same
 * directory (device and inode) or the scan fails.
 *
 * A foreign entry is stat'ed only when it enters the bounded set of returned items (a max-heap by
 * path), so a share of 100,000 foreign files costs their listing and a path comparison each.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "error.h"
#include "macro.h"
#include "name.h"
#include "qcow2.h"
#include "show.h"

#define DIRENT_BUF_SIZE (256u * 1024u)
#define OPEN_DIRS 64u
#define TEMP_PREFIX ".nfsprov-"
#define LOST_FOUND "lost+found"

static const char *const finding_names[_AUDIT_FINDING_MAX] = {
        [AUDIT_FOREIGN] = "foreign",
        [AUDIT_CHANGED] = "changed",
        [AUDIT_MISSING] = "missing",
};

const char *audit_finding_to_string(AuditFinding f) {
        return (unsigned) f < _AUDIT_FINDING_MAX ? finding_names[f] : NULL;
}

void audit_item_free(AuditItem *item) {
        if (!item)
                return;
        g_free(item->path);
        g_free(item->detail);
        g_free(item);
}

int audit_meta_at(int dir_fd, const char *name, AuditMeta *ret) {
        struct statx x;
        int flags = AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | (*name ? 0 : AT_EMPTY_PATH);
        if (statx(dir_fd, name, flags, STATX_BASIC_STATS | STATX_BTIME | STATX_MNT_ID, &x) < 0)
                return -errno;
        bool btime = x.stx_mask & STATX_BTIME;
        *ret = (AuditMeta) {
                .mode = x.stx_mode,
                .ino = x.stx_ino,
                .dev_major = x.stx_dev_major,
                .dev_minor = x.stx_dev_minor,
                .mnt_id = (x.stx_mask & STATX_MNT_ID) ? x.stx_mnt_id : 0,
                .nlink = x.stx_nlink,
                .size = x.stx_size,
                .uid = x.stx_uid,
                .gid = x.stx_gid,
                .mtime = x.stx_mtime.tv_sec,
                .mtime_nsec = x.stx_mtime.tv_nsec,
                .ctime_sec = x.stx_ctime.tv_sec,
                .ctime_nsec = x.stx_ctime.tv_nsec,
                .btime_sec = btime ? x.stx_btime.tv_sec : 0,
                .btime_nsec = btime ? x.stx_btime.tv_nsec : 0,
        };
        return 0;
}

const char *audit_kind_of_mode(uint32_t mode) {
        switch (mode & S_IFMT) {
        case S_IFREG:
                return "file";
        case S_IFDIR:
                return "directory";
        case S_IFLNK:
                return "symlink";
        case S_IFCHR:
        case S_IFBLK:
                return "device";
        case S_IFIFO:
                return "fifo";
        case S_IFSOCK:
                return "socket";
        default:
                return "unknown";
        }
}

typedef struct Frame {
        int fd;               /* -1 while closed (more than OPEN_DIRS levels up) */
        uint64_t ino;
        uint32_t dev_major, dev_minor;
        size_t prefix_len;    /* the length of Scan.path that is this directory's prefix: "" or "a/b/" */
        GByteArray *subdirs;  /* the names of its subdirectories left to read, each NUL-terminated */
        size_t next;          /* offset in subdirs of the next one */
} Frame;

/* ---- the cache of checked headers ---- */

typedef struct Checked {
        uint64_t ino, size;
        int64_t mtime_sec, ctime_sec;
        uint32_t mtime_nsec, ctime_nsec;
        uint64_t capacity, max_capacity;
        char *backing;
} Checked;

struct AuditCache {
        GHashTable *checked; /* volume name -> Checked* */
};

static void checked_free(Checked *c) {
        if (!c)
                return;
        g_free(c->backing);
        g_free(c);
}

static GHashTable *checked_table(void) {
        return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify) checked_free);
}

AuditCache *audit_cache_new(void) {
        AuditCache *c = g_new0(AuditCache, 1);
        c->checked = checked_table();
        return c;
}

void audit_cache_free(AuditCache *c) {
        if (!c)
                return;
        g_hash_table_unref(c->checked);
        g_free(c);
}

size_t audit_cache_size(const AuditCache *c) {
        return g_hash_table_size(c->checked);
}

static bool checked_same(const Checked *c, const AuditMeta *m, const AuditVolume *vol, uint64_t max_capacity) {
        return c->ino == m->ino && c->size == m->size && c->mtime_sec == m->mtime && c->mtime_nsec == m->mtime_nsec &&
               c->ctime_sec == m->ctime_sec && c->ctime_nsec == m->ctime_nsec && c->capacity == vol->capacity &&
               c->max_capacity == max_capacity && g_strcmp0(c->backing, vol->backing) == 0;
}

typedef struct Scan {
        const AuditVolume *vols;
        size_t n_vols;
        GHashTable *by_name;  /* volume name -> its index + 1 */
        bool *present;        /* per volume: found at the root */
        Qcow2Policy policy;
        size_t max_foreign;
        unsigned max_depth;
        AuditMeta root;
        GString *path;        /* the current directory's prefix, and an entry's name while judged */
        GPtrArray *items;     /* changed and missing */
        GPtrArray *heap;      /* foreign: a max-heap by path of at most max_foreign */
        GArray *stack;        /* Frame: the directories from the root to the current one */
        char *buf;            /* getdents64's */
        AuditStats stats;
        AuditCache *cache;    /* the caller's, or NULL */
        GHashTable *checked;  /* the volumes this scan found checked (the cache's next table) */
        struct timespec settled; /* files changed before this are remembered (settle_time) */
} Scan;

static void scan_done(Scan *s) {
        if (s->checked)
                g_hash_table_unref(s->checked);
        if (s->stack) {
                for (guint i = 0; i < s->stack->len; i++) {
                        Frame *f = &g_array_index(s->stack, Frame, i);
                        closep(&f->fd);
                        g_byte_array_unref(f->subdirs);
                }
                g_array_unref(s->stack);
        }
        if (s->by_name)
                g_hash_table_unref(s->by_name);
        g_free(s->present);
        if (s->path)
                g_string_free(s->path, TRUE);
        if (s->items)
                g_ptr_array_unref(s->items);
        if (s->heap)
                g_ptr_array_unref(s->heap);
        g_free(s->buf);
}

/* The current path as an error message shows it. */
static char *shown_path(const Scan *s) {
        return show_text(s->path->len ? s->path->str : ".");
}

static AuditItem *item_new(const char *path, AuditFinding finding, const AuditMeta *m, char *detail) {
        AuditItem *it = g_new0(AuditItem, 1);
        it->path = g_strdup(path);
        it->finding = finding;
        it->kind = m ? audit_kind_of_mode(m->mode) : "file";
        it->detail = detail;
        if (m) {
                it->size = m->size;
                it->uid = m->uid;
                it->gid = m->gid;
                it->mtime = m->mtime;
        }
        return it;
}

/* ---- the bounded set of foreign items: a max-heap by path ---- */

static int path_cmp(const AuditItem *a, const AuditItem *b) {
        return strcmp(a->path, b->path);
}

static void heap_swap(gpointer *p, size_t a, size_t b) {
        gpointer t = p[a];
        p[a] = p[b];
        p[b] = t;
}

static void heap_push(GPtrArray *h, AuditItem *it) {
        g_ptr_array_add(h, it);
        for (size_t i = h->len - 1; i > 0;) {
                size_t up = (i - 1) / 2;
                if (path_cmp(h->pdata[up], h->pdata[i]) >= 0)
                        break;
                heap_swap(h->pdata, up, i);
                i = up;
        }
}

/* Remove (and free) the largest. */
static void heap_drop_max(GPtrArray *h) {
        size_t n = h->len - 1;
        heap_swap(h->pdata, 0, n);
        audit_item_free(g_ptr_array_steal_index(h, (guint) n));
        for (size_t i = 0;;) {
                size_t l = 2 * i + 1, r = l + 1, big = i;
                if (l < n && path_cmp(h->pdata[l], h->pdata[big]) > 0)
                        big = l;
                if (r < n && path_cmp(h->pdata[r], h->pdata[big]) > 0)
                        big = r;
                if (big == i)
                        break;
                heap_swap(h->pdata, i, big);
                i = big;
        }
}

/* A foreign entry name of the directory open on dir_fd, whose prefix is in s->path. known: its
 * stat when the caller has it (else it is taken here, when the item is kept). note: more detail. */
static int add_foreign(Scan *s, int dir_fd, const char *name, const AuditMeta *known, const char *note, GError **error) {
        size_t len = s->path->len;
        g_string_append(s->path, name);
        bool full = s->heap->len >= s->max_foreign;
        if (full && strcmp(s->path->str, ((AuditItem *) s->heap->pdata[0])->path) > 0) {
                s->stats.foreign++;
                s->stats.foreign_omitted++;
                g_string_truncate(s->path, len);
                return 0;
        }
        AuditMeta m;
        if (!known) {
                int r = audit_meta_at(dir_fd, name, &m);
                if (r == -ENOENT) { /* gone since the listing */
                        g_string_truncate(s->path, len);
                        return 0;
                }
                if (r < 0) {
                        g_autofree char *p = shown_path(s);
                        return np_fail(error, -r, "cannot stat %s: %s", p, g_strerror(-r));
                }
                known = &m;
        }
        s->stats.foreign++;
        if (full) {
                heap_drop_max(s->heap);
                s->stats.foreign_omitted++;
        }
        heap_push(s->heap, item_new(s->path->str, AUDIT_FOREIGN, known,
                                    g_strconcat("not in the manifest", note ? "; " : "", note, NULL)));
        g_string_truncate(s->path, len);
        return 0;
}

/* ---- the volumes ---- */

static const AuditVolume *volume_named(const Scan *s, const char *name, size_t *ret_index) {
        size_t i = GPOINTER_TO_SIZE(g_hash_table_lookup(s->by_name, name));
        if (!i)
                return NULL;
        *ret_index = i - 1;
        return &s->vols[i - 1];
}

static void why_add(GString *why, const char *fmt, ...) _printf_(2, 3);
static void why_add(GString *why, const char *fmt, ...) {
        if (why->len)
                g_string_append(why, "; ");
        va_list ap;
        va_start(ap, fmt);
        g_string_append_vprintf(why, fmt, ap);
        va_end(ap);
}

/* The header checks of a regular file open on fd, into why; 0, or a negative errno when the file
 * cannot be read at all (EIO, ...). */
static int check_header(const Scan *s, const AuditVolume *vol, int fd, GString *why, GError **error) {
        g_auto(Qcow2Info) info = { 0 };
        g_autoptr(GError) e = NULL;
        Qcow2Policy policy = s->policy;
        policy.volume_name = vol->name;
        int r = qcow2_read_header(fd, &info, &e);
        if (r == 0)
                r = qcow2_check(&info, &policy, &e);
        if (r == -EBADMSG || r == -EINVAL) {
                why_add(why, "qcow2 header: %s", e ? e->message : g_strerror(-r));
                return 0;
        }
        if (r < 0 && e)
                return np_fail_prefix(error, g_steal_pointer(&e), "cannot read the volume %s", vol->name);
        if (r < 0)
                return np_fail(error, -r, "cannot read the volume %s: %s", vol->name, g_strerror(-r));
        if (info.virtual_size != vol->capacity)
                why_add(why, "virtual size %" PRIu64 ", manifest %" PRIu64, info.virtual_size, vol->capacity);
        if (!info.backing_file != !vol->backing || (vol->backing && strcmp(info.backing_file, vol->backing) != 0)) {
                g_autofree char *b = info.backing_file ? show_text(info.backing_file) : g_strdup("none");
                why_add(why, "backing %s, manifest %s", b, vol->backing ? vol->backing : "none");
        }
        return 0;
}

/* The volume vols[i] found at the root as name (dir_fd: the root). known: its stat, when the
 * caller has it (a directory); else taken here from the descriptor the header is read from. */
static int check_volume(Scan *s, int dir_fd, size_t i, const AuditMeta *known, GError **error) {
        const AuditVolume *vol = &s->vols[i];
        g_autoptr(GString) why = g_string_new(NULL);
        _cleanup_close_ int fd = -1;
        AuditMeta m;
        int r;
        const Checked *cached = NULL;
        if (!known) {
                r = audit_meta_at(dir_fd, vol->name, &m);
                if (r == -ENOENT)
                        return 0; /* gone since the listing: missing */
                if (r < 0)
                        return np_fail(error, -r, "cannot stat the volume %s: %s", vol->name, g_strerror(-r));
                cached = s->cache && S_ISREG(m.mode) ? g_hash_table_lookup(s->cache->checked, vol->name) : NULL;
                if (cached && !checked_same(cached, &m, vol, s->policy.max_capacity))
                        cached = NULL;
                if (S_ISREG(m.mode) && !cached) {
                        fd = openat(dir_fd, vol->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
                        if (fd < 0 && errno == ENOENT)
                                return 0;
                        if (fd < 0 && errno != ELOOP)
                                return np_fail(error, errno, "cannot open the volume %s: %s", vol->name,
                                               g_strerror(errno));
                        /* Judge the file that is read (it may have been replaced since the stat). */
                        r = fd >= 0 ? audit_meta_at(fd, "", &m) : audit_meta_at(dir_fd, vol->name, &m);
                        if (r < 0)
                                return np_fail(error, -r, "cannot stat the volume %s: %s", vol->name, g_strerror(-r));
                }
                known = &m;
        }
        s->present[i] = true;
        if (!S_ISREG(known->mode) || (fd < 0 && !cached))
                why_add(why, "not a regular file (%s)", audit_kind_of_mode(known->mode));
        else {
                if (vol->ino && known->ino != vol->ino)
                        why_add(why, "inode %" PRIu64 " replaced by %" PRIu64, vol->ino, known->ino);
                if (known->nlink > 1)
                        why_add(why, "%" PRIu32 " hard links", known->nlink);
                if (known->mode & (S_ISUID | S_ISGID))
                        why_add(why, "setuid/setgid bits (mode %04o)", (unsigned) (known->mode & 07777));
                size_t before = why->len;
                if (!cached)
                        s->stats.headers_read++;
                r = cached ? 0 : check_header(s, vol, fd, why, error);
                if (r < 0)
                        return r;
                /* a header that passed, of a file not changed since the settle time: remembered */
                bool settled = known->ctime_sec < s->settled.tv_sec ||
                               (known->ctime_sec == s->settled.tv_sec && known->ctime_nsec < (uint32_t) s->settled.tv_nsec);
                if (s->checked && why->len == before && (cached || settled)) {
                        Checked *c = g_new(Checked, 1);
                        *c = (Checked) { known->ino, known->size, known->mtime, known->ctime_sec, known->mtime_nsec,
                                         known->ctime_nsec, vol->capacity, s->policy.max_capacity, g_strdup(vol->backing) };
                        g_hash_table_replace(s->checked, g_strdup(vol->name), c);
                }
        }
        if (why->len)
                g_ptr_array_add(s->items, item_new(vol->name, AUDIT_CHANGED, known, g_string_free(TAKE_PTR(why), FALSE)));
        return 0;
}

/* Two ticks of the coarse real-time clock before now. File times are taken from that clock (or,
 * since Linux 6.13, a finer one that never reads earlier): a file whose change time is before
 * this cannot be changed again without its change time moving past it, so its remembered header
 * is read again after any later change. Two ticks, not one: the tick the clock reads now may
 * still stamp files. */
static void settle_time(struct timespec *ret) {
        struct timespec now, res;
        clock_gettime(CLOCK_REALTIME_COARSE, &now);
        if (clock_getres(CLOCK_REALTIME_COARSE, &res) < 0 || res.tv_sec > 0)
                res = (struct timespec) { .tv_sec = 1 }; /* unknown: a second, as before */
        int64_t ns = (int64_t) now.tv_sec * 1000000000 + now.tv_nsec - 2 * ((int64_t) res.tv_sec * 1000000000 + res.tv_nsec);
        ret->tv_sec = ns / 1000000000;
        ret->tv_nsec = ns % 1000000000;
}

/* ---- the walk ---- */

static Frame *frame_at(Scan *s, size_t i) {
        return &g_array_index(s->stack, Frame, i);
}

static bool other_fs(const Scan *s, const AuditMeta *m) {
        return m->dev_major != s->root.dev_major || m->dev_minor != s->root.dev_minor ||
               (m->mnt_id && s->root.mnt_id && m->mnt_id != s->root.mnt_id);
}

/* Judge one entry that is not to be read as a directory (d_type: DT_UNKNOWN resolved). */
static int judge_entry(Scan *s, Frame *f, const char *name, unsigned char type, const AuditMeta *known, GError **error) {
        bool at_root = s->stack->len == 1;
        size_t vi;
        if (at_root && volume_named(s, name, &vi))
                return check_volume(s, f->fd, vi, NULL, error);
        if (at_root && type == DT_REG && g_str_has_prefix(name, TEMP_PREFIX))
                return 0;
        return add_foreign(s, f->fd, name, known, NULL, error);
}

/* List the directory of the top frame: judge its entries, keep its subdirectories' names. */
static int read_dir(Scan *s, GError **error) {
        Frame *f = frame_at(s, s->stack->len - 1);
        s->stats.directories++;
        for (;;) {
                ssize_t n = getdents64(f->fd, s->buf, DIRENT_BUF_SIZE);
                if (n < 0) {
                        int e = errno;
                        g_autofree char *p = shown_path(s);
                        return np_fail(error, e, "cannot read the directory %s: %s", p, g_strerror(e));
                }
                if (n == 0)
                        return 0;
                for (ssize_t off = 0; off < n;) {
                        const struct dirent64 *de = (const struct dirent64 *) (s->buf + off);
                        off += de->d_reclen;
                        const char *name = de->d_name;
                        if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0')))
                                continue;
                        s->stats.entries++;
                        unsigned char type = de->d_type;
                        AuditMeta m;
                        bool have_meta = false;
                        if (type == DT_UNKNOWN) {
                                int r = audit_meta_at(f->fd, name, &m);
                                if (r == -ENOENT)
                                        continue;
                                if (r < 0) {
                                        g_autofree char *p = shown_path(s);
                                        return np_fail(error, -r, "cannot stat an entry of %s: %s", p, g_strerror(-r));
                                }
                                type = IFTODT(m.mode);
                                have_meta = true;
                        }
                        if (type == DT_DIR) {
                                g_byte_array_append(f->subdirs, (const guint8 *) name, (guint) strlen(name) + 1);
                                continue;
                        }
                        int r = judge_entry(s, f, name, type, have_meta ? &m : NULL, error);
                        if (r < 0)
                                return r;
                }
        }
}

/* Read the next subdirectory of the top frame: judge it, and push it unless it is not to be read. */
static int descend(Scan *s, GError **error) {
        size_t depth = s->stack->len; /* of the subdirectory */
        Frame *parent = frame_at(s, depth - 1);
        const char *name = (const char *) parent->subdirs->data + parent->next;
        parent->next += strlen(name) + 1;
        g_string_truncate(s->path, parent->prefix_len);

        _cleanup_close_ int fd = openat(parent->fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        AuditMeta m;
        int r;
        if (fd < 0) {
                if (errno == ENOENT)
                        return 0;
                if (errno != ENOTDIR && errno != ELOOP) {
                        int e = errno;
                        g_string_append(s->path, name);
                        g_autofree char *p = shown_path(s);
                        return np_fail(error, e, "cannot open the directory %s: %s", p, g_strerror(e));
                }
                /* No longer a directory: judged as what it is now. */
                r = audit_meta_at(parent->fd, name, &m);
                if (r == -ENOENT)
                        return 0;
                if (r < 0) {
                        g_string_append(s->path, name);
                        g_autofree char *p = shown_path(s);
                        return np_fail(error, -r, "cannot stat %s: %s", p, g_strerror(-r));
                }
                return judge_entry(s, parent, name, IFTODT(m.mode), &m, error);
        }
        r = audit_meta_at(fd, "", &m);
        if (r < 0) {
                g_string_append(s->path, name);
                g_autofree char *p = shown_path(s);
                return np_fail(error, -r, "cannot stat %s: %s", p, g_strerror(-r));
        }
        bool mounted = other_fs(s, &m), deep = depth > s->max_depth;
        size_t vi;
        g_autofree char *note = mounted ? g_strdup("another filesystem is mounted here: not read")
                                : deep  ? g_strdup_printf("more than %u levels deep: not read", s->max_depth)
                                        : NULL;
        if (depth == 1 && volume_named(s, name, &vi))
                r = check_volume(s, parent->fd, vi, &m, error);
        else if (depth == 1 && strcmp(name, LOST_FOUND) == 0 && !mounted)
                r = 0;
        else
                r = add_foreign(s, parent->fd, name, &m, note, error);
        if (r < 0)
                return r;
        if (note) {
                s->stats.unread++;
                return 0;
        }

        g_string_append(s->path, name);
        g_string_append_c(s->path, '/');
        Frame child = {
                .fd = TAKE_FD(fd),
                .ino = m.ino,
                .dev_major = m.dev_major,
                .dev_minor = m.dev_minor,
                .prefix_len = s->path->len,
                .subdirs = g_byte_array_new(),
        };
        g_array_append_val(s->stack, child); /* parent is invalid from here */
        if (s->stack->len > OPEN_DIRS) {
                Frame *far = frame_at(s, s->stack->len - 1 - OPEN_DIRS);
                closep(&far->fd);
                far->fd = -1;
        }
        return read_dir(s, error);
}

/* Leave the top frame; reopen its parent through ".." when it was closed. */
static int ascend(Scan *s, GError **error) {
        size_t top = s->stack->len - 1;
        Frame *f = frame_at(s, top);
        if (top > 0 && frame_at(s, top - 1)->fd < 0) {
                Frame *parent = frame_at(s, top - 1);
                g_string_truncate(s->path, parent->prefix_len);
                _cleanup_close_ int fd = openat(f->fd, "..", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                AuditMeta m;
                int r = fd < 0 ? -errno : audit_meta_at(fd, "", &m);
                if (r < 0) {
                        g_autofree char *p = shown_path(s);
                        return np_fail(error, -r, "cannot reopen the directory %s: %s", p, g_strerror(-r));
                }
                if (m.ino != parent->ino || m.dev_major != parent->dev_major || m.dev_minor != parent->dev_minor) {
                        g_autofree char *p = shown_path(s);
                        return np_fail(error, EAGAIN, "the directory %s was moved during the audit; run it again", p);
                }
                parent->fd = TAKE_FD(fd);
        }
        closep(&f->fd);
        g_byte_array_unref(f->subdirs);
        g_array_set_size(s->stack, top);
        return 0;
}

static int check_manifest(Scan *s, GError **error) {
        for (size_t i = 0; i < s->n_vols; i++) {
                const char *name = s->vols[i].name;
                g_autoptr(GError) e = NULL;
                if (!name)
                        return np_fail(error, EINVAL, "manifest: a volume without a name");
                if (name_validate_volume(name, &e) < 0)
                        return np_fail_prefix(error, g_steal_pointer(&e), "manifest");
                if (!g_hash_table_insert(s->by_name, (gpointer) name, GSIZE_TO_POINTER(i + 1)))
                        return np_fail(error, EINVAL, "manifest: the volume %s is listed twice", name);
        }
        return 0;
}

static int items_sort_cmp(gconstpointer a, gconstpointer b) {
        return path_cmp(*(AuditItem *const *) a, *(AuditItem *const *) b);
}

int audit_scan(int root_fd, const AuditVolume *vols, size_t n_vols, const AuditOptions *opt,
               GPtrArray **ret_items, AuditStats *ret_stats, GError **error) {
        static const AuditOptions defaults = { 0 };
        if (!opt)
                opt = &defaults;
        _cleanup_(scan_done) Scan s = {
                .vols = vols,
                .n_vols = n_vols,
                .by_name = g_hash_table_new(g_str_hash, g_str_equal),
                .present = g_new0(bool, n_vols ? n_vols : 1),
                .policy = { .max_capacity = opt->max_capacity },
                .max_foreign = opt->max_foreign ? opt->max_foreign : AUDIT_MAX_FOREIGN,
                .max_depth = opt->max_depth ? opt->max_depth : AUDIT_MAX_DEPTH,
                .path = g_string_new(NULL),
                .items = g_ptr_array_new_with_free_func((GDestroyNotify) audit_item_free),
                .heap = g_ptr_array_new_with_free_func((GDestroyNotify) audit_item_free),
                .stack = g_array_new(FALSE, FALSE, sizeof(Frame)),
                .cache = opt->cache,
                .checked = opt->cache ? checked_table() : NULL,
        };
        settle_time(&s.settled);
        int r = check_manifest(&s, error);
        if (r < 0)
                return r;

        /* Our own descriptor of the root: listing it must not move the caller's offset. */
        _cleanup_close_ int fd = openat(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                int e = errno;
                if (e == ENOTDIR)
                        return np_fail(error, e, "the share's root is not a directory");
                return np_fail(error, e, "cannot open the share's root: %s", g_strerror(e));
        }
        r = audit_meta_at(fd, "", &s.root);
        if (r < 0)
                return np_fail(error, -r, "cannot stat the share's root: %s", g_strerror(-r));
        s.buf = g_malloc(DIRENT_BUF_SIZE);
        Frame root = {
                .fd = TAKE_FD(fd),
                .ino = s.root.ino,
                .dev_major = s.root.dev_major,
                .dev_minor = s.root.dev_minor,
                .subdirs = g_byte_array_new(),
        };
        g_array_append_val(s.stack, root);
        r = read_dir(&s, error);
        while (r >= 0 && s.stack->len > 0) {
                Frame *top = frame_at(&s, s.stack->len - 1);
                r = top->next < top->subdirs->len ? descend(&s, error) : ascend(&s, error);
        }
        if (r < 0)
                return r;

        for (size_t i = 0; i < n_vols; i++)
                if (!s.present[i])
                        g_ptr_array_add(s.items, item_new(vols[i].name, AUDIT_MISSING, NULL, g_strdup("the file is gone")));
        g_ptr_array_extend_and_steal(s.items, TAKE_PTR(s.heap));
        g_ptr_array_sort(s.items, items_sort_cmp);
        if (s.cache) {
                g_hash_table_unref(s.cache->checked);
                s.cache->checked = TAKE_PTR(s.checked);
        }
        *ret_items = TAKE_PTR(s.items);
        if (ret_stats)
                *ret_stats = s.stats;
        return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The audit of a share: its whole tree compared with its manifest (the volumes nfsprov made).
 *
 * audit_scan() reads the directory open on root_fd (the share's root, a mounted ext4) and every
 * directory below it, and says what does not belong there. It is pure: no global state, no path
 * resolved from a string (every entry is reached with openat/fstatat relative to its parent's
 * descriptor), and it needs no privilege beyond reading the tree, so it works on any directory.
 *
 * What belongs in a share:
 * - the manifest's volumes: qcow2 files at the root;
 * - `lost+found` at the root, when it is a directory of the share's filesystem (its contents do
 *   not belong: e2fsck puts what it recovers there, and each is reported);
 * - nfsprov's own temporary files at the root, regular files named `.nfsprov-*` (a volume being
 *   made: `.nfsprov-HASH.part`). Any other kind of entry with that name is reported (nfsprov
 *   makes only files so; a directory there is read like any other).
 *
 * Findings, one item per path:
 * - AUDIT_FOREIGN: an entry that is none of the above, at any depth and of any kind. A foreign
 *   directory is reported and so is each entry inside it. Symbolic links are never followed;
 *   a directory of another filesystem (a mount point, by st_dev or mount id) is reported and not
 *   read; a directory deeper than max_depth levels below the root is reported and not read.
 * - AUDIT_CHANGED: a manifest volume that is there but not as nfsprov made it. The detail names
 *   every problem found, joined with "; ": not a regular file (then nothing else is checked),
 *   another inode than the manifest's (when it records one), more than one hard link,
 *   setuid/setgid bits, a qcow2 header that is unreadable or refused by qcow2_check() (the header
 *   is read from a descriptor opened O_NONBLOCK|O_NOFOLLOW, so a fifo cannot block the scan),
 *   a virtual size or backing file other than the manifest's.
 * - AUDIT_MISSING: a manifest volume whose name is not at the root.
 *
 * Items come sorted by path (bytes compared), so output is deterministic. The foreign items are
 * bounded (max_foreign): the first ones by path are returned, the stats count all of them. Changed
 * and missing items (at most one per manifest volume) are always all returned.
 *
 * Paths and details hold names as the bytes on disk (a presenter escapes them); strings read
 * from a qcow2 header are escaped (show_text) before they go into a detail.
 *
 * Errors: the scan fails as a whole (a partial audit must not look clean) when a directory or a
 * volume cannot be opened or read (EACCES, EIO, EMFILE, ...), with one line naming the path, and
 * with -EAGAIN when a directory it went back up to is no longer the one it came from (a rename
 * during the scan). An entry that vanishes between the listing and its stat is skipped (a
 * volume that vanishes is missing). -EINVAL for a manifest with an invalid or repeated volume
 * name, -ENOTDIR when root_fd is not a directory.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <glib.h>

/* How deep below the root directories are read when AuditOptions.max_depth is 0. */
#define AUDIT_MAX_DEPTH 4096u
/* How many foreign items are returned when AuditOptions.max_foreign is 0. */
#define AUDIT_MAX_FOREIGN 1000u

typedef enum AuditFinding {
        AUDIT_FOREIGN,
        AUDIT_CHANGED,
        AUDIT_MISSING,
        _AUDIT_FINDING_MAX,
} AuditFinding;

/* "foreign", "changed", "missing"; NULL out of range. */
const char *audit_finding_to_string(AuditFinding f);

/* What the scan (and the guard's removal, server/engine_guard.c) needs of an entry's statx. */
typedef struct AuditMeta {
        uint32_t mode;
        uint64_t ino;
        uint32_t dev_major, dev_minor;
        uint64_t mnt_id;      /* 0: not known */
        uint32_t nlink;
        uint64_t size;
        uint32_t uid, gid;
        int64_t mtime;        /* seconds */
        uint32_t mtime_nsec;
        int64_t ctime_sec;    /* the change time */
        uint32_t ctime_nsec;
        int64_t btime_sec;    /* the birth time; 0.0: not known */
        uint32_t btime_nsec;
} AuditMeta;

/* statx of name in dir_fd ("": dir_fd itself), links not followed, no automount (a mount
 * point's name gives the mounted root): 0 or -errno. */
int audit_meta_at(int dir_fd, const char *name, AuditMeta *ret);

/* The kind of an entry as items name it, from its st_mode: "file", "directory", "symlink",
 * "device", "fifo", "socket" ("unknown" for anything else). */
const char *audit_kind_of_mode(uint32_t mode);

/* A volume of the manifest, as the scan compares it (Volume in state.h holds these fields). */
typedef struct AuditVolume {
        const char *name;     /* its file name at the root: a valid volume name (common/name.h) */
        uint64_t ino;         /* the inode nfsprov recorded; 0: not known, not compared */
        uint64_t capacity;    /* the virtual size, bytes */
        const char *backing;  /* the backing volume's name; NULL: none */
} AuditVolume;

typedef struct AuditItem {
        char *path;           /* relative to the root: "x.txt", "dir/sub/f" */
        AuditFinding finding;
        const char *kind;     /* static: "file", "directory", "symlink", "device", "fifo", "socket";
                               * "file" for a missing volume */
        char *detail;         /* one line: why ("not in the manifest", "2 hard links; ...") */
        uint64_t size;        /* st_size; 0 for a missing volume */
        uint32_t uid, gid;
        int64_t mtime;        /* seconds */
} AuditItem;

void audit_item_free(AuditItem *item);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AuditItem, audit_item_free)

/* What the scans of one share remember between them (AuditOptions.cache): each volume whose
 * header passed, with the identity of the file that was read (inode, size, modification and
 * change times to the nanosecond) and what it was checked against (capacity, backing, the
 * policy's max_capacity). A later scan reads that volume's header again only when the file or
 * the manifest is not that one any more; its other checks (kind, inode, links, setuid bits)
 * it makes every time from the statx. Only files whose change time is more than two ticks of the
 * kernel's coarse clock (the one file times come from: 4 ms at HZ=250) before the scan began are
 * remembered: every later write, truncate, chmod or rename sets the change time to the clock's
 * now, which user space cannot set back, so a file changed in the tick of the scan's read is read
 * again next time. One per share; owned by the caller; not thread-safe.
 * A scan that fails leaves it as it was. */
typedef struct AuditCache AuditCache;
AuditCache *audit_cache_new(void);
void audit_cache_free(AuditCache *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AuditCache, audit_cache_free)
/* How many volumes a cache holds now. */
size_t audit_cache_size(const AuditCache *c);

typedef struct AuditOptions {
        uint64_t max_capacity;  /* Qcow2Policy.max_capacity for the volumes' headers; 0: no limit */
        size_t max_foreign;     /* the most foreign items returned; 0: AUDIT_MAX_FOREIGN */
        unsigned max_depth;     /* directories more levels below the root than this are reported
                                 * and not read (a directory at the root is level 1); 0: AUDIT_MAX_DEPTH */
        AuditCache *cache;      /* NULL: every volume's header is read */
} AuditOptions;

typedef struct AuditStats {
        uint64_t entries;          /* directory entries seen ("." and ".." not counted) */
        uint64_t directories;      /* directories read, the root included */
        uint64_t foreign;          /* foreign entries, all of them */
        uint64_t foreign_omitted;  /* of those, not returned (beyond max_foreign) */
        uint64_t unread;           /* directories reported but not read: mount points, too deep */
        uint64_t headers_read;     /* volumes whose qcow2 header was read (not taken from the cache) */
} AuditStats;

/* Scan the tree under root_fd (a directory; its file offset is not used) against the n_vols
 * volumes of vols. opt NULL: the defaults. On success *ret_items is a GPtrArray of AuditItem*
 * sorted by path that frees them (empty for a clean share) and *ret_stats (when not NULL) is
 * filled; on failure neither is touched. */
int audit_scan(int root_fd, const AuditVolume *vols, size_t n_vols, const AuditOptions *opt,
               GPtrArray **ret_items, AuditStats *ret_stats, GError **error);

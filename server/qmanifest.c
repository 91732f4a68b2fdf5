/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The manifest of a quarantined directory (see qmanifest.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "fdio.h"
#include "macro.h"
#include "qmanifest.h"

#define MAGIC "nfsprov-quarantine-manifest 1"

struct QManifest {
        GArray *entries;    /* QManifestEntry */
        GHashTable *by_key; /* "PARENT/NAME" -> index + 1 */
        uint64_t bytes;
};

static void entry_clear(void *p) {
        g_free(((QManifestEntry *) p)->name);
}

QManifest *qmanifest_new(void) {
        QManifest *m = g_new0(QManifest, 1);
        m->entries = g_array_new(FALSE, TRUE, sizeof(QManifestEntry));
        g_array_set_clear_func(m->entries, entry_clear);
        m->by_key = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        return m;
}

void qmanifest_free(QManifest *m) {
        if (!m)
                return;
        g_array_unref(m->entries);
        g_hash_table_unref(m->by_key);
        g_free(m);
}

static char *key_of(int64_t parent, const char *name) {
        return g_strdup_printf("%" PRId64 "/%s", parent, name);
}

/* Append e (its name taken); false when its parent and name are there already. */
static bool append(QManifest *m, QManifestEntry *e) {
        char *key = key_of(e->parent, e->name);
        if (g_hash_table_contains(m->by_key, key)) {
                g_free(key);
                return false;
        }
        g_hash_table_insert(m->by_key, key, GSIZE_TO_POINTER(m->entries->len + 1));
        if (S_ISREG(e->mode))
                m->bytes += e->size;
        g_array_append_val(m->entries, *e);
        return true;
}

int64_t qmanifest_add(QManifest *m, int64_t parent, const char *name, const struct stat *st) {
        QManifestEntry e = {
                .parent = parent,
                .ino = (uint64_t) st->st_ino,
                .size = (uint64_t) st->st_size,
                .mtime = st->st_mtim.tv_sec,
                .mtime_nsec = st->st_mtim.tv_nsec,
                .uid = st->st_uid,
                .gid = st->st_gid,
                .mode = st->st_mode,
                .name = g_strdup(name),
        };
        if (!append(m, &e)) {
                g_free(e.name);
                return -1;
        }
        return (int64_t) m->entries->len - 1;
}

size_t qmanifest_count(const QManifest *m) {
        return m->entries->len;
}

const QManifestEntry *qmanifest_get(const QManifest *m, int64_t index) {
        return index >= 0 && (guint64) index < m->entries->len ? &g_array_index(m->entries, QManifestEntry, index)
                                                               : NULL;
}

int64_t qmanifest_find(const QManifest *m, int64_t parent, const char *name) {
        g_autofree char *key = key_of(parent, name);
        return (int64_t) GPOINTER_TO_SIZE(g_hash_table_lookup(m->by_key, key)) - 1;
}

uint64_t qmanifest_bytes(const QManifest *m) {
        return m->bytes;
}

int qmanifest_write(const QManifest *m, int dir_fd, const char *name, const char *shown, GError **error) {
        g_autoptr(GString) b = g_string_new(MAGIC);
        g_string_append_c(b, '\0');
        for (guint i = 0; i < m->entries->len; i++) {
                const QManifestEntry *e = &g_array_index(m->entries, QManifestEntry, i);
                g_string_append_printf(b, "%" PRId64 " %" PRIu64 " %" PRIu64 " %" PRId64 " %ld %" PRIu32 " %" PRIu32 " %o %s",
                                       e->parent, e->ino, e->size, e->mtime, e->mtime_nsec, e->uid, e->gid, e->mode,
                                       e->name);
                g_string_append_c(b, '\0');
        }
        g_string_append_printf(b, "end %u", m->entries->len);
        g_string_append_c(b, '\0');
        _cleanup_close_ int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return np_fail(error, errno, "%s: cannot create: %s", shown, g_strerror(errno));
        int r = fd_write_all(fd, b->str, b->len);
        if (r < 0)
                return np_fail(error, -r, "%s: cannot write: %s", shown, g_strerror(-r));
        if (fsync(fd) < 0)
                return np_fail(error, errno, "%s: fsync: %s", shown, g_strerror(errno));
        return 0;
}

/* One entry record, at index. */
static bool parse_entry(const char *rec, int64_t index, QManifestEntry *ret) {
        QManifestEntry e = { 0 };
        int name_at = -1;
        if (sscanf(rec, "%" SCNd64 " %" SCNu64 " %" SCNu64 " %" SCNd64 " %ld %" SCNu32 " %" SCNu32 " %o %n", &e.parent,
                   &e.ino, &e.size, &e.mtime, &e.mtime_nsec, &e.uid, &e.gid, &e.mode, &name_at) != 8 ||
            name_at < 0)
                return false;
        const char *name = rec + name_at;
        if (rec[name_at - 1] != ' ' || !*name || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                return false;
        if (!S_ISREG(e.mode) && !S_ISDIR(e.mode) && !S_ISLNK(e.mode))
                return false;
        if ((index == 0) != (e.parent == -1) || e.parent >= index || e.mtime_nsec < 0 || e.mtime_nsec > 999999999)
                return false;
        e.name = g_strdup(name);
        *ret = e;
        return true;
}

int qmanifest_read(int dir_fd, const char *name, const char *shown, QManifest **ret, GError **error) {
        _cleanup_close_ int fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return np_fail(error, errno, "%s: cannot open: %s", shown, g_strerror(errno));
        g_autoptr(GByteArray) data = g_byte_array_new();
        guint8 buf[65536];
        for (ssize_t n; (n = fd_read_some(fd, buf, sizeof(buf))) != 0;) {
                if (n < 0)
                        return np_fail(error, (int) -n, "%s: cannot read: %s", shown, g_strerror((int) -n));
                g_byte_array_append(data, buf, (guint) n);
        }
        if (data->len == 0)
                return np_fail(error, EBADMSG, "%s: empty; not a manifest nfsprov wrote", shown);
        g_autoptr(QManifest) m = qmanifest_new();
        const char *p = (const char *) data->data, *end = p + data->len;
        bool ended = false;
        for (int64_t i = -1; p < end; i++) {
                const char *nul = memchr(p, '\0', (size_t) (end - p));
                if (!nul || ended)
                        return np_fail(error, EBADMSG, "%s: not a manifest nfsprov wrote (%s)", shown,
                                       nul ? "data after its end" : "cut short");
                QManifestEntry e;
                unsigned count;
                char extra;
                if (i < 0) {
                        if (strcmp(p, MAGIC) != 0)
                                return np_fail(error, EBADMSG, "%s: not a manifest nfsprov wrote", shown);
                } else if (sscanf(p, "end %u%c", &count, &extra) == 1) {
                        if (count != m->entries->len || count == 0)
                                return np_fail(error, EBADMSG, "%s: it ends after %u of %u entries", shown,
                                               m->entries->len, count);
                        ended = true;
                } else {
                        if (!parse_entry(p, i, &e))
                                return np_fail(error, EBADMSG, "%s: entry %" PRId64 " is invalid", shown, i);
                        const QManifestEntry *parent = qmanifest_get(m, e.parent);
                        if ((parent && !S_ISDIR(parent->mode)) || !append(m, &e)) {
                                g_free(e.name);
                                return np_fail(error, EBADMSG, "%s: entry %" PRId64 " is not in a directory of it, or "
                                                               "named twice", shown, i);
                        }
                }
                p = nul + 1;
        }
        if (!ended)
                return np_fail(error, EBADMSG, "%s: not a manifest nfsprov wrote (cut short)", shown);
        *ret = TAKE_PTR(m);
        return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <unistd.h>

#include "error.h"
#include "fswatch.h"
#include "guard.h"
#include "log.h"
#include "macro.h"

struct Guard {
        Engine *engine;
        GMutex *engine_lock;       /* borrowed: held around every engine call */
        SnapshotStore *snapshots;
        FsWatch *watch;            /* NULL without fanotify */
        GHashTable *watched;       /* share -> 1: added to watch (guard thread only) */
        GHashTable *refused;       /* share -> 1: fswatch_add failed, logged once (guard thread only) */
        GThread *thread;
        GMutex lock;               /* what follows */
        GCond cond;
        GHashTable *dirty;         /* share -> gint64*: audit it, unless a scan begun after that
                                    * time (the newest change seen; G_MAXINT64 on request) */
        bool all;                  /* audit every share */
        GHashTable *began;         /* share -> gint64*: when its last scan began (guard thread only) */
        gint64 all_began;          /* when the last scan of every share began (guard thread only) */
        bool stopping;
};

/* Mark share dirty as of newest (lock held): the latest time wins. */
static void mark_dirty(Guard *g, const char *share, gint64 newest) {
        gint64 *t = g_hash_table_lookup(g->dirty, share);
        if (!t) {
                t = g_new(gint64, 1);
                *t = newest;
                g_hash_table_insert(g->dirty, g_strdup(share), t);
        } else if (newest > *t)
                *t = newest;
}

/* fswatch's thread, its lock held: only mark and wake. A delivery with flags (events lost, the
 * mount changed) is always audited. */
static void on_change(const char *key, unsigned n_events, const char *const *names, FsWatchFlags flags,
                      gint64 newest_us, void *userdata) {
        Guard *g = userdata;
        g_mutex_lock(&g->lock);
        mark_dirty(g, key, flags ? G_MAXINT64 : newest_us);
        g_cond_signal(&g->cond);
        g_mutex_unlock(&g->lock);
}

void guard_request(Guard *g, const char *share) {
        g_mutex_lock(&g->lock);
        if (share)
                mark_dirty(g, share, G_MAXINT64);
        else
                g->all = true;
        g_cond_signal(&g->cond);
        g_mutex_unlock(&g->lock);
}

static bool wants_watch(const ShareInfo *i) {
        return i->mounted && i->guard != GUARD_OFF && i->share->status == SHARE_READY;
}

/* The watched set follows the snapshot: new shares added (their filesystems marked), gone ones
 * removed. A share newly watched is audited: what changed before the mark was not seen.
 * The snapshot is peeked, not asked to be fresh: shares are created, deleted, mounted and
 * unmounted by operations and reconcile, which publish when they end, so a new share is watched
 * within a second of its creation. Asking every second (snapshot_store_get) made the refresher
 * rebuild the snapshot every second: ~1 % of a core for an idle daemon. What changes behind
 * nfsprov's back (a share unmounted or mounted by hand) reaches the snapshot at the next rebuild
 * a read asks for; fresh asks for one, once per full audit ([shares] audit_interval). */
static void sync_watches(Guard *g, bool fresh) {
        if (!g->watch)
                return;
        g_autoptr(Snapshot) s = fresh ? snapshot_store_get(g->snapshots) : snapshot_store_peek(g->snapshots);
        g_autoptr(GHashTable) want = g_hash_table_new(g_str_hash, g_str_equal);
        for (guint i = 0; i < s->shares->len; i++) {
                const ShareInfo *info = g_ptr_array_index(s->shares, i);
                if (wants_watch(info))
                        g_hash_table_add(want, info->share->name);
        }
        GHashTableIter it;
        gpointer key;
        g_hash_table_iter_init(&it, g->watched);
        while (g_hash_table_iter_next(&it, &key, NULL))
                if (!g_hash_table_contains(want, key)) {
                        (void) fswatch_remove(g->watch, key, NULL);
                        g_hash_table_iter_remove(&it);
                }
        g_hash_table_iter_init(&it, want);
        while (g_hash_table_iter_next(&it, &key, NULL)) {
                if (g_hash_table_contains(g->watched, key))
                        continue;
                _cleanup_close_ int root = -1;
                g_autoptr(GError) err = NULL;
                g_mutex_lock(g->engine_lock);
                int r = engine_share_root(g->engine, key, &root, &err);
                g_mutex_unlock(g->engine_lock);
                if (r >= 0)
                        r = fswatch_add(g->watch, key, root, &err);
                if (r < 0) {
                        if (g_hash_table_add(g->refused, g_strdup(key)))
                                log_warning("guard %s: no live watch (audits on the interval only): %s", (char *) key,
                                            err->message);
                        continue;
                }
                g_hash_table_remove(g->refused, key);
                g_hash_table_add(g->watched, g_strdup(key));
                guard_request(g, key);
        }
}

/* Whether the last scan of share began after newest: then it saw the change (an operation's
 * events come in two deliveries, at once and at the window's end; the scan after the operation,
 * waiting for the engine lock, covers both). */
static bool seen_since(Guard *g, const char *share, gint64 newest) {
        const gint64 *began = g_hash_table_lookup(g->began, share);
        return newest < g->all_began || (began && newest < *began);
}

static void audit(Guard *g, bool all, GHashTable *dirty) {
        g_mutex_lock(g->engine_lock);
        bool changed = false, c = false;
        g_autoptr(GError) err = NULL;
        if (all) {
                g->all_began = g_get_monotonic_time();
                if (engine_audit(g->engine, NULL, &changed, &err) < 0)
                        log_error("guard: the audit failed: %s", err->message);
        } else {
                GHashTableIter it;
                gpointer key, value;
                g_hash_table_iter_init(&it, dirty);
                while (g_hash_table_iter_next(&it, &key, &value)) {
                        if (seen_since(g, key, *(gint64 *) value))
                                continue;
                        gint64 *began = g_new(gint64, 1);
                        *began = g_get_monotonic_time();
                        g_hash_table_insert(g->began, g_strdup(key), began);
                        g_clear_error(&err);
                        int r = engine_audit(g->engine, key, &c, &err);
                        if (r < 0 && r != -ENOENT)
                                log_error("guard %s: the audit failed: %s", (char *) key, err->message);
                        changed |= c;
                }
        }
        if (changed)
                snapshot_store_publish(g->snapshots);
        g_mutex_unlock(g->engine_lock);
}

static gpointer guard_main(gpointer data) {
        Guard *g = data;
        unsigned interval = engine_config(g->engine)->audit_interval;
        gint64 next_full = interval ? g_get_monotonic_time() + (gint64) interval * G_USEC_PER_SEC : G_MAXINT64;
        gint64 next_sync = 0;
        g_mutex_lock(&g->lock);
        gint64 dirty_since = 0; /* when the dirty shares began to wait (0: none wait) */
        while (!g->stopping) {
                gint64 now = g_get_monotonic_time();
                if (!g->all && g_hash_table_size(g->dirty) == 0 && now < next_full && now < next_sync) {
                        dirty_since = 0;
                        g_cond_wait_until(&g->cond, &g->lock, MIN(next_full, next_sync));
                        continue;
                }
                if (!g->all && now < next_full && g_hash_table_size(g->dirty) > 0) {
                        /* operations first: an audit waits until they have been quiet a while,
                         * at most GUARD_DEFER_MS (each would wait for it at the engine lock) */
                        if (!dirty_since)
                                dirty_since = now;
                        gint64 quiet = snapshot_store_quiet_since(g->snapshots);
                        gint64 at = MIN(quiet ? quiet + GUARD_QUIET_MS * 1000 : now + GUARD_QUIET_MS * 1000,
                                        dirty_since + GUARD_DEFER_MS * 1000);
                        if (now < at) {
                                g_cond_wait_until(&g->cond, &g->lock, MIN(at, next_sync));
                                continue;
                        }
                }
                dirty_since = 0;
                if (g->stopping)
                        break;
                bool all = g->all || now >= next_full;
                g_autoptr(GHashTable) dirty = g_steal_pointer(&g->dirty);
                g->dirty = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
                g->all = false;
                g_mutex_unlock(&g->lock);

                if (now >= next_sync || all) {
                        sync_watches(g, all);
                        next_sync = g_get_monotonic_time() + G_USEC_PER_SEC;
                }
                if (all) {
                        interval = engine_config(g->engine)->audit_interval;
                        next_full = interval ? g_get_monotonic_time() + (gint64) interval * G_USEC_PER_SEC
                                             : G_MAXINT64;
                }
                if (all || g_hash_table_size(dirty) > 0)
                        audit(g, all, dirty);
                g_mutex_lock(&g->lock);
        }
        g_mutex_unlock(&g->lock);
        return NULL;
}

Guard *guard_new(Engine *engine, GMutex *engine_lock, SnapshotStore *snapshots) {
        Guard *g = g_new0(Guard, 1);
        g->engine = engine;
        g->engine_lock = engine_lock;
        g->snapshots = snapshots;
        g->watched = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g->refused = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g->dirty = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        g->began = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        g->all = true; /* the audit at start */
        g_mutex_init(&g->lock);
        g_cond_init(&g->cond);
        g_autoptr(GError) err = NULL;
        if (fswatch_new(on_change, g, GUARD_COALESCE_MS, &g->watch, &err) < 0)
                log_warning("guard: no live watch, audits run every [shares] audit_interval and on demand only: %s",
                            err->message);
        g->thread = g_thread_new("nfsprovd-guard", guard_main, g);
        return g;
}

void guard_free(Guard *g) {
        if (!g)
                return;
        g_mutex_lock(&g->lock);
        g->stopping = true;
        g_cond_signal(&g->cond);
        g_mutex_unlock(&g->lock);
        g_thread_join(g->thread);
        fswatch_free(g->watch);
        g_hash_table_unref(g->watched);
        g_hash_table_unref(g->refused);
        g_hash_table_unref(g->dirty);
        g_hash_table_unref(g->began);
        g_mutex_clear(&g->lock);
        g_cond_clear(&g->cond);
        g_free(g);
}

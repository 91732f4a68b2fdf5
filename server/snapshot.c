/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "error.h"
#include "share_json.h"
#include "snapshot.h"

#define SNAPSHOT_MAX_AGE_US (1 * G_USEC_PER_SEC)
#define SNAPSHOT_IDLE_US (2 * G_USEC_PER_SEC)

struct SnapshotStore {
        Engine *engine;
        GMutex *engine_lock;    /* borrowed: held around every engine call */

        GMutex swap_lock;       /* only to swap / take a reference of current */
        Snapshot *current;
        bool expected;          /* an operation ended and its publish is coming: reads wait for it */
        GCond published;        /* signalled (swap_lock) when the expected publish is done */

        gint held;              /* operations pending (snapshot_store_hold) */
        gint64 last_release;    /* monotonic µs of the last release (swap_lock) */
        gint wanted;            /* a read found the snapshot old since the last rebuild */

        GMutex thread_lock;     /* stopping, and the refresher's waits */
        GCond thread_cond;      /* wakes the refresher at stop */
        bool stopping;
        GThread *refresher;

        void (*pools_changed)(void *data);
        void *pools_changed_data;
};

/* ---- snapshots ---- */

static void pool_free(SnapshotPool *p) {
        g_free(p->json);
        g_free(p->json_defs);
        g_free(p->name);
        pooldef_free(p->def);
        g_free(p->status);
        if (p->clients)
                g_ptr_array_unref(p->clients);
        g_free(p);
}

Snapshot *snapshot_ref(Snapshot *s) {
        g_atomic_int_inc(&s->refs);
        return s;
}

void snapshot_unref(Snapshot *s) {
        if (!s || !g_atomic_int_dec_and_test(&s->refs))
                return;
        g_ptr_array_unref(s->shares);
        json_object_put(s->shares_json);
        g_ptr_array_unref(s->pools);
        g_free(s->address);
        g_free(s->config_path);
        g_free(s->error);
        g_free(s->pools_digest);
        g_free(s);
}

const ShareInfo *snapshot_share(const Snapshot *s, const char *name, json_object **ret_json) {
        for (guint i = 0; i < s->shares->len; i++) {
                const ShareInfo *info = g_ptr_array_index(s->shares, i);
                if (strcmp(info->share->name, name) != 0)
                        continue;
                if (ret_json)
                        *ret_json = json_object_array_get_idx(s->shares_json, i);
                return info;
        }
        return NULL;
}

const SnapshotPool *snapshot_pool(const Snapshot *s, const char *name) {
        for (guint i = 0; i < s->pools->len; i++) {
                const SnapshotPool *p = g_ptr_array_index(s->pools, i);
                if (strcmp(p->name, name) == 0)
                        return p;
        }
        return NULL;
}

bool snapshot_pool_admits(const SnapshotPool *p, const ExportsAddress *address) {
        for (guint i = 0; i < p->clients->len; i++)
                if (exports_client_match(g_ptr_array_index(p->clients, i), address))
                        return true;
        return false;
}

static int render(const Snapshot *s, const SnapshotPool *p, const char *host_hint, bool xml_only, bool sizes,
                  json_object **ret_json, char **ret_xml, GError **error) {
        const char *host = s->address ? s->address : host_hint;
        if (!host)
                return np_fail(error, EINVAL, "%s: no server address: set [server] address in %s", p->name,
                               s->config_path ? s->config_path : "the configuration");
        PoolDef tmp = *p->def;
        tmp.host = (char *) host;
        if (!sizes)
                tmp.has_sizes = false;
        g_autofree char *xml = pooldef_to_xml(&tmp);
        if (xml_only) {
                *ret_xml = g_steal_pointer(&xml);
                return 0;
        }
        json_object *o = pooldef_to_json(&tmp);
        json_object_object_add(o, "xml", json_object_new_string(xml));
        json_object_object_add(o, "status", json_object_new_string(p->status));
        *ret_json = o;
        return 0;
}

int snapshot_pool_render(const Snapshot *s, const SnapshotPool *p, const char *host_hint, bool xml_only,
                         json_object **ret_json, char **ret_xml, GError **error) {
        return render(s, p, host_hint, xml_only, true, ret_json, ret_xml, error);
}

int snapshot_pool_json(const Snapshot *s, const SnapshotPool *p, const char *host_hint, bool sizes,
                       json_object **ret_json, GError **error) {
        return render(s, p, host_hint, false, sizes, ret_json, NULL, error);
}

static char *json_text(json_object *o) {
        char *t = g_strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
        return t;
}

/* The pool of a share that is ready or resizing; NULL when its definition cannot be made. */
static SnapshotPool *pool_build(SnapshotStore *st, const Snapshot *s, const ShareInfo *info) {
        g_autoptr(GError) error = NULL;
        PoolDef *def = NULL;
        if (engine_pooldef_of(st->engine, info, "127.0.0.1", &def, &error) < 0)
                return NULL;
        SnapshotPool *p = g_new0(SnapshotPool, 1);
        p->name = g_strdup(info->share->name);
        p->def = def;
        p->status = g_strdup(share_status_to_string(info->share->status));
        p->clients = g_ptr_array_new_with_free_func((GDestroyNotify) exports_client_spec_free);
        for (char **c = info->clients; c && *c; c++) {
                ExportsClientSpec *spec = NULL;
                if (exports_client_parse(*c, &spec, NULL) >= 0)
                        g_ptr_array_add(p->clients, spec);
        }
        /* With a configured address every client gets the same text: render it once per
         * snapshot, not on every GET /v1/pools (100 pools: 12x fewer requests/s than nginx
         * serving the same file before this); the one with sizes at its first use. */
        json_object *o = NULL;
        if (s->address && snapshot_pool_json(s, p, NULL, false, &o, NULL) >= 0)
                p->json_defs = json_text(o);
        return p;
}

const char *snapshot_pool_text(const Snapshot *s, const SnapshotPool *p, bool sizes) {
        if (!s->address)
                return NULL;
        if (!sizes)
                return p->json_defs;
        SnapshotPool *w = (SnapshotPool *) p; /* rendered once; the snapshot is otherwise read-only */
        if (g_once_init_enter(&w->json_once)) {
                json_object *o = NULL;
                if (snapshot_pool_render(s, p, NULL, false, &o, NULL, NULL) >= 0)
                        w->json = json_text(o);
                g_once_init_leave(&w->json_once, 1);
        }
        return p->json;
}

/* What pools_generation follows: each pool's definition (the placeholder host, or the configured
 * address), status and export clients, without the live sizes. */
static void digest_pool(GChecksum *c, const Snapshot *s, const SnapshotPool *p, const ShareInfo *info) {
        json_object *o = NULL;
        if (p->json_defs) /* that text already, rendered for the configured address */
                g_checksum_update(c, (const guchar *) p->json_defs, (gssize) strlen(p->json_defs) + 1);
        else if (snapshot_pool_json(s, p, p->def->host, false, &o, NULL) >= 0) {
                g_autofree char *t = json_text(o);
                g_checksum_update(c, (const guchar *) t, (gssize) strlen(t) + 1);
        }
        for (char **cl = info->clients; cl && *cl; cl++)
                g_checksum_update(c, (const guchar *) *cl, (gssize) strlen(*cl) + 1);
        g_checksum_update(c, (const guchar *) "\n", 1);
}

/* A new snapshot from the engine (engine lock held). */
static Snapshot *snapshot_build(SnapshotStore *st) {
        Snapshot *s = g_new0(Snapshot, 1);
        s->refs = 1;
        s->taken = g_get_monotonic_time();
        s->shares_json = json_object_new_array();
        s->pools = g_ptr_array_new_with_free_func((GDestroyNotify) pool_free);
        s->exports_ok = true;
        const Config *c = engine_config(st->engine);
        s->address = g_strdup(c->address);
        s->config_path = g_strdup(c->path);
        s->export_server = engine_export_server(st->engine)->name;
        g_autoptr(GError) error = NULL;
        if (engine_list(st->engine, &s->shares, &error) < 0) {
                s->shares = g_ptr_array_new();
                s->error = g_strdup(error->message);
                s->exports_ok = false;
                return s;
        }
        g_autoptr(GChecksum) digest = g_checksum_new(G_CHECKSUM_SHA256);
        for (guint i = 0; i < s->shares->len; i++) {
                const ShareInfo *info = g_ptr_array_index(s->shares, i);
                json_object_array_add(s->shares_json, share_json(info));
                if (info->share->status != SHARE_READY && info->share->status != SHARE_RESIZING)
                        continue;
                if (!info->exported)
                        s->exports_ok = false;
                SnapshotPool *p = pool_build(st, s, info);
                if (p) {
                        digest_pool(digest, s, p, info);
                        g_ptr_array_add(s->pools, p);
                }
        }
        s->pools_digest = g_strdup(g_checksum_get_string(digest));
        return s;
}

/* ---- the store ---- */

static bool same_pools(const Snapshot *a, const Snapshot *b) {
        return g_strcmp0(a->pools_digest, b->pools_digest) == 0 && !a->error == !b->error;
}

void snapshot_store_publish(SnapshotStore *st) {
        Snapshot *s = snapshot_build(st);
        g_mutex_lock(&st->swap_lock);
        Snapshot *old = st->current;
        bool changed = !same_pools(old, s);
        s->pools_generation = old->pools_generation + (changed ? 1 : 0);
        st->current = s;
        if (st->expected) {
                st->expected = false;
                g_cond_broadcast(&st->published);
        }
        void (*fn)(void *) = st->pools_changed;
        void *data = st->pools_changed_data;
        g_mutex_unlock(&st->swap_lock);
        snapshot_unref(old);
        if (changed && fn)
                fn(data);
}

void snapshot_store_on_pools_changed(SnapshotStore *st, void (*fn)(void *data), void *data) {
        g_mutex_lock(&st->swap_lock);
        st->pools_changed = fn;
        st->pools_changed_data = data;
        g_mutex_unlock(&st->swap_lock);
}

void snapshot_store_expect(SnapshotStore *st) {
        g_mutex_lock(&st->swap_lock);
        st->expected = true;
        g_mutex_unlock(&st->swap_lock);
}

static Snapshot *current_ref(SnapshotStore *st) {
        g_mutex_lock(&st->swap_lock);
        while (st->expected)
                g_cond_wait(&st->published, &st->swap_lock);
        Snapshot *s = snapshot_ref(st->current);
        g_mutex_unlock(&st->swap_lock);
        return s;
}

/* Rebuild when nothing is pending and the engine is free at once; false when it was not. */
static bool try_rebuild(SnapshotStore *st) {
        if (g_atomic_int_get(&st->held) > 0 || !g_mutex_trylock(st->engine_lock))
                return false;
        snapshot_store_publish(st);
        g_mutex_unlock(st->engine_lock);
        return true;
}

/* (100 shares: a rebuild took up to 1.26 s when requests did it; rebuilding every second while
 * idle cost 10 % of a CPU: hence the refresher, and only on demand.) */
Snapshot *snapshot_store_get(SnapshotStore *st) {
        Snapshot *s = current_ref(st);
        gint64 age = g_get_monotonic_time() - s->taken;
        if (age < SNAPSHOT_MAX_AGE_US)
                return s;
        if (age < SNAPSHOT_IDLE_US || !try_rebuild(st)) {
                g_atomic_int_set(&st->wanted, 1);
                return s;
        }
        snapshot_unref(s);
        return current_ref(st);
}

Snapshot *snapshot_store_peek(SnapshotStore *st) {
        Snapshot *s = current_ref(st);
        if (!s->error)
                return s;
        snapshot_unref(s);
        return snapshot_store_get(st);
}

/* Rebuild in the background when a read found the snapshot old (see snapshot_store_get). */
static gpointer refresher_main(gpointer data) {
        SnapshotStore *st = data;
        g_mutex_lock(&st->thread_lock);
        while (!st->stopping) {
                g_cond_wait_until(&st->thread_cond, &st->thread_lock, g_get_monotonic_time() + SNAPSHOT_MAX_AGE_US / 4);
                if (st->stopping)
                        break;
                g_mutex_unlock(&st->thread_lock);
                if (g_atomic_int_get(&st->wanted) && g_atomic_int_get(&st->held) == 0 &&
                    g_mutex_trylock(st->engine_lock)) {
                        g_atomic_int_set(&st->wanted, 0);
                        snapshot_store_publish(st);
                        g_mutex_unlock(st->engine_lock);
                }
                g_mutex_lock(&st->thread_lock);
        }
        g_mutex_unlock(&st->thread_lock);
        return NULL;
}

SnapshotStore *snapshot_store_new(Engine *engine, GMutex *engine_lock) {
        SnapshotStore *st = g_new0(SnapshotStore, 1);
        st->engine = engine;
        st->engine_lock = engine_lock;
        g_mutex_init(&st->swap_lock);
        g_cond_init(&st->published);
        g_mutex_init(&st->thread_lock);
        g_cond_init(&st->thread_cond);
        st->current = snapshot_build(st);
        st->refresher = g_thread_new("nfsprovd-snap", refresher_main, st);
        return st;
}

void snapshot_store_stop(SnapshotStore *st) {
        if (!st || !st->refresher)
                return;
        g_mutex_lock(&st->thread_lock);
        st->stopping = true;
        g_cond_broadcast(&st->thread_cond);
        g_mutex_unlock(&st->thread_lock);
        g_thread_join(st->refresher);
        st->refresher = NULL;
}

void snapshot_store_free(SnapshotStore *st) {
        if (!st)
                return;
        snapshot_store_stop(st);
        snapshot_unref(st->current);
        g_mutex_clear(&st->swap_lock);
        g_cond_clear(&st->published);
        g_mutex_clear(&st->thread_lock);
        g_cond_clear(&st->thread_cond);
        g_free(st);
}

void snapshot_store_hold(SnapshotStore *st) {
        g_atomic_int_inc(&st->held);
}

void snapshot_store_release(SnapshotStore *st) {
        g_mutex_lock(&st->swap_lock);
        st->last_release = g_get_monotonic_time();
        g_mutex_unlock(&st->swap_lock);
        g_atomic_int_add(&st->held, -1);
}

gint64 snapshot_store_quiet_since(SnapshotStore *st) {
        if (g_atomic_int_get(&st->held) > 0)
                return 0;
        g_mutex_lock(&st->swap_lock);
        gint64 t = st->last_release;
        g_mutex_unlock(&st->swap_lock);
        return t;
}
